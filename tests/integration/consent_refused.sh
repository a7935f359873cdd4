#!/usr/bin/env bash
# consent_refused: a handoff without a valid consent is refused (exit 3) and nothing leaves the
# sending node.
#
# Cases: no consent at all; a consent that has expired; one that was revoked; one naming another
# agency; one that does not cover a category being sent (contact, notes). After every refusal the
# sender has written nothing (no handoff, empty outbox), the receiver has received nothing after
# many heartbeats, and the broker's flow is empty. A last, valid handoff shows the same path does
# deliver, so the waits above were long enough to see a leak.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

log_step "network: broker and three agencies"
start_broker
start_node peerlink "Peer Link Recovery Community"
start_node harbor "Harbor House"
start_node northside "Northside Shelter"
publish harbor harbor-detox "Harbor detox beds" detox --capacity 12 --available 3
wait_service peerlink harbor-detox

# refused PERSON [handoff start flags]...: the handoff to harbor-detox must be refused by consent.
refused() {
    local person=$1
    shift
    expect_rc 3 rn peerlink handoff start --person "$person" --service harbor-detox "$@"
    [[ -z $OUT ]] || fail "a refused handoff printed an id: [$OUT]"
}

log_step "no consent"
add_person peerlink "Alex Moreno" "555-0101"
P_NONE=$PERSON
refused "$P_NONE" --own-words "I need a bed tonight."

log_step "expired consent"
add_person peerlink "Robin Hale"
P_EXPIRED=$PERSON
# A consent whose end date is already past is refused as bad input (exit 2), so it can never
# be recorded and mistaken for a valid one; consent_check's expiry rule for consents that run
# out later is covered by the consent unit test.
expect_rc 2 rn peerlink consent grant --person "$P_EXPIRED" --to harbor --purpose referral \
    --share own-words --expires "$(date -u -d '-2 days' +%F)"
ok_json rn peerlink consent list --person "$P_EXPIRED" --json
assert_jq "$OUT" '.consents | length == 0'
refused "$P_EXPIRED" --own-words "Anywhere with a bed."

log_step "revoked consent"
add_person peerlink "Sam Okafor" "555-0103"
P_REVOKED=$PERSON
grant peerlink "$P_REVOKED" harbor contact,own-words,notes,needs
C_REVOKED=$CONSENT
ok rn peerlink consent revoke "$C_REVOKED"
ok_json rn peerlink consent list --person "$P_REVOKED" --json
assert_jq "$OUT" '.consents | length == 1 and .[0].revoked_at != null and .[0].valid == false'
refused "$P_REVOKED" --own-words "Please call me first."
expect_rc 2 rn peerlink consent revoke "$C_REVOKED"

log_step "consent names another agency"
add_person peerlink "Jordan Lee" "555-0104"
P_OTHER=$PERSON
grant peerlink "$P_OTHER" northside contact,own-words,notes,needs
refused "$P_OTHER" --own-words "Somewhere near my sister."

log_step "consent does not cover what would be sent"
# The person has contact details, so contact would travel; the consent covers own words only.
add_person peerlink "Casey Novak" "555-0105"
P_NARROW=$PERSON
grant peerlink "$P_NARROW" harbor own-words
refused "$P_NARROW" --own-words "Mornings are best."
# No contact details this time, but a note would travel and the consent covers contact only.
add_person peerlink "Riley Shore"
P_NOTE=$PERSON
grant peerlink "$P_NOTE" harbor contact
refused "$P_NOTE" --note "Has a dog."

log_step "nothing left peerlink"
ok_json rn peerlink handoff list --json
assert_jq "$OUT" '.handoffs == []'
ok_json rn peerlink status --json
assert_jq "$OUT" '.outbox == 0 and .connected == true'
# Ten heartbeats: ample time for anything sent to reach the broker and harbor.
holds_for 2 "harbor's handoff list stays empty" '.handoffs == []' rn harbor handoff list --json
ok_json admin flow --json
assert_jq "$OUT" '.handoffs == 0 and .flow == []'

log_step "control: a valid consent does deliver"
grant peerlink "$P_NONE" harbor contact,own-words
start_handoff peerlink "$P_NONE" harbor-detox --own-words "I need a bed tonight."
H=$HANDOFF
wait_json 10 "the valid handoff in harbor's inbox" "[.handoffs[].id] == [\"$H\"]" \
    rn harbor handoff list --inbox --json
ok_json rn harbor handoff show "$H" --json
assert_jq "$OUT" '.person.name == "Alex Moreno"'
wait_json 10 "the broker's flow to count it" '.handoffs == 1' admin flow --json

finish
