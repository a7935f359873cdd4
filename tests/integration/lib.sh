# shellcheck shell=bash
# lib.sh: the helpers every refnet integration test sources.
#
# An integration test runs the real binaries (refnet-broker, refnet-node, refnet) from
# $REFNET_BIN on loopback, and drives them through the CLI. Everything it writes lives in one
# temporary folder $T, removed when the test ends (kept on failure when REFNET_TEST_KEEP=1).
#
# Layout inside $T:
#   broker/         the broker's data folder (BROKER_DIR)
#   <agency>/       each node's data folder, named by its agency id
#   logs/*.log      stdout and stderr of each daemon, appended across restarts
#
# Processes: every daemon is started through lib_spawn, which records its pid. It is stopped by
# that pid only: TERM, then KILL after a bound. An EXIT trap stops whatever is still running,
# however the test ends. Every wait is bounded both in time and in the number of tries.
#
# Failures: `fail` prints the reason, where it happened and the tail of every daemon's log, then
# exits 1. A command that fails unexpectedly (set -e) is reported the same way. Assertions print
# both what was expected and what was found.
#
# Tunables (environment): REFNET_TEST_HEARTBEAT_MS (default 200), REFNET_TEST_LOG_LEVEL
# (default info), REFNET_TEST_KEEP=1 keeps $T after a failure.

set -Eeuo pipefail

: "${REFNET_BIN:?REFNET_BIN must name the folder holding refnet-broker, refnet-node and refnet}"

TEST_NAME=$(basename "$0" .sh)
HB_MS=${REFNET_TEST_HEARTBEAT_MS:-200}
LOG_LEVEL=${REFNET_TEST_LOG_LEVEL:-info}

for lib_tool in jq python3; do
    if ! command -v "$lib_tool" >/dev/null 2>&1; then
        echo "$TEST_NAME: needs $lib_tool (tests/run.sh installs it)" >&2
        exit 1
    fi
done
for lib_bin in refnet-broker refnet-node refnet; do
    if [[ ! -x $REFNET_BIN/$lib_bin ]]; then
        echo "$TEST_NAME: $REFNET_BIN/$lib_bin is missing: build the project first" >&2
        exit 1
    fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/refnet-$TEST_NAME.XXXXXX")
mkdir "$T/logs"
BROKER_DIR=$T/broker
BROKER_EP=
BROKER_KEY=
BROKER_SIGN_KEY= # hex Ed25519 key printed by refnet-broker init
BROKER_PID=

LIB_MAIN_PID=$BASHPID
LIB_DUMPED=0
LIB_LAST_PID=
LIB_LAST_JSON=
declare -a LIB_PIDS=()     # every daemon started, oldest first
declare -A LIB_PID_NAME=() # pid -> "broker" or the agency id
declare -A LIB_PID_RC=()   # pid -> exit status, once it has been waited for
declare -A NODE_PID=()     # agency id -> pid of its running refnet-node
declare -A NODE_KEY=()     # agency id -> public key printed by refnet-node init

# Output of the last `run`: stdout, stderr and exit status.
OUT=
ERR=
RC=0

# ---------------------------------------------------------------------------------------------
# Reporting

log_step() {
    printf '\n[%s] == %s\n' "$TEST_NAME" "$*"
}

lib_dump_logs() {
    local f
    ((LIB_DUMPED == 0)) || return 0
    LIB_DUMPED=1
    for f in "$T"/logs/*.log; do
        [[ -e $f ]] || continue
        printf '\n---- last 40 lines of %s ----\n' "${f#"$T"/}" >&2
        tail -n 40 "$f" >&2
    done
}

# fail MESSAGE...: reports a failed check with its caller's line and the daemons' logs; exits 1.
fail() {
    local i where=
    # Report the line of the test script, not of the helper that noticed.
    for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
        if [[ ${BASH_SOURCE[$i]##*/} != lib.sh ]]; then
            where="${BASH_SOURCE[$i]##*/}:${BASH_LINENO[$((i - 1))]}"
            break
        fi
    done
    printf '\nFAIL [%s] %s\n  at %s\n' "$TEST_NAME" "$*" "${where:-lib.sh}" >&2
    lib_dump_logs
    exit 1
}

lib_on_err() {
    local rc=$? line=$1 cmd=$2
    # A failing command substitution reports once, from the main shell.
    [[ $BASHPID == "$LIB_MAIN_PID" ]] || return 0
    printf '\nFAIL [%s] command failed (exit %s) at line %s: %s\n' "$TEST_NAME" "$rc" "$line" \
        "$cmd" >&2
    lib_dump_logs
}

lib_on_exit() {
    local rc=$?
    set +e
    trap - ERR
    lib_stop_everything
    if ((rc != 0)); then
        lib_dump_logs
        if [[ ${REFNET_TEST_KEEP:-0} == 1 ]]; then
            echo "$TEST_NAME: kept $T" >&2
        else
            rm -rf "$T"
        fi
        echo "$TEST_NAME: FAILED" >&2
    else
        rm -rf "$T"
        echo "$TEST_NAME: passed"
    fi
    exit "$rc"
}

trap 'lib_on_err $LINENO "$BASH_COMMAND"' ERR
trap lib_on_exit EXIT
# A signal ends the test through the EXIT trap, so the daemons are still stopped.
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Running commands and asserting on them

lib_quote() {
    local s
    printf -v s '%q ' "$@"
    printf '%s' "${s% }"
}

# run CMD...: runs CMD, never fails; sets OUT (stdout), ERR (stderr) and RC (exit status).
run() {
    local errf=$T/.run_stderr
    RC=0
    OUT=$("$@" 2>"$errf") || RC=$?
    ERR=$(cat "$errf")
}

lib_show_run() {
    printf '  command: %s\n  exit:    %s\n  stdout:  %s\n  stderr:  %s\n' "$(lib_quote "$@")" \
        "$RC" "${OUT:0:3000}" "${ERR:0:3000}" >&2
}

# ok CMD...: runs CMD, which must exit 0.
ok() {
    run "$@"
    if ((RC != 0)); then
        lib_show_run "$@"
        fail "expected exit 0, got $RC"
    fi
}

# ok_json CMD...: runs CMD, which must exit 0 and print exactly one JSON document on stdout.
ok_json() {
    ok "$@"
    local n
    if ! n=$(jq -s 'length' <<<"$OUT" 2>/dev/null) || [[ $n != 1 ]]; then
        lib_show_run "$@"
        fail "expected exactly one JSON document on stdout"
    fi
}

# expect_rc CODE CMD...: runs CMD, which must exit with CODE and, when CODE is not 0, say why
# on stderr.
expect_rc() {
    local want=$1
    shift
    run "$@"
    if ((RC != want)); then
        lib_show_run "$@"
        fail "expected exit $want, got $RC"
    fi
    if ((want != 0)) && [[ -z $ERR ]]; then
        lib_show_run "$@"
        fail "exit $want without an error sentence on stderr"
    fi
}

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
    if [[ $1 != "$2" ]]; then
        fail "$3: expected [$1], got [$2]"
    fi
}

# assert_jq JSON FILTER [jq options such as --arg NAME VALUE]...: FILTER must yield true.
assert_jq() {
    local json=$1 filter=$2
    shift 2
    if ! jq -e "$@" "$filter" <<<"$json" >/dev/null 2>&1; then
        printf '  filter: %s %s\n  json:   %s\n' "$filter" "$*" "${json:0:4000}" >&2
        fail "JSON check failed: $filter"
    fi
}

# jqr JSON FILTER [jq options]...: prints FILTER's raw result.
jqr() {
    local json=$1 filter=$2
    shift 2
    jq -r "$@" "$filter" <<<"$json"
}

# assert_not_contains HAYSTACK NEEDLE WHAT
assert_not_contains() {
    if [[ $1 == *"$2"* ]]; then
        fail "$3: [$2] must not appear"
    fi
}

# assert_id VALUE WHAT: VALUE is one identifier-like token (what add/grant/start print).
assert_id() {
    if [[ ! $1 =~ ^[A-Za-z0-9._:-]{1,64}$ ]]; then
        fail "$2: expected one id on stdout, got [$1]"
    fi
}

# ---------------------------------------------------------------------------------------------
# Waiting, always bounded

lib_now_ms() {
    local us=${EPOCHREALTIME/./}
    echo $((us / 1000))
}

# lib_holds FILTER CMD...: true when CMD succeeds and its stdout satisfies the jq FILTER.
lib_holds() {
    local filter=$1 out
    shift
    out=$("$@" 2>/dev/null) || {
        LIB_LAST_JSON="(command failed: $(lib_quote "$@"))"
        return 1
    }
    LIB_LAST_JSON=$out
    jq -e "$filter" <<<"$out" >/dev/null 2>&1
}

# wait_for SECONDS WHAT CMD...: polls CMD every 100 ms until it succeeds; fails after SECONDS.
# A daemon that died meanwhile fails the test at once.
wait_for() {
    local secs=$1 what=$2 deadline tries=0
    shift 2
    deadline=$(($(lib_now_ms) + secs * 1000))
    LIB_LAST_JSON=
    while ! "$@" >/dev/null 2>&1; do
        lib_check_alive
        tries=$((tries + 1))
        if (($(lib_now_ms) >= deadline || tries > secs * 20 + 20)); then
            [[ -z $LIB_LAST_JSON ]] || printf '  last output: %s\n' "${LIB_LAST_JSON:0:4000}" >&2
            fail "timed out after ${secs}s waiting for: $what"
        fi
        sleep 0.1
    done
}

# wait_json SECONDS WHAT FILTER CMD...: waits until CMD's JSON output satisfies FILTER.
wait_json() {
    local secs=$1 what=$2 filter=$3
    shift 3
    wait_for "$secs" "$what" lib_holds "$filter" "$@"
}

# holds_for SECONDS WHAT FILTER CMD...: CMD's JSON output must satisfy FILTER on every poll for
# SECONDS (used to show that something does NOT happen).
holds_for() {
    local secs=$1 what=$2 filter=$3 deadline tries=0
    shift 3
    deadline=$(($(lib_now_ms) + secs * 1000))
    while (($(lib_now_ms) < deadline && tries < secs * 20 + 20)); do
        if ! lib_holds "$filter" "$@"; then
            printf '  last output: %s\n' "${LIB_LAST_JSON:0:4000}" >&2
            fail "stopped holding after $tries polls: $what"
        fi
        lib_check_alive
        tries=$((tries + 1))
        sleep 0.1
    done
}

# ---------------------------------------------------------------------------------------------
# Processes

# free_port: see deploy/lib/net.sh.
# shellcheck source=../../deploy/lib/net.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../deploy/lib/net.sh"

lib_alive() {
    local stat
    [[ -r /proc/$1/stat ]] || return 1
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# lib_spawn NAME LOG CMD...: starts CMD in the background with its output appended to LOG;
# records the pid (LIB_LAST_PID).
lib_spawn() {
    local name=$1 log=$2
    shift 2
    printf '==== %s: %s\n' "$(date -u +%FT%T)" "$(lib_quote "$@")" >>"$log"
    "$@" >>"$log" 2>&1 &
    LIB_LAST_PID=$!
    LIB_PIDS+=("$LIB_LAST_PID")
    LIB_PID_NAME[$LIB_LAST_PID]=$name
}

# lib_reap PID: waits for PID (which has exited or been killed) and records its exit status.
lib_reap() {
    local rc=0
    [[ -z ${LIB_PID_RC[$1]:-} ]] || return 0
    wait "$1" 2>/dev/null || rc=$?
    LIB_PID_RC[$1]=$rc
}

# stop_pid PID [SECONDS]: TERM, then KILL if PID is still running after SECONDS (default 10).
# Sets STOP_RC to its exit status (128 + signal number when a signal ended it).
stop_pid() {
    local pid=$1 secs=${2:-10} i
    if [[ -z ${LIB_PID_RC[$pid]:-} ]]; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < secs * 10; i++)); do
            lib_alive "$pid" || break
            sleep 0.1
        done
        if lib_alive "$pid"; then
            echo "$TEST_NAME: ${LIB_PID_NAME[$pid]} (pid $pid) ignored TERM for ${secs}s; killing" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        lib_reap "$pid"
    fi
    STOP_RC=${LIB_PID_RC[$pid]}
}

# kill9_pid PID: kills PID outright (a crash), and reaps it.
kill9_pid() {
    kill -KILL "$1" 2>/dev/null || true
    lib_reap "$1"
}

# lib_stop_everything: stops every daemon still running, newest first (nodes before the broker).
lib_stop_everything() {
    local i pid
    for ((i = ${#LIB_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${LIB_PIDS[$i]}
        [[ -n ${LIB_PID_RC[$pid]:-} ]] || stop_pid "$pid" 5
    done
}

# lib_check_alive: fails the test when a daemon that was not stopped on purpose has died.
lib_check_alive() {
    local pid
    for pid in "${LIB_PIDS[@]}"; do
        [[ -z ${LIB_PID_RC[$pid]:-} ]] || continue
        if ! lib_alive "$pid"; then
            lib_reap "$pid"
            fail "${LIB_PID_NAME[$pid]} (pid $pid) died unexpectedly with status ${LIB_PID_RC[$pid]}"
        fi
    done
}

# ---------------------------------------------------------------------------------------------
# The network

# rn AGENCY ARGS...: the refnet CLI against that agency's node.
rn() {
    local id=$1
    shift
    "$REFNET_BIN/refnet" --node "$T/$id" "$@"
}

# admin ARGS...: refnet admin against the broker.
admin() {
    "$REFNET_BIN/refnet" admin --broker-data "$BROKER_DIR" "$@"
}

lib_tcp_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

lib_broker_ready() {
    [[ -S $BROKER_DIR/admin.sock ]] && lib_tcp_open "${BROKER_EP##*:}"
}

# init_broker: creates the broker's data folder bound to a free loopback port.
init_broker() {
    BROKER_EP=tcp://127.0.0.1:$(free_port)
    ok "$REFNET_BIN/refnet-broker" init --data "$BROKER_DIR" --bind "$BROKER_EP"
    BROKER_KEY=$(tail -n 1 <<<"$OUT")
    [[ ${#BROKER_KEY} == 40 ]] || fail "broker init: last stdout line is not a Z85 key: [$BROKER_KEY]"
    # The signing key that vouches for agencies' sealing keys: 64 hex characters.
    BROKER_SIGN_KEY=$(sed -n 's/^broker signing key[^:]*: *//p' <<<"$OUT")
    [[ ${#BROKER_SIGN_KEY} == 64 ]] ||
        fail "broker init: no signing key line in its output: [$BROKER_SIGN_KEY]"
}

# run_broker: (re)starts refnet-broker run and waits until it listens.
run_broker() {
    lib_spawn broker "$T/logs/broker.log" "$REFNET_BIN/refnet-broker" run --data "$BROKER_DIR" \
        --log-level "$LOG_LEVEL" --heartbeat-ms "$HB_MS"
    BROKER_PID=$LIB_LAST_PID
    wait_for 20 "the broker to listen on $BROKER_EP and ipc://$BROKER_DIR/admin.sock" \
        lib_broker_ready
}

start_broker() {
    init_broker
    run_broker
}

# stop_broker: TERM; the broker must exit 0 and remove its admin socket.
stop_broker() {
    stop_pid "$BROKER_PID"
    ((STOP_RC == 0)) || fail "the broker exited with status $STOP_RC on TERM (expected 0)"
    [[ ! -e $BROKER_DIR/admin.sock ]] || fail "the broker left $BROKER_DIR/admin.sock behind"
}

kill9_broker() {
    kill9_pid "$BROKER_PID"
}

# init_node ID [NAME]: creates the node's data folder; NODE_KEY[ID] is its public key.
init_node() {
    local id=$1 name=${2:-$1}
    ok "$REFNET_BIN/refnet-node" init --data "$T/$id" --agency "$id" --name "$name" \
        --broker "$BROKER_EP" --broker-key "$BROKER_KEY" --broker-sign-key "$BROKER_SIGN_KEY"
    NODE_KEY[$id]=$(tail -n 1 <<<"$OUT")
    [[ ${#NODE_KEY[$id]} == 40 ]] ||
        fail "node init $id: last stdout line is not a Z85 key: [${NODE_KEY[$id]}]"
}

# enroll_node ID [NAME]: enrols the node's key with the broker.
enroll_node() {
    local id=$1 name=${2:-$1}
    ok "$REFNET_BIN/refnet-broker" enroll --data "$BROKER_DIR" --agency "$id" \
        --key "${NODE_KEY[$id]}" --name "$name"
}

lib_node_answers() {
    [[ -S $T/$1/api.sock ]] && rn "$1" status --json >/dev/null 2>&1
}

# run_node ID: (re)starts the node and waits until its local API answers.
run_node() {
    local id=$1
    lib_spawn "$id" "$T/logs/$id.log" "$REFNET_BIN/refnet-node" run --data "$T/$id" \
        --log-level "$LOG_LEVEL" --heartbeat-ms "$HB_MS"
    NODE_PID[$id]=$LIB_LAST_PID
    wait_for 20 "node $id to answer on its local API" lib_node_answers "$id"
}

# wait_connected ID [SECONDS]: waits until the node reports connected = true.
wait_connected() {
    wait_json "${2:-15}" "node $1 to be connected" '.connected == true' rn "$1" status --json
}

# start_node ID NAME: init, enrol, run, and wait until connected.
start_node() {
    init_node "$1" "${2:-$1}"
    enroll_node "$1" "${2:-$1}"
    run_node "$1"
    wait_connected "$1"
}

# stop_node ID: TERM; the node must exit 0 and remove its API socket.
stop_node() {
    local id=$1
    stop_pid "${NODE_PID[$id]}"
    ((STOP_RC == 0)) || fail "node $id exited with status $STOP_RC on TERM (expected 0)"
    [[ ! -e $T/$id/api.sock ]] || fail "node $id left $T/$id/api.sock behind"
}

kill9_node() {
    kill9_pid "${NODE_PID[$1]}"
}

# finish: stops every daemon still running with TERM and checks each exited cleanly (status 0)
# and logged no sanitizer report. Call it at the end of every test.
finish() {
    local i pid
    for ((i = ${#LIB_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${LIB_PIDS[$i]}
        [[ -z ${LIB_PID_RC[$pid]:-} ]] || continue
        stop_pid "$pid"
        ((STOP_RC == 0)) ||
            fail "${LIB_PID_NAME[$pid]} (pid $pid) exited with status $STOP_RC on TERM (expected 0)"
    done
    if grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$T"/logs/*.log >&2; then
        fail "a sanitizer reported a problem in the logs above"
    fi
}

# ---------------------------------------------------------------------------------------------
# Common steps

# future_date DAYS: YYYY-MM-DD, DAYS from today (UTC).
future_date() {
    date -u -d "+$1 days" +%F
}

# publish AGENCY ID NAME TAXONOMY [more refnet service publish flags]...
publish() {
    local agency=$1 id=$2 name=$3 tax=$4
    shift 4
    ok rn "$agency" service publish --id "$id" --name "$name" --taxonomy "$tax" "$@"
}

# wait_service AGENCY SERVICE_ID [FILTER] [SECONDS]: waits until AGENCY's replica holds the
# service and the service object satisfies FILTER (default: true).
wait_service() {
    local agency=$1 id=$2 filter=${3:-true} secs=${4:-10}
    wait_json "$secs" "service $id ($filter) in $agency's directory" \
        "[.services[] | select(.id == \"$id\") | $filter] | any" rn "$agency" search --json
}

# dir_seq AGENCY: sets SEQ to the node's directory_seq.
dir_seq() {
    ok_json rn "$1" status --json
    SEQ=$(jqr "$OUT" '.directory_seq')
    [[ $SEQ =~ ^[0-9]+$ ]] || fail "status of $1: directory_seq is not a number: [$SEQ]"
}

# add_person AGENCY NAME [CONTACT]: sets PERSON to the new person's id.
add_person() {
    if [[ -n ${3:-} ]]; then
        ok rn "$1" person add --name "$2" --contact "$3"
    else
        ok rn "$1" person add --name "$2"
    fi
    PERSON=$(tail -n 1 <<<"$OUT")
    assert_id "$PERSON" "person add"
}

# grant AGENCY PERSON TO SHARE [more flags]...: sets CONSENT to the new consent id.
grant() {
    local agency=$1 person=$2 to=$3 share=$4
    shift 4
    ok rn "$agency" consent grant --person "$person" --to "$to" --purpose referral \
        --share "$share" --expires "$(future_date 30)" "$@"
    CONSENT=$(tail -n 1 <<<"$OUT")
    assert_id "$CONSENT" "consent grant"
}

# wait_handoff_status AGENCY HANDOFF STATUS [SECONDS]: waits until AGENCY's node shows it.
wait_handoff_status() {
    local agency=$1 id=$2 status=$3 secs=${4:-10}
    wait_json "$secs" "handoff $id to be $status on $agency" ".status == \"$status\"" \
        rn "$agency" handoff show "$id" --json
}

# start_handoff AGENCY PERSON SERVICE [more refnet handoff start flags]...: sets HANDOFF.
start_handoff() {
    local agency=$1 person=$2 service=$3
    shift 3
    ok rn "$agency" handoff start --person "$person" --service "$service" "$@"
    HANDOFF=$(tail -n 1 <<<"$OUT")
    assert_id "$HANDOFF" "handoff start"
}
