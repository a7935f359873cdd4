#!/usr/bin/env bash
# dir_snapshot: compaction forgets tombstones, and a node behind the horizon gets a snapshot.
#
# The broker runs with --tombstone-retention-s 0, so every tombstone is forgotten within a tick.
# northside holds 300 seeded services and two of harbor's, and goes offline. While it is away
# harbor withdraws one of its services, the 300 are published again and 150 of them withdrawn
# (refnet-dirseed, broker stopped), and compaction forgets all those tombstones. northside's
# sequence number is now below the compaction horizon, so the log can no longer tell it what was
# withdrawn: the broker sends a snapshot, and northside must drop exactly the withdrawn services
# and end equal to the broker (`refnet directory verify`). A new node joins by snapshot too.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
: "${REFNET_TOOLS:?REFNET_TOOLS must name the folder holding refnet-dirseed}"

# The broker as run_broker starts it, with tombstones kept zero seconds.
run_compacting_broker() {
    lib_spawn broker "$T/logs/broker.log" "$REFNET_BIN/refnet-broker" run --data "$BROKER_DIR" \
        --log-level "$LOG_LEVEL" --heartbeat-ms "$HB_MS" --tombstone-retention-s 0
    BROKER_PID=$LIB_LAST_PID
    wait_for 20 "the broker to listen on $BROKER_EP" lib_broker_ready
}

log_step "network, with 300 seeded services"
init_broker
ok "$REFNET_TOOLS/refnet-dirseed" "$BROKER_DIR" harbor,peerlink 300 0 0
run_compacting_broker
start_node harbor "Harbor House"
start_node peerlink "Peer Link Recovery Community"
start_node northside "Northside Shelter"
publish harbor harbor-peer "Harbor peer recovery support" peer-support --capacity 8 --available 5
publish harbor harbor-beds "Harbor overnight beds" shelter --capacity 20 --available 3
wait_service northside harbor-beds
ok_json rn northside status --json
assert_jq "$OUT" '.services == 302'
ok_json rn northside search 000000 --json
assert_jq "$OUT" '[.services[] | select(.id == "seed-000000")] | length == 1'

log_step "northside goes offline; withdrawals it will never be told of"
stop_node northside
ok rn harbor service withdraw harbor-beds
stop_broker
ok "$REFNET_TOOLS/refnet-dirseed" "$BROKER_DIR" harbor,peerlink 300 0 150
run_compacting_broker
wait_for 10 "compaction to forget the tombstones" grep -q "compaction forgot" "$T/logs/broker.log"
wait_connected harbor
# harbor catches up too (maybe by snapshot) before its replica can equal the broker's.
wait_json 30 "harbor's replica to equal the broker's" '.equal == true' \
    rn harbor directory verify --json
ok_json rn harbor directory verify --json
HEAD=$(jqr "$OUT" '.seq')
assert_jq "$OUT" '.equal == true and .services == 151'

log_step "northside returns below the horizon and gets a snapshot"
run_node northside
wait_connected northside
wait_json 30 "northside to reach the head $HEAD" ".directory_seq == $HEAD" rn northside status --json
wait_for 5 "the snapshot in northside's log" grep -q "directory snapshot as of" \
    "$T/logs/northside.log"
grep -q "is sent a directory snapshot" "$T/logs/broker.log" ||
    fail "the broker did not log the snapshot it sent"
ok_json rn northside status --json
assert_jq "$OUT" '.services == 151'
ok_json rn northside directory verify --json
assert_jq "$OUT" ".equal == true and .seq == $HEAD and .services == 151"
ok_json rn northside search 000000 --json
assert_jq "$OUT" '[.services[] | select(.id == "seed-000000")] | length == 0'
ok_json rn northside search 000001 --json
assert_jq "$OUT" '[.services[] | select(.id == "seed-000001")] | length == 1'
ok_json rn northside search shelter --json
assert_jq "$OUT" '[.services[] | select(.id == "harbor-beds")] | length == 0'
ok_json rn northside search peer --json
assert_jq "$OUT" '[.services[] | select(.id == "harbor-peer")] | length == 1'

log_step "a new node joins by snapshot"
start_node mercy "Mercy Clinic"
wait_json 30 "mercy to reach the head $HEAD" ".directory_seq == $HEAD" rn mercy status --json
ok_json rn mercy directory verify --json
assert_jq "$OUT" ".equal == true and .services == 151"

log_step "live changes after the snapshot"
ok rn harbor service availability harbor-peer --available 1
wait_service northside harbor-peer '.available == 1'
ok_json rn northside directory verify --json
assert_jq "$OUT" ".equal == true and .seq == $((HEAD + 1))"

finish
