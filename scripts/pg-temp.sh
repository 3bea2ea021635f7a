#!/bin/sh
# A throwaway PostgreSQL on loopback for benchmarks: initdb + pg_ctl in a
# temporary directory on a free port, as the postgres user when run as root
# (PostgreSQL refuses root). Same recipe as tests/hook/test_hook_pq.c.
#   pg-temp.sh start MAXCONN   prints "DIR PORT" (exit 1 with a reason on stderr)
#   pg-temp.sh stop DIR
set -eu
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -n 1 || true)
[ -n "$bin" ] && PATH=$bin:$PATH
as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case ${1:-} in
start)
  command -v initdb >/dev/null && command -v pg_ctl >/dev/null ||
    { echo "pg-temp.sh: initdb/pg_ctl not found (Debian: postgresql)" >&2; exit 1; }
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 && command -v runuser >/dev/null ||
      { echo "pg-temp.sh: root without a postgres user and runuser" >&2; exit 1; }
  fi
  dir=$(mktemp -d /tmp/evt_pgXXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as initdb -D "$dir/data" -A trust -U evt --no-sync -E UTF8 >/dev/null 2>&1 ||
    { echo "pg-temp.sh: initdb failed" >&2; rm -rf "$dir"; exit 1; }
  as pg_ctl -D "$dir/data" -l "$dir/log" -w -t 60 -o "-p $port -k $dir \
-c listen_addresses=127.0.0.1 -c max_connections=${2:-100} -c fsync=off" start >/dev/null ||
    { echo "pg-temp.sh: pg_ctl start failed: $(tail -n 3 "$dir/log")" >&2; rm -rf "$dir"; exit 1; }
  echo "$dir $port" ;;
stop)
  as pg_ctl -D "$2/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$2" ;;
*) echo "usage: pg-temp.sh start MAXCONN | stop DIR" >&2; exit 2 ;;
esac
