"""Peer of bench/bench_threadpool.c: submit a trivial task to
ThreadPoolExecutor(4) and take its result, in batches of 10k submits
followed by their 10k results. Prints `threadpool_submit_us X us`.
Usage: threadpool_bench.py [-n TASKS]   (default 100000)"""
import sys
import time
from concurrent.futures import ThreadPoolExecutor

BATCH = 10000


def task(x):
    return x


def main():
    n = 100000
    if "-n" in sys.argv:
        n = int(sys.argv[sys.argv.index("-n") + 1])
    with ThreadPoolExecutor(4) as ex:
        t0 = time.perf_counter()
        done = 0
        while done < n:
            b = min(BATCH, n - done)
            fs = [ex.submit(task, i) for i in range(b)]
            for i, f in enumerate(fs):
                assert f.result() == i
            done += b
        t = time.perf_counter() - t0
    print("threadpool_submit_us %.3f us" % (t * 1e6 / n))


if __name__ == "__main__":
    main()
