#!/usr/bin/env bash
# fault_offline_burst: an agency that is offline for a whole burst gets all of it when it comes
# back, exactly once and in order, and its senders get every receipt.
#
# northside stops cleanly. harbor and peerlink each send it 450 handoffs while harbor also sends
# peerlink 100, which are delivered and receipted at once: an absent agency holds up nobody.
# The broker queues northside's 900 (admin nodes shows them queued); northside restarts and
# drains its mailbox. FAULT_COUNT (default 1000) is the total number of handoffs.
# shellcheck source=fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

TOTAL=${FAULT_COUNT:-1000}
NP=$((TOTAL / 10))
NO=$(((TOTAL - NP) / 2))

log_step "network: broker and three agencies"
start_broker
for a in harbor peerlink northside; do
    fault_agency "$a"
done
fault_wait_directory harbor peerlink northside

log_step "northside goes offline"
stop_node northside
wait_json 5 "the broker to see northside offline" \
    '[.agencies[] | select(.id == "northside")][0].online == false' admin nodes --json

log_step "the burst: $((2 * NO)) handoffs for northside, $NP between the others"
load_start harbor northside "$NO" h2n
load_start peerlink northside "$NO" p2n
load_start harbor peerlink "$NP" h2p
load_wait 120
wait_loaded 60 harbor peerlink "$NP" h2p
wait_json 60 "the broker to hold northside's $((2 * NO)) handoffs" \
    "[.agencies[] | select(.id == \"northside\")][0] | .online == false and
     .queued == $((2 * NO))" admin nodes --json
for a in harbor peerlink; do
    wait_json 20 "$a's outbox to drain into the broker" '.outbox == 0' rn "$a" status --json
done

log_step "northside comes back and gets everything"
run_node northside
wait_loaded 90 harbor northside "$NO" h2n
wait_loaded 90 peerlink northside "$NO" p2n
wait_json 10 "northside's mailbox at the broker to be empty" \
    '[.agencies[] | select(.id == "northside")][0] | .online == true and .queued == 0' \
    admin nodes --json
finish
