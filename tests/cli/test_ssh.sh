#!/bin/sh
# Differential tests of eventor's remote execution (-S, --slf, --ssh,
# --workdir, --transferfile/--return/--cleanup/--trc, --onall/--nonall)
# against GNU parallel, over real ssh to an sshd this test starts on a free
# loopback port (its own host and user keys, stopped at exit). Skips (77)
# when not root or sshd, ssh or rsync is missing.
# Usage: tests/cli/test_ssh.sh PATH/TO/eventor
SSHD=/usr/sbin/sshd
if [ "$(id -u)" != 0 ] || [ ! -x $SSHD ] || ! command -v ssh >/dev/null ||
   ! command -v rsync >/dev/null || ! command -v python3 >/dev/null; then
    echo "SKIP: needs root, $SSHD, ssh, rsync and python3"
    exit 77
fi
. "$(dirname "$0")/lib/parallel_diff.sh"


# --- an sshd on loopback -------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ssh-keygen -q -t ed25519 -N '' -f "$T/host_key" || exit 1
ssh-keygen -q -t ed25519 -N '' -f "$T/user_key" || exit 1
cp "$T/user_key.pub" "$T/authorized_keys"
cat >"$T/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $T/host_key
AuthorizedKeysFile $T/authorized_keys
PidFile $T/sshd.pid
UsePAM no
StrictModes no
PermitRootLogin yes
MaxStartups 200
MaxSessions 200
# a login shell's rc file may rehash pyenv under a lock (this VM's root's
# .bashrc): no rehash, and a stale lock must not hold each login a minute
SetEnv no_rehash=1 PYENV_REHASH_TIMEOUT=1
EOF
# no Port here: the :PORT form of a login and ssh -p are tested with it
cat >"$T/ssh_noport" <<EOF
Host *
  IdentityFile $T/user_key
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  BatchMode yes
  LogLevel ERROR
EOF
{ cat "$T/ssh_noport"; echo "  Port $port"; } >"$T/ssh_direct"
# one connection a login, its sessions multiplexed: ssh's set-up is most
# of a job's time (a remote job outlives a killed multiplexed ssh, as with
# GNU parallel: the --timeout test goes direct)
{ cat "$T/ssh_direct"; printf '  ControlMaster auto\n  ControlPath %s/cm-%%C\n  ControlPersist 60\n' "$T"; } >"$T/ssh_config"
mkdir -p /run/sshd
# sshd's privilege separation dir must be root's (it refuses to start else)
[ "$(stat -c %u:%a /run/sshd)" = 0:755 ] || { chown 0:0 /run/sshd && chmod 755 /run/sshd; }
# not a job of this shell: settle's wait must not wait for it
sshd_pid=$($SSHD -D -e -f "$T/sshd_config" >/dev/null 2>"$T/sshd.log" & echo $!)
trap 'kill $sshd_pid 2>/dev/null; rm -rf "$T"' EXIT
for i in $(seq 1 200); do # the log says when it listens
    grep -q 'Server listening' "$T/sshd.log" && break
    kill -0 $sshd_pid 2>/dev/null || break
    sleep 0.05
done
grep -q 'Server listening' "$T/sshd.log" || { echo "FAIL: sshd did not start:"; cat "$T/sshd.log"; exit 1; }
PARALLEL_SSH="ssh -F $T/ssh_config"
export PARALLEL_SSH
for h in 127.0.0.1 localhost; do # the masters, before jobs race to be one
    $PARALLEL_SSH $h true </dev/null >/dev/null 2>&1 || { echo "FAIL: ssh $h"; cat "$T/sshd.log"; exit 1; }
done
HOSTS=1/127.0.0.1,1/localhost
# for --env: a variable with blanks and a newline, a bash function
EV_A='a  b' EV_B='x
y'
export EV_A EV_B
# (dash cannot export a function: check runs both tools with it in env)
EV_F='BASH_FUNC_ev_f%%=() {  echo "f $1"
}'

# same ARGS...: the same stdout, stderr (with same_err) and exit status
check() { # K INPUT ARGS...
    k=$1 in=$2
    shift 2
    printf "$in" | env "$EV_F" $P "$@" >p$k.out 2>p$k.err; prc=$?
    printf "$in" | env "$EV_F" "$E" "$@" >e$k.out 2>e$k.err; erc=$?
    {
        cmp -s p$k.out e$k.out || { echo "FAIL: stdout differs for: $*"; diff p$k.out e$k.out | head -10; }
        [ "$prc" = "$erc" ] || { echo "FAIL: exit $erc, GNU parallel $prc, for: $*"; head -5 e$k.err; }
        # the jobs' lines (the login's shell may add its own, as root's
        # .bashrc here: not the tools')
        [ $cmp_err = 0 ] || [ "$(grep '^job' p$k.err)" = "$(grep '^job' e$k.err)" ] || { echo "FAIL: stderr differs for: $*"; diff p$k.err e$k.err | head -5; }
    } >log$k 2>&1
    rm -f p$k.out p$k.err e$k.out e$k.err
}

# --- the command, its values, status and output, on one or two logins -----
same -k -S 1/127.0.0.1 'printf "<%s>\n" {} "$PARALLEL_SEQ" "$PARALLEL_JOBSLOT" "$PARALLEL_SSHLOGIN"' \
    ::: 'a b' "it's" 'x$y' '*' 'a"b' '\' '' '  two  spaces' '$(echo no)' '`x`;|&'
same -k -S "$HOSTS" 'echo {}; exit {}' ::: 0 1 2 3
same -S 1/127.0.0.1 'kill -9 $$' ::: 1
same_err -k -S "$HOSTS" 'echo out{}; echo job{} >&2' ::: 1 2
same -k --tag -S "$HOSTS" echo ::: a 'b c'
same -k -S 1/: 'echo {} $PARALLEL_SSHHOST $PARALLEL_SSHLOGIN' ::: a
same -k -S 1/127.0.0.1 echo {#} {} ::: 'multi
line'
same_in 'x y\nz\n' -k -S 1/127.0.0.1 echo
same -k -S 1/127.0.0.1 -S 1/localhost --ssh "ssh -F $T/ssh_config" echo ::: 1 2
same -k -S "1/127.0.0.1:$port" --ssh "ssh -F $T/ssh_noport" 'echo {} $PARALLEL_SSHLOGIN $PARALLEL_SSHHOST' ::: a
same -k -S "1/ssh -F $T/ssh_noport -p $port root@127.0.0.1" 'echo {} $PARALLEL_SSHHOST' ::: a
printf '# two logins\n\n1/127.0.0.1\n1/localhost\n' >slf.txt
same -k --slf slf.txt 'echo {}' ::: a b c
same -k -j1 -S 127.0.0.1,localhost echo ::: a b c
same -k -S 127.0.0.1 echo ::: a b c
same --timeout 2 -S 1/127.0.0.1 'sleep 5; echo late' ::: 1
# --filter-hosts: a login that cannot be reached is dropped (GNU warns),
# none left is an error (exit 255); --onall runs on the others only
same -k --filter-hosts -S 1/127.0.0.1 -S 1/down.invalid echo ::: a b c
same -k --filter-hosts -S 1/down.invalid echo ::: 1
same -k --filter-hosts --onall -S 127.0.0.1,down.invalid,localhost 'echo {} $PARALLEL_SSHLOGIN' ::: a b
# --workdir: a dir (made if missing), . the same dir, ... a dir of its own
same -k -S 1/127.0.0.1 --wd "$T/wd/{}" pwd ::: x y
same -k -S 1/127.0.0.1 --wd . pwd ::: x
same -k -S 1/127.0.0.1 --wd ... --cleanup 'pwd | sed "s/-[0-9]*-[0-9]*$//"' ::: x
same -k --wd "$T/localwd" pwd ::: x
# --onall, --nonall: every login, output grouped by login in sorted order
same -k --onall -S localhost,127.0.0.1 'echo {} $PARALLEL_SSHLOGIN; exit {}' ::: 0 1 2
same -k --onall -S localhost,127.0.0.1 --tag echo ::: a b
same_in 'a\nb\n' -k --onall -S localhost,127.0.0.1 echo in
same -k --nonall -S localhost,127.0.0.1,: 'echo $PARALLEL_SSHLOGIN $PARALLEL_SEQ'
same -k --nonall --tag -S localhost,127.0.0.1 'echo hi; exit 2'
# host groups: @G+G/LOGIN, -S @G (only G's logins), --slf with groups,
# --hostgroups' value@G (the job runs on a login of G), {host} with --plus
same -k --hostgroups -S @a/1/127.0.0.1 -S @b/1/localhost 'echo {} $PARALLEL_SSHHOST $PARALLEL_ARGHOSTGROUPS' ::: x@a y@b z@a+b@c v@b
same -k --hostgroups -S @a+b/1/127.0.0.1 -S @c/1/localhost 'echo {} $PARALLEL_SSHHOST; echo $PARALLEL_HOSTGROUPS | tr + "\n" | sort' ::: x@a y@b z@c
same -k --hostgroups -S @a/1/127.0.0.1,@b/1/localhost 'echo {1} {2} $PARALLEL_SSHHOST' ::: x@b y@a ::: p@a q
same -k -S @a/1/127.0.0.1,@b/1/localhost,@a/1/: -S @a 'echo {} $PARALLEL_SSHLOGIN | grep -c localhost' ::: 1 2 3 4 5 6
same -k --plus -S @a/1/127.0.0.1 echo {host} {sshlogin} {slot} ::: x
same -k --plus --hostgroups -S @a/1/127.0.0.1 echo {} {agrp} ::: x@a
printf '@a/1/127.0.0.1\n@b/1/localhost\n' >slfg.txt
same -k --slf slfg.txt -S @b 'echo {} $PARALLEL_SSHHOST' ::: 1 2 3
same -k --hostgroups --slf slfg.txt 'echo {} $PARALLEL_SSHHOST' ::: 1@b 2@a 3@b
# --env NAME: a variable and an exported bash function, to remote logins
same -k -S "$HOSTS" --env EV_A,EV_B --env ev_f 'echo "$EV_A|$EV_B"; ev_f {}' ::: x y
same -k -S 1/127.0.0.1 'echo "[$EV_A]"' ::: x
# --sshdelay: GNU's --delay when --delay is not given
same -k -S "$HOSTS" --sshdelay 0.05 echo ::: a b c
same -k -S "$HOSTS" --ssh-delay 0.01 --delay 0.01 echo ::: a b
settle

# --- files: --transferfile, --return, --cleanup, --trc -------------------
mkdir -p in
printf 'data1\n' >in/a.txt
printf 'data22\n' >in/b.txt
files() { # TOOL ARGS...: run it, then print its files here and there
    tool=$1
    shift
    rm -rf out in/*.out rw
    $tool "$@" >run.out 2>run.err
    echo "exit $?"
    cat run.out
    find out in rw -type f 2>/dev/null | sort | while read -r f; do
        echo "$f: $(cat "$f")"
    done
}
same_files() {
    n=$((n + 1))
    files "$P" "$@" >p.files
    files "$E" "$@" >e.files
    cmp -s p.files e.files || { fail "files differ for: $*"; diff p.files e.files | head -10; cat run.err; }
}
same_files -k -S "$HOSTS" --wd "$T/rw" --trc {}.out 'wc -c <{} >{}.out; cat {}.out' ::: in/a.txt in/b.txt
same_files -k -S "$HOSTS" --wd "$T/rw" --tf {} --return out/./{.}.n 'wc -l <{} >{.}.n' ::: in/a.txt in/b.txt
same_files -k -S "$HOSTS" --wd "$T/rw" --transfer --cleanup 'cat {}' ::: in/a.txt
same_files -k -S 1/: --trc {}.out 'cp {} {}.out' ::: in/a.txt
# --rsync-opts (or $PARALLEL_RSYNC_OPTS) instead of -rlDzR; the jobs see it
same_files -k -S 1/127.0.0.1 --wd "$T/rw" --rsync-opts '-rlDzR --chmod=F700' --tf {} 'stat -c %a {}' ::: in/a.txt
export PARALLEL_RSYNC_OPTS='-rlDzR --chmod=F640'
same_files -k -S 1/127.0.0.1 --wd "$T/rw" --tf {} 'stat -c %a {}' ::: in/a.txt
unset PARALLEL_RSYNC_OPTS
same -k 'echo $PARALLEL_RSYNC_OPTS' ::: 1
same -k --rsync-opts '-a -v' 'echo $PARALLEL_RSYNC_OPTS' ::: 1
# --basefile: once to each login before its first job (into --workdir),
# removed with --cleanup; with --onall too
same_files -k -S "$HOSTS" --wd "$T/rw" --bf in/a.txt 'cat in/a.txt; echo {}' ::: 1 2 3
same_files -k -S "$HOSTS" --wd "$T/rw" --bf in/a.txt --basefile in/b.txt --cleanup 'cat in/{}' ::: a.txt b.txt
same_files -k --nonall -S "$HOSTS" --wd "$T/rw" --bf in/b.txt --cleanup 'cat in/b.txt'
same_files -k -S 1/127.0.0.1 --bf "$T/in/a.txt" 'cat "$T/in/a.txt"' ::: 1
# ... with --cleanup: the job's dir is gone afterwards; names with blanks
# and quotes go both ways (GNU parallel's --return loses them)
printf 'sp\n' >"in/s p'q.txt"
"$E" -S 127.0.0.1 --wd ... --trc {}.out 'pwd; cp {} {}.out' ::: "in/s p'q.txt" >out 2>err || fail "--trc a blank: $(cat err)"
[ "$(cat "in/s p'q.txt.out" 2>/dev/null)" = sp ] || fail "--trc a blank: not returned"
d=$(head -1 out)
case $d in "$HOME"/.parallel/tmp/*) ;; *) fail "--wd ...: ran in '$d'" ;; esac
[ -e "$d" ] && fail "--wd ... --cleanup left $d"
n=$((n + 1))

# --- -M: one master connection a login, its dir gone at exit ----------
# (not against GNU parallel: its -M prints a job's output twice at times)
"$E" -k -M -S "$HOSTS" --ssh "ssh -F $T/ssh_direct" 'echo {}; exit {}' ::: 0 1 2 3 >out 2>/dev/null
[ $? = 3 ] && [ "$(cat out | tr '\n' ' ')" = "0 1 2 3 " ] || fail "-M -k: exit/output $(cat out)"
settle # nothing else logs in meanwhile
mkdir cmt
before=$(grep -c 'Accepted publickey' "$T/sshd.log")
"$E" -M -S 2/127.0.0.1 --ssh "ssh -F $T/ssh_direct" --tmpdir "$T/cmt" echo ::: 1 2 3 4 5 6 >out 2>err || fail "-M: $(cat err)"
[ "$(sort out | tr '\n' ' ')" = "1 2 3 4 5 6 " ] || fail "-M: output $(cat out)"
after=$(grep -c 'Accepted publickey' "$T/sshd.log")
[ $((after - before)) = 1 ] || fail "-M: $((after - before)) logins for 6 jobs, not 1"
[ -z "$(ls -A cmt)" ] || fail "-M left $(ls -A cmt)"
pgrep -f "$T/cmt" >/dev/null && fail "-M left its master running"
n=$((n + 1))

# --- a remote job is killed when it times out or eventor is signalled -----
"$E" -S 1/127.0.0.1 --ssh "ssh -F $T/ssh_direct" --timeout 1 'sleep 32{}' ::: 767 2>/dev/null
[ $? = 1 ] || fail "--timeout: exit status"
for i in $(seq 1 400); do # the wrapper polls its parent: bounded wait
    pgrep -f 'sleep 32767' >/dev/null || break
    sleep 0.05
done
pgrep -f 'sleep 32767' >/dev/null && fail "--timeout left the remote job running"

# --record-env, then --env _: a variable set since reaches the remote job,
# the recorded ones do not (GNU's ignored_vars); without the file, refused
n=$((n + 1))
mkdir -p "$T/phe" "$T/phnone"
PARALLEL_HOME=$T/phe "$E" --record-env >out 2>err || fail "--record-env: $(cat err)"
grep -qx PATH "$T/phe/ignored_vars" || fail "--record-env: PATH not recorded"
a=$(EV_LATE=late PARALLEL_HOME=$T/phe "$E" -S 1/127.0.0.1 --env _ -N0 \
    'echo "${EV_LATE:-unset}"' ::: 1)
[ "$a" = late ] || fail "--env _: '$a', not late"
a=$(PARALLEL_HOME=$T/phe "$E" -S 1/127.0.0.1 --env _ -N0 'echo "${EV_LATE:-unset}"' ::: 1)
[ "$a" = unset ] || fail "--env _ sent a variable not set: '$a'"
PARALLEL_HOME=$T/phnone "$E" -S 127.0.0.1 --env _ echo ::: a >out 2>err
[ $? = 255 ] && [ "$(wc -l <err)" = 1 ] || fail "--env _ without --record-env: $(cat err)"

# --- refused: one line, exit 255 ------------------------------------------
for args in "--onall echo ::: a" "-S 127.0.0.1 --nonall echo ::: a" \
    "-S @g1/@g2/127.0.0.1 echo ::: a" "--slf /nonexistent echo ::: a" \
    "-S @g1/127.0.0.1 -S @g2 echo ::: a" \
    "--hostgroups -S @g1/1/127.0.0.1 echo ::: a@g3" \
    "--hostgroups echo ::: a@g1" \
    "--onall --resume --joblog x -S 127.0.0.1 echo ::: a" "--sshlogin"; do
    # shellcheck disable=SC2086
    "$E" $args </dev/null >out 2>err
    rc=$?
    [ "$rc" = 255 ] || fail "exit $rc for eventor $args"
    [ "$(wc -l <err)" = 1 ] || fail "not one error line for eventor $args: $(cat err)"
done
# the joblog names each job's login; the first jobs go one to each login
"$E" -S 2/127.0.0.1,1/localhost,: --joblog jl -k echo ::: 1 2 3 4 >/dev/null
[ "$(cut -f2 jl | tail -n +2 | head -3 | tr '\n' ' ')" = "127.0.0.1 localhost : " ] || fail "joblog Host: $(cat jl)"
$P -S 1/127.0.0.1 --joblog pjl echo ::: 1 >/dev/null
"$E" -S 1/127.0.0.1 --joblog ejl echo ::: 1 >/dev/null
[ "$(cut -f1,2,7,8 pjl)" = "$(cut -f1,2,7,8 ejl)" ] || fail "joblog: $(cat ejl)"
n=$((n + 2))
# the files' options warn, as GNU's, when no login is remote
"$E" -S : --bf in/a.txt echo ::: a >out 2>err
[ "$(cat out)" = a ] && [ "$(cat err)" = "eventor: Warning: --basefile ignored as there are no remote --sshlogin." ] || fail "--bf here: $(cat out err)"
"$E" --hostgroups -k echo ::: a@: b >out 2>err
[ "$(cat out | tr '\n' ' ')" = "a b " ] || fail "--hostgroups, no -S: $(cat out err)"
n=$((n + 2))
# --onall, --nonall: a line for each job on each login, in the logins'
# sorted order (+FILE appends); a login given twice is one login
same_joblog() { # K ARGS: both tools' joblogs and outputs, into logK
    k=$1
    shift
    { $P --joblog pjl$k "$@"; echo $?; $P --joblog +pjl$k "$@"; } >pout$k 2>/dev/null
    { "$E" --joblog ejl$k "$@"; echo $?; "$E" --joblog +ejl$k "$@"; } >eout$k 2>/dev/null
    {
        [ "$(cut -f1,2,7,8,9 pjl$k)" = "$(cut -f1,2,7,8,9 ejl$k)" ] || { echo "FAIL: joblog of $*:"; cat ejl$k; }
        cmp -s pout$k eout$k || { echo "FAIL: output of $*"; diff pout$k eout$k; }
    } >log$k 2>&1
}
same_joblog 1 --onall -S localhost,127.0.0.1,1/localhost echo ::: a b &
same_joblog 2 --nonall -S localhost,127.0.0.1 echo hi &
same_joblog 3 --onall -S 127.0.0.1 -k exit ::: 0 3 &
settle
n=$((n + 3))

if [ $fails -gt 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "all $n differential checks passed"
