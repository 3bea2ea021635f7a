#!/usr/bin/python3
"""gevent peer benchmark for eventor (greenlets on the libev/libuv hub).

  switch    two raw greenlets ping-pong N round trips with greenlet.switch()
            -> switch_ns (ns per one-direction switch). This is the bare
            greenlet stack switch, the fairest "switch" figure; --hub instead
            makes two gevent greenlets alternate through the hub with
            gevent.sleep(0) (scheduler + event loop round trip per switch).
  spawn     Group.spawn + Group.join, N greenlets in batches of 1000
            -> spawn_join_ns (ns per greenlet)
  sleepers  N greenlets alive at once, each gevent.sleep(1), then Group.join
            -> sleepers_n, sleepers_wall_s, sleepers_rss_kib_per_co
  io_batch  R keep-alive HTTP/1.1 GETs over C gevent sockets (one greenlet per
            connection, R/C sequential requests each) to 127.0.0.1:PORT
            -> io_batch_wall_s, io_batch_vs_ideal (ideal = R/C * delay)

Joins use gevent.pool.Group (group.spawn + group.join): slightly cheaper than
gevent.joinall (~9.3 vs ~9.8 us per greenlet here; greenlet start dominates).
Note: Group(list_of_greenlets).join() does not wait in gevent 22.10 -- avoid.

Usage: /usr/bin/python3 gevent_bench.py switch|spawn|sleepers [-n N] [--hub]
       /usr/bin/python3 gevent_bench.py io_batch PORT [-r R] [-c C] [--delay-ms D]
"""
import argparse
import sys
import time

import gevent
import gevent.socket as gsocket
from gevent.pool import Group
import greenlet


def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def bench_switch(n, hub):
    if hub:
        def loop():
            for _ in range(n):
                gevent.sleep(0)
        t0 = time.perf_counter()
        gevent.joinall([gevent.spawn(loop), gevent.spawn(loop)])
    else:
        main = greenlet.getcurrent()

        def pong():
            while True:
                main.switch()
        g = greenlet.greenlet(pong)
        switch = g.switch
        t0 = time.perf_counter()
        for _ in range(n):
            switch()
    el = time.perf_counter() - t0
    print(f"switch_ns {el * 1e9 / (2 * n):.2f} ns")


def noop():
    pass


def bench_spawn(n):
    group = Group()
    spawn = group.spawn
    t0 = time.perf_counter()
    for done in range(0, n, 1000):
        for _ in range(min(1000, n - done)):
            spawn(noop)
        group.join()
    el = time.perf_counter() - t0
    print(f"spawn_join_ns {el * 1e9 / n:.2f} ns")


def bench_sleepers(n, sleep_s):
    group = Group()
    spawn, sleep = group.spawn, gevent.sleep
    base = status_kib("VmRSS")
    t0 = time.perf_counter()
    for _ in range(n):
        spawn(sleep, sleep_s)  # none runs before we block in join()
    print(f"spawned {n} sleepers in {time.perf_counter() - t0:.3f} s", file=sys.stderr)
    group.join()
    el = time.perf_counter() - t0
    peak = status_kib("VmHWM")
    print(f"sleepers_n {n} count")
    print(f"sleepers_wall_s {el:.3f} s")
    print(f"sleepers_rss_kib_per_co {(peak - base) / n:.3f} KiB")


REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def client(port, reqs):
    sock = gsocket.create_connection(("127.0.0.1", port))
    sock.setsockopt(gsocket.IPPROTO_TCP, gsocket.TCP_NODELAY, 1)
    f = sock.makefile("rb")  # buffered reader; readline/read run in C
    try:
        for _ in range(reqs):
            sock.sendall(REQUEST)
            status = f.readline().split(None, 2)
            if len(status) < 2 or not status[0].startswith(b"HTTP/1.") or status[1] != b"200":
                raise RuntimeError(f"bad status line {status!r}")
            clen = None
            while (line := f.readline()) not in (b"\r\n", b"\n"):
                if not line:
                    raise RuntimeError("connection closed in headers")
                name, sep, value = line.partition(b":")
                if not sep:
                    raise RuntimeError(f"bad header {line!r}")
                if name.strip().lower() == b"content-length":
                    clen = int(value)
            if clen is None:
                raise RuntimeError("response without Content-Length")
            if len(f.read(clen)) != clen:
                raise RuntimeError("short body")
    finally:
        f.close()
        sock.close()


def bench_io(port, total, conns, delay_ms):
    if total % conns:
        sys.exit("R must be a multiple of C")
    per = total // conns
    t0 = time.perf_counter()
    group = Group()
    for _ in range(conns):
        group.spawn(client, port, per)
    group.join(raise_error=True)
    el = time.perf_counter() - t0
    print(f"io_batch_wall_s {el:.3f} s")
    print(f"io_batch_vs_ideal {el / (per * delay_ms / 1000):.3f} x")


def main():
    ap = argparse.ArgumentParser(description="gevent peer benchmark")
    ap.add_argument("cmd", choices=["switch", "spawn", "sleepers", "io_batch"])
    ap.add_argument("port", nargs="?", type=int, help="io_batch server port")
    ap.add_argument("-n", type=int, help="iterations / greenlet count")
    ap.add_argument("--hub", action="store_true", help="switch: gevent.sleep(0) through the hub")
    ap.add_argument("--sleep-ms", type=int, default=1000, help="sleepers: sleep per greenlet")
    ap.add_argument("-r", type=int, default=20000, help="io_batch: total requests")
    ap.add_argument("-c", type=int, default=200, help="io_batch: connections")
    ap.add_argument("--delay-ms", type=float, default=10, help="io_batch: server delay (for ideal)")
    a = ap.parse_args()
    print(f"gevent {gevent.__version__}, loop {gevent.get_hub().loop.__class__.__module__}",
          file=sys.stderr)
    if a.cmd == "switch":
        bench_switch(a.n or 1_000_000, a.hub)
    elif a.cmd == "spawn":
        bench_spawn(a.n or 100_000)
    elif a.cmd == "sleepers":
        bench_sleepers(a.n or 1_000_000, a.sleep_ms / 1000)
    else:
        if a.port is None:
            ap.error("io_batch needs PORT")
        bench_io(a.port, a.r, a.c, a.delay_ms)


if __name__ == "__main__":
    main()
