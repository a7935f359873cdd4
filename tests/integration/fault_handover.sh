#!/usr/bin/env bash
# fault_handover: a node that comes back with the same key while its old connection is still
# open takes the session over; deliveries go to the new connection and nothing is lost or
# applied twice.
#
# northside is frozen (SIGSTOP) mid-stream: its TCP connection stays open, with deliveries in
# flight that it will never acknowledge. A copy of its data folder (same key, same LMDB state)
# is started as a second northside process: it connects with the same CURVE key and says Hello,
# and the broker moves the agency's session to the new connection's routing id (the newest
# frame from a key wins; ROUTER_HANDOVER covers a reused routing id), resending what the frozen
# one never acknowledged. The frozen process is then killed. Every handoff is applied exactly
# once, in order.
# shellcheck source=fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

N=300

log_step "network: broker and two agencies"
start_broker
for a in harbor northside; do
    fault_agency "$a"
done
fault_wait_directory harbor northside

log_step "harbor sends $N handoffs; northside freezes mid-stream"
load_start harbor northside "$N" h2n
wait_for 30 "northside to have received at least 30 handoffs" \
    lib_holds '.handoffs | length >= 30' rn northside handoff list --inbox --json
OLD_PID=${NODE_PID[northside]}
kill -STOP "$OLD_PID"

log_step "a second northside with the same key takes over"
# LMDB's data file is consistent at any instant between commits; the lock file and the API
# socket belong to the frozen process and are not copied.
mkdir -m 0700 "$T/northside2" "$T/northside2/db"
for f in "$T/northside"/*; do
    [[ -f $f && ! -S $f ]] && cp -p "$f" "$T/northside2/"
done
cp -p "$T/northside/db/data.mdb" "$T/northside2/db/"
AGENCY_OF[northside2]=northside
run_node northside2
wait_connected northside2
ok_json admin nodes --json
assert_jq "$OUT" '[.agencies[] | select(.id == "northside")][0].online == true'
kill9_pid "$OLD_PID"
load_wait 60
SESSIONS=$(grep -c "session: northside connected" "$T/logs/broker.log" || true)
((SESSIONS >= 2)) || fail "the broker did not log a second northside session ($SESSIONS)"

log_step "every handoff reached the new process exactly once, in order"
wait_loaded 60 harbor northside2 "$N" h2n
wait_json 20 "harbor's outbox to drain" '.outbox == 0' rn harbor status --json
wait_json 10 "northside's mailbox to be empty" \
    '[.agencies[] | select(.id == "northside")][0] | .online == true and .queued == 0' \
    admin nodes --json
finish
