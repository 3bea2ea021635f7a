#!/bin/sh
# Issue 14's benchmark 3, the shell user's alternatives: GET every URL of a
# list, 200 at once, with `eventor fetch`, `xargs -P 200 -n 1 curl` and
# `parallel -j 200 curl`, against one bench_http_server (it holds each
# answer DELAY ms, default 10). eventor fetches N URLs (20,000); a curl
# process per URL is slow, so xargs gets N_XARGS (1,000) and GNU parallel
# N_PARALLEL (300), and each figure is wall time per URL. Prints
# `name value unit` lines: WHO.fetch_us_per_url, WHO.fetch_urls_per_s, and
# ratio.fetch_us_per_url.PEER (the peer's time per URL / ours).
# Usage: bench/bench_fetch.sh BUILD_DIR [PORT]   (PORT: a running server)
set -eu
build=${1:-build}
port=${2:-}
N=${N:-20000}
N_XARGS=${N_XARGS:-1000}
N_PARALLEL=${N_PARALLEL:-300}
DELAY=${DELAY:-10}
tmp=$(mktemp -d)
srv=
trap 'rm -rf "$tmp"; [ -n "$srv" ] && kill "$srv" 2>/dev/null; true' EXIT
if [ -z "$port" ]; then
  mkfifo "$tmp/fifo"
  "$build/bench/bench_http_server" --port 0 --delay-ms "$DELAY" >"$tmp/fifo" &
  srv=$!
  read -r _ port <"$tmp/fifo"
fi
seq 1 "$N" | sed "s|^|http://127.0.0.1:$port/u|" >"$tmp/urls"

now() { date +%s.%N; }
# per_url WHO N START END: the figures of one client.
per_url() {
  awk -v w="$1" -v n="$2" -v a="$3" -v b="$4" 'BEGIN {
    s = b - a; printf "%s.fetch_us_per_url %.1f us\n", w, s * 1e6 / n
    printf "%s.fetch_urls_per_s %.0f 1/s\n", w, n / s }'
}

t0=$(now)
"$build/eventor" fetch -q -j 200 -a "$tmp/urls" >/dev/null
t1=$(now)
per_url eventor "$N" "$t0" "$t1" | tee "$tmp/figs"

if command -v curl >/dev/null; then
  head -n "$N_XARGS" "$tmp/urls" >"$tmp/u_x"
  t0=$(now)
  xargs -P 200 -n 1 curl -s -o /dev/null <"$tmp/u_x"
  t1=$(now)
  per_url xargs "$N_XARGS" "$t0" "$t1" | tee -a "$tmp/figs"
fi
if command -v parallel >/dev/null && command -v curl >/dev/null; then
  head -n "$N_PARALLEL" "$tmp/urls" >"$tmp/u_p"
  t0=$(now)
  parallel --will-cite -j 200 curl -s -o /dev/null {} <"$tmp/u_p"
  t1=$(now)
  per_url parallel "$N_PARALLEL" "$t0" "$t1" | tee -a "$tmp/figs"
fi
awk '$1 ~ /fetch_us_per_url/ { split($1, k, "."); t[k[1]] = $2 }
  END { for (p in t) if (p != "eventor" && t["eventor"] > 0)
    printf "ratio.fetch_us_per_url.%s %.1f x\n", p, t[p] / t["eventor"] }' \
  "$tmp/figs"
