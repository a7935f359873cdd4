#!/usr/bin/env bash
# restart_durability: whatever a daemon acknowledged survives its restart, clean (TERM) or not
# (kill -9).
#
# Broker: the directory (services, latest availability, sequence numbers), the enrolled agencies,
# the flow statistics, and mail it answered STORED for an agency that is offline, which is
# delivered after the broker restarts. A node: its persons, consents, handoffs with their
# history, its directory replica and sequence, and changes it accepted but had not yet sent.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

log_step "network: broker and two agencies, a handoff accepted"
start_broker
start_node peerlink "Peer Link Recovery Community"
start_node harbor "Harbor House"
publish harbor harbor-detox "Harbor detox beds" detox --capacity 12 --available 3
publish peerlink peer-coach "Peer recovery coaching" peer-support --capacity 20 --available 6
wait_service harbor peer-coach
wait_service peerlink harbor-detox
add_person peerlink "Avery Quinn" "555-0177"
P1=$PERSON
grant peerlink "$P1" harbor contact,own-words,notes
C1=$CONSENT
start_handoff peerlink "$P1" harbor-detox --own-words "I am ready to stop." --mode video
H1=$HANDOFF
wait_json 10 "H1 in harbor's inbox" "[.handoffs[].id] == [\"$H1\"]" \
    rn harbor handoff list --inbox --json
ok rn harbor handoff accept "$H1"
wait_handoff_status peerlink "$H1" accepted
dir_seq peerlink
assert_eq 2 "$SEQ" "directory_seq after two publishes"

log_step "broker: TERM and restart"
stop_broker
wait_json 5 "peerlink to notice the broker is gone" '.connected == false' \
    rn peerlink status --json
run_broker
wait_connected peerlink
wait_connected harbor
ok_json admin nodes --json
assert_jq "$OUT" '[.agencies[].id] | sort == ["harbor", "peerlink"]'
ok_json admin flow --json
assert_jq "$OUT" '.handoffs == 1 and ([.flow[] | select(.from == "peerlink" and .to == "harbor" and
    .status == "accepted")][0].count == 1)'
publish harbor harbor-shelter "Harbor shelter" shelter --available 9
wait_service peerlink harbor-shelter
dir_seq peerlink
assert_eq 3 "$SEQ" "directory_seq continues after the broker's restart"

log_step "broker: kill -9 with stored mail for an offline agency"
stop_node harbor
start_handoff peerlink "$P1" harbor-detox --own-words "Second try, same goal." --mode phone
H2=$HANDOFF
wait_json 10 "the broker to store H2 (stored_at on peerlink)" '.stored_at != null' \
    rn peerlink handoff show "$H2" --json
ok rn peerlink service availability peer-coach --available 1
wait_service peerlink peer-coach '.available == 1'
dir_seq peerlink
SEQ_ACK=$SEQ
assert_eq 4 "$SEQ_ACK" "directory_seq after the availability change"
kill9_broker
run_broker
run_node harbor
wait_connected harbor
wait_json 10 "H2 delivered to harbor after the broker's crash" \
    "[.handoffs[] | select(.id == \"$H2\")] | length == 1" rn harbor handoff list --inbox --json
ok_json rn harbor handoff show "$H2" --json
assert_jq "$OUT" '.status == "requested" and .person.own_words == "Second try, same goal."'
wait_json 10 "harbor to catch up to directory_seq $SEQ_ACK" ".directory_seq == $SEQ_ACK" \
    rn harbor status --json
wait_service harbor peer-coach '.available == 1 and .capacity == 20'
wait_connected peerlink
ok_json admin flow --json
assert_jq "$OUT" '.handoffs == 2'

log_step "a node that joins after the crash gets the whole directory"
start_node northside "Northside Shelter"
wait_json 10 "northside to reach directory_seq $SEQ_ACK" ".directory_seq == $SEQ_ACK" \
    rn northside status --json
ok_json rn northside search --json
assert_jq "$OUT" '[.services[].id] | sort == ["harbor-detox", "harbor-shelter", "peer-coach"]'
assert_jq "$OUT" '.services[] | select(.id == "peer-coach") | .available == 1'

log_step "node: kill -9 of peerlink right after local writes"
add_person peerlink "Kim Adler"
P2=$PERSON
grant peerlink "$P2" "*" own-words
C2=$CONSENT
ok rn peerlink handoff milestone "$H1" introduced --mode video
kill9_node peerlink
run_node peerlink
ok_json rn peerlink person list --json
assert_jq "$OUT" '[.persons[] | {id, name}] | sort_by(.name) ==
    [{"id": $p1, "name": "Avery Quinn"}, {"id": $p2, "name": "Kim Adler"}]' \
    --arg p1 "$P1" --arg p2 "$P2"
ok_json rn peerlink consent list --json
assert_jq "$OUT" '[.consents[] | {id, to, valid}] | sort_by(.to) ==
    [{"id": $c2, "to": "*", "valid": true}, {"id": $c1, "to": "harbor", "valid": true}]' \
    --arg c1 "$C1" --arg c2 "$C2"
ok_json rn peerlink handoff list --outbox --json
assert_jq "$OUT" '[.handoffs[] | {id, status}] | sort_by(.id) ==
    ([{"id": $h1, "status": "accepted"}, {"id": $h2, "status": "requested"}] | sort_by(.id))' \
    --arg h1 "$H1" --arg h2 "$H2"
ok_json rn peerlink handoff show "$H1" --json
assert_jq "$OUT" '[.events[] | (.status // .milestone)] == ["requested", "accepted", "introduced"]'
dir_seq peerlink
assert_eq "$SEQ_ACK" "$SEQ" "peerlink's directory_seq after kill -9"
wait_connected peerlink
wait_json 10 "the introduction (queued before the crash) on harbor" \
    '[.events[] | select(.milestone == "introduced")] | length == 1' \
    rn harbor handoff show "$H1" --json

log_step "node: kill -9 of harbor right after accepting"
ok rn harbor handoff accept "$H2"
kill9_node harbor
run_node harbor
ok_json rn harbor handoff show "$H2" --json
assert_jq "$OUT" '.status == "accepted"'
wait_connected harbor
wait_handoff_status peerlink "$H2" accepted

log_step "node: TERM and restart keeps everything"
stop_node harbor
run_node harbor
ok_json rn harbor handoff list --inbox --json
assert_jq "$OUT" '[.handoffs[] | {id, status}] | sort_by(.id) ==
    ([{"id": $h1, "status": "accepted"}, {"id": $h2, "status": "accepted"}] | sort_by(.id))' \
    --arg h1 "$H1" --arg h2 "$H2"
ok_json rn harbor handoff show "$H1" --json
assert_jq "$OUT" '.person.name == "Avery Quinn" and .mode == "video"'
dir_seq harbor
assert_eq "$SEQ_ACK" "$SEQ" "harbor's directory_seq after a restart"
wait_connected harbor
ok_json admin flow --json
assert_jq "$OUT" '.handoffs == 2 and ([.flow[] | select(.status == "accepted")][0].count == 2)'

finish
