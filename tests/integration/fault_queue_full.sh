#!/usr/bin/env bash
# fault_queue_full: a recipient that stops reading fills its mailbox up to the broker's limit;
# senders are answered "queue full" and keep the rest in their outboxes, traffic between the
# other agencies keeps flowing, and once the recipient reads again everything arrives, exactly
# once and in order.
#
# The broker runs with --max-queue 20. northside is frozen (SIGSTOP: its connection stays open
# but nothing is read or acknowledged). harbor sends it 100 handoffs: 20 are stored, the other
# 80 (more than harbor's send window of 64) wait in harbor's outbox (status .outbox), retried
# after each "queue full" answer. Meanwhile harbor and peerlink exchange 50 handoffs each way,
# all delivered and receipted: what waits for northside takes no room from them. northside
# thaws (SIGCONT) and gets all 100.
# shellcheck source=fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

LIMIT=20
NN=100
NP=50

log_step "network: broker with --max-queue $LIMIT and three agencies"
init_broker
run_broker_with --max-queue "$LIMIT"
for a in harbor peerlink northside; do
    fault_agency "$a"
done
fault_wait_directory harbor peerlink northside

log_step "northside stops reading"
kill -STOP "${NODE_PID[northside]}"
load_start harbor northside "$NN" h2n
load_wait 60
wait_json 20 "northside's mailbox to reach the limit" \
    "[.agencies[] | select(.id == \"northside\")][0].queued == $LIMIT" admin nodes --json
wait_json 20 "harbor to keep the other $((NN - LIMIT)) in its outbox" \
    ".outbox == $((NN - LIMIT))" rn harbor status --json
grep -q "queue" "$T/logs/harbor.log" || fail "harbor's log does not show a 'queue full' answer"

log_step "the other agencies keep talking"
load_start harbor peerlink "$NP" h2p
load_start peerlink harbor "$NP" p2h
load_wait 60
wait_loaded 30 harbor peerlink "$NP" h2p
wait_loaded 30 peerlink harbor "$NP" p2h
ok_json admin nodes --json
assert_jq "$OUT" "[.agencies[] | select(.id == \"northside\")][0].queued == $LIMIT"
ok_json rn harbor status --json
assert_jq "$OUT" ".outbox == $((NN - LIMIT))"

log_step "northside reads again and gets everything"
kill -CONT "${NODE_PID[northside]}"
wait_loaded 60 harbor northside "$NN" h2n
wait_json 20 "harbor's outbox to drain" '.outbox == 0' rn harbor status --json
wait_json 10 "northside's mailbox to be empty" \
    '[.agencies[] | select(.id == "northside")][0].queued == 0' admin nodes --json
finish
