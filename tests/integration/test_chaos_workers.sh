#!/bin/sh
# Chaos: plugin -P 2 on a file whose lines crash their worker at random
# places (SIGSEGV or abort), while workers are SIGKILLed from outside at
# random moments. Each round: the crashing lines fail with their signal,
# each said once with its number; every other line comes back once, in
# order; no line is lost; no line runs twice after it had finished (the
# once plugin appends each line's number to a file just before it
# returns: a line may do so twice only if a kill came between that and its
# record, at most one a kill). Prints what it did.
# Usage: tests/integration/test_chaos_workers.sh PATH/TO/eventor
. "$(dirname "$0")/../lib/shell_test.sh"
ONCE=$(dirname "$E")/examples/once.so
ROUNDS=${CHAOS_ROUNDS:-6}
LINES=20000

# A random number in [0, $1).
rnd() {
    awk -v max="$1" -v seed="$(od -An -N4 -tu4 /dev/urandom)" \
        'BEGIN { srand(seed); printf "%d\n", rand() * max }'
}

total_kills=0
total_crashes=0
total_twice=0
total_lost=0
for round in $(seq $ROUNDS); do
    # 1 to 5 crashing lines at random places, odd ones SIGSEGV
    ncrash=$(($(rnd 5) + 1))
    awk -v n=$LINES -v k=$ncrash -v seed="$(od -An -N4 -tu4 /dev/urandom)" 'BEGIN {
        srand(seed)
        while (c < k) { i = int(rand() * n) + 1; if (!(i in bad)) { bad[i] = 1; c++ } }
        for (i = 1; i <= n; i++) print (i in bad) ? (i % 2 ? "segv" : "abort") : i
    }' >in.txt
    grep -v 'segv\|abort' in.txt >want.txt
    case $(rnd 3) in 0) c=20 ;; 1) c=100 ;; *) c=400 ;; esac
    rm -f ran.log
    ONCE_LOG=$T/ran.log ONCE_SLEEP_MS=4 "$E" --plugin "$ONCE:once" -P 2 -c $c in.txt >out.txt 2>err.txt &
    epid=$!
    kills=0
    max=$(($(rnd 6) + 1))
    while [ $kills -lt $max ] && kill -0 $epid 2>/dev/null; do
        sleep "$(awk -v ms="$(rnd 150)" 'BEGIN { printf "%.3f\n", ms / 1000 }')" # (the pace of the faults)
        # a random one of the workers: eventor's grandchildren (the fork
        # server's children)
        w=$(for p in $(ps -o pid= --ppid $epid); do ps -o pid= --ppid "$p"; done |
            awk -v r="$(rnd 2)" 'NR == 1 || NR == r + 1 { p = $1 } END { print p }')
        [ -n "$w" ] && kill -9 "$w" 2>/dev/null && kills=$((kills + 1))
    done
    wait $epid
    rc=$?
    what="round $round (-c $c, $ncrash crashing, $kills kills)"
    [ $rc = $ncrash ] || { fail "$what: exit $rc"; head -3 err.txt; }
    cmp -s out.txt want.txt || fail "$what: $(wc -l <out.txt) of $(wc -l <want.txt) good lines back, or out of order"
    said=$(grep -c '^eventor: line [0-9]*: worker killed by signal \(11 (SIGSEGV)\|6 (SIGABRT)\)$' err.txt)
    [ "$said" = $ncrash ] && [ "$(wc -l <err.txt)" = $ncrash ] ||
        { fail "$what: $said crashes said, $(wc -l <err.txt) lines on stderr"; head -3 err.txt; }
    [ "$(sed 's/^eventor: line \([0-9]*\):.*/\1/' err.txt | sort -n | tr '\n' ' ')" = \
      "$(grep -n 'segv\|abort' in.txt | cut -d: -f1 | tr '\n' ' ')" ] || fail "$what: other lines said"
    lost=$( { cat want.txt; sort -u -n ran.log; } | sort -n | uniq -u | wc -l)
    twice=$(sort -n ran.log | uniq -d | wc -l)
    [ "$lost" = 0 ] || fail "$what: $lost lines never ran (or crashing ones did)"
    [ "$twice" -le $kills ] || fail "$what: $twice finished lines ran again"
    total_kills=$((total_kills + kills))
    total_crashes=$((total_crashes + ncrash))
    total_twice=$((total_twice + twice))
    total_lost=$((total_lost + lost))
done
echo "rounds $ROUNDS: worker kills survived $total_kills, crashing lines isolated $total_crashes (each said once), lines lost $total_lost, side effects made twice $total_twice (allowed: one a kill, between a line's side effect and its record)"
[ $fails = 0 ]
