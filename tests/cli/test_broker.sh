#!/bin/sh
# eventor submit / worker / status / results / drop against a redis-server
# of this test's own (a free loopback port, AOF on, in a temp dir; stopped
# by the trap): results as the local job runner's, three workers with one
# SIGKILLed and restarted, Redis restarted mid-run, a poison item, signals,
# --follow, the joblog of workers and of the batch as the local runner's,
# status of a batch that does not exist, and one clear line for every
# broker failure.
# Usage: tests/cli/test_broker.sh PATH/TO/eventor
# EVT_BROKER_ITEMS scales the kill test (default 4000 commands; the plugin
# run takes 5x as many).
. "$(dirname "$0")/lib/wait_for.sh"
. "$(dirname "$0")/../lib/shell_test.sh"
PLUGINS=$(dirname "$E")/examples
# A worker's -P processes come from eventor's fork server (forked while
# single-threaded) and start spawner threads of their own: TSan, whose own
# thread makes every fork look multi-threaded, would kill them for it.
TSAN_OPTIONS="${TSAN_OPTIONS:-} die_after_fork=0"
export TSAN_OPTIONS
N=${EVT_BROKER_ITEMS:-4000}
WAIT_S=40 # a redis-server restart, a worker's whole run
pids=
rpid=
trap 'for p in $pids $rpid; do kill -9 $p 2>/dev/null; done; rm -rf "$T"' EXIT

if ! "$E" status --broker redis://127.0.0.1:1/x >out 2>err &&
    grep -q 'without Redis support' err; then
    [ "$("$E" worker --broker redis://x/y echo 2>/dev/null; echo $?)" = 2 ] ||
        fail "no Redis: exit 2"
    "$E" worker --help | grep -q 'Usage: eventor worker' || fail "help"
    [ "$fails" = 0 ] && echo "broker: built without Redis (checked)" && exit 0
    exit 1
fi
command -v redis-server >/dev/null || { echo "skip: no redis-server"; exit 0; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir data
start_redis() {
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly yes \
        --dir "$T/data" >>redis.log 2>&1 &
    rpid=$!
    wait_for '[ "$(redis-cli -p $port PING 2>/dev/null)" = PONG ]'
}
rc() { redis-cli -p "$port" "$@"; }
start_redis || { fail "redis-server did not start"; exit 1; }
B=redis://127.0.0.1:$port

# Usage and --help.
for sub in submit worker status results drop; do
    "$E" $sub --help | grep -q "Usage: eventor $sub" || fail "$sub --help"
done
"$E" --help | grep -q 'eventor submit' || fail "eventor --help names submit"
"$E" worker echo >out 2>err
[ $? = 255 ] && [ "$(wc -l <err)" = 1 ] && grep -q -- '--broker' err ||
    fail "worker without --broker: $(cat err)"
"$E" worker --broker "$B/u" --no-such echo >out 2>err
[ $? = 255 ] && grep -q -- '--no-such' err || fail "unknown option: $(cat err)"

# Broker failures: one line naming the URL and what, exit 255.
for sub in "submit ::: a" "worker echo" "status" "results" "drop"; do
    set -- $sub
    s=$1
    shift
    "$E" $s --broker redis://127.0.0.1:1/x "$@" >out 2>err
    r=$?
    [ $r = 255 ] && [ "$(wc -l <err)" = 1 ] &&
        grep -q '^eventor: redis://127.0.0.1:1/x: Connection refused$' err ||
        fail "$s, unreachable: $r $(cat err)"
done
rc SET 'eventor:{wt}:items' x >/dev/null
"$E" submit --broker "$B/wt" ::: a >out 2>err
[ $? = 255 ] && [ "$(wc -l <err)" = 1 ] && grep -q "$B/wt: .*WRONGTYPE" err ||
    fail "wrong type: $(cat err)"
"$E" worker --broker "$B/wt" echo >out 2>err
[ $? = 255 ] && grep -q WRONGTYPE err || fail "worker, wrong type: $(cat err)"
rc CONFIG SET maxmemory 1 >/dev/null
"$E" submit --broker "$B/oom" ::: a >out 2>err
[ $? = 255 ] && [ "$(wc -l <err)" = 1 ] && grep -q "$B/oom: .*OOM" err ||
    fail "out of memory: $(cat err)"
rc CONFIG SET maxmemory 0 >/dev/null
rc CONFIG SET requirepass sesame >/dev/null
"$E" status --broker "$B/a" >out 2>err
[ $? = 255 ] && [ "$(wc -l <err)" = 1 ] && grep -q 'NOAUTH' err ||
    fail "no password: $(cat err)"
"$E" status --broker "redis://:wrong@127.0.0.1:$port/a" >out 2>err
[ $? = 255 ] && [ "$(wc -l <err)" = 1 ] &&
    grep -q 'authentication refused: WRONGPASS' err || fail "bad password: $(cat err)"
"$E" submit --broker "redis://:sesame@127.0.0.1:$port/a" ::: x y >out 2>err ||
    fail "with the password: $(cat err)"
rc -a sesame --no-auth-warning CONFIG SET requirepass '' >/dev/null

# Results as the local runner's: submit, three workers (-P x -j), -k.
seq 1 300 | sed 's/^/item /' >items
"$E" -k echo "{}" "{/}" :::: items >expect
"$E" submit --broker "$B/basic" items || fail "submit"
"$E" status --broker "$B/basic" | grep -q 'waiting *300$' || fail "status: 300 waiting"
for w in 1 2 3; do
    "$E" worker -q --broker "$B/basic" -P 2 -j 3 echo "{}" "{/}" 2>w$w.err &
    eval "wp$w=\$!"
done
wait $wp1 && wait $wp2 && wait $wp3 || fail "workers' exit: $(cat w*.err)"
"$E" results --broker "$B/basic" -k >out
r=$?
[ $r = 0 ] && cmp -s expect out || fail "results -k differ from the local run"
"$E" results --broker "$B/basic" --jsonl | grep -c '"status":"done"' |
    grep -qx 300 || fail "--jsonl records"
"$E" status --broker "$B/basic" >st
grep -q 'done *300$' st && grep -q 'in flight *0$' st && grep -q 'workers *0$' st ||
    fail "status after: $(cat st)"
"$E" status --bar --broker "$B/basic" 2>bar || fail "--bar on a done batch"
grep -q '100% 300/300' bar || fail "--bar: $(cat bar)"
ttl=$(rc TTL 'eventor:{basic}:results')
[ "$ttl" -gt 600000 ] || fail "a done batch expires after --keep: ttl $ttl"
"$E" drop --broker "$B/basic" || fail "drop"
[ "$(rc EXISTS 'eventor:{basic}:items' 'eventor:{basic}:results')" = 0 ] ||
    fail "drop left keys"

# A worker SIGKILLed mid-run and restarted: one result per item, and every
# item's side effect (its id appended to a file) happened. Delivery is at
# least once: only the items the killed worker was running may have run
# twice, so duplicates of side effects are bounded by its job slots plus
# what it read ahead; results stay exactly one per item.
seq 1 "$N" >kitems
"$E" submit --broker "$B/kill" kitems || fail "submit kill"
cmd='echo {} >>effects; echo r{}'
"$E" worker -q --broker "$B/kill" --visibility 3 -P 2 -j 4 "$cmd" 2>k1.err &
k1=$!
pids="$pids $k1"
"$E" worker -q --broker "$B/kill" --visibility 3 -P 2 -j 4 "$cmd" 2>k2.err &
k2=$!
pids="$pids $k2"
"$E" worker -q --broker "$B/kill" --visibility 3 -j 6 "$cmd" 2>k3.err &
k3=$!
pids="$pids $k3"
wait_for '[ "$(rc HLEN "eventor:{kill}:results")" -ge $((N / 4)) ]' ||
    fail "kill: no progress"
kill -9 $k1
"$E" worker -q --broker "$B/kill" --visibility 3 -P 2 -j 4 "$cmd" 2>k4.err &
k4=$!
wait $k2 && wait $k3 && wait $k4 || fail "kill: workers' exit: $(cat k*.err)"
sed 's/^/r/' kitems >kexpect
"$E" results --broker "$B/kill" -k >kout || fail "kill: results exit"
cmp -s kexpect kout || fail "kill: results differ ($(wc -l <kout) lines)"
[ "$(rc HLEN 'eventor:{kill}:results')" = "$N" ] || fail "kill: result count"
sort -n effects | uniq >eff.uniq
cmp -s kitems eff.uniq || fail "kill: a side effect is missing"
dups=$(($(wc -l <effects) - N))
[ $dups -le 200 ] || fail "kill: $dups side effects twice"
echo "kill: $dups side effects ran twice (at-least-once), results exactly once"

# The same with a plugin, 5x the items, 3 workers of -P 2 x -c 50.
seq 1 $((N * 5)) >pitems
"$E" submit --broker "$B/plug" pitems
for w in 1 2 3; do
    "$E" worker -q --broker "$B/plug" -P 2 -c 50 \
        --plugin "$PLUGINS/add_ten.so:add_ten" 2>p$w.err &
    eval "pp$w=\$!"
done
wait $pp1 && wait $pp2 && wait $pp3 || fail "plugin workers: $(cat p*.err)"
awk '{ print $1 + 10 }' pitems >pexpect
"$E" results --broker "$B/plug" -k >pout
cmp -s pexpect pout || fail "plugin results differ"

# Redis restarted mid-run: the workers wait, reconnect and finish.
seq 1 400 >ritems
"$E" submit --broker "$B/re" ritems
"$E" worker -q --broker "$B/re" -j 8 'sleep 0.02; echo {}' 2>re1.err &
r1=$!
"$E" worker -q --broker "$B/re" -P 2 -j 4 'sleep 0.02; echo {}' 2>re2.err &
r2=$!
pids="$pids $r1 $r2"
wait_for '[ "$(rc HLEN "eventor:{re}:results")" -ge 50 ]' || fail "re: no progress"
rc SHUTDOWN >/dev/null 2>&1
wait $rpid 2>/dev/null
start_redis || fail "redis-server did not start again"
wait $r1 && wait $r2 || fail "re: workers' exit: $(cat re*.err)"
"$E" results --broker "$B/re" -k >rout
cmp -s ritems rout || fail "re: results differ after the restart"

# A poison item: its command always fails; after --max-deliveries it is
# dead-lettered and the batch completes. results exits with the count.
"$E" submit --broker "$B/poison" ::: ok1 ok2 poison ok3
"$E" worker -q --broker "$B/poison" --max-deliveries 3 --visibility 0.2 -j 2 \
    'test {} != poison && echo {}' 2>perr || fail "poison: worker exit"
"$E" results --broker "$B/poison" -k >out 2>err
r=$?
[ $r = 1 ] && [ "$(cat out)" = "$(printf 'ok1\nok2\nok3')" ] ||
    fail "poison: results $r: $(cat out)"
grep -q '1 items were dead-lettered' err || fail "poison: $(cat err)"
"$E" results --broker "$B/poison" --jsonl | grep -q '"item":"poison","status":"dead"' ||
    fail "poison: --jsonl dead record"
[ "$(rc XLEN 'eventor:{poison}:dead')" = 1 ] || fail "poison: dead stream"
rc XRANGE 'eventor:{poison}:dead' - + | grep -qx 4 || fail "poison: deliveries"
# A plugin that crashes its worker process on one item.
"$E" submit --broker "$B/segv" ::: a segv b
"$E" worker -q --broker "$B/segv" --max-deliveries 2 --visibility 0.2 -P 1 \
    --plugin "$PLUGINS/crash_on.so:crash_on" 2>/dev/null || fail "segv: worker exit"
[ "$("$E" results --broker "$B/segv" -k 2>/dev/null)" = "$(printf 'a\nb')" ] ||
    fail "segv: results"

# SIGTERM: running items finish, the ones held are handed back at once
# (idle past any visibility timeout), exit 128+15.
seq 1 40 >sitems
"$E" submit --broker "$B/sig" sitems
"$E" worker -q --broker "$B/sig" -j 4 'sleep 0.5; echo {}' 2>sig.err &
sp=$!
wait_for '[ "$(rc XPENDING "eventor:{sig}:items" eventor | head -1)" -gt 0 ]'
kill -TERM $sp
wait $sp
[ $? = 143 ] || fail "SIGTERM: exit status"
held=$(rc XPENDING 'eventor:{sig}:items' eventor | head -1)
idle=$(rc XPENDING 'eventor:{sig}:items' eventor IDLE 86400000 - + 1000 |
    grep -cE '^[0-9]+-[0-9]+$')
[ "$held" = "$idle" ] || fail "SIGTERM: $held held, $idle handed back"
"$E" worker -q --broker "$B/sig" -j 40 'echo {}' || fail "after SIGTERM"
"$E" results --broker "$B/sig" -k >out
cmp -s sitems out || fail "SIGTERM: results"

# --follow: results as they arrive, in order with -k, until the batch is
# done; a worker with --follow then waits for more items.
"$E" submit --broker "$B/fol" ::: 1 2 3 4 5
"$E" results --broker "$B/fol" -k --follow >fout 2>ferr &
fr=$!
"$E" worker -q --broker "$B/fol" --follow -j 4 'echo {}' 2>fw.err &
fw=$!
pids="$pids $fr $fw"
wait $fr || fail "results --follow exit: $(cat ferr)"
[ "$(cat fout)" = "$(printf '1\n2\n3\n4\n5')" ] || fail "follow: $(cat fout)"
"$E" submit --broker "$B/fol" ::: 6 7
wait_for '[ "$(rc HLEN "eventor:{fol}:results")" = 7 ]' || fail "follow: more"
kill -TERM $fw
wait $fw
[ $? = 143 ] || fail "worker --follow after SIGTERM"

# The joblog: the same commands (two failing, one killed by a signal, one
# that fails once and succeeds on its retry) by the local runner and by two
# workers (one of -P 2), each with --joblog; and the batch's one joblog from
# Redis (results --joblog). Every column but Host and the times is the
# same; Host is each worker's name; Seq and {#} are the input numbers.
cat >job.sh <<'EOF'
#!/bin/sh
case $2 in
kill) kill -9 $$ ;;
fail*) echo "out $1"; exit "${2#fail}" ;;
flaky) [ -e "$FLAKY" ] || { : >"$FLAKY"; exit 4; } ;;
esac
echo "out $1 $2"
EOF
chmod +x job.sh
printf '%s\n' a fail3 b fail7 kill c flaky d fail1 e f g h >jitems
FLAKY=$T/flaky.local "$E" --joblog local.log --retries 2 -j 3 \
    ./job.sh {#} {} :::: jitems >/dev/null 2>&1
echo previous >w2.log
jw() {
    FLAKY=$T/flaky.w "$E" worker -q --broker "$B/jl" --retries 2 \
        --max-deliveries 1 --visibility 1 "$@" ./job.sh {#} {} 2>>jw.err
}
# (two submits, one worker on each part: both run items, and the second
# part's numbers go on from the first's)
head -7 jitems | "$E" submit --broker "$B/jl" -
jw --consumer wa --joblog w1.log -j 2 || fail "joblog: wa: $(cat jw.err)"
tail -n +8 jitems | "$E" submit --broker "$B/jl" -
jw --consumer wb --joblog +w2.log -P 2 -j 2 || fail "joblog: wb: $(cat jw.err)"
"$E" results --broker "$B/jl" --joblog merged.log >/dev/null 2>&1
[ $? = 4 ] || fail "joblog: results exit (4 dead-lettered)"
# Seq Send Receive Exitval Signal Command, by Seq
cols() { awk -F'\t' '$1 != "Seq" && $1 != "previous" {
    print $1 "\t" $5 "\t" $6 "\t" $7 "\t" $8 "\t" $9 }' "$@" | sort -n; }
cols local.log >jl.local
[ "$(cut -f1 jl.local | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 10 11 12 13 " ] ||
    fail "joblog: local Seq: $(cat jl.local)"
tab=$(printf '\t')
grep -qx "2${tab}0${tab}6${tab}3${tab}0${tab}./job.sh 2 fail3" jl.local &&
    grep -qx "5${tab}0${tab}0${tab}0${tab}9${tab}./job.sh 5 kill" jl.local &&
    grep -qx "7${tab}0${tab}12${tab}0${tab}0${tab}./job.sh 7 flaky" jl.local ||
    fail "joblog: local lines: $(cat jl.local)"
cols w1.log w2.log >jl.workers
cmp -s jl.local jl.workers ||
    fail "joblog: the workers' differ: $(diff jl.local jl.workers)"
cols merged.log >jl.merged
cmp -s jl.local jl.merged ||
    fail "joblog: merged differs: $(diff jl.local jl.merged)"
[ "$(head -1 w1.log)" = "$(head -1 local.log)" ] &&
    [ "$(head -1 merged.log)" = "$(head -1 local.log)" ] &&
    [ "$(head -1 w2.log)" = previous ] || fail "joblog: headers, +FILE"
awk -F'\t' 'NR > 1 && $2 != "wa" { bad = 1 } END { exit bad }' w1.log &&
    awk -F'\t' 'NR > 1 && $2 != "wb" { bad = 1 } END { exit bad }' w2.log &&
    awk -F'\t' 'NR > 1 && $2 != "wa" && $2 != "wb" { bad = 1 }
        END { exit bad }' merged.log || fail "joblog: Host"
[ "$(grep -c . w1.log)" -gt 1 ] && [ "$(grep -c . w2.log)" -gt 1 ] ||
    fail "joblog: both workers ran items"
"$E" worker --broker "$B/jl" --joblog x --plugin "$PLUGINS/add_ten.so:add_ten" \
    2>err
[ $? = 255 ] && grep -q -- '--joblog' err ||
    fail "joblog with a plugin: $(cat err)"
"$E" worker -q --broker "$B/jl" --joblog "$T/no/such/dir/x" echo 2>err
[ $? = 255 ] && grep -q "cannot write joblog $T/no/such/dir/x" err ||
    fail "joblog that cannot be written: $(cat err)"

# A batch that does not exist: status says so (exit 1) and creates no key,
# nor does results.
"$E" status --broker "$B/nosuch" >out 2>err
r=$?
[ $r = 1 ] && [ "$(wc -l <err)" = 1 ] &&
    grep -q "^eventor: $B/nosuch: no such batch" err ||
    fail "status of no batch: $r $(cat err)"
"$E" results --broker "$B/nosuch" -k >out 2>err || fail "results of no batch"
[ "$(rc EXISTS 'eventor:{nosuch}:items' 'eventor:{nosuch}:results' \
    'eventor:{nosuch}:dead' 'eventor:{nosuch}:log')" = 0 ] &&
    [ -z "$(rc KEYS 'eventor:{nosuch}*')" ] ||
    fail "looking at no batch made keys: $(rc KEYS 'eventor:{nosuch}*')"

[ "$fails" = 0 ] && echo "broker: all passed" && exit 0
echo "broker: $fails failed"
exit 1
