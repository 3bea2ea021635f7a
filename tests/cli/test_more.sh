#!/bin/sh
# Differential tests against GNU parallel of what comes from outside the
# command line ($PARALLEL, ~/.parallel/config, --profile), the shell jobs
# run in (bash, with an exported function), and how jobs start and end
# (--timeout N%, --termseq, --retry-failed, --shuf, --nice, --memfree,
# --load, -j FILE): the same stdout, exit status and joblog expected.
# Runs under bash, so that both tools find bash as the parent shell.
# Usage: tests/cli/test_more.sh PATH/TO/eventor
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/parallel_diff.sh"
HOME=$T/home
export HOME
mkdir -p "$HOME/.parallel"
unset PARALLEL PARALLEL_HOME PARALLEL_SHELL XDG_CONFIG_HOME XDG_CONFIG_DIRS

# check K ENV ARGS...: both tools with ENV (NAME=VALUE, or - for none) in
# their environment, each in a directory of its own (pk/, ek/); stdout,
# exit status and the joblog jl (without its timing columns) compared.
check() {
    k=$1 ev=$2 in=/dev/null
    shift 2
    case $ev in '<'*) in=${ev#<} ev=- ;; esac # <FILE: FILE on stdin
    [ "$ev" = - ] && ev=_NONE=
    mkdir -p p$k e$k
    (cd p$k && env "$ev" $P "$@" <"$in" >../p$k.out 2>../p$k.err); prc=$?
    (cd e$k && env "$ev" "$E" "$@" <"$in" >../e$k.out 2>../e$k.err); erc=$?
    compared $k $prc $erc "$ev" "$@" >log$k 2>&1
    rm -rf p$k p$k.* e$k e$k.*
}
same_env() { # ENV ARGS...
    n=$((n + 1))
    check $n "$@" &
    running=$((running + 1))
    [ $running -lt 4 ] || settle
}
same() {
    same_env - "$@"
}
# GNU parallel prints its usage on stdout after a bad option: the exit
# status alone is compared
rc_only=0
same_rc_env() {
    rc_only=1
    same_env "$@"
    rc_only=0
}

# --- $PARALLEL: its options first; its other words start the command ---
same_env PARALLEL='-k --tag' echo ::: a b
same_env PARALLEL='-k echo pre' echo ::: a b
same_env PARALLEL="-k 'echo' \"x y\"" ::: a b
same_env PARALLEL='-k --tagstring A' --tagstring B echo ::: a b
same_rc_env PARALLEL='--bogus' echo ::: a
same_env PARALLEL='-k "unclosed' -j1 echo ::: a b
same_rc_env PARALLEL='-k\ --tag' echo ::: a
same_env PARALLEL='-j1 -k --joblog jl' 'exit {}' ::: 0 1 2
settle

# --- config files and profiles ---
printf -- '-k\n# a comment\n  --tag\n' >"$HOME/.parallel/config"
printf -- '--tagstring X -k\n' >"$HOME/.parallel/foo"
printf -- '-v\n' >"$HOME/.parallel/bar"
printf -- '--tagstring R -k\n' >rel.prof
same echo ::: a b
same_env PARALLEL='--tagstring E' echo ::: a b
same -J foo echo ::: a b
same -kJfoo echo ::: a b
same --profile=foo -J bar echo ::: a b
same -j 2 --profile foo echo ::: a b
same -J nonexistent -k echo ::: a b
same --plain -k echo ::: a b
same_env PARALLEL='--tag' --plain -k echo ::: a b
settle
same -J "$T/rel.prof" echo ::: a b
settle
rm "$HOME/.parallel/config"
printf -- '-k --tagstring RC\n' >"$HOME/.parallelrc"
same echo ::: a b
settle
rm "$HOME/.parallelrc"
mkdir -p "$T/phome"
printf -- '-k --tagstring PH\n' >"$T/phome/config"
same_env PARALLEL_HOME="$T/phome" echo ::: a b
settle
rm -rf "$T/phome"

# --- the user's shell: bash here, so export -f and [[ ]] work ---
myfunc() { echo "func<$1>"; }
export -f myfunc
same -k myfunc ::: a 'b c'
same -k -X myfunc ::: a b
same -k '[[ {} == a* ]] && echo yes {} || echo no {}' ::: ab b
same 'test -n "$BASH_VERSION" && echo bash' ::: 1
same_env PARALLEL_SHELL=/bin/sh 'echo ${BASH_VERSION:-none}' ::: 1
settle
# a dash parent: jobs run in dash (no BASH_VERSION, no function)
for t in P E; do
    eval "tool=\$$t"
    sh -c "$tool 'echo \${BASH_VERSION:-none}' ::: 1; $tool -k myfunc ::: a; echo \$?" >sh$t.out 2>/dev/null
done
n=$((n + 1))
cmp -s shP.out shE.out || fail "a dash parent: $(cat shE.out), GNU parallel $(cat shP.out)"

# --- --timeout N%, --termseq ---
same -j1 -k --joblog jl --timeout 1000% 'sleep {}; echo {}' ::: 0.1 0.1 0.1 10 0.1
# (the timeouts leave bash seconds to set its trap, even under TSan)
same -k --joblog jl --timeout 5 --termseq INT,2000,KILL,25 \
    'trap "echo got INT; exit 3" INT; sleep {}' ::: 60
same -k --joblog jl --timeout 5 --termseq USR1,300,KILL,25 \
    'trap "echo got USR1" USR1; sleep {}; sleep {}' ::: 60
same -k --joblog jl --timeout 5 --term-seq INT,2000,KILL,25 \
    'trap "echo got INT; exit 3" INT; sleep {}' ::: 60
# job 0 fails once job 60 has set its trap (touch ready)
same -j2 -k --joblog jl --halt now,fail=1 --termseq INT,2000,KILL,25 \
    'trap "echo got INT {}; exit 4" INT; if [ {} = 0 ]; then i=0; while [ ! -e ready ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; exit 1; fi; touch ready; sleep {}' ::: 0 60
settle

# --- --retry-failed: the log's failed commands, run again as logged ---
retry_job='test -e s{} || { touch s{}; echo fail {}; exit {}; }; echo ok {}'
same -k --joblog jl --retry-failed "$retry_job" ::: 0 1 2 3
for t in P E; do
    mkdir -p rf$t
    eval "tool=\$$t"
    (cd rf$t && $tool -k --joblog jl "$retry_job" ::: 0 1 2 3 >/dev/null 2>&1
     $tool -k --joblog jl --retry-failed echo not this ::: x >out 2>&1; echo "rc $?" >>out
     $tool -k --joblog jl --retry-failed >>out 2>&1; echo "rc $?" >>out
     cut -f1,7-9 jl >>out)
done
n=$((n + 1))
cmp -s rfP/out rfE/out || { fail "--retry-failed"; diff rfP/out rfE/out | head; }
settle

# --- --shuf, --nice, --memfree, --load ---
for t in P E; do
    eval "tool=\$$t"
    $tool --shuf echo {#} {} ::: $(seq 1 30) >shuf$t.all
    { cut -d' ' -f1 shuf$t.all | sort -n; cut -d' ' -f2 shuf$t.all | sort -n; } >shuf$t.out
    $tool --shuf -j1 echo ::: $(seq 1 30) | tr '\n' ' ' >>shuf$t.order
done
n=$((n + 1))
cmp -s shufP.out shufE.out || fail "--shuf: $(cat shufE.out | tr '\n' ' ')"
n=$((n + 1))
[ "$(cat shufE.order)" != "$(seq 1 30 | tr '\n' ' ')" ] || fail "--shuf kept the input order"
same --nice 7 'nice; true' ::: 1
same -k --memfree 1k echo ::: a b
same -k --memfree 1K --load 1000 echo ::: a b
same -k --load 0 echo ::: a b
settle

# --- -j FILE: the job count it holds, read again when it changes ---
echo 1 >"$T/pf1"
same -j "$T/pf1" -k echo {%} {} ::: a b c
printf '+0\n' >"$T/pf2"
same -j "$T/pf2" -k echo {} ::: a b c
echo x >"$T/pfbad"
same_rc_env - -j "$T/pfbad" echo ::: a
same_rc_env - -j "$T/nofile" echo ::: a
settle
# job a raises the count to 3 and waits (10 s at most) for b and c to run
# beside it: only a re-read of the file lets them start before a ends
for t in P E; do
    eval "tool=\$$t"
    echo 1 >pf$t
    touch -d '1 minute ago' pf$t # GNU sees changes by the whole second
    $tool -j pf$t -k 'if [ {} = a ]; then echo 3 >pf'$t'; i=0; while [ $i -lt 100 ] && ! { [ -e '$t'b ] && [ -e '$t'c ]; }; do sleep 0.1; i=$((i+1)); done; [ $i -lt 100 ] && echo a saw b and c; else touch '$t'{}; echo {}; fi' ::: a b c >pf$t.out 2>&1
done
n=$((n + 1))
cmp -s pfP.out pfE.out || { fail "-j FILE re-read"; diff pfP.out pfE.out; }

# --- --pipe --cat, --pipepart --cat: the block in the file {} ---
seq 1 3000 >"$T/s3k.txt"
same_env "<$T/s3k.txt" --pipe --cat --block 2k -k 'wc -l <{}; md5sum <{}'
same_env "<$T/s3k.txt" --pipe --cat -N 700 -k 'cat {} | wc -c; cat | wc -c'
same_env "<$T/s3k.txt" --pipe --cat -N 1000 -k 'wc -l <'
same -k --pipepart -a "$T/s3k.txt" --block 3k --cat 'wc -l <{}; md5sum <{}'
same -k --pipepart -a "$T/s3k.txt" --block -3 --cat 'tail -1 {}; test -s {}'
same_env "<$T/s3k.txt" --pipe --cat --block 2k -k 'exit 2'
settle
seq 1 10 | "$E" --tmpdir "$T" --pipe --cat -N 2 'cat {} >/dev/null' || fail "--cat --tmpdir"
n=$((n + 1))
[ -z "$(ls "$T"/par* 2>/dev/null)" ] || fail "--cat files left in --tmpdir"

# --- bad values: one line, exit 255 ---
for bad in '--nice x' '--memfree 1x' '--memfree 0' '--load x' '--termseq FOO,1' \
    '--termseq TERM,x' '--timeout x%' '--timeout 0%' '--cat' '--pipe --tee --cat' \
    '--pipe --round-robin' '--pipe --group-by 1' '--pipe --fifo' \
    '--pipe --regexp' '--shuf --pipe'; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    "$E" $bad echo ::: a >bad.out 2>bad.err
    rc=$?
    [ $rc = 255 ] || fail "$bad: exit $rc, not 255"
    [ "$(wc -l <bad.err)" = 1 ] || fail "$bad: stderr $(cat bad.err)"
    [ -s bad.out ] && fail "$bad: ran a job"
done

settle
# -p/--interactive: each command asked on the terminal (a pty of
# lib/ask_tty.py's, which answers each prompt with the next line), run only
# on an answer that starts with y or Y; the others fail, -2 in the joblog
asked() { # TOOL ARGS...: what the terminal shows, the joblog's columns
    rm -f ask.jl
    python3 "$HERE/lib/ask_tty.py" ask.in "$@"
    cut -f1,7,9 ask.jl
}
printf 'y\nn\n  Yes\n' >ask.in
for args in "-p -j1 -k echo ::: 1 2 3" "--interactive -j1 -t echo {} ::: a b" \
            "-p -j1 --tag echo ::: x y z"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    asked $P --joblog ask.jl $args >ask.p
    # shellcheck disable=SC2086
    asked "$E" --joblog ask.jl $args >ask.e
    cmp -s ask.p ask.e || { fail "-p differs for: $args"; diff ask.p ask.e | head; }
done
bad -p echo ::: 1 # no terminal
echo "$n checks, $fails failed"
[ $fails = 0 ]
