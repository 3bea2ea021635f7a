#!/usr/bin/python3
"""Peer of bench/bench_redis.c: Celery (Debian python3-celery 5.2) with its
Redis broker and result backend on the bench's redis-server. One worker
(prefork pool, concurrency = CPUs, started and ready before the clock
starts) runs a trivial task (returns its argument) over N items: all
submitted with delay(), then every result fetched (join_native: the
backend's fast path); then the latency of one item at a time (delay, get).
With --recover VIS_S instead: the time to recover a SIGKILLed worker's
items (acks_late, the transport's visibility timeout VIS_S seconds).
Prints `name value unit` lines. Usage: celery_redis.py URL [-n N] [-l L]
[-P POOL] [-c CONC] [--recover VIS_S]   (URL: redis://127.0.0.1:PORT/DB, a
database of its own)
"""
import os
import signal
import subprocess
import sys
import time

from celery import Celery
from celery.result import ResultSet

# The URL comes in argv to the bench, in the environment to the worker
# (which imports this file as a module).
if __name__ == "__main__" and len(sys.argv) > 1:
    os.environ["EVT_CELERY_URL"] = sys.argv.pop(1)
    if "--recover" in sys.argv:
        os.environ["EVT_CELERY_VIS"] = sys.argv[sys.argv.index("--recover") + 1]
URL = os.environ.get("EVT_CELERY_URL", "redis://127.0.0.1:6379/1")
app = Celery("celery_redis", broker=URL, backend=URL)
app.conf.update(broker_connection_retry_on_startup=True,
                worker_hijack_root_logger=False)
# --recover VIS_S: Celery's way to a dead worker's items, acks_late and
# the Redis transport's visibility timeout (read by the workers too).
VIS = os.environ.get("EVT_CELERY_VIS")
if VIS:
    app.conf.update(task_acks_late=True, broker_transport_options={
        "visibility_timeout": float(VIS)})


# Named as the worker knows it (here it is __main__'s).
@app.task(name="celery_redis.echo")
def echo(x):
    return x


# Runs forever in the worker to be killed, returns in the others.
@app.task(name="celery_redis.hang")
def hang(x):
    if os.environ.get("EVT_CELERY_HANG"):
        time.sleep(1e6)
    return x


def arg(flag, default):
    if flag in sys.argv:
        return sys.argv[sys.argv.index(flag) + 1]
    return default


def start_worker(pool, conc, name="w", hang=False):
    env = dict(os.environ, EVT_CELERY_URL=URL,
               PYTHONPATH=os.path.dirname(os.path.abspath(__file__)))
    if hang:
        env["EVT_CELERY_HANG"] = "1"
    cmd = [sys.executable, "-m", "celery", "-A", "celery_redis", "worker",
           "-P", pool, "-c", str(conc), "-l", "ERROR", "--without-gossip",
           "--without-mingle", "--without-heartbeat", "-n", name + "@%h"]
    w = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(name + "@" in k for r in app.control.ping(timeout=0.5)
               for k in r):
            return w
        if w.poll() is not None:
            break
    w.kill()
    sys.exit("celery_redis: the worker did not start")


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def recover(k, conc):
    """k items held by a worker (its prefetch: 4 x conc), a second worker
    waiting, the first SIGKILLed with its pool: the time to the last of
    their results, next to the visibility timeout."""
    a = start_worker("prefork", conc, "hang", hang=True)
    rs = [hang.delay(str(i)) for i in range(k)]
    deadline = time.monotonic() + 30
    while app.backend.client.hlen("unacked") < k:  # all reserved by a
        assert time.monotonic() < deadline, "celery: items not reserved"
        time.sleep(0.01)
    b = start_worker("prefork", conc, "take")
    os.killpg(a.pid, signal.SIGKILL)
    a.wait()
    t = time.perf_counter()
    try:
        got = ResultSet(rs).join_native(timeout=600)
        ms = (time.perf_counter() - t) * 1e3
        assert got == [str(i) for i in range(k)], "celery: wrong results"
    finally:
        b.terminate()
        b.wait()
        app.backend.client.flushdb()
    # (Names of their own but the ratio's: the visibility differs.)
    print(f"redis_recover_held {k} items")
    print(f"redis_recover_vis_ms {float(VIS) * 1e3:.0f} ms")
    print(f"redis_recover_wall_ms {ms:.1f} ms")
    print(f"redis_recover_vs_visibility {ms / (float(VIS) * 1e3):.2f} ratio")


def main():
    n = int(arg("-n", "3000"))
    lat_n = int(arg("-l", "200"))
    pool = arg("-P", "prefork")
    conc = int(arg("-c", str(os.cpu_count() or 2)))
    app.backend.client.flushdb()
    if VIS:
        return recover(4 * conc, conc)
    w = start_worker(pool, conc)
    try:
        t = time.perf_counter()
        rs = [echo.delay(str(i)) for i in range(n)]
        got = ResultSet(rs).join_native(timeout=600)
        wall = time.perf_counter() - t
        assert got == [str(i) for i in range(n)], "celery: wrong results"
        lat = []
        for i in range(lat_n):
            t = time.perf_counter()
            assert echo.delay(str(i)).get(timeout=10) == str(i)
            lat.append((time.perf_counter() - t) * 1e3)
    finally:
        w.terminate()
        w.wait()
        app.backend.client.flushdb()
    print(f"redis_e2e_n {n} items")
    print(f"redis_e2e_items_per_s {n / wall:.0f} items/s")
    print(f"redis_e2e_us_per_item {wall * 1e6 / n:.1f} us")
    print(f"redis_latency_p50_ms {percentile(lat, 0.5):.2f} ms")
    print(f"redis_latency_p99_ms {percentile(lat, 0.99):.2f} ms")


if __name__ == "__main__":
    main()
