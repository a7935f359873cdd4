#!/usr/bin/env bash
# consent_revoke: a revoked consent reaches the agency that received the data; Part 2 notice;
# sealed step reasons.
#
# peerlink hands a person off to harbor with canary strings in the name, contact and notes.
# harbor works the handoff, putting it on hold with a canary reason (sealed for peerlink: the
# broker never holds it in clear), and takes the person into its own caseload. Then peerlink
# revokes the consent: harbor restricts the data (lists and handoff show give a redacted stub,
# no person field survives, the canaries are gone from every answer), refuses to send it onward
# to tofu, and acknowledges; peerlink's consent show says "revocation acknowledged by harbor".
# Both audit logs account for it (revocation sent and acknowledged at peerlink, data received
# and restricted at harbor) and still verify. Last, a substance-use handoff needs a consent
# naming substance-use and carries the 42 CFR Part 2 redisclosure notice, which harbor shows.
# The reason is searched for under the broker's data folder, in its log and, when the test runs
# as root with tcpdump, in the traffic captured on its port (otherwise that part is skipped
# with a message).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

canary() {
    printf '%s-%s' "$1" "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
}
NAME=$(canary Revokename)
CONTACT=$(canary revokecontact)
NOTE=$(canary revokenote)
REASON=$(canary revokereason)

# no_canary TEXT WHAT: none of the person's canaries may appear in TEXT.
no_canary() {
    local c
    for c in "$NAME" "$CONTACT" "$NOTE"; do
        assert_not_contains "$1" "$c" "$2"
    done
}

log_step "network: broker (its port captured when possible), peerlink, harbor and tofu"
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
start_node peerlink "Peer Link"
start_node harbor "Harbor House"
start_node tofu "Tofu Place"
publish harbor harbor-detox "Harbor detox beds" detox --capacity 4 --available 2
publish tofu tofu-shelter "Tofu shelter" shelter --capacity 4 --available 2
wait_service peerlink harbor-detox
wait_service harbor tofu-shelter

log_step "peerlink hands the person to harbor"
add_person peerlink "$NAME" "$CONTACT"
P=$PERSON
grant peerlink "$P" harbor contact,notes
C=$CONSENT
start_handoff peerlink "$P" harbor-detox --note "$NOTE"
H=$HANDOFF
# The canaries are letters, digits and dashes: safe inside a jq string literal.
wait_json 15 "harbor to receive the person" ".person.name == \"$NAME\"" \
    rn harbor handoff show "$H" --json
ok_json rn harbor handoff show "$H" --json
assert_jq "$OUT" '.restricted == false and .person.contact == $c and .person.notes == $n and
    .redisclosure_notice == null' --arg c "$CONTACT" --arg n "$NOTE"

log_step "harbor works the handoff; its reason travels sealed"
ok rn harbor handoff accept "$H"
ok rn harbor handoff hold "$H" --reason "$REASON"
wait_json 15 "peerlink to see the hold and its reason" \
    ".status == \"on-hold\" and .reason == \"$REASON\" and (.events | any(.reason == \"$REASON\"))" \
    rn peerlink handoff show "$H" --json

log_step "harbor takes the person into its caseload and may refer onward while consented"
ok rn harbor person add --from-handoff "$H"
P2=$(tail -n 1 <<<"$OUT")
assert_id "$P2" "person add --from-handoff"
ok_json rn harbor person list --json
assert_jq "$OUT" '.persons[] | select(.id == $p) | .name == $n and .from_handoff == $h and
    .restricted == false' --arg p "$P2" --arg n "$NAME" --arg h "$H"
grant harbor "$P2" tofu contact
start_handoff harbor "$P2" tofu-shelter
H_ONWARD=$HANDOFF

log_step "peerlink revokes the consent"
ok rn peerlink consent revoke "$C"
[[ $OUT == *"revocation sent to 1 agency"* ]] || fail "consent revoke said [$OUT]"
wait_json 15 "harbor to acknowledge the revocation" \
    ".revocations | length == 1 and .[0].agency == \"harbor\" and .[0].acknowledged == true and
     .[0].handoffs == [\"$H\"]" rn peerlink consent show "$C" --json
ok rn peerlink consent show "$C"
[[ $OUT == *"revocation acknowledged by harbor at "* ]] || fail "consent show said [$OUT]"

log_step "harbor shows only a redacted stub; the handoff stays auditable"
ok_json rn harbor handoff show "$H" --json
assert_jq "$OUT" '.restricted == true and .restricted_at != null and
    .person == {"name": "[restricted]", "restricted": true} and .status == "on-hold" and
    .from == "peerlink" and .consent == $c and (.events | length == 3)' --arg c "$C"
no_canary "$OUT" "harbor handoff show --json after revocation"
ok rn harbor handoff show "$H"
no_canary "$OUT" "harbor handoff show after revocation"
[[ $OUT == *"[restricted]"* && $OUT == *restricted:* ]] || fail "handoff show said [$OUT]"
ok_json rn harbor handoff list --json
assert_jq "$OUT" '.handoffs[] | select(.id == $h) | .restricted == true' --arg h "$H"
ok_json rn harbor person list --json
assert_jq "$OUT" '.persons[] | select(.id == $p) | .name == "[restricted]" and .contact == null
    and .restricted == true' --arg p "$P2"
no_canary "$OUT" "harbor person list after revocation"

log_step "harbor refuses to send the restricted data onward"
expect_rc 3 rn harbor handoff start --person "$P2" --service tofu-shelter
[[ $ERR == *restricted* ]] || fail "onward handoff refused with [$ERR]"
expect_rc 3 rn harbor person add --from-handoff "$H"
# What harbor sent onward before the revocation stays a record of that disclosure, but harbor's
# own copy of the data shows as restricted too.
ok_json rn harbor handoff show "$H_ONWARD" --json
assert_jq "$OUT" '.to == "tofu" and .restricted == true and .person.name == "[restricted]"'
no_canary "$OUT" "harbor's onward handoff after revocation"

log_step "the accounting of disclosures on both sides"
ok_json rn peerlink audit --person "$P" --json
assert_jq "$OUT" '[.entries[].event] == ["consent-granted", "disclosure-sent", "consent-revoked",
    "revocation-sent", "revocation-acknowledged"]'
assert_jq "$OUT" '.entries[3:] | all(.handoff == $h and .consent == $c and .recipient == "harbor"
    and (.msg_id | length == 32) and (.categories | sort) == ["contact", "notes"])' \
    --arg h "$H" --arg c "$C"
ok rn peerlink audit
[[ $OUT == *revocation-acknowledged* ]] || fail "peerlink's audit table lacks the acknowledgement"
ok_json rn harbor audit --json
assert_jq "$OUT" '[.entries[] | select(.handoff == $h) | .event] ==
    ["data-received", "data-restricted"]' --arg h "$H"
assert_jq "$OUT" '.entries[] | select(.handoff == $h) | .consent == $c and .discloser ==
    "peerlink" and (.msg_id | length == 32)' --arg h "$H" --arg c "$C"
for id in peerlink harbor; do
    ok_json rn "$id" audit verify --json
    assert_jq "$OUT" '.valid == true'
done

log_step "42 CFR Part 2: substance-use data needs a consent naming it and carries the notice"
add_person peerlink "Part Two Person" "555-0142"
P3=$PERSON
grant peerlink "$P3" "*" contact,notes
expect_rc 3 rn peerlink handoff start --person "$P3" --service harbor-detox --substance-use \
    --note "uses daily"
grant peerlink "$P3" harbor contact,notes,substance-use
start_handoff peerlink "$P3" harbor-detox --substance-use --note "uses daily"
H3=$HANDOFF
wait_json 15 "harbor to receive the Part 2 handoff" '.person != null' \
    rn harbor handoff show "$H3" --json
ok_json rn harbor handoff show "$H3" --json
assert_jq "$OUT" '(.categories | index("substance-use")) != null and
    (.redisclosure_notice | contains("42 CFR part 2") and contains("prohibit"))'
ok rn harbor handoff show "$H3"
[[ $OUT == *"notice:"*"42 CFR part 2"* ]] || fail "handoff show has no Part 2 notice: [$OUT]"

log_step "the sealed reason is nowhere in the broker's data folder or log"
stop_broker
if grep -a -r -F -q -- "$REASON" "$BROKER_DIR" "$T/logs/broker.log"; then
    fail "the step's reason is in clear at the broker"
fi
grep -a -r -F -q -- "$REASON" "$T/harbor" || fail "the search does not see harbor's clear reason"
if ((CAPTURE)); then
    stop_pid "$TCPDUMP_PID"
    packets=$(tcpdump -r "$T/capture.pcap" 2>/dev/null | wc -l)
    ((packets > 20)) || fail "the capture holds only $packets packets: it missed the traffic"
    if grep -a -F -q -- "$REASON" "$T/capture.pcap"; then
        fail "the step's reason crossed the broker's port in clear"
    fi
    echo "$TEST_NAME: $packets packets captured on the broker's port; the reason is not in them"
fi
run_broker
wait_connected peerlink
wait_connected harbor

finish
