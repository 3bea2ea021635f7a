#!/bin/sh
# Chaos: low limits in a child shell. `ulimit -n` from 32 to 256 against
# -j from 8 to 10000 and -j 0 (and --plugin's -P/-T), `ulimit -u` as an
# unprivileged user (root only, with setpriv; skipped otherwise): every job
# runs, exit 0, and a slot count that the limit capped is warned of.
# Usage: tests/integration/test_chaos_limits.sh PATH/TO/eventor
. "$(dirname "$0")/../lib/shell_test.sh"
PLUGIN=$(dirname "$E")/examples/add_ten.so
tried=0
JOBS=300
seq $JOBS >in.txt
awk '{ print $1 + 10 }' in.txt >want.txt

# $1: the fd limit, $2: -j. Every job, once; a warning when capped.
shell_case() {
    tried=$((tried + 1))
    (ulimit -n "$1" && exec "$E" -j "$2" -a in.txt 'echo {}') >o 2>e
    rc=$?
    [ $rc = 0 ] || { fail "ulimit -n $1 -j $2: exit $rc"; head -3 e; return; }
    [ "$(sort -n o | tr '\n' ' ')" = "$(tr '\n' ' ' <in.txt)" ] ||
        fail "ulimit -n $1 -j $2: $(sort -u o | wc -l) of $JOBS jobs"
    if [ "$2" = 0 ] || [ "$2" -ge $(($1 / 3)) ]; then
        grep -q '^eventor: Warning: Only enough file handles to run [0-9]* jobs in parallel.$' e ||
            fail "ulimit -n $1 -j $2: no warning"
    fi
    grep -v Warning e | grep -q . && { fail "ulimit -n $1 -j $2: errors"; head -3 e; }
}

# $1: the fd limit, $2: the shape (-P N / -T N).
plugin_case() {
    tried=$((tried + 1))
    # shellcheck disable=SC2086
    (ulimit -n "$1" && exec "$E" --plugin "$PLUGIN:add_ten" $2 in.txt) >o 2>e
    rc=$?
    [ $rc = 0 ] || { fail "ulimit -n $1 plugin $2: exit $rc"; head -3 e; return; }
    cmp -s o want.txt || fail "ulimit -n $1 plugin $2: results lost"
}

for n in 32 64 256; do
    for j in 8 200 10000 0; do
        shell_case $n $j
    done
    for shape in "-P 64" "-T 64" "-P 1000"; do
        plugin_case $n "$shape"
    done
done
# the band GNU's cap sits in at 64 fds (was: 88-99% of the jobs failed)
for j in 18 25; do
    shell_case 64 $j
done

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && command -v bash >/dev/null; then
    chmod 755 "$T"
    chmod 644 in.txt
    for u in 20 40; do
        for what in "-j 50" "-j 0" "--plugin $PLUGIN:add_ten -P 50" "--plugin $PLUGIN:add_ten -T 50"; do
            tried=$((tried + 1))
            case $what in -j*) args="$what -a $T/in.txt echo" ;; *) args="$what $T/in.txt" ;; esac
            setpriv --reuid=65534 --regid=65534 --clear-groups bash -c \
                "ulimit -u $u && exec '$E' $args" >o 2>e
            rc=$?
            [ $rc = 0 ] || { fail "ulimit -u $u $what: exit $rc"; head -3 e; continue; }
            case $what in
            -j*) [ "$(sort -n o | tr '\n' ' ')" = "$(tr '\n' ' ' <in.txt)" ] ||
                fail "ulimit -u $u $what: $(sort -u o | wc -l) of $JOBS jobs" ;;
            *) cmp -s o want.txt || fail "ulimit -u $u $what: results lost" ;;
            esac
            grep -q '^eventor: Warning: Only enough available processes to run' e ||
                fail "ulimit -u $u $what: no warning"
        done
    done
else
    echo "SKIP: ulimit -u (needs root to become another user, and setpriv)"
fi
echo "limits tried $tried, $fails failed"
[ $fails = 0 ]
