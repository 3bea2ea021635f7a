#!/bin/sh
# eventor --plugin with a plugin that calls the public API: the command
# exports evt_* to the plugins it loads, so the plugin's evt_sleep parks its
# line's coroutine on the command's own runtime. 2000 lines of 10 ms at
# -c 1000 take about 20 ms of sleeping if they overlap, 20 s if they do
# not; in process, on 2 processes and on 2 threads, each must finish in
# less than the 20 s of one line after another (measured on 2 CPUs: 0.07 s,
# -P 2 0.16 s, -T 2 0.10 s; under ASan -P 2 takes 3-5 s).
# Usage: tests/cli/test_plugin_api.sh PATH/TO/eventor
. "$(dirname "$0")/../lib/shell_test.sh"
PLUGIN=$(dirname "$E")/examples/sleep_ms.so

# No plugin may reach a second copy of the runtime: the command exports
# the API itself.
nm -D --defined-only "$E" | grep -q ' evt_sleep$' || fail "eventor does not export evt_sleep"

i=0
: >lines.txt
while [ $i -lt 2000 ]; do echo 10; i=$((i + 1)); done >lines.txt
for shape in "" "-P 2" "-T 2"; do
    # shellcheck disable=SC2086 # shape is words
    timeout 19 "$E" --plugin "$PLUGIN:sleep_ms" -c 1000 $shape lines.txt >out 2>err
    rc=$?
    [ "$rc" = 0 ] || fail "exit $rc for '$shape': $(head -3 err)"
    cmp -s lines.txt out || fail "output differs for '$shape'"
done

# examples/plugins/fetch_status.c: evt_http_get from a plugin, on two
# worker processes, against bench_http_server (counted there): a status
# per line, in order. A name that does not resolve fails its line alone
# (in process: its lookup starts the offload pool's thread, which a worker
# forked under ThreadSanitizer may not).
BULK=$(dirname "$E")/bench/bench_http_server
FETCH=$(dirname "$E")/examples/fetch_status.so
if [ -x "$BULK" ] && [ -f "$FETCH" ]; then
    mkfifo p
    "$BULK" --port 0 --delay-ms 5 >p &
    bp=$!
    exec 3<p
    read -r _ port <&3
    i=0
    while [ $i -lt 300 ]; do echo "http://127.0.0.1:$port/$i"; i=$((i + 1)); done >urls
    timeout 60 "$E" --plugin "$FETCH:fetch_status" -P 2 -c 50 urls >out 2>err
    rc=$?
    [ "$rc" = 0 ] || fail "fetch_status: exit $rc: $(head -3 err)"
    [ "$(grep -c '^200$' out)" = 300 ] && [ "$(wc -l <out)" = 300 ] ||
        fail "fetch_status: $(sort out | uniq -c | head -5)"
    { head -n 2 urls; echo "http://no-such-host.invalid/"; tail -n 2 urls; } >mixed
    timeout 60 "$E" --plugin "$FETCH:fetch_status" -c 50 mixed >out 2>err
    rc=$?
    [ "$rc" = 1 ] && [ "$(grep -c '^200$' out)" = 4 ] ||
        fail "fetch_status with a bad name: exit $rc: $(cat out err)"
    grep -q 'no-such-host.invalid/: dns: could not resolve host' err &&
        grep -q 'line 3' err || fail "fetch_status: the bad line: $(cat err)"
    kill -TERM $bp
    reqs=$(grep http_server_requests <&3 | cut -d' ' -f2)
    wait $bp
    [ "$reqs" = 304 ] || fail "fetch_status: the server saw $reqs requests"
else
    echo "skip: no $BULK or $FETCH"
fi

[ "$fails" = 0 ] && echo "plugin_api: all passed" && exit 0
echo "plugin_api: $fails failed"
exit 1
