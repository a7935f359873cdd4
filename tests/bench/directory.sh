#!/usr/bin/env bash
# tests/bench/directory.sh: the directory benchmark, in one run on this machine.
#
#   tests/bench/directory.sh [--build DIR] [--services N] [--runs R] [--queries Q]
#                            [--no-dirsync] [--keep]
#
# Configures a Release build with -DREFNET_BENCH=ON in DIR (default build-bench in the
# checkout) and builds the daemons and bench_dir. Then, in one temporary folder:
#   import   a real node folder (refnet-node init) gets N synthetic services (default
#            1,000,000) through replica_apply, 10,000 per synced write transaction: the import
#            rate, and the LMDB size (data.mdb) afterwards;
#   search   R rounds (default 3) of the query mix, Q queries per kind (default 500), in
#            process against the indexed search (after a first pass of Q others, reported
#            as "cold p99": the first read of each LMDB page in a new process is a page
#            fault), and 5 per kind against the full scan over the same LMDB data
#            (replica_scan_search), which must find the same totals:
#              taxonomy+radius+available  a second-level code within 10 km, places free
#              text+language              one care word, Spanish
#              open-now+age+radius        open at a weekday daytime minute, age 16, within 5 km
#              open-now+age(all)          the same over the whole directory (docno sets)
#   node     a real refnet-node runs on the folder (no broker needed: search is local); the
#            same mix goes through its local API (librefnet; a first pass untimed), and its
#            VmRSS is read before and after (with its anonymous part: the rest is LMDB's
#            file pages, shared with the page cache);
#   replication  tests/bench/dirsync.sh, when it exists, is run with the same --build
#            (--no-dirsync skips it).
# It prints every round and a table of medians. Everything binds ipc inside the temporary
# folder (removed at the end unless --keep); the node is stopped by its pid; waits are bounded.
# A 1,000,000-service run needs about 3.5 GB of disk and some minutes; try --services 100000.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$ROOT/build-bench
SERVICES=1000000
RUNS=3
QUERIES=500
KEEP=0
DIRSYNC=1

usage() {
    sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'
}

while (($#)); do
    case $1 in
    --build)
        BUILD=${2:?--build needs a folder}
        shift
        ;;
    --services)
        SERVICES=${2:?--services needs a number}
        shift
        ;;
    --runs)
        RUNS=${2:?--runs needs a number}
        shift
        ;;
    --queries)
        QUERIES=${2:?--queries needs a number}
        shift
        ;;
    --keep) KEEP=1 ;;
    --no-dirsync) DIRSYNC=0 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "directory.sh: unknown argument '$1'" >&2
        usage >&2
        exit 2
        ;;
    esac
    shift
done
[[ $SERVICES =~ ^[1-9][0-9]{2,7}$ ]] || {
    echo "directory.sh: --services must be 100 to 99999999" >&2
    exit 2
}
[[ $RUNS =~ ^[1-9]$ ]] || {
    echo "directory.sh: --runs must be 1 to 9" >&2
    exit 2
}
[[ $QUERIES =~ ^[1-9][0-9]{1,4}$ ]] || {
    echo "directory.sh: --queries must be 10 to 99999" >&2
    exit 2
}
[[ $BUILD == /* ]] || BUILD=$PWD/$BUILD
# The map: about 3 KiB per service covers records, index and LMDB's copy-on-write slack.
MAP_MB=$((SERVICES * 3 / 1024 + 512))

say() {
    printf '\n==> %s\n' "$*"
}

say "Configuring $BUILD (Release, REFNET_BENCH=ON)"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DREFNET_BENCH=ON >/dev/null
say "Building refnet-broker, refnet-node and bench_dir"
cmake --build "$BUILD" -j2 --target refnet-broker refnet-node bench_dir \
    >"$BUILD/bench-dir-build.log" 2>&1 || {
    tail -n 40 "$BUILD/bench-dir-build.log" >&2
    echo "directory.sh: the build failed (log: $BUILD/bench-dir-build.log)" >&2
    exit 1
}
BIN=$BUILD/bin
BENCH=$BUILD/bench/bench_dir

T=$(mktemp -d "${TMPDIR:-/tmp}/refnet-bench-dir.XXXXXX")
NODE_PID=
BENCH_NAME=directory.sh
BENCH_LOGS=$T
# shellcheck source=lib.sh
source "$ROOT/tests/bench/lib.sh"

stop_node() {
    [[ -n $NODE_PID ]] || return 0
    stop_pid "$NODE_PID"
    NODE_PID=
}

BENCH_TMP=$T
BENCH_KEEP=$KEEP
BENCH_FAIL_LOGS="$T/*.log"
bench_traps

# ---------------------------------------------------------------------------------------------
# A node folder (its broker is never started: search answers from the local replica)

"$BIN/refnet-broker" init --data "$T/broker" --bind "tcp://127.0.0.1:9" >"$T/broker-init.out"
KEY=$(tail -n 1 "$T/broker-init.out")
"$BIN/refnet-node" init --data "$T/node" --agency bench --name "Bench agency" \
    --broker "tcp://127.0.0.1:9" --broker-key "$KEY" --map-size-mb "$MAP_MB" >/dev/null

say "Import: $SERVICES services through replica_apply"
"$BENCH" gen --db "$T/node/db" --services "$SERVICES" --map-mb "$MAP_MB" --batch 10000 \
    | tee "$T/import.out"
IMPORT_RATE=$(awk '$1 == "import_rate" { print $2 }' "$T/import.out")
IMPORT_S=$(awk '$1 == "import_seconds" { print $2 }' "$T/import.out")
LMDB_MB=$(($(stat -c %s "$T/node/db/data.mdb") / 1048576))
echo "lmdb_data_mb $LMDB_MB"

# ---------------------------------------------------------------------------------------------
# Search rounds

rss_kb() { # rss_kb PID [FIELD]: VmRSS (or another field, e.g. RssAnon) in KiB
    awk -v f="${2:-VmRSS}:" '$1 == f { print $2 }' "/proc/$1/status"
}

start_node() {
    spawn node "$BIN/refnet-node" run --data "$T/node" --map-size-mb "$MAP_MB" --log-level warn
    NODE_PID=$SPAWNED
    for _ in $(seq 1 300); do
        [[ -S $T/node/api.sock ]] && return 0
        alive "$NODE_PID" || break
        sleep 0.1
    done
    tail -n 20 "$T/node.log" >&2
    echo "directory.sh: the node did not open its API socket" >&2
    exit 1
}

for run in $(seq 1 "$RUNS"); do
    say "Round $run of $RUNS: the query mix in process (indexed, and the full scan)"
    "$BENCH" query --db "$T/node/db" --queries "$QUERIES" --scans 5 | tee "$T/query.$run"
    say "Round $run of $RUNS: the query mix through a running refnet-node"
    start_node
    RSS0=$(rss_kb "$NODE_PID")
    "$BENCH" api --node "$T/node" --queries "$QUERIES" | tee "$T/api.$run"
    RSS1=$(rss_kb "$NODE_PID")
    ANON1=$(rss_kb "$NODE_PID" RssAnon)
    echo "node_rss_mb start $((RSS0 / 1024)) after_queries $((RSS1 / 1024)) anon $((ANON1 / 1024))" |
        tee "$T/rss.$run"
    stop_node
done

# ---------------------------------------------------------------------------------------------
# Replication (a separate script, when present)

if ((!DIRSYNC)); then
    say "Replication: skipped (--no-dirsync)"
elif [[ -x $ROOT/tests/bench/dirsync.sh ]]; then
    say "Replication: tests/bench/dirsync.sh"
    "$ROOT/tests/bench/dirsync.sh" --build "$BUILD" || echo "dirsync.sh failed (exit $?)"
else
    say "Replication: tests/bench/dirsync.sh is not present; no replication figures"
fi

# ---------------------------------------------------------------------------------------------
# Table of medians over the rounds

median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'
}

field() { # field FILE_GLOB KIND NAME: the value after NAME on the lines of query kind KIND
    cat $1 | awk -v k="$2" -v f="$3" '$2 == k { for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }'
}

say "Directory benchmark: $SERVICES services, medians of $RUNS rounds"
printf 'import: %s services/s (%s s), LMDB data.mdb %s MiB\n' "$IMPORT_RATE" "$IMPORT_S" "$LMDB_MB"
printf 'node RSS (MiB): at start %s, after the API queries %s (anonymous %s; the rest is LMDB pages)\n' \
    "$(cat "$T"/rss.* | awk '{ print $3 }' | median)" "$(cat "$T"/rss.* | awk '{ print $5 }' | median)" \
    "$(cat "$T"/rss.* | awk '{ print $7 }' | median)"
printf '%-28s %10s %10s %10s %12s %9s %10s %10s %9s\n' query "p50 ms" "p99 ms" "cold p99" \
    "scan p50 ms" speedup "api p50" "api p99" matches
NAMES=("taxonomy+radius+available" "text+language" "open-now+age+radius" "open-now+age(all)")
for k in 0 1 2 3; do
    printf '%-28s %10s %10s %10s %12s %8sx %10s %10s %9s\n' "${NAMES[$k]}" \
        "$(field "$T/query.*" "$k" idx_p50_ms | median)" \
        "$(field "$T/query.*" "$k" idx_p99_ms | median)" \
        "$(field "$T/query.*" "$k" cold_p99_ms | median)" \
        "$(field "$T/query.*" "$k" scan_p50_ms | median)" \
        "$(field "$T/query.*" "$k" speedup | median)" \
        "$(field "$T/api.*" "$k" p50_ms | median)" \
        "$(field "$T/api.*" "$k" p99_ms | median)" \
        "$(field "$T/query.*" "$k" avg_matches | median)"
done
MISMATCH=$(cat "$T"/query.* | awk '{ for (i = 1; i < NF; i++) if ($i == "mismatches") s += $(i + 1) } END { print s + 0 }')
echo "index and full scan disagreed on $MISMATCH of the compared queries"
((MISMATCH == 0))
