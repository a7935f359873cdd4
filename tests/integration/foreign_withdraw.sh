#!/usr/bin/env bash
# foreign_withdraw: an agency cannot withdraw, change or re-publish another agency's service.
#
# harbor publishes; peerlink tries `service withdraw`, `service availability` and
# `service publish` of harbor's id, each refused with exit 3. northside (a third node) must still
# see harbor's service exactly as published, with no directory change sequenced meanwhile; a
# change harbor then makes itself does reach northside, so the check could have seen one.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

log_step "network: broker and three agencies"
start_broker
start_node harbor "Harbor House"
start_node peerlink "Peer Link Recovery Community"
start_node northside "Northside Shelter"

log_step "harbor publishes"
publish harbor harbor-detox "Harbor detox beds" detox --description "Medically supported" \
    --lat 40.7128 --lon -74.0060 --capacity 12 --available 3
ORIGINAL='.name == "Harbor detox beds" and .agency == "harbor" and .available == 3 and
    .capacity == 12 and .accepting == true and .description == "Medically supported"'
wait_service peerlink harbor-detox "$ORIGINAL"
wait_service northside harbor-detox "$ORIGINAL"
dir_seq northside
SEQ_BEFORE=$SEQ

log_step "peerlink's attempts are refused"
expect_rc 3 rn peerlink service withdraw harbor-detox
expect_rc 3 rn peerlink service availability harbor-detox --available 0 --accepting no
expect_rc 3 rn peerlink service publish --id harbor-detox --name "Hijacked detox" \
    --taxonomy detox --capacity 1 --available 0
# Each refused change is a final answer: nothing stays queued on peerlink.
wait_json 5 "peerlink's outbox to be empty" '.outbox == 0' rn peerlink status --json

log_step "the service is unchanged everywhere"
holds_for 1 "northside's directory_seq stays $SEQ_BEFORE" ".directory_seq == $SEQ_BEFORE" \
    rn northside status --json
for node in northside peerlink harbor; do
    ok_json rn "$node" search --json
    assert_jq "$OUT" "[.services[] | select(.id == \"harbor-detox\")] | length == 1"
    assert_jq "$OUT" ".services[] | select(.id == \"harbor-detox\") | $ORIGINAL"
done
ok_json rn northside search Hijacked --json
assert_jq "$OUT" '.services == []'

log_step "harbor's own change still goes through"
ok rn harbor service availability harbor-detox --available 2
wait_service northside harbor-detox '.available == 2 and .capacity == 12'
dir_seq northside
assert_eq $((SEQ_BEFORE + 1)) "$SEQ" "northside's directory_seq after harbor's own change"
ok rn harbor service withdraw harbor-detox
wait_json 10 "the withdrawal on northside" '[.services[].id] | index("harbor-detox") == null' \
    rn northside search --json

finish
