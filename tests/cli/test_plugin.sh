#!/bin/sh
# Tests of eventor --plugin: the seed's run_with_file through the example
# plugin (build/examples/add_ten.so), in process, on worker processes and
# on threads, units with pauses, a failing line, and bad input: one line,
# exit 255.
# Usage: tests/cli/test_plugin.sh PATH/TO/eventor
. "$(dirname "$0")/../lib/shell_test.sh"
PLUGIN=$(dirname "$E")/examples/add_ten.so

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

# Each item below on every worker shape: in process, -T 2, -P 2.
SHAPES="none -T2 -P2"
shape_args() {
    case $1 in none) ;; -T2) echo "-T 2" ;; -P2) echo "-P 2" ;; esac
}
EX=$(dirname "$E")/examples

# --max-result: a 100 KB result comes whole from a file (split by byte
# ranges on workers) and from stdin (line by line); over the cap, the line
# fails with an error naming it and the cap, the others go on.
printf '10\n100000\n5\n' >sizes.txt
printf '10\n5\n' >want_small.txt
for i in $(seq 60); do printf '100000\n7\n'; done >long.txt
for s in $SHAPES; do
    a=$(shape_args "$s")
    for src in sizes.txt -; do
        # shellcheck disable=SC2086 # a is words
        "$E" --plugin "$EX/repeat.so:repeat" $a --max-result 100K "$src" \
            <sizes.txt >out 2>err
        rc=$?
        [ "$rc" = 0 ] || fail "$s $src: --max-result 100K: exit $rc: $(cat err)"
        awk '{print length}' out | cmp -s sizes.txt - ||
            fail "$s $src: results are not 10, 100000 and 5 bytes long"
        [ "$(tr -d 'x\n' <out | wc -c)" = 0 ] || fail "$s $src: results are not all x"
    done
    # Many of them: a byte range's spool grows as long results come.
    # shellcheck disable=SC2086
    "$E" --plugin "$EX/repeat.so:repeat" $a --max-result 100K long.txt >out 2>err
    awk '{print length}' out | cmp -s long.txt - || fail "$s: 60 results of 100 KB: $(head -2 err)"
    # shellcheck disable=SC2086
    "$E" --plugin "$EX/repeat.so:repeat" $a sizes.txt >out 2>err
    rc=$?
    [ "$rc" = 1 ] || fail "$s: a result over the default cap: exit $rc, not 1"
    awk '{print length}' out | cmp -s want_small.txt - || fail "$s: other lines lost"
    grep -q '^eventor: line 2: result longer than --max-result (4096 bytes): raise it' err ||
        fail "$s: no clear error for line 2: $(cat err)"
    # shellcheck disable=SC2086
    "$E" --plugin "$EX/repeat.so:repeat" $a --max-result 99999 - <sizes.txt >out 2>err
    rc=$?
    [ "$rc" = 1 ] || fail "$s: a result over --max-result 99999: exit $rc, not 1"
    [ "$(cat err)" = "eventor: line 2: result longer than --max-result (99999 bytes)" ] ||
        fail "$s: not the error for --max-result 99999: $(cat err)"
done

# Alignment: --align writes an empty line for a failed line (output line N
# is input line N's), --line-number and --tag put the line's number or the
# line itself and a TAB before each result; errors still go to stderr.
printf '11\n\n13\n' >want_align.txt
printf '1\t11\n3\t13\n' >want_number.txt
printf '1\t1\t11\n2\tnot a number\t\n3\t3\t13\n' >want_both.txt
printf 'a\n\nb\n' >want_crash.txt
printf 'a\nsegv\nb\n' >crash.txt
for s in $SHAPES; do
    a=$(shape_args "$s")
    # shellcheck disable=SC2086
    expect 1 want_align.txt "$PLUGIN:add_ten" $a --align mixed.txt
    grep -q '^eventor: line 2: Invalid argument$' err || fail "$s --align: no error line"
    # shellcheck disable=SC2086
    expect 1 want_number.txt "$PLUGIN:add_ten" $a --line-number mixed.txt
    # shellcheck disable=SC2086
    expect 1 want_both.txt "$PLUGIN:add_ten" $a --line-number --tag --align - <mixed.txt
done
# A line that kills its worker keeps its place too.
expect 1 want_crash.txt "$EX/crash_on.so:crash_on" -P 2 --align crash.txt
grep -q '^eventor: line 2: ' err || fail "crash --align: no error line: $(cat err)"

# --retries N: N tries in all, as in the job runner (GNU parallel); 0:
# until it succeeds. Line K of flaky fails its first K tries and then
# prints the try that worked.
printf '0\n2\n3\n' >tries.txt
printf '1\n' >want_1try.txt
printf '1\n3\n' >want_3tries.txt
printf '1\n3\n4\n' >want_all.txt
for s in $SHAPES; do
    a=$(shape_args "$s")
    # shellcheck disable=SC2086
    expect 2 want_1try.txt "$EX/flaky.so:flaky" $a tries.txt
    # shellcheck disable=SC2086
    expect 2 want_1try.txt "$EX/flaky.so:flaky" $a --retries 1 tries.txt
    # shellcheck disable=SC2086
    expect 1 want_3tries.txt "$EX/flaky.so:flaky" $a --retries 3 tries.txt
    grep -q '^eventor: line 3: Resource temporarily unavailable$' err ||
        fail "$s --retries 3: line 3 not failed after 3 tries: $(cat err)"
    # shellcheck disable=SC2086
    expect 0 want_all.txt "$EX/flaky.so:flaky" $a --retries 4 - <tries.txt
    # shellcheck disable=SC2086
    expect 0 want_all.txt "$EX/flaky.so:flaky" $a --retries 0 tries.txt
done

# --bar on a regular file: percent and ETA by bytes (a line a second off a
# terminal: the last line takes 2 s so that one is drawn before the end,
# when in process all the others are done); on a pipe, a counter only.
# The four runs go side by side.
{ seq 1 2000 | sed 's/.*/1/'; echo 2000; } >slow.txt
for s in $SHAPES pipe; do
    if [ "$s" = pipe ]; then
        cat slow.txt | "$E" --plugin "$EX/sleep_ms.so:sleep_ms" -c 50 --bar \
            >"bar_$s.out" 2>"bar_$s.err" &
    else
        # shellcheck disable=SC2046
        "$E" --plugin "$EX/sleep_ms.so:sleep_ms" -c 50 $(shape_args "$s") --bar \
            slow.txt >"bar_$s.out" 2>"bar_$s.err" &
    fi
done
wait
for s in $SHAPES pipe; do
    cmp -s slow.txt "bar_$s.out" || fail "--bar $s: results differ"
    grep -q '^2001 items: 2001 ok' "bar_$s.err" || fail "--bar $s: no final line: $(cat "bar_$s.err")"
    if [ "$s" = pipe ]; then
        grep -q '^[0-9]* done: ok ' "bar_$s.err" || fail "--bar pipe: no counter: $(cat "bar_$s.err")"
        grep -q '%' "bar_$s.err" && fail "--bar pipe: a percent without a total"
    else
        grep -Eq '^\[[#.]{32}\] +[0-9]+% [0-9.]+[BK]/[0-9.]+K [0-9]+ done ok .* ETA ' "bar_$s.err" ||
            fail "--bar $s: no percent of bytes with an ETA: $(cat "bar_$s.err")"
    fi
    if [ "$s" = none ]; then
        grep -Eq '\] +[1-9][0-9]% .* ETA [0-9]+s' "bar_$s.err" ||
            fail "--bar: no percent of the lines done: $(cat "bar_$s.err")"
    fi
done

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
bad --plugin "$PLUGIN:add_ten" --max-result 0 data.txt
bad --plugin "$PLUGIN:add_ten" --max-result 5X data.txt
bad --plugin "$PLUGIN:add_ten" --max-result 8G data.txt
bad --plugin "$PLUGIN:add_ten" --max-result data.txt
bad --plugin "$PLUGIN:add_ten" --retries -1 data.txt

[ "$fails" = 0 ] && echo "plugin: all passed" && exit 0
echo "plugin: $fails failed"
exit 1
