#!/usr/bin/env bash
# tests/bench/peers.sh: refnet and RabbitMQ under the same durable workload, in one run.
#
#   tests/bench/peers.sh [--build DIR] [--runs N] [--quick] [--keep]
#
# Installs what is missing (rabbitmq-server and librabbitmq-dev from the Debian archive, with
# apt-get; needs root then), builds bench_amqp in the Release build DIR (default build-bench in
# the checkout, -DREFNET_BENCH=ON), runs tests/bench/delivery.sh --runs N (refnet, see its
# header), then starts a RabbitMQ node of its own and runs the same workload against it N times
# with bench_amqp:
#   8->1     8 publishers, each on its own connection, 200-byte persistent messages
#            (delivery_mode 2) with publisher confirms, up to 500 unconfirmed each, into one
#            durable queue with one consumer acknowledging every message;
#   8->8     the same into 8 durable queues with a consumer each, each publisher addressing
#            them in turn;
#   latency  one publisher, one message in flight: p50/p99 from publish to confirm + consume.
# A RabbitMQ message counts once its publisher has the confirm (written and fsynced by the
# broker) and its consumer has acknowledged it. It prints one table: refnet and RabbitMQ
# msg/s, their ratio, p50/p99, and each broker's CPU time per message.
#
# The RabbitMQ node is not the system service: it lives in a temporary folder (removed at the
# end unless --keep) with its own node name (refnetbench@localhost), its own epmd, and free
# ports, all on 127.0.0.1; it is started by pid and stopped by `rabbitmqctl stop` and by pid.
# A system RabbitMQ, if one runs, is left alone. --quick makes every run small: a smoke test of
# the script, not a measurement.
#
# Tunables (environment), shared with delivery.sh: BENCH_COUNT (messages per publisher, 10000),
# BENCH_WINDOW (500), BENCH_LAT_COUNT (1000), BENCH_SECONDS (time limit of one run, 120),
# BENCH_SIZE (200).
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$ROOT/build-bench
RUNS=3
QUICK=0
KEEP=0

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
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "peers.sh: unknown argument '$1'" >&2
        usage >&2
        exit 2
        ;;
    esac
    shift
done
[[ $RUNS =~ ^[1-9][0-9]?$ ]] || {
    echo "peers.sh: --runs must be 1 to 99" >&2
    exit 2
}
[[ $BUILD == /* ]] || BUILD=$PWD/$BUILD

SIZE=${BENCH_SIZE:-200}
COUNT=${BENCH_COUNT:-10000}
WINDOW=${BENCH_WINDOW:-500}
LAT_COUNT=${BENCH_LAT_COUNT:-1000}
SECONDS_MAX=${BENCH_SECONDS:-120}
if ((QUICK)); then
    COUNT=500
    LAT_COUNT=100
fi
LAT_WARMUP=$((LAT_COUNT / 20))
TICK_US=$((1000000 / $(getconf CLK_TCK)))
RABBIT_BIN=/usr/lib/rabbitmq/bin
NODE=refnetbench@localhost

say() {
    printf '\n==> %s\n' "$*"
}

die() {
    echo "peers.sh: $*" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Packages

missing=()
for pkg in rabbitmq-server librabbitmq-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
    ((EUID == 0)) || die "needs ${missing[*]}: run as root, or apt-get install them first"
    say "Installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y "${missing[@]}" >/dev/null ||
        { apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null; } ||
        die "apt-get install ${missing[*]} failed"
fi
[[ -x $RABBIT_BIN/rabbitmq-server && -x $RABBIT_BIN/rabbitmqctl ]] ||
    die "no $RABBIT_BIN/rabbitmq-server (is rabbitmq-server installed?)"
EPMD=$(command -v epmd) || die "no epmd (erlang-base)"
for tool in cmake python3; do
    command -v "$tool" >/dev/null || die "needs $tool"
done

# ---------------------------------------------------------------------------------------------
# Build (delivery.sh configures the same tree and builds refnet's side)

say "Building bench_amqp in $BUILD (Release, REFNET_BENCH=ON)"
mkdir -p "$BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DREFNET_BENCH=ON >/dev/null
cmake --build "$BUILD" -j2 --target bench_amqp >"$BUILD/peers-build.log" 2>&1 || {
    tail -n 40 "$BUILD/peers-build.log" >&2
    die "the build failed (log: $BUILD/peers-build.log; is librabbitmq found by pkg-config?)"
}
AMQP=$BUILD/bench/bench_amqp

# ---------------------------------------------------------------------------------------------
# Processes

T=$(mktemp -d "${TMPDIR:-/tmp}/refnet-peers.XXXXXX")
mkdir "$T/logs" "$T/rabbit" "$T/rabbit/home"
BENCH_NAME=peers.sh
BENCH_LOGS=$T/logs
# shellcheck source=lib.sh
source "$ROOT/tests/bench/lib.sh"
# shellcheck source=../../deploy/lib/net.sh
source "$ROOT/deploy/lib/net.sh"

RABBIT_UP=0
bench_on_exit() {
    if ((RABBIT_UP)); then
        rabbit timeout 60 "$RABBIT_BIN/rabbitmqctl" -n "$NODE" stop >>"$T/logs/rabbitmqctl.log" 2>&1
    fi
}
BENCH_TMP=$T
BENCH_KEEP=$KEEP
BENCH_FAIL_LOGS="$T/logs/*.log"
bench_traps

# The RabbitMQ node's environment: every file under $T, every socket on 127.0.0.1 (AMQP, the
# Erlang distribution of the node and of rabbitmqctl, epmd), no plugins (no management
# listener), no system configuration file, the Erlang cookie in $T's home.
AMQP_PORT=$(free_port)
DIST_PORT=$(free_port)
EPMD_PORT=$(free_port)
while [[ $DIST_PORT == "$AMQP_PORT" || $EPMD_PORT == "$AMQP_PORT" || $EPMD_PORT == "$DIST_PORT" ]]; do
    DIST_PORT=$(free_port)
    EPMD_PORT=$(free_port)
done
: >"$T/rabbit/rabbitmq-env.conf"
echo '[].' >"$T/rabbit/enabled_plugins"
LOOPBACK_DIST='-kernel inet_dist_use_interface {127,0,0,1}'

rabbit() {
    env HOME="$T/rabbit/home" \
        RABBITMQ_CONF_ENV_FILE="$T/rabbit/rabbitmq-env.conf" \
        RABBITMQ_CONFIG_FILE="$T/rabbit/rabbitmq" \
        RABBITMQ_ADVANCED_CONFIG_FILE="$T/rabbit/advanced.config" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$T/rabbit/enabled_plugins" \
        RABBITMQ_MNESIA_BASE="$T/rabbit/mnesia" \
        RABBITMQ_LOG_BASE="$T/rabbit/log" \
        RABBITMQ_NODENAME="$NODE" \
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
        RABBITMQ_NODE_PORT="$AMQP_PORT" \
        RABBITMQ_DIST_PORT="$DIST_PORT" \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="$LOOPBACK_DIST" \
        RABBITMQ_CTL_ERL_ARGS="$LOOPBACK_DIST" \
        ERL_EPMD_ADDRESS=127.0.0.1 \
        ERL_EPMD_PORT="$EPMD_PORT" \
        "$@"
}

RABBIT_PID=
BEAM_PID=
start_rabbit() {
    spawn epmd env ERL_EPMD_ADDRESS=127.0.0.1 "$EPMD" -port "$EPMD_PORT" -address 127.0.0.1
    spawn rabbitmq rabbit "$RABBIT_BIN/rabbitmq-server"
    RABBIT_PID=$SPAWNED
    RABBIT_UP=1
    # await_startup fails at once while the node has not registered with epmd yet: retried,
    # for at most about 120 s, as long as the node runs.
    local t0=$SECONDS
    until rabbit timeout 60 "$RABBIT_BIN/rabbitmqctl" -n "$NODE" await_startup --timeout 50 \
        >>"$T/logs/rabbitmqctl.log" 2>&1; do
        alive "$RABBIT_PID" || die "the RabbitMQ node exited"
        ((SECONDS - t0 < 120)) || die "the RabbitMQ node did not start within 120 s"
        sleep 1
    done
    BEAM_PID=$(rabbit timeout 30 "$RABBIT_BIN/rabbitmqctl" -n "$NODE" eval 'os:getpid().' |
        tr -dc 0-9)
    [[ -n $BEAM_PID ]] || die "cannot read the RabbitMQ node's pid"
}

# cpu_us PID: CPU time (user + system) the process has used so far, in microseconds.
cpu_us() {
    local stat fields
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
        echo 0
        return
    }
    read -ra fields <<<"${stat##*) }"
    echo $(((fields[11] + fields[12]) * TICK_US))
}

# field LINE KEY: the value of KEY=VALUE in a result line.
field() {
    sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"
}

# ---------------------------------------------------------------------------------------------
# refnet: delivery.sh, whose per-run lines are "  NAME     bench=mail label=NAME ... rate=..."

say "refnet: tests/bench/delivery.sh --runs $RUNS"
DELIVERY_ARGS=(--build "$BUILD" --runs "$RUNS")
((QUICK)) && DELIVERY_ARGS+=(--quick)
"$ROOT/tests/bench/delivery.sh" "${DELIVERY_ARGS[@]}" | tee "$T/delivery.out" ||
    die "delivery.sh failed"
for name in "8->1" "8->8" latency; do
    grep -E "^  $name +bench=mail " "$T/delivery.out" | sed -E "s/^  ([^ ]+) +/refnet \1 /" \
        >>"$T/results" || true
done

# ---------------------------------------------------------------------------------------------
# RabbitMQ

say "RabbitMQ: starting node $NODE on 127.0.0.1:$AMQP_PORT (data in $T/rabbit)"
start_rabbit

# run_amqp NAME ARGS...: one bench_amqp run; appends "rabbitmq NAME LINE broker_cpu_us=..."
run_amqp() {
    local name=$1 line b0
    shift
    b0=$(cpu_us "$BEAM_PID")
    line=$(timeout $((SECONDS_MAX + 30)) "$AMQP" --port "$AMQP_PORT" --size "$SIZE" \
        --seconds "$SECONDS_MAX" --label "$name" "$@" 2>>"$T/logs/bench_amqp.log" |
        grep '^RESULT') || die "$name: bench_amqp did not complete (see the logs below)"
    [[ $(field "$line" complete) == 1 ]] || die "$name: incomplete: $line"
    line="${line#RESULT } broker_cpu_us=$(($(cpu_us "$BEAM_PID") - b0))"
    echo "rabbitmq $name $line" >>"$T/results"
    printf '  %-8s %s\n' "$name" "$line"
}

for ((r = 1; r <= RUNS; r++)); do
    say "RabbitMQ round $r of $RUNS"
    run_amqp "8->1" --publishers 8 --queues 1 --count "$COUNT" --window "$WINDOW"
    run_amqp "8->8" --publishers 8 --queues 8 --count "$COUNT" --window "$WINDOW"
    run_amqp latency --publishers 1 --queues 1 --count "$LAT_COUNT" --window 1 \
        --warmup "$LAT_WARMUP"
done

# ---------------------------------------------------------------------------------------------
# Report

# values PEER NAME KEY: KEY of every run of PEER's NAME, one per line.
values() {
    local peer name line
    while read -r peer name line; do
        if [[ $peer == "$1" && $name == "$2" ]]; then
            field "$line" "$3"
        fi
    done <"$T/results"
}

median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# broker_per_msg PEER NAME: median over runs of the broker's CPU us per message.
broker_per_msg() {
    local n=receipts
    [[ $1 == rabbitmq ]] && n="done"
    paste -d' ' <(values "$1" "$2" broker_cpu_us) <(values "$1" "$2" "$n") |
        awk '{ printf "%.1f\n", $2 ? $1 / $2 : 0 }' | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }'
}

lat() {
    local p50 p99
    p50=$(values "$1" "$2" p50_us | median)
    p99=$(values "$1" "$2" p99_us | median)
    awk -v a="$p50" -v b="$p99" 'BEGIN { printf "%.2f / %.2f", a / 1000, b / 1000 }'
}

table_line() {
    printf '%-28s %12s %9s %6s %17s %17s %18s\n' "$@"
}

row() {
    local name=$1 what=$2 ref rab ratio cpu
    ref=$(values refnet "$name" rate | median)
    rab=$(values rabbitmq "$name" rate | median)
    ratio=$(awk -v a="$ref" -v b="$rab" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }')
    cpu="$(broker_per_msg refnet "$name") / $(broker_per_msg rabbitmq "$name")"
    [[ $name == latency ]] && cpu=-
    table_line "$what" "$ref" "$rab" "$ratio" "$(lat refnet "$name")" "$(lat rabbitmq "$name")" \
        "$cpu"
}

say "refnet and RabbitMQ: medians of $RUNS run(s), $(nproc) cores, $SIZE-byte messages"
table_line scenario "refnet msg/s" "RabbitMQ" "ratio" "refnet p50/p99" "RabbitMQ" "broker CPU us/msg"
table_line "" "" "msg/s" "" "ms" "p50/p99 ms" "refnet / RabbitMQ"
row "8->1" "durable 8->1, window $WINDOW"
row "8->8" "durable 8->8, window $WINDOW"
row latency "1 in flight"
printf '\nRuns (msg/s): refnet 8->1 %s | 8->8 %s | RabbitMQ 8->1 %s | 8->8 %s\n' \
    "$(values refnet "8->1" rate | paste -sd' ' -)" "$(values refnet "8->8" rate | paste -sd' ' -)" \
    "$(values rabbitmq "8->1" rate | paste -sd' ' -)" \
    "$(values rabbitmq "8->8" rate | paste -sd' ' -)"
echo "refnet counts a message at its sender's receipt (broker commit, delivery, receiver commit,"
echo "ack; the receipt leaves as the ack is applied); RabbitMQ at publisher confirm plus consumer ack."
