#!/bin/sh
# Chaos: kill -9 of eventor at random moments of a run with --joblog, then
# --resume until a run ends by itself; the output file is cut to what the
# joblog accounts for before each rerun (README, "What is promised": a
# torn job is at the end, unlogged). Counts the outputs lost, duplicated
# and torn (all must be 0), and that no spool file is left in --tmpdir.
# The jobs' outputs vary from 0 to 60 KB, so that kills land while outputs
# are being copied out. Two rounds, plain and -k; each at most KILLS kills and CHAOS_SECONDS of
# killing.
# Usage: tests/integration/test_chaos_kill.sh PATH/TO/eventor
. "$(dirname "$0")/../lib/shell_test.sh"
JOBS=${CHAOS_JOBS:-1000}
KILLS=${CHAOS_KILLS:-12} # a round
mkdir tmp

# A random delay in [0, $1) ms, as seconds for sleep: the pace of the
# faults (when a kill lands), not a wait for anything.
pace() {
    awk -v max="$1" -v seed="$(od -An -N4 -tu4 /dev/urandom)" \
        'BEGIN { srand(seed); printf "%.3f\n", rand() * max / 1000 }'
}

# The bytes the joblog accounts for (its Receive column: each logged job's
# whole stdout).
logged_bytes() {
    awk -F'\t' 'NR > 1 { s += $6 } END { print s + 0 }' J
}

# Job N prints (N % 7) * 10000 x's, then " out N": one line, whole or torn.
job='head -c $(({} % 7 * 10000)) /dev/zero | tr "\0" x; echo " out {}"'
total_kills=0
total_lost=0
total_dup=0
total_torn=0

# One chaos round with extra options $1 (none, or -k): run, kill, cut,
# resume, until a run ends by itself; then count.
round() {
    rm -f out err J
    kills=0
    runs=0
    resume=
    deadline=$(($(date +%s) + ${CHAOS_SECONDS:-15}))
    while :; do
        runs=$((runs + 1))
        # shellcheck disable=SC2086
        seq $JOBS | "$E" -j16 $1 --tmpdir tmp --joblog J $resume "$job" >>out 2>>err &
        epid=$!
        if [ $kills -lt $KILLS ] && [ "$(date +%s)" -lt $deadline ]; then
            sleep "$(pace 400)"
            kill -9 $epid 2>/dev/null && kills=$((kills + 1))
        fi
        { wait $epid; } 2>/dev/null
        rc=$?
        [ $rc = 0 ] && break
        [ $rc = 137 ] || { fail "[$1] run $runs: exit $rc"; tail -3 err; break; }
        # what a torn job left at the end of out is cut off before the rerun
        truncate -s "$(logged_bytes)" out
        resume=--resume
        [ $runs -lt $((KILLS + 5)) ] || { fail "[$1] no run completed after $runs runs"; break; }
    done
    lost=$( { seq $JOBS; sed 's/.* out //' out | sort -u -n; } | sort -n | uniq -u | wc -l)
    dup=$(sed 's/.* out //' out | sort -n | uniq -d | wc -l)
    torn=$(awk '{ n = $NF; if (length($0) != (n % 7) * 10000 + length(" out " n)) t++ } END { print t + 0 }' out)
    [ "$(sed 's/.* out //' out | sort -n | tr '\n' ' ')" = "$(seq $JOBS | tr '\n' ' ')" ] ||
        fail "[$1] the outputs are not each job's once"
    [ "$lost" = 0 ] || fail "[$1] $lost outputs lost"
    [ "$dup" = 0 ] || fail "[$1] $dup outputs duplicated"
    [ "$torn" = 0 ] || fail "[$1] $torn outputs torn"
    [ "$(tail -n +2 J | awk -F'\t' '$7 == 0' | cut -f1 | sort -n | uniq -d | wc -l)" = 0 ] ||
        fail "[$1] a job logged done twice"
    [ "$(tail -n +2 J | awk -F'\t' '$7 == 0' | wc -l)" = $JOBS ] || fail "[$1] not one good joblog line per job"
    [ -z "$(ls tmp)" ] || fail "[$1] left in --tmpdir: $(ls tmp | head -3)"
    [ $kills -ge 1 ] || fail "[$1] no kill landed"
    if [ "$1" = -k ]; then
        [ "$(sed 's/.* out //' out | tr '\n' ' ')" = "$(seq $JOBS | tr '\n' ' ')" ] ||
            fail "[-k] the outputs are out of order"
    fi
    echo "[${1:-plain}] kills $kills, runs $runs, lost $lost, duplicated $dup, torn $torn"
    total_kills=$((total_kills + kills))
    total_lost=$((total_lost + lost))
    total_dup=$((total_dup + dup))
    total_torn=$((total_torn + torn))
}
round ""
round -k
echo "kills survived $total_kills, lost $total_lost, duplicated $total_dup, torn $total_torn ($JOBS jobs a round)"
[ $fails = 0 ]
