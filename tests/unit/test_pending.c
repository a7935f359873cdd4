/* Unit tests of pending: API requests waiting for the broker, by msg_id and by deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "pending.h"
#include "refnet_error.h"

static void
test_take_by_id_and_deadline(void **state)
{
    (void)state;
    pending_t *p = pending_new();
    pending_route_t route = { .n = 2, .len = { 5, 0 } };
    memcpy(route.frame[0], "\x00\x01\x02\x03\x04", 5);
    uint8_t a[UID_MSGID_LEN] = { 1 }, b[UID_MSGID_LEN] = { 2 }, c[UID_MSGID_LEN] = { 3 };
    pending_item_t it;
    assert_int_equal(pending_timeout(p, 0), -1);
    assert_int_equal(pending_add(p, &route, a, "svc-a", 1000), 0);
    assert_int_equal(pending_add(p, &route, b, "svc-b", 500), 0);
    assert_int_equal(pending_add(p, &route, c, "svc-c", 2000), 0);
    assert_int_equal(pending_timeout(p, 100), 400);
    assert_int_equal(pending_timeout(p, 600), 0);

    assert_true(pending_take(p, a, &it));
    assert_string_equal(it.subject, "svc-a");
    assert_int_equal(it.route.n, 2);
    assert_memory_equal(it.route.frame[0], "\x00\x01\x02\x03\x04", 5);
    assert_false(pending_take(p, a, &it));

    assert_false(pending_take_expired(p, 499, &it));
    assert_true(pending_take_expired(p, 500, &it));
    assert_string_equal(it.subject, "svc-b");
    assert_false(pending_take_expired(p, 1999, &it));
    assert_int_equal(pending_count(p), 1);
    pending_destroy(&p);
    assert_null(p);
    pending_destroy(&p);
}

static void
test_full(void **state)
{
    (void)state;
    pending_t *p = pending_new();
    pending_route_t route = { .n = 1, .len = { 1 } };
    uint8_t id[UID_MSGID_LEN] = { 0 };
    for (int i = 0; i < NODE_PENDING_MAX; i++)
        assert_int_equal(pending_add(p, &route, id, "s", 1), 0);
    assert_int_equal(pending_add(p, &route, id, "s", 1), REFNET_EQUEUEFULL);
    pending_destroy(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_by_id_and_deadline),
        cmocka_unit_test(test_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
