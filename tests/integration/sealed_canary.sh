#!/usr/bin/env bash
# sealed_canary: person data crosses the broker sealed, and nowhere in clear.
#
# peerlink hands a person off to harbor with a random canary name and a random canary note.
# After delivery, harbor's node shows both (it opened the sealed packet with peerlink's key,
# which the broker vouched for), while neither canary appears in clear anywhere under the
# broker's data folder (LMDB files included, searched byte by byte), in the broker's log, or in
# the traffic captured with tcpdump on the broker's port on loopback. The same search finds
# both canaries in harbor's own store, which shows the search would see clear text if it were
# there. A second receiver, initialised without --broker-sign-key, pins the broker's signing
# key on first use and opens its handoff too.
#
# The capture needs root and tcpdump; without them that part is skipped with a message and the
# rest still runs.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

canary() {
    printf '%s-%s' "$1" "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
}
CANARY_NAME=$(canary Canaryname)
CANARY_NOTE=$(canary canarynote)
CANARY_TOFU=$(canary Canarytofu)

# has_clear DIR STRING: true when STRING occurs in clear in any file under DIR.
has_clear() {
    grep -a -r -F -q -- "$2" "$1"
}

log_step "broker, with a capture of its port"
init_broker
CAPTURE=0
if [[ $(id -u) == 0 ]] && command -v tcpdump >/dev/null 2>&1; then
    lib_spawn tcpdump "$T/logs/tcpdump.log" tcpdump -i lo -U -s 0 -w "$T/capture.pcap" \
        "tcp port ${BROKER_EP##*:}"
    TCPDUMP_PID=$LIB_LAST_PID
    wait_for 10 "tcpdump to listen on lo" grep -q "listening on" "$T/logs/tcpdump.log"
    CAPTURE=1
else
    echo "$TEST_NAME: SKIPPING the traffic capture: it needs root and tcpdump" >&2
fi
run_broker
[[ -s $BROKER_DIR/sign.key ]] || fail "broker init made no signing key"
[[ $(stat -c %a "$BROKER_DIR/sign.key") == 600 ]] || fail "sign.key is not mode 0600"

log_step "three agencies; tofu learns the broker's signing key on first use"
start_node peerlink "Peer Link"
start_node harbor "Harbor House"
ok "$REFNET_BIN/refnet-node" init --data "$T/tofu" --agency tofu --name "Tofu Place" \
    --broker "$BROKER_EP" --broker-key "$BROKER_KEY"
NODE_KEY[tofu]=$(tail -n 1 <<<"$OUT")
enroll_node tofu "Tofu Place"
run_node tofu
wait_connected tofu
for id in peerlink harbor tofu; do
    [[ $(stat -c %a "$T/$id/seal.key") == 600 ]] || fail "$id/seal.key is not mode 0600"
done
grep -q "trust on first use" "$T/logs/tofu.log" || fail "tofu did not log its trust on first use"
if grep -q "trust on first use" "$T/logs/harbor.log"; then
    fail "harbor was given the signing key at init, yet trusted on first use"
fi

publish harbor harbor-detox "Harbor detox beds" detox --capacity 5 --available 2
publish tofu tofu-shelter "Tofu shelter" shelter --capacity 5 --available 2
wait_service peerlink harbor-detox
wait_service peerlink tofu-shelter

log_step "peerlink hands the canaries to harbor and to tofu"
add_person peerlink "$CANARY_NAME" "555-0199"
P=$PERSON
grant peerlink "$P" harbor contact,notes
start_handoff peerlink "$P" harbor-detox --note "$CANARY_NOTE"
H=$HANDOFF
add_person peerlink "$CANARY_TOFU"
grant peerlink "$PERSON" tofu notes
start_handoff peerlink "$PERSON" tofu-shelter --note "$CANARY_NOTE"
H2=$HANDOFF
# The canaries are letters, digits and dashes: safe inside a jq string literal.
wait_json 15 "harbor to receive the handoff with its person data" \
    ".person.name == \"$CANARY_NAME\" and .person.notes == \"$CANARY_NOTE\"" \
    rn harbor handoff show "$H" --json
wait_json 15 "tofu to receive its handoff with its person data" \
    ".person.name == \"$CANARY_TOFU\"" rn tofu handoff show "$H2" --json
for h in "$H" "$H2"; do
    wait_json 15 "peerlink to learn that $h was delivered" '.delivered_at != null' \
        rn peerlink handoff show "$h" --json
done
ok_json rn harbor handoff show "$H" --json
assert_jq "$OUT" '.person.contact == "555-0199" and .from == "peerlink"'

log_step "the canaries are in clear at the nodes only"
has_clear "$T/harbor" "$CANARY_NAME" || fail "the search does not see harbor's clear copy"
has_clear "$T/harbor" "$CANARY_NOTE" || fail "the search does not see harbor's clear note"
has_clear "$T/tofu" "$CANARY_TOFU" || fail "the search does not see tofu's clear copy"
stop_broker
for c in "$CANARY_NAME" "$CANARY_NOTE" "$CANARY_TOFU"; do
    if has_clear "$BROKER_DIR" "$c"; then
        grep -a -r -F -l -- "$c" "$BROKER_DIR" >&2
        fail "a canary is in clear in the broker's data folder (files above)"
    fi
    if has_clear "$T/logs/broker.log" "$c"; then
        fail "a canary is in clear in the broker's log"
    fi
done
[[ -s $BROKER_DIR/db/data.mdb ]] || fail "the broker's LMDB file is missing or empty"

if ((CAPTURE)); then
    log_step "the canaries are not in the captured traffic"
    stop_pid "$TCPDUMP_PID"
    packets=$(tcpdump -r "$T/capture.pcap" 2>/dev/null | wc -l)
    ((packets > 20)) || fail "the capture holds only $packets packets: it missed the traffic"
    for c in "$CANARY_NAME" "$CANARY_NOTE" "$CANARY_TOFU"; do
        if grep -a -F -q -- "$c" "$T/capture.pcap"; then
            fail "a canary crossed the broker's port in clear"
        fi
    done
    echo "$TEST_NAME: $packets packets captured on the broker's port; no canary in them"
fi

finish
