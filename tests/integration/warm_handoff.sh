#!/usr/bin/env bash
# warm_handoff: one warm handoff across a three-agency network, from both sides.
#
# peerlink (the peer supporter's agency) finds harbor's detox service, records a person and
# their consent, and starts a handoff; harbor receives it with the person's shared data, accepts,
# confirms first contact, begins and completes it, while peerlink records the introduction and a
# follow-up. Both sides must end with the same status and event history, the state machine must
# refuse what each side may not do, and the administrator must see the flow (and no person data).
# northside is a bystander: it sees the directory, never the handoff.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

PERSON_NAME="Dana Rivers"
CONTACT="555-0142, texts preferred"
OWN_WORDS="I want to get through detox somewhere I feel safe, and keep my job."
NOTE="Prefers afternoons; bus pass needed."

log_step "network: broker and three agencies"
start_broker
start_node peerlink "Peer Link Recovery Community"
start_node harbor "Harbor House"
start_node northside "Northside Shelter"

log_step "directory: harbor and northside publish"
publish harbor harbor-detox "Harbor detox beds" detox,detox-adult \
    --description "Medically supported withdrawal, 5 to 7 days" \
    --lat 40.7128 --lon -74.0060 --language en,es --capacity 12 --available 3
publish northside north-detox "Northside detox" detox --lat 40.8000 --lon -73.9500 \
    --capacity 4 --available 1
publish northside north-shelter "Northside emergency shelter" shelter --lat 40.8100 \
    --lon -73.9500 --capacity 30 --available 10
wait_service peerlink harbor-detox
wait_service peerlink north-detox
wait_service peerlink north-shelter

log_step "search on peerlink's replica"
ok_json rn peerlink search --json
assert_jq "$OUT" '.services | length == 3'
assert_jq "$OUT" '.services[] | select(.id == "harbor-detox") |
    .name == "Harbor detox beds" and .agency == "harbor" and .available == 3 and
    .capacity == 12 and .accepting == true and (.taxonomy | index("detox") != null) and
    .languages == ["en", "es"] and (.lat - 40.7128 | fabs) < 0.0001'

ok_json rn peerlink search detox --json
assert_jq "$OUT" '[.services[].id] | sort == ["harbor-detox", "north-detox"]'
ok_json rn peerlink search --taxonomy shelter --json
assert_jq "$OUT" '[.services[].id] == ["north-shelter"]'
ok_json rn peerlink search --taxonomy detox --json
assert_jq "$OUT" '[.services[].id] | sort == ["harbor-detox", "north-detox"]'

ok_json rn peerlink search --taxonomy detox --near 40.7128,-74.0060 --radius-km 50 --json
assert_jq "$OUT" '[.services[].id] == ["harbor-detox", "north-detox"]'
assert_jq "$OUT" '[.services[].distance_km] | all(type == "number") and . == sort'
assert_jq "$OUT" '.services[0].distance_km < 0.1 and .services[1].distance_km > 9 and
    .services[1].distance_km < 13'
ok_json rn peerlink search --near 40.8000,-73.9500 --radius-km 50 --json
assert_jq "$OUT" '.services[0].id == "north-detox" and
    ([.services[].distance_km] | . == sort) and (.services | length == 3)'
ok_json rn peerlink search --near 40.7128,-74.0060 --radius-km 1 --json
assert_jq "$OUT" '[.services[].id] == ["harbor-detox"]'

log_step "person and consent on peerlink"
add_person peerlink "$PERSON_NAME" "$CONTACT"
P=$PERSON
grant peerlink "$P" harbor contact,own-words,notes
C=$CONSENT
ok_json rn peerlink consent list --person "$P" --json
assert_jq "$OUT" '.consents | length == 1 and .[0].id == $c and .[0].to == "harbor" and
    .[0].valid == true and .[0].revoked_at == null and
    (.[0].share | sort) == ["contact", "notes", "own-words"]' --arg c "$C"

log_step "peerlink starts the handoff"
start_handoff peerlink "$P" harbor-detox --own-words "$OWN_WORDS" --note "$NOTE" \
    --mode in-person --accompany
H=$HANDOFF
ok_json rn peerlink handoff show "$H" --json
assert_jq "$OUT" '.id == $h and .status == "requested" and .from == "peerlink" and
    .to == "harbor" and .service == "harbor-detox" and .direction == "outbox" and
    .mode == "in-person" and .accompany == true and .consent == $c' --arg h "$H" --arg c "$C"
wait_json 10 "the broker to store the handoff (stored_at on peerlink)" '.stored_at != null' \
    rn peerlink handoff show "$H" --json

log_step "harbor receives it"
wait_json 10 "the handoff in harbor's inbox" \
    "[.handoffs[] | select(.id == \"$H\")] | length == 1" rn harbor handoff list --inbox --json
ok_json rn harbor handoff list --inbox --json
assert_jq "$OUT" '.handoffs | length == 1 and .[0].status == "requested" and
    .[0].from == "peerlink" and .[0].to == "harbor" and .[0].service == "harbor-detox"'
ok_json rn harbor handoff list --outbox --json
assert_jq "$OUT" '.handoffs == []'
ok_json rn harbor handoff show "$H" --json
assert_jq "$OUT" '.status == "requested" and .direction == "inbox" and .from == "peerlink" and
    .mode == "in-person" and .accompany == true and
    .person.name == $name and .person.contact == $contact and
    .person.own_words == $words and .person.notes == $note' \
    --arg name "$PERSON_NAME" --arg contact "$CONTACT" --arg words "$OWN_WORDS" --arg note "$NOTE"
ok_json rn northside handoff list --json
assert_jq "$OUT" '.handoffs == []'
wait_json 10 "the delivery receipt on peerlink (delivered_at)" '.delivered_at != null' \
    rn peerlink handoff show "$H" --json

log_step "the state machine refuses what a side may not do"
expect_rc 3 rn peerlink handoff accept "$H"
expect_rc 3 rn harbor handoff decline "$H"
expect_rc 3 rn harbor handoff complete "$H" --outcome got-help
expect_rc 3 rn peerlink handoff milestone "$H" first-contact-confirmed
expect_rc 3 rn harbor handoff milestone "$H" introduced --mode in-person
ok_json rn harbor handoff show "$H" --json
assert_jq "$OUT" '.status == "requested"'
ok_json rn peerlink handoff show "$H" --json
assert_jq "$OUT" '.status == "requested"'

log_step "harbor accepts; peerlink records the introduction"
ok rn harbor handoff accept "$H"
wait_handoff_status peerlink "$H" accepted
ok rn peerlink handoff milestone "$H" introduced --mode in-person
wait_json 10 "the introduction on harbor" '[.events[] | select(.milestone == "introduced")] |
    length == 1' rn harbor handoff show "$H" --json

log_step "harbor confirms first contact, begins and completes"
ok rn harbor handoff milestone "$H" first-contact-confirmed
wait_json 10 "first contact on peerlink" \
    '[.events[] | select(.milestone == "first-contact-confirmed")] | length == 1' \
    rn peerlink handoff show "$H" --json
ok rn harbor handoff begin "$H"
wait_handoff_status peerlink "$H" in-progress
ok rn harbor handoff complete "$H" --outcome got-help
wait_handoff_status peerlink "$H" completed
expect_rc 3 rn harbor handoff begin "$H"

log_step "peerlink follows up"
ok rn peerlink handoff milestone "$H" follow-up-done
wait_json 10 "the follow-up on harbor" \
    '[.events[] | select(.milestone == "follow-up-done")] | length == 1' \
    rn harbor handoff show "$H" --json

log_step "both sides agree"
HISTORY='[.events[] | {what: (.status // .milestone), by}]'
EXPECTED='[{"what":"requested","by":"peerlink"},{"what":"accepted","by":"harbor"},
    {"what":"introduced","by":"peerlink"},{"what":"first-contact-confirmed","by":"harbor"},
    {"what":"in-progress","by":"harbor"},{"what":"completed","by":"harbor"},
    {"what":"follow-up-done","by":"peerlink"}]'
for side in peerlink harbor; do
    ok_json rn "$side" handoff show "$H" --json
    assert_jq "$OUT" '.status == "completed" and .outcome == "got-help"'
    assert_jq "$OUT" "$HISTORY == $EXPECTED"
    assert_jq "$OUT" '.events | all(.at != null and (.at | type == "string"))'
    assert_jq "$OUT" '[.events[] | select(.milestone == "introduced")][0].mode == "in-person"'
done
ok_json rn harbor handoff list --status completed --json
assert_jq "$OUT" '[.handoffs[].id] == [$h] and .handoffs[0].outcome == "got-help"' --arg h "$H"
ok_json rn peerlink handoff list --outbox --json
assert_jq "$OUT" '[.handoffs[].id] == [$h] and .handoffs[0].status == "completed"' --arg h "$H"

log_step "the administrator's view"
ok_json admin flow --json
assert_jq "$OUT" '.handoffs == 1'
assert_jq "$OUT" '[.flow[] | select(.from == "peerlink" and .to == "harbor" and
    .status == "completed")] | length == 1 and .[0].count == 1'
assert_jq "$OUT" '[.flow[].count] | add == 1'
assert_jq "$OUT" '.median_accept_seconds | type == "number" and . >= 0 and . < 120'
assert_not_contains "$OUT" "Dana" "admin flow output"
ok_json admin nodes --json
assert_jq "$OUT" '[.agencies[].id] | sort == ["harbor", "northside", "peerlink"]'
assert_jq "$OUT" '.agencies | all(.online == true and .last_seen != null)'
assert_jq "$OUT" '.agencies[] | select(.id == "harbor") | .name == "Harbor House"'
assert_not_contains "$OUT" "Dana" "admin nodes output"

log_step "the broker never logged person data"
BROKER_LOG=$(cat "$T/logs/broker.log")
assert_not_contains "$BROKER_LOG" "$PERSON_NAME" "broker log"
assert_not_contains "$BROKER_LOG" "detox somewhere" "broker log"
assert_not_contains "$BROKER_LOG" "555-0142" "broker log"

finish
