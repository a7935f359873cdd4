#!/usr/bin/env bash
# audit_trail: the accounting of disclosures, on both sides of a handoff.
#
# peerlink records a consent, hands the person off to harbor, and revokes the consent. peerlink's
# audit log holds consent-granted, disclosure-sent (with the categories, the consent and the
# handoff), consent-revoked, revocation-sent and, once harbor answers, revocation-acknowledged;
# harbor's holds data-received and data-restricted for the same handoff, made by the node. Filters by person and by date work, and `refnet audit verify` accepts both chains. Then
# harbor is stopped, one entry of its log is altered in its LMDB file with refnet-audittamper,
# and after a restart `refnet audit verify` exits 1 naming that entry.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
: "${REFNET_TOOLS:?REFNET_TOOLS must name the folder holding refnet-audittamper}"
TAMPER=$REFNET_TOOLS/refnet-audittamper
[[ -x $TAMPER ]] || fail "$TAMPER is missing: build the project first"

log_step "network: broker, peerlink and harbor"
start_broker
start_node peerlink "Peer Link"
start_node harbor "Harbor House"
publish harbor harbor-detox "Harbor detox beds" detox --capacity 4 --available 2
wait_service peerlink harbor-detox

log_step "consent and handoff on peerlink"
ok_json rn peerlink audit --json
assert_jq "$OUT" '.entries == []'
add_person peerlink "Sam Okafor" "555-0199"
P=$PERSON
add_person peerlink "Other Person"
P2=$PERSON
grant peerlink "$P" harbor contact,notes
C=$CONSENT
start_handoff peerlink "$P" harbor-detox --note "Needs a ride"
H=$HANDOFF
wait_json 15 "harbor to receive handoff $H" '.status == "requested" and .person != null' \
    rn harbor handoff show "$H" --json
ok rn peerlink consent revoke "$C"
wait_json 15 "harbor to acknowledge the revocation" '.revocations[0].acknowledged == true' \
    rn peerlink consent show "$C" --json

log_step "peerlink's audit log"
ok_json rn peerlink audit --json
assert_jq "$OUT" '[.entries[].event] == ["consent-granted", "disclosure-sent", "consent-revoked",
    "revocation-sent", "revocation-acknowledged"]'
assert_jq "$OUT" '[.entries[].seq] == [1, 2, 3, 4, 5]'
assert_jq "$OUT" '.entries | all(.person == $p and .discloser == "peerlink" and
    .recipient == "harbor" and .consent == $c and .purpose == "referral" and
    (.actor | length > 0) and (.hash | length == 64))' \
    --arg p "$P" --arg c "$C"
assert_jq "$OUT" '.entries[:4] | all(.actor != "node")'
assert_jq "$OUT" '.entries[3:] | all(.handoff == $h and (.msg_id | length == 32))' --arg h "$H"
assert_jq "$OUT" '.entries[1] | .handoff == $h and (.categories | sort) == ["contact", "notes"]
    and (.msg_id | length == 32)' --arg h "$H"
ok_json rn peerlink audit --person "$P2" --json
assert_jq "$OUT" '.entries == []'
ok_json rn peerlink audit --person "$P" --since "$(date -u +%F)" --json
assert_jq "$OUT" '.entries | length == 5'
ok_json rn peerlink audit --since "$(future_date 1)" --json
assert_jq "$OUT" '.entries == []'
expect_rc 2 rn peerlink audit --since 2026-13-45
ok rn peerlink audit
[[ $OUT == *disclosure-sent* && $OUT == *"$H"* ]] || fail "audit list table lacks the disclosure"
ok_json rn peerlink audit verify --json
assert_jq "$OUT" '.valid == true and .entries == 5'
ok rn peerlink audit verify
[[ $OUT == *"valid: 5 entries"* ]] || fail "audit verify said [$OUT]"

log_step "harbor's audit log"
ok_json rn harbor audit --json
assert_jq "$OUT" '[.entries[].event] == ["data-received", "data-restricted"]'
assert_jq "$OUT" '.entries | all(.discloser == "peerlink" and
    .recipient == "harbor" and .handoff == $h and .consent == $c and .actor == "node" and
    (.msg_id | length == 32) and (.categories | sort) == ["contact", "notes"])' \
    --arg h "$H" --arg c "$C"
ok_json rn harbor audit verify --json
assert_jq "$OUT" '.valid == true and .entries == 2'

log_step "an altered entry is named after a restart"
stop_node peerlink
ok "$TAMPER" "$T/peerlink" 2
run_node peerlink
expect_rc 1 rn peerlink audit verify
[[ $ERR == *"audit entry 2 was altered"* ]] || fail "audit verify said [$ERR]"
# Entries before it are untouched.
ok_json rn peerlink audit --json
assert_jq "$OUT" '.entries[0].event == "consent-granted"'

finish
