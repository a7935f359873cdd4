#!/usr/bin/env bash
# hsds_roundtrip: HSDS 3.0 import and export through the CLI, against the HSDS examples.
#
# Two nodes are agencies of the fixture organization d9d5e0f5-... (--organization-id).
# "civic" first gets a copy of the CSV datapackage with one bad cell: the refusal names file,
# row and field, and nothing is imported. Then it imports the real datapackage (by a relative
# path): its location and contact name other organizations (985e4a42-..., ae67a707-...) and
# are refused and listed; a CSV export matches every other fixture row field by field.
# "civic2" imports json/service_full.json: its service links to a taxonomy term, so it is
# published and reaches a third agency's replica; the JSON export matches service_full.json
# and organization_full.json field by field, and the whole-replica export (with the third
# agency's service as a minimal HSDS service) is valid against the official compiled schemas.
# Needs ../shared/fixtures beside the clone (REFNET_FIXTURES overrides); exits 77 (skipped)
# without it.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
FIX=${REFNET_FIXTURES:-$HERE/../../../shared/fixtures}/hsds-3.0
if [[ ! -d $FIX/csv || ! -f $FIX/json/service_full.json ]]; then
    echo "hsds_roundtrip: skipped: the HSDS fixtures are not at $FIX (CI keeps ../shared beside" \
        "the clone; REFNET_FIXTURES names another place)"
    exit 77
fi
ORG=d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610
SERVICE=ac148810-d857-441c-9679-408f346de14b
COMPARE=$HERE/hsds_compare.py

# A python3 that has jsonschema (Debian's python3-jsonschema is in /usr/bin).
SCHEMA_PY=
for py in python3 /usr/bin/python3; do
    if "$py" -c 'import jsonschema' 2>/dev/null; then
        SCHEMA_PY=$py
        break
    fi
done
[[ -n $SCHEMA_PY ]] || fail "no python3 with the jsonschema module (Debian: python3-jsonschema)"

# hsds_node ID: a node of the fixture organization, enrolled, running and connected.
hsds_node() {
    local id=$1
    ok "$REFNET_BIN/refnet-node" init --data "$T/$id" --agency "$id" --name "$id" \
        --broker "$BROKER_EP" --broker-key "$BROKER_KEY" --broker-sign-key "$BROKER_SIGN_KEY" \
        --organization-id "$ORG"
    [[ $OUT == *"HSDS organization id: $ORG"* ]] || fail "init does not name the organization: $OUT"
    NODE_KEY[$id]=$(tail -n 1 <<<"$OUT")
    enroll_node "$id"
    run_node "$id"
    wait_connected "$id"
}

# compare MODE ARGS...: hsds_compare.py must find no difference.
compare() {
    run python3 "$COMPARE" "$@"
    ((RC == 0)) || fail "hsds_compare $1 found differences:"$'\n'"$OUT$ERR"
}

log_step "network: broker, two nodes of the fixture organization, one other agency"
start_broker
hsds_node civic
hsds_node civic2
start_node harbor "Harbor House"
publish harbor harbor-detox "Harbor detox beds" detox --description "Medically supported" \
    --capacity 12 --available 3 --unit bed

log_step "a bad row is refused with file, row and field, and nothing is imported"
mkdir "$T/bad"
cp "$FIX"/csv/*.csv "$T/bad/"
python3 - "$T/bad/services.csv" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
rows[1][rows[0].index("minimum_age")] = "twelve"
csv.writer(open(sys.argv[1], "w", newline="", encoding="utf-8")).writerows(rows)
EOF
expect_rc 2 rn civic directory import "$T/bad"
[[ $ERR == *"services.csv row 2 field minimum_age"* ]] ||
    fail "the refusal does not name file, row and field: $ERR"
ok rn civic directory export --format hsds-csv --own "$T/empty"
for f in organizations services phones; do
    [[ $(wc -l <"$T/empty/$f.csv") == 1 ]] || fail "$f.csv holds rows after a refused import"
done

log_step "civic imports the CSV datapackage (relative path); foreign records are refused"
pushd "$FIX" >/dev/null
ok_json rn civic directory import csv --json
popd >/dev/null
IMPORT=$OUT
assert_jq "$IMPORT" '.organization_id == "'$ORG'"'
assert_jq "$IMPORT" '.records.service == 1 and .records.organization == 1 and .records.phone == 1'
assert_jq "$IMPORT" '[.refused[] | "\(.table):\(.id):\(.organization_id)"] | sort ==
    ["contact:1e7efce3-639b-4880-940c-b95cd30cdb50:ae67a707-5893-4225-b0b1-320ab9cb596b",
     "location:3a19ff88-4620-4d17-9830-ac1d859eb5d5:985e4a42-bd9f-4edc-911d-0243a4640aca"]'
# The fixture's only attribute links to no record, so the service has no taxonomy term.
assert_jq "$IMPORT" '.published == 0 and (.unpublished | length) == 1 and
    (.unpublished[0].reason | contains("taxonomy"))'

log_step "civic's CSV export matches the fixture field by field"
ok rn civic directory export --format hsds-csv --own "$T/csv-out"
compare csv "$FIX/csv" "$T/csv-out" \
    locations.csv:3a19ff88-4620-4d17-9830-ac1d859eb5d5 \
    contacts.csv:1e7efce3-639b-4880-940c-b95cd30cdb50
assert_jq "$(cat "$T/csv-out/datapackage.json")" '(.resources | length) == 21'

log_step "civic2 imports service_full.json; its service is published to the directory"
ok_json rn civic2 directory import "$FIX/json/service_full.json" --json
assert_jq "$OUT" '.published == 1 and .refused == [] and .records.location == 1'
wait_service harbor "$SERVICE" '.agency == "civic2" and .name == "Community Counselling" and
    (.taxonomy | index("code")) != null'

log_step "civic2's JSON export matches service_full.json and organization_full.json"
ok rn civic2 directory export --format hsds-json --own "$T/json-own"
compare json "$FIX/json/service_full.json" "$T/json-own/services/$SERVICE.json"
compare json "$FIX/json/organization_full.json" "$T/json-own/organizations/$ORG.json"

log_step "capacity goes out in HSDS 3.1 service_capacity form"
ok rn civic2 service availability "$SERVICE" --available 4 --capacity 10
wait_service civic2 "$SERVICE" '.available == 4'
ok rn civic2 directory export --format hsds-json --own "$T/json-cap"
assert_jq "$(cat "$T/json-cap/services/$SERVICE.json")" '.capacities | length == 1 and
    .[0].available == 4 and .[0].maximum == 10 and .[0].service_id == "'$SERVICE'" and
    .[0].unit.name == "place" and (.[0].updated | test("^20[0-9-]+T"))'

log_step "the JSON exports are valid against the official compiled schemas"
ok rn civic2 directory export --format hsds-json "$T/json-all"
[[ -f $T/json-all/services/harbor-detox.json ]] || fail "the whole export lacks harbor's service"
assert_jq "$(cat "$T/json-all/services/harbor-detox.json")" '.capacities[0].available == 3 and
    .capacities[0].maximum == 12 and .capacities[0].unit.name == "bed"'
run "$SCHEMA_PY" "$COMPARE" schema "$FIX/schema/compiled/service.json" "$T"/json-all/services/*.json
((RC == 0)) || fail "services not valid against the schema:"$'\n'"$OUT$ERR"
run "$SCHEMA_PY" "$COMPARE" schema "$FIX/schema/compiled/organization.json" \
    "$T"/json-all/organizations/*.json
((RC == 0)) || fail "organizations not valid against the schema:"$'\n'"$OUT$ERR"

finish
