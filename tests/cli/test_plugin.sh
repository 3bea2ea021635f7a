#!/bin/sh
# Tests of eventor --plugin: the seed's run_with_file through the example
# plugin (build/examples/add_ten.so), in process, on worker processes and
# on threads, units with pauses, a failing line, and bad input: one line,
# exit 255.
# Usage: tests/cli/test_plugin.sh PATH/TO/eventor
set -u
E=${1:?usage: test_plugin.sh EVENTOR}
case $E in /*) ;; *) E=$(pwd)/$E ;; esac
PLUGIN=$(dirname "$E")/examples/add_ten.so
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0

fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

# expect STATUS STDOUT-FILE ARGS...: eventor --plugin ARGS prints exactly
# STDOUT-FILE and exits with STATUS.
expect() {
    want_rc=$1 want_out=$2
    shift 2
    "$E" --plugin "$@" >out 2>err
    rc=$?
    [ "$rc" = "$want_rc" ] || fail "exit $rc, not $want_rc, for: $*"
    cmp -s "$want_out" out || { fail "stdout differs for: $*"; diff "$want_out" out | head -5; }
}

seq 1 10 >data.txt
seq 11 20 >want.txt
expect 0 want.txt "$PLUGIN:add_ten" -c 3 --unit 3 --interval 0.05 data.txt
expect 0 want.txt "$PLUGIN:add_ten" -P 2 -c 2 data.txt
expect 0 want.txt "$PLUGIN:add_ten" --retries 2 --timeout 5 - <data.txt
seq 1 5000 >big.txt
seq 11 5010 >want_big.txt
expect 0 want_big.txt "$PLUGIN:add_ten" -c 500 big.txt

# A line that fails: said on stderr with its number, counted in the status.
printf '1\nnot a number\n3\n' >mixed.txt
printf '11\n13\n' >want_mixed.txt
expect 1 want_mixed.txt "$PLUGIN:add_ten" mixed.txt
grep -q '^eventor: line 2: Invalid argument$' err || fail "no error line for line 2: $(cat err)"

# On workers: a file split by byte ranges, and stdin line by line.
seq 1 300000 >huge.txt
seq 11 300010 >want_huge.txt
expect 0 want_huge.txt "$PLUGIN:add_ten" -P 2 -c 50 huge.txt
expect 0 want_big.txt "$PLUGIN:add_ten" -P 2 -c 50 - <big.txt
expect 1 want_mixed.txt "$PLUGIN:add_ten" -P 2 mixed.txt
grep -q '^eventor: line 2: Invalid argument$' err || fail "-P: no error line for line 2: $(cat err)"

# On threads: the same results, in order.
expect 0 want_huge.txt "$PLUGIN:add_ten" -T 2 -c 50 huge.txt
expect 1 want_mixed.txt "$PLUGIN:add_ten" -T 2 mixed.txt
grep -q '^eventor: line 2: Invalid argument$' err || fail "-T: no error line for line 2: $(cat err)"

# A slow stream: the result of a line comes out while the input is still
# open (the reader waits apart from the results, and stdout is flushed).
mkfifo in.fifo out.fifo
"$E" --plugin "$PLUGIN:add_ten" <in.fifo >out.fifo 2>err &
pid=$!
exec 3>in.fifo 4<out.fifo
echo 1 >&3
first=$(timeout 10 head -n 1 <&4)
[ "$first" = 11 ] || fail "stream: no result for line 1 while input is open (got '$first')"
echo 2 >&3
exec 3>&-
rest=$(timeout 10 cat <&4)
exec 4<&-
[ "$rest" = 12 ] || fail "stream: got '$rest' after line 2"
wait $pid || fail "stream: exit $?"

# Bad input: exit 255, one line on stderr naming it, nothing on stdout.
: >empty
bad() {
    "$E" "$@" >out 2>err </dev/null
    rc=$?
    [ "$rc" = 255 ] || fail "exit $rc, not 255, for: $*"
    [ -s out ] && fail "stdout written for: $*"
    [ "$(wc -l <err)" = 1 ] || fail "not one error line for: $*: $(cat err)"
}
bad --plugin
bad --plugin "$PLUGIN"
bad --plugin "$PLUGIN:"
bad --plugin "$PLUGIN:no_such_function" data.txt
bad --plugin ./missing.so:f data.txt
bad --plugin "$PLUGIN:add_ten" missing.txt
bad --plugin "$PLUGIN:add_ten" -c 0 data.txt
bad --plugin "$PLUGIN:add_ten" -P x data.txt
bad --plugin "$PLUGIN:add_ten" -T 1025 data.txt
bad --plugin "$PLUGIN:add_ten" -T 2 -P 2 data.txt
bad --plugin "$PLUGIN:add_ten" --unit -1 data.txt
bad --plugin "$PLUGIN:add_ten" --interval abc data.txt
bad --plugin "$PLUGIN:add_ten" --timeout data.txt
bad --plugin "$PLUGIN:add_ten" --frobnicate data.txt
bad --plugin "$PLUGIN:add_ten" data.txt data.txt

[ "$fails" = 0 ] && echo "plugin: all passed" && exit 0
echo "plugin: $fails failed"
exit 1
