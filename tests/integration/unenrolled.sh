#!/usr/bin/env bash
# unenrolled: a node whose key the broker has not enrolled cannot connect; enrolling it while the
# broker runs lets it in within seconds, without a restart.
#
# While the outsider keeps knocking, the broker keeps serving the enrolled agency: it stays
# connected, publishes, and its change is sequenced. Once enrolled, the outsider connects and
# catches up with the directory.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

log_step "network: broker, one enrolled agency, one outsider"
start_broker
start_node harbor "Harbor House"
init_node outsider "Outsider Services"
run_node outsider

log_step "the outsider stays disconnected for many heartbeats"
holds_for 3 "outsider reports connected = false" '.connected == false' rn outsider status --json
ok_json rn outsider status --json
assert_jq "$OUT" '.agency == "outsider" and .directory_seq == 0'

log_step "meanwhile the broker serves harbor"
ok_json rn harbor status --json
assert_jq "$OUT" '.connected == true'
publish harbor harbor-detox "Harbor detox beds" detox --capacity 12 --available 3
wait_service harbor harbor-detox '.available == 3'
dir_seq harbor
assert_eq 1 "$SEQ" "harbor's directory_seq after its first publish"
holds_for 1 "harbor stays connected" '.connected == true' rn harbor status --json
ok_json admin nodes --json
assert_jq "$OUT" '[.agencies[] | select(.id == "harbor")][0].online == true'
assert_jq "$OUT" '[.agencies[] | select(.id == "outsider" and .online == true)] | length == 0'
ok_json rn outsider search --json
assert_jq "$OUT" '.services == []'

log_step "enrolling the outsider while the broker runs"
enroll_node outsider "Outsider Services"
ENROLLED_AT=$(lib_now_ms)
# The broker takes an enrolment within a second; the node retries with backoff up to 5 s.
wait_connected outsider 10
echo "outsider connected $(($(lib_now_ms) - ENROLLED_AT)) ms after its enrolment"
wait_service outsider harbor-detox '.agency == "harbor" and .available == 3'
dir_seq outsider
assert_eq 1 "$SEQ" "outsider's directory_seq after catching up"
wait_json 5 "admin nodes to show the outsider online" \
    '[.agencies[] | select(.id == "outsider")][0] | .online == true and .name == "Outsider Services"' \
    admin nodes --json

log_step "the newly enrolled agency takes part"
publish outsider outsider-food "Outsider food pantry" food-pantry --available 40
wait_service harbor outsider-food '.agency == "outsider"'

finish
