#!/bin/sh
# The faults a real batch meets, against the eventor command: outputs that
# cannot be written (/dev/full, and a small tmpfs the test mounts when it
# may: stdout, --tmpdir, the joblog filling mid-run, plugin stdout), low
# `ulimit -n` / `ulimit -u` in a child shell, kill -9 of eventor while
# jobs' own children run, lines that crash their plugin and workers killed
# from outside in -P mode, NUL bytes in the input, `--`. Every wait is on an
# event (a fifo) or a poll of /proc against a deadline, never a sleep.
# Usage: tests/cli/test_faults.sh PATH/TO/eventor
. "$(dirname "$0")/../lib/shell_test.sh"
PLUGIN=$(dirname "$E")/examples/add_ten.so
MNT=$T/full
mounted=0
cleanup() {
    [ $mounted = 1 ] && umount "$MNT" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
n=0

# --- /dev/full: every output that fails is an error -------------------
n=$((n + 1))
"$E" --joblog full.log echo ::: a b c >/dev/full 2>err
rc=$?
[ $rc = 255 ] || fail "stdout on /dev/full: exit $rc, not 255"
grep -q '^eventor: Error: cannot write to standard output: No space left on device$' err ||
    { fail "stdout on /dev/full: no message"; cat err; }
[ "$(wc -l <full.log)" = 1 ] || { fail "stdout on /dev/full: jobs logged"; cat full.log; }
n=$((n + 1))
"$E" --dry-run echo ::: a >/dev/full 2>err
[ $? = 255 ] || fail "--dry-run on /dev/full: not exit 255"
n=$((n + 1))
"$E" 'echo {} >&2' ::: a 2>/dev/full
[ $? = 255 ] || fail "stderr on /dev/full: not exit 255"
n=$((n + 1))
seq 1000 >lines.txt
"$E" --plugin "$PLUGIN:add_ten" lines.txt >/dev/full 2>err
rc=$?
[ $rc = 255 ] || fail "plugin stdout on /dev/full: exit $rc"
grep -q 'cannot write to standard output: No space left on device' err ||
    fail "plugin stdout on /dev/full: no message"

# --- a small tmpfs, when the test may mount one -------------------------
mkdir "$MNT"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=1m tmpfs "$MNT" 2>/dev/null; then
    mounted=1
else
    echo "SKIP: full-disk cases on a tmpfs (needs root and mount; got uid $(id -u))"
fi
remount() {
    # (a worker of the last run may still hold a file there for a moment:
    # poll for the unmount, against a deadline)
    deadline=$(($(date +%s) + 20))
    until umount "$MNT" 2>/dev/null; do
        [ "$(date +%s)" -lt $deadline ] || { umount "$MNT"; return 1; }
        sleep 0.05
    done
    mount -t tmpfs -o size=1m tmpfs "$MNT"
}

# the seqs in joblog $1 (sorted)
logged() {
    tail -n +2 "$1" | cut -f1 | sort -n | tr '\n' ' '
}

if [ $mounted = 1 ]; then
    # stdout fills: the jobs logged are exactly those printed whole, and
    # --resume prints the others, none twice
    n=$((n + 1))
    head -c 100000 /dev/zero | tr '\0' x >blob100k
    "$E" -j4 --joblog J 'cat blob100k; echo; echo end{}' ::: $(seq 30) >"$MNT/out" 2>err
    rc=$?
    [ $rc = 255 ] || fail "full stdout: exit $rc, not 255"
    grep -q 'cannot write to standard output: No space left on device' err || fail "full stdout: no message"
    printed=$(grep '^end' "$MNT/out" | sed 's/end//' | sort -n | tr '\n' ' ')
    [ "$(logged J)" = "$printed" ] || fail "full stdout: logged [$(logged J)] but printed whole [$printed]"
    [ "$(grep -c '^end' "$MNT/out")" -lt 30 ] || fail "full stdout: the disk did not fill"
    "$E" -j4 --joblog J --resume 'cat blob100k; echo; echo end{}' ::: $(seq 30) >out2 2>err2
    rc=$?
    [ $rc = 0 ] || { fail "full stdout, --resume: exit $rc"; cat err2; }
    all=$(cat "$MNT/out" out2 | grep '^end' | sed 's/end//' | sort -n | tr '\n' ' ')
    [ "$all" = "$(seq 30 | tr '\n' ' ')" ] || fail "full stdout + resume: outputs $all"

    # --tmpdir fills (job 3 alone writes more than it holds): GNU
    # parallel's message, no incomplete job printed nor logged
    remount
    n=$((n + 1))
    big='if [ {} = 3 ]; then head -c 1200000 /dev/zero | tr "\0" y; echo; fi; echo end{}'
    "$E" -j4 --tmpdir "$MNT" --joblog J2 "$big" ::: 1 2 3 4 5 6 7 8 >out3 2>err
    rc=$?
    [ $rc = 255 ] || fail "full --tmpdir: exit $rc, not 255"
    [ "$(grep -c 'Output is incomplete. Cannot append to buffer file in '"$MNT"'.*Is the disk full?' err)" = 1 ] ||
        { fail "full --tmpdir: no message"; cat err; }
    printed=$(grep '^end' out3 | sed 's/end//' | sort -n | tr '\n' ' ')
    [ "$(logged J2)" = "$printed" ] || fail "full --tmpdir: logged [$(logged J2)], printed [$printed]"
    grep -q '^end3$' out3 && fail "full --tmpdir: the incomplete job was printed"
    "$E" -j4 --joblog J2 --resume "$big" ::: 1 2 3 4 5 6 7 8 >>out3 2>/dev/null
    [ "$(grep '^end' out3 | sort | tr '\n' ' ')" = "end1 end2 end3 end4 end5 end6 end7 end8 " ] ||
        fail "full --tmpdir + resume: $(grep '^end' out3 | tr '\n' ' ')"
    [ "$(awk 'length($0) == 1200000' out3 | wc -l)" = 1 ] || fail "full --tmpdir + resume: job 3's output"

    # the joblog's disk fills mid-run: what is printed is what is logged,
    # and --resume runs exactly the rest
    remount
    n=$((n + 1))
    head -c 990000 /dev/zero >"$MNT/filler"
    "$E" -j8 --joblog "$MNT/log" 'echo {}' ::: $(seq 3000) >out4 2>err
    rc=$?
    [ $rc = 255 ] || fail "full joblog: exit $rc, not 255"
    grep -q "cannot write joblog $MNT/log: No space left on device" err || { fail "full joblog: no message"; cat err; }
    [ "$(logged "$MNT/log")" = "$(sort -n out4 | tr '\n' ' ')" ] || fail "full joblog: printed and logged differ"
    [ "$(wc -l <out4)" -lt 3000 ] || fail "full joblog: the disk did not fill"
    rm "$MNT/filler"
    "$E" -j8 --joblog "$MNT/log" --resume 'echo {}' ::: $(seq 3000) >>out4 2>err
    rc=$?
    [ $rc = 0 ] || fail "full joblog, --resume: exit $rc"
    [ "$(sort -n out4 | tr '\n' ' ')" = "$(seq 3000 | tr '\n' ' ')" ] || fail "full joblog + resume: jobs lost or run twice"

    # plugin stdout fills, in each shape: one error, exit 255 (a filler
    # leaves about 100 KB: a few chunks of results)
    seq 40000 >big.txt
    for shape in "" "-T 2" "-P 2"; do
        remount
        head -c 950000 /dev/zero >"$MNT/filler"
        n=$((n + 1))
        # shellcheck disable=SC2086
        "$E" --plugin "$PLUGIN:add_ten" $shape big.txt >"$MNT/pout" 2>err
        rc=$?
        [ $rc = 255 ] || fail "plugin $shape, full stdout: exit $rc"
        [ "$(grep -c 'cannot write to standard output' err)" = 1 ] || { fail "plugin $shape, full stdout: message"; cat err; }
    done

    # -P / -T with $TMPDIR on the full tmpfs: the spools' space is reserved
    # before it is written (a shared mapping of a full tmpfs is a SIGBUS):
    # the first line whose result finds no room stops the run with one
    # message naming the directory, exit 255; what is printed is exact.
    seq 1000000 >many.txt
    for shape in "-P 2" "-T 2"; do
        remount
        n=$((n + 1))
        # shellcheck disable=SC2086
        TMPDIR=$MNT "$E" --plugin "$PLUGIN:add_ten" $shape many.txt >pout 2>err
        rc=$?
        [ $rc = 255 ] || fail "plugin $shape, full \$TMPDIR: exit $rc"
        [ "$(wc -l <err)" = 1 ] && grep -q "^eventor: Error: line [0-9]*: no space left on device for the results spooled in $MNT (\$TMPDIR)" err ||
            { fail "plugin $shape, full \$TMPDIR: not one message naming it"; head -3 err; }
        [ "$(wc -l <pout)" -gt 0 ] && [ "$(wc -l <pout)" -lt 1000000 ] || fail "plugin $shape, full \$TMPDIR: $(wc -l <pout) lines out"
        seq 11 $(($(wc -l <pout) + 10)) | cmp -s - pout || fail "plugin $shape, full \$TMPDIR: the lines printed are not the first ones"
        [ -z "$(ls "$MNT")" ] || fail "plugin $shape, full \$TMPDIR: left $(ls "$MNT")"
    done
    # a $TMPDIR with no byte free: the first chunk's spool finds no room
    # (its unreserved rest was read by the parent: a SIGBUS)
    for shape in "-P 2" "-T 2"; do
        remount
        head -c 1048576 /dev/zero >"$MNT/filler" 2>/dev/null
        n=$((n + 1))
        # shellcheck disable=SC2086
        TMPDIR=$MNT "$E" --plugin "$PLUGIN:add_ten" $shape many.txt >pout 2>err
        rc=$?
        [ $rc = 255 ] || { fail "plugin $shape, \$TMPDIR with 0 bytes free: exit $rc"; head -3 err; }
        grep -q "^eventor: Error: line 1: no space left on device for the results spooled in $MNT" err ||
            fail "plugin $shape, \$TMPDIR with 0 bytes free: no message"
    done
fi

# --- low limits: the slots are capped, every job runs ------------------
for j in 200 0 10000; do
    n=$((n + 1))
    (ulimit -n 64 && seq 2000 | "$E" -j $j 'echo {}' >lim.out 2>lim.err)
    rc=$?
    [ $rc = 0 ] || { fail "ulimit -n 64, -j $j: exit $rc"; head -3 lim.err; }
    [ "$(sort -n lim.out | uniq | wc -l)" = 2000 ] || fail "ulimit -n 64, -j $j: $(sort -u lim.out | wc -l) of 2000 jobs"
    grep -q '^eventor: Warning: Only enough file handles to run [0-9]* jobs in parallel.$' lim.err ||
        fail "ulimit -n 64, -j $j: no warning"
done
n=$((n + 1))
(ulimit -n 64 && seq 500 | "$E" -k -j 0 'echo {}' >lim.out 2>/dev/null)
[ "$(cat lim.out | tr '\n' ' ')" = "$(seq 500 | tr '\n' ' ')" ] || fail "ulimit -n 64 -k -j 0: output"
# too few fds for eventor itself: one clear error, no abort
n=$((n + 1))
seq 3 >three.txt
(ulimit -n 12 && exec "$E" -j 0 -a three.txt 'echo {}') >lim.out 2>lim.err
rc=$?
[ $rc = 255 ] || fail "ulimit -n 12: exit $rc, not 255"
grep -q "^eventor: Error: only 12 file handles (ulimit -n); eventor needs at least" lim.err ||
    { fail "ulimit -n 12: no message"; cat lim.err; }
# --plugin's -P/-T are capped as -j is
seq 3000 >lim.txt
for shape in "-P 64" "-T 64"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    (ulimit -n 40 && "$E" --plugin "$PLUGIN:add_ten" $shape lim.txt >lim.out 2>lim.err)
    rc=$?
    [ $rc = 0 ] || { fail "ulimit -n 40, plugin $shape: exit $rc"; head -3 lim.err; }
    [ "$(wc -l <lim.out)" = 3000 ] || fail "ulimit -n 40, plugin $shape: $(wc -l <lim.out) of 3000 lines"
    grep -q '^eventor: Warning: Only enough file handles to run [0-9]* \(workers (-P)\|threads (-T)\) in parallel.$' lim.err ||
        fail "ulimit -n 40, plugin $shape: no warning"
done
# RLIMIT_NPROC binds only a user other than root
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && command -v bash >/dev/null; then
    n=$((n + 1))
    chmod 777 "$T"
    setpriv --reuid=65534 --regid=65534 --clear-groups bash -c \
        "ulimit -u 30 && seq 200 | '$E' -j 50 'echo {}' >'$T/np.out' 2>'$T/np.err'"
    rc=$?
    [ $rc = 0 ] || { fail "ulimit -u 30 -j 50: exit $rc"; head -3 np.err; }
    [ "$(sort -n np.out | uniq | wc -l)" = 200 ] || fail "ulimit -u 30 -j 50: $(sort -u np.out | wc -l) of 200"
    grep -q 'Only enough available processes to run' np.err || fail "ulimit -u 30: no warning"
    n=$((n + 1))
    chmod 644 lim.txt
    setpriv --reuid=65534 --regid=65534 --clear-groups bash -c \
        "ulimit -u 30 && '$E' --plugin '$PLUGIN:add_ten' -P 50 '$T/lim.txt' >'$T/np.out' 2>'$T/np.err'"
    rc=$?
    [ $rc = 0 ] || { fail "ulimit -u 30 plugin -P 50: exit $rc"; head -3 np.err; }
    [ "$(wc -l <np.out)" = 3000 ] || fail "ulimit -u 30 plugin -P 50: $(wc -l <np.out) of 3000"
    grep -q 'Only enough available processes to run [0-9]* workers' np.err || fail "ulimit -u 30 plugin: no warning"
else
    echo "SKIP: ulimit -u (needs root to become another user, and setpriv)"
fi

# --- kill -9 of eventor: the jobs' own children die with it ------------
# Each job starts a child that would outlive it (a subshell sleeping, then
# writing a marker), says so through the fifo, and waits. The test kills
# eventor -9 and waits for each child's death, polling /proc to a deadline.
n=$((n + 1))
mkfifo ready
exec 3<>ready
"$E" -j4 'sh -c "(sleep 100; echo survived >>markers) & echo \$! >pid.{}; echo up >ready; wait"' ::: 1 2 3 4 >/dev/null 2>&1 &
epid=$!
for i in 1 2 3 4; do read x <&3; done
kill -9 $epid
wait $epid 2>/dev/null
alive() { # PID: running (not gone, not a zombie)
    [ -r /proc/$1/stat ] && [ "$(cut -d' ' -f3 /proc/$1/stat 2>/dev/null)" != Z ]
}
deadline=$(($(date +%s) + 10))
for f in pid.1 pid.2 pid.3 pid.4; do
    p=$(cat $f)
    while alive "$p" && [ "$(date +%s)" -lt $deadline ]; do
        sleep 0.01 # a poll of /proc, not a wait for something to happen
    done
    if alive "$p"; then
        fail "kill -9: grandchild $p of job $f survives"
        kill -9 -- -"$(cut -d' ' -f5 /proc/$p/stat)" "$p" 2>/dev/null
    fi
done
exec 3>&-
[ -e markers ] && fail "kill -9: a grandchild wrote its marker"

# --- -P / -T file mode leaves no spool directory in $TMPDIR ------------
# | head ends the run early (it cleans up); kill -9 leaves one, which the
# next run sweeps (its lock is free).
mkdir sp
seq 100000 >sp_small.txt
seq 2000000 >sp.txt
for shape in "-P 2" "-T 2"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    TMPDIR=$T/sp "$E" --plugin "$PLUGIN:add_ten" $shape sp_small.txt | head -1 >/dev/null
    [ -z "$(ls sp)" ] || fail "plugin $shape | head: left $(ls sp)"
done
n=$((n + 1))
TMPDIR=$T/sp "$E" --plugin "$PLUGIN:add_ten" -P 2 sp.txt >/dev/null &
epid=$!
deadline=$(($(date +%s) + 20))
while [ -z "$(ls sp)" ] && [ "$(date +%s)" -lt $deadline ]; do
    sleep 0.01 # a poll for the directory, against a deadline
done
kill -9 $epid
wait $epid 2>/dev/null
[ -n "$(ls sp)" ] || echo "note: the run ended before kill -9; nothing to sweep"
TMPDIR=$T/sp "$E" --plugin "$PLUGIN:add_ten" -P 2 lines.txt >/dev/null
[ -z "$(ls sp)" ] || fail "kill -9 in -P mode: the next run left $(ls sp)"

# --- one bad line costs one line ----------------------------------------
# 200k lines of which 8 crash their worker (SIGSEGV or abort), at -c 100
# (a hundred lines in flight on each worker when one crashes): those 8 fail
# with the signal, each reported once with its number; every other line
# comes back once, in order, and ran exactly once (the once plugin appends
# a line's number to $ONCE_LOG just before it returns), with or without
# --retries (1: one try, 3: three in all), and when the lines finish out of
# order (ONCE_SLEEP_MS: each sleeps 0-5 ms first). In process and on -T, a
# crash kills eventor: it names the line, wherever in the file it is.
ONCE=$(dirname "$E")/examples/once.so
seq 200000 | awk 'NR==6||NR==30001||NR==70001||NR==100000||NR==150001||NR==160001||NR==199991{print (NR%2?"segv":"abort");next} NR==30002{print "abort";next}{print}' >bad.txt
grep -v 'segv\|abort' bad.txt >bad.want
grep -vn 'segv\|abort' bad.txt | cut -d: -f1 >bad.ran
for run in "1 0" "3 0" "1 5"; do
    set -- $run
    what="-P 2 -c 100 --retries $1, sleeps of 0-$2 ms"
    n=$((n + 1))
    rm -f ran.log
    ONCE_LOG=$T/ran.log ONCE_SLEEP_MS=$2 "$E" --plugin "$ONCE:once" -P 2 -c 100 --retries $1 bad.txt >bad.out 2>bad.err
    rc=$?
    [ $rc = 8 ] || fail "$what, 8 crashing lines: exit $rc"
    cmp -s bad.out bad.want || fail "$what: good lines lost or out of order ($(wc -l <bad.out) of 199992)"
    [ "$(grep -c 'worker killed by signal' bad.err)" = 8 ] && [ "$(wc -l <bad.err)" = 8 ] ||
        { fail "$what: not 8 failures, each said once"; head bad.err; }
    grep -q '^eventor: line 30001: worker killed by signal 11 (SIGSEGV)$' bad.err || fail "$what: line 30001's signal"
    grep -q '^eventor: line 30002: worker killed by signal 6 (SIGABRT)$' bad.err || fail "$what: line 30002's signal"
    sort -n ran.log | cmp -s - bad.ran ||
        fail "$what: $(sort -n ran.log | uniq -d | wc -l) good lines ran twice, $(sort -n ran.log | uniq | wc -l) of 199992 ran"
done
for shape in "" "-T 2"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    "$E" --plugin "$ONCE:once" $shape bad.txt >/dev/null 2>bad.err
    rc=$?
    [ $rc = 134 ] || fail "crash in process ($shape): exit $rc, not 134"
    grep -q '^eventor: item 6 crashed (signal 6)$' bad.err || { fail "crash in process ($shape): line not named"; cat bad.err; }
    seq 200000 | sed '30002s/.*/abort/' >late.txt
    "$E" --plugin "$ONCE:once" $shape late.txt >/dev/null 2>bad.err
    grep -q '^eventor: item 30002 crashed (signal 6)$' bad.err || { fail "crash in process ($shape), line 30002: not named"; cat bad.err; }
done
# Workers SIGKILLed from outside, 0.1 s apart (the workers are the fork
# server's children, eventor's grandchildren): no line lost, without
# --retries, and no line that had finished runs again. A line in flight at
# a kill runs again: one that sleeps had not made its side effect yet, so
# only the line between its side effect and its record (at most one a
# kill: a worker runs its coroutines one at a time) may make it twice.
seq 20000 >slow.txt
n=$((n + 1))
rm -f ran.log
ONCE_LOG=$T/ran.log ONCE_SLEEP_MS=10 "$E" --plugin "$ONCE:once" -P 2 -c 25 slow.txt >slow.out 2>slow.err &
epid=$!
kills=0
deadline=$(($(date +%s) + 20))
while [ $kills -lt 4 ] && [ "$(date +%s)" -lt $deadline ] && kill -0 $epid 2>/dev/null; do
    for fs in $(ps -o pid= --ppid $epid); do
        w=$(ps -o pid= --ppid "$fs" | head -1)
        [ -n "$w" ] && kill -9 $w 2>/dev/null && kills=$((kills + 1)) && sleep 0.1 # (the pace of the faults)
    done
done
wait $epid
rc=$?
twice=$(sort -n ran.log | uniq -d | wc -l)
[ $kills -ge 1 ] || fail "no worker was killed"
[ $rc = 0 ] || { fail "$kills workers killed: exit $rc"; head -3 slow.err; }
cmp -s slow.out slow.txt || fail "$kills workers killed: $(wc -l <slow.out) of 20000 lines back, or out of order"
[ "$(sort -n ran.log | uniq | wc -l)" = 20000 ] || fail "$kills workers killed: lines never ran"
[ "$twice" -le $kills ] || fail "$kills workers killed: $twice finished lines ran again"
echo "note: $kills workers SIGKILLed, $(wc -l <slow.out) of 20000 lines back, $twice ran twice (at most $kills may)"

# --- NUL in the input, and -- ------------------------------------------
n=$((n + 1))
printf 'a\0b\nc\n' | "$E" -k echo >nul.out 2>nul.err
[ "$(cat nul.out)" = 'a\0b
c' ] || fail "NUL in input: $(cat nul.out)"
grep -q '^eventor: Warning: A NUL character in the input was replaced with \\0.$' nul.err || fail "NUL: no warning"
n=$((n + 1))
[ "$("$E" -k -- echo -j ::: x 2>&1)" = "-j x" ] || fail "-- does not end the options"

# --- inputs the fuzzer found (tests/fuzz) ---------------------------------
n=$((n + 1))
out=$("$E" -r echo ::: ::: a 2>&1)
[ $? = 0 ] && [ "$out" = " a" ] || fail "-r with an empty ::: list: $out"
n=$((n + 1))
out=$("$E" -0 -k echo ::: a b 2>&1)
[ $? = 0 ] && [ "$out" = "a
b" ] || fail "-0 with a ::: list: $out"

echo "$n checks, $fails failed"
[ $fails = 0 ]
