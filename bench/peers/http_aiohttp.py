"""aiohttp peer of bench_http: N GETs of http://127.0.0.1:PORT/ from C
asyncio tasks sharing one ClientSession (a TCPConnector of C
connections). Prints NAME_wall_s, NAME_vs_ideal (D > 0), NAME_req_per_s
and NAME_cpu_us_per_req as bench_http does.
Usage: http_aiohttp.py PORT [N] [C] [D] [NAME]"""
import asyncio, resource, sys, time

import aiohttp

port = int(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
c = int(sys.argv[3]) if len(sys.argv) > 3 else 200
d = int(sys.argv[4]) if len(sys.argv) > 4 else 10
name = sys.argv[5] if len(sys.argv) > 5 else "http_latency"
url = "http://127.0.0.1:%d/" % port


def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def main():
    left, ok = [n], [0]
    conn = aiohttp.TCPConnector(limit=c, limit_per_host=c)
    async with aiohttp.ClientSession(connector=conn) as s:
        async def worker():
            while left[0] > 0:
                left[0] -= 1
                async with s.get(url) as r:
                    await r.read()
                    ok[0] += r.status == 200
        await asyncio.gather(*(worker() for _ in range(c)))
    return ok[0]


t0, c0 = time.monotonic(), cpu()
got = asyncio.run(main())
wall, used = time.monotonic() - t0, cpu() - c0
if got != n:
    sys.exit("http_aiohttp: %d of %d answered 200" % (got, n))
print("%s_wall_s %.3f s" % (name, wall))
if d > 0:
    print("%s_vs_ideal %.3f x" % (name, wall / (((n + c - 1) // c) * d / 1000)))
print("%s_req_per_s %.3f req/s" % (name, n / wall))
print("%s_cpu_us_per_req %.3f us" % (name, used * 1e6 / n))
