#!/bin/sh
# Differential tests of eventor --pipe --block-timeout against GNU parallel:
# a writer that writes a first part, then waits until the first job has run
# (the job makes a file once its stdin ended), then writes the rest; both
# tools must cut the same blocks (the records read when the timeout passes,
# never a split one) with the same stdout, stderr and exit status.
# Usage: tests/cli/test_pipe_timeout.sh PATH/TO/eventor
. "$(dirname "$0")/lib/parallel_diff.sh"

# writer FIRST REST GO: printf FIRST, wait (60 s at most) for the file GO,
# printf REST.
writer() {
    printf "$1"
    i=0
    while [ ! -e "$3" ] && [ $i -lt 600 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    printf "$2"
}

# check K FIRST REST ARGS...: both tools reading the writer's output; the
# command gets `; [ {#} = 1 ] && touch goK.T` after it (T: the tool).
check() {
    k=$1 first=$2 rest=$3
    shift 3
    for t in p e; do
        tool=$P
        [ $t = e ] && tool=$E
        rm -f go$k.$t
        # shellcheck disable=SC2086
        writer "$first" "$rest" go$k.$t |
            timeout 120 $tool "$@" "; [ {#} = 1 ] && touch go$k.$t" \
                >$t$k.out 2>$t$k.err
        echo $? >$t$k.rc
    done
    sed 's/^parallel:/eventor:/' p$k.err >p$k.err2
    {
        cmp -s p$k.out e$k.out || { echo "FAIL: stdout differs for: $* <'$first' '$rest'"; diff p$k.out e$k.out | head -10; }
        cmp -s p$k.rc e$k.rc || echo "FAIL: exit $(cat e$k.rc), GNU parallel $(cat p$k.rc), for: $*"
        cmp -s p$k.err2 e$k.err || { echo "FAIL: stderr differs for: $*"; diff p$k.err2 e$k.err | head -5; }
    } >log$k 2>&1
    rm -f p$k.* e$k.* go$k.*
}

# lines: the first job gets the whole lines, the line begun goes on
same_in '1\n2\n3' '\n4\n' --pipe --bt 1 -k 'echo ={#}; cat'
same_in '1\n2\n' '3\n' --pipe --block 1M --bt 1s -k 'wc -l'
same_in '1\n2\n3\n' '4\n5\n' --pipe --bt 1 -j1 'echo ={#}; cat'
# -N: whole groups only; -L: whole multiples of its lines
same_in '1\n2\n3\n' '4\n5\n' --pipe --bt 1 -N2 -k 'echo ={#}; cat'
same_in '1\n2\n3\n' '4\n5\n' --pipe --bt 1 -L2 -k 'echo ={#}; cat'
# --recstart: a record ends where the next starts; --recend
same_in '>a\nx\n>b\ny' '\n>c\n' --pipe --bt 1 --recstart '>' -k 'echo ={#}; cat'
same_in 'a,b,c' ',d,' --pipe --bt 1 --recend , -k 'echo ={#}; cat; echo'
same_in 'a\n>b\n>' 'c\n' --pipe --bt 1 --recend '\n' --recstart '>' -k 'echo ={#}; cat'
# --header before each block; a record longer than --block is not grown
# with a timeout (GNU's), it waits for its end
same_in 'h\n1\n2\n' '3\n' --pipe --bt 1 --header : -k 'echo ={#}; cat'
same_in '1\n2345678' '9\nab\n' --pipe --bt 1 --block 4 -k 'echo ={#}; cat'
settle

# refused under a second, as GNU's (int of the seconds), even without --pipe
for v in 0 0.5 0s; do
    n=$((n + 1))
    "$E" --pipe --bt $v cat </dev/null >t.out 2>t.err
    rc=$?
    [ $rc = 255 ] && [ ! -s t.out ] &&
        [ "$(cat t.err)" = "eventor: Error: --block-timeout must be at least 1" ] ||
        fail "--bt $v: exit $rc, $(cat t.err)"
done
bad --bt 0 echo
bad --block-timeout x --pipe cat

if [ $fails -gt 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "all $n checks passed"
