#!/bin/sh
# Install the Debian packages a target needs, when they are missing and we
# are root: "test" for building and testing, "tsan" adds clang for the
# ThreadSanitizer build, "fuzz" clang and libFuzzer, "bench" adds the peers.
set -eu
what=${1:-test}
pkgs="cmake gcc make pkg-config help2man libcriterion-dev valgrind parallel"
# GNU parallel --csv (the differential tests of eventor --csv) needs Text::CSV.
pkgs="$pkgs libtext-csv-perl"
# {= perl expression =} and --rpl run in a perl coprocess.
pkgs="$pkgs perl"
# test_misc's --compress-program checks use gzip and bzip2; test_misc's
# -o check and test_more's -p drive a terminal (script(1), python3's pty).
pkgs="$pkgs gzip bzip2 bsdutils"
# eventor --pipe --regexp matches Perl regexes with PCRE2.
pkgs="$pkgs libpcre2-dev"
# libcurl for src/http; nginx serves the HTTP tests' large and chunked bodies.
pkgs="$pkgs libcurl4-openssl-dev nginx-light"
# The Redis broker (hiredis, redis-server in its tests); the hook layer's
# proofs: libcurl easy, hiredis against redis-server,
# libpq against PostgreSQL.
pkgs="$pkgs libhiredis-dev redis-server libpq-dev postgresql"
# eventor fetch's tests: a scripted HTTP server and JSON checks in python3;
# its benchmark's peers run the curl command.
pkgs="$pkgs python3 curl"
# nghttpd (an HTTP/2-only cleartext server) for fetch's HTTP/2 test.
pkgs="$pkgs nghttp2-server"
# -S/--sshlogin's tests: an sshd on loopback, ssh and rsync.
pkgs="$pkgs openssh-server openssh-client rsync"
[ "$what" = tsan ] && pkgs="$pkgs clang"
[ "$what" = bench ] && pkgs="$pkgs python3-gevent python3-urllib3 python3-aiohttp wrk golang-go libst-dev"
# The Redis broker's peers (bench/bench_redis.sh).
[ "$what" = bench ] && pkgs="$pkgs python3-celery python3-rq"
# make fuzz: clang with libFuzzer's runtime (tests/fuzz).
[ "$what" = fuzz ] && pkgs="$pkgs clang libclang-rt-14-dev"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing Debian packages:$missing (run as root, or install them)" >&2
  exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || apt-get update
apt-get install -y -qq --no-install-recommends $missing >/dev/null
