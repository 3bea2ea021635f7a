#!/bin/sh
# --limit "command args": against GNU parallel where it can be made to do
# the same (the limit command's 0, 1 and 2, its built-ins, a command that
# does not exist); each step waits on files.
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
    {
        cmp -s p$k.out e$k.out || { echo "FAIL: stdout differs for: $*"; diff p$k.out e$k.out | head -10; }
        [ "$prc" = "$erc" ] || echo "FAIL: exit $erc, GNU parallel $prc, for: $*"
        if [ -f p$k/jl ] || [ -f e$k/jl ]; then
            cut -f1,7-9 p$k/jl >p$k.lc 2>&1
            cut -f1,7-9 e$k/jl >e$k.lc 2>&1
            cmp -s p$k.lc e$k.lc || { echo "FAIL: joblog differs for: $*"; diff p$k.lc e$k.lc | head -5; }
        fi
    } >log$k 2>&1
    rm -rf p$k p$k.* e$k e$k.*
}

# --- --limit: the built-ins, a command's 0 ---
same -k --joblog jl --limit "load 100" echo ::: a b c
same -k --joblog jl --limit "mem 1k" echo ::: a b c
same -k --joblog jl --limit "mem 1K" -j2 echo ::: a b c
same -k --joblog jl --limit 'exit 0' 'echo {}; exit {}' ::: 0 1 0
seq 1 7 >"$T/in7"
same_in "$T/in7" -k --pipe -N3 --limit 'true' wc -l
settle

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
    $tool --limit nosuchcommand_x echo ::: a >none.out 2>none.err &
    pid=$!
    n=$((n + 1))
    wait_for '[ "$(grep -c "not found" none.err 2>/dev/null)" -ge 3 ]' || fail "$t: no command not found"
    kill -TERM $pid
    wait $pid
    echo "rc=$?" >>none.out
    cd .. || exit 1
done
for f in go.out go.jl kill.rc none.out; do
    n=$((n + 1))
    cmp -s P/$f E/$f || { fail "--limit: $f differs"; diff P/$f E/$f; }
done
n=$((n + 1))
[ "$(cut -f1-3 E/kill.jl)" = "$(printf '1\t0\t0\n2\t0\t0\n3\t-1\t15\n4\t0\t0\nSeq\tExitval\tSignal')" ] ||
    fail "--limit 2: not the youngest killed: $(cat E/kill.jl)"
n=$((n + 1))
[ "$(cat E/kill.out)" = "$(printf 'start 1\nend 1\nstart 2\nend 2\nstart 3\nstart 4\nend 4')" ] ||
    fail "--limit 2: output $(cat E/kill.out)"

settle
echo "$n checks, $fails failed"
[ $fails = 0 ]
