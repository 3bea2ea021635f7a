# Set-up shared by the command's shell tests (the differential ones against
# GNU parallel and the others in tests/cli/), sourced with the eventor binary as
# $1: E is eventor, P GNU parallel; the test runs in a temporary directory
# removed at exit; checks run in the background write log* files, and
# settle waits for them, prints them and counts their FAIL lines.
. "$(dirname "$0")/../lib/shell_test.sh"
P="parallel --will-cite"
# a TSan build would sleep a second in every exiting eventor
TSAN_OPTIONS="atexit_sleep_ms=0 ${TSAN_OPTIONS:-}"
export TSAN_OPTIONS
command -v parallel >/dev/null || { echo "GNU parallel is missing (scripts/install-deps.sh test)"; exit 1; }
n=0
running=0

settle() {
    wait
    running=0
    for f in log*; do
        [ -s "$f" ] || continue
        cat "$f"
        fails=$((fails + $(grep -c '^FAIL' "$f")))
    done
    rm -f log*
}

# bad ARGS...: eventor refuses them: exit 255, one line naming it on
# stderr, nothing on stdout.
bad() {
    n=$((n + 1))
    "$E" "$@" >b.out 2>b.err </dev/null
    rc=$?
    [ $rc = 255 ] || fail "exit $rc, not 255, for: $*"
    [ -s b.out ] && fail "stdout written for: $*"
    [ "$(wc -l <b.err)" = 1 ] || { fail "not one error line for: $*"; cat b.err; }
    grep -q '^eventor: ' b.err || fail "error not named for: $*"
}

# same_in INPUT ARGS... / same ARGS... / same_err ARGS...: run the test's
# own `check K INPUT ARGS...` (both tools on the same input, results into
# logK) in the background, four at a time; same_err: stderr compared too
# (check reads $cmp_err).
cmp_err=0

# compared K PRC ERC WHAT...: FAIL lines for what differs between the two
# tools' run K: stdout (pK.out, eK.out; not with rc_only=1), the exit
# statuses, and the joblogs pK/jl, eK/jl where there are any (Seq,
# Exitval, Signal, Command: not the timing columns).
compared() {
    k=$1 prc=$2 erc=$3
    shift 3
    [ "${rc_only:-0}" = 1 ] || cmp -s p$k.out e$k.out || { echo "FAIL: stdout differs for: $*"; diff p$k.out e$k.out | head -10; }
    [ "$prc" = "$erc" ] || echo "FAIL: exit $erc, GNU parallel $prc, for: $*"
    if [ -f p$k/jl ] || [ -f e$k/jl ]; then
        cut -f1,7-9 p$k/jl >p$k.lc 2>&1
        cut -f1,7-9 e$k/jl >e$k.lc 2>&1
        cmp -s p$k.lc e$k.lc || { echo "FAIL: joblog differs for: $*"; diff p$k.lc e$k.lc | head -5; }
    fi
}

same_in() {
    n=$((n + 1))
    check $n "$@" &
    running=$((running + 1))
    [ $running -lt 4 ] || settle
}
same() {
    same_in '' "$@"
}
same_err() {
    cmp_err=1
    same "$@"
    cmp_err=0
}
