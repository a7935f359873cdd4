#!/usr/bin/env bash
# rotate_key: an agency replaces its CURVE and sealing keys and loses no message.
#
# peerlink and harbor hand off to each other. (1) A handoff waits at the broker for harbor,
# which is stopped and rotates its keys offline (`refnet-node rotate-key` on a stopped node):
# when harbor runs it hands the new keys to the broker over its old connection, reconnects with
# them, and the queued handoff is delivered and opened. (2) harbor sends a handoff to peerlink
# while peerlink is stopped, sealed with harbor's key of the time, then rotates again while
# running; when peerlink comes back it has harbor's new key, and still opens the older packet
# (with harbor's previous key). (3) New handoffs in both directions work with the new keys.
# (4) harbor's original CURVE key is refused at the handshake. (5) The broker stored a new key
# whose OK the node never saw: the node takes its pending keys when the old one is refused.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

# cert_key FILE: the public key of a czmq certificate file.
cert_key() {
    sed -n 's/^ *public-key = "\(.*\)"$/\1/p' "$1"
}

log_step "network: broker, peerlink and harbor"
start_broker
start_node peerlink "Peer Link Recovery Community"
start_node harbor "Harbor House"
publish harbor harbor-detox "Harbor detox beds" detox --capacity 12 --available 3
publish peerlink peer-support "Peer support groups" peer-support --capacity 20 --available 8
wait_service peerlink harbor-detox
wait_service harbor peer-support
add_person peerlink "Casey Morrow" "555-0111"
P1=$PERSON
grant peerlink "$P1" harbor contact
add_person harbor "Jordan Reyes" "555-0122"
P2=$PERSON
grant harbor "$P2" peerlink contact
mkdir "$T/oldkeys"
cp "$T/harbor/agency.cert" "$T/harbor/agency.cert_secret" "$T/oldkeys/"
KEY0=${NODE_KEY[harbor]}

log_step "(1) a handoff waits for harbor, which rotates its keys while stopped"
stop_node harbor
start_handoff peerlink "$P1" harbor-detox
H1=$HANDOFF
wait_json 10 "the broker to store H1" '.stored_at != null' rn peerlink handoff show "$H1" --json
ok_json admin nodes --json
assert_jq "$OUT" '.agencies[] | select(.id == "harbor") | .queued >= 1'
ok "$REFNET_BIN/refnet-node" rotate-key --data "$T/harbor"
[[ $OUT == *"not running"* ]] || fail "offline rotate-key does not say the node is stopped: $OUT"
[[ -e $T/harbor/rotate.pending && -e $T/harbor/seal.key.pending ]] ||
    fail "offline rotate-key left no pending keys"
expect_rc 1 "$REFNET_BIN/refnet-node" rotate-key --data "$T/harbor"
run_node harbor
rotated() { grep -q 'key rotation done' "$T/logs/harbor.log"; }
wait_for 15 "harbor to finish its rotation" rotated
wait_connected harbor
KEY1=$(cert_key "$T/harbor/agency.cert")
[[ ${#KEY1} == 40 && $KEY1 != "$KEY0" ]] || fail "harbor's public key did not change: [$KEY1]"
[[ ! -e $T/harbor/rotate.pending && ! -e $T/harbor/seal.key.pending ]] ||
    fail "the rotation left its pending files behind"
[[ $(stat -c %a "$T/harbor/seal.key.prev") == 600 && $(stat -c %a "$T/harbor/seal.key") == 600 &&
    $(stat -c %a "$T/harbor/agency.cert_secret") == 600 ]] ||
    fail "a secret key file is not mode 0600"
wait_json 10 "H1 in harbor's inbox" "[.handoffs[] | select(.id == \"$H1\")] | length == 1" \
    rn harbor handoff list --inbox --json
ok_json rn harbor handoff show "$H1" --json
assert_jq "$OUT" '.person.name == "Casey Morrow" and .person.contact == "555-0111"'
wait_json 10 "the receipt of H1 on peerlink" '.delivered_at != null' \
    rn peerlink handoff show "$H1" --json
ok_json admin nodes --json
assert_jq "$OUT" '.agencies[] | select(.id == "harbor") | .online == true and .queued == 0'

log_step "(2) harbor seals a handoff for stopped peerlink, then rotates while running"
stop_node peerlink
start_handoff harbor "$P2" peer-support
H2=$HANDOFF
wait_json 10 "the broker to store H2" '.stored_at != null' rn harbor handoff show "$H2" --json
ok "$REFNET_BIN/refnet-node" rotate-key --data "$T/harbor"
[[ $OUT == *"keys rotated"* ]] || fail "online rotate-key did not finish: $OUT"
KEY2=$(cert_key "$T/harbor/agency.cert")
[[ ${#KEY2} == 40 && $KEY2 != "$KEY1" ]] || fail "harbor's public key did not change again"
wait_connected harbor
run_node peerlink
wait_connected peerlink
wait_json 10 "H2 in peerlink's inbox" "[.handoffs[] | select(.id == \"$H2\")] | length == 1" \
    rn peerlink handoff list --inbox --json
ok_json rn peerlink handoff show "$H2" --json
assert_jq "$OUT" '.person.name == "Jordan Reyes" and .person.contact == "555-0122"'

log_step "(3) handoffs in both directions with the new keys"
start_handoff peerlink "$P1" harbor-detox
H3=$HANDOFF
wait_json 10 "H3 in harbor's inbox" "[.handoffs[] | select(.id == \"$H3\")] | length == 1" \
    rn harbor handoff list --inbox --json
ok_json rn harbor handoff show "$H3" --json
assert_jq "$OUT" '.person.name == "Casey Morrow"'
ok rn harbor handoff accept "$H3"
wait_handoff_status peerlink "$H3" accepted
start_handoff harbor "$P2" peer-support
H4=$HANDOFF
wait_json 10 "H4 in peerlink's inbox" "[.handoffs[] | select(.id == \"$H4\")] | length == 1" \
    rn peerlink handoff list --inbox --json
ok_json rn peerlink handoff show "$H4" --json
assert_jq "$OUT" '.person.name == "Jordan Reyes"'
ok rn peerlink handoff accept "$H4"
wait_handoff_status harbor "$H4" accepted
if grep -q 'dropped\|does not open' "$T/logs/peerlink.log" "$T/logs/harbor.log"; then
    fail "a person packet did not open"
fi

log_step "(4) harbor's original CURVE key is refused"
ok "$REFNET_BIN/refnet-node" init --data "$T/oldharbor" --agency harbor --name "Harbor House" \
    --broker "$BROKER_EP" --broker-key "$BROKER_KEY" --broker-sign-key "$BROKER_SIGN_KEY"
cp "$T/oldkeys/agency.cert" "$T/oldkeys/agency.cert_secret" "$T/oldharbor/"
lib_spawn oldharbor "$T/logs/oldharbor.log" "$REFNET_BIN/refnet-node" run --data "$T/oldharbor" \
    --log-level "$LOG_LEVEL" --heartbeat-ms "$HB_MS"
OLD_PID=$LIB_LAST_PID
old_refused() { grep -q 'refused the CURVE handshake' "$T/logs/oldharbor.log"; }
wait_for 15 "the broker to refuse harbor's original key" old_refused
if grep -q 'welcomed by the broker' "$T/logs/oldharbor.log"; then
    fail "the broker welcomed harbor's original key"
fi
stop_pid "$OLD_PID"
ok_json admin nodes --json
assert_jq "$OUT" '.agencies[] | select(.id == "harbor") | .online == true'

log_step "(5) the broker took the new key but the node never heard: it finishes on its own"
# Re-enrolling the pending key stands in for a broker that committed the KeyRotate just before
# the node stopped, so its answer was never seen.
stop_node harbor
ok "$REFNET_BIN/refnet-node" rotate-key --data "$T/harbor"
KEY3=$(cert_key "$T/harbor/agency.pending.cert")
[[ ${#KEY3} == 40 ]] || fail "no pending key after rotate-key"
ok "$REFNET_BIN/refnet-broker" enroll --data "$BROKER_DIR" --agency harbor --key "$KEY3" \
    --name "Harbor House"
run_node harbor
took_new() { grep -q 'refuses the old key during a key rotation' "$T/logs/harbor.log"; }
wait_for 20 "harbor to take its new keys after the refused handshake" took_new
wait_connected harbor 20
assert_eq "$KEY3" "$(cert_key "$T/harbor/agency.cert")" "harbor's key after recovery"
wait_json 10 "harbor's outbox to drain (the KeyRotate answered)" '.outbox == 0' \
    rn harbor status --json
start_handoff peerlink "$P1" harbor-detox
H5=$HANDOFF
wait_json 10 "H5 in harbor's inbox" "[.handoffs[] | select(.id == \"$H5\")] | length == 1" \
    rn harbor handoff list --inbox --json
ok_json rn harbor handoff show "$H5" --json
assert_jq "$OUT" '.person.name == "Casey Morrow"'

finish
echo "$TEST_NAME: ok"
