# Set-up shared by the command's differential shell tests against GNU
# parallel (test_cli.sh, test_pipe.sh), sourced with the eventor binary as
# $1: E is eventor, P GNU parallel; the test runs in a temporary directory
# removed at exit; checks run in the background write log* files, and
# settle waits for them, prints them and counts their FAIL lines.
set -u
E=${1:?usage: $(basename "$0") EVENTOR}
case $E in /*) ;; *) E=$(pwd)/$E ;; esac
P="parallel --will-cite"
# a TSan build would sleep a second in every exiting eventor
TSAN_OPTIONS="atexit_sleep_ms=0 ${TSAN_OPTIONS:-}"
export TSAN_OPTIONS
command -v parallel >/dev/null || { echo "GNU parallel is missing (scripts/install-deps.sh test)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0
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

fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
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
