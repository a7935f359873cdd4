#!/usr/bin/env bash
# dir_catchup: a node that was offline through 10,000 directory changes catches up exactly.
#
# northside holds harbor's service and goes offline. While it is away, harbor and peerlink make
# a few changes through the CLI, then the broker is stopped and refnet-dirseed makes 10,000
# changes by three agencies in its LMDB through the broker's own directory module (4,000
# publishes, 4,000 availability changes, 2,000 withdrawals), and after the restart peerlink
# withdraws its service. northside comes back, asks for everything after its sequence number,
# and must end at the broker's head with a replica whose digest equals the broker's
# (`refnet directory verify`), with the expected count and spot-checked content.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
: "${REFNET_TOOLS:?REFNET_TOOLS must name the folder holding refnet-dirseed}"

log_step "network: broker and three agencies"
start_broker
start_node harbor "Harbor House"
start_node peerlink "Peer Link Recovery Community"
start_node northside "Northside Shelter"
publish harbor harbor-peer "Harbor peer recovery support" peer-support --capacity 8 --available 5
wait_service northside harbor-peer

log_step "northside goes offline"
stop_node northside
publish peerlink peer-detox "Peer detox line" detox --capacity 4 --available 1
ok rn harbor service availability harbor-peer --available 2 --waitlist 1
wait_service peerlink harbor-peer '.available == 2'
dir_seq harbor
BEFORE=$SEQ

log_step "10,000 directory changes while northside is away"
stop_broker
ok "$REFNET_TOOLS/refnet-dirseed" "$BROKER_DIR" harbor,peerlink,mercy 4000 4000 2000
read -r SEEDED_HEAD SEEDED_LIVE <<<"$OUT"
assert_eq $((BEFORE + 10000)) "$SEEDED_HEAD" "the broker's head after seeding"
assert_eq 2002 "$SEEDED_LIVE" "live services after seeding (2,000 seeded + 2 published)"
run_broker
wait_connected harbor
wait_connected peerlink
ok rn peerlink service withdraw peer-detox
HEAD=$((SEEDED_HEAD + 1))
wait_json 30 "harbor to reach the head $HEAD" ".directory_seq == $HEAD" rn harbor status --json

log_step "northside comes back and catches up"
START=$(lib_now_ms)
run_node northside
wait_connected northside
wait_json 60 "northside to reach the head $HEAD" ".directory_seq == $HEAD" rn northside status --json
echo "northside caught up with 10,001 changes in $(($(lib_now_ms) - START)) ms"
ok_json rn northside status --json
assert_jq "$OUT" '.services == 2001'

log_step "the replicas equal the broker's directory"
for agency in northside harbor peerlink; do
    wait_json 30 "$agency's replica to equal the broker's" ".equal == true and .seq == $HEAD" \
        rn "$agency" directory verify --json
    ok_json rn "$agency" directory verify --json
    assert_jq "$OUT" ".equal == true and .seq == $HEAD and .services == 2001"
done
DIGEST=$(jqr "$OUT" '.digest')
ok_json rn northside directory verify --json
assert_eq "$DIGEST" "$(jqr "$OUT" '.digest')" "northside's digest and peerlink's"

log_step "spot checks"
ok_json rn northside search 003999 --json
assert_jq "$OUT" '[.services[] | select(.id == "seed-003999")][0] |
    .agency == "harbor" and .available == 4 and .capacity == 20 and .waitlist == 4'
ok_json rn northside search 003998 --json
assert_jq "$OUT" '[.services[] | select(.id == "seed-003998")] | length == 0'
ok_json rn northside search detox --json
assert_jq "$OUT" '[.services[] | select(.id == "peer-detox")] | length == 0'
ok_json rn northside search peer --json
assert_jq "$OUT" '[.services[] | select(.id == "harbor-peer")][0] | .available == 2 and
    .waitlist == 1'
grep -q "directory snapshot" "$T/logs/northside.log" &&
    fail "northside was sent a snapshot; a node behind no horizon catches up from the log"

log_step "a live change still reaches everyone"
ok rn harbor service availability harbor-peer --available 7
wait_service northside harbor-peer '.available == 7'
ok_json rn northside directory verify --json
assert_jq "$OUT" ".equal == true and .seq == $((HEAD + 1))"
ok rn northside directory verify
grep -q "equal.*true" <<<"$OUT" || fail "directory verify printed no 'equal: true': $OUT"

log_step "verify needs the broker"
stop_broker
wait_json 10 "northside to see the broker gone" '.connected == false' rn northside status --json
expect_rc 1 rn northside directory verify

finish
