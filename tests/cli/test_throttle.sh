#!/bin/sh
# --limit "command args" and --memsuspend SIZE: against GNU parallel where
# it can be made to do the same (the limit command's 0, 1 and 2, its
# built-ins, a command that does not exist); --memsuspend with the free
# memory the test sets (EVENTOR_TEST_MEMINFO, a stand-in /proc/meminfo),
# the jobs' stopped state read from /proc; each step waits on files.
# Usage: tests/cli/test_throttle.sh PATH/TO/eventor
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/wait_for.sh"
. "$(dirname "$0")/lib/parallel_diff.sh"

# check K INPUT ARGS...: stdout, exit status and the joblog (jl, without
# its timing columns) of both tools, each in a directory of its own
check() {
    k=$1 in=${2:-/dev/null}
    shift 2
    mkdir -p p$k e$k
    (cd p$k && $P "$@" <"$in" >../p$k.out 2>../p$k.err); prc=$?
    (cd e$k && "$E" "$@" <"$in" >../e$k.out 2>../e$k.err); erc=$?
    compared $k $prc $erc "$@" >log$k 2>&1
    rm -rf p$k p$k.* e$k e$k.*
}

# state PID: the process's state letter (T: stopped), or - when it is gone
state() {
    s=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || s=-
    echo "${s:--}"
}

# --- --limit: the built-ins, a command's 0 ---
same -k --joblog jl --limit "load 100" echo ::: a b c
same -k --joblog jl --limit "mem 1k" echo ::: a b c
same -k --joblog jl --limit "mem 1K" -j2 echo ::: a b c
same -k --joblog jl --limit 'exit 0' 'echo {}; exit {}' ::: 0 1 0
seq 1 7 >"$T/in7"
same_in "$T/in7" -k --pipe -N3 --limit 'true' wc -l
settle

# held NAME COND ARGS...: $tool with ARGS holds its jobs back (COND comes
# true as it waits) until a SIGTERM ends it: NAME.out, what it wrote and
# its exit status
held() {
    name=$1 cond=$2
    shift 2
    $tool "$@" >"$name.out" 2>"$name.err" &
    pid=$!
    n=$((n + 1))
    wait_for "$cond" || fail "$t: $name: $cond never came"
    kill -TERM $pid
    wait $pid
    echo "rc=$?" >>"$name.out"
}

for t in P E; do
    eval "tool=\$$t"
    mkdir $t && cd $t || exit 1
    # --- 1: no job starts until the command says 0 (file go exists) ---
    $tool -k --joblog jl --limit 'echo . >>asked; test -e go' 'touch ran{}; echo {}' ::: a b c \
        >go.out 2>go.err &
    pid=$!
    n=$((n + 1))
    wait_for '[ "$(cat asked 2>/dev/null | wc -l)" -ge 3 ]' || fail "$t: --limit never asked"
    ls ran* >/dev/null 2>&1 && fail "$t: --limit 1: a job ran"
    touch go
    wait $pid
    echo "rc=$?" >>go.out
    # --- 2: the youngest of the running jobs is killed, once ---
    $tool -k -j3 --joblog jl2 --limit 'if [ -e kill ]; then rm kill; exit 2; fi' \
        'touch s{}; echo start {}; i=0; while [ ! -e end ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; echo end {}' \
        ::: 1 2 3 4 >kill.out 2>kill.err &
    pid=$!
    n=$((n + 1))
    wait_for '[ -e s1 ] && [ -e s2 ] && [ -e s3 ]' || fail "$t: -j3 did not start 3"
    touch kill
    # job 4 starts in the killed one's slot
    wait_for '[ -e s4 ]' || fail "$t: --limit 2 killed none"
    [ -e kill ] && fail "$t: the command was not run again"
    touch end
    wait $pid
    echo "rc=$?" >kill.rc
    # GNU runs the command once for each running job, youngest first,
    # until one says 2: the kill file can come between two of those
    cut -f7,8 jl2 | grep -c '^-1	15$' >>kill.rc
    cut -f1,7-9 jl2 | sort >kill.jl
    cut -f1,7-9 jl >go.jl
    # --- a command that does not exist: asked again and again, no job ---
    held none '[ "$(cat none.err 2>/dev/null | grep -c "not found")" -ge 3 ]' \
        --limit nosuchcommand_x echo ::: a
    # --- --memsuspend 1P: GNU's gate starts nothing below 1P free ---
    held p1 '[ "$(cat asked1p 2>/dev/null | wc -l)" -ge 2 ]' \
        --limit 'echo . >>asked1p' --memsuspend 1P echo ::: a
    cd .. || exit 1
done
for f in go.out go.jl kill.rc none.out p1.out; do
    n=$((n + 1))
    cmp -s P/$f E/$f || { fail "--limit: $f differs"; diff P/$f E/$f; }
done
n=$((n + 1))
[ "$(cut -f1-3 E/kill.jl)" = "$(printf '1\t0\t0\n2\t0\t0\n3\t-1\t15\n4\t0\t0\nSeq\tExitval\tSignal')" ] ||
    fail "--limit 2: not the youngest killed: $(cat E/kill.jl)"
n=$((n + 1))
[ "$(cat E/kill.out)" = "$(printf 'start 1\nend 1\nstart 2\nend 2\nstart 3\nstart 4\nend 4')" ] ||
    fail "--limit 2: output $(cat E/kill.out)"

# --- --memsuspend: the free memory the test sets ---
EVENTOR_TEST_MEMINFO=$T/meminfo
export EVENTOR_TEST_MEMINFO
mem() { # KB: what eventor reads as free
    printf 'MemFree: %s kB\nBuffers: 0 kB\nCached: 0 kB\n' "$1" >meminfo.new
    mv meminfo.new meminfo
}
mem 1000000000
job='echo $$ >pid{}; i=0; while [ ! -e done{} ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; echo {}'
"$E" -k -j3 --joblog jl --memsuspend 1G "$job" ::: 1 2 3 >ms.out 2>ms.err &
pid=$!
n=$((n + 1))
wait_for '[ -s pid1 ] && [ -s pid2 ] && [ -s pid3 ]' || fail "--memsuspend: jobs did not start"
p1=$(cat pid1) p2=$(cat pid2) p3=$(cat pid3)
for p in $p1 $p2 $p3; do
    [ "$(state $p)" != T ] || fail "--memsuspend: $p stopped with plenty free"
done
mem 1 # below SIZE: only the oldest runs
n=$((n + 1))
wait_for '[ "$(state $p2)" = T ] && [ "$(state $p3)" = T ]' ||
    fail "--memsuspend: 2 and 3 not stopped: $(state $p2) $(state $p3)"
[ "$(state $p1)" != T ] || fail "--memsuspend: the oldest stopped"
touch done1 # then 2 is the oldest
n=$((n + 1))
wait_for '[ "$(state $p2)" != T ]' || fail "--memsuspend: 2 not resumed after 1 ended"
[ "$(state $p3)" = T ] || fail "--memsuspend: 3 ran beside 2: $(state $p3)"
mem 1000000000 # plenty: all resumed
n=$((n + 1))
wait_for '[ "$(state $p3)" != T ]' || fail "--memsuspend: 3 not resumed"
touch done2 done3
wait $pid
rc=$?
n=$((n + 1))
[ $rc = 0 ] || fail "--memsuspend: exit $rc"
[ "$(cat ms.out)" = "$(printf '1\n2\n3')" ] || fail "--memsuspend: output $(cat ms.out)"
[ "$(cut -f1,7,8 jl | sort)" = "$(printf '1\t0\t0\n2\t0\t0\n3\t0\t0\nSeq\tExitval\tSignal')" ] ||
    fail "--memsuspend: joblog $(cat jl)"
rm -f pid* done*

# a stopped job, when eventor is killed, is resumed to get its signal
mem 1000000000
"$E" -j2 --memsuspend 1G 'trap "touch term{}; exit 5" TERM; echo $$ >pid{}; while :; do sleep 0.05; done' \
    ::: 1 2 >sig.out 2>sig.err &
pid=$!
n=$((n + 1))
wait_for '[ -s pid1 ] && [ -s pid2 ]' || fail "--memsuspend TERM: jobs did not start"
p2=$(cat pid2)
mem 1
wait_for '[ "$(state $p2)" = T ]' || fail "--memsuspend TERM: 2 not stopped"
kill -TERM $pid
wait_for 'grep -q "No new jobs" sig.err' || fail "--memsuspend TERM: first TERM"
kill -TERM $pid
wait $pid
rc=$?
n=$((n + 1))
[ $rc = 255 ] || fail "--memsuspend TERM: exit $rc"
[ -e term1 ] && [ -e term2 ] || fail "--memsuspend TERM: the stopped job did not get its TERM: $(ls)"
[ "$(state $p2)" = - ] || fail "--memsuspend TERM: job 2 left behind ($(state $p2))"
kill -CONT "$p2" 2>/dev/null; kill -KILL "$p2" 2>/dev/null
rm -f pid*

# --timeout meets a stopped job: resumed, it ends with its own status (both
# time out: 1 running, 2 stopped)
mem 1000000000
"$E" -j2 --joblog jlt --timeout 3 --memsuspend 1G 'trap "exit 6" TERM; echo $$ >pid{}; while [ ! -e done{} ]; do sleep 0.05; done' \
    ::: 1 2 >to.out 2>to.err &
pid=$!
n=$((n + 1))
wait_for '[ -s pid1 ] && [ -s pid2 ]' || fail "--memsuspend --timeout: jobs did not start"
mem 1
wait_for '[ "$(state $(cat pid2))" = T ]' || fail "--memsuspend --timeout: 2 not stopped"
wait $pid
[ "$(cut -f1,7 jlt | sort)" = "$(printf '1\t6\n2\t6\nSeq\tExitval')" ] ||
    fail "--memsuspend --timeout: joblog $(cat jlt)"

# --- bad values: one line, exit 255 ---
for b in '--memsuspend 1x' '--memsuspend 0' '--memsuspend'; do
    # shellcheck disable=SC2086
    bad $b echo ::: a
done

settle
echo "$n checks, $fails failed"
[ $fails = 0 ]
