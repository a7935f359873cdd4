/* Unit tests of broker/flow: state-machine enforcement from each side, the counterparty and
 * service checks, and the admin statistics (counts and medians). */
#include "test_broker_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dirhub.h"
#include "flow.h"
#include "refnet_error.h"

#define S(x) REFNET__HANDOFF_STATUS__HANDOFF_STATUS_##x
#define M(x) REFNET__MILESTONE__MILESTONE_##x
#define T0   1800000000000ULL

static const char *H1 = "0b7f3d1e-8a55-4c2e-9d7f-1a2b3c4d5e6f";
static const char *H2 = "1c8e4e2f-9b66-4d3f-8e80-2b3c4d5e6f70";
static const char *H3 = "2d9f5f30-ac77-4e40-9f91-3c4d5e6f7081";

static char food[] = "food";
static char *tax_food[] = { food };

static int
setup(void **state)
{
    fx_t *fx = fx_new();
    MDB_txn *txn = NULL;
    uint64_t seq;
    const char *why;
    if (!fx)
        return -1;
    /* Agency "recv" owns service "beds"; "other" owns "meals", withdrawn "gone". */
    Refnet__Service beds = fx_service("beds", "Beds", tax_food);
    Refnet__Service meals = fx_service("meals", "Meals", tax_food);
    Refnet__Service gone = fx_service("gone", "Gone", tax_food);
    bool changed;
    int rc = store_begin(fx->store, false, &txn);
    rc = rc ? rc : dirhub_publish(fx->store, txn, "recv", &beds, T0, &seq, &why);
    rc = rc ? rc : dirhub_publish(fx->store, txn, "other", &meals, T0, &seq, &why);
    rc = rc ? rc : dirhub_publish(fx->store, txn, "recv", &gone, T0, &seq, &why);
    rc = rc ? rc : dirhub_withdraw(fx->store, txn, "recv", "gone", &seq, &changed, &why);
    rc = rc ? rc : store_commit(&txn);
    store_abort(&txn);
    *state = fx;
    return rc;
}

static int
teardown(void **state)
{
    fx_t *fx = *state;
    fx_destroy(&fx);
    return 0;
}

static int
apply_at(fx_t *fx,
         const char *agency,
         const char *to,
         const char *handoff,
         Refnet__HandoffStatus status,
         Refnet__Milestone m,
         const char *reason,
         const char *service,
         uint64_t now,
         const char **why)
{
    Refnet__HandoffUpdate up = REFNET__HANDOFF_UPDATE__INIT;
    MDB_txn *txn = NULL;
    up.handoff_id = (char *)handoff;
    up.service_id = (char *)(service ? service : "");
    up.status = status;
    up.milestone = m;
    up.reason = (char *)(reason ? reason : "");
    *why = NULL;
    int rc = store_begin(fx->store, false, &txn);
    if (!rc)
        rc = flow_apply(fx->store, txn, agency, to, &up, now, why);
    if (!rc)
        return store_commit(&txn);
    store_abort(&txn);
    return rc;
}

static int
apply(fx_t *fx,
      const char *agency,
      const char *to,
      const char *handoff,
      Refnet__HandoffStatus status,
      Refnet__Milestone m,
      const char *reason,
      const char **why)
{
    return apply_at(fx, agency, to, handoff, status, m, reason, "beds", T0, why);
}

static void
test_start_checks_service(void **state)
{
    fx_t *fx = *state;
    const char *why;
    assert_int_equal(apply(fx, "send", "recv", H1, S(ACCEPTED), M(UNSPECIFIED), NULL, &why),
                     REFNET_ENOTFOUND);
    assert_int_equal(
        apply_at(fx, "send", "recv", H1, S(REQUESTED), M(UNSPECIFIED), NULL, "meals", T0, &why),
        REFNET_EFORBIDDEN);
    assert_non_null(why);
    assert_int_equal(
        apply_at(fx, "send", "recv", H1, S(REQUESTED), M(UNSPECIFIED), NULL, "nope", T0, &why),
        REFNET_ENOTFOUND);
    assert_int_equal(
        apply_at(fx, "send", "recv", H1, S(REQUESTED), M(UNSPECIFIED), NULL, "gone", T0, &why),
        REFNET_ENOTFOUND);
    assert_int_equal(apply(fx, "send", "recv", H1, S(REQUESTED), M(UNSPECIFIED), NULL, &why), 0);
    /* Requested only once. */
    assert_int_equal(apply(fx, "send", "recv", H1, S(REQUESTED), M(UNSPECIFIED), NULL, &why),
                     REFNET_ETRANSITION);
}

static void
test_sides_follow_the_state_machine(void **state)
{
    fx_t *fx = *state;
    const char *why;
    assert_int_equal(apply(fx, "send", "recv", H1, S(REQUESTED), M(UNSPECIFIED), NULL, &why), 0);
    /* The sender cannot accept its own handoff, whatever it claims. */
    assert_int_equal(apply(fx, "send", "recv", H1, S(ACCEPTED), M(UNSPECIFIED), NULL, &why),
                     REFNET_ETRANSITION);
    assert_non_null(why);
    assert_non_null(strstr(why, "receiver"));
    assert_int_equal(apply(fx, "recv", "send", H1, S(REJECTED), M(UNSPECIFIED), NULL, &why),
                     REFNET_ETRANSITION);
    assert_int_equal(apply(fx, "recv", "send", H1, S(ACCEPTED), M(UNSPECIFIED), NULL, &why), 0);
    assert_int_equal(apply(fx, "recv", "send", H1, S(ACCEPTED), M(UNSPECIFIED), NULL, &why),
                     REFNET_ETRANSITION);
    /* Milestones belong to one side each. */
    assert_int_equal(apply(fx, "recv", "send", H1, S(UNSPECIFIED), M(INTRODUCED), NULL, &why),
                     REFNET_ETRANSITION);
    assert_int_equal(apply(fx, "send", "recv", H1, S(UNSPECIFIED), M(INTRODUCED), NULL, &why), 0);
    assert_int_equal(
        apply(fx, "send", "recv", H1, S(UNSPECIFIED), M(FIRST_CONTACT_CONFIRMED), NULL, &why),
        REFNET_ETRANSITION);
    assert_int_equal(
        apply(fx, "recv", "send", H1, S(IN_PROGRESS), M(FIRST_CONTACT_CONFIRMED), NULL, &why), 0);
    assert_int_equal(apply(fx, "recv", "send", H1, S(ON_HOLD), M(UNSPECIFIED), NULL, &why),
                     REFNET_ETRANSITION); /* needs a reason */
    assert_int_equal(apply(fx, "recv", "send", H1, S(ON_HOLD), M(UNSPECIFIED), "waitlist", &why),
                     0);
    /* Either side may cancel, with a reason. */
    assert_int_equal(apply(fx, "send", "recv", H1, S(CANCELLED), M(UNSPECIFIED), "moved", &why), 0);
    assert_int_equal(apply(fx, "recv", "send", H1, S(COMPLETED), M(UNSPECIFIED), NULL, &why),
                     REFNET_ETRANSITION);
}

static void
test_only_parties_and_counterparty(void **state)
{
    fx_t *fx = *state;
    const char *why;
    assert_int_equal(apply(fx, "send", "recv", H1, S(REQUESTED), M(UNSPECIFIED), NULL, &why), 0);
    /* A third agency may not touch it, even addressed correctly. */
    assert_int_equal(apply(fx, "other", "send", H1, S(ACCEPTED), M(UNSPECIFIED), NULL, &why),
                     REFNET_EFORBIDDEN);
    /* The receiver must address the sender, not someone else. */
    assert_int_equal(apply(fx, "recv", "other", H1, S(ACCEPTED), M(UNSPECIFIED), NULL, &why),
                     REFNET_EFORBIDDEN);
    assert_int_equal(apply(fx, "recv", "recv", H1, S(ACCEPTED), M(UNSPECIFIED), NULL, &why),
                     REFNET_EFORBIDDEN);
    assert_int_equal(apply(fx, "recv", "send", H1, S(ACCEPTED), M(UNSPECIFIED), NULL, &why), 0);
}

static void
test_median(void **state)
{
    (void)state;
    uint64_t none[1] = { 0 };
    uint64_t odd[] = { 9, 1, 5 };
    uint64_t even[] = { 10, 2, 4, 8 };
    assert_int_equal(flow_median(none, 0), 0);
    assert_int_equal(flow_median(odd, 3), 5);
    assert_int_equal(flow_median(even, 4), 6);
}

static void
test_statistics_of_nothing(void **state)
{
    fx_t *fx = *state;
    flow_stats_t st;
    MDB_txn *txn = NULL;
    assert_int_equal(store_begin(fx->store, true, &txn), 0);
    assert_int_equal(flow_stats(fx->store, txn, &st), 0);
    store_abort(&txn);
    assert_int_equal(st.nrows, 0);
    assert_int_equal(st.handoffs, 0);
    assert_int_equal(st.median_accept_ms, 0);
    flow_stats_clear(&st);
}

static void
test_statistics(void **state)
{
    fx_t *fx = *state;
    const char *why;
    flow_stats_t st;
    MDB_txn *txn = NULL;
    /* H1: accepted after 1 s, first contact after 5 s; H2: accepted after 3 s; H3 requested. */
    assert_int_equal(
        apply_at(fx, "send", "recv", H1, S(REQUESTED), M(UNSPECIFIED), NULL, "beds", T0, &why), 0);
    assert_int_equal(
        apply_at(fx, "recv", "send", H1, S(ACCEPTED), M(UNSPECIFIED), NULL, NULL, T0 + 1000, &why),
        0);
    assert_int_equal(apply_at(fx, "recv", "send", H1, S(UNSPECIFIED), M(FIRST_CONTACT_CONFIRMED),
                              NULL, NULL, T0 + 5000, &why),
                     0);
    assert_int_equal(
        apply_at(fx, "send", "recv", H2, S(REQUESTED), M(UNSPECIFIED), NULL, "beds", T0, &why), 0);
    assert_int_equal(
        apply_at(fx, "recv", "send", H2, S(ACCEPTED), M(UNSPECIFIED), NULL, NULL, T0 + 3000, &why),
        0);
    assert_int_equal(
        apply_at(fx, "other", "recv", H3, S(REQUESTED), M(UNSPECIFIED), NULL, "beds", T0, &why), 0);
    assert_int_equal(store_begin(fx->store, true, &txn), 0);
    assert_int_equal(flow_stats(fx->store, txn, &st), 0);
    store_abort(&txn);
    assert_int_equal(st.handoffs, 3);
    assert_int_equal(st.accepted_samples, 2);
    assert_int_equal(st.median_accept_ms, 2000);
    assert_int_equal(st.first_contact_samples, 1);
    assert_int_equal(st.median_first_contact_ms, 5000);
    assert_int_equal(st.nrows, 2);
    assert_string_equal(st.rows[0].from, "other");
    assert_int_equal(st.rows[0].status, S(REQUESTED));
    assert_int_equal(st.rows[0].count, 1);
    assert_string_equal(st.rows[1].from, "send");
    assert_string_equal(st.rows[1].to, "recv");
    assert_int_equal(st.rows[1].status, S(ACCEPTED));
    assert_int_equal(st.rows[1].count, 2);
    flow_stats_clear(&st);
    assert_null(st.rows);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_checks_service, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sides_follow_the_state_machine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_parties_and_counterparty, setup, teardown),
        cmocka_unit_test(test_median),
        cmocka_unit_test_setup_teardown(test_statistics_of_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statistics, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
