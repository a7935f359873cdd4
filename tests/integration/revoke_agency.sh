#!/usr/bin/env bash
# revoke_agency: the network's administrator revokes an agency while it is connected.
#
# Three agencies: peerlink (sends handoffs), harbor (revoked mid-test) and northside. After
# `refnet-broker revoke-agency`, on the running broker: `refnet admin nodes` shows harbor
# revoked and offline within seconds; harbor's node logs the broker's Bye and its handshakes are
# refused from then on; peerlink and northside learn of it from the broker's signed revocation,
# mark harbor's services in search results, and refuse to start a handoff to it with a clear
# error (exit 3, nothing sent), or to send it a step of a handoff begun before. (The broker's
# own refusal of mail to a revoked agency is tested in tests/unit/test_rekey.c.) Everything else keeps working: a handoff from peerlink to northside
# goes through. Last, an agency is revoked on a stopped broker, which shows it at its next start.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

log_step "network: broker and three agencies"
start_broker
start_node peerlink "Peer Link Recovery Community"
start_node harbor "Harbor House"
start_node northside "Northside Shelter"

log_step "directory and consents"
publish harbor harbor-detox "Harbor detox beds" detox --capacity 12 --available 3
publish northside north-shelter "Northside emergency shelter" shelter --capacity 30 --available 9
wait_service peerlink harbor-detox
wait_service peerlink north-shelter
wait_service northside harbor-detox
add_person peerlink "Robin Vale" "555-0199"
P=$PERSON
grant peerlink "$P" harbor contact
grant peerlink "$P" northside contact

log_step "a handoff to harbor before the revocation"
start_handoff peerlink "$P" harbor-detox
H_BEFORE=$HANDOFF
wait_json 10 "the handoff in harbor's inbox" \
    "[.handoffs[] | select(.id == \"$H_BEFORE\")] | length == 1" rn harbor handoff list --json
ok_json rn peerlink search --json
assert_jq "$OUT" '.services | all(.agency_revoked == false)'

log_step "revoke harbor while it is connected"
ok "$REFNET_BIN/refnet-broker" revoke-agency --data "$BROKER_DIR" --agency harbor
assert_jq "$(jq -n --arg o "$OUT" '$o')" 'test("agency harbor is revoked")'
wait_json 5 "admin nodes to show harbor revoked and offline" \
    '.agencies[] | select(.id == "harbor") | .revoked == true and .online == false' \
    admin nodes --json
ok_json admin nodes --json
assert_jq "$OUT" '[.agencies[] | select(.id != "harbor") | .revoked] == [false, false]'
ok admin nodes
[[ $OUT == *revoked* ]] || fail "admin nodes (text) does not mark harbor revoked: $OUT"
[[ ! -e $BROKER_DIR/certs/harbor.cert ]] || fail "harbor's certificate is still in certs/"

log_step "harbor's node is told Bye and cannot come back"
harbor_said_bye() { grep -q 'said bye (agency revoked' "$T/logs/harbor.log"; }
wait_for 10 "harbor's node to log the broker's Bye" harbor_said_bye
wait_json 10 "harbor to be disconnected" '.connected == false' rn harbor status --json
harbor_refused() { grep -q 'refused the CURVE handshake' "$T/logs/harbor.log"; }
wait_for 20 "harbor's reconnection to be refused at the handshake" harbor_refused
holds_for 2 "harbor stays disconnected" '.connected == false' rn harbor status --json
ok_json admin nodes --json
assert_jq "$OUT" '.agencies[] | select(.id == "harbor") | .online == false'

log_step "the other nodes learn it and refuse new handoffs to harbor"
wait_service peerlink harbor-detox '.agency_revoked == true'
wait_service northside harbor-detox '.agency_revoked == true'
ok_json rn peerlink search --json
assert_jq "$OUT" '[.services[] | select(.agency_revoked)] | map(.id) == ["harbor-detox"]'
ok rn peerlink search
grep -q 'harbor (revoked)' <<<"$OUT" || fail "search text does not mark harbor revoked: $OUT"
ok_json rn peerlink status --json
OUTBOX_BEFORE=$(jqr "$OUT" '.outbox')
expect_rc 3 rn peerlink handoff start --person "$P" --service harbor-detox
[[ $ERR == *"harbor was revoked"* ]] || fail "the refusal does not say harbor was revoked: $ERR"
ok_json rn peerlink handoff list --outbox --json
assert_jq "$OUT" '[.handoffs[] | select(.to == "harbor")] | length == 1'
ok_json rn peerlink status --json
assert_eq "$OUTBOX_BEFORE" "$(jqr "$OUT" '.outbox')" "peerlink's outbox after the refusal"

log_step "a step of the earlier handoff is not sent to harbor either"
OUTBOX_BEFORE=$(jqr "$(rn peerlink status --json)" '.outbox')
run rn peerlink handoff cancel "$H_BEFORE" --reason "the agency closed"
((RC != 0)) || fail "peerlink sent a step to the revoked agency"
assert_eq "$OUTBOX_BEFORE" "$(jqr "$(rn peerlink status --json)" '.outbox')" \
    "peerlink's outbox after the refused step"

log_step "everything else still works: peerlink hands off to northside"
start_handoff peerlink "$P" north-shelter
H=$HANDOFF
wait_json 10 "the handoff in northside's inbox" \
    "[.handoffs[] | select(.id == \"$H\")] | length == 1" rn northside handoff list --inbox --json
ok_json rn northside handoff show "$H" --json
assert_jq "$OUT" '.person.name == "Robin Vale"'
ok rn northside handoff accept "$H"
wait_handoff_status peerlink "$H" accepted
publish northside north-detox "Northside detox" detox --capacity 4 --available 1
wait_service peerlink north-detox

log_step "revoking again, and revoking an unknown agency"
ok "$REFNET_BIN/refnet-broker" revoke-agency --data "$BROKER_DIR" --agency harbor
[[ $OUT == *"already revoked"* ]] || fail "a second revocation does not say so: $OUT"
expect_rc 1 "$REFNET_BIN/refnet-broker" revoke-agency --data "$BROKER_DIR" --agency nobody
expect_rc 2 "$REFNET_BIN/refnet-broker" revoke-agency --data "$BROKER_DIR"
ok "$REFNET_BIN/refnet-broker" revoke-agency --help

log_step "revocation on a stopped broker takes effect at its next start"
init_node ghost "Ghost Agency"
enroll_node ghost "Ghost Agency"
stop_broker
ok "$REFNET_BIN/refnet-broker" revoke-agency --data "$BROKER_DIR" --agency ghost
[[ $OUT == *"not running"* ]] || fail "the offline revocation does not say the broker is stopped"
[[ ! -e $BROKER_DIR/certs/ghost.cert ]] || fail "ghost's certificate is still in certs/"
run_broker
wait_connected peerlink 20
wait_json 10 "admin nodes to show ghost revoked" \
    '.agencies[] | select(.id == "ghost") | .revoked == true' admin nodes --json
ok_json admin nodes --json
assert_jq "$OUT" '.agencies[] | select(.id == "harbor") | .revoked == true'
wait_connected northside 20
wait_json 10 "peerlink to still see harbor revoked after the restart" \
    '[.services[] | select(.id == "harbor-detox")][0].agency_revoked == true' rn peerlink search --json

finish
echo "$TEST_NAME: ok"
