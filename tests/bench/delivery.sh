#!/usr/bin/env bash
# tests/bench/delivery.sh: the delivery benchmark, in one run on this machine.
#
#   tests/bench/delivery.sh [--build DIR] [--runs N] [--quick] [--keep] [--profile]
#
# Configures a Release build with -DREFNET_BENCH=ON in DIR (default build-bench in the
# checkout), builds the daemons and the bench programs, measures the disk once (bench_sync:
# what synced LMDB commits cost here), then N rounds (default 3) of:
#   hop      the ceiling: bench_hop, a bare ZeroMQ ROUTER echo hop over tcp://127.0.0.1 between
#            two processes, 8 clients with 50 messages of 200 bytes in flight each;
#   hop+c    the same hop with CURVE, as refnet's sockets have (for reference);
#   hop+cd   the CURVE hop where the server also commits each batch to LMDB (synced) before
#            echoing it, with refnet's window in flight: the durable ceiling (for reference);
#   8->1     refnet durable end to end: bench_mail as 8 sending agencies, a real refnet-broker
#            and 1 receiving refnet-node; a message counts once its sender has the receipt,
#            i.e. after the broker's synced commit, the receiver's synced commit and its ack;
#   8->8     the same with 8 receiving refnet-nodes;
#   latency  one sending agency, one message in flight: p50/p99 from send to receipt.
# Each refnet run gets a new network (broker and receiving nodes with empty stores, the file
# system synced once it is up), so the runs are alike. It prints every run and a table of
# medians: messages/s, p50/p99, refnet as a share of the hop, and CPU time per message of each
# party (which, unlike rates, does not depend on what else the machine's cores are doing).
#
# Everything binds 127.0.0.1 or ipc inside one temporary folder (removed at the end unless
# --keep). Every daemon started is stopped by its pid; every wait and every run is bounded.
# --quick makes the runs small: a smoke test of the script, not a measurement.
# --profile measures nothing: it runs 8->1 twice under perf, once sampling the broker's stacks
# (perf record) and once timing the broker's and the receiving node's system calls (perf trace
# -s), then the one-in-flight run sampling the broker's and the receiving node's stacks, and
# writes the reports to DIR/bench-profile/.
#
# Tunables (environment): BENCH_HOP_COUNT (echoes per hop client, 100000), BENCH_COUNT
# (messages per sending agency in 8->1 and 8->8, 10000), BENCH_WINDOW (messages in flight per
# sending agency, 500), BENCH_LAT_COUNT (latency messages, 1000), BENCH_SECONDS (time limit of
# one run, 120), BENCH_SIZE (message bytes, 200), BENCH_HANDOFF_IDS ("ordered", time-ordered
# UUID v7 handoff ids as refnet-node makes them, or "random": v4 ids, to measure what order saves),
# BENCH_BATCH (1: the sending agencies pack what they send at once into Batch frames, as
# refnet-node does; 0: one envelope per frame, bench_mail --no-batch, to measure what it saves).
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$ROOT/build-bench
RUNS=3
QUICK=0
KEEP=0
PROFILE=0

usage() {
    sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//'
}

while (($#)); do
    case $1 in
    --build)
        BUILD=${2:?--build needs a folder}
        shift
        ;;
    --runs)
        RUNS=${2:?--runs needs a number}
        shift
        ;;
    --quick) QUICK=1 ;;
    --keep) KEEP=1 ;;
    --profile) PROFILE=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "delivery.sh: unknown argument '$1'" >&2
        usage >&2
        exit 2
        ;;
    esac
    shift
done
[[ $RUNS =~ ^[1-9][0-9]?$ ]] || {
    echo "delivery.sh: --runs must be 1 to 99" >&2
    exit 2
}
[[ $BUILD == /* ]] || BUILD=$PWD/$BUILD
for tool in cmake jq python3; do
    command -v "$tool" >/dev/null || {
        echo "delivery.sh: needs $tool" >&2
        exit 1
    }
done
if ((PROFILE)) && ! command -v perf >/dev/null; then
    echo "delivery.sh: --profile needs perf (linux-perf)" >&2
    exit 1
fi

SENDING=8 # the issue's 8 sending agencies, and 8 receiving ones in 8->8
SIZE=${BENCH_SIZE:-200}
HOP_COUNT=${BENCH_HOP_COUNT:-100000}
COUNT=${BENCH_COUNT:-10000}
WINDOW=${BENCH_WINDOW:-500}
LAT_COUNT=${BENCH_LAT_COUNT:-1000}
SECONDS_MAX=${BENCH_SECONDS:-120}
MAIL_EXTRA=()
case ${BENCH_BATCH:-1} in
1) ;;
0) MAIL_EXTRA+=(--no-batch) ;;
*)
    echo "delivery.sh: BENCH_BATCH must be 1 or 0" >&2
    exit 2
    ;;
esac
case ${BENCH_HANDOFF_IDS:-ordered} in
random) ;;
ordered) MAIL_EXTRA+=(--ordered-handoffs) ;;
*)
    echo "delivery.sh: BENCH_HANDOFF_IDS must be random or ordered" >&2
    exit 2
    ;;
esac
if ((QUICK)); then
    HOP_COUNT=5000
    COUNT=500
    LAT_COUNT=100
fi
LAT_WARMUP=$((LAT_COUNT / 20))
TICK_US=$((1000000 / $(getconf CLK_TCK)))

say() {
    printf '\n==> %s\n' "$*"
}

# ---------------------------------------------------------------------------------------------
# Build

say "Configuring $BUILD (Release, REFNET_BENCH=ON)"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DREFNET_BENCH=ON >/dev/null
say "Building the daemons and the bench programs"
cmake --build "$BUILD" -j2 --target refnet-broker refnet-node refnet_cli bench_hop bench_mail \
    bench_sync >"$BUILD/bench-build.log" 2>&1 || {
    tail -n 40 "$BUILD/bench-build.log" >&2
    echo "delivery.sh: the build failed (log: $BUILD/bench-build.log)" >&2
    exit 1
}
BIN=$BUILD/bin
BENCH=$BUILD/bench

# ---------------------------------------------------------------------------------------------
# Processes: started with spawn, stopped by pid (TERM, then KILL after a bound)

T=$(mktemp -d "${TMPDIR:-/tmp}/refnet-bench.XXXXXX")
mkdir "$T/logs"
BENCH_NAME=delivery.sh
BENCH_LOGS=$T/logs
# shellcheck source=lib.sh
source "$ROOT/tests/bench/lib.sh"

BENCH_TMP=$T
BENCH_KEEP=$KEEP
BENCH_FAIL_LOGS="$T/logs/*.log"
bench_traps

die() {
    echo "delivery.sh: $*" >&2
    exit 1
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

# shellcheck source=../../deploy/lib/net.sh
source "$ROOT/deploy/lib/net.sh"

# cpu_us PID...: CPU time (user + system) the processes have used so far, in microseconds.
cpu_us() {
    local pid stat total=0 fields
    for pid in "$@"; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        read -ra fields <<<"${stat##*) }"
        total=$((total + (fields[11] + fields[12]) * TICK_US))
    done
    echo "$total"
}

# ---------------------------------------------------------------------------------------------
# A network: a new broker, the sending agencies' keys enrolled in it, and NRECV new receiving
# refnet-nodes, each publishing one service. The sending agencies' folders (made once by
# refnet-node init) only provide their keypairs: bench_mail speaks for them.

NET=0
BROKER_DIR=
BROKER_EP=
BROKER_KEY=
BROKER_PID=
declare -a NODE_PIDS=() SENDERS=() TARGETS=()

broker_ready() {
    [[ -S $BROKER_DIR/admin.sock ]] && (exec 3<>"/dev/tcp/127.0.0.1/${BROKER_EP##*:}") 2>/dev/null
}

start_broker() {
    local out
    mkdir -p "$T/net$NET"
    BROKER_DIR=$T/net$NET/broker
    BROKER_EP=tcp://127.0.0.1:$(free_port)
    out=$("$BIN/refnet-broker" init --data "$BROKER_DIR" --bind "$BROKER_EP")
    BROKER_KEY=$(tail -n 1 <<<"$out")
    spawn broker "$BIN/refnet-broker" run --data "$BROKER_DIR" --log-level warn
    BROKER_PID=$SPAWNED
    wait_until 20 "the broker on $BROKER_EP" broker_ready
}

enroll() {
    "$BIN/refnet-broker" enroll --data "$BROKER_DIR" --agency "$1" --key "$2" \
        --name "Bench $1" >/dev/null
}

# new_agency DIR ID: a node folder made by refnet-node init for the current broker; prints the
# agency's public key.
new_agency() {
    "$BIN/refnet-node" init --data "$1" --agency "$2" --name "Bench $2" --broker "$BROKER_EP" \
        --broker-key "$BROKER_KEY" | tail -n 1
}

node_connected() {
    "$BIN/refnet" --node "$1" status --json | jq -e '.connected == true'
}

node_has_service() {
    "$BIN/refnet" --node "$1" search --json | jq -e --arg s "$2" 'any(.services[]; .id == $s)'
}

# start_network NRECV: stops the previous network and starts a new one.
start_network() {
    local nrecv=$1 i id dir
    stop_all
    rm -rf "$T/net$NET"
    NET=$((NET + 1))
    NODE_PIDS=()
    TARGETS=()
    start_broker
    for ((i = 1; i <= SENDING; i++)); do
        [[ -e $T/senders/s$i ]] || new_agency "$T/senders/s$i" "s$i" >"$T/senders/s$i.key"
        enroll "s$i" "$(cat "$T/senders/s$i.key")"
    done
    for ((i = 1; i <= nrecv; i++)); do
        id=r$i
        dir=$T/net$NET/$id
        enroll "$id" "$(new_agency "$dir" "$id")"
        spawn "net$NET-$id" "$BIN/refnet-node" run --data "$dir" --log-level warn
        NODE_PIDS+=("$SPAWNED")
        TARGETS+=(--to "$id=svc-$id")
    done
    for ((i = 1; i <= nrecv; i++)); do
        dir=$T/net$NET/r$i
        wait_until 20 "node r$i to connect" node_connected "$dir"
        "$BIN/refnet" --node "$dir" service publish --id "svc-r$i" --name "Bench intake r$i" \
            --taxonomy bench >/dev/null
    done
    for ((i = 1; i <= nrecv; i++)); do
        wait_until 20 "service svc-r$i in the directory" node_has_service "$T/net$NET/r$i" "svc-r$i"
    done
    # What the previous run left for the kernel to write back must not compete with this run's
    # synced commits.
    sync
}

# check_receivers: a receiving node acknowledges (and so receipts) a handoff it refused too, so
# its log is where a refusal would show. Only handoff refusals count: in 8->8 a node may hear a
# peer's sealing key before its own Welcome pinned the broker's signing key (it gets the key
# again with its next Welcome), which does not touch the handoffs measured.
check_receivers() {
    if grep -hE 'handoff step from .* refused|refused a step of handoff' \
        "$T"/logs/net"$NET"-*.log >&2; then
        die "a receiving node refused handoffs (above)"
    fi
    # Every person packet must open: a dropped one means the run did not measure real sealing.
    if grep -hE 'person data of handoff .* was dropped' "$T"/logs/net"$NET"-*.log >&2; then
        die "a receiving node could not open person packets (above)"
    fi
}

mkdir "$T/senders"
for ((i = 1; i <= SENDING; i++)); do
    SENDERS+=(--from "$T/senders/s$i")
done

# ---------------------------------------------------------------------------------------------
# Runs

# field LINE KEY: the value of KEY=VALUE in a RESULT line.
field() {
    sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"
}

# result NAME CMD...: runs one measurement; appends "NAME RESULT-LINE EXTRA" to $T/results,
# EXTRA being the broker's and the receiving nodes' CPU time during the run.
result() {
    local name=$1 line b0 n0 extra=
    shift
    b0=$(cpu_us "$BROKER_PID")
    n0=$(cpu_us "${NODE_PIDS[@]}")
    if ! line=$("$@" 2>>"$T/logs/bench.log" | grep '^RESULT'); then
        die "$name: the run did not complete (see the logs below)"
    fi
    [[ $(field "$line" complete) == 1 ]] || die "$name: incomplete: $line"
    if [[ $name != hop* && $name != sync ]]; then
        extra=" broker_cpu_us=$(($(cpu_us "$BROKER_PID") - b0))"
        extra+=" nodes_cpu_us=$(($(cpu_us "${NODE_PIDS[@]}") - n0))"
    fi
    echo "$name $line$extra" >>"$T/results"
    printf '  %-8s %s%s\n' "$name" "${line#RESULT }" "$extra"
}

# run_hop NAME COUNT INFLIGHT ARGS...: one bench_hop run, 8 clients.
run_hop() {
    local name=$1 count=$2 inflight=$3
    shift 3
    result "$name" timeout $((SECONDS_MAX + 30)) "$BENCH/bench_hop" --clients 8 \
        --inflight "$inflight" --size "$SIZE" --count "$count" --seconds "$SECONDS_MAX" "$@"
}

# run_mail NAME COUNT WINDOW WARMUP ARGS...: one bench_mail run against the current network.
run_mail() {
    local name=$1 count=$2 window=$3 warmup=$4
    shift 4
    result "$name" timeout $((SECONDS_MAX + 30)) "$BENCH/bench_mail" --broker "$BROKER_EP" \
        --broker-key "$BROKER_KEY" --count "$count" --window "$window" --size "$SIZE" \
        --seconds "$SECONDS_MAX" --warmup "$warmup" --label "$name" "${MAIL_EXTRA[@]}" "$@"
    check_receivers
}

# profile: 8->1 under perf record (the broker's on-CPU stacks), then under perf trace (where
# the broker's and the receiving node's wall time goes in system calls: fdatasync, pwrite,
# poll; the number of fdatasync calls is the number of their synced commits).
profile() {
    local out=$BUILD/bench-profile perf_pid
    rm -rf "$out"
    mkdir -p "$out"
    start_network 1
    say "Profiling the broker (pid $BROKER_PID) under 8->1, $COUNT messages per agency"
    perf record -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$BROKER_PID" \
        -o "$out/perf.data" >"$out/record.log" 2>&1 &
    perf_pid=$!
    sleep 1
    run_mail "8->1" "$COUNT" "$WINDOW" 0 "${SENDERS[@]}" "${TARGETS[@]}"
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    perf report -i "$out/perf.data" --stdio --no-children --sort symbol -g none \
        --percent-limit 0.5 >"$out/self.txt" 2>/dev/null
    perf report -i "$out/perf.data" --stdio --children --sort symbol -g none \
        --percent-limit 1 >"$out/children.txt" 2>/dev/null
    start_network 1
    say "Timing the broker's and the receiving node's system calls under 8->1"
    perf trace -s -p "$BROKER_PID,${NODE_PIDS[0]}" -o "$out/trace.txt" >/dev/null 2>&1 &
    perf_pid=$!
    sleep 1
    run_mail "8->1" "$COUNT" "$WINDOW" 0 "${SENDERS[@]}" "${TARGETS[@]}"
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    start_network 1
    say "Profiling the broker and the receiving node under one message in flight"
    perf record -e cpu-clock -F 999 --call-graph dwarf,16384 -p "$BROKER_PID,${NODE_PIDS[0]}" \
        -o "$out/latency.data" >"$out/latency-record.log" 2>&1 &
    perf_pid=$!
    sleep 1
    run_mail latency "$LAT_COUNT" 1 "$LAT_WARMUP" --from "$T/senders/s1" "${TARGETS[@]}"
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    perf report -i "$out/latency.data" --stdio --children --sort comm,symbol -g none \
        --percent-limit 1 >"$out/latency.txt" 2>/dev/null
    say "Broker: time by function, callees included (top)"
    grep -E '^ +[0-9]' "$out/children.txt" | head -n 40
    say "One in flight, broker and node: time by function, callees included (top)"
    grep -E '^ +[0-9]' "$out/latency.txt" | head -n 30
    say "Broker and receiving node: system calls by thread"
    grep -E -A8 '^ (refnet-broker|refnet-node|ZMQbg)' "$out/trace.txt" || true
    echo "Reports: $out"
}

if ((PROFILE)); then
    profile
    exit 0
fi

say "Disk floor: synced LMDB commits in $T (bench_sync)"
result sync "$BENCH/bench_sync" --dir "$T/sync"
rm -rf "$T/sync"

for ((r = 1; r <= RUNS; r++)); do
    say "Round $r of $RUNS"
    run_hop hop "$HOP_COUNT" 50
    run_hop hop+c "$HOP_COUNT" 50 --curve
    # A synced commit per batch makes this one ten times slower: a quarter of the count.
    run_hop hop+cd $((HOP_COUNT / 4)) "$WINDOW" --curve --commit "$T/hop-db"
    rm -rf "$T/hop-db"
    start_network 1
    run_mail "8->1" "$COUNT" "$WINDOW" 0 "${SENDERS[@]}" "${TARGETS[@]}"
    start_network "$SENDING"
    run_mail "8->8" "$COUNT" "$WINDOW" 0 "${SENDERS[@]}" "${TARGETS[@]}"
    start_network 1
    run_mail latency "$LAT_COUNT" 1 "$LAT_WARMUP" --from "$T/senders/s1" "${TARGETS[@]}"
done
stop_all

# ---------------------------------------------------------------------------------------------
# Report

# values NAME KEY: KEY of every run of NAME, one per line, in run order.
values() {
    local name line
    while read -r name line; do
        if [[ $name == "$1" ]]; then
            field "$line" "$2"
        fi
    done <"$T/results"
}

median() {
    sort -n | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print 0; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# per_msg NAME KEY: the median over runs of KEY divided by the messages of that run.
per_msg() {
    paste -d' ' <(values "$1" "$2") <(values "$1" receipts) |
        awk '{ printf "%.1f\n", $2 ? $1 / $2 : 0 }' | median_f
}

median_f() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ms() {
    awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'
}

# per_run NAME: "p50/p99, p50/p99, ..." in ms, one pair per run.
per_run() {
    paste -d' ' <(values "$1" p50_us) <(values "$1" p99_us) |
        awk '{ sep = (NR > 1) ? ", " : ""; printf "%s%.2f/%.2f", sep, $1 / 1000, $2 / 1000 }'
}

HOP_MEDIAN=$(values hop rate | median)
# table_line SCENARIO RATE P50 P99 RATIO CPU RUNS: one line of the table.
table_line() {
    printf '%-30s %9s %9s %9s %7s %23s   %s\n' "$@"
}

row() {
    local name=$1 what=$2 rates med ratio cpu
    rates=$(values "$name" rate | paste -sd' ' -)
    med=$(values "$name" rate | median)
    ratio=$(awk -v a="$med" -v b="$HOP_MEDIAN" 'BEGIN { printf "%.1f%%", b ? 100 * a / b : 0 }')
    if [[ $name == hop* ]]; then
        cpu=$(values "$name" cpu_per_msg_us | median_f)
        table_line "$what" "$med" - - "$ratio" "$cpu total" "$rates"
        return
    fi
    # One message in flight leaves the daemons idle most of the time: their CPU per message
    # would mostly be timers and heartbeats.
    cpu=-
    [[ $name == latency ]] ||
        cpu="$(per_msg "$name" broker_cpu_us)/$(per_msg "$name" nodes_cpu_us)/$(per_msg "$name" cpu_us)"
    table_line "$what" "$med" "$(ms "$(values "$name" p50_us | median)")" \
        "$(ms "$(values "$name" p99_us | median)")" "$ratio" "$cpu" "$rates"
}

SYNC=$(grep '^sync ' "$T/results")
say "Results: medians of $RUNS run(s), $(nproc) cores, $SIZE-byte messages"
table_line scenario "msg/s" "p50 ms" "p99 ms" "of hop" "CPU us/msg" "runs (msg/s)"
table_line "" "" "" "" "" "broker/nodes/senders" ""
row hop "ZeroMQ hop (ceiling), 8x50"
row hop+c "  hop + CURVE, 8x50"
row hop+cd "  hop + CURVE + commit, 8x$WINDOW"
row "8->1" "refnet durable 8->1, w=$WINDOW"
row "8->8" "refnet durable 8->8, w=$WINDOW"
row latency "refnet, 1 in flight"
printf '\np50/p99 ms of each run: 8->1 %s | 8->8 %s | latency %s\n' \
    "$(per_run "8->1")" "$(per_run "8->8")" "$(per_run latency)"
printf 'Disk (whole write transactions, synced): 1 record p50 %s ms, p99 %s ms; %s records:\n' \
    "$(ms "$(field "$SYNC" commit_p50_us)")" "$(ms "$(field "$SYNC" commit_p99_us)")" \
    "$(field "$SYNC" batch)"
printf '  sequential keys p50 %s ms, random keys p50 %s ms, random keys one child txn each %s ms\n' \
    "$(ms "$(field "$SYNC" seq_p50_us)")" "$(ms "$(field "$SYNC" random_p50_us)")" \
    "$(ms "$(field "$SYNC" nested_p50_us)")"
