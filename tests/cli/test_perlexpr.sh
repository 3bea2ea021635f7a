#!/bin/sh
# Differential tests against GNU parallel of {= perl expression =},
# {=N ... =}, --rpl (with groups: $$1) and --parens: every perl example of
# parallel_tutorial(7) and of parallel(1) that needs no remote host, the
# helpers (Q uq skip seq slot total_jobs @arg $job), globals that live from
# job to job in the one perl, and a perl syntax error. stdout and the exit
# status must be the same (stderr where it says so).
# Usage: tests/cli/test_perlexpr.sh PATH/TO/eventor
. "$(dirname "$0")/lib/parallel_diff.sh"
command -v perl >/dev/null || { echo "perl is missing (scripts/install-deps.sh test)"; exit 1; }

check() { # K INPUT ARGS...
    k=$1 in=$2
    shift 2
    printf "$in" | $P "$@" >p$k.out 2>p$k.err; prc=$?
    printf "$in" | "$E" "$@" >e$k.out 2>e$k.err; erc=$?
    sed -i 's/^parallel: /eventor: /' p$k.err
    {
        cmp -s p$k.out e$k.out || { echo "FAIL: stdout differs for: $* (input '$in')"; diff p$k.out e$k.out | head -10; }
        [ "$prc" = "$erc" ] || echo "FAIL: exit $erc, GNU parallel $prc, for: $*"
        [ $cmp_err = 0 ] || cmp -s p$k.err e$k.err || { echo "FAIL: stderr differs for: $*"; diff p$k.err e$k.err | head -5; }
    } >log$k 2>&1
    rm -f p$k.out p$k.err e$k.out e$k.err
}

# --- parallel_tutorial(7): "Perl expression replacement string" and on ----
same echo '{= s:\.[^.]+$::;s:\.[^.]+$::; =}' ::: foo.tar.gz
same -k echo Job {#} of {= '$_=total_jobs()' =} ::: 1 2 3 4 5
same echo {} shell quoted is {= '$_=Q($_)' =} ::: '*/!#$'
same -k echo {= 'if($_==3) { skip() }' =} ::: 1 2 3 4 5
same -k echo {= 'if($arg[1]==$arg[2]) { skip() }' =} ::: 1 2 3 ::: 1 2 3
same --parens ,,,, echo ',, s:\.[^.]+$::;s:\.[^.]+$::; ,,' ::: foo.tar.gz
same --rpl '.. s:\.[^.]+$::;s:\.[^.]+$::;' echo '..' ::: foo.tar.gz
same --rpl '{..} s:\.[^.]+$::;s:\.[^.]+$::;' echo '{..}' ::: foo.tar.gz
same --rpl '{%(.+?)} s/$$1$//;' echo {%.tar.gz}.zip ::: foo.tar.gz
same --rpl '{/(.+?)/(.*?)} s/$$1/$$2/;' echo {/tar.gz/zip} ::: foo.tar.gz
same echo '{=2 s:\.[^.]+$::;s:\.[^.]+$::; =} {1}' ::: bar ::: foo.tar.gz
same --rpl '{..} s:\.[^.]+$::;s:\.[^.]+$::;' echo '{2..} {1}' ::: bar ::: foo.tar.gz
# GNU parallel's 7 replacement strings as the tutorial defines them
same -k --rpl '{x} ' echo {x} ::: a/b.c d
same -k --rpl '{x#} $_=$job->seq()' --rpl '{x%} $_=$job->slot()' -j1 echo {x#} {x%} ::: a b
same -k --rpl '{x/} s:.*/::' --rpl '{x/.} s:.*/::; s:\.[^/.]+$::;' --rpl '{x.} s:\.[^/.]+$::' \
    echo {x/} {x/.} {x.} ::: a/b.c d/e.f.g h
same -k --rpl '{x//} $Global::use{"File::Basename"} ||= eval "use File::Basename; 1;"; $_ = dirname($_);' \
    echo {x//} ::: a/b.c d

# --- parallel(1): {=perl expression=}, --rpl, --parens -------------------
same_in '1\n2\n3\n' -k echo {} + 1 is {= '$_++' =}
same -k csh -c {= '$_="mkdir ".Q($_)' =} ::: '12" dir' 2>/dev/null
same_in "$(seq 50 | tr '\n' '|' | sed 's/|/\\n/g')" -k echo job {#} of {= '$_=total_jobs()' =}
same -k --parens ,,,, echo foo is ,,s/I/O/g,, ::: FII
same -k --rpl '{%(.*?)} s/$$1//' echo {%.tar.gz} ::: my.tar.gz
same -k --rpl '{:%(.+?)} s:$$1(\.[^/]+)*$::' echo {:%_file} ::: my_file.tar.gz
same -k -n3 --rpl '{/:%(.*?)} s:.*/(.*)$$1(\.[^/]+)*$:$1:' \
    echo job {#}: {2} {2.} {3/:%_1} ::: a/b.c c/d.e f/g_1.h.i
same -k --rpl '{/(.+?)/(.*?)} s/$$1/$$2/;' echo {/replacethis/withthis} {/b/C} ::: a_replacethis_b
same -k --rpl '{(.*?)/(.*?)} $_="$$2$_$$1"' echo {swap/these} ::: -middle-
same -k --rpl '{odd} $_ = seq() % 2 ? "odd" : "even"' echo {odd} ::: a b c
same -k --rpl '{0#} $f=1+int("".(log(total_jobs())/log(10))); $_=sprintf("%0${f}d",seq())' \
    echo {0#} ::: 1 2 3 4 5 6 7 8 9 10 11
same -k --rpl '{#0} $_ = seq() - 1' --rpl '{%1} $_ = slot() + 1' -j1 echo {#0} {%1} ::: a b
same -k --rpl '{:} s:(\.[^/]+)*$::' echo {:} ::: a/b.c.d e
same -k --rpl '{:-([^}]+?)} $_ ||= $$1' --rpl '{:(\d+?)} substr($_,0,$$1) = ""' \
    --rpl '{:(\d+?):(\d+?)} $_ = substr($_,$$1,$$2);' echo {:-x} {:2} {:1:3} ::: abcdef ''
same -k --rpl '{##([^#}][^}]*?)} s/^$$1//;' --rpl '{%%([^}]+?)} s/$$1$//;' \
    --rpl '{^([^}]+?)} s/^($$1)/uc($1)/e;' --rpl '{,,([^}]+?)} s/($$1)/lc($1)/eg;' \
    echo {##a} {%%z} {^a} {,,B} ::: abzBBz
same -k --rpl '{#([^#}][^}]*?)} $nongreedy=::make_regexp_ungreedy($$1); s/^$nongreedy(.*)/$1/;' \
    --rpl '{%([^}]+?)} $nongreedy=::make_regexp_ungreedy($$1); s/(.*)$nongreedy$/$1/;' \
    echo {#a*} {%.*z} ::: aab.xz
same -k --rpl '{choose_k} for $t (2..$#arg){ if($arg[$t-1] ge $arg[$t]) { skip() } }' \
    echo {choose_k} ::: A B C ::: A B C
same -k --rpl '{slot} 1 $_="\${PARALLEL_JOBSLOT}";uq()' -j1 echo {slot} ::: a b
same -k -j1 echo 'DecimalX: {= $_=sprintf("%.2f",$_) =}' ::: 1 2.345
# exit {= $_%=2 =}: every other job fails
same -k 'exit {= $_%=2 =}' ::: 1 2 3 4 5 6
same -k --halt now,fail=1 -j1 'echo {}; exit {= $_%=3 =}' ::: 3 6 4 9
same_in "$(seq 30 | tr '\n' '|' | sed 's/|/\\n/g')" -k -j1 echo '{= $_ = $foo++; =}'
same -k -j1 echo '{= $_= ++$wrong_counter =}' ::: a b c
# --plus's perl-only strings (parallel_examples(7))
same -k --plus echo {choose_k} ::: A B C D ::: A B C D
same -k --plus echo 2{2choose_k} 1{1choose_k} ::: A B C D ::: A B C D
same -k --plus echo {uniq} ::: A B C ::: A B C ::: A B C
same -k --plus echo {1uniq}+{2uniq}+{3uniq} ::: A B C ::: A B C ::: A B C
# --filter (man parallel): values unquoted, GNU's eval under strict
same -k --filter '{1} < {2}+1' echo ::: 1 2 3 ::: 1 2 3
same -k --filter '"{}" =~ /a/' --filter '"{}" ne "ab"' echo ::: a b ab ca
same -k --filter '{} =~ /a/' echo ::: a b
same -k --filter '{#} % 2' --joblog jl echo ::: a b c
same -k --filter '1/0' echo ::: a
same -k -j1 echo '{= $_ = ($bar++ % 3) =}' ::: a b c d
same -k -j1 echo '{= $_ = ($bar++ >= 2) ? "x$bar" : 0 =}' {} ::: a b c d

# --- the helpers, quoting, where expressions may stand -------------------
same -k echo '{= $_=uc =}' ::: 'a b' "it's" 'x$y'
same -k echo '{= $_="a;b c"; uq() =}' ::: x
same -k echo '{= $_="a b"; uq =}' ::: x
same -k -q echo '{= s/a/b/ =}' ::: 'a b'
same -k --dry-run echo '{= s/a/b/; =}' ::: 'a b' '$x'
same -k --dry-run echo {= 'if($_==2) { skip() }' =} ::: 1 2 3
same -k -v echo {= 'if($_==2) { skip() }' =} ::: 1 2 3
same -k --tag echo {= 'if($_==2) { skip() }' =} ::: 1 2 3
same -k -X echo 'a{= s/1/x/ =}b' ::: 1 2 3
same -k -m echo '{= $_.="!" =}' ::: 1 2 3
same -k -N2 echo '{=1 $_.="<" =}' '{=2 $_.=">" =}' '{=-1 $_.="-" =}' ::: a b c d
same -k echo '{==}' '{==} {= =}' ::: a
same -k echo '{= $_=$job->seq()*10 =}' '{= $_=seq()+slot()-slot() =}' ::: a b c
same -k --tagstring '{= $_=uc =}' echo {} ::: a b
same -k '{= $_="echo" =}' {} ::: a
same -k echo '{= s/x/y/' ::: x
same -k echo '{=' 's/a/b/' '=}' ::: a
same -k --tagstring '{=1 $_ =}' echo ::: a
same -k echo '{={==}=}' '{= {==} =}' ::: a
same -k --colsep , echo '{=2 $_=uc =}' '{=1 $_.="!" =}' ::: a,b c,d
same -k --trim lr echo '[{= $_.="." =}]' ::: ' a '
same -k --header : echo '{=a s/1/x/ =}' {b} '{=b $_.="!" =}' ::: a 1 2 ::: b 3
same -k -I @@ echo '@@ {= s/a/b/ =}' ::: a
same -k --plus echo '{= s/a/b/ =}' {+.} ::: a.x
same -k echo '{= $_ = yyyy_mm_dd() =~ /^\d{4}-\d\d-\d\d$/ ? "date" : "bad" =}' ::: a
same -k echo '{= $_ = hh_mm_ss() =~ /^\d\d:\d\d:\d\d$/ ? "time" : "bad" =}' ::: a
same -k echo '{= $_ = yyyymmddhhmmss() =~ /^\d{14}$/ ? "stamp" : "bad" =}' ::: a
same -k echo '{= $_ = pQ($_) =}' ::: 'a$b"c'

# --- errors ----------------------------------------------------------------
same echo '{= syntax error ( =}' ::: 1
same --rpl '{bad} (' echo {bad} ::: 1
settle

# A syntax error: GNU parallel's message (but the eval's number), exit 255.
for tool in "$P" "$E"; do
    $tool echo '{= syntax error ( =}' ::: 1 >se.out 2>se.err
    echo $? >>se.rc
    sed -e 's/^parallel: /eventor: /' -e 's/(eval [0-9]*)/(eval N)/' se.err >>se.all
    [ -s se.out ] && fail "stdout written on a syntax error by $tool"
done
[ "$(sort -u se.rc)" = 255 ] || fail "a syntax error: exit $(cat se.rc)"
[ "$(sed -n 1p se.all)" = "eventor: Error: Cannot use syntax error ( : syntax error at (eval N) line 1, at EOF" ] ||
    { fail "a syntax error's message"; cat se.all; }
n=$((n + 1))
# A die in an expression stops the run: its message, exit 255, no job
# after it.
"$E" -j1 -k echo '{= die "boom\n" if $_ == 2 =}' ::: 1 2 3 >die.out 2>die.err
rc=$?
n=$((n + 1))
[ $rc = 255 ] || fail "a die: exit $rc"
grep -q '^boom$' die.err || { fail "a die's message"; cat die.err; }
grep -q 3 die.out && fail "a job started after a die"
# One perl for the run, not one per job.
"$E" -j4 echo '{= $_ = getppid() =}' ::: $(seq 40) >pp.out
n=$((n + 1))
[ "$(sort -u pp.out | wc -l)" = 1 ] || fail "more than one perl: $(sort -u pp.out | wc -l)"
# A skip()ped job: Exitval -2 in the joblog, as GNU parallel's.
for tool in "$P" "$E"; do
    $tool -k --joblog jl echo {= 'if($_==2) { skip() }' =} ::: 1 2 3 >/dev/null
    cut -f1,7,9 jl >>jl.all
done
n=$((n + 1))
[ "$(sort jl.all | uniq -u)" = "" ] || { fail "skip()'s joblog"; cat jl.all; }
grep -q '^2	-2	echo 2$' jl.all || { fail "skip()'s joblog"; cat jl.all; }
# In --results' name too.
rm -rf rp re && mkdir rp re
(cd rp && $P --results 'out/{= s/a/b/ =}' echo ::: a c >/dev/null && find . | sort) >rp.tree
(cd re && "$E" --results 'out/{= s/a/b/ =}' echo ::: a c >/dev/null && find . | sort) >re.tree
n=$((n + 1))
cmp -s rp.tree re.tree && grep -q '^./out/b$' re.tree || { fail "{= =} in --results"; diff rp.tree re.tree; }
bad --parens x echo ::: a
bad --rpl '' echo ::: a
bad --rpl ' x' echo ::: a

echo "$n checks, $fails failed"
[ $fails = 0 ]
