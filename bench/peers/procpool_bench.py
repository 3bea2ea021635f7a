#!/usr/bin/python3
"""Peer of bench/bench_procpool.c: multiprocessing.Pool(2) map of N trivial
tasks with chunksize 1, 10 N with the default chunksize (the same 1M tasks as
ours, so both pick chunks the same way), and N/10 apply_async round trips
(all submitted, then all awaited); microseconds per task (nanoseconds for
the default chunksize).
Prints `name value unit` lines. Usage: procpool_bench.py [-n N]"""
import multiprocessing
import sys
import time


def inc(x):
    return x + 1


def timed(fn, n):
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1e6 / n


def main():
    n = 100000
    if "-n" in sys.argv:
        n = int(sys.argv[sys.argv.index("-n") + 1])
    data = list(range(n))
    with multiprocessing.Pool(2) as pool:
        pool.map(inc, data[: n // 100 or 1], chunksize=1)  # workers up
        res = []
        c1 = timed(lambda: res.append(pool.map(inc, data, chunksize=1)), n)
        assert res[-1][-1] == n
        big = list(range(10 * n))
        auto = timed(lambda: res.append(pool.map(inc, big)), 10 * n)
        assert res[-1][-1] == 10 * n
        m = n // 10

        def asyncs():
            rs = [pool.apply_async(inc, (i,)) for i in range(m)]
            assert [r.get() for r in rs][-1] == m

        aa = timed(asyncs, m)
    for name, v, unit in (("procpool_map_c1_us", c1, "us"),
                          ("procpool_map_auto_ns", auto * 1e3, "ns"),
                          ("procpool_apply_async_us", aa, "us")):
        print(f"{name} {v:.3f} {unit}")


if __name__ == "__main__":
    main()
