#!/bin/sh
# Job throughput of a command runner: N trivial jobs (`true`, default 5000)
# on 8 slots, for eventor (-j8), xargs (-P8 -n1) or GNU parallel (-j8).
# Prints `jobs_per_s X jobs/s` and `job_us X us` (wall time per job).
# Usage: bench/bench_jobs.sh BUILD_DIR [eventor|xargs|parallel]   (N=5000)
set -eu
build=${1:-build}
who=${2:-eventor}
n=${N:-5000}
items=$(mktemp)
trap 'rm -f "$items"' EXIT
seq "$n" >"$items"
case $who in
eventor) run() { "$build/eventor" -j8 true <"$items"; } ;;
xargs) run() { xargs -P8 -n1 true <"$items"; } ;;
parallel) run() { parallel --will-cite -j8 true <"$items"; } ;;
*) echo "bench_jobs.sh: unknown runner $who" >&2; exit 2 ;;
esac
t0=$(date +%s.%N)
run
t1=$(date +%s.%N)
echo "$t0 $t1 $n" | awk '{ s = $2 - $1; printf "jobs_per_s %.0f jobs/s\njob_us %.1f us\n", $3 / s, s * 1e6 / $3 }'
