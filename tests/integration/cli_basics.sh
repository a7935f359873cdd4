#!/usr/bin/env bash
# cli_basics: the command-line contract of the three programs.
#
# Every daemon and CLI command answers --help with exit 0; bad usage exits 2; a node or broker
# that is not running gives exit 1 with one clear sentence; every --json output is exactly one
# JSON document; init refuses to overwrite; keys and the API socket are private to their owner.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

unset REFNET_NODE REFNET_BROKER_DATA
BROKER_BIN=$REFNET_BIN/refnet-broker
NODE_BIN=$REFNET_BIN/refnet-node
CLI=$REFNET_BIN/refnet

# help_ok WORD CMD...: CMD --help exits 0 and its usage text names WORD.
help_ok() {
    local word=$1
    shift
    ok "$@" --help
    [[ -n $OUT ]] || fail "$(lib_quote "$@") --help printed nothing on stdout"
    [[ $OUT == *"$word"* ]] || fail "$(lib_quote "$@") --help does not mention [$word]: $OUT"
}

log_step "--help of every command"
help_ok refnet-broker "$BROKER_BIN"
for c in init enroll run; do help_ok "$c" "$BROKER_BIN" "$c"; done
help_ok refnet-node "$NODE_BIN"
for c in init run; do help_ok "$c" "$NODE_BIN" "$c"; done
help_ok refnet "$CLI"
ok "$CLI" help
[[ -n $OUT ]] || fail "refnet help printed nothing"
for c in status search; do help_ok "$c" "$CLI" "$c"; done
for c in publish availability withdraw; do help_ok "$c" "$CLI" service "$c"; done
for c in add list; do help_ok "$c" "$CLI" person "$c"; done
for c in grant revoke list show; do help_ok "$c" "$CLI" consent "$c"; done
for c in start accept decline begin hold complete fail cancel list show milestone; do
    help_ok "$c" "$CLI" handoff "$c"
done
for c in nodes flow; do help_ok "$c" "$CLI" admin "$c"; done

log_step "a node that is not running: exit 1 and one sentence"
# not_running CMD...: CMD must exit 1, print nothing on stdout and say why on stderr.
not_running() {
    expect_rc 1 "$@"
    [[ -z $OUT ]] || fail "$(lib_quote "$@") printed on stdout while failing: [$OUT]"
    [[ $ERR == refnet:* ]] || fail "error sentence should start with 'refnet:': [$ERR]"
}
mkdir "$T/nowhere"
not_running "$CLI" --node "$T/nowhere" status
not_running "$CLI" --node "$T/nowhere" status --json
not_running "$CLI" --node "$T/missing-folder" search --json
REFNET_NODE=$T/nowhere not_running "$CLI" handoff list --json
[[ $ERR == *node* ]] || fail "the error should say the node cannot be reached: [$ERR]"
not_running "$CLI" admin --broker-data "$T/nowhere" nodes --json

log_step "daemons: usage errors exit 2, run without state exits 1"
expect_rc 2 "$BROKER_BIN"
expect_rc 2 "$BROKER_BIN" frobnicate
expect_rc 2 "$BROKER_BIN" init
expect_rc 2 "$BROKER_BIN" run
expect_rc 2 "$BROKER_BIN" run --data "$T/nowhere" --bogus-flag
expect_rc 2 "$BROKER_BIN" run --data "$T/nowhere" --heartbeat-ms soon
expect_rc 2 "$BROKER_BIN" enroll --data "$T/nowhere"
expect_rc 2 "$NODE_BIN"
expect_rc 2 "$NODE_BIN" frobnicate
expect_rc 2 "$NODE_BIN" init --data "$T/half"
expect_rc 2 "$NODE_BIN" run
expect_rc 1 "$BROKER_BIN" run --data "$T/no-such-broker"
expect_rc 1 "$NODE_BIN" run --data "$T/no-such-node"

log_step "init: keys, refusals"
start_broker
expect_rc 1 "$BROKER_BIN" init --data "$BROKER_DIR" --bind "$BROKER_EP"
assert_eq 600 "$(stat -c %a "$BROKER_DIR/broker.cert_secret")" "mode of broker.cert_secret"
assert_eq 600 "$(stat -c %a "$BROKER_DIR/admin.cert_secret")" "mode of admin.cert_secret"
start_node harbor "Harbor House"
start_node peerlink "Peer Link Recovery Community"
assert_eq 600 "$(stat -c %a "$T/harbor/agency.cert_secret")" "mode of agency.cert_secret"
assert_eq 600 "$(stat -c %a "$T/harbor/api.sock")" "mode of the node's api.sock"
expect_rc 1 "$NODE_BIN" init --data "$T/harbor" --agency harbor --name "Harbor House" \
    --broker "$BROKER_EP" --broker-key "$BROKER_KEY"
run "$NODE_BIN" init --data "$T/badkey" --agency badkey --name "Bad Key" --broker "$BROKER_EP" \
    --broker-key "not-a-z85-key"
((RC == 1 || RC == 2)) || fail "node init with a bad broker key: expected exit 1 or 2, got $RC"
run "$BROKER_BIN" enroll --data "$BROKER_DIR" --agency mallory --key "tooshort"
((RC == 1 || RC == 2)) || fail "enroll with a bad key: expected exit 1 or 2, got $RC"
run "$BROKER_BIN" enroll --data "$BROKER_DIR" --agency "bad id!" --key "${NODE_KEY[harbor]}"
((RC == 1 || RC == 2)) || fail "enroll with a bad agency id: expected exit 1 or 2, got $RC"
run "$BROKER_BIN" enroll --data "$BROKER_DIR" --agency copycat --key "${NODE_KEY[harbor]}"
((RC == 1 || RC == 2)) || fail "enroll of another agency's key: expected exit 1 or 2, got $RC"
ok_json admin nodes --json
assert_jq "$OUT" '[.agencies[].id] | sort == ["harbor", "peerlink"]'

log_step "CLI: usage errors exit 2"
expect_rc 2 "$CLI"
expect_rc 2 "$CLI" frobnicate
expect_rc 2 "$CLI" --node "$T/harbor" service
expect_rc 2 "$CLI" --node "$T/harbor" service frobnicate
expect_rc 2 "$CLI" --node "$T/harbor" status --bogus-flag
expect_rc 2 "$CLI" --node "$T/harbor" service publish --name "No id" --taxonomy detox
expect_rc 2 "$CLI" --node "$T/harbor" service publish --id x1 --name "Bad" --taxonomy detox \
    --capacity lots
expect_rc 2 "$CLI" --node "$T/harbor" service availability harbor-detox --available many
expect_rc 2 "$CLI" --node "$T/harbor" search --near somewhere --radius-km 5
expect_rc 2 "$CLI" --node "$T/harbor" search --near 91,0 --radius-km 5
expect_rc 2 "$CLI" --node "$T/harbor" search --near 10,181 --radius-km 5
expect_rc 2 "$CLI" --node "$T/harbor" person add
expect_rc 2 "$CLI" --node "$T/harbor" handoff start --service harbor-detox
expect_rc 2 "$CLI" --node "$T/harbor" handoff accept
expect_rc 2 "$CLI" --node "$T/harbor" handoff milestone some-id teleported
expect_rc 2 "$CLI" --node "$T/harbor" handoff complete some-id --outcome magic
expect_rc 2 "$CLI" admin --broker-data "$BROKER_DIR" frobnicate

log_step "every --json output is one JSON document"
publish harbor harbor-detox "Harbor detox beds" detox --lat 40.7 --lon -74.0 --capacity 12 \
    --available 3
wait_service peerlink harbor-detox
add_person peerlink "Lee Park" "555-0123"
P=$PERSON
expect_rc 2 rn peerlink consent grant --person "$P" --to harbor --purpose referral \
    --share contact,gossip --expires "$(future_date 30)"
grant peerlink "$P" harbor contact,own-words
C=$CONSENT
start_handoff peerlink "$P" harbor-detox --own-words "Soon, please."
H=$HANDOFF
wait_json 10 "the handoff on harbor" "[.handoffs[].id] == [\"$H\"]" rn harbor handoff list --json

ok_json rn peerlink status --json
assert_jq "$OUT" '.agency == "peerlink" and .connected == true and (.directory_seq | type) == "number"'
ok_json rn peerlink search --json
assert_jq "$OUT" '.services | length == 1'
ok_json rn peerlink search --near 40.7,-74.0 --radius-km 10 --json
assert_jq "$OUT" '.services[0].distance_km | type == "number"'
ok_json rn peerlink search nothing-matches-this --json
assert_jq "$OUT" '.services == []'
ok_json rn peerlink person list --json
assert_jq "$OUT" '[.persons[].id] == [$p]' --arg p "$P"
ok_json rn peerlink consent list --json
assert_jq "$OUT" '[.consents[].id] == [$c]' --arg c "$C"
ok_json rn peerlink consent show "$C" --json
assert_jq "$OUT" '.id == $c and .discloser == "peerlink"' --arg c "$C"
for box in --inbox --outbox; do
    ok_json rn peerlink handoff list "$box" --json
    assert_jq "$OUT" '.handoffs | type == "array"'
done
ok_json rn peerlink handoff list --status requested --json
assert_jq "$OUT" '[.handoffs[].id] == [$h]' --arg h "$H"
ok_json rn peerlink handoff show "$H" --json
assert_jq "$OUT" '.id == $h and (.events | length) >= 1' --arg h "$H"
ok_json admin nodes --json
ok_json admin flow --json
expect_rc 1 rn peerlink handoff show 00000000-0000-4000-8000-000000000000 --json
[[ -z $OUT ]] || fail "a failed show printed on stdout: [$OUT]"

log_step "text output is there too"
for args in "status" "search" "person list" "consent list" "handoff list" "handoff show $H"; do
    # shellcheck disable=SC2086 # the words of $args are meant to split
    ok rn peerlink $args
    [[ -n $OUT ]] || fail "refnet $args printed nothing"
done
ok rn peerlink status
[[ $OUT == *peerlink* ]] || fail "refnet status does not name the agency: $OUT"
ok rn peerlink person add --name "Text Only"
assert_id "$(tail -n 1 <<<"$OUT")" "person add prints the id"
ok admin nodes
[[ $OUT == *harbor* && $OUT == *peerlink* ]] || fail "admin nodes text lacks the agencies: $OUT"
ok admin flow
[[ -n $OUT ]] || fail "admin flow printed nothing"

log_step "a node that died leaves a stale socket: still exit 1, in bounded time"
kill9_node harbor
started=$(lib_now_ms)
not_running "$CLI" --node "$T/harbor" status --json
elapsed=$(($(lib_now_ms) - started))
((elapsed < 15000)) || fail "refnet status took ${elapsed} ms against a dead node"

finish
