/* test_enums: the text names of the protocol's enums, both ways.
 *
 * Every named value must round-trip, every name the CLI documents must parse to the right
 * value, and anything else must be refused or named "unknown". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "enums.h"
#include "refnet_error.h"

static void
test_status_names(void **state)
{
    (void)state;
    static const char *const names[] = { "requested", "accepted",  "rejected", "in-progress",
                                         "on-hold",   "completed", "failed",   "cancelled" };
    for (int v = 1; v <= 8; v++) {
        assert_string_equal(enums_status_name((Refnet__HandoffStatus)v), names[v - 1]);
        Refnet__HandoffStatus out = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_UNSPECIFIED;
        assert_int_equal(enums_status_parse(names[v - 1], &out), 0);
        assert_int_equal(out, v);
    }
    assert_string_equal(enums_status_name(REFNET__HANDOFF_STATUS__HANDOFF_STATUS_UNSPECIFIED),
                        "unspecified");
    assert_string_equal(enums_status_name((Refnet__HandoffStatus)9), "unknown");
    assert_string_equal(enums_status_name((Refnet__HandoffStatus)-1), "unknown");
}

static void
test_status_parse_forgiving_and_strict(void **state)
{
    (void)state;
    Refnet__HandoffStatus out = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_UNSPECIFIED;
    assert_int_equal(enums_status_parse("IN_PROGRESS", &out), 0);
    assert_int_equal(out, REFNET__HANDOFF_STATUS__HANDOFF_STATUS_IN_PROGRESS);
    assert_int_equal(enums_status_parse("On-Hold", &out), 0);
    assert_int_equal(out, REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ON_HOLD);

    out = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ACCEPTED;
    const char *bad[] = { "",          "unspecified", "unknown",    "accept",
                          "accepted ", "inprogress",  "cancelled!", "requestedx" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(enums_status_parse(bad[i], &out), REFNET_EINVAL);
        /* a refused name leaves the output untouched */
        assert_int_equal(out, REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ACCEPTED);
    }
    assert_int_equal(enums_status_parse(NULL, &out), REFNET_EINVAL);
}

static void
test_milestone_names(void **state)
{
    (void)state;
    static const char *const names[] = { "introduced", "first-contact-confirmed", "follow-up-due",
                                         "follow-up-done" };
    for (int v = 1; v <= 4; v++) {
        assert_string_equal(enums_milestone_name((Refnet__Milestone)v), names[v - 1]);
        Refnet__Milestone out = REFNET__MILESTONE__MILESTONE_UNSPECIFIED;
        assert_int_equal(enums_milestone_parse(names[v - 1], &out), 0);
        assert_int_equal(out, v);
    }
    assert_string_equal(enums_milestone_name((Refnet__Milestone)5), "unknown");
    Refnet__Milestone out;
    assert_int_equal(enums_milestone_parse("first-contact", &out), REFNET_EINVAL);
}

static void
test_outcome_names(void **state)
{
    (void)state;
    static const char *const names[] = { "got-help",     "couldnt-contact", "no-show",
                                         "not-eligible", "no-capacity",     "person-declined",
                                         "re-routed",    "expired" };
    for (int v = 1; v <= 8; v++) {
        assert_string_equal(enums_outcome_name((Refnet__Outcome)v), names[v - 1]);
        Refnet__Outcome out = REFNET__OUTCOME__OUTCOME_UNSPECIFIED;
        assert_int_equal(enums_outcome_parse(names[v - 1], &out), 0);
        assert_int_equal(out, v);
    }
    assert_string_equal(enums_outcome_name((Refnet__Outcome)99), "unknown");
    Refnet__Outcome out;
    assert_int_equal(enums_outcome_parse("compliant", &out), REFNET_EINVAL);
}

static void
test_mode_names(void **state)
{
    (void)state;
    static const char *const names[] = { "in-person", "phone", "video" };
    for (int v = 1; v <= 3; v++) {
        assert_string_equal(enums_mode_name((Refnet__ContactMode)v), names[v - 1]);
        Refnet__ContactMode out = REFNET__CONTACT_MODE__CONTACT_MODE_UNSPECIFIED;
        assert_int_equal(enums_mode_parse(names[v - 1], &out), 0);
        assert_int_equal(out, v);
    }
    assert_string_equal(enums_mode_name((Refnet__ContactMode)4), "unknown");
    Refnet__ContactMode out;
    assert_int_equal(enums_mode_parse("email", &out), REFNET_EINVAL);
}

static void
test_category_names(void **state)
{
    (void)state;
    static const char *const names[] = { "contact", "needs", "own-words", "notes",
                                         "substance-use" };
    for (int v = 1; v <= 5; v++) {
        assert_string_equal(enums_category_name((Refnet__Category)v), names[v - 1]);
        Refnet__Category out = REFNET__CATEGORY__CATEGORY_UNSPECIFIED;
        assert_int_equal(enums_category_parse(names[v - 1], &out), 0);
        assert_int_equal(out, v);
    }
    Refnet__Category out = REFNET__CATEGORY__CATEGORY_UNSPECIFIED;
    assert_int_equal(enums_category_parse("OWN_WORDS", &out), 0);
    assert_int_equal(out, REFNET__CATEGORY__CATEGORY_OWN_WORDS);
    assert_string_equal(enums_category_name((Refnet__Category)6), "unknown");
    assert_int_equal(enums_category_parse("diagnosis", &out), REFNET_EINVAL);
}

static void
test_capacity_status_names(void **state)
{
    (void)state;
    static const char *const names[] = { "capacity", "no-capacity", "waitlist",
                                         "additional-assessment-required" };
    for (int v = 1; v <= 4; v++) {
        assert_string_equal(enums_capacity_status_name((Refnet__CapacityStatus)v), names[v - 1]);
        Refnet__CapacityStatus out = REFNET__CAPACITY_STATUS__CAPACITY_STATUS_UNSPECIFIED;
        assert_int_equal(enums_capacity_status_parse(names[v - 1], &out), 0);
        assert_int_equal(out, v);
    }
    assert_string_equal(enums_capacity_status_name((Refnet__CapacityStatus)5), "unknown");
    Refnet__CapacityStatus out;
    assert_int_equal(enums_capacity_status_parse("full", &out), REFNET_EINVAL);
}

/* Names in one enum never collide with "unknown" or with each other. */
static void
test_names_distinct(void **state)
{
    (void)state;
    for (int a = 1; a <= 8; a++)
        for (int b = a + 1; b <= 8; b++)
            assert_string_not_equal(enums_outcome_name((Refnet__Outcome)a),
                                    enums_outcome_name((Refnet__Outcome)b));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_status_parse_forgiving_and_strict),
        cmocka_unit_test(test_milestone_names),
        cmocka_unit_test(test_outcome_names),
        cmocka_unit_test(test_mode_names),
        cmocka_unit_test(test_category_names),
        cmocka_unit_test(test_capacity_status_names),
        cmocka_unit_test(test_names_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
