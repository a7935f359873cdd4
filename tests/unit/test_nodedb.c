/* Unit tests of nodedb: the node's databases open, persist and count. */
#include "test_node_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

static void
test_open_write_reopen(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    assert_non_null(fx);
    for (size_t i = 0; i < NODEDB_COUNT; i++)
        assert_int_equal(nfx_count(fx, i), 0);
    MDB_txn *txn = nfx_begin(fx, false);
    assert_int_equal(store_put_str(txn, store_db(fx->st, NODEDB_META), "agency", "harbor"), 0);
    assert_int_equal(store_put_str(txn, store_db(fx->st, NODEDB_PERSONS), "k", "v"), 0);
    assert_int_equal(store_commit(&txn), 0);
    store_destroy(&fx->st);
    assert_int_equal(nodedb_open(&fx->st, fx->dir, NFX_MAP_BYTES), 0);
    assert_int_equal(nfx_count(fx, NODEDB_META), 1);
    assert_int_equal(nfx_count(fx, NODEDB_PERSONS), 1);
    assert_int_equal(nfx_count(fx, NODEDB_CONSENTS), 0);
    txn = nfx_begin(fx, true);
    char *agency = NULL;
    assert_int_equal(store_get_str(txn, store_db(fx->st, NODEDB_META), "agency", &agency), 0);
    assert_string_equal(agency, "harbor");
    free(agency);
    store_abort(&txn);
    nfx_destroy(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_write_reopen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
