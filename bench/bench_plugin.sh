#!/bin/sh
# Plugin mode over a file of N lines (default 10M) with the example plugin
# (add_ten): lines/s in process, with -P 1 / -P 2 worker processes and with
# -T 1 / -T 2 worker threads (the file split by byte ranges between the
# workers), and `wc -l` on the same (cached) file.
# Prints `plugin_<mode>_lines_per_s X lines/s` and
# `plugin_<mode>_vs_wc X x` (our time / wc's: how many times slower).
# Usage: bench/bench_plugin.sh BUILD_DIR   (N=10000000)
set -eu
build=${1:-build}
n=${N:-10000000}
file=$(mktemp)
trap 'rm -f "$file"' EXIT
seq "$n" >"$file"
now() { date +%s.%N; }
t0=$(now); wc -l "$file" >/dev/null; t1=$(now)
wc_s=$(echo "$t0 $t1" | awk '{ print $2 - $1 }')
for mode in inproc p1 p2 t1 t2; do
  case $mode in
  inproc) set -- ;;
  p1) set -- -P 1 ;;
  p2) set -- -P 2 ;;
  t1) set -- -T 1 ;;
  t2) set -- -T 2 ;;
  esac
  t0=$(now)
  "$build/eventor" --plugin "$build/examples/add_ten.so:add_ten" "$@" "$file" >/dev/null
  t1=$(now)
  echo "$t0 $t1 $n $wc_s $mode" | awk '{ s = $2 - $1;
    printf "plugin_%s_lines_per_s %.0f lines/s\nplugin_%s_vs_wc %.1f x\n", $5, $3 / s, $5, s / $4 }'
done
