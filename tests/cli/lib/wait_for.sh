# wait_for CMD [SECONDS]: run the shell command CMD until it succeeds, at
# most SECONDS (default $WAIT_S, else 20): the tests wait for an event
# with a deadline, never for a fixed time. Returns 1 at the deadline.
wait_for() {
    i=0
    while ! eval "$1"; do
        i=$((i + 1))
        [ $i -gt $((${2:-${WAIT_S:-20}} * 20)) ] && return 1
        sleep 0.05
    done
}
