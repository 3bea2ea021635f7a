#!/bin/sh
# Differential tests against GNU parallel of its odd options: --tmpl (the
# files it writes, their contents, --cleanup, --dry-run, a missing
# template), --shebang-wrap scripts (sh, perl, --pipe), -x, --show-limits,
# -o, --compress and its programs: the same stdout, stderr where it is
# compared, exit status, and the same files left in the job's directory.
# Usage: tests/cli/test_misc.sh PATH/TO/eventor
. "$(dirname "$0")/lib/parallel_diff.sh"

# K INPUT ARGS...: each tool in a directory of its own holding the fixtures
# (fx/), then both directories compared too.
check() {
    k=$1 in=$2
    shift 2
    printf "$in" >in$k
    mkdir p$k e$k
    cp fx/* p$k/
    cp fx/* e$k/
    (cd p$k && $P "$@" <../in$k >../p$k.out 2>../p$k.err; echo $? >../p$k.rc)
    (cd e$k && "$E" "$@" <../in$k >../e$k.out 2>../e$k.err; echo $? >../e$k.rc)
    sed -i 's/^parallel: /eventor: /' p$k.err
    {
        cmp -s p$k.out e$k.out || { echo "FAIL: stdout differs for: $*"; diff p$k.out e$k.out | head -10; }
        [ $cmp_err = 0 ] || cmp -s p$k.err e$k.err || { echo "FAIL: stderr differs for: $*"; diff p$k.err e$k.err | head -10; }
        cmp -s p$k.rc e$k.rc || echo "FAIL: exit $(cat e$k.rc), GNU parallel $(cat p$k.rc), for: $*"
        diff -r p$k e$k >/dev/null || { echo "FAIL: files differ for: $*"; diff -r p$k e$k | head -10; }
    } >log$k 2>&1
    rm -rf in$k p$k* e$k*
}

mkdir fx
# --- --tmpl: parallel(1)'s example, byte for byte ------------------------
cat >fx/my.tmpl <<'EOF'
Xval: {x}
Yval: {y}
FixedValue: 9
Seq: {#}
Slot: {%}
# x with 2 decimals
DecimalX: {=x $_=sprintf("%.2f",$_) =}
TenX: {=x $_=$_*10 =}
EOF
printf '#!/bin/sh\necho "$1"; cat "$1"\n' >fx/myprog
chmod +x fx/myprog
printf 'A {} B {#} {%%}\nC {1/} {=1 $_=uc($_) =}\n' >fx/t1
printf "v='{}' \$x {.}\n" >fx/t2
# (every fixture before the first check: the checks copy fx/ as they run)
printf 'x {= s/(/ =} y\n' >fx/bad.tmpl
printf '#!/bin/sh\nseq $1; seq 3 >&2\n' >fx/out.sh
chmod +x fx/out.sh
same -j1 -k --cleanup --header : --tmpl my.tmpl={#}.t ./myprog {#}.t ::: x 1.234 2.345 3.45678 ::: y 1 2 3
same -j1 -k --header : --tmpl my.tmpl={x}-{y}.t echo {x} ::: x 1 2 ::: y 3 4
same -j1 -k --template t1=x{}.t --tmpl t2=y{}.t cat x{}.t y{}.t ::: a b
same -k --tmpl t2='{.}.t' cat '{.}.t' ::: 'x y.z' "it's" '$HOME'
same -k --tmpl t1=a.t --tmpl t1=b.t cat b.t ::: 1
same -j1 -k -X --tmpl t1=x.t cat x.t ::: a b
same -j1 -k -m --tmpl t1=x.t cat x.t ::: a b c
same -j1 -k -n2 --tmpl t1=x.t cat x.t ::: a b c
same -j1 -k --tmpl t1=x.t 'cat x.t; echo {}' ::: a ::: b
same -j1 -k --cleanup --tmpl t1=c{#} 'cat c{#}; ls c*' ::: a b
same_err --cleanup --tmpl t1=q echo ::: a
same -j1 --dry-run --tmpl t1=d{}.t echo ::: a b
same -j1 --dry-run --cleanup --tmpl t1=d{}.t echo ::: a b
same_err --tmpl nofile=x echo ::: 1
same_err --tmpl =x echo ::: 1
bad --tmpl t1 echo ::: 1
same --tmpl bad.tmpl=o.t echo ::: a
n=$((n + 1))
"$E" --tmpl fx/bad.tmpl=o.t echo ::: a 2>bt.err >/dev/null
[ "$(grep -c '^eventor: Error: Cannot use s/(/ : ' bt.err)" = 1 ] && [ "$(wc -l <bt.err)" -le 2 ] ||
    fail "--tmpl with a bad {= =}: $(cat bt.err)"
# a file it cannot write: the run stops (GNU: perl's "Died", its errno)
n=$((n + 1))
(cd fx && "$E" --tmpl t1=/nonexistent/x echo ::: a >../w.out 2>../w.err)
rc=$?
[ $rc = 255 ] || fail "--tmpl into /nonexistent: exit $rc"
[ -s w.out ] && fail "--tmpl into /nonexistent: a job ran"
grep -q "^eventor: Error: Cannot write '/nonexistent/x'" w.err || fail "--tmpl: $(cat w.err)"


# --- --shebang-wrap: the same script under each tool's #! line -----------
# wrapped NAME ARGS...: wg/NAME's #! line names GNU parallel, we/NAME's
# eventor; the same output and exit status (stdin: wrap.in; run from their
# directories, so that $0 is the same).
wrapped() {
    n=$((n + 1))
    s=$1
    shift
    (cd wg && ./"$s" "$@" <../wrap.in >../wg.out 2>../wg.err)
    grc=$?
    (cd we && ./"$s" "$@" <../wrap.in >../we.out 2>../we.err)
    erc=$?
    sed -i 's/^parallel: /eventor: /' wg.err
    cmp -s wg.out we.out || { fail "--shebang-wrap $s $*: stdout differs"; diff wg.out we.out | head -5; }
    cmp -s wg.err we.err || { fail "--shebang-wrap $s $*: stderr differs"; diff wg.err we.err | head -5; }
    [ $grc = $erc ] || fail "--shebang-wrap $s $*: exit $erc, GNU parallel $grc"
}
# mkwrap NAME '#!-TAIL' BODY: both scripts
mkdir wg we
mkwrap() {
    printf '#!%s --shebang-wrap %s\n%s\n' "$(command -v parallel)" "$2" "$3" >wg/"$1"
    printf '#!%s --shebang-wrap %s\n%s\n' "$E" "$2" "$3" >we/"$1"
    chmod +x wg/"$1" we/"$1"
}
mkwrap w.sh '-k /bin/sh' 'echo "$0: $# [$*]"; exit $1'
mkwrap w.pl '-k /usr/bin/perl -w' 'print "perl: @ARGV\n";'
mkwrap wp.pl '--pipe -k --block 6 /usr/bin/perl -n' 'print "$.:$_";'
mkwrap wj.sh '-j1 --tag /bin/sh -e' 'echo "[$1]"'
seq 20 >wrap.in
wrapped w.sh 0 1 2
wrapped w.sh 'a b' "it's" '$HOME' 'x;echo y'
wrapped w.sh
wrapped w.pl x y
wrapped wj.sh a b
wrapped wp.pl
wrapped wp.pl no-such-file
wrapped wp.pl ../wrap.in
# not first: refused as unknown (GNU's Getopt's error and usage)
bad -k --shebang-wrap echo ::: a

# --- -x, --show-limits, -o ----------------------------------------------
same -k -x echo ::: a b
same -k --exit -s 20 -m echo ::: a b c d e f g
same_err -x -s 10 echo ::: aaaaaaaaaaaaaa
same -k --show-limits echo ::: a
same -k --showlimits echo ::: a
# -o: jobs read /dev/tty when there is one (none here: /dev/null), and
# unlike --tty run -j and grouped as asked
same_in 'stdin\n' -k -o 'echo {}; cat' ::: a b
same -k -j2 --open-tty 'sleep 0.{}; echo {}' ::: 3 1
if command -v script >/dev/null; then
    n=$((n + 1))
    out=$(script -qc "$E -o -k 'test -t 0 && echo tty {}' ::: a b" /dev/null </dev/null | tr -d '\r')
    [ "$out" = "$(printf 'tty a\ntty b')" ] || fail "-o on a terminal: '$out'"
fi

# --- --compress, --compress-program, --decompress-program ---------------
same_err -j1 -k --compress-program gzip 'echo {}; echo err{} >&2' ::: a b
same_err -j1 -k --compress-program 'gzip -9' --tag ./out.sh ::: 100000 7
same_err -j1 -k --compress-program cat --decompress-program cat ./out.sh ::: 5 0
same_err -j1 -k --compress ./out.sh ::: 3
same_err -j1 -k --use-compress-program 'bzip2' --use-decompress-program 'bzip2 -dc' ./out.sh ::: 3
same_err -j1 -k --compress-program 'tr a-z A-Z' --decompress-program 'tr A-Z a-z' echo ::: a b
same_err -j1 -k --compress-program 'sed s/^/C/' --decompress-program 'sed s/^/D/' echo ::: a
same_err -j1 -k --compress-program gzip true ::: a
same -j1 -k --compress-program nosuchprg echo ::: a b
# (GNU says "nosuchprg failed." after each job, at times "nosuchprg -dc
# failed." too: a race of its decompressor; stderr checked here)
n=$((n + 1))
"$E" -j1 -k --compress-program nosuchprg echo ::: a b 2>nz.err
[ "$(grep -c "^eventor: Error: nosuchprg failed.$" nz.err)" = 2 ] || fail "--compress-program nosuchprg: $(cat nz.err)"
same -j1 -k --compress-program false echo ::: a
same -j1 -k --compress-program false 'echo {}; exit 3' ::: a
n=$((n + 1))
"$E" -j1 -k --compress-program false echo ::: a 2>nf.err
[ "$(cat nf.err)" = "eventor: Error: false failed." ] || fail "--compress-program false: $(cat nf.err)"
same -j1 -k --compress-program cat --decompress-program nosuchprg echo ::: a b
# (a decompressor that runs and fails: GNU minds it only at times)
same_err -j1 -k --compress-program cat --decompress-program 'cat; exit 1' echo ::: a
n=$((n + 1))
"$E" -j1 --joblog jl --compress-program gzip seq ::: 1000 >/dev/null
[ "$(cut -f6 jl | tail -1)" = 3893 ] || fail "--compress: joblog Receive $(cut -f6 jl | tail -1)"

settle
echo "$n checks, $fails failed"
[ $fails = 0 ]
