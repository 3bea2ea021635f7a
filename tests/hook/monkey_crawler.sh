#!/bin/sh
# examples/monkey_crawler against our HTTP server (100 ms per answer), on a
# free loopback port: every URL fetched twice, and the concurrent run of 5
# URLs well under the serial one (generous: under the 0.5 s that one answer after another takes).
set -eu
crawler=$1 server=$2
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
mkfifo "$dir/out"
"$server" --port 0 --delay-ms 100 --host 127.0.0.1 >"$dir/out" &
pid=$!
read -r word port <"$dir/out"
[ "$word" = port ]
u=http://127.0.0.1:$port
"$crawler" $u/a $u/b $u/c $u/d $u/e >"$dir/log"
cat "$dir/log"
[ "$(grep -c '^2 bytes received from' "$dir/log")" = 10 ]
awk '/^concurrent cost/ { exit !($3 < 0.45) }' "$dir/log"
