#!/usr/bin/env bash
# fault_dead_letters: messages whose time to live runs out before delivery become dead letters:
# `refnet admin dead-letters` lists them (addressing only), the sender is told and its handoff
# shows the expiry, and the recipient never gets them.
#
# The broker runs with --max-ttl-s 2, a cap on every message's time to live. northside is
# offline; peerlink starts 3 handoffs to it. Two seconds later the broker expires them.
# shellcheck source=fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

N=3

log_step "network: broker with --max-ttl-s 2, two agencies; northside offline"
init_broker
run_broker_with --max-ttl-s 2
for a in peerlink northside; do
    fault_agency "$a"
done
fault_wait_directory peerlink northside
stop_node northside
ok_json admin dead-letters --json
assert_jq "$OUT" '.dead_letters == []'

log_step "$N handoffs that cannot be delivered in time"
load_start peerlink northside "$N" p2n
load_wait 30
ok_json rn peerlink handoff list --outbox --json
IDS=$(jqr "$OUT" '[.handoffs[].id] | sort | join(",")')
wait_json 15 "the broker to list $N dead letters" ".dead_letters | length == $N" \
    admin dead-letters --json
assert_jq "$LIB_LAST_JSON" '[.dead_letters[] | .from == "peerlink" and .to == "northside" and
    (.id | test("^[0-9a-f]{32}$")) and .stored_at != null and .expired_at >= .stored_at] | all'
assert_eq "$IDS" "$(jqr "$LIB_LAST_JSON" '[.dead_letters[].handoff_id] | sort | join(",")')" \
    "handoff ids of the dead letters"
assert_not_contains "$LIB_LAST_JSON" "Person of" "dead letters carry no person data"
ok admin dead-letters
[[ $OUT == *northside* ]] || fail "admin dead-letters (table) does not list the dead letters"

log_step "the sender is told"
for h in ${IDS//,/ }; do
    wait_json 10 "peerlink's handoff $h to show the expiry" \
        '[.events[] | select(.by == "network")] | length == 1' rn peerlink handoff show "$h" --json
done

log_step "northside comes back and gets none of them"
run_node northside
wait_connected northside
holds_for 2 "northside's inbox stays empty" '.handoffs == []' rn northside handoff list --inbox --json
ok_json admin nodes --json
assert_jq "$OUT" '[.agencies[] | select(.id == "northside")][0].queued == 0'
finish
