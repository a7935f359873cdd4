#!/usr/bin/env bash
# fault_big_queue: the broker restarts with 100,000 messages queued for one agency, serves again
# within 2 seconds, and delivers them all, each applied once by the recipient.
#
# northside is offline. harbor sends it 100 real (sealed) handoffs, which the broker stores. The
# broker stops, and refnet-queueseed (queueseed.c) clones those messages in its LMDB, each with a
# new msg_id and handoff id, up to FAULT_BIG_COUNT (default 100000) in northside's mailbox.
# The broker starts again: it must accept connections and answer `admin nodes` (showing the
# whole queue) within FAULT_BIG_READY_MS (default 2000). northside comes back; the mailbox must
# drain, and northside's "handoffs" database must hold exactly FAULT_BIG_COUNT handoffs: counted
# in the recipient's LMDB with mdb_stat, because the local API lists at most 1000.
# shellcheck source=fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

COUNT=${FAULT_BIG_COUNT:-100000}
READY_MS=${FAULT_BIG_READY_MS:-2000}
DRAIN_S=${FAULT_BIG_DRAIN_S:-150}
REAL=100
SEEDER=$REFNET_TOOLS/refnet-queueseed
command -v mdb_stat >/dev/null || fail "needs mdb_stat (Debian package lmdb-utils)"

# handoffs_in ID: prints the number of records in the node's "handoffs" database.
handoffs_in() {
    mdb_stat -s handoffs "$T/$1/db" | awk '/Entries:/ { print $2 }'
}

log_step "network: broker and two agencies; northside offline"
start_broker
for a in harbor northside; do
    fault_agency "$a"
done
fault_wait_directory harbor northside
stop_node northside

log_step "$REAL real handoffs for northside, then $((COUNT - REAL)) clones written while the broker is stopped"
load_start harbor northside "$REAL" h2n
load_wait 60
wait_json 30 "harbor's outbox to drain into the broker" '.outbox == 0' rn harbor status --json
stop_broker
ok "$SEEDER" "$BROKER_DIR" northside "$((COUNT - REAL))"

log_step "the broker restarts with $COUNT queued"
START_MS=$(lib_now_ms)
run_broker
wait_json 10 "admin nodes to show the $COUNT queued" \
    "[.agencies[] | select(.id == \"northside\")][0].queued == $COUNT" admin nodes --json
READY=$(($(lib_now_ms) - START_MS))
echo "  serving again after ${READY} ms"
((READY <= READY_MS)) || fail "the broker took ${READY} ms to serve again (limit ${READY_MS} ms)"

log_step "northside comes back and gets all $COUNT"
START_MS=$(lib_now_ms)
run_node northside
wait_json "$DRAIN_S" "northside's mailbox to drain" \
    '[.agencies[] | select(.id == "northside")][0].queued == 0' admin nodes --json
echo "  drained in $(($(lib_now_ms) - START_MS)) ms"
GOT=$(handoffs_in northside)
assert_eq "$COUNT" "$GOT" "handoffs applied by northside"
finish
