#!/bin/sh
# Job throughput of a command runner: N trivial jobs (`true`, default 5000)
# on 8 slots, for eventor (-j8), xargs (-P8 -n1) or GNU parallel (-j8).
# Prints `jobs_per_s X jobs/s`, `job_us X us` (wall time per job) and
# `launcher_us X us`: the runner's own CPU per job (its threads, not the
# jobs). With few CPUs the jobs themselves bound every runner; the launcher
# cost is what bounds it where cores are plenty.
# Usage: bench/bench_jobs.sh BUILD_DIR [eventor|xargs|parallel]   (N=5000)
set -eu
build=${1:-build}
who=${2:-eventor}
n=${N:-5000}
here=$(cd "$(dirname "$0")" && pwd)
items=$(mktemp)
times=$(mktemp)
trap 'rm -f "$items" "$times"' EXIT
seq "$n" >"$items"
case $who in
eventor) set -- "$build/eventor" -j8 true ;;
xargs) set -- xargs -P8 -n1 true ;;
parallel) set -- parallel --will-cite -j8 true ;;
*) echo "bench_jobs.sh: unknown runner $who" >&2; exit 2 ;;
esac
python3 "$here/self_cpu.py" "$@" <"$items" 2>"$times"
awk -v n="$n" '
  $1 == "wall_s" { s = $2 }
  $1 == "self_cpu_s" { c = $2 }
  END {
    printf "jobs_per_s %.0f jobs/s\njob_us %.1f us\n", n / s, s * 1e6 / n
    printf "launcher_us %.1f us\n", c * 1e6 / n
  }' "$times"
