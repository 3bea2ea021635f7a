#!/bin/sh
# Differential tests against GNU parallel of the options that rename things
# (--arg-sep, --arg-file-sep, -E, --er, --bnr, --dnr, --bner, --seqreplace,
# --slotreplace), print a fact of the machine, or change what is said of
# jobs (--verbose on stderr, -v on stdout, --progress, --halt's messages
# after the job's output, {%} handed on in the order slots were freed):
# the same stdout, stderr where it is compared, and exit status expected.
# Usage: tests/cli/test_spell.sh PATH/TO/eventor
. "$(dirname "$0")/lib/parallel_diff.sh"

check() { # K INPUT ARGS...: stdout (and with same_err stderr), exit status
    k=$1 in=$2
    shift 2
    printf "$in" >in$k
    $P "$@" <in$k >p$k.out 2>p$k.err; prc=$?
    "$E" "$@" <in$k >e$k.out 2>e$k.err; erc=$?
    sed -i 's/^parallel: /eventor: /' p$k.err
    {
        cmp -s p$k.out e$k.out || { echo "FAIL: stdout differs for: $*"; diff p$k.out e$k.out | head -10; }
        [ $cmp_err = 0 ] || cmp -s p$k.err e$k.err || { echo "FAIL: stderr differs for: $*"; diff p$k.err e$k.err | head -10; }
        [ "$prc" = "$erc" ] || echo "FAIL: exit $erc, GNU parallel $prc, for: $*"
    } >log$k 2>&1
    rm -f in$k p$k.* e$k.*
}

printf 'D\nE\n' >def
# --- separators and the end-of-file string (parallel_tutorial(7)) -------
same -k --arg-sep ,, echo ,, A B C :::: def
same -k --arg-file-sep // echo ::: A B C // def
same -k --arg-sep ,, echo ,, A B ,,+ 1 2
same -k --arg-sep ,, echo ::: A B
same -k -E stop echo ::: A B stop C D
same -k --eof stop echo ::: stop C
same_in 'a\nb\nEND\nc\n' -k -E END echo
same_in 'a \nb\nEND\nc\n' -k -E END -L 2 echo
same_in 'a\n\nb\nEND\n' -k -r -E END echo

# --- renamed replacement strings ----------------------------------------
for o in --er --extensionreplace --bnr --basenamereplace --dnr \
    --dirnamereplace --bner --basenameextensionreplace; do
    same -k "$o" ,, echo ,, {} {.} {/} {//} {/.} ::: A/B.C dir/x.tar.gz
done
same -k --seqreplace ,, echo ,, {#} ::: A B C
same -j1 --slotreplace ,, echo ,, {%} ::: A B C
same -k -I ,, --bnr // echo ,, // ::: a/b.c

# --- what is said of jobs ------------------------------------------------
same_err -k --verbose echo ::: A B
same_err -k -t echo {} {} ::: A
same_err -k -v echo ::: A B
same_err -j1 --halt soon,fail=1 'echo {}; exit {}' ::: 0 1 2
same_err -j1 --halt now,success=1 'echo {}; exit {}' ::: 1 0 2
same_err -j1 --halt soon,done=2 echo ::: a b c
same -k -j 3 --delay 0.3 'sleep 0.{}; echo {%}' ::: 1 1 1
same -k -j 2 --delay 0.2 'sleep 0.{}; echo {%}' ::: 5 1 1
settle

# --- facts of the machine (GNU's count of cores and threads) ------------
for o in --number-of-cores --number-of-threads --number-of-cpus \
    --number-of-sockets; do
    same "$o"
done
n=$((n + 1))
l=$("$E" --max-line-length-allowed)
[ "$l" -gt 1000 ] 2>/dev/null || fail "--max-line-length-allowed printed '$l'"
same --use-cpus-instead-of-cores -k echo ::: a
same --noswap -k echo ::: a

# --progress: GNU's lines, the last one with every job done.
n=$((n + 1))
"$E" --progress -j2 sleep ::: 0.1 0.2 0.1 2>prog.err >prog.out
rc=$?
[ $rc = 0 ] || fail "--progress exit $rc"
[ -s prog.out ] && fail "--progress wrote on stdout"
grep -q '^Computers / CPU cores / Max jobs to run$' prog.err || fail "--progress header missing"
grep -q '^1:local / [0-9]* / 2$' prog.err || fail "--progress computer line missing"
grep -q '^Computer:jobs running/jobs completed/%of started jobs/Average seconds to complete$' prog.err ||
    fail "--progress column line missing"
tr '\r' '\n' <prog.err | grep -q '^local:0/3/100%/0\.[0-9]s $' || fail "--progress last state missing"

same -k -j1 --process-slot-var=name echo '$name' {} ::: a b
same -k -j2 --process-slot-var name 'sleep 0.{}; echo $name' ::: 1 5
# --tty: one job at a time, ungrouped (without a terminal, as GNU: it runs)
same -k --tty echo ::: a b

# --- refusals ------------------------------------------------------------
bad --arg-sep '' echo ::: a
bad --er '' echo ::: a
bad -E

settle
echo "$n checks, $fails failed"
[ $fails = 0 ]
