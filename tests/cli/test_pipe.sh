#!/bin/sh
# Differential tests of eventor --pipe against GNU parallel --pipe: the same
# input file on stdin (or -a), the same arguments; the same stdout, stderr
# (prefix aside), exit status and joblog (without its timing columns) are
# expected. Per-job wc/md5sum outputs with -k show where blocks were cut.
# Usage: tests/cli/test_pipe.sh PATH/TO/eventor
. "$(dirname "$0")/lib/parallel_diff.sh"


# check K FILE ARGS...: both tools with FILE on stdin; logs into logK.
check() {
    k=$1 f=$2
    shift 2
    $P --joblog p$k.log "$@" <"$f" >p$k.out 2>p$k.err; prc=$?
    "$E" --joblog e$k.log "$@" <"$f" >e$k.out 2>e$k.err; erc=$?
    sed 's/^parallel:/eventor:/' p$k.err >p$k.err2
    {
        cmp -s p$k.out e$k.out || { echo "FAIL: stdout differs for: $* <$f"; diff p$k.out e$k.out | head -10; }
        [ "$prc" = "$erc" ] || echo "FAIL: exit $erc, GNU parallel $prc, for: $* <$f"
        cmp -s p$k.err2 e$k.err || { echo "FAIL: stderr differs for: $* <$f"; diff p$k.err2 e$k.err | head -5; }
        cut -f"${cols:-1,2,5-9}" p$k.log | sort -n >p$k.lc
        cut -f"${cols:-1,2,5-9}" e$k.log | sort -n >e$k.lc
        cmp -s p$k.lc e$k.lc || { echo "FAIL: joblog differs for: $* <$f"; diff p$k.lc e$k.lc | head -5; }
    } >log$k 2>&1
    rm -f p$k.* e$k.*
}
same_file() { # FILE ARGS...
    n=$((n + 1))
    check $n "$@" &
    running=$((running + 1))
    [ $running -lt 4 ] || settle
}
same_in() { # INPUT(printf format) ARGS...
    n=$((n + 1))
    printf "$1" >in$n.txt
    shift
    check $n in$n.txt "$@" &
    running=$((running + 1))
    [ $running -lt 4 ] || settle
}

# rr_check K FILE ARGS...: --round-robin without -k, where which job gets
# which block is fixed in neither tool: the jobs that ran (joblog Seq), all
# of the output sorted (each line once, none lost) and the exit status.
rr_check() {
    k=$1 f=$2
    shift 2
    $P --joblog p$k.log "$@" <"$f" >p$k.out 2>p$k.err; prc=$?
    "$E" --joblog e$k.log "$@" <"$f" >e$k.out 2>e$k.err; erc=$?
    for t in p e; do
        { tail -n +2 $t$k.log | cut -f1 | sort -n | paste -sd' '
          sort $t$k.out | md5sum; } >$t$k.sum
    done
    {
        cmp -s p$k.sum e$k.sum || { echo "FAIL: round-robin jobs or output differ for: $* <$f"; diff p$k.sum e$k.sum; }
        [ "$prc" = "$erc" ] || echo "FAIL: exit $erc, GNU parallel $prc, for: $* <$f"
    } >log$k 2>&1
    rm -f p$k.* e$k.*
}
same_rr() { # FILE ARGS...
    n=$((n + 1))
    rr_check $n "$@" &
    running=$((running + 1))
    [ $running -lt 4 ] || settle
}

seq 1 3000 >s3k.txt
seq 1 300000 >s300k.txt
(echo hdr; seq 1 5000) >h5k.txt
# --block: cut at the last record end in each block, sizes with suffixes
same_file s300k.txt --pipe -k wc -l
same_file s300k.txt --pipe --block 100k -k wc -l
same_file s300k.txt --pipe --block 0.5M -k -j3 md5sum
seq 1 300 >s300.txt
same_file s300.txt --pipe --block 10 -k wc -c
same_file s300k.txt --pipe -L75 -k wc
same_file s300k.txt --pipe -L 7 --block 10k -k md5sum
same_file s300.txt --pipe -L 1000 -k wc -l
same_file s3k.txt --pipe --block 1k -j2 -k md5sum
same_file s3k.txt --pipe --block 1Ki -k wc -c
same_in '' --pipe -k wc -l
same_in 'no newline at the end' --pipe --block 5 -k wc -c
same_in 'abcdefghijklmnopqrstuvwxyz\n1\n' --pipe --block 5 -k wc -c
# -N records a job
same_file s3k.txt --pipe -N 7 -k wc -l
same_file s3k.txt --pipe -N 1000 --block 1k -k md5sum
same_in '\n\n1\n\n2\n' --pipe -N1 -k 'echo x; cat'
# --recend, --recstart
same_file s3k.txt --pipe --block 1k --recend 5 -k wc -c
same_file s3k.txt --pipe --block 1k --recstart 1 -k md5sum
same_file s3k.txt --pipe --recstart 9 --recend 0 -k --block 2k md5sum
same_in 'a\0b\0c\0' --pipe --recend '\0' --block 2 -k od -c
same_in '>a\nxx\n>b\nyy\n>c\n' --pipe --recstart '>' -N1 -k 'echo {#}; cat'
same_in '>a\nxx\n>b\nyy\n>c\n' --pipe --recstart '>' --block 3 -k 'echo {#}; cat'
# --header before every block
same_file s3k.txt --pipe --header : --block 1k -k 'head -2'
same_file s3k.txt --pipe --header 2 -N 300 -k cat
same_in 'h\n' --pipe --header : -k cat
same_in 'h\na\nb' --pipe --header : --block 2 -k cat
same_in 'h1\nh2\nx\ny\nz\n' --pipe --header 'h.\nh.\n' -N2 -k cat
same_in 'h1\nh2\nx\ny\nz\n' --pipe --header 'h[0-9]\n' -N2 -k cat
# exit status, {#}
same_in '1\n2\n3\n4\n' --pipe -N1 -k 'cat; exit 1'
same_in '1\n2\n3\n4\n' --pipe -N1 -k -j1 'echo {#} {%}; cat'
same_in '1\n2\n3\n' --pipe --block 2 -k 'cat >/dev/null'
# --regexp: --recstart/--recend as Perl regexes, cut by GNU's own patterns
fa='>a\nxx\n>b\nyy\n>c\nzz\n'
same_in "$fa" --pipe --regexp --recstart '^>' -N1 -k 'echo {#}; cat'
same_in "$fa" --pipe --regexp --recstart '^>' --block 3 -k 'echo {#}; cat'
same_in "junk\n$fa" --pipe --regexp --recstart '^>' -N2 -k 'echo {#}; cat'
same_in "$fa" --pipe --regexp --recstart '>[bc]' -N1 -k 'echo {#}; cat'
same_in "$fa" --pipe --regexp --recend 'y+\n' -N1 -k 'echo {#}; cat'
same_in "$fa" --pipe --regexp --recend 'x|z' --block 4 -k 'echo {#}; cat'
same_in "$fa" --pipe --regexp --recend '\n' --recstart '>(a|c)' -N1 -k 'echo {#}; cat'
same_file s3k.txt --pipe --regexp --recend '0\n' --block 1k -k md5sum
same_file s3k.txt --pipe --regexp --recstart '^[0-9]*5$' -N 3 -k md5sum
same_file s3k.txt --pipe --regexp --recend '' --block 100 -k wc -c
same_file s3k.txt --pipe --regexp -N 100 -k wc -l
same_file s3k.txt --pipe --regexp --recend '[05]\n' -N 7 --header 2 -k md5sum
same_file /dev/null --pipepart -a s3k.txt --regexp --recend '0\n' --block 1k -k md5sum
# --rrs: recend+recstart, a first recstart and a last recend out of each
# block (parallel_tutorial's example first); a block left empty runs no job
same_in 'foo,bar,_baz,__qux,\n' -kN1 --rrs --regexp --recend ,_+ --pipe 'echo JOB{#};cat;echo END'
same_in "$fa" -kN1 --rrs --recstart '>' --pipe 'echo {#}; cat | od -c'
same_in "$fa" -kN2 --rrs --regexp --recstart '^>' --recend '\n' --pipe 'echo {#}; cat | od -c'
same_in 'axzbx\ncx\n\n' -kN1 --rrs --pipe 'echo {#}; cat | od -c'
same_in 'xyzaxyzbxy\n' -k --rrs --recend xy --recstart z --pipe 'cat | od -c'
same_in 'a\nb\nc\nd\n' --pipe --round-robin -j1 --block 3 -k --rrs 'cat | od -c'
same_file s3k.txt -k --rrs --recend 0 --block 1k --pipe md5sum
same_file /dev/null --pipepart -a s3k.txt --regexp --recstart "[23]0" --block 1k -k md5sum
# --round-robin: -j jobs at most, the header once a job; with -k each job
# gets the blocks in turn (as GNU's blocking writes), so all is compared
same_file s300k.txt --pipe --round-robin -j4 --block 100k -k wc -l
same_file s300k.txt --pipe --round-robin -j3 --block 100k -k md5sum
same_file h5k.txt --pipe --round-robin -j3 --block 2k --header : -k md5sum
same_file s3k.txt --pipe --round-robin -j4 -k 'echo {#} {%}; wc -l'
same_file s3k.txt --pipe --round-robin -j2 -N 100 -k 'wc -l'
same_file /dev/null --pipepart --round-robin -a s300k.txt -j3 -k wc -l
same_rr s300k.txt --pipe --round-robin -j4 --block 100k cat
same_rr s300k.txt --pipe --round-robin -j3 --block 50k 'cat; exit 2'
same_rr s3k.txt --pipe --round-robin -j5 --block 1k --recend '0\n' cat
# --tee: all of the input to every job, one a value, all at once; a job
# that stops reading keeps its own status
same_file s3k.txt --pipe --tee -k 'grep {} | wc -l' ::: 1 2 3
same_file s3k.txt --pipe --tee -k --tag 'grep {1} | wc {2}' ::: 1 2 ::: -l -c
same_file s300k.txt --pipe --tee -k 'head -1; echo {#} {%}' ::: a b c
same_file s300k.txt --pipe --tee -k -v md5sum ::: a b
same_file s3k.txt --pipe --tee -k 'grep -c {}; exit 3' ::: 1 2
same_file /dev/null --pipepart -a s3k.txt --tee -k 'grep {} | wc -l' ::: 1 2 3
same_file /dev/null --pipepart -a s300k.txt --tee -k 'head -2' ::: a b
# a --pipepart job that stops reading: its own status, eventor goes on
same_file /dev/null --pipepart -a s300k.txt --block 1M -k 'head -1'
# --group-by: GNU's separator before each line whose column differs from
# the line before's, the blocks cut at those (-N: groups a job)
printf 'UserID,Consumption\n123,1\n123,2\n12-3,1\n221,3\n221,1\n2/21,5\n' >t.csv
seq 1 30000 | awk '{print int($1/7) "\t" $1}' >g30k.txt
same_file t.csv --pipe --colsep , --group-by UserID -kN1 wc
same_file t.csv --pipe --colsep , --header : --group-by UserID -kN1 wc
same_file t.csv --pipe --colsep , --group-by 1 -kN1 'cat; echo --'
same_file t.csv --pipe --colsep , --group-by 2 -kN2 'cat; echo --'
same_file g30k.txt --pipe --group-by 1 --block 10k -k 'wc -l'
same_file g30k.txt --group-by 1 -N 100 -k md5sum
same_file g30k.txt --pipe --group-by 2 --block 5k -k 'wc -l'
same_file g30k.txt --pipe --colsep '[0-9]' --group-by 2 -N 3 -k md5sum
# --header : with a column number: the first line goes before each block
# (GNU 20221122 leaks its separator into it; as with the column's name)
n=$((n + 1))
$P --pipe --colsep , --group-by UserID -kN1 cat <t.csv >p.out
"$E" --pipe --colsep , --header : --group-by 1 -kN1 cat <t.csv >e.out
cmp -s p.out e.out || fail "--header : --group-by 1"
# $PARALLEL_TMP: --cat's file; for other jobs a name in --tmpdir, what
# the job makes there removed after it (as GNU's). With --cat and --fifo
# the joblog's Command has the file's name where GNU's has $PARALLEL_TMP.
cols=1,2,5-8
same_in '1\n2\n3\n' --pipe --cat -N1 -k 'test {} = "$PARALLEL_TMP" && cat {}'
mkdir -p tmpd
same_in '1\n2\n' --tmpdir tmpd --pipe -N1 -k 'case $PARALLEL_TMP in tmpd/par?????) echo ok;; esac; cat >$PARALLEL_TMP'
# --fifo: the block through a named pipe, {} and $PARALLEL_TMP naming it
same_file s3k.txt --pipe --fifo --block 2k -k 'md5sum <{}'
same_file s3k.txt --fifo -N 700 -k 'cat {} | wc -l'
same_file s3k.txt --fifo -N 1000 -k 'wc -c <'
same_file s3k.txt --pipe --fifo -N 500 -k 'test {} = "$PARALLEL_TMP" && wc -l <$PARALLEL_TMP'
same_file s3k.txt --pipe --fifo --block 2k -k 'cat {} >/dev/null; exit 2'
same_file /dev/null --pipepart -a s3k.txt --block 1k --fifo -k 'md5sum <{}'
settle
cols=
# --pipepart: byte ranges of a regular file, cut as GNU's
# find_split_positions cuts them (--block -N: N parts a job slot)
same_file /dev/null --pipepart -a s300k.txt -k wc -l
same_file /dev/null --pipepart -a s3k.txt --block 1k -k md5sum
same_file /dev/null --pipepart -a s300k.txt --block -3 -j2 -k wc -c
same_file /dev/null --pipepart -a s3k.txt --block 1k --recend 7 -k md5sum
same_file /dev/null --pipepart -a s3k.txt --block 1k --recstart 2 -k md5sum
same_file /dev/null --pipepart -a h5k.txt --header : --block 2k -k md5sum
settle

# refused with one line and 255, never run as something else
for args in "--pipe echo ::: a" "--pipepart -a s3k.txt -L 2 cat" "--block 1k echo" \
    "--pipe --block 0 cat" "--pipe --block 1x cat" "--pipe" \
    "--pipe -a s3k.txt cat" "--recend x echo" "--pipepart -a - cat" \
    "--pipepart -a missing.txt cat" "--pipepart -a /dev/null cat" \
    "--pipe --block -2 cat" "--pipe --regexp --recstart ( cat" \
    "--regexp cat" "--pipe --group-by 1+1 cat" "--pipe --group-by -1 cat" \
    "--pipe --group-by 1 --recstart x cat" "--pipe --colsep , --group-by no cat" \
    "--pipepart -a s3k.txt --group-by 1 cat" "--pipe --tee --cat cat ::: 1" \
    "--pipe --fifo --cat cat"; do
    # shellcheck disable=SC2086
    "$E" $args </dev/null >out 2>err
    rc=$?
    [ "$rc" = 255 ] || fail "exit $rc for eventor $args"
    [ "$(wc -l <err)" = 1 ] || fail "not one error line for eventor $args: $(cat err)"
    [ -s out ] && fail "output for eventor $args"
done

# a block longer than the pipe is fed with backpressure: a slow reader
# gets all of it, in order
seq 1 2000000 >s2m.txt
"$E" --pipe --block 4M -j2 -k 'sleep 0.1; md5sum' <s2m.txt >e.out
$P --pipe --block 4M -j2 -k 'md5sum' <s2m.txt >p.out
cmp -s e.out p.out || fail "slow readers of 4M blocks"

n=$((n + 1))
[ -z "$(ls tmpd)" ] || fail "\$PARALLEL_TMP files left: $(ls tmpd)"

# --tee with fewer slots than jobs: GNU's error, exit 255 (not run against
# GNU parallel here: its tee would be left behind, waiting on its fifos)
n=$((n + 1))
"$E" --pipe --tee -j2 -k 'grep {}' ::: 1 2 3 <s3k.txt >t.out 2>t.err
rc=$?
[ $rc = 255 ] && [ ! -s t.out ] &&
    [ "$(cat t.err)" = "eventor: Error: --tee requires --jobs to be higher. Try --jobs 0." ] ||
    fail "--tee -j2 with 3 jobs: exit $rc, $(cat t.err)"

# --fifo a job never opens: GNU's would wait for ever; this one ends, and
# leaves no fifo behind
n=$((n + 1))
mkdir -p tmpf
out=$(seq 1 10 | timeout 60 "$E" --tmpdir tmpf --fifo -N5 echo never)
[ "$(echo "$out" | grep -c '^never tmpf/par')" = 2 ] || fail "--fifo unopened: $out"
[ -z "$(ls tmpf)" ] || fail "--fifo files left: $(ls tmpf)"

# --round-robin whose jobs all stop reading: the rest of the input is
# dropped and the jobs count as killed by SIGPIPE (GNU parallel dies of
# the SIGPIPE itself), never a hang
n=$((n + 1))
seq 1 1000000 | timeout 60 "$E" --pipe --round-robin -j2 --block 10k \
    --joblog rr.log 'head -1 >/dev/null'
rc=$?
[ $rc = 1 ] || [ $rc = 2 ] || fail "--round-robin, no job reading: exit $rc"
[ "$(cut -f8 rr.log | grep -c 13)" -ge 1 ] || fail "--round-robin: no SIGPIPE in the joblog"

if [ $fails -gt 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "all $n differential checks passed"
