#!/usr/bin/python3
"""Peer of bench/bench_redis.c: RQ (Debian python3-rq 1.13) on the bench's
redis-server. N items (a trivial job: returns its argument) enqueued at
once (enqueue_many, one pipeline), then W `rq worker --burst` processes
(W = CPUs; RQ's default worker, which forks a work horse per job) run them
and exit, then every result is fetched: the clock runs from the first
enqueue to the last result, as ours runs from submit to the batch's end.
Then the latency of one item at a time with one worker waiting (enqueue,
then the result polled every 0.5 ms, so figures are good to that).
Prints `name value unit` lines. Usage: rq_redis.py URL [-n N] [-l L]
[-w WORKERS] [--simple]   (URL: redis://127.0.0.1:PORT/DB, a database of
its own; --simple: SimpleWorker, no fork per job)
"""
import os
import subprocess
import sys
import time

from redis import Redis
from rq import Queue
from rq.job import JobStatus


def echo(x):
    return x


# By the name the workers import it by (here it is __main__'s).
ECHO = "rq_redis.echo"


def arg(flag, default):
    if flag in sys.argv:
        return sys.argv[sys.argv.index(flag) + 1]
    return default


def workers(url, n, burst):
    env = dict(os.environ,
               PYTHONPATH=os.path.dirname(os.path.abspath(__file__)))
    cmd = [sys.executable, "-m", "rq.cli", "worker", "-u", url, "-q",
           "--logging_level", "ERROR", "evt_bench"]
    if burst:
        cmd.append("--burst")
    if "--simple" in sys.argv:
        cmd += ["-w", "rq.worker.SimpleWorker"]
    return [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for _ in range(n)]


def wait_done(job, deadline):
    while time.monotonic() < deadline:
        st = job.get_status(refresh=True)
        if st == JobStatus.FINISHED:
            return job.return_value(refresh=True)
        if st == JobStatus.FAILED:
            break
        time.sleep(0.0005)
    sys.exit("rq_redis: a job did not finish")


def rate(url, q, n, nw):
    t = time.perf_counter()
    jobs = q.enqueue_many([Queue.prepare_data(ECHO, (str(i),))
                           for i in range(n)])
    for w in workers(url, nw, True):
        w.wait()
    got = [j.return_value(refresh=True) for j in jobs]
    wall = time.perf_counter() - t
    assert got == [str(i) for i in range(n)], "rq: wrong results"
    return wall


def latency(url, q, n):
    w = workers(url, 1, False)[0]
    try:
        deadline = time.monotonic() + 30
        wait_done(q.enqueue(ECHO, "warm"), deadline)  # the worker is up
        lat = []
        for i in range(n):
            t = time.perf_counter()
            job = q.enqueue(ECHO, str(i))
            assert wait_done(job, time.monotonic() + 10) == str(i)
            lat.append((time.perf_counter() - t) * 1e3)
    finally:
        w.terminate()
        w.wait()
    return sorted(lat)


def main():
    url = sys.argv[1]
    n = int(arg("-n", "2000"))
    conn = Redis.from_url(url)
    conn.flushdb()
    q = Queue("evt_bench", connection=conn)
    try:
        wall = rate(url, q, n, int(arg("-w", str(os.cpu_count() or 2))))
        lat = latency(url, q, int(arg("-l", "200")))
    finally:
        conn.flushdb()
    print(f"redis_e2e_n {n} items")
    print(f"redis_e2e_items_per_s {n / wall:.0f} items/s")
    print(f"redis_e2e_us_per_item {wall * 1e6 / n:.1f} us")
    print(f"redis_latency_p50_ms {lat[len(lat) // 2]:.2f} ms")
    print(f"redis_latency_p99_ms {lat[min(len(lat) - 1, len(lat) * 99 // 100)]:.2f} ms")


if __name__ == "__main__":
    main()
