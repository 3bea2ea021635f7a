#!/bin/sh
# scripts/check-layers.sh must fail on an include that goes up a layer, on
# a folder missing from its table, and on the CLI reaching past the public
# header, and pass a tree that keeps the order. $1: the script.
check=$1
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/src/core" "$t/src/loop" "$t/src/cli" "$t/include"
: > "$t/include/eventor.h"
printf '#include "eventor.h"\n' > "$t/src/core/core.h"
printf '#include "../core/core.h"\n' > "$t/src/loop/loop.h"
printf '#include "eventor.h"\n#include "cli.h"\n' > "$t/src/cli/main.c"
: > "$t/src/cli/cli.h"
sh "$check" "$t" > "$t/out" || { echo "a good tree failed:"; cat "$t/out"; exit 1; }

expect_fail() { # what it must say, then the file to add and its include
    printf '#include "%s"\n' "$3" > "$t/$2"
    if sh "$check" "$t" > "$t/out"; then
        echo "not caught: $2 including $3"
        exit 1
    fi
    grep -q "$1" "$t/out" || { echo "wrong message:"; cat "$t/out"; exit 1; }
    rm -f "$t/$2"
}
expect_fail "goes up from core to loop" src/core/up.c ../loop/loop.h
expect_fail "public header only" src/cli/deep.c ../core/core.h
mkdir -p "$t/src/misc"
expect_fail "not in the layer table" src/misc/x.c ../core/core.h
expect_fail "names no file" src/loop/gone.c ../core/gone.h
echo "check-layers catches every kind of upward include"
