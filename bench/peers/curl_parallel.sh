#!/bin/sh
# curl peer of bench_http: N GETs of http://127.0.0.1:PORT/ by one
# `curl --parallel --parallel-max C` (the config file lists each URL with
# -o /dev/null). Prints NAME_wall_s, NAME_vs_ideal (D > 0), NAME_req_per_s
# and NAME_cpu_us_per_req (curl's user+system CPU) as bench_http does.
# Usage: curl_parallel.sh PORT [N] [C] [D] [NAME]
set -eu
port=$1 n=${2:-20000} c=${3:-200} d=${4:-10} name=${5:-http_latency}
cfg=$(mktemp)
trap 'rm -f "$cfg" "$cfg.t"' EXIT
awk -v n="$n" -v u="http://127.0.0.1:$port/" \
    'BEGIN { for (i = 0; i < n; i++) printf "url = \"%s\"\noutput = \"/dev/null\"\n", u }' >"$cfg"
t0=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$cfg.t" curl -s --no-progress-meter --fail --parallel --parallel-max "$c" -K "$cfg"
t1=$(date +%s.%N)
awk -v t0="$t0" -v t1="$t1" -v n="$n" -v c="$c" -v d="$d" -v name="$name" '
  { cpu = $1 + $2 }
  END {
    wall = t1 - t0
    printf "%s_wall_s %.3f s\n", name, wall
    if (d > 0) printf "%s_vs_ideal %.3f x\n", name, wall / (int((n + c - 1) / c) * d / 1000)
    printf "%s_req_per_s %.3f req/s\n", name, n / wall
    printf "%s_cpu_us_per_req %.3f us\n", name, cpu * 1e6 / n
  }' "$cfg.t"
