#!/bin/sh
# eventor fetch against real servers on loopback, started here and stopped
# here: tests/cli/fetch_server.py (scripted statuses, Retry-After,
# redirects, slow answers; it logs every request it gets) and
# bench/bench_http_server (bulk). Behaviour only: statuses, files, records,
# order, request counts on the server side, exit codes.
# Usage: tests/cli/test_fetch.sh PATH/TO/eventor
. "$(dirname "$0")/../lib/shell_test.sh"
BULK=$(dirname "$E")/bench/bench_http_server
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done; rm -rf "$T"' EXIT
. "$HERE/lib/wait_for.sh"

# The scripted server prints its port first.
mkfifo p1
python3 "$HERE/fetch_server.py" "$T/server.log" >p1 &
pids="$pids $!"
read -r _ port <p1
U=http://127.0.0.1:$port

# Usage errors: one line naming the input, 255.
"$E" fetch --no-such-flag "$U/" >out 2>err
[ $? = 255 ] && [ "$(wc -l <err)" = 1 ] && grep -q -- '--no-such-flag' err ||
    fail "unknown flag: $(cat err)"
"$E" fetch -a /no/such/list >out 2>err
[ $? = 255 ] && grep -q '/no/such/list' err || fail "unreadable list: $(cat err)"
"$E" fetch --per-host 0 "$U/" >out 2>err
[ $? = 255 ] && grep -q -- '--per-host' err || fail "--per-host 0: $(cat err)"
"$E" fetch --help | grep -q 'Exit status' || fail "fetch --help"
"$E" --help | grep -q 'eventor fetch' || fail "eventor --help names fetch"

# Statuses, transport errors and an invalid URL line; --jsonl records.
cat >list <<EOF
$U/status/200
$U/status/404
$U/status/500
http://127.0.0.1:1/refused
http://no-such-host.invalid/
htp:/not-a-url
EOF
"$E" fetch --jsonl -a list >out.jsonl 2>err
rc=$?
[ $rc = 5 ] || fail "exit $rc for 5 failed URLs"
[ "$(wc -l <out.jsonl)" = 6 ] || fail "jsonl lines: $(cat out.jsonl)"
grep -q "invalid URL" err && grep -q "htp:/not-a-url" err ||
    fail "invalid URL not named: $(cat err)"
python3 - out.jsonl <<'EOF' || fail "jsonl fields"
import json, sys
recs = {r["seq"]: r for r in map(json.loads, open(sys.argv[1]))}
want = {1: 200, 2: 404, 3: 500, 4: 0, 5: 0, 6: 0}
for seq, st in want.items():
    r = recs[seq]
    assert set(r) == {"seq", "url", "status", "bytes", "time", "attempts",
                      "error"}, r
    assert r["status"] == st and r["attempts"] == 1, r
assert recs[1]["error"] is None and recs[1]["bytes"] == 10, recs[1]
assert "refused" in recs[4]["error"], recs[4]
assert "no such host" in recs[5]["error"], recs[5]
assert "invalid URL" in recs[6]["error"], recs[6]
EOF
grep -q '2xx 1, 3xx 0, 4xx 1, 5xx 1, errors 3' err || fail "report: $(cat err)"
grep -q 'p50 .* ms, p99 .* ms' err || fail "report latency: $(cat err)"

# HTTP only: a file:// line is an invalid URL, never read.
"$E" fetch -q file:///etc/hostname >out 2>err
[ $? = 1 ] && [ ! -s out ] && grep -q 'invalid URL' err || fail "file:// was read"

# Retries: 429 with Retry-After (1 s honoured, over the 100 ms backoff),
# 503 without, and a 404 that is not retried; --body JSON-escaped.
"$E" fetch --jsonl --body --retries 3 "$U/flaky/1/429/1" "$U/flaky/2/503/-" \
    "$U/status/404" >out.jsonl 2>err
[ $? = 1 ] || fail "retries exit"
python3 - out.jsonl <<'EOF' || fail "retries: $(cat out.jsonl)"
import json, sys
recs = {r["seq"]: r for r in map(json.loads, open(sys.argv[1]))}
assert recs[1]["status"] == 200 and recs[1]["attempts"] == 2, recs[1]
assert recs[1]["time"] >= 0.9, recs[1]   # waited what Retry-After said
assert recs[1]["body"] == "fine after 2", recs[1]
assert recs[2]["status"] == 200 and recs[2]["attempts"] == 3, recs[2]
assert recs[3]["status"] == 404 and recs[3]["attempts"] == 1, recs[3]
EOF
[ "$(grep -c '^/status/404$' server.log)" = 2 ] || fail "404 was retried"
# Out of retries: the last status stands.
"$E" fetch -q --retries 1 "$U/flaky/5/500/-" >out 2>err
[ $? = 1 ] || fail "retries exhausted must fail"

# Redirects: not followed by default, followed with -L.
"$E" fetch -q "$U/redirect/2" >out; rc=$?
[ $rc = 0 ] && [ ! -s out ] || fail "302 without -L: rc $rc"
"$E" fetch -q -L "$U/redirect/2" >out
[ "$(cat out)" = landed ] || fail "-L: $(cat out)"

# Method, body and headers.
echo "file body" >data
"$E" fetch -q -X PUT -d @data -H 'X-Test: yes' "$U/echo" >out
[ "$(cat out)" = "PUT yes file body" ] || fail "-X -d @FILE -H: $(cat out)"

# -k: bodies in input order, the slow first one included.
"$E" fetch -q -k "$U/slow/400/a" "$U/b" "$U/slow/200/c" "$U/d" >out
printf '/slow/400/a\n/b\n/slow/200/c\n/d\n' | cmp -s - out || fail "-k: $(cat out)"

# -P: the bodies of worker processes on stdout as in process, in input
# order with -k (the slow first one included), a failed URL's left out;
# --jsonl --body carries them, the failed one's too. The workers' spool
# under $TMPDIR is gone at the end.
mkdir ptmp
TMPDIR=$T/ptmp "$E" fetch -q -P 2 -j 2 -k "$U/slow/400/a" "$U/b" \
    "$U/status/404" "$U/slow/200/c" "$U/d" >out
rc=$?
printf '/slow/400/a\n/b\n/slow/200/c\n/d\n' | cmp -s - out && [ $rc = 1 ] ||
    fail "-P -k: rc $rc, $(cat out)"
i=1
while [ $i -le 200 ]; do echo "$U/p$i"; i=$((i + 1)); done >plist
TMPDIR=$T/ptmp "$E" fetch -q -P 3 -j 10 -k -a plist >out
sed "s|^$U||" plist | cmp -s - out || fail "-P 3 -k: 200 bodies out of order"
TMPDIR=$T/ptmp "$E" fetch -q -P 2 --jsonl --body "$U/status/404" "$U/x" \
    >pj.jsonl
python3 - pj.jsonl <<'EOF' || fail "-P --jsonl --body: $(cat pj.jsonl)"
import json, sys
recs = {r["seq"]: r for r in map(json.loads, open(sys.argv[1]))}
assert recs[1]["status"] == 404 and recs[1]["body"] == "status 404", recs[1]
assert recs[2]["body"] == "/x\n" and recs[2]["bytes"] == 3, recs[2]
EOF
[ -z "$(ls -A ptmp)" ] || fail "-P: spool left behind: $(ls -A ptmp)"

# -o DIR: names from the template, nothing under a final name until whole.
"$E" fetch -q -o pages --name 'page-{#}-{/}' "$U/x/one.html" "$U/status/404" \
    "$U/" >out
[ "$(cat pages/page-1-one.html)" = /x/one.html ] || fail "-o page 1"
[ ! -e pages/page-2-404 ] || fail "-o: a failed URL left a file"
[ -e pages/page-3-index ] || fail "-o: default part name"
[ "$(ls -A pages | wc -l)" = 2 ] || fail "-o: leftovers: $(ls -A pages)"
# While a slow body is in flight, only a hidden temporary name exists.
"$E" fetch -q -o slow "$U/slow/1500/z" >out &
fp=$!
wait_for '[ -n "$(ls -A slow 2>/dev/null)" ]' || fail "no temporary file"
ls slow | grep -q . && fail "a visible name before the body was whole"
wait $fp
[ "$(cat slow/1)" = /slow/1500/z ] || fail "-o: file after the rename"

# Resume after kill -9: a resumed crawl requests exactly the URLs the log
# does not list, each once.
i=1
while [ $i -le 40 ]; do echo "$U/slow/250/r$i"; i=$((i + 1)); done >rlist
"$E" fetch -q -j 4 --joblog jl -o rpages -a rlist >/dev/null 2>&1 &
fp=$!
wait_for '[ "$(cat jl 2>/dev/null | wc -l)" -ge 9 ]' || fail "crawl did not start"
kill -9 $fp
wait $fp 2>/dev/null
before=$(wc -l <server.log)
done1=$(tail -n +2 jl | wc -l)
[ "$done1" -lt 40 ] || fail "the crawl finished before the kill"
"$E" fetch -q -j 4 --joblog jl --resume -o rpages -a rlist >/dev/null 2>err
[ $? = 0 ] || fail "resume exit: $(cat err)"
tail -n +$((before + 1)) server.log | grep '/r[0-9]' | sort >second
tail -n +2 jl | head -n "$done1" | cut -f9 | sed "s|$U||" | sort >first
cat first second | sort | uniq -d >both
[ ! -s both ] || fail "resume fetched finished URLs again: $(cat both)"
[ "$(sort -u second | wc -l)" = "$(wc -l <second)" ] || fail "resume: a URL twice"
[ $(($(wc -l <first) + $(wc -l <second))) = 40 ] || fail "resume: not every URL"
[ "$(tail -n +2 jl | wc -l)" = 40 ] || fail "joblog after resume"
[ "$(ls rpages | wc -l)" = 40 ] || fail "files after resume: $(ls rpages | wc -l)"

# SIGTERM: nothing new starts, the running transfers finish and are
# logged, exit 255; --resume then fetches the rest.
i=1
while [ $i -le 20 ]; do echo "$U/slow/300/t$i"; i=$((i + 1)); done >tlist
"$E" fetch -q -j 2 --joblog tl -o tpages -a tlist >/dev/null 2>&1 &
fp=$!
wait_for '[ "$(cat tl 2>/dev/null | wc -l)" -ge 2 ]' || fail "no first line"
kill -TERM $fp
wait $fp
rc=$?
[ $rc = 255 ] || fail "exit $rc after SIGTERM"
n=$(tail -n +2 tl | wc -l)
[ "$n" -lt 20 ] && [ "$(ls tpages | wc -l)" = "$n" ] ||
    fail "after SIGTERM: $n logged, $(ls tpages | wc -l) files"
"$E" fetch -q -j 4 --joblog tl --resume -o tpages -a tlist >/dev/null 2>&1
[ "$(ls tpages | wc -l)" = 20 ] && [ "$(tail -n +2 tl | wc -l)" = 20 ] ||
    fail "resume after SIGTERM"

# Exit status caps at 101; bulk against bench_http_server, counted there.
i=0
while [ $i -lt 120 ]; do echo "http://127.0.0.1:1/$i"; i=$((i + 1)); done >bad
"$E" fetch -q -a bad >/dev/null 2>&1
[ $? = 101 ] || fail "exit status not capped at 101"
if [ -x "$BULK" ]; then
    mkfifo p2
    "$BULK" --port 0 --delay-ms 1 >p2 &
    bp=$!
    exec 3<p2
    read -r _ bport <&3
    i=0
    while [ $i -lt 3000 ]; do echo "http://127.0.0.1:$bport/$i"; i=$((i + 1)); done >many
    "$E" fetch --jsonl -j 200 <many >bulk.jsonl 2>err
    [ $? = 0 ] || fail "bulk exit: $(cat err)"
    [ "$(grep -c '"status":200' bulk.jsonl)" = 3000 ] || fail "bulk statuses"
    "$E" fetch -q -P 2 -j 50 -o bulk -a many 2>err
    [ $? = 0 ] && [ "$(ls bulk | wc -l)" = 3000 ] || fail "-P 2: $(cat err)"
    kill -TERM $bp
    reqs=$(grep http_server_requests <&3 | cut -d' ' -f2)
    wait $bp
    [ "$reqs" = 6000 ] || fail "server saw $reqs requests, not 6000"
    # --per-host: the most connections open at once, counted by the server
    # (one server per run, so that each run has its own count).
    max_conns() { # max_conns DELAY_MS FETCH-ARGS...: the server's count
        d=$1
        shift
        rm -f p3
        mkfifo p3
        "$BULK" --port 0 --delay-ms "$d" >p3 &
        sp=$!
        exec 4<p3
        read -r _ sport <&4
        sed "s|^http://127.0.0.1:[0-9]*/|http://127.0.0.1:$sport/|" many >hosted
        "$E" fetch -q --jsonl "$@" -a hosted >ph.jsonl 2>err ||
            fail "fetch $*: $(cat err)"
        kill -TERM $sp
        grep http_server_max_conns <&4 | cut -d' ' -f2
        wait $sp
        exec 4<&-
    }
    i=3000
    while [ $i -lt 10000 ]; do echo "http://127.0.0.1:1/$i"; i=$((i + 1)); done >>many
    n=$(max_conns 0 --per-host 4 -j 100)
    [ "$n" -ge 1 ] && [ "$n" -le 4 ] || fail "--per-host 4: $n connections"
    [ "$(grep -c '"status":200' ph.jsonl)" = 10000 ] || fail "--per-host 4 statuses"
    n=$(max_conns 1 --per-host 4 -P 2 -j 20)
    [ "$n" -ge 1 ] && [ "$n" -le 4 ] || fail "--per-host 4 -P 2: $n connections"
    # The count can fail: without --per-host the same run opens more.
    n=$(max_conns 1 -j 20)
    [ "$n" -gt 4 ] || fail "without --per-host only $n connections"
else
    echo "skip: no $BULK"
fi

# HTTP/2 with prior knowledge against nghttpd --no-tls: libcurl 7.88 fails
# every reuse of such a connection unless eventor works around it; the
# transfers multiplex on one connection (nghttpd -v names each one).
if command -v nghttpd >/dev/null; then
    mkdir h2 && echo h2body >h2/f
    hport=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    nghttpd -v --no-tls -d h2 "$hport" >ng.log 2>&1 &
    np=$!
    pids="$pids $np"
    wait_for 'grep -q "listen" ng.log' || fail "nghttpd did not start"
    i=0
    while [ $i -lt 500 ]; do echo "http://127.0.0.1:$hport/f"; i=$((i + 1)); done >h2list
    for j in 1 50; do
        "$E" fetch -q --http2-prior-knowledge -j $j --jsonl -a h2list >h2.jsonl 2>err
        [ $? = 0 ] && [ "$(grep -c '"status":200,"bytes":7,' h2.jsonl)" = 500 ] ||
            fail "HTTP/2 -j $j: $(grep -v '"status":200' h2.jsonl | head -2) $(cat err)"
    done
    kill $np
    wait $np 2>/dev/null
    conns=$(grep -o '^\[id=[0-9]*\]' ng.log | sort -u | wc -l)
    streams=$(grep -c 'recv HEADERS' ng.log)
    [ "$streams" = 1000 ] && [ "$conns" -ge 1 ] && [ "$conns" -le 4 ] ||
        fail "HTTP/2: $streams streams on $conns connections"
else
    echo "skip: no nghttpd"
fi

[ "$fails" = 0 ] && echo "fetch: all passed" && exit 0
echo "fetch: $fails failed"
exit 1
