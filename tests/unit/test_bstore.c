/* Unit tests of broker/bstore: the environment is made in DATA/db, every named database is
 * its own keyspace, writes survive closing and reopening, and an over-long folder is refused.
 * Real LMDB in a mkdtemp() folder. */
#include "test_broker_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "path.h"
#include "refnet_error.h"

static int
setup(void **state)
{
    fx_t *fx = fx_new();
    if (!fx)
        return -1;
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    fx_t *fx = *state;
    fx_destroy(&fx);
    return 0;
}

static void
test_environment_lives_in_db_folder(void **state)
{
    fx_t *fx = *state;
    char db[128];
    struct stat st;
    snprintf(db, sizeof db, "%s/db", fx->dir);
    assert_int_equal(stat(db, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    snprintf(db, sizeof db, "%s/db/data.mdb", fx->dir);
    assert_int_equal(stat(db, &st), 0);
    assert_true(S_ISREG(st.st_mode));
}

static void
test_databases_are_separate_and_durable(void **state)
{
    fx_t *fx = *state;
    MDB_txn *txn = NULL;
    MDB_val v;
    const char *key = "same-key";
    /* The same key in every database, each with its own value. */
    assert_int_equal(store_begin(fx->store, false, &txn), 0);
    for (int i = 0; i < BSTORE_NDBS; i++) {
        uint8_t val = (uint8_t)(0x40 + i);
        assert_int_equal(
            store_put(txn, bstore_db(fx->store, (bstore_db_t)i), key, strlen(key), &val, 1, 0), 0);
    }
    assert_int_equal(store_commit(&txn), 0);
    for (int i = 0; i < BSTORE_NDBS; i++)
        for (int j = i + 1; j < BSTORE_NDBS; j++)
            assert_int_not_equal(bstore_db(fx->store, (bstore_db_t)i),
                                 bstore_db(fx->store, (bstore_db_t)j));

    /* Reopened from disk, each database still holds its own value. */
    store_destroy(&fx->store);
    assert_null(fx->store);
    assert_int_equal(bstore_open(&fx->store, fx->dir, FX_MAP_MB), 0);
    assert_int_equal(store_begin(fx->store, true, &txn), 0);
    for (int i = 0; i < BSTORE_NDBS; i++) {
        assert_int_equal(store_get(txn, bstore_db(fx->store, (bstore_db_t)i), key, strlen(key), &v),
                         0);
        assert_int_equal(v.mv_size, 1);
        assert_int_equal(((const uint8_t *)v.mv_data)[0], 0x40 + i);
    }
    assert_int_equal(
        store_get(txn, bstore_db(fx->store, BSTORE_META), "other", strlen("other"), &v),
        REFNET_ENOTFOUND);
    store_abort(&txn);
}

static void
test_aborted_write_leaves_nothing(void **state)
{
    fx_t *fx = *state;
    MDB_txn *txn = NULL;
    MDB_val v;
    const char *bind = "tcp://127.0.0.1:7400";
    assert_int_equal(store_begin(fx->store, false, &txn), 0);
    assert_int_equal(store_put(txn, bstore_db(fx->store, BSTORE_META), BSTORE_META_BIND,
                               strlen(BSTORE_META_BIND), bind, strlen(bind), 0),
                     0);
    store_abort(&txn);
    assert_int_equal(store_begin(fx->store, true, &txn), 0);
    assert_int_equal(store_get(txn, bstore_db(fx->store, BSTORE_META), BSTORE_META_BIND,
                               strlen(BSTORE_META_BIND), &v),
                     REFNET_ENOTFOUND);
    store_abort(&txn);
}

static void
test_too_long_folder_is_refused(void **state)
{
    (void)state;
    store_t *store = NULL;
    char *dir = xcalloc(1, PATH_MAX_LEN + 1);
    memset(dir, 'x', PATH_MAX_LEN);
    dir[0] = '/';
    assert_int_equal(bstore_open(&store, dir, FX_MAP_MB), REFNET_ETOOLARGE);
    assert_null(store);
    free(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_environment_lives_in_db_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_databases_are_separate_and_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aborted_write_leaves_nothing, setup, teardown),
        cmocka_unit_test(test_too_long_folder_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
