#!/bin/sh
# Chaos: full disks. Rounds on a 1 MiB tmpfs the test mounts (root only;
# skipped otherwise), each with a random filler already on it, each
# filling one output: stdout, --tmpdir, the joblog, plugin stdout (in
# process, -T, -P) and plugin -P/-T's $TMPDIR. Whatever the filler, a run
# never exits 0 with an output lost, never logs a job whose output is not
# written whole, and --resume (on room) then gives every job's output
# exactly once. Prints the faults injected (rounds whose disk filled).
# Usage: tests/integration/test_chaos_disk.sh PATH/TO/eventor
. "$(dirname "$0")/../lib/shell_test.sh"
PLUGIN=$(dirname "$E")/examples/add_ten.so
ROUNDS=${CHAOS_ROUNDS:-2} # of each kind
MNT=$T/full
mounted=0
cleanup() {
    [ $mounted = 1 ] && umount "$MNT" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
mkdir "$MNT" tmp
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=1m tmpfs "$MNT" 2>/dev/null; then
    echo "SKIP: full disks need root and a tmpfs mount (uid $(id -u))"
    exit 0
fi
mounted=1
faults=0
rounds=0

# A fresh tmpfs with a random filler of [$1, $2) bytes on it.
refill() {
    deadline=$(($(date +%s) + 20))
    until umount "$MNT" 2>/dev/null; do # (a job may hold it a moment)
        [ "$(date +%s)" -lt $deadline ] || { umount "$MNT"; break; }
        sleep 0.05
    done
    mount -t tmpfs -o size=1m tmpfs "$MNT" || exit 1
    size=$(awk -v min="$1" -v max="$2" -v seed="$(od -An -N4 -tu4 /dev/urandom)" \
        'BEGIN { srand(seed); print int(min + rand() * (max - min)) }')
    head -c "$size" /dev/zero >"$MNT/filler"
}

JOBS=60 # about 600 KB of output
# Job N prints (N * 37) % 20000 x's, then " out N": one line.
job='head -c $(({} * 37 % 20000)) /dev/zero | tr "\0" x; echo " out {}"'
whole() { # FILE: the seqs of the whole outputs in it, sorted
    awk '{ n = $NF; if ($(NF-1) == "out" && length($0) == n * 37 % 20000 + length(" out " n)) print n }' "$1" |
        sort -n | tr '\n' ' '
}
logged() { # JOBLOG: the seqs logged done, sorted
    tail -n +2 "$1" | awk -F'\t' '$7 == 0 { print $1 }' | sort -n | tr '\n' ' '
}
all=$(seq $JOBS | tr '\n' ' ')

# One shell-job round: $1 names the output that fills, $2 is the joblog,
# $3 the first run's stdout, then the options.
shell_round() {
    what=$1 log=$2 first=$3
    shift 3
    rounds=$((rounds + 1))
    rm -f "$log" first.err out2
    seq $JOBS | "$E" -j4 --joblog "$log" "$@" "$job" >"$first" 2>first.err
    rc=$?
    if [ $rc = 0 ]; then
        [ "$(whole "$first")" = "$all" ] || fail "$what: exit 0 with outputs lost"
        return
    fi
    faults=$((faults + 1))
    [ $rc = 255 ] || { fail "$what: exit $rc, not 255"; head -3 first.err; }
    # one message says which output failed (others may name the jobs)
    [ "$(grep -c 'cannot write\|Output is incomplete' first.err)" = 1 ] ||
        { fail "$what: not one message"; head -3 first.err; }
    [ "$(logged "$log")" = "$(whole "$first")" ] ||
        fail "$what: logged [$(logged "$log")] is not printed whole [$(whole "$first")]"
    # a job torn by the full disk is at the end, unlogged: cut to what the
    # joblog accounts for (README) before the rerun appends
    truncate -s "$(awk -F'\t' 'NR > 1 { s += $6 } END { print s + 0 }' "$log")" "$first"
    rm -f "$MNT/filler"
    for opt in "$@"; do [ "$opt" = "$MNT" ] && rm -rf "${MNT:?}"/*; done
    seq $JOBS | "$E" -j4 --joblog "$log" --resume "$@" "$job" >out2 2>/dev/null ||
        fail "$what: --resume failed"
    [ "$(cat "$first" out2 >both; whole both)" = "$all" ] &&
        [ "$(awk '{ print $NF }' both | sort -n | uniq -d | wc -l)" = 0 ] ||
        fail "$what, then --resume: not every output once"
}

# One plugin round: $1 names it, $2 the output, then the options.
plugin_round() {
    what=$1 pout=$2
    shift 2
    rounds=$((rounds + 1))
    # shellcheck disable=SC2068
    "$E" --plugin "$PLUGIN:add_ten" $@ lines.txt >"$pout" 2>perr
    rc=$?
    if [ $rc = 0 ]; then
        cmp -s "$pout" want.txt || fail "$what: exit 0 with results lost"
        return
    fi
    faults=$((faults + 1))
    [ $rc = 255 ] || { fail "$what: exit $rc, not 255"; head -3 perr; }
    [ "$(wc -l <perr)" = 1 ] || { fail "$what: not one message"; head -3 perr; }
    # what came out is the first results, in order, maybe one line torn
    # at the end of a full disk
    l=$(wc -l <"$pout")
    head -n "$l" "$pout" | cmp -s - "$(head -n "$l" want.txt >want.l; echo want.l)" ||
        fail "$what: the results out are not the first ones in order"
}

seq 60000 >lines.txt # about 360 KB of results
awk '{ print $1 + 10 }' lines.txt >want.txt
i=0
while [ $i -lt "$ROUNDS" ]; do
    i=$((i + 1))
    refill 500000 1000000
    shell_round "stdout" J "$MNT/out"
    refill 500000 1000000
    shell_round "--tmpdir" J out1 --tmpdir "$MNT"
    refill 1030000 1044000
    shell_round "joblog" "$MNT/J" out1 --tmpdir tmp
    for shape in "" "-T 2" "-P 2"; do
        refill 500000 1000000
        plugin_round "plugin ${shape:-in process}, stdout" "$MNT/pout" $shape
    done
    for shape in "-T 2" "-P 2"; do
        refill 500000 1000000
        TMPDIR=$MNT plugin_round "plugin $shape, \$TMPDIR" pout $shape
    done
done
echo "faults injected $faults (rounds whose disk filled) of $rounds rounds, $fails failed"
[ $fails = 0 ]
