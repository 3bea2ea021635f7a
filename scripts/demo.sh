#!/bin/sh
# make demo: the main job on the bundled examples/data.txt (the numbers 1 to
# 10): through the eventor command with a command template, then through a
# C plugin (the seed's run_with_file), then the seed's multi-consumer
# scenario on worker processes.
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
echo "== eventor --plugin add_ten.so:add_ten -c 3 --unit 3 --interval 1 --bar examples/data.txt"
echo "   (the seed's run_with_file: a C function over every line, in order)"
"$build/eventor" --plugin "$build/examples/add_ten.so:add_ten" -c 3 --unit 3 \
  --interval 1 --bar examples/data.txt
echo "== the seed's multi-consumer scenario on 4 worker processes"
"$build/examples/eventor_multi_consumer"
