#!/usr/bin/python3
"""asyncio peer benchmark for eventor (stock asyncio event loop, CPython).

  switch    two tasks alternate N round trips with `await asyncio.sleep(0)`
            -> switch_ns (ns per one-direction switch = per sleep(0); each one
            is a full event-loop iteration, there is no direct task switch)
  spawn     create_task + gather, N tasks in batches of 1000
            -> spawn_join_ns (ns per task)
  sleepers  N tasks alive at once, each `await asyncio.sleep(1)`, then gather
            -> sleepers_n, sleepers_wall_s, sleepers_rss_kib_per_co
  io_batch  R keep-alive HTTP/1.1 GETs over C asyncio stream connections (one
            task per connection, R/C sequential requests each) to
            127.0.0.1:PORT -> io_batch_wall_s, io_batch_vs_ideal
            (ideal = R/C * delay)

Usage: /usr/bin/python3 asyncio_bench.py switch|spawn|sleepers [-n N]
       /usr/bin/python3 asyncio_bench.py io_batch PORT [-r R] [-c C] [--delay-ms D]
"""
import argparse
import asyncio
import sys
import time


def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


async def bench_switch(n):
    async def loop():
        for _ in range(n):
            await asyncio.sleep(0)
    t0 = time.perf_counter()
    await asyncio.gather(loop(), loop())
    el = time.perf_counter() - t0
    print(f"switch_ns {el * 1e9 / (2 * n):.2f} ns")


async def noop():
    pass


async def bench_spawn(n):
    create_task = asyncio.get_running_loop().create_task
    t0 = time.perf_counter()
    for done in range(0, n, 1000):
        await asyncio.gather(*[create_task(noop()) for _ in range(min(1000, n - done))])
    el = time.perf_counter() - t0
    print(f"spawn_join_ns {el * 1e9 / n:.2f} ns")


async def bench_sleepers(n, sleep_s):
    create_task, sleep = asyncio.get_running_loop().create_task, asyncio.sleep
    base = status_kib("VmRSS")
    t0 = time.perf_counter()
    tasks = [create_task(sleep(sleep_s)) for _ in range(n)]  # none runs before we await
    print(f"spawned {n} sleepers in {time.perf_counter() - t0:.3f} s", file=sys.stderr)
    await asyncio.gather(*tasks)
    el = time.perf_counter() - t0
    peak = status_kib("VmHWM")
    print(f"sleepers_n {n} count")
    print(f"sleepers_wall_s {el:.3f} s")
    print(f"sleepers_rss_kib_per_co {(peak - base) / n:.3f} KiB")


REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


async def client(port, reqs):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)  # TCP_NODELAY is set
    try:
        for _ in range(reqs):
            writer.write(REQUEST)  # the response is awaited below, so no drain() needed
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = lines[0].split(None, 2)
            if len(status) < 2 or not status[0].startswith(b"HTTP/1.") or status[1] != b"200":
                raise RuntimeError(f"bad status line {lines[0]!r}")
            clen = None
            for line in lines[1:-2]:
                name, sep, value = line.partition(b":")
                if not sep:
                    raise RuntimeError(f"bad header {line!r}")
                if name.strip().lower() == b"content-length":
                    clen = int(value)
            if clen is None:
                raise RuntimeError("response without Content-Length")
            await reader.readexactly(clen)
    finally:
        writer.close()


async def bench_io(port, total, conns, delay_ms):
    if total % conns:
        sys.exit("R must be a multiple of C")
    per = total // conns
    t0 = time.perf_counter()
    await asyncio.gather(*[client(port, per) for _ in range(conns)])
    el = time.perf_counter() - t0
    print(f"io_batch_wall_s {el:.3f} s")
    print(f"io_batch_vs_ideal {el / (per * delay_ms / 1000):.3f} x")


def main():
    ap = argparse.ArgumentParser(description="asyncio peer benchmark")
    ap.add_argument("cmd", choices=["switch", "spawn", "sleepers", "io_batch"])
    ap.add_argument("port", nargs="?", type=int, help="io_batch server port")
    ap.add_argument("-n", type=int, help="iterations / task count")
    ap.add_argument("--sleep-ms", type=int, default=1000, help="sleepers: sleep per task")
    ap.add_argument("-r", type=int, default=20000, help="io_batch: total requests")
    ap.add_argument("-c", type=int, default=200, help="io_batch: connections")
    ap.add_argument("--delay-ms", type=float, default=10, help="io_batch: server delay (for ideal)")
    a = ap.parse_args()
    if a.cmd == "switch":
        coro = bench_switch(a.n or 1_000_000)
    elif a.cmd == "spawn":
        coro = bench_spawn(a.n or 100_000)
    elif a.cmd == "sleepers":
        coro = bench_sleepers(a.n or 1_000_000, a.sleep_ms / 1000)
    else:
        if a.port is None:
            ap.error("io_batch needs PORT")
        coro = bench_io(a.port, a.r, a.c, a.delay_ms)
    asyncio.run(coro)


if __name__ == "__main__":
    main()
