"""gevent + urllib3 peer of bench_http (the seed's way): N GETs of
http://127.0.0.1:PORT/ from C greenlets of a gevent pool sharing one
urllib3 PoolManager (maxsize C, so each greenlet keeps its connection).
Prints NAME_wall_s, NAME_vs_ideal (D > 0), NAME_req_per_s and
NAME_cpu_us_per_req as bench_http does.
Usage: http_gevent.py PORT [N] [C] [D] [NAME]"""
from gevent import monkey

monkey.patch_all()
import resource, sys, time  # noqa: E402

import gevent.pool  # noqa: E402
import urllib3  # noqa: E402

port = int(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
c = int(sys.argv[3]) if len(sys.argv) > 3 else 200
d = int(sys.argv[4]) if len(sys.argv) > 4 else 10
name = sys.argv[5] if len(sys.argv) > 5 else "http_latency"
url = "http://127.0.0.1:%d/" % port
http = urllib3.PoolManager(maxsize=c, block=True, retries=False)
left = [n]
ok = [0]


def worker():
    while left[0] > 0:
        left[0] -= 1
        r = http.request("GET", url, preload_content=True)
        ok[0] += r.status == 200


def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


t0, c0 = time.monotonic(), cpu()
pool = gevent.pool.Pool(c)
for _ in range(c):
    pool.spawn(worker)
pool.join()
wall, used = time.monotonic() - t0, cpu() - c0
if ok[0] != n:
    sys.exit("http_gevent: %d of %d answered 200" % (ok[0], n))
print("%s_wall_s %.3f s" % (name, wall))
if d > 0:
    print("%s_vs_ideal %.3f x" % (name, wall / (((n + c - 1) // c) * d / 1000)))
print("%s_req_per_s %.3f req/s" % (name, n / wall))
print("%s_cpu_us_per_req %.3f us" % (name, used * 1e6 / n))
