# shellcheck shell=bash
# lib.sh: the process handling the benchmark scripts share (delivery.sh, dirsync.sh, peers.sh,
# directory.sh). Every process is started with `spawn` and stopped by its pid: TERM, then KILL
# when it is still running 10 s later.
#
# The sourcing script sets BENCH_NAME (the prefix of messages) and BENCH_LOGS (the folder of
# the NAME.log files; it may change between rounds), and for bench_traps BENCH_TMP (its
# temporary folder), BENCH_KEEP (1: keep it) and BENCH_FAIL_LOGS (a glob of the logs to show
# when the script fails).

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

# bench_exit: the EXIT trap. Calls bench_on_exit when the script defines it (to stop a server
# politely first), stops every spawned process, shows the last lines of each log of
# BENCH_FAIL_LOGS when the script failed, removes BENCH_TMP unless BENCH_KEEP is 1, and exits
# with the script's status.
bench_exit() {
    local rc=$? f
    set +e
    if declare -F bench_on_exit >/dev/null; then
        bench_on_exit
    fi
    stop_all
    if ((rc != 0)); then
        # shellcheck disable=SC2086 # the glob is meant to expand
        for f in $BENCH_FAIL_LOGS; do
            [[ -s $f ]] || continue
            printf '\n---- last 20 lines of %s ----\n' "${f#"$BENCH_TMP"/}" >&2
            tail -n 20 "$f" >&2
        done
    fi
    if ((${BENCH_KEEP:-0})); then
        echo "$BENCH_NAME: kept $BENCH_TMP"
    else
        rm -rf "$BENCH_TMP"
    fi
    exit "$rc"
}

# bench_traps: bench_exit on exit; INT and TERM end the script through it.
bench_traps() {
    trap bench_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}
