#!/usr/bin/env bash
# tests/bench/delivery.sh: the delivery benchmark, in one run on this machine.
#
#   tests/bench/delivery.sh [--build DIR] [--runs N] [--quick] [--keep] [--profile]
#
# Configures a Release build with -DREFNET_BENCH=ON in DIR (default build-bench in the
# checkout), builds the daemons and the bench programs, and measures, N times each (default 3):
#   hop      the ceiling: bench_hop, a bare ZeroMQ ROUTER echo hop over tcp://127.0.0.1, 8
#            clients with 50 messages of 200 bytes in flight each (round trips/s);
#   8->1     refnet durable end to end: bench_mail as 8 sending agencies, a real refnet-broker
#            and 1 receiving refnet-node; a message counts once its sender has the receipt,
#            i.e. after the broker's synced commit, the receiver's synced commit and its ack;
#   8->8     the same with 8 receiving refnet-nodes;
#   latency  one sending agency, one message in flight: p50/p99 from send to receipt.
# It prints every run's figures and a table of medians, with refnet as a ratio of the hop.
#
# Everything binds 127.0.0.1 or ipc inside a temporary folder (removed at the end unless
# --keep). Every daemon started is stopped by its pid; every wait and every run is bounded.
# --quick makes the runs small (a smoke test of the script, not a measurement).
# --profile measures nothing: it runs 8->1 twice under perf, once sampling the broker's stacks
# (perf record) and once timing its system calls (perf trace -s), and writes both reports to
# DIR/bench-profile/.
#
# Tunables (environment): BENCH_HOP_COUNT (echoes per hop client, 100000), BENCH_COUNT
# (messages per sending agency in 8->1 and 8->8, 25000), BENCH_WINDOW (messages in flight per
# sending agency, 500), BENCH_LAT_COUNT (latency messages, 2000), BENCH_SECONDS (time limit of
# one run, 120), BENCH_CLIENTS (8), BENCH_SIZE (message bytes, 200).
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$ROOT/build-bench
RUNS=3
QUICK=0
KEEP=0
PROFILE=0

usage() {
    sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'
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

CLIENTS=${BENCH_CLIENTS:-8}
SIZE=${BENCH_SIZE:-200}
HOP_COUNT=${BENCH_HOP_COUNT:-100000}
COUNT=${BENCH_COUNT:-25000}
WINDOW=${BENCH_WINDOW:-500}
LAT_COUNT=${BENCH_LAT_COUNT:-2000}
SECONDS_MAX=${BENCH_SECONDS:-120}
if ((PROFILE)) && ! command -v perf >/dev/null; then
    echo "delivery.sh: --profile needs perf (linux-perf)" >&2
    exit 1
fi
if ((QUICK)); then
    HOP_COUNT=5000
    COUNT=1000
    LAT_COUNT=100
fi
LAT_WARMUP=$((LAT_COUNT / 20))

say() {
    printf '\n==> %s\n' "$*"
}

# ---------------------------------------------------------------------------------------------
# Build

say "Configuring $BUILD (Release, REFNET_BENCH=ON)"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DREFNET_BENCH=ON >/dev/null
say "Building the daemons and the bench programs"
cmake --build "$BUILD" -j2 --target refnet-broker refnet-node refnet_cli bench_hop bench_mail \
    >"$BUILD/bench-build.log" 2>&1 || {
    tail -n 40 "$BUILD/bench-build.log" >&2
    echo "delivery.sh: the build failed (log: $BUILD/bench-build.log)" >&2
    exit 1
}
BIN=$BUILD/bin
HOP=$BUILD/bench/bench_hop
MAIL=$BUILD/bench/bench_mail

# ---------------------------------------------------------------------------------------------
# Processes: started with spawn, stopped by pid (TERM, then KILL after a bound)

T=$(mktemp -d "${TMPDIR:-/tmp}/refnet-bench.XXXXXX")
mkdir "$T/logs"
declare -a PIDS=()
declare -A PID_NAME=()

spawn() {
    local name=$1
    shift
    "$@" >>"$T/logs/$name.log" 2>&1 &
    PIDS+=("$!")
    PID_NAME[$!]=$name
}

alive() {
    kill -0 "$1" 2>/dev/null
}

stop_pid() {
    local pid=$1 i
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        echo "delivery.sh: ${PID_NAME[$pid]} (pid $pid) ignored TERM; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? i
    set +e
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        stop_pid "${PIDS[$i]}"
    done
    if ((rc != 0)); then
        for f in "$T"/logs/*.log; do
            [[ -s $f ]] || continue
            printf '\n---- last 20 lines of %s ----\n' "${f#"$T"/}" >&2
            tail -n 20 "$f" >&2
        done
    fi
    if ((KEEP)); then
        echo "delivery.sh: kept $T"
    else
        rm -rf "$T"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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

# free_port: a TCP port free on 127.0.0.1, below the kernel's ephemeral range.
free_port() {
    python3 - <<'EOF'
import random, socket
for _ in range(200):
    port = random.randint(20000, 29999)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("no free port found")
EOF
}

# ---------------------------------------------------------------------------------------------
# The network: one broker, CLIENTS sending agencies (bench_mail, keys from refnet-node init),
# CLIENTS receiving refnet-nodes that each publish one service

BROKER_DIR=$T/broker
BROKER_EP=
BROKER_KEY=
BROKER_PID=

broker_ready() {
    [[ -S $BROKER_DIR/admin.sock ]] && (exec 3<>"/dev/tcp/127.0.0.1/${BROKER_EP##*:}") 2>/dev/null
}

start_broker() {
    local out
    BROKER_EP=tcp://127.0.0.1:$(free_port)
    out=$("$BIN/refnet-broker" init --data "$BROKER_DIR" --bind "$BROKER_EP")
    BROKER_KEY=$(tail -n 1 <<<"$out")
    spawn broker "$BIN/refnet-broker" run --data "$BROKER_DIR" --log-level warn
    BROKER_PID=${PIDS[-1]}
    wait_until 20 "the broker on $BROKER_EP" broker_ready
}

# agency ID: node folder $T/ID made by refnet-node init, its key enrolled at the broker.
agency() {
    local id=$1 out key
    out=$("$BIN/refnet-node" init --data "$T/$id" --agency "$id" --name "Bench $id" \
        --broker "$BROKER_EP" --broker-key "$BROKER_KEY")
    key=$(tail -n 1 <<<"$out")
    "$BIN/refnet-broker" enroll --data "$BROKER_DIR" --agency "$id" --key "$key" \
        --name "Bench $id" >/dev/null
}

node_connected() {
    "$BIN/refnet" --node "$T/$1" status --json | jq -e '.connected == true'
}

node_has_service() {
    "$BIN/refnet" --node "$T/$1" search --json | jq -e --arg s "$2" 'any(.services[]; .id == $s)'
}

start_receiver() {
    local id=$1
    agency "$id"
    spawn "$id" "$BIN/refnet-node" run --data "$T/$id" --log-level warn
    wait_until 20 "node $id to connect" node_connected "$id"
    "$BIN/refnet" --node "$T/$id" service publish --id "svc-$id" --name "Bench intake $id" \
        --taxonomy bench >/dev/null
    wait_until 20 "service svc-$id in the directory" node_has_service "$id" "svc-$id"
}

say "Starting the network in $T: a broker, $CLIENTS sending agencies, $CLIENTS receiving nodes"
start_broker
declare -a SENDERS=() ALL_TARGETS=()
for ((i = 1; i <= CLIENTS; i++)); do
    agency "s$i"
    SENDERS+=(--from "$T/s$i")
    start_receiver "r$i"
    ALL_TARGETS+=(--to "r$i=svc-r$i")
done

# ---------------------------------------------------------------------------------------------
# Runs

# field LINE KEY: the value of KEY=VALUE in a RESULT line.
field() {
    sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"
}

# result NAME CMD...: runs one measurement, echoes its RESULT line into $T/results.
result() {
    local name=$1 line
    shift
    if ! line=$("$@" 2>>"$T/logs/bench.log" | grep '^RESULT'); then
        die "$name: the run did not complete (see the logs below)"
    fi
    [[ $(field "$line" complete) == 1 ]] || die "$name: incomplete: $line"
    echo "$name $line" >>"$T/results"
    printf '  %-8s %s\n' "$name" "${line#RESULT }"
}

run_hop() {
    result hop timeout $((SECONDS_MAX + 30)) "$HOP" --clients "$CLIENTS" --inflight 50 \
        --size "$SIZE" --count "$HOP_COUNT" --seconds "$SECONDS_MAX"
}

# run_mail NAME COUNT WINDOW WARMUP ARGS...: one bench_mail run against the network.
run_mail() {
    local name=$1 count=$2 window=$3 warmup=$4
    shift 4
    result "$name" timeout $((SECONDS_MAX + 30)) "$MAIL" --broker "$BROKER_EP" \
        --broker-key "$BROKER_KEY" --count "$count" --window "$window" --size "$SIZE" \
        --seconds "$SECONDS_MAX" --warmup "$warmup" --label "$name" "$@"
}

: >"$T/results"

# profile: 8->1 under perf record (the broker's on-CPU stacks), then under perf trace (where
# its wall time goes in system calls: fdatasync, poll, sends).
profile() {
    local out=$BUILD/bench-profile perf_pid count=$(((COUNT + 4) / 5))
    rm -rf "$out"
    mkdir -p "$out"
    say "Profiling the broker (pid $BROKER_PID) under 8->1, $count messages per agency"
    perf record -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$BROKER_PID" \
        -o "$out/perf.data" >"$out/record.log" 2>&1 &
    perf_pid=$!
    sleep 1
    run_mail "8->1" "$count" "$WINDOW" 0 "${SENDERS[@]}" --to "r1=svc-r1"
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    perf report -i "$out/perf.data" --stdio --no-children --percent-limit 0.5 \
        --sort symbol >"$out/self.txt" 2>/dev/null
    perf report -i "$out/perf.data" --stdio --children --percent-limit 2 \
        --sort symbol -g none >"$out/children.txt" 2>/dev/null
    say "Timing the broker's system calls under 8->1"
    perf trace -s -p "$BROKER_PID" -o "$out/trace.txt" >/dev/null 2>&1 &
    perf_pid=$!
    sleep 1
    run_mail "8->1" "$count" "$WINDOW" 0 "${SENDERS[@]}" --to "r1=svc-r1"
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    say "Broker: self time by function (top)"
    grep -E '^ +[0-9]' "$out/self.txt" | head -n 30
    say "Broker: system calls by thread"
    grep -E 'refnet-broker|syscall|fdatasync|pwrite|poll|sendto|recvfrom|write ' \
        "$out/trace.txt" | head -n 40
    echo "Reports: $out"
}

if ((PROFILE)); then
    profile
    exit 0
fi

for ((r = 1; r <= RUNS; r++)); do
    say "Round $r of $RUNS"
    run_hop
    run_mail "8->1" "$COUNT" "$WINDOW" 0 "${SENDERS[@]}" --to "r1=svc-r1"
    run_mail "8->8" "$COUNT" "$WINDOW" 0 "${SENDERS[@]}" "${ALL_TARGETS[@]}"
    run_mail latency "$LAT_COUNT" 1 "$LAT_WARMUP" --from "$T/s1" --to "r1=svc-r1"
done

# Every delivered handoff must have been applied by a receiving node: a refusal there would
# still be acknowledged (and receipted), so it is looked for in the nodes' logs.
if grep -h 'refused' "$T"/logs/r*.log >&2; then
    die "a receiving node refused handoffs (above)"
fi

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

ms() {
    awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'
}

HOP_MEDIAN=$(values hop rate | median)

# per_run NAME: "p50/p99, p50/p99, ..." in ms, one pair per run.
per_run() {
    paste -d' ' <(values "$1" p50_us) <(values "$1" p99_us) |
        awk '{ sep = (NR > 1) ? ", " : ""; printf "%s%.2f/%.2f", sep, $1 / 1000, $2 / 1000 }'
}

row() {
    local name=$1 what=$2 rates med p50 p99 ratio
    rates=$(values "$name" rate | paste -sd/ -)
    med=$(values "$name" rate | median)
    p50=$(values "$name" p50_us | median)
    p99=$(values "$name" p99_us | median)
    ratio=$(awk -v a="$med" -v b="$HOP_MEDIAN" 'BEGIN { printf "%.1f%%", b ? 100 * a / b : 0 }')
    if [[ $name == hop ]]; then
        printf '%-34s %10s %8s %8s %9s   %s\n' "$what" "$med" - - 100% "$rates"
    else
        printf '%-34s %10s %8s %8s %9s   %s\n' "$what" "$med" "$(ms "$p50")" "$(ms "$p99")" \
            "$ratio" "$rates"
    fi
}

say "Medians of $RUNS run(s) on $(nproc) cores, $SIZE-byte messages"
printf '%-34s %10s %8s %8s %9s   %s\n' scenario "msg/s" "p50 ms" "p99 ms" "of hop" "runs (msg/s)"
row hop "ZeroMQ hop (ceiling), 8x50"
row "8->1" "refnet durable, 8 -> 1, window $WINDOW"
row "8->8" "refnet durable, 8 -> 8, window $WINDOW"
row latency "refnet, 1 in flight"
printf '\nPer-run p50/p99 (ms): 8->1 %s | 8->8 %s | latency %s\n' \
    "$(per_run "8->1")" "$(per_run "8->8")" "$(per_run latency)"

say "Stopping the network"
for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    stop_pid "${PIDS[$i]}"
done
