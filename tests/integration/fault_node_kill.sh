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
# 3 KB notes make each of northside's deliveries slower to apply, so the kill lands mid-stream.
REFNET_LOADGEN_PAD=3000 load_start peerlink northside "$N2" p2n
wait_for 30 "northside to have received a first handoff" \
    lib_holds '.handoffs | length >= 1' rn northside handoff list --inbox --json

log_step "kill -9 northside mid-stream, restart it"
# Frozen first, so that what the broker still holds for it (unacknowledged) is what it dies with.
kill -STOP "${NODE_PID[northside]}"
ok_json admin nodes --json
HELD=$(jqr "$OUT" '[.agencies[] | select(.id == "northside")][0].queued')
ok_json rn peerlink handoff list --outbox --json
SENT=$(jqr "$OUT" '[.handoffs[] | select(.to == "northside")] | length')
echo "  northside died with $HELD unacknowledged; peerlink had started $SENT of $N2"
# Mid-stream: deliveries were in flight, or the rest of the stream was still to come.
kill9_node northside
sleep 0.3
run_node northside
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
((HELD > 0 || SENT < N2)) ||
    fail "northside had acknowledged the whole stream before it died: not a mid-stream kill"
finish
