#!/usr/bin/env bash
# fault_node_kill: a receiving node is killed (-9) mid-stream and restarted; every handoff is
# then applied exactly once, in the order sent, and every sender gets its receipt.
#
# Three pairs send at once (harbor -> peerlink -> northside -> harbor). northside dies while it
# receives: deliveries it had committed but not yet acknowledged are sent again after its
# restart and must be recognised as duplicates (its "seen" ids), and what it had not committed
# must arrive again. It is also a sender: its outbox resumes where it stopped. Its own load
# process dies with it (its local API is gone) and the rest of its run is started again after the
# restart under a second tag. FAULT_COUNT (default 1000) is the total number of handoffs.
# shellcheck source=fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

TOTAL=${FAULT_COUNT:-1000}
N1=$((TOTAL - 2 * (TOTAL / 3)))
N2=$((TOTAL / 3))

log_step "network: broker and three agencies"
start_broker
for a in harbor peerlink northside; do
    fault_agency "$a"
done
fault_wait_directory harbor peerlink northside

log_step "$TOTAL handoffs in three streams"
load_start harbor peerlink "$N1" h2p
load_start peerlink northside "$N2" p2n
wait_for 30 "northside to have received at least 50 handoffs" \
    lib_holds '.handoffs | length >= 50' rn northside handoff list --inbox --json

log_step "kill -9 northside mid-stream, restart it"
kill9_node northside
sleep 0.3
run_node northside
ok_json rn northside handoff list --inbox --json
GOT=$(jqr "$OUT" '[.handoffs[] | select(.from == "peerlink")] | length')
echo "  northside had $GOT of $N2 right after its restart"
wait_connected northside
load_start northside harbor "$N2" n2h
load_wait 120

log_step "every handoff applied exactly once, in order, and receipted"
wait_loaded 90 harbor peerlink "$N1" h2p
wait_loaded 90 peerlink northside "$N2" p2n
wait_loaded 90 northside harbor "$N2" n2h
for a in harbor peerlink northside; do
    wait_json 20 "$a's outbox to drain" '.outbox == 0' rn "$a" status --json
done
((GOT < N2)) || fail "northside had everything before it died: not a mid-stream kill"
finish
