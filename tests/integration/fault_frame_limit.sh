#!/usr/bin/env bash
# fault_frame_limit: a broker run with a lower --max-frame answers a bigger message "too large";
# the sender's handoff shows the refusal in its history (not only in a log), nothing is left
# resending in its outbox, and messages under the limit keep flowing on the same pair.
#
# The broker runs with --max-frame 2048. harbor sends northside one handoff whose note is 3 KB
# (refused) and then one with a short note (delivered).
# shellcheck source=fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

log_step "network: broker with --max-frame 2048 and two agencies"
init_broker
run_broker_with --max-frame 2048
for a in harbor northside; do
    fault_agency "$a"
done
fault_wait_directory harbor northside

log_step "a handoff over the limit is refused, and the handoff says so"
BIG=$(head -c 3000 /dev/zero | tr '\0' 'x')
start_handoff harbor "${PERSON_OF[harbor]}" northside-svc --note "big $BIG"
BIG_ID=$HANDOFF
wait_json 20 "the refusal to show in the big handoff's history" \
    '[.events[] | select(.by == "network" and (.reason | test("too large|over this broker")))] | length == 1' \
    rn harbor handoff show "$BIG_ID" --json
ok_json rn harbor handoff show "$BIG_ID" --json
assert_jq "$OUT" '.stored_at == null and .delivered_at == null and .status == "requested"'
wait_json 10 "harbor's outbox to settle" '.outbox == 0' rn harbor status --json
grep -q "over this broker's limit of 2048" "$T/logs/broker.log" ||
    fail "the broker's log does not name the frame limit"

log_step "a handoff under the limit on the same pair is delivered"
start_handoff harbor "${PERSON_OF[harbor]}" northside-svc --note "small one"
SMALL_ID=$HANDOFF
wait_json 20 "the small handoff's receipt" '.delivered_at != null' \
    rn harbor handoff show "$SMALL_ID" --json
ok_json rn northside handoff list --inbox --json
assert_jq "$OUT" "[.handoffs[] | select(.id == \"$SMALL_ID\")] | length == 1"
assert_jq "$OUT" "[.handoffs[] | select(.id == \"$BIG_ID\")] | length == 0"
finish
