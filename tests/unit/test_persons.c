/* Unit tests of persons: add, read back, list with a bound. */
#include "test_node_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "refnet_error.h"

static int
count_visit(void *ctx, const Refnet__PersonRecord *p)
{
    assert_true(uid_is_uuid(p->id));
    (*(int *)ctx)++;
    return 0;
}

static int
stop_visit(void *ctx, const Refnet__PersonRecord *p)
{
    (void)p;
    (*(int *)ctx)++;
    return -7;
}

static void
test_add_get_each(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    assert_non_null(fx);
    MDB_txn *txn = nfx_begin(fx, false);
    char a[UID_STR_LEN], b[UID_STR_LEN];
    assert_int_equal(nfx_add_person(txn, fx->st, "Sam Doe", "555-0100", a), 0);
    assert_int_equal(nfx_add_person(txn, fx->st, "Alex Roe", "", b), 0);
    assert_true(uid_is_uuid(a));
    assert_string_not_equal(a, b);
    pbuf_t *pb = NULL;
    assert_int_equal(persons_get(txn, fx->st, a, &pb), 0);
    const Refnet__PersonRecord *p = (const Refnet__PersonRecord *)pbuf_msg(pb);
    assert_string_equal(p->name, "Sam Doe");
    assert_string_equal(p->contact, "555-0100");
    assert_true(p->created_at_ms > 0);
    pbuf_destroy(&pb);
    assert_int_equal(persons_get(txn, fx->st, "missing", &pb), REFNET_ENOTFOUND);
    int n = 0;
    assert_int_equal(persons_each(txn, fx->st, 100, count_visit, &n), 0);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(persons_each(txn, fx->st, 1, count_visit, &n), 0);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(persons_each(txn, fx->st, 100, stop_visit, &n), -7);
    assert_int_equal(n, 1);
    store_abort(&txn);
    nfx_destroy(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_get_each),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
