/* Unit tests of broker/pairhold: once a pair's message is refused for a full mailbox, only the
 * oldest refused message of that pair may be stored next; other pairs are not affected; a
 * hold ends when its list empties or lapses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pairhold.h"

static void
test_id(uint8_t id[UID_MSGID_LEN], uint8_t n)
{
    memset(id, 0, UID_MSGID_LEN);
    id[UID_MSGID_LEN - 1] = n;
}

static void
test_unheld_pairs_pass(void **state)
{
    (void)state;
    uint8_t a[UID_MSGID_LEN];
    test_id(a, 1);
    pairhold_t *h = pairhold_new(1000);
    assert_true(pairhold_may_pass(h, "s", "r", a, 0));
    pairhold_stored(h, "s", "r", a); /* storing without a hold changes nothing */
    assert_int_equal(pairhold_count(h), 0);
    pairhold_destroy(&h);
    assert_null(h);
    pairhold_destroy(&h);
}

static void
test_oldest_refused_goes_first(void **state)
{
    (void)state;
    uint8_t k1[UID_MSGID_LEN], k2[UID_MSGID_LEN], k3[UID_MSGID_LEN];
    test_id(k1, 1);
    test_id(k2, 2);
    test_id(k3, 3);
    pairhold_t *h = pairhold_new(1000);
    pairhold_refused(h, "s", "r", k1, 10);
    pairhold_refused(h, "s", "r", k2, 11);
    pairhold_refused(h, "s", "r", k1, 12); /* a retry does not move it */
    assert_int_equal(pairhold_count(h), 1);
    /* room came back: k2 (or a new k3) must not overtake k1 */
    assert_false(pairhold_may_pass(h, "s", "r", k2, 20));
    assert_false(pairhold_may_pass(h, "s", "r", k3, 20));
    assert_true(pairhold_may_pass(h, "other", "r", k3, 20));
    assert_true(pairhold_may_pass(h, "s", "other", k3, 20));
    assert_true(pairhold_may_pass(h, "s", "r", k1, 20));
    pairhold_stored(h, "s", "r", k1);
    assert_false(pairhold_may_pass(h, "s", "r", k3, 21));
    assert_true(pairhold_may_pass(h, "s", "r", k2, 21));
    pairhold_stored(h, "s", "r", k2);
    assert_int_equal(pairhold_count(h), 0);
    assert_true(pairhold_may_pass(h, "s", "r", k3, 22));
    pairhold_destroy(&h);
}

static void
test_idle_hold_lapses(void **state)
{
    (void)state;
    uint8_t k1[UID_MSGID_LEN], k2[UID_MSGID_LEN];
    test_id(k1, 1);
    test_id(k2, 2);
    pairhold_t *h = pairhold_new(1000);
    pairhold_refused(h, "s", "r", k1, 100);
    assert_false(pairhold_may_pass(h, "s", "r", k2, 1100));
    pairhold_refused(h, "s", "r", k1, 1100); /* k1 came back: the hold stays */
    assert_false(pairhold_may_pass(h, "s", "r", k2, 2100));
    assert_true(pairhold_may_pass(h, "s", "r", k2, 2101)); /* k1 gone for over idle_ms */
    assert_int_equal(pairhold_count(h), 0);
    pairhold_destroy(&h);
}

/* Unstored ids go to the front, newest reported first; a full list forgets its newest. */
static void
test_unstored_go_first(void **state)
{
    (void)state;
    uint8_t k[PAIRHOLD_MAX_IDS + 2][UID_MSGID_LEN];
    for (int i = 0; i < PAIRHOLD_MAX_IDS + 2; i++)
        test_id(k[i], (uint8_t)(i + 1));
    pairhold_t *h = pairhold_new(1000);
    pairhold_refused(h, "s", "r", k[2], 10);
    pairhold_unstored(h, "s", "r", k[1], 10);
    pairhold_unstored(h, "s", "r", k[0], 10);
    assert_false(pairhold_may_pass(h, "s", "r", k[1], 11));
    assert_true(pairhold_may_pass(h, "s", "r", k[0], 11));
    pairhold_stored(h, "s", "r", k[0]);
    assert_true(pairhold_may_pass(h, "s", "r", k[1], 12));
    pairhold_stored(h, "s", "r", k[1]);
    assert_true(pairhold_may_pass(h, "s", "r", k[2], 12));
    pairhold_stored(h, "s", "r", k[2]);
    assert_int_equal(pairhold_count(h), 0);

    for (int i = 1; i < PAIRHOLD_MAX_IDS + 1; i++)
        pairhold_refused(h, "s", "r", k[i], 20);
    pairhold_unstored(h, "s", "r", k[0], 20); /* full: k[MAX] drops off the end */
    assert_true(pairhold_may_pass(h, "s", "r", k[0], 21));
    for (int i = 0; i < PAIRHOLD_MAX_IDS; i++)
        pairhold_stored(h, "s", "r", k[i]);
    assert_int_equal(pairhold_count(h), 0);
    pairhold_destroy(&h);
}

static void
test_bounds(void **state)
{
    (void)state;
    uint8_t id[UID_MSGID_LEN];
    pairhold_t *h = pairhold_new(1000);
    char name[16];
    for (int i = 0; i < PAIRHOLD_MAX_PAIRS + 10; i++) {
        snprintf(name, sizeof name, "s%d", i);
        test_id(id, 1);
        pairhold_refused(h, name, "r", id, 0);
    }
    assert_int_equal(pairhold_count(h), PAIRHOLD_MAX_PAIRS);
    /* a pair past the bound is not held: it costs order, never a message */
    test_id(id, 2);
    assert_true(pairhold_may_pass(h, "s4100", "r", id, 0));
    assert_false(pairhold_may_pass(h, "s0", "r", id, 0));
    pairhold_destroy(&h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unheld_pairs_pass),
        cmocka_unit_test(test_oldest_refused_goes_first),
        cmocka_unit_test(test_idle_hold_lapses),
        cmocka_unit_test(test_unstored_go_first),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
