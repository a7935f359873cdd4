#!/usr/bin/env bash
# hsds_roundtrip: HSDS 3.0 import and export through the CLI, against the HSDS examples.
#
# Two nodes are agencies of the fixture organization d9d5e0f5-... (--organization-id).
# "civic" first gets a copy of the CSV datapackage with one bad cell, then one whose phone
# names a service that does not exist: each refusal names file, row and field (and the missing
# id), and nothing is imported. Then it imports the real datapackage (by a relative
# path): its location and contact name other organizations (985e4a42-..., ae67a707-...) and
# are refused and listed; a CSV export matches every other fixture row field by field.
# "civic2" imports json/service_full.json: its service links to a taxonomy term, so it is
# published and reaches a third agency's replica; the JSON export matches service_full.json
# and organization_full.json field by field, and the whole-replica export (with the third
# agency's service as a minimal HSDS service) is valid against the official compiled schemas.
# Capacity round trip: civic2 sets its service's capacity with 'refnet service availability'
# and exports hsds-csv (HSDS 3.1 service_capacity.csv and unit.csv); the export, with the
# organization and service ids changed, goes to "civic3" of another organization (first with
# a negative count, refused by file, row and field). Its import publishes the service with
# that capacity (seen in harbor's replica), and civic3's CSV export has the same capacity rows,
# field by field. civic2's hsds-json export (HSDS 3.1 capacities) makes the same trip.
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
ORG3=5b0f3c3e-8d0e-4c1a-9f57-3c2d6f1e0a93
SERVICE3=0e6c1b9a-4f2d-4e7b-8a35-9d1c2b7f6e40
SERVICE4=8c2e4a61-7b3d-4c9e-a5f0-6e1d3b8a2c57
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

# hsds_node ID [ORG_ID]: a node of the fixture organization (or ORG_ID), enrolled, running and
# connected.
hsds_node() {
    local id=$1 org=${2:-$ORG}
    ok "$REFNET_BIN/refnet-node" init --data "$T/$id" --agency "$id" --name "$id" \
        --broker "$BROKER_EP" --broker-key "$BROKER_KEY" --broker-sign-key "$BROKER_SIGN_KEY" \
        --organization-id "$org"
    [[ $OUT == *"HSDS organization id: $org"* ]] || fail "init does not name the organization: $OUT"
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

log_step "a row naming a record that is neither imported nor stored refuses the import"
MISSING=7d1f0c52-33a4-4f0e-b1c6-2a9e8f4d5b17
mkdir "$T/badref"
cp "$FIX"/csv/*.csv "$T/badref/"
python3 - "$T/badref/phones.csv" "$MISSING" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
rows[1][rows[0].index("service_id")] = sys.argv[2]
csv.writer(open(sys.argv[1], "w", newline="", encoding="utf-8")).writerows(rows)
EOF
expect_rc 2 rn civic directory import "$T/badref"
[[ $ERR == *"phones.csv row 2 field service_id"*"$MISSING"* ]] ||
    fail "the refusal does not name file, row, field and the missing id: $ERR"
ok rn civic directory export --format hsds-csv --own "$T/empty2"
for f in organizations services phones; do
    [[ $(wc -l <"$T/empty2/$f.csv") == 1 ]] || fail "$f.csv holds rows after a refused import"
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
# HSDS 3.0's 21 tables, then HSDS 3.1's two capacity tables (empty: nothing set capacity).
assert_jq "$(cat "$T/csv-out/datapackage.json")" '(.resources | length) == 23 and
    ([.resources[21:][] | .path] == ["service_capacity.csv", "unit.csv"]) and
    ([.resources[:21][] | select(.description)] == [])'
[[ $(wc -l <"$T/csv-out/service_capacity.csv") == 1 ]] || fail "capacity rows from nowhere"

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

log_step "capacity survives an hsds-csv export and import on another node, field by field"
ok rn civic2 service availability "$SERVICE" --available 2 --capacity 9
wait_service civic2 "$SERVICE" '.available == 2 and .capacity == 9'
ok rn civic2 directory export --format hsds-csv --own "$T/cap-out"
HEADER=$(head -n 1 "$T/cap-out/service_capacity.csv" | tr -d '\r')
[[ $HEADER == "id,service_id,unit_id,available,maximum,description,updated" ]] ||
    fail "service_capacity.csv does not have HSDS 3.1's columns: $HEADER"
# The same records as another organization's: new organization and service ids.
mkdir "$T/cap-in" "$T/cap-want"
for f in "$T"/cap-out/*.csv; do
    sed -e "s/$ORG/$ORG3/g" -e "s/$SERVICE/$SERVICE3/g" "$f" >"$T/cap-in/$(basename "$f")"
done
cp "$T/cap-in/service_capacity.csv" "$T/cap-in/unit.csv" "$T/cap-want/"
run python3 - "$T/cap-in" "$SERVICE3" <<'EOF'
import csv, os, sys
def rows(name):
    return list(csv.DictReader(open(os.path.join(sys.argv[1], name), newline="", encoding="utf-8")))
caps, units = rows("service_capacity.csv"), rows("unit.csv")
assert len(caps) == 1 and len(units) == 1, (caps, units)
c, u = caps[0], units[0]
assert c["service_id"] == sys.argv[2] and c["available"] == "2" and c["maximum"] == "9", c
assert c["unit_id"] == u["id"] and u["name"] == "place", (c, u)
assert c["updated"].startswith("20") and c["updated"].endswith("Z"), c
EOF
((RC == 0)) || fail "civic2's capacity tables do not hold the capacity it set:"$'\n'"$OUT$ERR"
hsds_node civic3 "$ORG3"
mkdir "$T/cap-bad"
cp "$T"/cap-in/*.csv "$T/cap-bad/"
python3 - "$T/cap-bad/service_capacity.csv" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
rows[1][rows[0].index("available")] = "-3"
csv.writer(open(sys.argv[1], "w", newline="", encoding="utf-8")).writerows(rows)
EOF
expect_rc 2 rn civic3 directory import "$T/cap-bad"
[[ $ERR == *"service_capacity.csv row 2 field available"* ]] ||
    fail "the refusal does not name file, row and field: $ERR"
ok_json rn civic3 directory import "$T/cap-in" --json
assert_jq "$OUT" '.published == 1 and .records.service_capacity == 1 and .records.unit == 1'
wait_service harbor "$SERVICE3" '.agency == "civic3" and .available == 2 and .capacity == 9 and
    .unit == "place"'
ok rn civic3 directory export --format hsds-csv --own "$T/cap-again"
compare csv "$T/cap-want" "$T/cap-again"

log_step "capacity survives an hsds-json export and import too"
ok rn civic2 directory export --format hsds-json --own "$T/capj-out"
sed -e "s/$ORG/$ORG3/g" -e "s/$SERVICE/$SERVICE4/g" "$T/capj-out/services/$SERVICE.json" \
    >"$T/capj.json"
assert_jq "$(cat "$T/capj.json")" '.capacities | length == 1 and .[0].available == 2 and
    .[0].maximum == 9 and .[0].unit.name == "place"'
ok_json rn civic3 directory import "$T/capj.json" --json
assert_jq "$OUT" '.published == 1 and .records.service_capacity == 1 and .records.unit == 1'
wait_service harbor "$SERVICE4" '.agency == "civic3" and .available == 2 and .capacity == 9'
ok rn civic3 directory export --format hsds-json --own "$T/capj-again"
compare json "$T/capj.json" "$T/capj-again/services/$SERVICE4.json"

finish
