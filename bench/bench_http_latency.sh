#!/bin/sh
# Issue 14's benchmark 1, latency-bound: N GETs (20,000), C at once (200),
# of one bench_http_server that holds each answer DELAY ms (10), by eventor
# (bench_http; eventor_t2: two threads of C/2, as -T 2 runs them, since Go
# uses every core) and each peer found (Go net/http, curl --parallel,
# gevent+urllib3, aiohttp), in turn, ROUNDS times (1).
#
# The ideal is measured, not assumed. Around each run the server's /_stats
# window gives its mean service time s per request, from the kernel's
# receipt of the request to the answer written: the real hold (timer
# lateness included), and the server's own queueing and CPU on this
# machine. It also gives the mean gap g, from an answer written to the next
# request's receipt on that connection: the client's turnaround plus
# loopback; and the ramp, from the first request's receipt to the last
# connection's first (how long the client took to have C in flight). With at most C requests in flight, no client can finish in
# less than N x s / C, so that is the server-bound ideal of the run.
#
# wrk (the fastest HTTP/1.1 client there is, a thread a client CPU) runs
# too, for 2 s, its wall time for N being N / its rate: the floor a client
# reaches against this server on this machine.
#
# Prints WHO.http_latency_X lines, the median over the rounds:
#   wall_s, vs_ideal (wall / the nominal N/C x DELAY), server_ideal_s
#   (N x s / C), vs_server_ideal (wall / server_ideal_s), server_hold_ms
#   (the real hold), gap_ms (g), ramp_ms, cpu_us_per_req (the client's CPU).
# WHO="eventor go curl" picks clients; VERBOSE=1 shows each run on stderr.
# Usage: bench/bench_http_latency.sh BUILD_DIR [PORT]   (PORT: a running
#        server with DELAY's hold)
set -eu
build=${1:-build}
port=${2:-}
N=${N:-20000}
C=${C:-200}
DELAY=${DELAY:-10}
ROUNDS=${ROUNDS:-1}
here=$(cd "$(dirname "$0")" && pwd)
bin=$build/bench
py=/usr/bin/python3
tmp=$(mktemp -d)
srv=
trap 'rm -rf "$tmp"; [ -n "$srv" ] && kill "$srv" 2>/dev/null; true' EXIT
. "$here/pin.sh" # the server on a CPU of its own, the clients on the others
if [ -z "$port" ]; then
  : >"$tmp/srv" # before the server starts, for the grep below
  $on_server "$bin/bench_http_server" --port 0 --delay-ms "$DELAY" >"$tmp/srv" &
  srv=$!
  while ! grep -q '^port ' "$tmp/srv"; do
    kill -0 "$srv" 2>/dev/null || { echo "bench_http_latency: no server" >&2; exit 1; }
    sleep 0.05
  done
  port=$(awk '/^port /{ print $2 }' "$tmp/srv")
fi
stats() { curl -s --fail "http://127.0.0.1:$port/_stats"; }
# From here on this script and every client run on the clients' CPUs.
[ -z "$on_clients" ] || taskset -p -c "${on_clients##* }" $$ >/dev/null
client_cpus=$(nproc)

who="eventor eventor_t2"
[ -x "$bin/peers/go_http_bench" ] && who="$who go"
command -v wrk >/dev/null && who="$who wrk"
command -v curl >/dev/null && who="$who curl"
$py -c 'import gevent, urllib3' 2>/dev/null && who="$who gevent_urllib3"
$py -c 'import aiohttp' 2>/dev/null && who="$who aiohttp"
who=${WHO:-$who} # WHO="eventor go": these clients only

client() { # WHO: one run of benchmark 1, its figures on stdout
  case $1 in
    eventor) "$bin/bench_http" --port "$port" --requests "$N" --conc "$C" --delay-ms "$DELAY" ;;
    eventor_t2) "$bin/bench_http" --port "$port" --requests "$N" --conc "$C" --delay-ms "$DELAY" --threads 2 ;;
    go) "$bin/peers/go_http_bench" -r "$N" -c "$C" -delay-ms "$DELAY" "$port" ;;
    wrk) sh "$here/peers/wrk_http.sh" "$port" "$C" 2 http_latency "$client_cpus" |
           awk -v n="$N" -v d="$DELAY" -v c="$C" '
             { print }
             $1 == "http_latency_req_per_s" && $2 > 0 {
               printf "http_latency_wall_s %.3f s\n", n / $2
               printf "http_latency_vs_ideal %.3f x\n", n / $2 / (n / c * d / 1000) }' ;;
    curl) sh "$here/peers/curl_parallel.sh" "$port" "$N" "$C" "$DELAY" ;;
    gevent_urllib3) $py "$here/peers/http_gevent.py" "$port" "$N" "$C" "$DELAY" ;;
    aiohttp) $py "$here/peers/http_aiohttp.py" "$port" "$N" "$C" "$DELAY" ;;
  esac
}

for r in $(seq 1 "$ROUNDS"); do
  for w in $who; do
    stats >/dev/null
    client "$w" >"$tmp/run" || { echo "bench_http_latency: $w failed" >&2; continue; }
    stats >>"$tmp/run"
    awk -v w="$w" -v n="$N" -v c="$C" '
      $1 == "http_latency_wall_s" { wall = $2 }
      $1 == "http_latency_vs_ideal" { nominal = $2 }
      $1 == "http_latency_cpu_us_per_req" { cpu = $2 }
      $1 == "http_server_service_ms" { svc = $2 }
      $1 == "http_server_hold_ms" { hold = $2 }
      $1 == "http_server_gap_ms" { gap = $2 }
      $1 == "http_server_ramp_ms" { ramp = $2 }
      END {
        ideal = n * svc / c / 1000
        printf "%s wall_s %.3f s\n", w, wall
        printf "%s vs_ideal %.3f x\n", w, nominal
        printf "%s server_ideal_s %.3f s\n", w, ideal
        if (ideal > 0) printf "%s vs_server_ideal %.3f x\n", w, wall / ideal
        printf "%s server_hold_ms %.3f ms\n", w, hold
        printf "%s gap_ms %.3f ms\n", w, gap
        printf "%s ramp_ms %.3f ms\n", w, ramp
        printf "%s cpu_us_per_req %.3f us\n", w, cpu
      }' "$tmp/run" >>"$tmp/all"
    [ -n "${VERBOSE:-}" ] && grep "^$w " "$tmp/all" | tail -8 | tr '\n' ' ' >&2 && echo >&2
  done
done
# The median of each figure over the rounds.
LC_ALL=C sort -k1,1 -k2,2 -k3,3g "$tmp/all" | awk '
  function out() { if (k != "") printf "%s.http_latency_%s %s %s\n", pw, pf, v[int((m + 1) / 2)], u }
  { if ($1 != pw || $2 != pf) { out(); pw = $1; pf = $2; m = 0; k = 1 }
    v[++m] = $3; u = $4 }
  END { out() }'
