#!/bin/sh
# make fuzz: run each libFuzzer target of BUILD (fuzz_opts, fuzz_template,
# fuzz_input) for SECONDS, from its seed corpus in tests/fuzz/corpus/NAME;
# what it finds new goes to BUILD/corpus/NAME (the tree's corpus is not
# touched), a crash to BUILD/crash-NAME-*. Prints a line a target: its
# runs and what it found; exits 1 if any target found a fault.
# Usage: scripts/fuzz.sh BUILD SECONDS
set -u
build=${1:?usage: fuzz.sh BUILD SECONDS}
secs=${2:-60}
src=$(cd "$(dirname "$0")/.." && pwd)
failed=0
for seeds in "$src"/tests/fuzz/corpus/*/; do
    name=$(basename "$seeds")
    bin=$build/fuzz_$name
    [ -x "$bin" ] || { echo "fuzz: no $bin" >&2; failed=1; continue; }
    mkdir -p "$build/corpus/$name"
    log=$build/fuzz_$name.log
    # -close_fd_mask=3: the parser's own messages are noise; libFuzzer
    # keeps its reports. -timeout: one input may take at most 10 s.
    "$bin" -max_total_time="$secs" -close_fd_mask=3 -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix="$build/crash-$name-" \
        "$build/corpus/$name" "$seeds" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
    [ -n "$runs" ] || runs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    if [ $rc = 0 ]; then
        echo "fuzz $name: ${runs:-?} runs in ${secs}s, nothing found, corpus $(ls "$build/corpus/$name" | wc -l) inputs"
    else
        failed=1
        echo "fuzz $name: FOUND a fault after ${runs:-?} runs (exit $rc):"
        grep -m5 'ERROR\|runtime error\|SUMMARY\|Test unit written' "$log"
        echo "  (full report: $log)"
    fi
done
exit $failed
