#!/usr/bin/env bash
# tests/bench/dirsync.sh: the replication benchmark, in one run on this machine.
#
#   tests/bench/dirsync.sh [--build DIR] [--no-build] [--runs N] [--services N] [--nodes N]
#                          [--updates N] [--quick] [--keep]
#
# Configures a Release build with -DREFNET_BENCH=ON in DIR (default build-bench in the
# checkout) and builds the daemons, the CLI, refnet-dirseed and bench_dirfeed (--no-build uses
# DIR as it is). Then, N rounds (default 3) of:
#   join     a broker whose directory holds SERVICES live services (default 100,000, written by
#            refnet-dirseed while it is stopped); a new node is initialised, enrolled and
#            started, and the time from its start until its status shows the broker's head and
#            every service (polled every 20 ms) is its time to be fully in sync. It gets a
#            snapshot (refnet.proto, DirSnapshotBegin). `refnet directory verify` must then
#            report the replica equal to the broker's.
#   fan-out  NODES real nodes (default 10) connected to that broker; bench_dirfeed, as one
#            agency speaking the node protocol, sends UPDATES availability changes (default
#            20,000) with 500 in flight; the time from its start until every node's
#            directory_seq has reached the last change gives the sustained rate of changes
#            applied by all nodes. The rate at which the broker answered them is shown too.
# Each round gets a new network in a new temporary folder. It prints every round and a table
# of medians. Everything binds 127.0.0.1 or ipc; every daemon started is stopped by its pid;
# every wait is bounded. --quick makes it small (a smoke test of the script, not a measurement).
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$ROOT/build-bench
BUILD_IT=1
RUNS=3
SERVICES=100000
NODES=10
UPDATES=20000
WINDOW=500
KEEP=0

usage() {
    sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
}

while (($#)); do
    case $1 in
    --build)
        BUILD=${2:?--build needs a folder}
        shift
        ;;
    --no-build) BUILD_IT=0 ;;
    --runs)
        RUNS=${2:?--runs needs a number}
        shift
        ;;
    --services)
        SERVICES=${2:?--services needs a number}
        shift
        ;;
    --nodes)
        NODES=${2:?--nodes needs a number}
        shift
        ;;
    --updates)
        UPDATES=${2:?--updates needs a number}
        shift
        ;;
    --quick)
        SERVICES=2000
        NODES=3
        UPDATES=1000
        ;;
    --keep) KEEP=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "dirsync.sh: unknown argument '$1'" >&2
        usage >&2
        exit 2
        ;;
    esac
    shift
done
for v in RUNS SERVICES NODES UPDATES; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || {
        echo "dirsync.sh: --${v,,} must be a positive number" >&2
        exit 2
    }
done
((SERVICES >= 2 && SERVICES <= 1000000 && NODES <= 50 && RUNS <= 99)) || {
    echo "dirsync.sh: --services 2-1000000, --nodes 1-50, --runs 1-99" >&2
    exit 2
}
[[ $BUILD == /* ]] || BUILD=$PWD/$BUILD
for tool in cmake jq python3; do
    command -v "$tool" >/dev/null || {
        echo "dirsync.sh: needs $tool" >&2
        exit 1
    }
done
# shellcheck source=../../deploy/lib/net.sh
source "$ROOT/deploy/lib/net.sh"

say() {
    printf '\n==> %s\n' "$*"
}

if ((BUILD_IT)); then
    say "Configuring $BUILD (Release, REFNET_BENCH=ON)"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DREFNET_BENCH=ON >/dev/null
    say "Building the daemons, the CLI, refnet-dirseed and bench_dirfeed"
    cmake --build "$BUILD" -j2 --target refnet-broker refnet-node refnet_cli refnet-dirseed \
        bench_dirfeed >"$BUILD/dirsync-build.log" 2>&1 || {
        tail -n 40 "$BUILD/dirsync-build.log" >&2
        echo "dirsync.sh: the build failed (log: $BUILD/dirsync-build.log)" >&2
        exit 1
    }
fi
BIN=$BUILD/bin
SEED=$BUILD/tests/refnet-dirseed
FEED=$BUILD/bench/bench_dirfeed
for f in "$BIN/refnet-broker" "$BIN/refnet-node" "$BIN/refnet" "$SEED" "$FEED"; do
    [[ -x $f ]] || {
        echo "dirsync.sh: $f is missing (build with -DREFNET_BENCH=ON)" >&2
        exit 1
    }
done

# ---------------------------------------------------------------------------------------------
# Processes: started with spawn, stopped by pid (TERM, then KILL after a bound)

T=$(mktemp -d "${TMPDIR:-/tmp}/refnet-dirsync.XXXXXX")
BENCH_NAME=dirsync.sh
BENCH_LOGS=$T
# shellcheck source=lib.sh
source "$ROOT/tests/bench/lib.sh"

BENCH_TMP=$T
BENCH_KEEP=$KEEP
BENCH_FAIL_LOGS="$T/*/logs/*.log"
bench_traps

die() {
    echo "dirsync.sh: $*" >&2
    exit 1
}

now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

# wait_until SECONDS WHAT CMD...: polls CMD every 100 ms, at most SECONDS.
wait_until() {
    local secs=$1 what=$2 i
    shift 2
    for ((i = 0; i < secs * 10; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "timed out after ${secs}s waiting for $what"
}

# status_is NODE FILTER: the node's status satisfies the jq FILTER.
status_is() {
    "$BIN/refnet" --node "$R/$1" status --json 2>/dev/null | jq -e "$2" >/dev/null 2>&1
}

# ---------------------------------------------------------------------------------------------
# One round

# new_network: a broker folder in $R seeded with SERVICES services of agencies feeder and
# other, and the broker running.
new_network() {
    R=$T/round$ROUND
    mkdir -p "$R/logs"
    BENCH_LOGS=$R/logs
    EP=tcp://127.0.0.1:$(free_port)
    local out
    out=$("$BIN/refnet-broker" init --data "$R/broker" --bind "$EP" 2>/dev/null)
    BKEY=$(tail -n 1 <<<"$out")
    read -r HEAD LIVE < <("$SEED" "$R/broker" feeder,other "$SERVICES" 0 0 svc)
    ((LIVE == SERVICES)) || die "refnet-dirseed made $LIVE services, not $SERVICES"
    spawn broker "$BIN/refnet-broker" run --data "$R/broker" --log-level warn \
        --map-size-mb 4096
    wait_until 20 "the broker to listen" test -S "$R/broker/admin.sock"
}

# add_node ID: init, enrol and start a node; STARTED_MS = when it was started, SPAWNED its pid.
add_node() {
    local id=$1 out key
    out=$("$BIN/refnet-node" init --data "$R/$id" --agency "$id" --name "$id" --broker "$EP" \
        --broker-key "$BKEY" 2>/dev/null)
    key=$(tail -n 1 <<<"$out")
    "$BIN/refnet-broker" enroll --data "$R/broker" --agency "$id" --key "$key" >/dev/null
    sleep 1.1 # the running broker picks up an enrolment within a second
    STARTED_MS=$(now_ms)
    spawn "$id" "$BIN/refnet-node" run --data "$R/$id" --log-level warn --map-size-mb 4096
}

join_round() {
    add_node joiner
    local filter=".directory_seq == $HEAD and .services == $SERVICES" i
    for ((i = 0; i < 6000; i++)); do
        status_is joiner "$filter" && break
        sleep 0.02
    done
    status_is joiner "$filter" || die "the new node did not reach $HEAD within 120 s"
    JOIN_MS=$(($(now_ms) - STARTED_MS))
    # CPU seconds the joining node used (user + system): unlike the wall time, this does not
    # depend on what else the machine's cores are doing.
    JOIN_CPU=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' \
        "/proc/$SPAWNED/stat")
    local v
    v=$("$BIN/refnet" --node "$R/joiner" directory verify --json) ||
        die "directory verify failed after the join: $v"
    jq -e ".equal == true and .services == $SERVICES" <<<"$v" >/dev/null ||
        die "directory verify after the join: $v"
}

fanout_round() {
    local n i feeder_out target
    for ((n = 1; n < NODES; n++)); do
        add_node "node$n"
    done
    # The feeder agency's keypair: enrolled, but its node never runs (bench_dirfeed speaks
    # for it).
    add_node_keys_only feeder
    for ((n = 1; n < NODES; n++)); do
        wait_until 120 "node$n to reach the head" status_is "node$n" ".directory_seq == $HEAD"
    done
    target=$((HEAD + UPDATES))
    local start end
    start=$(now_ms)
    "$FEED" "$R/feeder" "$EP" "$BKEY" svc "$SERVICES" "$UPDATES" "$WINDOW" >"$R/feed.json" &
    local feed=$!
    PIDS+=("$feed")
    PID_NAME[$feed]=bench_dirfeed
    for ((i = 0; i < 30000; i++)); do
        local all=1
        status_is joiner ".directory_seq >= $target" || all=0
        for ((n = 1; all && n < NODES; n++)); do
            status_is "node$n" ".directory_seq >= $target" || all=0
        done
        ((all)) && break
        sleep 0.02
    done
    end=$(now_ms)
    wait "$feed" || die "bench_dirfeed failed: $(cat "$R/feed.json")"
    feeder_out=$(cat "$R/feed.json")
    ((all)) || die "the nodes did not all reach $target"
    FANOUT_PER_S=$(python3 -c "print(round($UPDATES * 1000 / max(1, $end - $start)))")
    ACCEPT_PER_S=$(jq -r '.per_second' <<<"$feeder_out")
    for ((n = 1; n < NODES; n++)); do
        v=$("$BIN/refnet" --node "$R/node$n" directory verify --json) ||
            die "directory verify on node$n failed: $v"
    done
}

add_node_keys_only() {
    local id=$1 out key
    out=$("$BIN/refnet-node" init --data "$R/$id" --agency "$id" --name "$id" --broker "$EP" \
        --broker-key "$BKEY" 2>/dev/null)
    key=$(tail -n 1 <<<"$out")
    "$BIN/refnet-broker" enroll --data "$R/broker" --agency "$id" --key "$key" >/dev/null
    sleep 1.1
}

median() {
    printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

declare -a JOINS=() JOIN_CPUS=() FANOUTS=() ACCEPTS=()
for ((ROUND = 1; ROUND <= RUNS; ROUND++)); do
    say "Round $ROUND of $RUNS: $SERVICES services, a new node joins, then $NODES nodes"
    new_network
    join_round
    fanout_round
    printf '    join: %d ms to be in sync with %d services, %s s of node CPU (verify: equal)\n' \
        "$JOIN_MS" "$SERVICES" "$JOIN_CPU"
    printf '    fan-out: %d availability changes/s applied by all %d nodes (broker answered %s/s)\n' \
        "$FANOUT_PER_S" "$NODES" "$ACCEPT_PER_S"
    JOINS+=("$JOIN_MS")
    JOIN_CPUS+=("$JOIN_CPU")
    FANOUTS+=("$FANOUT_PER_S")
    ACCEPTS+=("$ACCEPT_PER_S")
    stop_all
done

say "Medians of $RUNS round(s) ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%F))"
printf '| measure | median | runs |\n|---|---:|---|\n'
printf '| new node in sync with %d services | %.2f s | %s |\n' "$SERVICES" \
    "$(python3 -c "print($(median "${JOINS[@]}") / 1000)")" "${JOINS[*]} ms"
printf '| CPU time of the joining node | %s s | %s |\n' "$(median "${JOIN_CPUS[@]}")" \
    "${JOIN_CPUS[*]}"
printf '| availability changes/s applied by all %d nodes | %s | %s |\n' "$NODES" \
    "$(median "${FANOUTS[@]}")" "${FANOUTS[*]}"
printf '| availability changes/s answered by the broker | %s | %s |\n' \
    "$(median "${ACCEPTS[@]}")" "${ACCEPTS[*]}"
