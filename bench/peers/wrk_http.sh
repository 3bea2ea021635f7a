#!/bin/sh
# wrk peer of bench_http's figures: `wrk -tT -cC` for SECS seconds against
# http://127.0.0.1:PORT/ (wrk runs for a time, not a count). Prints
# NAME_req_per_s and NAME_cpu_us_per_req (wrk's user+system CPU) as
# bench_http does.
# Usage: wrk_http.sh PORT [C] [SECS] [NAME] [T]
set -eu
port=$1 c=${2:-64} secs=${3:-3} name=${4:-http_throughput} t=${5:-1}
out=$(mktemp)
trap 'rm -f "$out" "$out.t"' EXIT
/usr/bin/time -f "%U %S" -o "$out.t" wrk -t"$t" -c"$c" -d"${secs}s" "http://127.0.0.1:$port/" >"$out"
awk -v name="$name" -v tf="$out.t" '
  /^Requests\/sec:/ { rps = $2 }
  /requests in/ { n = $1 }
  END {
    getline t <tf; split(t, f, " ")
    printf "%s_req_per_s %.3f req/s\n", name, rps
    if (n > 0) printf "%s_cpu_us_per_req %.3f us\n", name, (f[1] + f[2]) * 1e6 / n
  }' "$out"
