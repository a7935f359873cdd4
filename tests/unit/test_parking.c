/* Unit tests of parking: key order on insert, refreshing a parked item, the full parking,
 * answers and postponements by msg_id, taking items sent again, compaction, and the retry
 * walk that keeps each recipient's items in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "parking.h"

/* A slot for outbox key `key` and recipient `to`, its msg_id derived from the key. */
static outslot_t
slot_of(uint64_t key, const char *to)
{
    outslot_t s;
    memset(&s, 0, sizeof s);
    s.key = key;
    memcpy(s.msg_id, &key, sizeof key);
    s.msg_id[UID_MSGID_LEN - 1] = 0xA5;
    snprintf(s.to, sizeof s.to, "%s", to);
    return s;
}

static void
test_park_keeps_key_order(void **state)
{
    (void)state;
    parking_t p;
    parking_clear(&p);
    const uint64_t keys[] = { 5, 2, 9, 7, 1 };
    for (size_t i = 0; i < 5; i++) {
        outslot_t s = slot_of(keys[i], "a");
        s.gone = true; /* parking_park must clear it */
        assert_true(parking_park(&p, &s, 100 + keys[i]));
    }
    assert_int_equal(p.n, 5);
    const uint64_t want[] = { 1, 2, 5, 7, 9 };
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(p.slot[i].key, want[i]);
        assert_int_equal(p.slot[i].due, 100 + want[i]);
        assert_false(p.slot[i].gone);
    }
    /* parked again: only the due time changes */
    outslot_t again = slot_of(5, "b");
    assert_true(parking_park(&p, &again, 777));
    assert_int_equal(p.n, 5);
    assert_int_equal(p.slot[2].due, 777);
    assert_string_equal(p.slot[2].to, "a");
}

static void
test_park_full(void **state)
{
    (void)state;
    parking_t p;
    parking_clear(&p);
    for (uint64_t k = 1; k <= NODE_OUTBOX_PARKED; k++) {
        outslot_t s = slot_of(k * 2, "a");
        assert_true(parking_park(&p, &s, 1));
    }
    outslot_t extra = slot_of(3, "a");
    assert_false(parking_park(&p, &extra, 1));
    assert_int_equal(p.n, NODE_OUTBOX_PARKED);
    /* one parked already still gets its new due time when the parking is full */
    outslot_t known = slot_of(4, "a");
    assert_true(parking_park(&p, &known, 42));
    assert_int_equal(p.slot[1].due, 42);
}

static void
test_holds(void **state)
{
    (void)state;
    parking_t p;
    parking_clear(&p);
    assert_false(parking_holds(&p, "a"));
    outslot_t s = slot_of(1, "a");
    assert_true(parking_park(&p, &s, 1));
    assert_true(parking_holds(&p, "a"));
    assert_false(parking_holds(&p, "b"));
    assert_false(parking_holds(&p, ""));
}

static void
test_find_answer_postpone(void **state)
{
    (void)state;
    parking_t p;
    parking_clear(&p);
    outslot_t a = slot_of(1, "a"), b = slot_of(2, "a"), c = slot_of(3, "b");
    assert_true(parking_park(&p, &a, 1000));
    assert_true(parking_park(&p, &b, 0)); /* behind a */
    assert_true(parking_park(&p, &c, 1000));
    assert_non_null(parking_find(&p, b.msg_id, UID_MSGID_LEN));
    assert_null(parking_find(&p, b.msg_id, UID_MSGID_LEN - 1));
    outslot_t none = slot_of(99, "a");
    assert_null(parking_find(&p, none.msg_id, UID_MSGID_LEN));

    parking_postpone(&p, a.msg_id, UID_MSGID_LEN, 5000);
    parking_postpone(&p, b.msg_id, UID_MSGID_LEN, 5000); /* behind another: stays 0 */
    assert_int_equal(p.slot[0].due, 5000);
    assert_int_equal(p.slot[1].due, 0);

    assert_false(parking_answered(&p, none.msg_id, UID_MSGID_LEN));
    assert_false(parking_answered(&p, a.msg_id, 3));
    assert_true(parking_answered(&p, b.msg_id, UID_MSGID_LEN));
    assert_int_equal(p.n, 2);
    assert_int_equal(p.slot[0].key, 1);
    assert_int_equal(p.slot[1].key, 3);
}

static void
test_took_and_compact(void **state)
{
    (void)state;
    parking_t p;
    parking_clear(&p);
    outslot_t a = slot_of(1, "a"), b = slot_of(2, "a"), c = slot_of(3, "b");
    assert_true(parking_park(&p, &a, 1000));
    assert_true(parking_park(&p, &b, 0));
    assert_true(parking_park(&p, &c, 1000));
    uint64_t first = 0, again = 0;
    parking_took(&p, 1, &first, &again);
    parking_took(&p, 2, &first, &again);
    parking_took(&p, 42, &first, &again);
    assert_int_equal(first, 1);
    assert_int_equal(again, 1);
    assert_int_equal(p.n, 3); /* marked only */
    assert_true(p.slot[0].gone);
    assert_true(p.slot[1].gone);
    assert_false(p.slot[2].gone);
    parking_compact(&p);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.slot[0].key, 3);
    parking_clear(&p);
    assert_int_equal(p.n, 0);
}

/* Recipient "a" has its oldest item not yet due: none of its items is walked, while "b",
 * whose oldest is due, gives all of its items in key order. */
static void
test_walk_per_recipient(void **state)
{
    (void)state;
    parking_t p;
    parking_iter_t it;
    parking_clear(&p);
    const struct {
        uint64_t key;
        const char *to;
        uint64_t due;
    } in[] = { { 1, "a", 500 }, { 2, "b", 100 }, { 3, "a", 0 },
               { 4, "b", 0 },   { 5, "c", 100 }, { 6, "a", 50 } };
    for (size_t i = 0; i < 6; i++) {
        outslot_t s = slot_of(in[i].key, in[i].to);
        assert_true(parking_park(&p, &s, in[i].due));
    }
    parking_iter_init(&it);
    const uint64_t want[] = { 2, 4, 5 };
    for (size_t i = 0; i < 3; i++) {
        outslot_t *s = parking_next(&p, &it, 200);
        assert_non_null(s);
        assert_int_equal(s->key, want[i]);
    }
    assert_null(parking_next(&p, &it, 200));
    assert_null(parking_next(&p, &it, 200));

    /* later, "a" is due too: everything comes, oldest first */
    parking_iter_init(&it);
    for (uint64_t k = 1; k <= 6; k++) {
        outslot_t *s = parking_next(&p, &it, 1000);
        assert_non_null(s);
        assert_int_equal(s->key, k);
    }
    assert_null(parking_next(&p, &it, 1000));
}

static void
test_walk_empty(void **state)
{
    (void)state;
    parking_t p;
    parking_iter_t it;
    parking_clear(&p);
    parking_iter_init(&it);
    assert_null(parking_next(&p, &it, 0));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_park_keeps_key_order),
        cmocka_unit_test(test_park_full),
        cmocka_unit_test(test_holds),
        cmocka_unit_test(test_find_answer_postpone),
        cmocka_unit_test(test_took_and_compact),
        cmocka_unit_test(test_walk_per_recipient),
        cmocka_unit_test(test_walk_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
