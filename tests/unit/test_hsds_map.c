/* Unit tests of hsds_map: nesting stored HSDS rows into the API's full objects, mapping an
 * HSDS service onto a directory Service (with its HSDS 3.1 capacity), and the capacity rows of
 * an export, stored and live. */
#include "test_node_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "hsds_map.h"
#include "refnet_error.h"
#include "uid.h"

#define ORG   "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
#define SVC   "ac148810-d857-441c-9679-408f346de14b"
#define SVC2  "bc148810-d857-441c-9679-408f346de14b"
#define PHONE "1554f2e2-a373-45db-a3fa-9fc48a61c15e"
#define SAL   "e94c9f38-1e8f-4564-91d4-d53501ab1765"
#define LOC   "3a19ff88-4620-4d17-9830-ac1d859eb5d5"
#define ATTR  "ae58cc39-8b70-4ab1-8aea-786882e5ac8e"
#define TERM  "3f7b145d-84af-42d7-8fae-eaca714b02b2"
#define CAPA  "1a0a8d7e-2b4c-4e1f-9a63-1c7d2e8b4f90"
#define CAPB  "2b0a8d7e-2b4c-4e1f-9a63-1c7d2e8b4f90"
#define UNIT  "6a1b9e8f-3c5d-4f20-8b74-2d8e3f9c5a01"

/* One flat row per line of `rows`: "table {json}". */
static void
load(nfx_t *fx, const char *const *rows, size_t n)
{
    char why[HSDS_WHY_LEN] = "";
    hsds_batch_t *b = hsds_batch_new(ORG);
    for (size_t i = 0; i < n; i++) {
        char table[32];
        const char *sp = strchr(rows[i], ' ');
        snprintf(table, sizeof table, "%.*s", (int)(sp - rows[i]), rows[i]);
        json_t *r = json_loads(sp + 1, 0, NULL);
        assert_non_null(r);
        assert_int_equal(hsds_batch_add_row(b, table, r, "row", why), 0);
        json_decref(r);
    }
    MDB_txn *txn = nfx_begin(fx, false);
    assert_int_equal(hsds_batch_store(b, txn, fx->st), 0);
    assert_int_equal(store_commit(&txn), 0);
    hsds_batch_destroy(&b);
}

static const char *const ROWS[] = {
    "organization {\"id\":\"" ORG "\",\"name\":\"Org\",\"description\":\"d\"}",
    "service {\"id\":\"" SVC "\",\"organization_id\":\"" ORG "\",\"name\":\"Counselling\","
    "\"status\":\"active\",\"description\":\"Talk\"}",
    "phone {\"id\":\"" PHONE "\",\"service_id\":\"" SVC "\",\"number\":\"1\"}",
    "language {\"id\":\"2989d3ed-c547-48f8-8f9d-432d81c7892e\",\"service_id\":\"" SVC
    "\",\"code\":\"es\",\"phone_id\":\"" PHONE "\"}",
    "service_at_location {\"id\":\"" SAL "\",\"service_id\":\"" SVC "\",\"location_id\":\"" LOC
    "\"}",
    "location {\"id\":\"" LOC "\",\"organization_id\":\"" ORG "\",\"latitude\":51.5,"
    "\"longitude\":-0.12}",
    "attribute {\"id\":\"" ATTR "\",\"link_id\":\"" SVC "\",\"taxonomy_term_id\":\"" TERM "\"}",
    "taxonomy_term {\"id\":\"" TERM "\",\"code\":\"mental-health\",\"name\":\"Mental health\"}",
    "service {\"id\":\"" SVC2 "\",\"organization_id\":\"" ORG "\",\"name\":\"Bare\"}",
};

static void
test_nest(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    load(fx, ROWS, sizeof ROWS / sizeof ROWS[0]);
    MDB_txn *txn = nfx_begin(fx, true);
    json_t *svc = NULL, *org = NULL;
    assert_int_equal(hsds_map_nest(txn, fx->st, "service", SVC, &svc), 0);
    json_t *phone = json_array_get(json_object_get(svc, "phones"), 0);
    assert_string_equal(json_string_value(json_object_get(phone, "number")), "1");
    assert_null(json_object_get(phone, "service_id")); /* nesting says it */
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(phone, "languages"), 0), "code")),
                        "es");
    json_t *loc = json_object_get(json_array_get(json_object_get(svc, "service_at_locations"), 0),
                                  "location");
    assert_true(json_real_value(json_object_get(loc, "latitude")) == 51.5);
    json_t *o = json_object_get(svc, "organization");
    assert_string_equal(json_string_value(json_object_get(o, "id")), ORG);
    assert_null(json_object_get(o, "services")); /* the root's table is not repeated */
    assert_non_null(json_object_get(o, "locations"));
    assert_null(json_object_get(svc, "organization_id"));
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_array_get(json_object_get(svc, "attributes"), 0), "taxonomy_term"),
            "code")),
        "mental-health");

    assert_int_equal(hsds_map_nest(txn, fx->st, "organization", ORG, &org), 0);
    assert_int_equal(json_array_size(json_object_get(org, "services")), 2);
    assert_null(
        json_object_get(json_array_get(json_object_get(org, "services"), 0), "organization"));
    assert_int_equal(hsds_map_nest(txn, fx->st, "service", LOC, &o), REFNET_ENOTFOUND);
    json_decref(svc);
    json_decref(org);
    store_abort(&txn);
    nfx_destroy(&fx);
}

static void
test_service(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "";
    nfx_t *fx = nfx_new();
    load(fx, ROWS, sizeof ROWS / sizeof ROWS[0]);
    MDB_txn *txn = nfx_begin(fx, true);
    hsds_map_service_t s;
    assert_int_equal(hsds_map_service(txn, fx->st, SVC, "civic", 1700000000000ULL, NULL, &s, why),
                     0);
    assert_string_equal(s.svc.id, SVC);
    assert_string_equal(s.svc.agency, "civic");
    assert_string_equal(s.svc.name, "Counselling");
    assert_string_equal(s.svc.description, "Talk");
    assert_int_equal(s.svc.n_taxonomy, 1);
    assert_string_equal(s.svc.taxonomy[0], "mental-health");
    assert_int_equal(s.svc.n_languages, 1);
    assert_string_equal(s.svc.languages[0], "es");
    assert_true(s.svc.has_location);
    assert_true(s.svc.lat == 51.5 && s.svc.lon == -0.12);
    assert_true(s.svc.intake->accepting);
    assert_null(s.svc.capacity); /* no service_capacity row */
    hsds_map_service_clear(&s);
    hsds_map_service_clear(&s); /* twice is fine */

    /* No attribute links SVC2 to a taxonomy term: not publishable, and the reason says so. */
    assert_int_equal(hsds_map_service(txn, fx->st, SVC2, "civic", 1700000000000ULL, NULL, &s, why),
                     REFNET_EINVAL);
    assert_non_null(strstr(why, "taxonomy"));
    hsds_map_service_clear(&s);
    assert_int_equal(hsds_map_service(txn, fx->st, LOC, "civic", 1, NULL, &s, why),
                     REFNET_ENOTFOUND);
    hsds_map_service_clear(&s);
    store_abort(&txn);
    nfx_destroy(&fx);
}

/* Ages and weekly hours: schedules of the service and of its service_at_location are taken;
 * rows that are not weekly periods (another freq, an unknown day, no times) are skipped. */
static void
test_service_hours_and_ages(void **state)
{
    (void)state;
    static const char *const more[] = {
        "schedule {\"id\":\"11111111-1111-4111-8111-111111111111\",\"service_id\":\"" SVC
        "\",\"freq\":\"WEEKLY\",\"byday\":\"MO,WE\",\"opens_at\":\"09:00:00\","
        "\"closes_at\":\"17:30\"}",
        "schedule "
        "{\"id\":\"22222222-2222-4222-8222-222222222222\",\"service_at_location_id\":\"" SAL
        "\",\"freq\":\"DAILY\",\"opens_at\":\"22:00\",\"closes_at\":\"06:00\"}",
        "schedule {\"id\":\"33333333-3333-4333-8333-333333333333\",\"service_id\":\"" SVC
        "\",\"byday\":\"XX\",\"opens_at\":\"09:00\",\"closes_at\":\"10:00\"}",
        "schedule {\"id\":\"44444444-4444-4444-8444-444444444444\",\"service_id\":\"" SVC
        "\",\"freq\":\"MONTHLY\",\"byday\":\"FR\",\"opens_at\":\"09:00\","
        "\"closes_at\":\"10:00\"}",
        "schedule {\"id\":\"55555555-5555-4555-8555-555555555555\",\"service_id\":\"" SVC
        "\",\"byday\":\"SU\"}",
    };
    char why[HSDS_WHY_LEN] = "";
    nfx_t *fx = nfx_new();
    load(fx, ROWS, sizeof ROWS / sizeof ROWS[0]);
    load(fx, more, sizeof more / sizeof more[0]);
    MDB_txn *txn = nfx_begin(fx, false);
    json_t *row = NULL;
    assert_int_equal(hsds_get(txn, fx->st, "service", SVC, &row), 0);
    json_object_set_new(row, "minimum_age", json_integer(12));
    json_object_set_new(row, "maximum_age", json_real(17.5));
    char *text = json_dumps(row, JSON_COMPACT);
    assert_int_equal(store_put(txn, store_db(fx->st, NODEDB_HSDS), "service/" SVC,
                               strlen("service/" SVC), text, strlen(text), 0),
                     0);
    free(text);
    json_decref(row);
    hsds_map_service_t s;
    assert_int_equal(hsds_map_service(txn, fx->st, SVC, "civic", 1700000000000ULL, NULL, &s, why),
                     0);
    assert_int_equal(s.svc.minimum_age, 12);
    assert_int_equal(s.svc.maximum_age, 17);
    assert_int_equal(s.svc.n_schedules, 2);
    assert_int_equal(s.svc.schedules[0]->weekdays, 0x5); /* Monday and Wednesday */
    assert_int_equal(s.svc.schedules[0]->opens_at, 540);
    assert_int_equal(s.svc.schedules[0]->closes_at, 1050);
    assert_int_equal(s.svc.schedules[1]->weekdays, 0x7F);
    assert_int_equal(s.svc.schedules[1]->opens_at, 1320);
    assert_int_equal(s.svc.schedules[1]->closes_at, 360);
    hsds_map_service_clear(&s);
    store_abort(&txn);
    nfx_destroy(&fx);
}

static void
test_long_description_cut(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "", desc[2600], line[3000];
    /* 1999 ASCII bytes, then 2-byte characters: the cut must not split one. */
    memset(desc, 'a', 1999);
    for (size_t i = 1999; i + 2 < sizeof desc - 1; i += 2) {
        desc[i] = '\xC3';
        desc[i + 1] = '\xA9';
        desc[i + 2] = '\0';
    }
    json_t *row = json_pack("{s:s, s:s, s:s}", "id", SVC, "name", "Long", "description", desc);
    char *text = json_dumps(row, JSON_COMPACT);
    snprintf(line, sizeof line, "service %s", text);
    free(text);
    json_decref(row);
    const char *rows[] = { line, ROWS[6], ROWS[7] };
    nfx_t *fx = nfx_new();
    load(fx, rows, 3);
    MDB_txn *txn = nfx_begin(fx, true);
    hsds_map_service_t s;
    assert_int_equal(hsds_map_service(txn, fx->st, SVC, "civic", 1700000000000ULL, NULL, &s, why),
                     0);
    assert_int_equal(strlen(s.svc.description), 1999);
    assert_false(s.svc.has_location);
    hsds_map_service_clear(&s);
    store_abort(&txn);
    nfx_destroy(&fx);
}

static void
test_from_service(void **state)
{
    (void)state;
    char id[] = "harbor-detox", name[] = "Detox", desc[] = "Beds";
    Refnet__Service svc = REFNET__SERVICE__INIT;
    svc.id = id;
    svc.name = name;
    svc.description = desc;
    json_t *o = hsds_map_from_service(&svc);
    assert_string_equal(json_string_value(json_object_get(o, "id")), "harbor-detox");
    assert_string_equal(json_string_value(json_object_get(o, "status")), "active");
    assert_string_equal(json_string_value(json_object_get(o, "description")), "Beds");
    json_decref(o);
}

/* Capacity goes out in HSDS 3.1 service_capacity form, with ids stable across exports. */
static void
test_capacity(void **state)
{
    (void)state;
    char id[] = "harbor-detox", name[] = "Detox", unit[] = "bed", none[] = "";
    Refnet__Service svc = REFNET__SERVICE__INIT;
    Refnet__Capacity cap = REFNET__CAPACITY__INIT;
    svc.id = id;
    svc.name = name;
    json_t *o = hsds_map_from_service(&svc);
    hsds_map_capacity(o, &svc); /* no capacity: nothing */
    assert_null(json_object_get(o, "capacities"));
    cap.available = -1;
    cap.maximum = 12;
    cap.unit = unit;
    svc.capacity = &cap;
    hsds_map_capacity(o, &svc); /* available unknown: nothing */
    assert_null(json_object_get(o, "capacities"));

    cap.available = 3;
    cap.updated_at_ms = 1790000000000ULL;
    hsds_map_capacity(o, &svc);
    json_t *c = json_array_get(json_object_get(o, "capacities"), 0);
    assert_non_null(c);
    assert_int_equal(json_array_size(json_object_get(o, "capacities")), 1);
    assert_true(uid_is_uuid(json_string_value(json_object_get(c, "id"))));
    assert_string_equal(json_string_value(json_object_get(c, "service_id")), "harbor-detox");
    assert_int_equal(json_integer_value(json_object_get(c, "available")), 3);
    assert_int_equal(json_integer_value(json_object_get(c, "maximum")), 12);
    assert_string_equal(json_string_value(json_object_get(c, "updated")),
                        "2026-09-21T14:13:20.000Z");
    json_t *u = json_object_get(c, "unit");
    assert_string_equal(json_string_value(json_object_get(u, "name")), "bed");
    assert_true(uid_is_uuid(json_string_value(json_object_get(u, "id"))));
    char first[UID_STR_LEN];
    snprintf(first, sizeof first, "%s", json_string_value(json_object_get(c, "id")));

    cap.unit = none;
    cap.maximum = -1;
    hsds_map_capacity(o, &svc); /* replaces; the id is the same, the unit defaults */
    c = json_array_get(json_object_get(o, "capacities"), 0);
    assert_string_equal(json_string_value(json_object_get(c, "id")), first);
    assert_null(json_object_get(c, "maximum"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "unit"), "name")),
                        "place");
    json_decref(o);
}

static const char *const CAP_ROWS[] = {
    "service_capacity {\"id\":\"" CAPB "\",\"service_id\":\"" SVC "\",\"available\":9}",
    "service_capacity {\"id\":\"" CAPA "\",\"service_id\":\"" SVC "\",\"unit_id\":\"" UNIT
    "\",\"available\":3,\"maximum\":10,\"updated\":\"2026-11-20T08:30:00.250+01:00\"}",
    "unit {\"id\":\"" UNIT "\",\"name\":\"bed\",\"scheme\":\"local\"}",
    "service_capacity {\"id\":\"3c0a8d7e-2b4c-4e1f-9a63-1c7d2e8b4f90\",\"service_id\":\"" SVC2
    "\",\"available\":1}",
};

/* The first stored service_capacity row (in id order) is the published capacity. */
static void
test_service_capacity(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "";
    nfx_t *fx = nfx_new();
    load(fx, ROWS, sizeof ROWS / sizeof ROWS[0]);
    load(fx, CAP_ROWS, sizeof CAP_ROWS / sizeof CAP_ROWS[0]);
    MDB_txn *txn = nfx_begin(fx, true);
    hsds_map_service_t s;
    assert_int_equal(hsds_map_service(txn, fx->st, SVC, "civic", 1700000000000ULL, NULL, &s, why),
                     0);
    assert_non_null(s.svc.capacity);
    assert_int_equal(s.svc.capacity->available, 3);
    assert_int_equal(s.svc.capacity->maximum, 10);
    assert_string_equal(s.svc.capacity->unit, "bed");
    assert_int_equal(s.svc.capacity->updated_at_ms, 1795159800250ULL); /* 07:30:00.250Z */
    hsds_map_service_clear(&s);

    /* The index built in one pass gives the same first row per service. */
    json_t *index = NULL;
    assert_int_equal(hsds_map_capacity_index(txn, fx->st, &index), 0);
    assert_int_equal(json_object_size(index), 2);
    assert_int_equal(hsds_map_service(txn, fx->st, SVC, "civic", 1700000000000ULL, index, &s, why),
                     0);
    assert_int_equal(s.svc.capacity->available, 3);
    assert_string_equal(s.svc.capacity->unit, "bed");
    hsds_map_service_clear(&s);
    json_t *other = json_object_get(index, SVC2);
    assert_int_equal(json_integer_value(json_object_get(other, "available")), 1);
    json_decref(index);

    /* The nested form lists both rows, the unit nested in its row. */
    json_t *doc = NULL;
    assert_int_equal(hsds_map_nest(txn, fx->st, "service", SVC, &doc), 0);
    json_t *caps = json_object_get(doc, "capacities");
    assert_int_equal(json_array_size(caps), 2);
    json_t *a = json_array_get(caps, 0);
    assert_string_equal(json_string_value(json_object_get(a, "id")), CAPA);
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "unit"), "name")),
                        "bed");
    assert_null(json_object_get(a, "unit_id"));
    json_decref(doc);
    store_abort(&txn);

    /* A row without maximum, unit or time: maximum unknown, no unit, updated now. */
    hsds_batch_t *b = hsds_batch_new(ORG);
    json_t *r = json_pack("{s:s, s:s, s:i}", "id", CAPA, "service_id", SVC, "available", 2);
    assert_int_equal(hsds_batch_add_row(b, "service_capacity", r, "row", why), 0);
    json_decref(r);
    txn = nfx_begin(fx, false);
    assert_int_equal(store_del(txn, store_db(fx->st, NODEDB_HSDS), "service_capacity/" CAPA,
                               strlen("service_capacity/" CAPA)),
                     0);
    assert_int_equal(hsds_batch_store(b, txn, fx->st), 0);
    assert_int_equal(hsds_map_service(txn, fx->st, SVC, "civic", 1700000000000ULL, NULL, &s, why),
                     0);
    assert_int_equal(s.svc.capacity->available, 2);
    assert_int_equal(s.svc.capacity->maximum, -1);
    assert_string_equal(s.svc.capacity->unit, "");
    assert_int_equal(s.svc.capacity->updated_at_ms, 1700000000000ULL);
    hsds_map_service_clear(&s);
    store_abort(&txn);
    hsds_batch_destroy(&b);
    nfx_destroy(&fx);
}

/* An export's capacity rows: the directory's numbers on the first stored row when they are no
 * older, its id, description and (same name) unit kept; stored rows as they are otherwise. */
static void
test_capacity_rows(void **state)
{
    (void)state;
    char unit[] = "bed", slot[] = "slot", id[] = SVC, name[] = "Counselling";
    json_t *stored = json_pack("[{s:s, s:s, s:s, s:i, s:i, s:s, s:s}, {s:s, s:s, s:i}]", "id", CAPA,
                               "service_id", SVC, "unit_id", UNIT, "available", 1, "maximum", 5,
                               "description", "Ward B", "updated", "2026-11-20T08:30:00Z", "id",
                               CAPB, "service_id", SVC, "available", 9);
    json_t *units =
        json_pack("{s:{s:s, s:s, s:s}}", UNIT, "id", UNIT, "name", "bed", "scheme", "local");
    Refnet__Service svc = REFNET__SERVICE__INIT;
    Refnet__Capacity cap = REFNET__CAPACITY__INIT;
    svc.id = id;
    svc.name = name;
    svc.capacity = &cap;
    cap.available = 4;
    cap.maximum = 6;
    cap.unit = unit;
    cap.updated_at_ms = 1795219200000ULL; /* 2026-11-21: newer than the row */

    json_t *caps = json_array(), *out_units = json_object();
    hsds_map_capacity_rows(SVC, stored, units, &svc, caps, out_units);
    assert_int_equal(json_array_size(caps), 2);
    json_t *c = json_array_get(caps, 0);
    assert_string_equal(json_string_value(json_object_get(c, "id")), CAPA);
    assert_string_equal(json_string_value(json_object_get(c, "description")), "Ward B");
    assert_string_equal(json_string_value(json_object_get(c, "unit_id")), UNIT);
    assert_int_equal(json_integer_value(json_object_get(c, "available")), 4);
    assert_int_equal(json_integer_value(json_object_get(c, "maximum")), 6);
    assert_string_equal(json_string_value(json_object_get(c, "updated")),
                        "2026-11-21T00:00:00.000Z");
    assert_true(json_equal(json_array_get(caps, 1), json_array_get(stored, 1)));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(out_units, UNIT), "scheme")), "local");
    /* Nested: the unit object in place of unit_id. */
    json_t *doc = json_object();
    hsds_map_capacity_nest(doc, caps, out_units);
    json_t *n0 = json_array_get(json_object_get(doc, "capacities"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(n0, "unit"), "id")),
                        UNIT);
    assert_null(json_object_get(n0, "unit_id"));
    json_decref(caps);
    json_decref(out_units);

    /* Another unit name: a unit of that name, with its derived id. */
    cap.unit = slot;
    caps = json_array();
    out_units = json_object();
    hsds_map_capacity_rows(SVC, stored, units, &svc, caps, out_units);
    const char *uid = json_string_value(json_object_get(json_array_get(caps, 0), "unit_id"));
    assert_true(uid_is_uuid(uid));
    assert_string_not_equal(uid, UNIT);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out_units, uid), "name")),
                        "slot");
    json_decref(caps);
    json_decref(out_units);

    /* Older numbers in the directory, or none: the stored rows as they are. */
    cap.updated_at_ms = 1795000000000ULL;
    for (int i = 0; i < 2; i++) {
        caps = json_array();
        out_units = json_object();
        hsds_map_capacity_rows(SVC, stored, units, i == 0 ? &svc : NULL, caps, out_units);
        assert_true(json_equal(caps, stored));
        assert_true(json_equal(json_object_get(out_units, UNIT), json_object_get(units, UNIT)));
        json_decref(caps);
        json_decref(out_units);
    }

    /* No stored row: the directory's capacity as hsds_map_capacity gives it; nesting nothing
     * removes capacities. */
    cap.unit = unit;
    caps = json_array();
    out_units = json_object();
    hsds_map_capacity_rows(SVC, NULL, NULL, &svc, caps, out_units);
    json_t *alone = json_object();
    hsds_map_capacity(alone, &svc);
    json_t *want = json_array_get(json_object_get(alone, "capacities"), 0);
    c = json_array_get(caps, 0);
    assert_string_equal(json_string_value(json_object_get(c, "id")),
                        json_string_value(json_object_get(want, "id")));
    assert_string_equal(json_string_value(json_object_get(c, "unit_id")),
                        json_string_value(json_object_get(json_object_get(want, "unit"), "id")));
    json_array_clear(caps);
    hsds_map_capacity_nest(doc, caps, out_units);
    assert_null(json_object_get(doc, "capacities"));
    json_decref(alone);
    json_decref(doc);
    json_decref(caps);
    json_decref(out_units);
    json_decref(stored);
    json_decref(units);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nest),
        cmocka_unit_test(test_service),
        cmocka_unit_test(test_service_hours_and_ages),
        cmocka_unit_test(test_long_description_cut),
        cmocka_unit_test(test_from_service),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_service_capacity),
        cmocka_unit_test(test_capacity_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
