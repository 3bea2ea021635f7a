#!/bin/sh
# Build the compiled peer benchmarks (Go, State Threads) into OUTDIR.
# Usage: bench/peers/build.sh OUTDIR        (e.g. build/bench/peers)
# Needs: go (Debian golang-go; standard library only, no network),
#        a C compiler and libst-dev (st.h, -lst).
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
CC=${CC:-cc}

fail() { echo "peers/build.sh: $*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || fail "Go toolchain not found (apt-get install -y golang-go)"
command -v "$CC" >/dev/null 2>&1 || fail "C compiler '$CC' not found (apt-get install -y gcc)"
printf '#include <st.h>\nint main(void){return st_init();}\n' |
    "$CC" -x c - -o /dev/null -lst 2>/dev/null ||
    fail "State Threads library not usable (apt-get install -y libst-dev)"

# Go: plain GOPATH-less single-file build, no module downloads.
(cd "$here/go" && GO111MODULE=off GOFLAGS= go build -o "$out/go_bench" bench.go) ||
    fail "go build failed"
echo "built $out/go_bench"
(cd "$here/go_http" && GO111MODULE=off GOFLAGS= go build -o "$out/go_http_bench" main.go) ||
    fail "go build of go_http failed"
echo "built $out/go_http_bench"

"$CC" -std=c17 -O2 -Wall -Wextra -o "$out/st_bench" "$here/st_bench.c" -lst ||
    fail "building st_bench failed"
echo "built $out/st_bench"
