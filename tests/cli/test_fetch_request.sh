#!/bin/sh
# eventor fetch's request options against curl's documented meaning, on
# tests/cli/fetch_server.py (started here, stopped here), whose /echo-all
# answers with the request it got as JSON: method, path and query,
# headers, body. Where curl is installed, curl itself is asked the same
# and the two requests must match.
# Usage: tests/cli/test_fetch_request.sh PATH/TO/eventor
. "$(dirname "$0")/../lib/shell_test.sh"
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done; rm -rf "$T"' EXIT

mkfifo p1
python3 "$HERE/fetch_server.py" "$T/server.log" >p1 &
pids="$pids $!"
read -r _ port <p1
U=http://127.0.0.1:$port

# req NAME FETCH-ARGS...: fetch /echo-all with the args; NAME.json is what
# the server saw.
req() {
    n=$1
    shift
    "$E" fetch -q "$@" "$U/echo-all" >"$n.json" 2>"$n.err" ||
        fail "$n: exit $?: $(cat "$n.err")"
}
# check NAME PYTHON-EXPR: the expression over r (the request) holds.
check() {
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
h = r["headers"]
assert eval(sys.argv[2]), r
' "$1.json" "$2" 2>/dev/null || fail "$1: $2: $(cat "$1.json")"
}

# -d: a POST, form-encoded, the pieces of every -d/--data-* joined with &;
# @FILE loses its CRs and newlines, --data-binary @FILE keeps them,
# --data-raw takes @ literally, --data-urlencode encodes the content.
printf 'a=1\r\nb=2\n' >form
req data -d x=1 -d @form --data-binary @form --data-raw @form \
    --data-urlencode 'q=a b&c' --data-urlencode '=é/' \
    --data-urlencode 'f@form'
check data 'r["method"] == "POST"'
check data 'h["content-type"] == "application/x-www-form-urlencoded"'
check data 'r["body"] == "x=1&a=1b=2&a=1\r\nb=2\n&@form&q=a%20b%26c&%C3%A9%2F&f=a%3D1%0D%0Ab%3D2%0A"'
# @- is standard input.
printf 'from\nstdin' | "$E" fetch -q -d @- "$U/echo-all" >stdin.json ||
    fail "-d @-"
check stdin 'r["body"] == "fromstdin"'
# An unreadable @FILE is a usage error naming it.
"$E" fetch -q -d @/no/such/body "$U/echo-all" >out 2>err
[ $? = 255 ] && grep -q /no/such/body err || fail "-d @missing: $(cat err)"

# -G: the data in the query of a GET, after & when the URL has a query.
req get -G -d a=1 --data-urlencode 'b=x y'
check get 'r["method"] == "GET" and r["path"] == "/echo-all?a=1&b=x%20y"'
"$E" fetch -q -G -d c=3 "$U/echo-all?z=9" >get2.json || fail "-G with ?"
check get2 'r["path"] == "/echo-all?z=9&c=3"'

# -I: a HEAD, nothing on stdout; -X keeps its method with -d.
req head -I
[ ! -s head.json ] || fail "-I printed a body"
[ "$(tail -n 1 server.log)" = "HEAD /echo-all" ] ||
    fail "-I: the server saw $(tail -n 1 server.log)"
req put -X PUT -d v=1
check put 'r["method"] == "PUT" and r["body"] == "v=1"'
"$E" fetch -q -I -d a=1 "$U/echo-all" >out 2>err
[ $? = 255 ] && grep -q -- '-I' err || fail "-I with -d: $(cat err)"

# -H: added, replaced (Content-Type), removed ('Name:'), sent empty
# ('Name;'), and read from a file (CRLF line ends, a blank line).
printf 'X-One: 1\r\n\r\nX-Two: 2\n' >hdrs
req hdr -d a=1 -H 'X-Test: yes' -H 'Content-Type: text/plain' \
    -H 'Accept:' -H 'X-Empty;' -H @hdrs
check hdr 'h["x-test"] == "yes" and h["content-type"] == "text/plain"'
check hdr '"accept" not in h and h["x-empty"] == ""'
check hdr 'h["x-one"] == "1" and h["x-two"] == "2"'
for bad in 'NoColon' ': v' 'X;y'; do
    "$E" fetch -q -H "$bad" "$U/echo-all" >out 2>err
    [ $? = 255 ] && grep -q -- "$bad" err || fail "-H '$bad' accepted"
done

# -A, -e, -u, -b, --compressed.
req ids -A 'agent/1' -e http://from.example/ -u 'ann:s3cret' \
    -b 'k=v; k2=v2' --compressed
check ids 'h["user-agent"] == "agent/1" and h["referer"] == "http://from.example/"'
check ids 'h["authorization"] == "Basic YW5uOnMzY3JldA=="'
check ids 'h["cookie"] == "k=v; k2=v2"'
check ids '"gzip" in h["accept-encoding"]'
req ua
check ua 'h["user-agent"].startswith("eventor-fetch/")'

# -b FILE: its cookies are sent; the cookie engine keeps one the server
# sets on a redirect for the URL it leads to.
printf '127.0.0.1\tFALSE\t/\tFALSE\t0\tfromfile\tyes\n' >jar
"$E" fetch -q -L -b jar "$U/set-cookie/fresh=1" >jar.json || fail "-b FILE"
check jar '"fromfile=yes" in h["cookie"] and "fresh=1" in h["cookie"]'

# --max-redirs with -L; -m is --timeout, --retry is --retries.
"$E" fetch -q -L --max-redirs 1 "$U/redirect/3" >out 2>err
[ $? = 1 ] || fail "--max-redirs 1 followed 3"
"$E" fetch -q -L --max-redirs 3 "$U/redirect/3" >out
[ "$(cat out)" = landed ] || fail "--max-redirs 3: $(cat out)"
"$E" fetch -q --jsonl -m 0.3 "$U/slow/3000/m" >m.jsonl
grep -q '"error":"timeout' m.jsonl || fail "-m: $(cat m.jsonl)"
"$E" fetch -q --jsonl --retry 2 "$U/flaky/2/503/-" >r.jsonl
grep -q '"status":200.*"attempts":3' r.jsonl || fail "--retry: $(cat r.jsonl)"

# The same requests from curl itself, where it is installed: method, path
# and body agree.
if command -v curl >/dev/null; then
    for args in "-d x=1 -d @form --data-urlencode q=a+b" "-G -d a=1 -d b=2" \
        "-X PUT --data-binary @form"; do
        # shellcheck disable=SC2086 # the words are the options
        curl -s $args "$U/echo-all" >c.json
        # shellcheck disable=SC2086
        "$E" fetch -q $args "$U/echo-all" >e.json
        python3 - c.json e.json <<'EOF' || fail "curl $args differs: $(cat c.json) $(cat e.json)"
import json, sys
c, e = (json.load(open(f)) for f in sys.argv[1:])
for k in ("method", "path", "body"):
    assert c[k] == e[k], k
assert c["headers"].get("content-type") == e["headers"].get("content-type")
EOF
    done
else
    echo "skip: no curl to compare with"
fi

[ "$fails" = 0 ] && echo "fetch_request: all passed" && exit 0
echo "fetch_request: $fails failed"
exit 1
