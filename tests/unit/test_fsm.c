/* test_fsm: the handoff state machine against an independent model.
 *
 * The model below is written differently from proto/fsm.c on purpose: as a plain list of the
 * allowed (from, to, side) triples taken from BRIEF.md section 6, plus the list of statuses that
 * need a reason. Every (from, to, side, has_reason) combination is checked against it, for both
 * sides, including values outside the enums. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "fsm.h"
#include "refnet_error.h"

#define NEW         REFNET__HANDOFF_STATUS__HANDOFF_STATUS_UNSPECIFIED
#define REQUESTED   REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED
#define ACCEPTED    REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ACCEPTED
#define REJECTED    REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REJECTED
#define IN_PROGRESS REFNET__HANDOFF_STATUS__HANDOFF_STATUS_IN_PROGRESS
#define ON_HOLD     REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ON_HOLD
#define COMPLETED   REFNET__HANDOFF_STATUS__HANDOFF_STATUS_COMPLETED
#define FAILED      REFNET__HANDOFF_STATUS__HANDOFF_STATUS_FAILED
#define CANCELLED   REFNET__HANDOFF_STATUS__HANDOFF_STATUS_CANCELLED
#define SENDER      FSM_SIDE_SENDER
#define RECEIVER    FSM_SIDE_RECEIVER

typedef struct {
    int from;
    int to;
    int side;
} triple_t;

/* BRIEF.md section 6, row by row. */
static const triple_t ALLOWED[] = {
    { NEW, REQUESTED, SENDER },           { REQUESTED, ACCEPTED, RECEIVER },
    { REQUESTED, REJECTED, RECEIVER },    { ACCEPTED, IN_PROGRESS, RECEIVER },
    { ON_HOLD, IN_PROGRESS, RECEIVER },   { ACCEPTED, ON_HOLD, RECEIVER },
    { IN_PROGRESS, ON_HOLD, RECEIVER },   { ACCEPTED, COMPLETED, RECEIVER },
    { IN_PROGRESS, COMPLETED, RECEIVER }, { ACCEPTED, FAILED, RECEIVER },
    { IN_PROGRESS, FAILED, RECEIVER },    { ON_HOLD, FAILED, RECEIVER },
    { REQUESTED, CANCELLED, SENDER },     { REQUESTED, CANCELLED, RECEIVER },
    { ACCEPTED, CANCELLED, SENDER },      { ACCEPTED, CANCELLED, RECEIVER },
    { IN_PROGRESS, CANCELLED, SENDER },   { IN_PROGRESS, CANCELLED, RECEIVER },
    { ON_HOLD, CANCELLED, SENDER },       { ON_HOLD, CANCELLED, RECEIVER },
};

static const int NEEDS_REASON[] = { REJECTED, ON_HOLD, FAILED, CANCELLED };

static bool
model_allows(int from, int to, int side, bool reason)
{
    bool listed = false;
    for (size_t i = 0; i < sizeof ALLOWED / sizeof ALLOWED[0]; i++)
        if (ALLOWED[i].from == from && ALLOWED[i].to == to && ALLOWED[i].side == side)
            listed = true;
    if (!listed)
        return false;
    for (size_t i = 0; i < sizeof NEEDS_REASON / sizeof NEEDS_REASON[0]; i++)
        if (NEEDS_REASON[i] == to && !reason)
            return false;
    return true;
}

static void
test_every_transition_matches_model(void **state)
{
    (void)state;
    int allowed = 0, refused = 0;
    for (int from = -1; from <= 9; from++) {
        for (int to = -1; to <= 9; to++) {
            for (int side = 0; side <= 3; side++) {
                for (int reason = 0; reason <= 1; reason++) {
                    const char *rule = "unset";
                    int rc = fsm_check((Refnet__HandoffStatus)from, (Refnet__HandoffStatus)to,
                                       (fsm_side_t)side, reason != 0, &rule);
                    bool expect = model_allows(from, to, side, reason != 0);
                    if (expect != (rc == 0))
                        fail_msg("from %d to %d side %d reason %d: got %d (%s)", from, to, side,
                                 reason, rc, rule ? rule : "(null)");
                    if (rc == 0) {
                        assert_null(rule);
                        allowed++;
                    } else {
                        assert_int_equal(rc, REFNET_ETRANSITION);
                        assert_non_null(rule);
                        assert_true(strlen(rule) > 10);
                        refused++;
                    }
                }
            }
        }
    }
    /* 20 triples allowed with a reason; without one only the 6 that need none. */
    assert_int_equal(allowed, 26);
    assert_int_equal(allowed + refused, 11 * 11 * 4 * 2);
}

static const char *
rule_of(int from, int to, int side, bool reason)
{
    const char *rule = NULL;
    int rc = fsm_check((Refnet__HandoffStatus)from, (Refnet__HandoffStatus)to, (fsm_side_t)side,
                       reason, &rule);
    assert_int_equal(rc, REFNET_ETRANSITION);
    return rule;
}

static void
test_rules_are_named(void **state)
{
    (void)state;
    assert_string_equal(rule_of(REQUESTED, ACCEPTED, SENDER, false),
                        "only the receiver may set accepted");
    assert_string_equal(rule_of(IN_PROGRESS, ACCEPTED, RECEIVER, false),
                        "accepted is reachable only from requested");
    assert_string_equal(rule_of(REQUESTED, REJECTED, RECEIVER, false),
                        "rejected requires a reason");
    assert_string_equal(rule_of(NEW, REQUESTED, RECEIVER, false),
                        "only the sender may set requested");
    assert_string_equal(rule_of(ACCEPTED, REQUESTED, SENDER, false),
                        "requested is only the first status of a new handoff");
    assert_string_equal(rule_of(ON_HOLD, CANCELLED, SENDER, false), "cancelled requires a reason");
    assert_string_equal(rule_of(COMPLETED, CANCELLED, SENDER, true),
                        "cancelled is reachable only from requested, accepted, in-progress or "
                        "on-hold");
    assert_string_equal(rule_of(REQUESTED, ON_HOLD, RECEIVER, true),
                        "on-hold is reachable only from accepted or in-progress");
    assert_string_equal(rule_of(ACCEPTED, FAILED, RECEIVER, false), "failed requires a reason");
    assert_string_equal(rule_of(ACCEPTED, COMPLETED, SENDER, false),
                        "only the receiver may set completed");
}

static void
test_rule_pointer_optional(void **state)
{
    (void)state;
    assert_int_equal(fsm_check(REQUESTED, ACCEPTED, RECEIVER, false, NULL), 0);
    assert_int_equal(fsm_check(REQUESTED, ACCEPTED, SENDER, false, NULL), REFNET_ETRANSITION);
    assert_int_equal(
        fsm_check_milestone(ACCEPTED, REFNET__MILESTONE__MILESTONE_INTRODUCED, SENDER, NULL), 0);
}

/* Milestone model: who records each one, and the statuses it may be recorded in. */
typedef struct {
    int milestone;
    int side;
    int statuses[6];
    size_t n;
} milestone_model_t;

static const milestone_model_t MILESTONES[] = {
    { REFNET__MILESTONE__MILESTONE_INTRODUCED,
      SENDER,
      { REQUESTED, ACCEPTED, IN_PROGRESS, ON_HOLD },
      4 },
    { REFNET__MILESTONE__MILESTONE_FIRST_CONTACT_CONFIRMED,
      RECEIVER,
      { REQUESTED, ACCEPTED, IN_PROGRESS, ON_HOLD },
      4 },
    { REFNET__MILESTONE__MILESTONE_FOLLOW_UP_DUE,
      SENDER,
      { REQUESTED, ACCEPTED, IN_PROGRESS, ON_HOLD, COMPLETED, FAILED },
      6 },
    { REFNET__MILESTONE__MILESTONE_FOLLOW_UP_DONE,
      SENDER,
      { REQUESTED, ACCEPTED, IN_PROGRESS, ON_HOLD, COMPLETED, FAILED },
      6 },
};

static bool
milestone_model_allows(int current, int m, int side)
{
    for (size_t i = 0; i < sizeof MILESTONES / sizeof MILESTONES[0]; i++) {
        if (MILESTONES[i].milestone != m || MILESTONES[i].side != side)
            continue;
        for (size_t j = 0; j < MILESTONES[i].n; j++)
            if (MILESTONES[i].statuses[j] == current)
                return true;
    }
    return false;
}

static void
test_every_milestone_matches_model(void **state)
{
    (void)state;
    int allowed = 0;
    for (int cur = -1; cur <= 9; cur++) {
        for (int m = -1; m <= 5; m++) {
            for (int side = 0; side <= 3; side++) {
                const char *rule = "unset";
                int rc = fsm_check_milestone((Refnet__HandoffStatus)cur, (Refnet__Milestone)m,
                                             (fsm_side_t)side, &rule);
                bool expect = milestone_model_allows(cur, m, side);
                if (expect != (rc == 0))
                    fail_msg("milestone %d in status %d by side %d: got %d (%s)", m, cur, side, rc,
                             rule ? rule : "(null)");
                if (rc == 0) {
                    assert_null(rule);
                    allowed++;
                } else {
                    assert_int_equal(rc, REFNET_ETRANSITION);
                    assert_non_null(rule);
                }
            }
        }
    }
    assert_int_equal(allowed, 4 + 4 + 6 + 6);
}

static void
test_milestone_rules_are_named(void **state)
{
    (void)state;
    const char *rule = NULL;
    assert_int_equal(fsm_check_milestone(ACCEPTED,
                                         REFNET__MILESTONE__MILESTONE_FIRST_CONTACT_CONFIRMED,
                                         SENDER, &rule),
                     REFNET_ETRANSITION);
    assert_string_equal(rule, "only the receiver may record first-contact-confirmed");
    assert_int_equal(
        fsm_check_milestone(CANCELLED, REFNET__MILESTONE__MILESTONE_FOLLOW_UP_DONE, SENDER, &rule),
        REFNET_ETRANSITION);
    assert_string_equal(rule, "follow-up-done may not be recorded on a rejected or cancelled "
                              "handoff");
    assert_int_equal(
        fsm_check_milestone(COMPLETED, REFNET__MILESTONE__MILESTONE_INTRODUCED, SENDER, &rule),
        REFNET_ETRANSITION);
    assert_string_equal(rule, "introduced may be recorded only while the handoff is open");
}

static void
test_final_statuses(void **state)
{
    (void)state;
    const int finals[] = { REJECTED, COMPLETED, FAILED, CANCELLED };
    for (int s = -2; s <= 10; s++) {
        bool expect = false;
        for (size_t i = 0; i < 4; i++)
            expect = expect || finals[i] == s;
        assert_int_equal(fsm_is_final((Refnet__HandoffStatus)s), expect);
    }
}

/* A final status can never be left: no (to, side, reason) is allowed from it. */
static void
test_final_statuses_are_absorbing(void **state)
{
    (void)state;
    for (int from = 0; from <= 8; from++) {
        if (!fsm_is_final((Refnet__HandoffStatus)from))
            continue;
        for (int to = 0; to <= 8; to++)
            for (int side = 1; side <= 2; side++)
                assert_int_equal(fsm_check((Refnet__HandoffStatus)from, (Refnet__HandoffStatus)to,
                                           (fsm_side_t)side, true, NULL),
                                 REFNET_ETRANSITION);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_transition_matches_model),
        cmocka_unit_test(test_rules_are_named),
        cmocka_unit_test(test_rule_pointer_optional),
        cmocka_unit_test(test_every_milestone_matches_model),
        cmocka_unit_test(test_milestone_rules_are_named),
        cmocka_unit_test(test_final_statuses),
        cmocka_unit_test(test_final_statuses_are_absorbing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
