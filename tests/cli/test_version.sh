#!/bin/sh
# The version has one place, project(VERSION) in CMakeLists.txt: eventor
# --version prints it, and the installed header carries it (EVT_VERSION
# and its parts), so a program built against an installed eventor sees it.
# Usage: tests/cli/test_version.sh PATH/TO/eventor (in its build folder)
set -u
E=${1:?usage: test_version.sh EVENTOR}
src=$(cd "$(dirname "$0")/../.." && pwd)
want=$(sed -n 's/^project(eventor VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[ -n "$want" ] || { echo "FAIL: no project(VERSION) in CMakeLists.txt"; exit 1; }
fails=0
got=$("$E" --version)
[ "$got" = "eventor $want" ] || { echo "FAIL: --version says '$got', want 'eventor $want'"; fails=1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cmake --install "$(dirname "$E")" --prefix "$T" >/dev/null ||
    { echo "FAIL: cmake --install"; exit 1; }
cat > "$T/v.c" <<'C'
#include <eventor.h>
version EVT_VERSION EVT_VERSION_MAJOR EVT_VERSION_MINOR EVT_VERSION_PATCH
C
line=$(${CC:-cc} -E -P -I"$T/include" "$T/v.c" | grep '^version')
major=${want%%.*} rest=${want#*.}
[ "$line" = "version \"$want\" $major ${rest%%.*} ${rest#*.}" ] ||
    { echo "FAIL: the installed header says: $line"; fails=1; }
[ $fails = 0 ] && echo "version $want in one place: --version and the installed header agree"
exit $fails
