/* Unit tests of jsonout: the API's JSON shapes, nulls for unknowns, ISO times. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "jsonout.h"

static void
test_service_unknowns_are_null(void **state)
{
    (void)state;
    Refnet__Service s = REFNET__SERVICE__INIT;
    Refnet__DirRecord rec = REFNET__DIR_RECORD__INIT;
    char *tax[] = { (char *)"food" };
    s.id = (char *)"food-1";
    s.name = (char *)"Food bank";
    s.taxonomy = tax;
    s.n_taxonomy = 1;
    rec.agency = (char *)"harbor";
    rec.service = &s;
    rec.seq = 4;
    json_t *o = jsonout_service(&rec, false, 0);
    assert_true(json_is_null(json_object_get(o, "available")));
    assert_true(json_is_null(json_object_get(o, "lat")));
    assert_true(json_is_false(json_object_get(o, "accepting")));
    assert_true(json_is_null(json_object_get(o, "updated_at")));
    assert_null(json_object_get(o, "distance_km"));
    assert_string_equal(json_string_value(json_object_get(o, "agency")), "harbor");
    json_decref(o);

    Refnet__Capacity cap = REFNET__CAPACITY__INIT;
    Refnet__Intake in = REFNET__INTAKE__INIT;
    cap.available = 2;
    cap.maximum = -1;
    in.accepting = true;
    s.capacity = &cap;
    s.intake = &in;
    s.has_location = true;
    s.lat = 1.5;
    s.updated_at_ms = 1800000000000ULL;
    o = jsonout_service(&rec, true, 12.34567);
    assert_int_equal(json_integer_value(json_object_get(o, "available")), 2);
    assert_true(json_is_null(json_object_get(o, "capacity")));
    assert_true(json_is_true(json_object_get(o, "accepting")));
    assert_true(json_real_value(json_object_get(o, "distance_km")) == 12.346);
    assert_string_equal(json_string_value(json_object_get(o, "updated_at")),
                        "2027-01-15T08:00:00.000Z");
    json_decref(o);
}

static void
test_handoff_row_has_no_person_data(void **state)
{
    (void)state;
    Refnet__HandoffRecord h = REFNET__HANDOFF_RECORD__INIT;
    Refnet__HandoffEvent ev = REFNET__HANDOFF_EVENT__INIT;
    Refnet__HandoffEvent *evs[] = { &ev };
    h.id = (char *)"id-1";
    h.role = REFNET__HANDOFF_ROLE__HANDOFF_ROLE_RECEIVER;
    h.sender = (char *)"harbor";
    h.receiver = (char *)"lighthouse";
    h.status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ON_HOLD;
    h.reason = (char *)"waitlist";
    h.person_id = (char *)"secret-person";
    ev.status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ON_HOLD;
    ev.by = (char *)"lighthouse";
    ev.reason = (char *)"waitlist";
    h.events = evs;
    h.n_events = 1;
    json_t *row = jsonout_handoff_row(&h);
    assert_string_equal(json_string_value(json_object_get(row, "direction")), "inbox");
    assert_string_equal(json_string_value(json_object_get(row, "status")), "on-hold");
    char *text = json_dumps(row, 0);
    assert_null(strstr(text, "secret-person"));
    free(text);
    json_decref(row);
    json_t *full = jsonout_handoff(&h, NULL);
    assert_true(json_is_null(json_object_get(full, "person")));
    json_t *e0 = json_array_get(json_object_get(full, "events"), 0);
    assert_string_equal(json_string_value(json_object_get(e0, "status")), "on-hold");
    assert_null(json_object_get(e0, "milestone"));
    assert_string_equal(json_string_value(json_object_get(e0, "reason")), "waitlist");
    json_decref(full);
}

static void
test_bad_utf8_becomes_null(void **state)
{
    (void)state;
    json_t *v = jsonout_str("\xff\xfe");
    assert_true(json_is_null(v));
    json_decref(v);
    v = jsonout_time(0);
    assert_true(json_is_null(v));
    json_decref(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_service_unknowns_are_null),
        cmocka_unit_test(test_handoff_row_has_no_person_data),
        cmocka_unit_test(test_bad_utf8_becomes_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
