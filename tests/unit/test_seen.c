/* Unit tests of seen: recording applied message ids and forgetting old ones. */
#include "test_node_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "seen.h"

static void
test_has_add_prune(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    assert_non_null(fx);
    MDB_txn *txn = nfx_begin(fx, false);
    uint8_t ids[40][UID_MSGID_LEN];
    for (int i = 0; i < 40; i++) {
        uid_msgid(ids[i]);
        assert_int_equal(seen_has(txn, fx->st, ids[i], UID_MSGID_LEN), 0);
        /* Even ids are old (time 1000), odd ids recent (time 5000). */
        assert_int_equal(seen_add(txn, fx->st, ids[i], UID_MSGID_LEN, i % 2 ? 5000 : 1000), 0);
        assert_int_equal(seen_has(txn, fx->st, ids[i], UID_MSGID_LEN), 1);
    }
    size_t removed = 0;
    /* Bounded work: at most 5 per call. */
    assert_int_equal(seen_prune(txn, fx->st, 2000, 5, &removed), 0);
    assert_int_equal(removed, 5);
    assert_int_equal(seen_prune(txn, fx->st, 2000, 1000, &removed), 0);
    assert_int_equal(removed, 15);
    assert_int_equal(seen_prune(txn, fx->st, 2000, 1000, &removed), 0);
    assert_int_equal(removed, 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal(seen_has(txn, fx->st, ids[i], UID_MSGID_LEN), i % 2 ? 1 : 0);
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(nfx_count(fx, NODEDB_SEEN), 20);
    nfx_destroy(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_has_add_prune),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
