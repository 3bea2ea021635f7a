#!/bin/sh
# make demo: the main job on the bundled examples/data.txt (the numbers 1 to
# 10): through the eventor command with a command template, then through
# the batch engine (the seed's Eventor scenarios, in C).
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== eventor -k -j4 --bar --joblog LOG 'sleep 0.3; echo {}: \$(( {} * {} ))' :::: examples/data.txt"
"$build/eventor" -k -j4 --bar --joblog "$log" \
  'sleep 0.3; echo {}: $(( {} * {} ))' :::: examples/data.txt
echo "== its joblog (GNU parallel's format)"
cat "$log"
echo "== the batch engine: the seed's run_with_file (3 at once, units of 3, 1 s apart)"
"$build/examples/eventor_file" examples/data.txt
echo "== the seed's multi-consumer scenario on 4 worker processes"
"$build/examples/eventor_multi_consumer"
