#!/usr/bin/env bash
# deploy/quickstart.sh: a whole refnet network on this machine, and one warm handoff through it.
#
#   deploy/quickstart.sh          walk through, then keep the network running until Ctrl-C
#   deploy/quickstart.sh --once   walk through, stop everything, exit 0 (or non-zero, naming the
#                                 step that failed)
#
# It installs missing Debian packages (as root; otherwise it names them), builds into build/,
# then, in a new folder under ${TMPDIR:-/tmp}, starts one broker and three agency nodes on
# loopback with their keys generated and enrolled, loads a small demo directory, and walks one
# warm handoff through the real `refnet` CLI from search to completion. Each step shows the
# exact command and what each agency, and the network administrator, sees.
#
# Every process it starts is stopped by its pid when it ends, however it ends.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source-path=SCRIPTDIR/.. source=deploy/lib/deps.sh
source deploy/lib/deps.sh

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
}

ONCE=0
for arg in "$@"; do
    case $arg in
    --once) ONCE=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "quickstart: unknown argument '$arg'" >&2
        usage >&2
        exit 2
        ;;
    esac
done

MAIN_PID=$BASHPID
# Headings and commands stand out on a terminal; plain text otherwise (logs, CI).
if [[ -t 1 ]]; then
    BOLD=$'\033[1m' CYAN=$'\033[36m' PLAIN=$'\033[0m'
else
    BOLD='' CYAN='' PLAIN=''
fi
STEP_NO=0
STEP_NAME="start"
QS=
declare -a PIDS=()
declare -A PID_NAME=()
declare -A PID_RC=()
declare -A NODE_KEY=()

# ---------------------------------------------------------------------------------------------
# Output and failure

step() {
    STEP_NO=$((STEP_NO + 1))
    STEP_NAME=$1
    printf '\n%s== Step %d: %s ==%s\n' "$BOLD" "$STEP_NO" "$STEP_NAME" "$PLAIN"
}

note() {
    printf '%s\n' "$*"
}

dump_logs() {
    local f
    [[ -n $QS && -d $QS/logs ]] || return 0
    for f in "$QS"/logs/*.log; do
        [[ -e $f ]] || continue
        printf '\n---- last 20 lines of %s ----\n' "$f" >&2
        tail -n 20 "$f" >&2
    done
}

# die [DETAIL]: the current step failed.
die() {
    printf '\nquickstart: step %d (%s) failed%s\n' "$STEP_NO" "$STEP_NAME" "${1:+: $1}" >&2
    dump_logs
    [[ -z $QS ]] || printf 'quickstart: the network'"'"'s files are kept in %s\n' "$QS" >&2
    KEEP=1
    exit 1
}

on_err() {
    local rc=$? cmd=$1
    [[ $BASHPID == "$MAIN_PID" ]] || return 0
    trap - ERR
    die "exit $rc from: $cmd"
}

KEEP=0
on_exit() {
    local rc=$?
    set +e
    trap - ERR
    stop_all
    if ((rc == 0 && KEEP == 0)) && [[ -n $QS ]]; then
        rm -rf "$QS"
    fi
    exit "$rc"
}

trap 'on_err "$BASH_COMMAND"' ERR
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# pretty CMD...: the command as one shell line, quoting only the words that need it.
pretty() {
    local a line=
    for a in "$@"; do
        if [[ $a =~ ^[A-Za-z0-9_./:,=@%+-]+$ ]]; then
            line+=" $a"
        else
            line+=" '${a//\'/\'\\\'\'}'"
        fi
    done
    printf '%s' "${line# }"
}

# show CMD...: prints the exact command, then runs it with its output indented. The command must
# succeed.
show() {
    local out rc=0
    printf '\n  %s$ %s%s\n' "$CYAN" "$(pretty "$@")" "$PLAIN"
    out=$("$@" 2>&1) || rc=$?
    [[ -z $out ]] || printf '%s\n' "$out" | sed 's/^/    /'
    ((rc == 0)) || die "exit $rc from: $(pretty "$@")"
}

# quiet LOG CMD...: prints the command and runs it with its output kept in LOG, shown only when
# it fails.
quiet() {
    local log=$1
    shift
    printf '\n  %s$ %s%s\n' "$CYAN" "$(pretty "$@")" "$PLAIN"
    if ! "$@" >>"$log" 2>&1; then
        tail -n 40 "$log" >&2
        die "exit status non-zero from: $(pretty "$@") (full output: $log)"
    fi
}

# capture VAR CMD...: like show, and keeps the last line of stdout (an id) in VAR.
capture() {
    local var=$1 out rc=0
    shift
    printf '\n  %s$ %s%s\n' "$CYAN" "$(pretty "$@")" "$PLAIN"
    out=$("$@") || rc=$?
    ((rc == 0)) || die "exit $rc from: $(pretty "$@")"
    printf '%s\n' "$out" | sed 's/^/    /'
    printf -v "$var" '%s' "$(tail -n 1 <<<"$out")"
    CAPTURED=$out # the whole output, for the lines before the last
}

now_ms() {
    local us=${EPOCHREALTIME/./}
    echo $((us / 1000))
}

# await SECONDS WHAT FILTER CMD...: waits (bounded) until CMD's JSON output satisfies FILTER.
await() {
    local secs=$1 what=$2 filter=$3 deadline out
    shift 3
    deadline=$(($(now_ms) + secs * 1000))
    while true; do
        if out=$("$@" 2>/dev/null) && jq -e "$filter" <<<"$out" >/dev/null 2>&1; then
            return 0
        fi
        check_alive
        (($(now_ms) < deadline)) || die "timed out after ${secs}s waiting for $what"
        sleep 0.2
    done
}

# ---------------------------------------------------------------------------------------------
# Processes

alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# spawn NAME CMD...: starts CMD in the background, logging to $QS/logs/NAME.log; sets LAST_PID.
spawn() {
    local name=$1
    shift
    "$@" >>"$QS/logs/$name.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
    PID_NAME[$LAST_PID]=$name
}

check_alive() {
    local pid
    for pid in "${PIDS[@]}"; do
        [[ -z ${PID_RC[$pid]:-} ]] || continue
        alive "$pid" || die "${PID_NAME[$pid]} (pid $pid) stopped unexpectedly"
    done
}

# stop_pid PID: TERM, then KILL after 10 s. Records the exit status in PID_RC.
stop_pid() {
    local pid=$1 i rc=0
    [[ -z ${PID_RC[$pid]:-} ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        echo "quickstart: ${PID_NAME[$pid]} (pid $pid) did not stop on TERM; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || rc=$?
    PID_RC[$pid]=$rc
}

# stop_all: stops the nodes first, then the broker (the reverse of the start order).
stop_all() {
    local i
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        stop_pid "${PIDS[$i]}"
    done
}

# shellcheck source=deploy/lib/net.sh
source "$ROOT/deploy/lib/net.sh"

broker_ready() {
    [[ -S $QS/broker/admin.sock ]] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# The walkthrough

AGENCIES=(peerlink harbor northside)
declare -A AGENCY_NAME=(
    [peerlink]="Peer Link Recovery Community"
    [harbor]="Harbor House"
    [northside]="Northside Community Services"
)

build() {
    step "install the missing packages"
    deps_install || die "packages are missing"
    step "build"
    local log=${TMPDIR:-/tmp}/refnet-quickstart-build.$$.log
    quiet "$log" cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
    # Only the three programs: the test suite (tests/run.sh) builds and runs the rest.
    quiet "$log" cmake --build "$ROOT/build" -j"$(nproc)" --target refnet-broker refnet-node \
        refnet_cli
    rm -f "$log"
    for b in refnet-broker refnet-node refnet; do
        [[ -x $ROOT/build/bin/$b ]] || die "build/bin/$b was not built"
    done
    export PATH=$ROOT/build/bin:$PATH
    note "  built: $ROOT/build/bin/{refnet-broker,refnet-node,refnet}"
}

start_network() {
    QS=$(mktemp -d "${TMPDIR:-/tmp}/refnet-quickstart.XXXXXX")
    mkdir "$QS/logs"
    PORT=$(free_port)
    BROKER_EP=tcp://127.0.0.1:$PORT

    step "start the broker"
    note "The hub: it authenticates agencies by their CURVE keys, stores and forwards mail."
    BROKER_KEY=
    capture BROKER_KEY refnet-broker init --data "$QS/broker" --bind "$BROKER_EP"
    note "  (the last line is the broker's public key; every node needs it)"
    BROKER_SIGN_KEY=$(sed -n 's/^broker signing key[^:]*: *//p' <<<"$CAPTURED")
    [[ ${#BROKER_SIGN_KEY} == 64 ]] || die "refnet-broker init printed no signing key"
    note "  (its signing key vouches for each agency's sealing key: nodes get it at init)"
    show_spawn broker refnet-broker run --data "$QS/broker"
    await_ready 20 "the broker to listen on $BROKER_EP" broker_ready

    step "start three agency nodes, each with its own keys, enrolled with the broker"
    local id
    for id in "${AGENCIES[@]}"; do
        capture "NODE_KEY[$id]" refnet-node init --data "$QS/$id" --agency "$id" \
            --name "${AGENCY_NAME[$id]}" --broker "$BROKER_EP" --broker-key "$BROKER_KEY" \
            --broker-sign-key "$BROKER_SIGN_KEY"
        show refnet-broker enroll --data "$QS/broker" --agency "$id" --key "${NODE_KEY[$id]}" \
            --name "${AGENCY_NAME[$id]}"
        show_spawn "$id" refnet-node run --data "$QS/$id"
    done
    for id in "${AGENCIES[@]}"; do
        await 20 "$id to connect" '.connected == true' refnet --node "$QS/$id" status --json
    done
    show refnet --node "$QS/peerlink" status
}

# show_spawn NAME CMD...: prints and starts a daemon in the background.
show_spawn() {
    local name=$1
    shift
    printf '\n  %s$ %s &%s    (log: %s)\n' "$CYAN" "$(pretty "$@")" "$PLAIN" "$QS/logs/$name.log"
    spawn "$name" "$@"
}

await_ready() {
    local secs=$1 what=$2 deadline
    shift 2
    deadline=$(($(now_ms) + secs * 1000))
    until "$@"; do
        check_alive
        (($(now_ms) < deadline)) || die "timed out after ${secs}s waiting for $what"
        sleep 0.1
    done
}

# The HSDS 3.0 example service, read from the fixture when it is there. The fixture's location
# has placeholder coordinates (100, 101), so none are sent.
# Human Services Data Specification: an Open Referral resource (https://openreferral.org/)
publish_hsds_example() {
    local fixture=$ROOT/../shared/fixtures/hsds-3.0/csv lines=()
    if [[ ! -r $fixture/services.csv ]]; then
        note "  (the HSDS example is not here: $fixture/services.csv; skipping it)"
        return 0
    fi
    mapfile -t lines < <(python3 - "$fixture" <<'EOF'
import csv, sys
folder = sys.argv[1]
with open(folder + "/services.csv", newline="", encoding="utf-8") as f:
    svc = next(csv.DictReader(f))
langs = []
try:
    with open(folder + "/languages.csv", newline="", encoding="utf-8") as f:
        langs = [r["code"] for r in csv.DictReader(f) if r["service_id"] == svc["id"] and r["code"]]
except OSError:
    pass
print(svc["id"])
print(svc["name"])
print(" ".join(svc["description"].split())[:1000])
print(",".join(langs[:16]))
EOF
    )
    note "  The HSDS 3.0 example service (\"Human Services Data Specification: an Open"
    note "  Referral resource, https://openreferral.org/\"), published with its real id and name:"
    local args=(--id "${lines[0]}" --name "${lines[1]}" --taxonomy "counselling,mental-health"
        --description "${lines[2]}" --capacity 10 --available 4)
    [[ -z ${lines[3]:-} ]] || args+=(--language "en,${lines[3]}")
    show refnet --node "$QS/northside" service publish "${args[@]}"
}

load_directory() {
    step "load a small demo directory"
    note "Each agency publishes its own services; the broker sequences every change and every"
    note "node keeps a full replica, so search is local."
    show refnet --node "$QS/peerlink" service publish --id peerlink-coaching \
        --name "Peer recovery coaching" --taxonomy peer-support,recovery-support \
        --description "One-to-one support from people in recovery" \
        --lat 43.6591 --lon -70.2568 --language en,es --capacity 20 --available 6
    show refnet --node "$QS/peerlink" service publish --id peerlink-pantry \
        --name "Community food pantry" --taxonomy food-pantry --lat 43.6577 --lon -70.2601 \
        --language en --capacity 200 --available 120
    show refnet --node "$QS/harbor" service publish --id harbor-detox \
        --name "Harbor House detox beds" --taxonomy detox,detox-adult \
        --description "Medically supported withdrawal, 5 to 7 days" \
        --lat 43.6615 --lon -70.2553 --language en --capacity 12 --available 3
    show refnet --node "$QS/harbor" service publish --id harbor-shelter \
        --name "Harbor House emergency shelter" --taxonomy shelter --lat 43.6620 \
        --lon -70.2540 --language en --capacity 40 --available 7
    show refnet --node "$QS/northside" service publish --id northside-detox \
        --name "Northside detox unit" --taxonomy detox --lat 43.7000 --lon -70.3000 \
        --language en,fr --capacity 6 --available 1
    show refnet --node "$QS/northside" service publish --id northside-peer \
        --name "Northside peer support group" --taxonomy peer-support --lat 43.7010 \
        --lon -70.2990 --language en --capacity 15 --available 15
    publish_hsds_example
    local head id
    head=$(refnet --node "$QS/northside" status --json | jq -r .directory_seq)
    for id in "${AGENCIES[@]}"; do
        await 15 "$id's replica to reach directory_seq $head" ".directory_seq >= $head" \
            refnet --node "$QS/$id" status --json
    done
    note ""
    note "  Every node now holds directory_seq $head."
}

walk_handoff() {
    local P C H
    step "peerlink's peer supporter searches, with the person"
    show refnet --node "$QS/peerlink" search --taxonomy detox --near 43.6591,-70.2568 \
        --radius-km 25 --available

    step "record the person and their consent (kept on peerlink's node only)"
    capture P refnet --node "$QS/peerlink" person add --name "Sam Rivera" \
        --contact "555-0134, text first"
    capture C refnet --node "$QS/peerlink" consent grant --person "$P" --to harbor \
        --purpose referral --share contact,own-words,notes --expires "$(date -u -d '+30 days' +%F)"
    show refnet --node "$QS/peerlink" consent show "$C"

    step "start the warm handoff, in the person's own words"
    capture H refnet --node "$QS/peerlink" handoff start --person "$P" --service harbor-detox \
        --own-words "I want to get through detox and back to my kids." \
        --note "Prefers afternoons; needs a bus pass." --mode in-person --accompany
    await 15 "the handoff to reach harbor" "[.handoffs[].id] | index(\"$H\") != null" \
        refnet --node "$QS/harbor" handoff list --inbox --json

    step "harbor sees it in its inbox"
    show refnet --node "$QS/harbor" handoff list --inbox
    show refnet --node "$QS/harbor" handoff show "$H"

    step "harbor accepts"
    show refnet --node "$QS/harbor" handoff accept "$H"
    await 15 "peerlink to see the acceptance" '.status == "accepted"' \
        refnet --node "$QS/peerlink" handoff show "$H" --json
    show refnet --node "$QS/peerlink" handoff list --outbox

    step "the introduction, with the person present"
    show refnet --node "$QS/peerlink" handoff milestone "$H" introduced --mode in-person
    await 15 "harbor to see the introduction" \
        '[.events[] | select(.milestone == "introduced")] | length == 1' \
        refnet --node "$QS/harbor" handoff show "$H" --json

    step "harbor confirms first contact and begins"
    show refnet --node "$QS/harbor" handoff milestone "$H" first-contact-confirmed
    show refnet --node "$QS/harbor" handoff begin "$H"
    await 15 "peerlink to see in-progress" '.status == "in-progress"' \
        refnet --node "$QS/peerlink" handoff show "$H" --json

    step "harbor completes: the person got help"
    show refnet --node "$QS/harbor" handoff complete "$H" --outcome got-help
    show refnet --node "$QS/harbor" service availability harbor-detox --available 2
    await 15 "peerlink to see completed" '.status == "completed"' \
        refnet --node "$QS/peerlink" handoff show "$H" --json

    step "what each agency sees"
    note "  peerlink (the sender):"
    show refnet --node "$QS/peerlink" handoff show "$H"
    note "  harbor (the receiver):"
    show refnet --node "$QS/harbor" handoff show "$H"
    note "  northside (not involved) sees no handoff, only the directory:"
    show refnet --node "$QS/northside" handoff list
    show refnet --node "$QS/northside" search detox

    step "what the network administrator sees (counts and states, no person data)"
    show refnet admin --broker-data "$QS/broker" nodes
    await 15 "the broker's flow to count the completed handoff" \
        '[.flow[] | select(.status == "completed")] | length == 1' \
        refnet admin --broker-data "$QS/broker" flow --json
    show refnet admin --broker-data "$QS/broker" flow
}

keep_running() {
    step "the network keeps running"
    note "Use it from another terminal:"
    note "  export PATH=$ROOT/build/bin:\$PATH"
    note "  refnet --node $QS/peerlink status"
    note "  refnet --node $QS/peerlink search --near 43.6591,-70.2568 --radius-km 25"
    note "  refnet --node $QS/harbor handoff list --inbox"
    note "  refnet admin --broker-data $QS/broker flow"
    note "Nodes: $QS/{peerlink,harbor,northside}; logs in $QS/logs."
    note "Press Ctrl-C to stop everything."
    trap 'printf "\nquickstart: stopping\n"; exit 0' INT
    while true; do
        check_alive
        sleep 1
    done
}

stop_network() {
    step "stop everything"
    local pid bad=0
    stop_all
    for pid in "${PIDS[@]}"; do
        if ((PID_RC[$pid] != 0)); then
            echo "  ${PID_NAME[$pid]} exited with status ${PID_RC[$pid]}" >&2
            bad=1
        fi
    done
    ((bad == 0)) || die "a daemon did not stop cleanly"
    note "  all daemons stopped cleanly."
}

build
start_network
load_directory
walk_handoff
if ((ONCE == 1)); then
    stop_network
    note ""
    note "quickstart: done."
    exit 0
fi
keep_running
