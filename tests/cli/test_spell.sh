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

# --- colours: GNU's list in GNU's order, by {#}; white on red for --cf --
same -k --color echo ::: a b c d e f g h i j k l
same -k --ctag 'printf "x\ny"' ::: a b
same -k --ctagstring '[{}]' echo {} ::: q
same -k --colour --tag 'printf "a\rb\n"' ::: z
same -k --cf 'echo {}; exit {}' ::: 0 1 2
same -k --color --cf 'echo {}; exit {}' ::: 0 3
same_err -k --color 'echo {} >&2' ::: e
same -k --color -u echo ::: a

# --- the spellings GNU keeps for old scripts (parallel(1)) --------------
same -k -l echo ::: a b c
same -k -l2 echo ::: a b c
same -k -lk echo ::: c b a
same -k --max-lines 2 echo ::: a b c
same_in 'a b\nc\nd\n' -k --max-lines echo
same -k -iXX echo XX ::: a
same -k -i echo {} ::: a
same -k --replace echo {} ::: a
same -k --replace=// echo // ::: a
same_in 'a\nSTOP\nb\n' -k -eSTOP echo
same -k -e echo ::: a
same --gnu --group --silent --no-keep-order -j1 echo ::: a b
same_err -k -v --silent echo ::: a
same_err -k --silent -v echo ::: a
same -k --no-keep-order -j1 echo ::: a b
same_err --group -u echo ::: a
same_err --group --line-buffer echo ::: a
same -k --total 7 echo '{= $_=total_jobs() =}' ::: a
same -k --plus --total-jobs 300 echo '{0#} {##}' ::: a b
same --minversion 20130722
same --minversion 29990101
same -k --jl /dev/null echo ::: a
same_in '1\n2\n' -k --spreadstdin -N1 cat
same_in 'h\n1\n2\n' -k --skip-first-line echo
same -k --skip-first-line echo ::: x y z
same_in 'h\n1\n2\n' -k --skip-first-line --pipe -N1 cat
printf 'head\n1\n2\n3\n' >skip.txt
same -k --skip-first-line --pipe-part -a skip.txt --block 1 cat
# --joblog -: the lines on stdout after each job's output (times aside)
n=$((n + 1))
"$E" -j1 --joblog - echo ::: a b | cut -f1,7- >jl.out
printf 'Seq\tExitval\tSignal\tCommand\na\n1\t0\t0\techo a\nb\n2\t0\t0\techo b\n' |
    cmp -s - jl.out || fail "--joblog - wrote: $(cat jl.out)"
[ -e ./- ] && fail "--joblog - made a file named -"
# --shebang: the #! line's words, the script the input, its first line not
n=$((n + 1))
printf '#!%s --shebang -k echo X\na\nb c\n' "$E" >sb.sh
printf '#!%s --shebang -k echo X\na\nb c\n' "$(command -v parallel)" >sbg.sh
chmod +x sb.sh sbg.sh
[ "$(./sb.sh 2>&1)" = "$(./sbg.sh 2>&1)" ] || fail "--shebang: $(./sb.sh 2>&1)"

# --- refusals ------------------------------------------------------------
bad --arg-sep '' echo ::: a
bad --er '' echo ::: a
bad -E
bad --minversion x
# GNU's options eventor leaves out say so, not "unknown option"
for o in --tmux --embed --sql=x --latest-line; do
    bad $o echo ::: a
    grep -q "^eventor: $o: GNU parallel's option, not supported by eventor$" b.err ||
        fail "$o: not named as GNU's: $(cat b.err)"
done
bad --tmuxx echo ::: a
grep -q "unknown option: --tmuxx" b.err || fail "--tmuxx: $(cat b.err)"

settle
echo "$n checks, $fails failed"
[ $fails = 0 ]
