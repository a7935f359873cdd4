# shellcheck shell=bash
# lib.sh: the process handling the benchmark scripts share (delivery.sh, dirsync.sh,
# directory.sh). Every process is started with `spawn` and stopped by its pid: TERM, then KILL
# when it is still running 10 s later.
#
# The sourcing script sets BENCH_NAME (the prefix of messages) and BENCH_LOGS (the folder of
# the NAME.log files; it may change between rounds).

declare -a PIDS=()
declare -A PID_NAME=()

# spawn NAME CMD...: starts CMD in the background, its output in $BENCH_LOGS/NAME.log;
# SPAWNED = pid.
spawn() {
    local name=$1
    shift
    "$@" >>"$BENCH_LOGS/$name.log" 2>&1 &
    SPAWNED=$!
    PIDS+=("$SPAWNED")
    PID_NAME[$SPAWNED]=$name
}

alive() {
    kill -0 "$1" 2>/dev/null
}

# stop_pid PID: TERM, up to 10 s, then KILL; always reaps it.
stop_pid() {
    local pid=$1 i
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        echo "$BENCH_NAME: ${PID_NAME[$pid]:-pid} (pid $pid) ignored TERM; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# stop_all: stops every spawned process, newest first.
stop_all() {
    local i
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        stop_pid "${PIDS[$i]}"
    done
    PIDS=()
}
