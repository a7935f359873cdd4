#!/usr/bin/env bash
# offline_catchup: a node that was offline gets, when it comes back, both the directory changes
# and the handoff sent to it meanwhile.
#
# northside publishes a shelter and stops. While it is down, harbor publishes a service and
# changes its availability, and peerlink starts a handoff to northside's shelter: the broker
# stores it (peerlink sees stored_at) but cannot deliver it. northside restarts, catches up to the
# same directory_seq as the others, finds harbor's service with its latest availability, and
# finds the handoff in its inbox; peerlink then gets the delivery receipt.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

log_step "network: broker and three agencies"
start_broker
start_node peerlink "Peer Link Recovery Community"
start_node harbor "Harbor House"
start_node northside "Northside Shelter"
publish northside north-shelter "Northside emergency shelter" shelter --capacity 30 --available 10
wait_service peerlink north-shelter

log_step "northside goes offline"
stop_node northside
wait_json 5 "the broker to see northside offline" \
    '[.agencies[] | select(.id == "northside")][0].online == false' admin nodes --json

log_step "changes while northside is away"
publish harbor harbor-peer "Harbor peer recovery support" peer-support --capacity 8 --available 5
ok rn harbor service availability harbor-peer --available 2 --waitlist 1
wait_service peerlink harbor-peer '.available == 2 and .waitlist == 1'
add_person peerlink "Morgan Blake" "555-0199"
grant peerlink "$PERSON" northside contact,own-words
start_handoff peerlink "$PERSON" north-shelter --own-words "Somewhere warm for a few nights." \
    --mode phone
H=$HANDOFF
wait_json 10 "the broker to store the handoff (stored_at on peerlink)" '.stored_at != null' \
    rn peerlink handoff show "$H" --json
holds_for 1 "no delivery receipt while northside is offline" '.delivered_at == null' \
    rn peerlink handoff show "$H" --json
ok_json admin nodes --json
assert_jq "$OUT" '[.agencies[] | select(.id == "northside")][0] | .online == false and .queued >= 1'
dir_seq peerlink
SEQ_PEERLINK=$SEQ
dir_seq harbor
assert_eq "$SEQ_PEERLINK" "$SEQ" "harbor's and peerlink's directory_seq"

log_step "northside comes back"
run_node northside
wait_connected northside
wait_json 10 "northside's directory_seq to reach $SEQ_PEERLINK" \
    ".directory_seq == $SEQ_PEERLINK" rn northside status --json
ok_json rn northside search peer --json
assert_jq "$OUT" '[.services[] | select(.id == "harbor-peer")][0] | .agency == "harbor" and
    .available == 2 and .capacity == 8 and .waitlist == 1'
ok_json rn northside search --json
assert_jq "$OUT" '[.services[].id] | sort == ["harbor-peer", "north-shelter"]'

wait_json 10 "the handoff in northside's inbox" "[.handoffs[].id] == [\"$H\"]" \
    rn northside handoff list --inbox --json
ok_json rn northside handoff show "$H" --json
assert_jq "$OUT" '.status == "requested" and .from == "peerlink" and .mode == "phone" and
    .person.name == "Morgan Blake" and .person.own_words == "Somewhere warm for a few nights."'
wait_json 10 "the delivery receipt on peerlink" '.delivered_at != null' \
    rn peerlink handoff show "$H" --json

log_step "and the conversation goes on"
ok rn northside handoff accept "$H"
wait_handoff_status peerlink "$H" accepted
wait_json 5 "northside's queue at the broker to drain" \
    '[.agencies[] | select(.id == "northside")][0] | .online == true and .queued == 0' \
    admin nodes --json

finish
