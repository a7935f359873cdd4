#!/usr/bin/env bash
# hostile: hostile input from an enrolled agency breaks nothing.
#
# harbor and peerlink exchange a stream of handoffs in both directions while mallory, an
# enrolled agency whose key is driven by refnet-hostile (hostile.c) instead of a node, sends the
# broker garbage, truncated protobufs, wrong versions, multi-frame messages, a burst of valid
# Pings, a frame over WIRE_MAX_FRAME (libzmq drops that connection) and finally a flood of bad
# frames. refnet-hostile checks the broker's answers to each (see its header). This script then
# checks the rest:
#   - the broker kept serving: the attack starts once honest handoffs are flowing, more arrive
#     while it goes on, and in the end every honest handoff is applied exactly once, in order,
#     and receipted, and both honest nodes are connected;
#   - mallory is counted: `refnet admin nodes` shows exactly the bad frames the broker answered
#     (SHUN_BAD_FRAMES + 1: the valid Pings and the oversized frame are not among them), and it
#     is offline since its Bye;
#   - the broker's log names the shun once and does not echo every bad frame;
#   - every daemon exits cleanly, with no sanitizer report.
# HOSTILE_COUNT (default 600) handoffs each way. Bounded: about 30 s (a minute under ASan).
# shellcheck source=fault_lib.sh
source "$(dirname "$0")/fault_lib.sh"

HOSTILE=$REFNET_TOOLS/refnet-hostile
[[ -x $HOSTILE ]] || fail "$HOSTILE is missing: build the project first"
COUNT=${HOSTILE_COUNT:-600}
# broker/broker_limits.h: SHUN_BAD_FRAMES and BROKER_BAD_LOG_FIRST.
LIMITS=$(dirname "$0")/../../broker/broker_limits.h
SHUN_BAD_FRAMES=$(sed -n 's/^#define SHUN_BAD_FRAMES \([0-9]*\).*/\1/p' "$LIMITS")
BAD_LOG_FIRST=$(sed -n 's/^#define BROKER_BAD_LOG_FIRST \([0-9]*\).*/\1/p' "$LIMITS")
[[ $SHUN_BAD_FRAMES =~ ^[0-9]+$ && $BAD_LOG_FIRST =~ ^[0-9]+$ ]] ||
    fail "cannot read the limits from $LIMITS"

log_step "network: broker, two honest agencies, and mallory's enrolled key"
start_broker
fault_agency harbor
fault_agency peerlink
fault_wait_directory harbor peerlink
init_node mallory "Mallory"
enroll_node mallory "Mallory"

log_step "$COUNT handoffs each way while mallory attacks"
load_start harbor peerlink "$COUNT" h2p
load_start peerlink harbor "$COUNT" p2h
wait_for 30 "peerlink to have received at least 20 handoffs" \
    lib_holds '.handoffs | length >= 20' rn peerlink handoff list --inbox --json
BEFORE=$(jqr "$LIB_LAST_JSON" '.handoffs | length')
run "$HOSTILE" "$BROKER_EP" "$BROKER_KEY" "$T/mallory"
printf '%s\n' "$OUT" | sed 's/^/  /'
if ((RC != 0)); then
    lib_show_run "$HOSTILE" "$BROKER_EP" "$BROKER_KEY" "$T/mallory"
    fail "refnet-hostile found the broker misbehaving (exit $RC)"
fi
BAD=$(sed -n 's/^hostile: bad frames counted \([0-9]*\)$/\1/p' <<<"$OUT")
assert_eq "$((SHUN_BAD_FRAMES + 1))" "$BAD" "bad frames answered before the Bye"
ok_json rn peerlink handoff list --inbox --json
AFTER=$(jqr "$OUT" '.handoffs | length')
echo "  peerlink had $BEFORE of $COUNT handoffs when the attack began, $AFTER when it ended"
((AFTER > BEFORE)) || fail "no honest handoff was delivered while the attack went on"
lib_check_alive

log_step "the broker counted mallory and stopped serving it; the others are served"
ok_json admin nodes --json
echo "  $(jq -c '[.agencies[] | {id, online, bad_frames}]' <<<"$OUT")"
assert_jq "$OUT" '.agencies[] | select(.id == "mallory") | .bad_frames == $n and .online == false' \
    --argjson n "$BAD"
assert_jq "$OUT" '[.agencies[] | select(.id != "mallory") | .bad_frames == 0] | all'
# Online and connected again within a few heartbeats, also when a loaded machine (a sanitizer
# build) made a node miss some.
wait_json 20 "harbor and peerlink online at the broker" \
    '[.agencies[] | select(.id != "mallory") | .online] | all' admin nodes --json
for a in harbor peerlink; do
    wait_connected "$a" 20
done

log_step "every honest handoff applied exactly once, in order, and receipted"
load_wait 120
wait_loaded 90 harbor peerlink "$COUNT" h2p
wait_loaded 90 peerlink harbor "$COUNT" p2h
for a in harbor peerlink; do
    wait_json 20 "$a's outbox to drain" '.outbox == 0' rn "$a" status --json
done

log_step "the broker's log: one shun, bad frames logged within the limit"
LOG=$T/logs/broker.log
SHUNS=$(grep -c 'agency mallory sent too many bad frames' "$LOG" || true)
assert_eq 1 "$SHUNS" "shun lines in the broker's log"
LOGGED=$(grep -c 'bad frame from mallory' "$LOG" || true)
echo "  $LOGGED of $BAD bad frames logged one by one"
((LOGGED <= BAD_LOG_FIRST)) || fail "$LOGGED bad-frame lines logged; at most $BAD_LOG_FIRST expected"
((LOGGED > 0)) || fail "no bad frame was logged"
finish
