#!/bin/sh
# The installed tree works for a user: `make install PREFIX=` lands
# everything under PREFIX, eventor.pc and the CMake package both find the
# shared library from wherever the tree ends up (DESTDIR staging, a moved
# tree), and eventor::eventor_static links the static one.
# Usage: test_install.sh SOURCE_DIR BUILD_DIR
set -eu
src=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. make install PREFIX=... after the tree was configured for /usr/local.
make -s -C "$src" install BUILD="$build" PREFIX="$tmp/p" >"$tmp/log" 2>&1 ||
  { cat "$tmp/log" >&2; fail "make install PREFIX=$tmp/p"; }
p=$tmp/p
for f in bin/eventor include/eventor.h share/man/man1/eventor.1; do
  [ -f "$p/$f" ] || fail "make install PREFIX: $f missing"
done
pc=$(find "$p" -name eventor.pc) && [ -n "$pc" ] || fail "no eventor.pc"
libdir=$(dirname "$(dirname "$pc")")
for f in libeventor.a libeventor.so eventor.pc; do
  [ -e "$libdir/$f" ] || [ -e "$libdir/pkgconfig/$f" ] || fail "$f missing in $libdir"
done
[ -f "$libdir/cmake/eventor/eventorConfig.cmake" ] || fail "no CMake package"
man -l "$p/share/man/man1/eventor.1" 2>/dev/null | grep -q -- '--keep-order' ||
  fail "man page lacks the options of --help"
if "$p/bin/eventor" fetch --help >/dev/null 2>&1; then
  man -l "$p/share/man/man1/eventor.1" 2>/dev/null | grep -q 'EVENTOR FETCH' ||
    fail "man page lacks eventor fetch"
fi
[ -z "$(find /usr/local -newer "$tmp/log" -name 'eventor*' 2>/dev/null)" ] ||
  fail "make install PREFIX wrote to /usr/local"

# 2. Staged with DESTDIR, then moved: pkg-config still points into the tree.
DESTDIR="$tmp/stage" cmake --install "$build" --prefix /opt/evt >/dev/null
[ -f "$tmp/stage/opt/evt/include/eventor.h" ] || fail "DESTDIR staging"
mv "$tmp/stage/opt/evt" "$tmp/moved"
pcdir=$(dirname "$(find "$tmp/moved" -name eventor.pc)")
cflags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags eventor)
libs=$(PKG_CONFIG_PATH=$pcdir pkg-config --libs eventor)
inc=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=includedir eventor)
[ -f "$inc/eventor.h" ] || fail "pkg-config includedir $inc is not the moved tree"
cc -O2 "$src/examples/gevent_pool.c" $cflags $libs -o "$tmp/pool_pc"
lib=$(dirname "$(find "$tmp/moved" -name libeventor.so)")
LD_LIBRARY_PATH=$lib "$tmp/pool_pc" | tail -1 | grep -q '^\[1, 2, 3,' ||
  fail "program built with pkg-config does not run"
ldd "$tmp/pool_pc" | grep -q 'libeventor\.so' ||
  fail "pkg-config --libs eventor did not link the shared library"

# 3. CMake: eventor::eventor is the shared library, eventor::eventor_static
#    the static one, both found from the moved tree.
mkdir "$tmp/app"
cp "$src/examples/gevent_pool.c" "$tmp/app/"
cat >"$tmp/app/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(app C)
find_package(eventor REQUIRED)
add_executable(app_shared gevent_pool.c)
target_link_libraries(app_shared PRIVATE eventor::eventor)
add_executable(app_static gevent_pool.c)
target_link_libraries(app_static PRIVATE eventor::eventor_static)
CM
cmake -S "$tmp/app" -B "$tmp/app/b" -DCMAKE_PREFIX_PATH="$tmp/moved" >"$tmp/log" 2>&1 &&
  cmake --build "$tmp/app/b" >>"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "CMake consumer"; }
ldd "$tmp/app/b/app_shared" | grep -q 'libeventor\.so' || fail "eventor::eventor is not the shared library"
! ldd "$tmp/app/b/app_static" | grep -q 'libeventor\.so' || fail "eventor::eventor_static links the shared library"
"$tmp/app/b/app_static" | tail -1 | grep -q '^\[1, 2, 3,' || fail "static consumer does not run"
LD_LIBRARY_PATH=$lib "$tmp/app/b/app_shared" | tail -1 | grep -q '^\[1, 2, 3,' || fail "shared consumer does not run"
echo "install: 3 checks passed"
