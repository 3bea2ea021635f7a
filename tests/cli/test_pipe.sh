#!/bin/sh
# Differential tests of eventor --pipe against GNU parallel --pipe: the same
# input file on stdin (or -a), the same arguments; the same stdout, stderr
# (prefix aside), exit status and joblog (without its timing columns) are
# expected. Per-job wc/md5sum outputs with -k show where blocks were cut.
# Usage: tests/cli/test_pipe.sh PATH/TO/eventor
. "$(dirname "$0")/lib/parallel_diff.sh"

# both K IN ARGS...: GNU parallel then eventor on ARGS, IN on stdin, each
# with its joblog (pK.log, eK.log), into pK.out/pK.err and eK.out/eK.err,
# their exit statuses in prc and erc; 120 s each at most, so that a hang
# names its check (CI once saw this script run past 600 s): eventor's is a
# FAIL (in hungK), GNU's gets a second try (its hang is not eventor's).
both() {
    k=$1 in=$2
    shift 2
    for try in 1 2; do
        timeout -k 5 120 $P --joblog p$k.log "$@" <"$in" >p$k.out 2>p$k.err
        prc=$?
        [ $prc = 124 ] || break
    done
    timeout -k 5 120 "$E" --joblog e$k.log "$@" <"$in" >e$k.out 2>e$k.err
    erc=$?
    [ $erc != 124 ] || echo "FAIL: eventor ran over 120 s for: $* <$in" >hung$k
}

# check K FILE ARGS...: both tools with FILE on stdin; logs into logK.
check() {
    k=$1 f=$2
    shift 2
    both $k "$f" "$@"
    sed 's/^parallel:/eventor:/' p$k.err >p$k.err2
    {
        cmp -s p$k.out e$k.out || { echo "FAIL: stdout differs for: $* <$f"; diff p$k.out e$k.out | head -10; }
        [ "$prc" = "$erc" ] || echo "FAIL: exit $erc, GNU parallel $prc, for: $* <$f"
        cmp -s p$k.err2 e$k.err || { echo "FAIL: stderr differs for: $* <$f"; diff p$k.err2 e$k.err | head -5; }
        cut -f"${cols:-1,2,5-9}" p$k.log | sort -n >p$k.lc
        cut -f"${cols:-1,2,5-9}" e$k.log | sort -n >e$k.lc
        cmp -s p$k.lc e$k.lc || { echo "FAIL: joblog differs for: $* <$f"; diff p$k.lc e$k.lc | head -5; }
        cat hung$k 2>/dev/null
    } >log$k 2>&1
    rm -f p$k.* e$k.* hung$k
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
    both $k "$f" "$@"
    for t in p e; do
        { tail -n +2 $t$k.log | cut -f1 | sort -n | paste -sd' '
          sort $t$k.out | md5sum; } >$t$k.sum
    done
    {
        cmp -s p$k.sum e$k.sum || { echo "FAIL: round-robin jobs or output differ for: $* <$f"; diff p$k.sum e$k.sum; }
        [ "$prc" = "$erc" ] || echo "FAIL: exit $erc, GNU parallel $prc, for: $* <$f"
        cat hung$k 2>/dev/null
    } >log$k 2>&1
    rm -f p$k.* e$k.* hung$k
}
same_rr() { # FILE ARGS...
    n=$((n + 1))
    rr_check $n "$@" &
    running=$((running + 1))
    [ $running -lt 4 ] || settle
}

# shard_check K FILE SKIP KEY ARGS...: --shard, where which job gets which
# key is fixed in neither tool (GNU's hash has a random seed). Each tool's
# output, a "== {#}" line before each job's lines, must hold every line of
# FILE (but its first SKIP) once, each KEY (an awk expression over the
# line's ,-fields) in one job only, and with eventor each job's lines in
# the input's order (GNU shards a large input in blocks); the jobs that
# ran (joblog Seq) and the exit status as GNU's. FILE's lines are unique.
shard_check() {
    k=$1 f=$2 skip=$3 key=$4
    shift 4
    both $k "$f" "$@"
    {
        for t in p e; do
            awk -F, -v t=$t -v skip="$skip" '
                FILENAME == ARGV[1] { if (FNR > skip) rank[$0] = FNR; next }
                /^== / { job = substr($0, 4); last = 0; next }
                {
                    kk = '"$key"'
                    if ((kk in owner) && owner[kk] != job)
                        print "FAIL: " t ": key " kk " in jobs " owner[kk] " and " job
                    owner[kk] = job
                    if (!($0 in rank)) print "FAIL: " t ": not in the input: " $0
                    else if (t == "e" && rank[$0] < last) print "FAIL: e: job " job " out of order at " $0
                    last = rank[$0]
                    seen[$0]++
                }
                END { for (l in rank) if (seen[l] != 1) { print "FAIL: " t ": " l " seen " seen[l] + 0 " times"; exit } }
            ' "$f" $t$k.out
            tail -n +2 $t$k.log | cut -f1 | sort -n | paste -sd' ' >$t$k.seqs
        done
        cmp -s p$k.seqs e$k.seqs || echo "FAIL: jobs $(cat e$k.seqs), GNU parallel $(cat p$k.seqs), for: $* <$f"
        [ "$prc" = "$erc" ] || echo "FAIL: exit $erc, GNU parallel $prc, for: $* <$f"
        cat hung$k 2>/dev/null
    } >log$k 2>&1
    rm -f p$k.* e$k.* hung$k
}
same_shard() { # FILE SKIP KEY ARGS...
    n=$((n + 1))
    shard_check $n "$@" &
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
# --tee without --pipe: no input fed, but all the jobs at once (-j 0
# unless given) and GNU's error, exit 255, when -j allows fewer
same_in 'in\n' --tee -k 'cat; echo {}' ::: a b c
same_in 'in\n' --tee -j3 -k 'echo {}' ::: a b c
same_in 'in\n' --tee -j2 'echo {}' ::: a b c
same_in 'in\n' --tee -j1 'touch {}' ::: a b c
same_in 'a\nb\nc\n' --tee -j2 echo
same_in 'a\nb\n' --tee -j2 -k echo
same_in 'in\n' --tee --bin 1 -j1 echo ::: a b
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
# --bin: each line to job (value % -j), 0 to the last; all -j jobs run at
# once, the values of ::: (padded with empty ones) theirs. Inputs under
# GNU's 100k block, which it shards in one process (in order)
printf 'a,1\nb,2\nc,3\na,4\nd,5\nb,6\n' >b.csv
same_file b.csv --pipe --bin 2 -j3 --colsep , -k 'echo job {#} slot {%}; cat'
same_file s300.txt --pipe --bin 1 -j3 -k 'echo J{#}; cat'
same_file s300.txt --pipe --bin '1 $_*=2' -j3 -k 'echo J{#}; cat'
same_file s300.txt --pipe --bin 1 -k 'echo J{#}; wc -l'
same_file s300.txt --pipe --bin 1 -j4 -k 'echo "J{#} [{}] [{1}] [{2}]"; wc -l' ::: x y
same_file s300.txt --pipe --bin 1 -j5 -k 'echo "J{#} {1} {2}"; wc -l' ::: x y ::: p q
same_file /dev/null --pipe --bin 1 -j2 -k 'echo J{#}; cat'
same_in '1\tx\n2\ty\n3\tz' --pipe --colsep '\t' --bin 1 -j2 -k 'echo J{#}; cat'
same_in 'x,0\n-7,a\n2.9,b\nabc,c\n 5,d\n+4,e\n1e1,f\n-2.5,g\n99999999999999999999,h\n' \
    --pipe --bin 1 -j3 -k 'echo J{#}; cat'
same_in 'k;v\n1;3\n2;4\n3;5\n' --pipe --colsep ';' --bin k -j2 -k 'echo J{#}; cat'
same_in 'x,3\ny,4\n' --pipe --bin '2 $_ = length' -j2 -k 'echo J{#}; cat'
same_in '1,a\n2,b\n' --pipe --bin 1 --shard 2 -j2 -k 'echo J{#}; cat'
same_in '1\n2\n3\n4\n5\n' --pipe --bin 1 -j3 -N1 --header : -k 'echo J{#}; cat'
# without --pipe: the jobs all at once, no more than -j (GNU's error)
same_file s300.txt --bin 1 -j2 echo
cols=1,2,5-8
same_in '1\n2\n3\n' --bin 1 -j3 -k echo
same_in '1\n2\n' --pipe --bin 1 -j1 -k 'echo {}; cat' ::: x y
same_in '1\n2\n' --pipe --shard 1 -j2 -k 'echo {}; cat' ::: x y z
settle
cols=
# --shard: the same key to one job, which one fixed in neither tool
seq 1 300000 | awk '{print $1 % 997 "," $1}' >sh300k.csv
(echo name,n; seq 1 40 | awk '{print "k" $1 % 5 "," $1}') >shh.csv
same_shard sh300k.csv 0 '$1' --pipe --shard 1 -j4 -k 'echo "== {#}"; cat'
same_shard sh300k.csv 0 '$2 % 7' --pipe --shard '2 $_ %= 7' -j3 -k 'echo "== {#}"; cat'
same_shard shh.csv 1 '$1' --pipe --shard name -j3 --colsep , -k 'echo "== {#}"; cat'
same_shard shh.csv 0 '$1' --pipe --shard 1 -j3 --colsep '[,]' -k 'echo "== {#}"; cat' ::: x y
same_shard shh.csv 0 '$2' --pipe --shard 2 -j2 -k 'echo "== {#}"; cat'
settle
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
    "--pipe --fifo --cat cat" "--pipe --shard -1 cat" "--pipe --bin 1 --fifo cat" \
    "--pipepart -a s3k.txt --shard 1 cat" "--pipe --bin 1 --round-robin cat" \
    "--pipe --shard 1 --dry-run cat" "--pipe --colsep , --shard x cat"; do
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

# --shard, --bin: a job that exits without reading drops out, the others
# get all of their lines (GNU's sharder dies of the SIGPIPE, the others
# lose theirs); nothing hangs
n=$((n + 1))
timeout 60 "$E" --pipe --shard 1 -j3 -k 'wc -l' <sh300k.csv >all.out
timeout 60 "$E" --pipe --shard 1 -j3 -k --joblog sh.log \
    'if [ {#} = 2 ]; then exit 3; fi; wc -l' <sh300k.csv >drop.out
rc=$?
[ $rc = 1 ] && [ "$(sed -n '1p;3p' all.out)" = "$(cat drop.out)" ] &&
    [ "$(cut -f7 sh.log | paste -sd' ')" = "Exitval 0 3 0" ] ||
    fail "--shard, a job not reading: exit $rc, $(cat drop.out) (all: $(cat all.out))"
n=$((n + 1))
out=$(seq 1 100000 | timeout 60 "$E" --pipe --bin 1 -j2 'head -1')
[ "$(echo "$out" | sort -n | paste -sd' ')" = "1 2" ] || fail "--bin, no job reading: $out"
# -j 0: as many jobs as the fds allow when all of them run at once
n=$((n + 1))
out=$( (ulimit -n 300; seq 1 10 | timeout 60 "$E" --pipe --bin 1 -j0 wc -l 2>t.err) )
[ ! -s t.err ] && [ "$(echo "$out" | grep -c 1)" = 10 ] && [ "$(echo "$out" | wc -l)" -gt 10 ] ||
    fail "--bin -j0 under ulimit -n 300: $(head -3 t.err)"
# --timeout kills a job that does not read (the feeder waits on it)
n=$((n + 1))
timeout 60 "$E" --pipe --bin 1 -j2 --timeout 1 --joblog to.log \
    'if [ {#} = 1 ]; then sleep 100; fi; wc -l' <sh300k.csv >/dev/null 2>&1
rc=$?
[ $rc != 124 ] && [ "$(awk -F'\t' '$1 == 1 { print $8 }' to.log)" = 15 ] ||
    fail "--bin, --timeout on a job not reading: exit $rc, $(cat to.log)"
# a column name not in the header (GNU's error line also lists the names,
# in its hash's order); the header's last column is found (GNU's keeps the
# line end on it and does not find it)
n=$((n + 1))
printf 'k,v\na,1\n' | "$E" --pipe --colsep , --shard x cat >t.out 2>t.err
rc=$?
[ $rc = 255 ] && [ ! -s t.out ] &&
    [ "$(cat t.err)" = "eventor: Column 'x' not found in header" ] ||
    fail "--shard x: exit $rc, $(cat t.err)"
out=$(printf 'k,v\na,1\nb,2\nc,1\n' | "$E" --pipe --colsep , --bin v -j2 -k 'echo J{#}; cat')
[ "$(echo $out)" = "J1 a,1 c,1 J2 b,2" ] || fail "--bin v (the last column): $out"
# a perl expression that does not compile: refused before any job; one
# that dies: the jobs end with what they got, exit 255
n=$((n + 1))
seq 1 10 | "$E" --pipe --bin '1 $_*=(' -j2 'echo ran' >t.out 2>t.err
rc=$?
[ $rc = 255 ] && [ ! -s t.out ] && grep -q '^eventor: Error: Cannot use' t.err ||
    fail "--bin, bad perl: exit $rc, $(cat t.out t.err)"
seq 1 10 | timeout 60 "$E" --pipe --shard '1 die "no\n" if $_ > 5' -j2 'wc -l' >t.out 2>t.err
rc=$?
[ $rc = 255 ] && [ "$(cat t.err)" = no ] && [ "$(wc -l <t.out)" = 2 ] ||
    fail "--shard, perl dies: exit $rc, $(cat t.out t.err)"

if [ $fails -gt 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "all $n differential checks passed"
