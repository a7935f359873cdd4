/* Unit tests of hsds: checking, merging and refusing import rows, flattening nested HSDS
 * JSON, storing and reading records, the organization id, the checks of HSDS 3.1 capacity
 * rows and their times, and the reference check against the batch and the store. */
#include "test_node_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "hsds.h"
#include "refnet_error.h"

#define ORG   "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
#define OTHER "985e4a42-bd9f-4edc-911d-0243a4640aca"
#define SVC   "ac148810-d857-441c-9679-408f346de14b"
#define PHONE "1554f2e2-a373-45db-a3fa-9fc48a61c15e"
#define LANG  "2989d3ed-c547-48f8-8f9d-432d81c7892e"
#define SAL   "e94c9f38-1e8f-4564-91d4-d53501ab1765"
#define LOC   "3a19ff88-4620-4d17-9830-ac1d859eb5d5"
#define CAP   "5f0a8d7e-2b4c-4e1f-9a63-1c7d2e8b4f90"
#define UNIT  "6a1b9e8f-3c5d-4f20-8b74-2d8e3f9c5a01"
#define GONE  "7d1f0c52-33a4-4f0e-b1c6-2a9e8f4d5b17"

static json_t *
row(const char *text)
{
    json_t *r = json_loads(text, 0, NULL);
    assert_non_null(r);
    return r;
}

/* Adds one row from JSON text; returns the code. */
static int
add(hsds_batch_t *b, const char *table, const char *text, char *why)
{
    json_t *r = row(text);
    int rc = hsds_batch_add_row(b, table, r, "test row", why);
    json_decref(r);
    return rc;
}

static void
test_row_merge(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "";
    hsds_batch_t *b = hsds_batch_new(ORG);
    assert_int_equal(
        add(b, "service", "{\"id\":\"" SVC "\",\"name\":\"A\",\"minimum_age\":12}", why), 0);
    assert_int_equal(
        add(b, "service", "{\"id\":\"" SVC "\",\"status\":\"active\",\"url\":null}", why), 0);
    assert_int_equal(hsds_batch_count(b, "service"), 1);
    json_t *r = json_object_get(hsds_batch_rows(b, "service"), SVC);
    assert_string_equal(json_string_value(json_object_get(r, "name")), "A");
    assert_string_equal(json_string_value(json_object_get(r, "status")), "active");
    assert_int_equal(json_integer_value(json_object_get(r, "minimum_age")), 12);
    assert_null(json_object_get(r, "url")); /* nulls are absent values */
    hsds_batch_destroy(&b);
    assert_null(b);
    hsds_batch_destroy(&b);
}

static void
test_bad_rows(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "";
    hsds_batch_t *b = hsds_batch_new(ORG);
    assert_int_equal(add(b, "service", "{\"id\":\"svc-1\",\"name\":\"A\"}", why), REFNET_EINVAL);
    assert_non_null(strstr(why, "test row field id: must be a UUID"));
    assert_int_equal(add(b, "service", "{\"id\":\"" SVC "\",\"colour\":\"red\"}", why),
                     REFNET_EINVAL);
    assert_non_null(strstr(why, "field colour"));
    assert_int_equal(add(b, "service", "{\"id\":\"" SVC "\",\"minimum_age\":\"twelve\"}", why),
                     REFNET_EINVAL);
    assert_non_null(strstr(why, "field minimum_age: must be a number"));
    assert_int_equal(add(b, "service", "{\"id\":\"" SVC "\",\"name\":7}", why), REFNET_EINVAL);
    assert_non_null(strstr(why, "field name: must be a string"));
    assert_int_equal(add(b, "service", "{\"id\":\"" SVC "\",\"name\":\"a\\u0001b\"}", why),
                     REFNET_EINVAL);
    assert_int_equal(add(b, "nonsense", "{\"id\":\"" SVC "\"}", why), REFNET_EINVAL);
    assert_non_null(strstr(why, "no table nonsense"));
    assert_int_equal(hsds_batch_count(b, "service"), 0);
    hsds_batch_destroy(&b);
}

static void
test_foreign_refused(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "";
    hsds_batch_t *b = hsds_batch_new(ORG);
    assert_int_equal(add(b, "organization", "{\"id\":\"" OTHER "\",\"name\":\"X\"}", why), 0);
    assert_int_equal(
        add(b, "location", "{\"id\":\"" LOC "\",\"organization_id\":\"" OTHER "\"}", why), 0);
    assert_int_equal(add(b, "organization", "{\"id\":\"" ORG "\",\"name\":\"Ours\"}", why), 0);
    assert_int_equal(add(b, "address", "{\"id\":\"" PHONE "\",\"location_id\":\"" LOC "\"}", why),
                     0);
    assert_int_equal(hsds_batch_count(b, "organization"), 1);
    assert_int_equal(hsds_batch_count(b, "location"), 0);
    assert_int_equal(hsds_batch_count(b, "address"), 1);
    json_t *sum = hsds_batch_summary(b);
    json_t *refused = json_object_get(sum, "refused");
    assert_int_equal(json_array_size(refused), 2);
    json_t *r1 = json_array_get(refused, 1);
    assert_string_equal(json_string_value(json_object_get(r1, "table")), "location");
    assert_string_equal(json_string_value(json_object_get(r1, "organization_id")), OTHER);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(sum, "records"), "organization")), 1);
    json_decref(sum);
    hsds_batch_destroy(&b);
}

static const char NESTED[] =
    "{\"id\":\"" SVC "\",\"name\":\"Counselling\",\"status\":\"active\","
    "\"organization\":{\"id\":\"%s\",\"name\":\"Org\",\"description\":\"d\"},"
    "\"phones\":[{\"id\":\"" PHONE "\",\"number\":\"1\",\"languages\":[{\"id\":\"" LANG
    "\",\"code\":\"ur\"}]}],"
    "\"service_at_locations\":[{\"id\":\"" SAL "\",\"location\":{\"id\":\"" LOC
    "\",\"latitude\":51.5,\"longitude\":-0.1}}]}";

static int
add_nested(hsds_batch_t *b, const char *org, char *why)
{
    char text[1024];
    snprintf(text, sizeof text, NESTED, org);
    json_t *obj = row(text);
    int rc = hsds_batch_add_nested(b, "service", obj, "service_full.json", why);
    json_decref(obj);
    return rc;
}

static const char *
field(hsds_batch_t *b, const char *table, const char *id, const char *key)
{
    return json_string_value(json_object_get(json_object_get(hsds_batch_rows(b, table), id), key));
}

static void
test_nested_flatten(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "";
    hsds_batch_t *b = hsds_batch_new(ORG);
    assert_int_equal(add_nested(b, ORG, why), 0);
    assert_string_equal(field(b, "service", SVC, "organization_id"), ORG);
    assert_string_equal(field(b, "phone", PHONE, "service_id"), SVC);
    assert_string_equal(field(b, "language", LANG, "phone_id"), PHONE);
    assert_string_equal(field(b, "service_at_location", SAL, "service_id"), SVC);
    assert_string_equal(field(b, "service_at_location", SAL, "location_id"), LOC);
    assert_int_equal(hsds_batch_count(b, "location"), 1);
    assert_int_equal(hsds_batch_count(b, "organization"), 1);
    /* The nested form carries no lists in the flat rows. */
    assert_null(json_object_get(json_object_get(hsds_batch_rows(b, "service"), SVC), "phones"));
    hsds_batch_destroy(&b);

    /* A service of another organization: both it and the organization are refused. */
    b = hsds_batch_new(ORG);
    assert_int_equal(add_nested(b, OTHER, why), 0);
    assert_int_equal(hsds_batch_count(b, "service"), 0);
    assert_int_equal(hsds_batch_count(b, "organization"), 0);
    json_t *sum = hsds_batch_summary(b);
    assert_int_equal(json_array_size(json_object_get(sum, "refused")), 2);
    json_decref(sum);
    hsds_batch_destroy(&b);
}

static void
test_nested_bad(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "";
    hsds_batch_t *b = hsds_batch_new(ORG);
    json_t *obj = row("{\"id\":\"" SVC "\",\"name\":\"A\",\"phones\":[{\"id\":\"" PHONE
                      "\",\"languages\":[{\"id\":\"nope\"}]}]}");
    assert_int_equal(hsds_batch_add_nested(b, "service", obj, "f.json", why), REFNET_EINVAL);
    assert_non_null(strstr(why, "f.json.phones[0].languages[0] field id"));
    json_decref(obj);
    obj = row("{\"id\":\"" SVC "\",\"gadgets\":[]}");
    assert_int_equal(hsds_batch_add_nested(b, "service", obj, "f.json", why), REFNET_EINVAL);
    assert_non_null(strstr(why, "field gadgets"));
    json_decref(obj);
    obj = row("{\"id\":\"" SVC "\",\"organization\":[1]}");
    assert_int_equal(hsds_batch_add_nested(b, "service", obj, "f.json", why), REFNET_EINVAL);
    json_decref(obj);
    hsds_batch_destroy(&b);
}

static void
test_store_and_read(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "";
    nfx_t *fx = nfx_new();
    hsds_batch_t *b = hsds_batch_new(ORG);
    assert_int_equal(add_nested(b, ORG, why), 0);
    /* A table whose name starts like "service" must not show up in its listing. */
    assert_int_equal(add(b, "service_area", "{\"id\":\"" LOC "\",\"service_id\":\"" SVC "\"}", why),
                     0);
    MDB_txn *txn = nfx_begin(fx, false);
    assert_int_equal(hsds_batch_store(b, txn, fx->st), 0);
    assert_int_equal(store_commit(&txn), 0);
    txn = nfx_begin(fx, true);
    json_t *r = NULL, *list = NULL;
    assert_int_equal(hsds_get(txn, fx->st, "phone", PHONE, &r), 0);
    assert_string_equal(json_string_value(json_object_get(r, "number")), "1");
    json_decref(r);
    assert_int_equal(hsds_get(txn, fx->st, "phone", LANG, &r), REFNET_ENOTFOUND);
    assert_int_equal(hsds_list(txn, fx->st, "service", &list), 0);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    assert_int_equal(hsds_list(txn, fx->st, "taxonomy", &list), 0);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    store_abort(&txn);
    hsds_batch_destroy(&b);
    nfx_destroy(&fx);
}

static void
test_organization_id(void **state)
{
    (void)state;
    char a[UID_STR_LEN], b[UID_STR_LEN];
    nfx_t *fx = nfx_new();
    MDB_txn *txn = nfx_begin(fx, false);
    assert_int_equal(hsds_org_get(txn, fx->st, a), REFNET_ENOTFOUND);
    assert_int_equal(hsds_org_ensure(txn, fx->st, a), 0);
    assert_true(uid_is_uuid(a));
    assert_int_equal(hsds_org_ensure(txn, fx->st, b), 0);
    assert_string_equal(a, b); /* made once, then kept */
    assert_int_equal(hsds_org_set(txn, fx->st, "not-a-uuid"), REFNET_EINVAL);
    assert_int_equal(hsds_org_set(txn, fx->st, ORG), 0);
    assert_int_equal(hsds_org_get(txn, fx->st, b), 0);
    assert_string_equal(b, ORG);
    store_abort(&txn);
    nfx_destroy(&fx);
}

/* service_capacity and unit rows: what the directory needs is checked at import. */
static void
test_capacity_rows(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "";
    hsds_batch_t *b = hsds_batch_new(ORG);
    const char *good = "{\"id\":\"" CAP "\",\"service_id\":\"" SVC "\",\"unit_id\":\"" UNIT
                       "\",\"available\":3,\"maximum\":10,\"updated\":\"2026-11-20T08:30:00Z\"}";
    assert_int_equal(add(b, "service_capacity", good, why), 0);
    assert_int_equal(add(b, "unit", "{\"id\":\"" UNIT "\",\"name\":\"bed\"}", why), 0);
    assert_int_equal(hsds_batch_count(b, "service_capacity"), 1);
    assert_int_equal(hsds_batch_count(b, "unit"), 1);
    static const struct {
        const char *row, *says;
    } bad[] = {
        { "{\"id\":\"" CAP "\",\"available\":-1}", "field available: must be between 0" },
        { "{\"id\":\"" CAP "\",\"available\":2.5}", "field available: must be a whole number" },
        { "{\"id\":\"" CAP "\",\"available\":\"3\"}", "field available: must be a number" },
        { "{\"id\":\"" CAP "\",\"available\":2000000}", "field available: must be between" },
        { "{\"id\":\"" CAP "\",\"maximum\":4}", "field available: is required" },
        { "{\"id\":\"" CAP "\",\"available\":1,\"maximum\":-4}", "field maximum: must be between" },
        { "{\"id\":\"" CAP "\",\"available\":5,\"maximum\":4}", "5 is more than the maximum 4" },
        { "{\"id\":\"" CAP "\",\"available\":1,\"updated\":\"yesterday\"}", "field updated" },
        { "{\"id\":\"" CAP "\",\"available\":1,\"updated\":\"2026-02-30\"}", "field updated" },
        { "{\"id\":\"" CAP "\",\"available\":1,\"updated\":\"1990-01-01\"}", "field updated" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        assert_int_equal(add(b, "service_capacity", bad[i].row, why), REFNET_EINVAL);
        assert_non_null(strstr(why, "test row"));
        if (!strstr(why, bad[i].says))
            fail_msg("row %zu: \"%s\" does not say \"%s\"", i, why, bad[i].says);
    }
    assert_int_equal(add(b, "unit", "{\"id\":\"" UNIT "\"}", why), REFNET_EINVAL);
    assert_non_null(strstr(why, "field name"));
    assert_int_equal(add(b, "unit",
                         "{\"id\":\"" UNIT "\",\"name\":\"a unit name far longer than the wire\"}",
                         why),
                     REFNET_EINVAL);
    /* A later row of the same id is checked merged with the earlier one: its `available`
     * against the earlier `maximum`. */
    why[0] = '\0';
    assert_int_equal(add(b, "service_capacity", "{\"id\":\"" CAP "\",\"available\":480}", why),
                     REFNET_EINVAL);
    assert_non_null(strstr(why, "480 is more than the maximum 10"));
    /* The good rows are untouched by the refused ones. */
    json_t *r = json_object_get(hsds_batch_rows(b, "service_capacity"), CAP);
    assert_int_equal(json_integer_value(json_object_get(r, "available")), 3);
    assert_int_equal(add(b, "service_capacity", "{\"id\":\"" CAP "\",\"available\":9}", why), 0);
    r = json_object_get(hsds_batch_rows(b, "service_capacity"), CAP);
    assert_int_equal(json_integer_value(json_object_get(r, "available")), 9);
    assert_int_equal(json_integer_value(json_object_get(r, "maximum")), 10);
    hsds_batch_destroy(&b);
}

static void
test_parse_time(void **state)
{
    (void)state;
    uint64_t ms = 0;
    assert_int_equal(hsds_parse_time("2026-11-22T07:01:02.123Z", &ms), 0);
    assert_int_equal(ms, 1795330862123ULL);
    assert_int_equal(hsds_parse_time("2026-11-22T08:01:02.123+01:00", &ms), 0);
    assert_int_equal(ms, 1795330862123ULL);
    assert_int_equal(hsds_parse_time("2026-11-22T02:31:02.123-0430", &ms), 0);
    assert_int_equal(ms, 1795330862123ULL);
    assert_int_equal(hsds_parse_time("2026-11-22T07:01:02", &ms), 0); /* no zone: UTC */
    assert_int_equal(ms, 1795330862000ULL);
    assert_int_equal(hsds_parse_time("2026-11-22 07:01", &ms), 0);
    assert_int_equal(ms, 1795330860000ULL);
    assert_int_equal(hsds_parse_time("2026-11-22", &ms), 0);
    assert_int_equal(ms, 1795305600000ULL);
    assert_int_equal(hsds_parse_time("2024-02-29", &ms), 0);
    static const char *const bad[] = {
        "",
        "2026",
        "2026-11",
        "2026-13-01",
        "2026-02-29",
        "2026-11-22T25:00Z",
        "2026-11-22T07",
        "2026-11-22T07:61Z",
        "2026-11-22T07:01:02.Z",
        "2026-11-22T07:01+1",
        "2026-11-22X",
        "2026-11-22T07:01:02Zjunk",
        "+2026-11-22",
        "2026-1-22",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (hsds_parse_time(bad[i], &ms) != REFNET_EINVAL)
            fail_msg("\"%s\" was taken for a time", bad[i]);
}

/* HSDS 3.1 `capacities` in a nested service: a service_capacity row linked to the service,
 * and its unit object as a unit row it links to. */
static void
test_nested_capacity(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "";
    hsds_batch_t *b = hsds_batch_new(ORG);
    json_t *obj = row("{\"id\":\"" SVC "\",\"name\":\"A\",\"capacities\":[{\"id\":\"" CAP
                      "\",\"available\":2,\"maximum\":4,\"updated\":\"2026-11-20T08:30:00Z\","
                      "\"unit\":{\"id\":\"" UNIT "\",\"name\":\"bed\"}}]}");
    assert_int_equal(hsds_batch_add_nested(b, "service", obj, "s.json", why), 0);
    json_decref(obj);
    assert_string_equal(field(b, "service_capacity", CAP, "service_id"), SVC);
    assert_string_equal(field(b, "service_capacity", CAP, "unit_id"), UNIT);
    assert_string_equal(field(b, "unit", UNIT, "name"), "bed");
    assert_null(json_object_get(json_object_get(hsds_batch_rows(b, "service"), SVC), "capacities"));
    /* A bad count names its place in the nesting. */
    obj = row("{\"id\":\"" SVC "\",\"capacities\":[{\"id\":\"" CAP "\",\"available\":-2}]}");
    assert_int_equal(hsds_batch_add_nested(b, "service", obj, "s.json", why), REFNET_EINVAL);
    assert_non_null(strstr(why, "s.json.capacities[0] field available"));
    json_decref(obj);
    hsds_batch_destroy(&b);
}

/* Runs the reference check of `b` against the fixture's store. */
static int
check_refs(nfx_t *fx, hsds_batch_t *b, char *why)
{
    MDB_txn *txn = nfx_begin(fx, true);
    int rc = hsds_batch_check_refs(b, txn, fx->st, why);
    store_abort(&txn);
    return rc;
}

static void
test_references(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "";
    nfx_t *fx = nfx_new();
    hsds_batch_t *b = hsds_batch_new(ORG);
    /* A phone of a service in the same batch, naming our organization (never imported: it is
     * the agency's own) and a location refused as another organization's. */
    assert_int_equal(add(b, "service", "{\"id\":\"" SVC "\",\"organization_id\":\"" ORG "\"}", why),
                     0);
    assert_int_equal(
        add(b, "location", "{\"id\":\"" LOC "\",\"organization_id\":\"" OTHER "\"}", why), 0);
    assert_int_equal(add(b, "phone",
                         "{\"id\":\"" PHONE "\",\"service_id\":\"" SVC "\",\"location_id\":\"" LOC
                         "\",\"organization_id\":\"" ORG "\"}",
                         why),
                     0);
    /* An attribute whose link_entity is no table is not checked; one linking a service is. */
    assert_int_equal(add(b, "attribute",
                         "{\"id\":\"" CAP "\",\"link_id\":\"" GONE "\",\"link_entity\":\"x\"}",
                         why),
                     0);
    assert_int_equal(check_refs(fx, b, why), 0);
    assert_int_equal(
        add(b, "attribute",
            "{\"id\":\"" UNIT "\",\"link_id\":\"" GONE "\",\"link_entity\":\"service\"}", why),
        0);
    assert_int_equal(check_refs(fx, b, why), REFNET_EINVAL);
    assert_non_null(strstr(why, "test row field link_id: refers to service " GONE));
    hsds_batch_destroy(&b);

    /* A language of a service that is only in the store: fine once it is stored. */
    b = hsds_batch_new(ORG);
    assert_int_equal(
        add(b, "language", "{\"id\":\"" LANG "\",\"service_id\":\"" SVC "\",\"code\":\"ur\"}", why),
        0);
    assert_int_equal(check_refs(fx, b, why), REFNET_EINVAL);
    assert_non_null(strstr(why, "field service_id: refers to service " SVC));
    hsds_batch_t *svc = hsds_batch_new(ORG);
    assert_int_equal(add(svc, "service", "{\"id\":\"" SVC "\",\"name\":\"A\"}", why), 0);
    MDB_txn *txn = nfx_begin(fx, false);
    assert_int_equal(hsds_batch_store(svc, txn, fx->st), 0);
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(check_refs(fx, b, why), 0);
    hsds_batch_destroy(&svc);
    hsds_batch_destroy(&b);

    /* Capacity rows: the service and the unit must exist; nested JSON names its rows. */
    b = hsds_batch_new(ORG);
    json_t *obj = row("{\"id\":\"" SVC "\",\"name\":\"A\",\"capacities\":[{\"id\":\"" CAP
                      "\",\"available\":2,\"unit_id\":\"" GONE "\"}]}");
    assert_int_equal(hsds_batch_add_nested(b, "service", obj, "s.json", why), 0);
    json_decref(obj);
    assert_int_equal(check_refs(fx, b, why), REFNET_EINVAL);
    assert_non_null(strstr(why, "s.json.capacities[0] field unit_id: refers to unit " GONE));
    hsds_batch_destroy(&b);
    nfx_destroy(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_row_merge),       cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_foreign_refused), cmocka_unit_test(test_nested_flatten),
        cmocka_unit_test(test_nested_bad),      cmocka_unit_test(test_store_and_read),
        cmocka_unit_test(test_organization_id), cmocka_unit_test(test_capacity_rows),
        cmocka_unit_test(test_parse_time),      cmocka_unit_test(test_references),
        cmocka_unit_test(test_nested_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
