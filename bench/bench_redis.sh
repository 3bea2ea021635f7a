#!/bin/sh
# Issue 18's benchmarks, every one against one redis-server started here
# (a free loopback port, AOF on as in the tests): eventor's items/s next to
# the raw hiredis loop (bench_redis), one item's latency and the recovery
# of a SIGKILLed worker's items (bench_redis_lat), and the same work end to
# end on Celery (prefork pool, concurrency = CPUs) and RQ (`rq worker
# --burst` x CPUs, SimpleWorker: RQ's default forks a process per job and
# is about 3x slower). eventor runs N items (100,000); the peers are slow,
# so Celery gets N_CELERY and RQ N_RQ (8,000 each, ~15-30 s): each figure
# is a rate. Prints `name value unit` lines: WHO.redis_*, and
# ratio.redis_e2e_us_per_item.PEER and ratio.redis_latency_*.PEER (the
# peer's time / ours; with CELERY_RECOVER, ratio.redis_recover_vs_visibility
# .celery). A peer that is missing is skipped with a line
# saying so (stderr) and WHO.redis_skipped 1 flag.
# Usage: bench/bench_redis.sh BUILD_DIR
set -eu
build=${1:-build}
bin=$build/bench
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
N=${N:-100000}
N_CELERY=${N_CELERY:-8000}
N_RQ=${N_RQ:-8000}
for need in redis-server redis-cli; do
  command -v $need >/dev/null || { echo "bench_redis.sh: skip: no $need" >&2; exit 0; }
done
[ -x "$bin/bench_redis" ] || { echo "bench_redis.sh: skip: built without hiredis" >&2; exit 0; }
tmp=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; wait; rm -rf "$tmp"' EXIT

port=$($py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly yes \
  --dir "$tmp" >/dev/null &
srv=$!
tries=0
until redis-cli -p "$port" ping >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ $tries -lt 200 ] || { echo "bench_redis.sh: redis-server did not start" >&2; exit 1; }
  sleep 0.05 # poll: it answers PING once it is up
done
url=redis://127.0.0.1:$port

emit() { # prefix, then lines on stdin
  while read -r name value unit; do
    echo "$1.$name $value $unit" | tee -a "$tmp/figs"
  done
}

"$bin/bench_redis" "$N" --url "$url" | emit eventor
"$bin/bench_redis_lat" --url "$url" | emit eventor

# The peers, each in a database of its own on the same server.
if $py -c 'import celery' 2>/dev/null; then
  $py "$here/peers/celery_redis.py" "$url/1" -n "$N_CELERY" | emit celery
else
  echo "bench_redis.sh: skip celery: python3-celery is missing" >&2
  echo "celery.redis_skipped 1 flag"
fi
# Celery's recovery of a SIGKILLed worker's items takes ~100 s (kombu
# restores unacked messages on one 10 s tick in ten), so it runs only when
# asked: CELERY_RECOVER=VIS_S (its visibility timeout; at or below a
# worker's start-up, the waiting worker takes the live one's items).
if [ -n "${CELERY_RECOVER:-}" ] && $py -c 'import celery' 2>/dev/null; then
  $py "$here/peers/celery_redis.py" "$url/1" --recover "$CELERY_RECOVER" | emit celery
fi
if $py -c 'import rq' 2>/dev/null; then
  $py "$here/peers/rq_redis.py" "$url/2" -n "$N_RQ" --simple | emit rq
else
  echo "bench_redis.sh: skip rq: python3-rq is missing" >&2
  echo "rq.redis_skipped 1 flag"
fi

awk '
  { split($1, k, "."); fig[k[1], k[2]] = $2; who[k[1]] = 1 }
  END {
    split("redis_e2e_us_per_item redis_latency_p50_ms redis_latency_p99_ms" \
          " redis_recover_vs_visibility", ns, " ")
    for (p in who) if (p != "eventor") for (i in ns) {
      n = ns[i]
      if ((p, n) in fig && fig["eventor", n] > 0)
        printf "ratio.%s.%s %.2f x\n", n, p, fig[p, n] / fig["eventor", n]
    }
  }' "$tmp/figs" | sort
