# shellcheck shell=bash
# fault_lib.sh: what the fault tests (fault_*.sh) share on top of lib.sh.
#
# A fault test builds a network of a broker and a few agencies, each publishing one service and
# holding one person whose consent ("*", referral, notes) lets any agency receive handoffs
# about them. Traffic comes from refnet-loadgen (loadgen.c), run in the background against a
# sending node's local API; each run starts COUNT handoffs whose notes are "TAG #0".."TAG #n".
# The receiving side is then counted with `refnet-loadgen check` (exactly once, in order) and the
# sending side with `refnet-loadgen receipts` (every delivery receipt came back).
#
# Load processes are not daemons: they end by themselves. Their pids are kept in LOAD_PIDS and
# the EXIT trap kills any still running, by pid, before lib.sh's own cleanup.
# Heartbeat: 500 ms rather than lib.sh's 200 ms. These tests load both cores (under the
# sanitizers too); ZMTP heartbeats are answered by each daemon's I/O thread even while its loop
# is busy, but a thread starved of CPU for three short intervals would still drop a healthy
# connection, and every new connection restarts the delivery of everything unacknowledged.
: "${REFNET_TEST_HEARTBEAT_MS:=500}"
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${REFNET_TOOLS:?REFNET_TOOLS must name the folder holding refnet-loadgen}"
LOADGEN=$REFNET_TOOLS/refnet-loadgen
[[ -x $LOADGEN ]] || {
    echo "$TEST_NAME: $LOADGEN is missing: build the project first" >&2
    exit 1
}

declare -a LOAD_PIDS=()
declare -A SERVICE_OF=() # agency -> its service id
declare -A PERSON_OF=()  # agency -> its person id
declare -A AGENCY_OF=()  # node folder name -> agency id, where they differ

fault_kill_loads() {
    local pid
    for pid in "${LOAD_PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
# lib_on_exit reads the test's exit status from $?, so it is passed through. errexit and the
# ERR trap are off first: otherwise the failing status itself would end the EXIT trap before
# lib_on_exit stops the daemons.
fault_on_exit() {
    local rc=$?
    set +e
    trap - ERR
    fault_kill_loads
    (exit "$rc")
    lib_on_exit
}
trap fault_on_exit EXIT

# fault_agency ID: starts node ID, publishes its service "ID-svc" and adds its person with a
# consent that covers notes to any agency.
fault_agency() {
    local id=$1
    start_node "$id"
    publish "$id" "$id-svc" "$id intake" peer-support --capacity 1000000 --available 1000000
    SERVICE_OF[$id]=$id-svc
    add_person "$id" "Person of $id"
    PERSON_OF[$id]=$PERSON
    grant "$id" "$PERSON" '*' notes
}

# fault_wait_directory ID...: waits until every listed agency sees every listed service.
fault_wait_directory() {
    local a b
    for a in "$@"; do
        for b in "$@"; do
            wait_service "$a" "$b-svc"
        done
    done
}

# load_start FROM TO COUNT TAG: starts FROM -> TO handoffs in the background.
load_start() {
    local from=$1 to=$2 count=$3 tag=$4
    "$LOADGEN" start "$T/$from" "${PERSON_OF[$from]}" "${SERVICE_OF[$to]}" "$count" "$tag" \
        >>"$T/logs/load-$from-$to.log" 2>&1 &
    LOAD_PIDS+=("$!")
}

# load_wait SECONDS: waits for every load process; each must exit 0 within SECONDS in all.
load_wait() {
    local secs=$1 pid rc deadline=$(($(lib_now_ms) + $1 * 1000)) i
    for pid in "${LOAD_PIDS[@]}"; do
        for ((i = 0; i < secs * 10; i++)); do
            lib_alive "$pid" || break
            (($(lib_now_ms) < deadline)) || break
            sleep 0.1
        done
        lib_alive "$pid" && fail "refnet-loadgen (pid $pid) still running after ${secs}s"
        rc=0
        wait "$pid" || rc=$?
        ((rc == 0)) || fail "refnet-loadgen (pid $pid) exited with status $rc (see logs/load-*)"
    done
    LOAD_PIDS=()
}

# FROM and TO name node folders under $T; AGENCY_OF maps a folder to its agency id when the
# two differ (a copy of a node's folder).
# loaded FROM TO COUNT TAG: the receiver TO applied the run exactly once and in order.
loaded() {
    LIB_LAST_JSON=$("$LOADGEN" check "$T/$2" "${AGENCY_OF[$1]:-$1}" "$4" "$3" 2>&1)
}

# receipted FROM TO COUNT TAG: the sender FROM has every delivery receipt.
receipted() {
    LIB_LAST_JSON=$("$LOADGEN" receipts "$T/$1" "${AGENCY_OF[$2]:-$2}" "$4" "$3" 2>&1)
}

# wait_loaded SECONDS FROM TO COUNT TAG: waits until both hold, then shows the counts.
wait_loaded() {
    local secs=$1
    shift
    wait_for "$secs" "$2 to apply $3 handoffs '$4' from $1 exactly once, in order" loaded "$@"
    wait_for "$secs" "$1 to have the $3 delivery receipts of '$4' from $2" receipted "$@"
    loaded "$@"
    echo "  $2 applied: $LIB_LAST_JSON"
}

# run_broker_with ARGS...: like lib.sh's run_broker, with more `refnet-broker run` options.
run_broker_with() {
    lib_spawn broker "$T/logs/broker.log" "$REFNET_BIN/refnet-broker" run --data "$BROKER_DIR" \
        --log-level "$LOG_LEVEL" --heartbeat-ms "$HB_MS" "$@"
    BROKER_PID=$LIB_LAST_PID
    wait_for 20 "the broker to listen on $BROKER_EP and ipc://$BROKER_DIR/admin.sock" \
        lib_broker_ready
}
