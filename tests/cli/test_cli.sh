#!/bin/sh
# Differential tests of the eventor command against GNU parallel: the same
# arguments to both, the same stdout (and joblog, without its timing
# columns) and exit status expected. Then bad input for every flag, resume
# after kill -9, timeouts, and signals. Waits on fifos, never on sleeps.
# Usage: tests/cli/test_cli.sh PATH/TO/eventor
. "$(dirname "$0")/lib/parallel_diff.sh"

# same ARGS...: eventor and GNU parallel print the same and exit the same
# (same_err: and the same on stderr). GNU parallel spends most of its time
# asleep, so the checks run in the background, four at a time, each with
# files of its own, and report into log files; settle waits for them all.
check() { # K INPUT ARGS...
    k=$1 in=$2
    shift 2
    printf "$in" | $P "$@" >p$k.out 2>p$k.err; prc=$?
    printf "$in" | "$E" "$@" >e$k.out 2>e$k.err; erc=$?
    {
        cmp -s p$k.out e$k.out || { echo "FAIL: stdout differs for: $* (input '$in')"; diff p$k.out e$k.out | head -10; }
        [ "$prc" = "$erc" ] || echo "FAIL: exit $erc, GNU parallel $prc, for: $*"
        [ $cmp_err = 0 ] || cmp -s p$k.err e$k.err || echo "FAIL: stderr differs for: $*"
    } >log$k 2>&1
    rm -f p$k.out p$k.err e$k.out e$k.err
}

# Joblog without Starttime and JobRuntime, sorted by Seq.
logcut() {
    cut -f1,2,5-9 "$1" | sort -n
}

# --- the differential tests --------------------------------------------
same -k echo {} ::: 'a b' "it's" 'x$y' plain '*' 'a"b' '' "'" "''x''" 'tab	x'
same -k --dry-run echo {} ::: 'a b' "it's" 'x$y' plain '*' 'a"b' '' "'" "''x''"
same -k -j1 echo {} {.} {/} {//} {/.} {#} {%} ::: /x/y.tar.gz dir/f.c noext a. /x x/ / ''
same -k echo ::: a b ::: 1 2 3
same -k echo {2}-{1} {1/} ::: a/b c ::: 1 2
same -k echo x{}y ::: 'a b' ::: 1
same -k --dry-run -X echo x{1}y{2}z ::: a b ::: 1
printf 'a\nb c\n\nd\n' >in.txt
printf '1\n2\n' >in2.txt
same -k echo :::: in.txt
same -k echo :::: in.txt in2.txt
same -k echo :::: in.txt ::: x y
same -k -a in.txt echo
same -k -a in.txt -a in2.txt echo
same_in 'a\n\nb\n  spaced  \n' -k echo x{}x
same_in '' -k echo x{}x
same_in 'a,b\nc,d,e\n' --colsep , -k echo {2} {1}
same_in 'a,b\nc,d\n' --colsep , -k echo
same_in 'a\tb\nc\td\n' --colsep '\t' -k echo {2}
same_in 'a\0b c\0\0d' -0 -k echo x{}x
same_in 'a\0b\0' --null -k echo
same -k -j2 -X echo pre{}post ::: a b 'c d'
same -k -j2 -m echo pre{}post ::: a b 'c d'
same -k -j1 -X echo pre{}post ::: a b 'c d'
same -k -j3 -X echo ::: 1 2 3 4 5 6 7 8 9 10
same -k -n2 -X echo ::: 1 2 3 4 5
same -k -n2 echo ::: 1 2 3 4 5
same -k --tag 'printf "x\ny\n"; echo {}' ::: a 'b c'
same -k --tag echo ::: a b ::: 1 2
same -k 'echo {} | tr a-z A-Z; echo done' ::: abc 'd e'
same -k ::: 'echo a' 'echo b; echo c'
same -k 'echo {}; exit {}' ::: 0 1 2
same -k 'kill -9 $$' ::: 1
same -j1 --halt now,fail=1 -k 'echo {}; exit {}' ::: 0 3 0
same -j1 --halt soon,fail=1 -k 'echo {}; exit {}' ::: 0 3 5 0
same -j1 --halt now,success=1 -k 'echo {}; exit {}' ::: 3 0 5
same -j1 --halt soon,done=2 -k 'echo {}; exit {}' ::: 3 0 5
same -j1 --halt now,fail=2 -k 'echo {}; exit {}' ::: 1 0 2 0 0
same -j1 --halt now,fail=50% -k 'echo {}; exit {}' ::: 0 3 0 0 0 0
same -j1 --halt now,fail=30% -k 'echo {}; exit {}' ::: 0 3 4 0 0 0
same -j1 --halt 2 -k 'echo {}; exit {}' ::: 0 3 0
same -j1 --halt 1 -k 'echo {}; exit {}' ::: 0 3 0
same -k --link echo ::: a b c ::: 1 2
same -k echo ::: a b ::: 1 2 :::+ x y
# --- GNU parallel's semantics where eventor differed ----------------------
# {#} {%} count as placeholders (nothing appended); {0} is {}; {-N} counts
# from the end; {N} past the end and {00} are nothing, not ''
same -k -j1 echo {#} {%} ::: A B
same -k -j1 echo {0} {0.} x{0/}y {-1} {-2} {-3} {3} {00} {-0} ::: a.b/c.d ::: B
# :::+ stops at the shortest source (--link wraps); an empty source is one
# empty value unless all are empty; a first :::+ or ::::+ is ::: / ::::;
# ::::+ links every file after it
printf 'x\ny\n' >xy.txt
: >empty.txt
same -k echo ::: a b c :::+ 1 2 ::: X Y :::+ 7
same -k echo ::: a b :::+ 1 2 3 ::: p ::: :::+ q
same -k echo ::::+ xy.txt ::::+ xy.txt ::: a b c ::::+ xy.txt xy.txt
same -k echo :::+ a b :::: empty.txt
same -k echo :::: empty.txt ::: a b
same -k echo :::: empty.txt :::
# a command word that starts with a placeholder: values are not quoted
same -k '{}' ::: 'echo a;echo b' 'echo c d'
same -k {1}x {2} ::: 'echo a' ::: 'b;echo c' 'd  e'
same -k 'x=1 {}' ::: 'a;b'
# --halt ...,done=N reached before any job failed: 101 (GNU's min(undef, 101))
same -j1 --halt soon,done=2 -k 'echo {}; exit {}' ::: 0 0 5
same -j1 --halt now,done=3 -k 'echo {}; exit {}' ::: 0 2 0 5
# {N} index the line's flat list of values; -X repeats a word per value
same -j1 -k -X echo x{1}y {2} {-1} x{.}y ::: a.c b ::: 1.d
same -j1 -k -m echo {2} {-1} z{}z ::: a b c ::: 1 2
# --retries 0 is forever (2^31 tries): the job succeeds on its 3rd
settle
for r in p e; do
    echo 0 >cnt
    if [ $r = p ]; then run=$P; else run=$E; fi
    $run --retries 0 'n=$(cat cnt); echo $((n+1)) >cnt; [ $n = 2 ] && echo {}' ::: ok >$r.out 2>/dev/null
    echo "rc=$? $(cat cnt)" >>$r.out
done
n=$((n + 1))
cmp -s p.out e.out || { fail "--retries 0"; diff p.out e.out; }

# --- -N -q -I -d -r --xargs -s -L ----------------------------------------
printf 'a b\nc\n\n  \nd\ne \nf\n' >r.txt
printf 'a,b,c,,d' >comma.txt
printf 'a::b:::c::' >colons.txt
same -k -N2 echo x{}y {2}-{1} ::: a b c d e
same -k -N2 --dry-run echo {2} {1} ::: a b c d e
same -k -N0 --dry-run echo x ::: a b
same -k -N2 echo {1}-{2} ::: a b ::: 1 2
same -k -m -N2 echo x{}y ::: a b c d e
same -k --xargs echo ::: a b c d
same -j1 -k -L2 echo x{}y :::: r.txt
same -k -L1 echo :::: r.txt
same -j2 -k -r -L2 -m echo x{}x :::: r.txt
same -j3 -k -m -n3 echo ::: 1 2 3 4 5 6 7
same -k -r echo x{}x ::: a '' ' ' b
same_in 'a\n\n \nb\n' -r -k echo x{}x
same -k -d , echo x{}x :::: comma.txt
same -k -d :: echo x{}x :::: colons.txt
same_in 'a\tb\n\tc' -d '\t' -k echo x{}x
same_in 'a\0b\0' -d '\0' -k echo x{}x
same -k -I ,, echo ,, {} {1} {.} ,,{/} ::: a.b/c.d
same -k -I {} echo {} {1} ::: a.b
same -k -q echo 'a  b' {} '$x' x{}y ::: 'c d'
same -k -q --dry-run echo 'a  b' {} '$x;' ::: 'c d'
same -k -q sh -c 'echo "$1|$2"' sh {} ::: 'a b'
same -k -q printf '%s\n' {} ::: 'a b' c
same -k -q echo '' ::: '!'
same -k -q --dry-run echo a '' {} ::: '!'
same -k --shellquote ::: 'a b' "it's"
same -k --shellquote --shellquote echo ::: 'a b'
for s in 10 15 16 17; do
    same -j1 -k -s $s --xargs echo ::: aaa bbb ccc ddd eee 'f g'
done
same -j1 -k -s 30 -X echo x{}y ::: aaa bbb ccc ddd eee 'f g'
# where GNU parallel ends a line: its count of every placeholder per value
for s in 20 25; do
    same -k -j1 -m -s $s echo x{}y {1} {.} ::: aaa bbb ccc ddd.e eee
    same -k -j1 -X -s $s echo x{}y a{#}b {1} ::: aaa "b'b" ccc 'd d' eee
    same -k -j1 -m -s $s echo {} ::: a.aa b.bb c.cc ::: 1 2
    same -k -j1 -X -s $s echo x{2}y{} ::: a.aa b.bb c.cc ::: 1 2
done
seq 30000 >30k.txt # GNU parallel's default line length
same -k -X --dry-run echo x{}y :::: 30k.txt
same -k -j1 -m -s 99999 echo :::: 30k.txt
# a `:::` item holding the delimiter is several items, as in GNU parallel
same -k echo x{}x ::: "$(printf 'a\nb')" c
same -k -d ab echo x{}x ::: xabyab z, ,
same -k -s 12 echo ::: aaaaaa b
# --tagstring -v -u, the job's environment, time units, other spellings
same -k --tagstring 'x{}-{#} {1}\t|' echo ::: a 'b c'
same -j1 --tagstring '{}' -X echo ::: a b
same -k --tagstring '' echo ::: a
same -k -N0 ::: a b
same_err -k -v --tag 'echo {}; echo err >&2' ::: a 'b c'
same -k -v --dry-run echo ::: a
same -u -j1 -k 'echo {}' ::: a b
same -j2 -k 'echo $PARALLEL_SEQ-$PARALLEL_JOBSLOT-$PARALLEL_JOBSLOT0; [ $PARALLEL_PID = $PPID ] && echo pid' ::: a
same -j1 -k 'echo $PARALLEL_SEQ-$PARALLEL_JOBSLOT-$PARALLEL_JOBSLOT0' ::: a b
same -k --env HOME --delay 0.01s --timeout 1m --dryrun echo ::: a b
same -k --keeporder --timeout 1h30m --maxargs 2 echo ::: a b c
settle
for r in p e; do
    if [ $r = p ]; then run=$P; else run=$E; fi
    rm -f $r.log
    $run --joblog +$r.log -k 'echo {}' ::: 1 2 >/dev/null 2>&1
    $run --joblog +$r.log -k 'exit {}' ::: 3 >/dev/null 2>&1
    echo keep >$r.dry
    $run --joblog $r.dry --dry-run echo ::: 1 >/dev/null 2>&1
done
n=$((n + 1))
[ "$(logcut p.log)" = "$(logcut e.log)" ] || { fail "--joblog +FILE"; logcut p.log; logcut e.log; }
cmp -s p.dry e.dry || fail "--dry-run touched the joblog"
same -k --delay 0.05 echo ::: a b c
same -k --bar echo ::: a b c
same -k --eta echo ::: a b c
seq 150 >many.txt
same -j4 'exit 1' :::: many.txt
same_err -k -j1 'echo out {}; echo err {} >&2' ::: 1 2
settle
n=$((n + 1)) # without -k: the same lines, in any order
seq 20 | $P -j3 'echo {}; echo {}' | sort >p.s
seq 20 | "$E" -j3 'echo {}; echo {}' | sort >e.s
cmp -s p.s e.s || fail "unordered output differs"

# retries: one counter file per runner, only the last try printed and logged
settle
for r in p e; do
    echo 0 >cnt
    if [ $r = p ]; then run=$P; else run=$E; fi
    $run --joblog $r.log --retries 3 -k 'n=$(cat cnt); echo try$n {}; echo $((n+1)) > cnt; exit 1' ::: a >$r.out 2>/dev/null
    echo "rc=$?" >>$r.out
    cat cnt >>$r.out
done
n=$((n + 1))
cmp -s p.out e.out || { fail "--retries"; diff p.out e.out; }
[ "$(logcut p.log)" = "$(logcut e.log)" ] || fail "--retries joblog"

# joblog, in GNU parallel's format
settle
for r in p e; do
    if [ $r = p ]; then run=$P; else run=$E; fi
    $run --joblog $r.log -k 'echo {}; exit {}' ::: 0 1 2 'x y' >/dev/null 2>&1
    $run --joblog $r.log2 -k 'echo a
echo {}' ::: 1 >/dev/null 2>&1
done
n=$((n + 1))
[ "$(logcut p.log)" = "$(logcut e.log)" ] || { fail "--joblog"; logcut p.log; logcut e.log; }
[ "$(logcut p.log2)" = "$(logcut e.log2)" ] || fail "--joblog with a newline"
head -1 e.log | grep -q "^Seq	Host	Starttime	JobRuntime	Send	Receive	Exitval	Signal	Command$" || fail "joblog header"
awk -F'\t' 'NR > 1 && ($3 !~ /^[0-9]+\.[0-9][0-9][0-9]$/ || length($4) < 10) { exit 1 }' e.log || fail "joblog timing columns"

# --resume and --resume-failed
settle
for r in p e; do
    if [ $r = p ]; then run=$P; else run=$E; fi
    rm -f $r.log
    $run --joblog $r.log -k 'echo {}; exit {}' ::: 0 1 >$r.out 2>/dev/null
    $run --joblog $r.log --resume -k 'echo {}; exit {}' ::: 0 1 0 2 >>$r.out 2>/dev/null
    echo "rc=$?" >>$r.out
    $run --joblog $r.log --resume-failed -k 'echo again {}; exit 0' ::: 0 1 0 2 >>$r.out 2>/dev/null
    echo "rc=$?" >>$r.out
done
n=$((n + 1))
cmp -s p.out e.out || { fail "--resume"; diff p.out e.out; }
[ "$(logcut p.log)" = "$(logcut e.log)" ] || { fail "--resume joblog"; logcut p.log; logcut e.log; }

# --timeout: the job is killed, Exitval -1 and the signal in the joblog
settle
for r in p e; do
    if [ $r = p ]; then run=$P; else run=$E; fi
    $run --joblog $r.log --timeout 0.3 -k 'echo {}; [ {} = 0 ] || exec sleep 30' ::: 0 1 >$r.out 2>/dev/null
    echo "rc=$?" >>$r.out
done
n=$((n + 1))
cmp -s p.out e.out || { fail "--timeout"; diff p.out e.out; }
[ "$(logcut p.log)" = "$(logcut e.log)" ] || { fail "--timeout joblog"; logcut p.log; logcut e.log; }

settle
# a command that cannot be started: Exitval 127 (not found) or 126 (not
# executable) as a shell gives, the reason in the job's output, the other
# jobs run
printf '#!/bin/sh\n' >noexec.sh
chmod -x noexec.sh
n=$((n + 1))
"$E" --joblog x.log -k '{}' ::: ./nonexistent-cmd ./noexec.sh true >x.out 2>x.err
rc=$?
[ $rc = 2 ] || fail "unstartable commands: exit $rc, not 2"
[ "$(cut -f7 x.log | tail -n +2 | tr '\n' ' ')" = "127 126 0 " ] || { fail "unstartable commands: joblog"; cat x.log; }
grep -q '^eventor: ./nonexistent-cmd: command not found$' x.err || { fail "not-found message"; cat x.err; }
grep -q '^eventor: ./noexec.sh: Permission denied$' x.err || { fail "not-executable message"; cat x.err; }

settle
# --bar on a terminal (script(1) gives a pty): the bar line is erased before
# each job's output and drawn again after it, never sharing a line with it
if command -v script >/dev/null; then
    n=$((n + 1))
    script -qc "'$E' -j1 --bar 'echo job {}; [ {} = 3 ] || sleep 0.15' ::: 1 2 3" /dev/null >bar.raw </dev/null
    esc=$(printf '\033')
    tr '\r' '\n' <bar.raw | grep -a job >bar.jobs
    [ "$(grep -c "^\($esc\[K\)\{0,1\}job [123]\$" bar.jobs)" = 3 ] && [ "$(wc -l <bar.jobs)" = 3 ] ||
        { fail "--bar on a terminal mixes with the output"; od -c bar.raw | head; }
    grep -aq '100% 3:0=' bar.raw || fail "--bar on a terminal: no final bar"
fi

settle
# --- bad input: one line on stderr, exit 255, nothing on stdout -------
bad -j x echo ::: 1
bad -j '' echo ::: 1
bad --jobs=1x echo ::: 1
bad -j +x echo ::: 1
bad -n 0 echo ::: 1
bad -n x echo ::: 1
bad --max-args echo
bad --colsep '(' echo ::: 1
bad --colsep '' echo ::: 1
bad --joblog '' echo ::: 1
bad --joblog
bad --retries x echo ::: 1
bad --retries -1 echo ::: 1
bad --timeout x echo ::: 1
bad --timeout -1 echo ::: 1
bad --timeout 0 echo ::: 1
bad --delay x echo ::: 1
bad --delay -2 echo ::: 1
bad --delay 1x echo ::: 1
bad --timeout 1m30 echo ::: 1
bad --timeout 10x% echo ::: 1
bad --line-buffer -u echo ::: 1
bad --tagstring
bad --halt bad echo ::: 1
bad --halt now,fail=0 echo ::: 1
bad --halt now,fail=x echo ::: 1
bad --halt now,foo=1 echo ::: 1
bad --halt later,fail=1 echo ::: 1
bad --halt now,fail=101% echo ::: 1
bad --tmpdir "$T/nonexistent" echo ::: 1
bad --resume echo ::: 1
bad --resume-failed echo ::: 1
bad --foo echo ::: 1
bad -Z echo ::: 1
bad --tag=1 echo ::: 1
bad -N x echo ::: 1
bad -N -1 echo ::: 1
bad -L 0 echo ::: 1
bad -s 0 echo ::: 1
bad -s 1x echo ::: 1
bad -s 3 echo ::: aaaaaa
bad -I '' echo ::: 1
bad -d '' echo ::: 1
# the fuzzers' finds: no overflow, no regcomp blow-up
bad --colsep "a$(printf '+%.0s' $(seq 40))" echo ::: 1
bad --colsep '((a{100}){100}){100}' echo ::: 1
bad --colsep 'a{999}' echo ::: 1
bad --colsep "$(printf '(%.0s' $(seq 40))a$(printf ')%.0s' $(seq 40))" echo ::: 1
bad --colsep "$(printf 'a%.0s' $(seq 1001))" echo ::: 1
bad --bar echo $(for i in $(seq 64); do printf ' ::: a b'; done)
bad --eta echo $(for i in $(seq 63); do printf ' ::: a b'; done) ::: a b c
bad -j 99999999999999999999 echo ::: 1
for j in +9223372036854775807 9223372036854775807% -9223372036854775807 0; do
    n=$((n + 1))
    [ "$("$E" -j $j echo ::: ok 2>&1)" = ok ] || fail "-j $j"
done
bad echo :::: "$T/nonexistent"
bad echo :::: in.txt "$T/nonexistent"
bad -a "$T/nonexistent" echo
bad echo :::: "$T"
bad echo :::: 
bad --joblog "$T/nonexistent/log" echo ::: 1
# unreadable input leaves an existing joblog as it was
echo keep >keep.log
bad --joblog keep.log echo :::: "$T/nonexistent"
[ "$(cat keep.log)" = keep ] || fail "joblog touched before the input was checked"
"$E" --help >help.out 2>&1 && grep -q -- '--resume-failed' help.out || fail "--help"
grep -q -- '--joblog FILE' help.out || fail "--help lists --joblog"

settle
# --- resume after kill -9: no job done twice, none lost ------------------
# Job 4 tells the test it runs, then blocks; the test kills eventor -9
# (the job dies with it: PR_SET_PDEATHSIG) and resumes without the block.
n=$((n + 1))
mkfifo ready block
rm -f done.txt crash.log
cat >job.sh <<'EOF2'
#!/bin/sh
if [ "$1" = 4 ] && [ ! -e resumed ]; then
    echo running >ready
    read x <block
fi
echo "$1" >>done.txt
echo "out $1"
EOF2
chmod +x job.sh
"$E" -j1 -k --joblog crash.log ./job.sh ::: 1 2 3 4 5 6 >crash1.out 2>&1 &
epid=$!
read x <ready
kill -9 $epid
wait $epid 2>/dev/null
touch resumed
"$E" -j2 -k --joblog crash.log --resume ./job.sh ::: 1 2 3 4 5 6 >crash2.out 2>&1
rc=$?
exec 3<>block # release a job that survived (it must not have)
exec 3>&-
[ $rc = 0 ] || fail "resume after kill -9: exit $rc"
[ "$(sort -n done.txt | tr '\n' ' ')" = "1 2 3 4 5 6 " ] || { fail "resume after kill -9: jobs done: $(tr '\n' ' ' <done.txt)"; }
[ "$(cat crash1.out crash2.out | tr '\n' ' ')" = "out 1 out 2 out 3 out 4 out 5 out 6 " ] || fail "resume after kill -9: outputs $(cat crash1.out crash2.out)"
[ "$(cut -f1 crash.log | tail -n +2 | sort -n | tr '\n' ' ')" = "1 2 3 4 5 6 " ] || fail "resume after kill -9: joblog"

# --- signals: the first stops new jobs, the second kills the running ones
# Jobs 1 and 2 say they run, then each wait for a line on the gate (held
# open by the test); the test signals eventor, waits for it to say so on
# stderr, then lets the jobs go (or signals again).
sigtest() { # SIGNAL COUNT
    n=$((n + 1))
    rm -f gate ready errp sig.out sig.err acked
    mkfifo gate ready errp acked
    exec 3<>gate 4<>ready # held open: no reader or writer ever sees EOF
    cat >sjob.sh <<'EOF2'
#!/bin/sh
echo "$1" >ready
read x <gate
echo "done $1"
EOF2
    chmod +x sjob.sh
    "$E" -j2 -k ./sjob.sh ::: 1 2 3 4 >sig.out 2>errp &
    epid=$!
    { read line; echo "$line"; echo ack >acked; cat; } <errp >sig.err &
    catpid=$!
    read x <&4
    read x <&4
    kill -"$1" $epid
    read x <acked
    if [ "$2" = 2 ]; then
        kill -"$1" $epid
    else
        printf 'go\ngo\n' >&3
    fi
    wait $epid
    rc=$?
    wait $catpid
    exec 3>&- 4>&-
    grep -q "SIG$1 received. No new jobs will be started" sig.err || fail "no SIG$1 message"
    if [ "$2" = 1 ]; then
        [ "$(cat sig.out | tr '\n' ' ')" = "done 1 done 2 " ] || fail "SIG$1: outputs $(cat sig.out)"
        [ $rc = 255 ] || fail "SIG$1: exit $rc, not 255 (GNU parallel's)"
    else
        [ -s sig.out ] && fail "SIG$1 twice: killed jobs printed $(cat sig.out)"
        [ $rc = 255 ] || fail "SIG$1 twice: exit $rc, not 255"
    fi
    grep -q "jobs finished" sig.err || fail "SIG$1: no summary"
}
sigtest TERM 1
sigtest INT 1
sigtest TERM 2

settle
echo "$n checks, $fails failed"
[ $fails = 0 ]
