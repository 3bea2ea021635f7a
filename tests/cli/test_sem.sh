#!/bin/sh
# eventor --semaphore (eventor sem, or the binary named sem) against GNU
# parallel's sem: the same output and exit status for the same sequences
# of calls; then what GNU's files cannot show: a holder killed with -9
# frees its slot, -j N lets N in and no more, --semaphore-timeout.
# Waits on fifos, never on sleeps.
# Usage: tests/cli/test_sem.sh PATH/TO/eventor
. "$(dirname "$0")/lib/parallel_diff.sh"
HOME=$T/home
export HOME
mkdir -p "$HOME"
unset PARALLEL PARALLEL_HOME XDG_CACHE_HOME
ln -s "$E" "$T/sem"

# calls TOOL ID RC: calls of the semaphore; their exit statuses into RC
# (a background job may print before its caller's next line)
calls() {
    t=$1 id=$2 rc=$3
    : >"$rc"
    $t --id "$id" -j1 'echo A; echo A2 >&2'; echo "rc $?" >>"$rc"
    $t --id "$id" -j1 'echo B; exit 3'; echo "rc $?" >>"$rc"
    $t --id "$id" 'echo C'; echo "rc $?" >>"$rc"
    $t --id "$id" --wait; echo "rc $?" >>"$rc"
    echo waited
    $t --id "$id" --fg 'exit 4'; echo "rc $?" >>"$rc"
    $t --id "$id" --fg -j 3 echo 'a  b' "c"; echo "rc $?" >>"$rc"
    $t --id "$id" --fg 'echo $BASH_VERSION' | wc -l
    $t --id "$id" --wait; echo "rc $?" >>"$rc"
}
calls "sem --will-cite" gnu p.rc >p.out 2>p.err
calls "$E sem" ev e1.rc >e1.out 2>e1.err
calls "$E --semaphore" ev2 e2.rc >e2.out 2>e2.err
calls "$T/sem" ev3 e3.rc >e3.out 2>e3.err
for k in 1 2 3; do
    n=$((n + 3))
    cmp -s p.out e$k.out || { fail "sem calls ($k) differ"; diff p.out e$k.out; }
    cmp -s p.rc e$k.rc || { fail "sem exit statuses ($k) differ"; diff p.rc e$k.rc; }
    cmp -s p.err e$k.err || { fail "sem stderr ($k) differs"; diff p.err e$k.err; }
done

# a holder killed with -9: its slot is free again at once
mkfifo held
"$E" sem --fg --id k 'echo $$ >held; exec sleep 60' &
holder=$!
read job <held
kill -9 $holder
wait $holder 2>/dev/null
n=$((n + 1))
out=$(timeout 20 "$E" sem --fg --id k echo free)
[ "$out" = free ] || fail "a slot held by a killed holder stayed taken"
kill "$job" 2>/dev/null

# -j 2: two in, the third waits for one to leave
mkfifo in1 in2 go1 go2
"$E" sem --id j -j2 'echo 1 >in1; read x <go1' &
"$E" sem --id j -j2 'echo 2 >in2; read x <go2' &
read x <in1
read x <in2
n=$((n + 1))
timeout 30 "$E" sem --fg --id j -j2 --st -0.3 echo third >third.out 2>third.err
rc=$?
[ $rc = 1 ] || fail "--st -0.3 with -j2 both held: exit $rc, not 1"
grep -q "Semaphore timed out. Exiting." third.err || fail "--st -0.3: $(cat third.err)"
[ -s third.out ] && fail "a third holder got in beside two with -j2"
n=$((n + 1))
"$E" sem --fg --id j -j2 --st 0.2 echo stolen >st.out 2>st.err
grep -q "Stealing" st.err && [ "$(cat st.out)" = stolen ] || fail "--st 0.2 did not steal"
echo go >go1
n=$((n + 1))
out=$(timeout 20 "$E" sem --fg --id j -j2 echo after)
[ "$out" = after ] || fail "a slot left free by its holder was not taken: $out"
echo go >go2
n=$((n + 1))
timeout 20 "$E" sem --id j --wait || fail "--wait did not see the holders go"
wait

# refused: input sources, --pipe, no command
for bad in 'echo ::: a' '--pipe cat' '--joblog x echo' ''; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    "$E" --semaphore --fg $bad >bad.out 2>bad.err </dev/null
    rc=$?
    [ $rc = 255 ] && [ "$(wc -l <bad.err)" = 1 ] && [ ! -s bad.out ] ||
        fail "--semaphore $bad: exit $rc, $(cat bad.err)"
done

settle
echo "$n checks, $fails failed"
[ $fails = 0 ]
