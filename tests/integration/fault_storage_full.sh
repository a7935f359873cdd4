#!/usr/bin/env bash
# fault_storage_full: the broker's LMDB map fills up. Senders are answered "storage full" and
# keep what was refused in their outboxes, the broker keeps running and answering, and after a
# restart with a larger map everything is delivered exactly once, in order.
#
# The broker runs with --map-size-mb 1. northside stops reading (SIGSTOP), so what harbor sends
# it (handoffs with 3 KB notes) stays in the broker's mailbox until the map is full. The broker
# is then stopped (TERM: it must still exit cleanly), restarted with --map-size-mb 64, and
# northside thaws. N stays under the node's list limit (1,000), which the count goes through.
# shellcheck source=fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

N=${FAULT_COUNT:-900}
export REFNET_LOADGEN_PAD=3000

log_step "network: broker with --map-size-mb 1 and two agencies"
init_broker
run_broker_with --map-size-mb 1
for a in harbor northside; do
    fault_agency "$a"
done
fault_wait_directory harbor northside

log_step "northside stops reading; harbor sends $N handoffs until the broker's map is full"
kill -STOP "${NODE_PID[northside]}"
load_start harbor northside "$N" sf
wait_for 90 "harbor's log to show a 'storage full' answer" \
    grep -q "storage full\|storage is full" "$T/logs/harbor.log"
load_wait 120
ok_json rn harbor status --json
OUTBOX=$(jqr "$OUT" '.outbox')
echo "  harbor keeps $OUTBOX of $N in its outbox"
((OUTBOX > 0)) || fail "nothing waits in harbor's outbox: the map never filled"
grep -q "storage full\|MDB_MAP_FULL\|map is full" "$T/logs/broker.log" ||
    fail "the broker's log does not say its storage is full"

log_step "the full broker still answers"
ok_json admin nodes --json
QUEUED=$(jqr "$OUT" '[.agencies[] | select(.id == "northside")][0].queued')
echo "  northside's mailbox holds $QUEUED"
((QUEUED > 0 && QUEUED < N)) || fail "northside's mailbox holds $QUEUED, expected 0 < n < $N"
holds_for 2 "harbor keeps the rest" ".outbox > 0" rn harbor status --json

log_step "restart the broker with a larger map; northside reads again"
stop_broker
run_broker_with --map-size-mb 64
kill -CONT "${NODE_PID[northside]}"
wait_loaded 120 harbor northside "$N" sf
wait_json 30 "harbor's outbox to drain" '.outbox == 0' rn harbor status --json
finish
