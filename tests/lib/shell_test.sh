# Set-up shared by the shell tests, sourced with the eventor binary as $1:
# E is eventor (an absolute path), HERE the test's own directory; the test
# runs in a temporary directory
# $T, removed at exit (a test with more to clean up sets its own EXIT
# trap, which removes $T too); fail says what failed and counts it in
# $fails. Sourced before anything else reads $0 or the current directory.
set -u
E=${1:?usage: $(basename "$0") EVENTOR}
case $E in /*) ;; *) E=$(pwd)/$E ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
