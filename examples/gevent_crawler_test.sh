#!/bin/sh
# The test of examples/gevent_crawler: three URLs of a local
# bench_http_server that holds each answer 300 ms. Each page (2 bytes) is
# reported twice, and the concurrent round is faster than the serial one
# (about 0.3 s against 0.9 s; the times themselves vary, so no .expected).
# Usage: gevent_crawler_test.sh CRAWLER BENCH_HTTP_SERVER
set -u
C=${1:?usage: gevent_crawler_test.sh CRAWLER SERVER} S=${2:?server}
T=$(mktemp -d)
"$S" --port 0 --host 127.0.0.1 --delay-ms 300 >"$T/server" &
spid=$!
trap 'kill $spid 2>/dev/null; wait $spid; rm -rf "$T"' EXIT
i=0
until grep -q '^port ' "$T/server"; do
    i=$((i + 1))
    [ $i -gt 100 ] && { echo "FAIL: server did not start"; exit 1; }
    sleep 0.1
done
port=$(sed -n 's/^port //p' "$T/server")
base=http://127.0.0.1:$port
"$C" "$base/a" "$base/b" "$base/c" >"$T/out" || { echo "FAIL: exit $?"; cat "$T/out"; exit 1; }
cat "$T/out"
fails=0
for u in a b c; do
    [ "$(grep -c "^2 bytes received from $base/$u\.\$" "$T/out")" = 2 ] ||
        { echo "FAIL: $u not reported twice"; fails=$((fails + 1)); }
done
serial=$(sed -n 's/^serial cost \([0-9.]*\) s$/\1/p' "$T/out")
conc=$(sed -n 's/^concurrent cost \([0-9.]*\) s$/\1/p' "$T/out")
awk -v s="$serial" -v c="$conc" 'BEGIN { exit !(s != "" && c != "" && c < s) }' ||
    { echo "FAIL: concurrent $conc s is not below serial $serial s"; fails=$((fails + 1)); }
[ $fails = 0 ] && echo "gevent_crawler: passed"
exit $fails
