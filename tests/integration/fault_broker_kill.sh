#!/usr/bin/env bash
# fault_broker_kill: the broker is killed (-9) while three agencies exchange 1,000 handoffs, and
# restarted; every handoff is then applied exactly once by its receiver, in the order it was
# sent, and every sender gets its delivery receipt.
#
# Three pairs send at once (harbor -> peerlink -> northside -> harbor). When a good part of the
# traffic has been stored, the broker dies without a chance to commit or close anything. The
# senders keep writing their outboxes meanwhile. After the restart the outboxes resend what got
# no STORED answer (the broker answers STORED again for what it had already committed), and the
# broker redelivers what got no ack. Counted on the receiving side: refnet-loadgen check.
# FAULT_COUNT (default 1000) is the total number of handoffs.
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
load_start northside harbor "$N2" n2h
# Kill once some traffic is through but not all: the broker has queued and delivered part.
wait_json 30 "the broker to have stored part of the traffic" \
    '[.agencies[].queued] | add >= 0' admin nodes --json
wait_for 30 "northside to have received at least 50 handoffs" \
    lib_holds '.handoffs | length >= 50' rn northside handoff list --inbox --json

log_step "kill -9 the broker mid-stream, restart it"
kill9_broker
ok_json rn northside handoff list --inbox --json
GOT=$(jqr "$OUT" '.handoffs | length')
echo "  northside had $GOT of $N2 when the broker died"
((GOT < N2)) || fail "the traffic was complete before the broker died: not a mid-stream kill"
sleep 0.5
run_broker
load_wait 120

log_step "every handoff applied exactly once, in order, and receipted"
wait_loaded 90 harbor peerlink "$N1" h2p
wait_loaded 90 peerlink northside "$N2" p2n
wait_loaded 90 northside harbor "$N2" n2h
for a in harbor peerlink northside; do
    wait_json 20 "$a's outbox to drain" '.outbox == 0' rn "$a" status --json
done
finish
