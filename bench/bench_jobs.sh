#!/bin/sh
# Job throughput of a command runner: N trivial jobs (default 5000) on 8
# slots, for eventor (-j8), xargs (-P8 -n1) or GNU parallel (-j8).
# The job is `true`, or with JOB=noop build/bench/noop_job, a static
# program that only exits: `true` costs about 0.9 ms of CPU on a VM, which
# bounds every runner on a few CPUs; noop_job leaves the runner itself as
# the bound there, as `true` does where cores are plenty.
# Prints `jobs_per_s X jobs/s`, `job_us X us` (wall time per job) and
# `launcher_us X us`: the runner's own CPU per job (its threads, not the
# jobs); with JOB=noop the names start with `noop_`.
# Usage: [N=5000] [JOB=true|noop] bench/bench_jobs.sh BUILD_DIR [eventor|xargs|parallel]
set -eu
build=${1:-build}
who=${2:-eventor}
n=${N:-5000}
case ${JOB:-true} in
true) job=true prefix= ;;
noop) job=$build/bench/noop_job prefix=noop_ ;;
*) echo "bench_jobs.sh: unknown job $JOB" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
items=$(mktemp)
times=$(mktemp)
trap 'rm -f "$items" "$times"' EXIT
seq "$n" >"$items"
case $who in
eventor) set -- "$build/eventor" -j8 "$job" ;;
xargs) set -- xargs -P8 -n1 "$job" ;;
parallel) set -- parallel --will-cite -j8 "$job" ;;
*) echo "bench_jobs.sh: unknown runner $who" >&2; exit 2 ;;
esac
python3 "$here/self_cpu.py" "$@" <"$items" 2>"$times"
awk -v n="$n" -v p="$prefix" '
  $1 == "wall_s" { s = $2 }
  $1 == "self_cpu_s" { c = $2 }
  END {
    printf "%sjobs_per_s %.0f jobs/s\n%sjob_us %.1f us\n", p, n / s, p, s * 1e6 / n
    printf "%slauncher_us %.1f us\n", p, c * 1e6 / n
  }' "$times"
