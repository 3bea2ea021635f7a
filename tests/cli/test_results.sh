#!/bin/sh
# Differential tests against GNU parallel of what the output and the
# values become: --results (its tree, NAME{} files and dirs, .csv .tsv
# .json), --files, --header : with {name}, --colsep's trimming, --trim,
# --csv, --plus replacement strings and --line-buffer. Each tool runs in a
# directory of its own; stdout, exit status and every file written (with
# the times of a job masked) must be the same.
# Usage: tests/cli/test_results.sh PATH/TO/eventor
. "$(dirname "$0")/lib/parallel_diff.sh"

# Job times differ between runs: mask them in CSV, TSV, JSON and joblogs;
# --files names differ: each becomes the file's content.
norm() {
    sed -E -e 's/^([0-9]+)([,	]):([,	])[0-9.]+([,	]) *[0-9.]+([,	])/\1\2:\3T\4R\5/' \
        -e 's/"Starttime": [0-9.]+, "JobRuntime": [0-9.]+/"Starttime": T, "JobRuntime": R/' |
    while IFS= read -r line; do
        case $line in
        */tmp/par?????.par|*/tmp/par??????.par)
            f=${line##*	}
            printf '%s' "${line%"$f"}FILE: "; cat "$f"; echo; rm -f "$f" ;;
        *) printf '%s\n' "$line" ;;
        esac
    done
}
# Every file under the current directory, with its content.
tree() {
    find . -path ./tmp -prune -o \( -type f -o -type d \) -print | LC_ALL=C sort |
    while IFS= read -r f; do
        if [ -d "$f" ]; then echo "dir $f"; else echo "file $f"; norm <"$f"; echo "<eof>"; fi
    done
}
run_in() { # DIR TOOL INPUT ARGS...
    d=$1 tool=$2 in=$3
    shift 3
    mkdir -p "$d/tmp" && cd "$d" || exit 1
    printf "$in" | TMPDIR=$PWD/tmp $tool "$@" >../$d.out 2>../$d.err
    echo $? >../$d.rc
    norm <../$d.out >../$d.nout
    rm -rf tmp
    tree >../$d.tree
    cd ..
}
check() { # K INPUT ARGS...
    k=$1 in=$2
    shift 2
    run_in p$k "$P" "$in" "$@"
    run_in e$k "$E" "$in" "$@"
    {
        cmp -s p$k.nout e$k.nout || { echo "FAIL: stdout differs for: $* (input '$in')"; diff p$k.nout e$k.nout | head -10; }
        [ "$(cat p$k.rc)" = "$(cat e$k.rc)" ] || echo "FAIL: exit $(cat e$k.rc), GNU parallel $(cat p$k.rc), for: $*"
        cmp -s p$k.tree e$k.tree || { echo "FAIL: files differ for: $*"; diff p$k.tree e$k.tree | head -10; }
    } >log$k 2>&1
    rm -rf p$k p$k.* e$k e$k.*
}

# --- --header, --colsep trimming, --trim, --csv -------------------------
same -k --header : echo {a} {b} ::: a 1 2 ::: b 3 4
same -k --header : echo {b}-{a} {a.} {b/} ::: a 1.x 2 ::: b x/y
same -k --header : --tag echo {a} ::: a 1 2
same -k --header : --tagstring '<{a}>' echo {b} ::: a 1 2 ::: b 3
printf 'h1\th2\n1\t2\n3\t4\n' >f.tsv
printf 'n1,n2\n a , b \nc,d\n' >f.csv
same_in 'x\ty\n1\t2\n' -k --header : echo {y} {x}
same_in 'x,y\n1,2\n' -k --header : --colsep , echo {y} {x}
same -k --header : echo {h2}-{h1} :::: "$T/f.tsv"
same -k --header : --colsep , echo '[{n2}]' '[{n1}]' :::: "$T/f.csv"
same -k --header : echo '{f.tsv}' :::: "$T/f.tsv"
same -k --header 0 echo '{f.tsv}' :::: "$T/f.tsv"
same_in 'x\ty\n' -k --header : echo {y} {x}
same_in ' a , b \n c,d \n' -k --colsep , echo '[{1}]' '[{2}]' '[{}]'
same_in ' a , b \n' -k --colsep , --tag echo
same_in ' a , b \n' -k --colsep , --trim n echo '[{1}]' '[{2}]'
same_in ' a , b \n' -k --colsep , --trim l echo '[{1}]' '[{2}]'
same_in ' a , b \n' -k --colsep , --trim r echo '[{1}]' '[{2}]'
same_in ' a , b \n' -k --colsep , --trim rl echo '[{1}]' '[{2}]'
same -k --trim lr echo '[{}]' '[{.}]' '[{/}]' ::: '  x.y  ' ' /a/b '
same -k --trim l echo '[{}]' ::: '	 x '
same -k --trim x echo ::: a
if perl -MText::CSV -e 1 2>/dev/null; then
    same_in 'a,"b,c",d\n"x""y",,\n\n' -k --csv echo '[{1}]' '[{2}]' '[{3}]'
    same_in 'a;"b;c"\n' -k --csv --colsep ';' echo '[{2}]' '[{1}]'
    same_in ' a , b \n' -k --csv echo '[{1}]' '[{2}]'
    same_in '"multi word",x\n' -k --csv echo {1}
    same_in 'h1,h2\n1,2\n' -k --csv --header : echo '{h2}-{h1}'
    same_in 'a,b"c\n' --csv echo
else
    echo "SKIP: --csv (GNU parallel needs libtext-csv-perl)"
fi
settle

# --- --results, --files ------------------------------------------------
same --results out echo ::: a b ::: 1 2
same -k --results out 'echo {}; echo err {} >&2; exit {}' ::: 0 1 2
same --results out/ printf '%s\n' ::: 'a/b' 'c d' 'back\\slash' 'tab	x' '' . '-x'
same --results out -N2 echo ::: a b c d e
same_in 'a,b\nc,d\n' --results out --colsep , echo
same --results out --header : echo {b} {a} ::: b 1 2 ::: a 3
same --results out --header : echo ::: 10 1 ::: 9 2 ::: x 3
same --results 'my_{}' echo ::: foo bar baz
same --results 'my_{}/' echo ::: foo bar
same --results 'sub/{1}/{2}.txt' echo ::: a b ::: 1 2
same --results 'x_{#}_{.}' 'echo {}; echo e >&2' ::: a.c b.d
same -j1 --joblog log.txt --results out echo ::: a b
same -k --results r.csv 'echo {}; echo "e,\"{}\"" >&2' ::: a 'b c' 'd,e'
same -k --results r.tsv echo ::: a 'b c'
same -k --results r.json 'printf "x\\ty\\\\\"{}\"\\n"' ::: a 'b c'
same -k --results -.csv echo ::: a b ::: 1 2
same -k --results -.tsv 'echo {}; exit 1' ::: a b
same -k --results -.json echo ::: a b
same -k --results R.CSV echo ::: a b
same -k --results -.csv --header : echo ::: h 1 2 ::: k 3
same -k --results -.csv echo ::: 1 2 3 4 5 6 7 8 9 10 11 ::: x
same -k --results -.csv -N11 echo ::: 1 2 3 4 5 6 7 8 9 10 11
same --results nodir/x.csv echo ::: a
same -k --files echo ::: a b 'c d'
same -k --files --tag 'echo {}; echo err >&2' ::: a b
same -k --files --results out echo ::: a b
same -k --files --results 'f_{}' echo ::: a b
same -k -j1 --files --joblog log.txt true ::: a
settle

# --- --plus --------------------------------------------------------------
same -k -j1 --plus echo {..} {...} {/..} {/...} {+/} {+.} {+..} {+...} ::: a/b.c.d.e x y.z /r/s.t '' a.b/c
same -k -j1 --plus echo {##} {0#} {0%} {#} ::: 1 2 3 4 5 6 7 8 9 10 11
same -k -j12 --plus echo {0%} ::: 1
same -k --plus echo {:-dflt} {:2} {:1:2} {:9} {:1:9} {:9:1} ::: aaa.gz Aa 0 '' ab.tar.gz
same -k --plus echo {#a} {##a*} {#a*.} {##a?.} {%.gz} {%%.*} {%a*} ::: aaa.gz Aa ab.tar.gz z.z.z.foo
same -k --plus echo {#z.*z.} {##z.*z.} {%.z.*z} {%%.z.*z} ::: z.z.z.foo foo.z.z.z
same -k --plus echo {/a/X} {//a/X} {/#a/X} {/%a/X} {//a*/-} {/%a*/-} {/.z/} ::: aaa.gz baa abc foo.z.z
same -k --plus echo {^a} {^^a} {,A} {,,A} {^[a-c]} {^^[^a]} {,,\w} ::: aAa.gz Abc xyz
same -k --plus echo {/[0-9]+/N} {//\d/D} {//\s/_} {%\.[a-z]+} {#[^.]*.} ::: 'a1b22 c.d.e'
same -k --plus echo {2..} {1+.} {-1#z.*z.} {1##z.*z.} {2:1:2} {1/z/Y} ::: z.z.z.foo ::: q.a.b
same -k --plus echo {} {.} {/} {//} {/.} ::: a/b.c
same -k --plus 'echo {%.c}; echo {/b/ b}' ::: 'a b.c' "it's.c"
same -k --plus --colsep , echo '{1%.x}' '{2:-none}' ::: ' a.x ,  ' 'b.x,c'
same -k echo {..} {+.} {%.gz} ::: a.b.gz
settle

# --- --line-buffer -------------------------------------------------------
# Lines are written while the job runs: the first line comes out before
# the test lets the job go on (a tool that groups would time out here).
lb_live() { # TOOL SUFFIX [OPTION]
    rm -f go$2 out$2
    mkfifo go$2 out$2
    timeout 20 $1 --lb ${3:---tag} -j2 "if [ {} = 1 ]; then echo a; cat go$2 >/dev/null; echo b; else echo c; fi" ::: 1 >out$2 2>/dev/null &
    exec 3<out$2
    read -r first <&3
    echo "$first" >lb$2.txt
    timeout 10 sh -c "echo >go$2"
    cat <&3 >>lb$2.txt
    exec 3<&-
    wait
    rm -f go$2 out$2
}
n=$((n + 1))
lb_live "$P" p
lb_live "$E" e
cmp -s lbp.txt lbe.txt || { fail "--line-buffer is not live"; diff lbp.txt lbe.txt; }
[ "$(head -1 lbe.txt)" = "1	a" ] || fail "--line-buffer: first line $(head -1 lbe.txt)"
# --ctag: coloured as the lines come, as GNU's
n=$((n + 1))
lb_live "$P" cp --ctag
lb_live "$E" ce --ctag
cmp -s lbcp.txt lbce.txt || { fail "--line-buffer --ctag is not live"; diff lbcp.txt lbce.txt; }
esc=$(printf '\033')
[ "$(head -1 lbce.txt)" = "$esc[48;5;134;38;5;231m$esc[K1	a$esc[m" ] ||
    fail "--line-buffer --ctag: first line $(head -1 lbce.txt | od -c)"
# A line is never split, even when another job writes in between.
lb_split() { # TOOL
    rm -f go$2; mkfifo go$2
    timeout 20 $1 --lb -j2 "if [ {} = 1 ]; then printf x; cat go$2 >/dev/null; echo y; else echo z; echo >go$2; fi" ::: 1 2 | sort
    rm -f go$2
}
n=$((n + 1))
[ "$(lb_split "$P" p)" = "$(lb_split "$E" e)" ] || fail "--line-buffer split a line: $(lb_split "$E" e | tr '\n' ' ')"
same -j1 --lb --tag 'printf "a\nb"' ::: x y
same -j1 --lb 'printf "%s\n" {} {}; echo err >&2; printf tail' ::: 1 2
same -j1 --lb -v --joblog log.txt echo ::: a b
same -j1 --line-buffer --tagstring '<{}>' 'seq 3' ::: a
same_in '1\n2\n3\n4\n' -j1 --pipe -N2 --lb --tag cat
same -k -j2 --lb --tag 'echo {}-1; sleep 0.{}; echo {}-2; echo e{} >&2' ::: 3 1
# --color, --ctag: each read's whole lines coloured as GNU's (a \r ends a
# line, a read ending in one gets a \n), the last line without its \n
# left as it is (its tag plain)
same -j1 --lb --color 'printf "x{}\ny{}"' ::: 1 2
same -j1 --lb --ctag 'printf "a\n\nb\r\nc\rd\n"' ::: 1 2
same -j1 --lb --color --tag 'printf "a\rb"' ::: 1
same -k --lb --ctagstring '<{}>' 'seq 3' ::: a b
same -k -j2 --lb --colour 'seq {}' ::: 30000 20000
same -j1 --lb --cf 'echo {}; exit {}' ::: 0 1
same_in '1\n2\n3\n' -j1 --pipe -N2 --lb --ctag cat
mkfifo kgo
same -k -j2 --lb "if [ {} = 1 ]; then cat $T/kgo >/dev/null; printf one; else echo two; echo >$T/kgo; fi" ::: 1 2
settle

# --- refused: one line on stderr, exit 255, nothing run ------------------
bad --plus echo '{%(a|b)}' ::: x
bad --plus echo '{##*.}' ::: x
bad --plus echo '{%+}' ::: x
bad --plus echo '{#a**}' ::: x
bad --trim x echo ::: a
bad --results out -u echo ::: a
bad --files -u echo ::: a
bad --results out --pipe cat
bad --csv --pipe cat
bad --results '' echo ::: a
bad --results nodir/x.csv echo ::: a
bad --lb -u echo ::: a
bad --dry-run --results out echo ::: a
bad --files --dry-run echo ::: a
bad --lb --files echo ::: a

echo "$n checks, $fails failed"
[ $fails = 0 ]
