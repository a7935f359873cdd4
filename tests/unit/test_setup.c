/* Unit tests of broker/setup and broker/bstore: a broker folder is created with its keys,
 * certificates and store; init refuses to overwrite; enrol refuses foreign folders and the
 * broker's own keys; endpoints are validated. */
#include "test_broker_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "path.h"
#include "refnet_error.h"
#include "setup.h"

static int
setup(void **state)
{
    char *dir = xstrdup("/tmp/refnet-broker-test-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    *state = dir;
    return 0;
}

static int
teardown(void **state)
{
    fx_rmrf(*state);
    free(*state);
    return 0;
}

static void
test_endpoints(void **state)
{
    (void)state;
    assert_true(setup_endpoint_valid("tcp://127.0.0.1:7400"));
    assert_true(setup_endpoint_valid("tcp://127.0.0.1:*"));
    assert_true(setup_endpoint_valid("ipc:///tmp/x.sock"));
    assert_false(setup_endpoint_valid("udp://127.0.0.1:1"));
    assert_false(setup_endpoint_valid("tcp://"));
    assert_false(setup_endpoint_valid("tcp://a b:1"));
    char longer[400];
    memset(longer, 'a', sizeof longer);
    memcpy(longer, "tcp://", 6);
    longer[sizeof longer - 1] = '\0';
    assert_false(setup_endpoint_valid(longer));
}

static void
test_init_makes_a_broker_folder(void **state)
{
    const char *dir = *state;
    char key[KEYS_Z85_LEN], onfile[KEYS_Z85_LEN], why[WIRE_WHY_LEN], path[PATH_MAX_LEN];
    struct stat st;
    assert_int_equal(setup_init(dir, "udp://x", FX_MAP_MB, key, why), REFNET_EINVAL);
    assert_int_equal(setup_init(dir, "tcp://127.0.0.1:7999", FX_MAP_MB, key, why), 0);
    assert_true(keys_z85_valid(key));
    assert_int_equal(keys_load_public(dir, "broker", onfile), 0);
    assert_string_equal(onfile, key);
    assert_int_equal(path_join(path, sizeof path, dir, "broker.cert_secret"), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 077, 0);
    assert_int_equal(path_join(path, sizeof path, dir, "certs/admin.cert"), 0);
    assert_true(path_exists(path));

    store_t *store = NULL;
    MDB_txn *txn = NULL;
    char *bind = NULL;
    assert_int_equal(bstore_open(&store, dir, FX_MAP_MB), 0);
    assert_int_equal(store_begin(store, true, &txn), 0);
    assert_int_equal(store_get_str(txn, bstore_db(store, BSTORE_META), BSTORE_META_BIND, &bind), 0);
    assert_string_equal(bind, "tcp://127.0.0.1:7999");
    free(bind);
    store_abort(&txn);
    store_destroy(&store);

    /* Never twice: the keys of a running network must not be replaced by accident. */
    char again[KEYS_Z85_LEN];
    assert_int_equal(setup_init(dir, NULL, FX_MAP_MB, again, why), REFNET_EEXIST);
    assert_int_equal(keys_load_public(dir, "broker", onfile), 0);
    assert_string_equal(onfile, key);
}

static void
test_enroll(void **state)
{
    const char *dir = *state;
    char key[KEYS_Z85_LEN], agency[KEYS_Z85_LEN], admin[KEYS_Z85_LEN], why[WIRE_WHY_LEN];
    char path[PATH_MAX_LEN];
    fx_new_key(agency);
    assert_int_equal(setup_enroll(dir, "a1", NULL, agency, FX_MAP_MB, why), REFNET_ENOTFOUND);
    assert_int_equal(setup_init(dir, NULL, FX_MAP_MB, key, why), 0);
    assert_int_equal(keys_load_public(dir, "admin", admin), 0);
    assert_int_equal(setup_enroll(dir, "a1", NULL, key, FX_MAP_MB, why), REFNET_EINVAL);
    assert_int_equal(setup_enroll(dir, "a1", NULL, admin, FX_MAP_MB, why), REFNET_EINVAL);
    assert_int_equal(setup_enroll(dir, "a1", "Agency One", agency, FX_MAP_MB, why), 0);
    assert_int_equal(path_join(path, sizeof path, dir, "certs/a1.cert"), 0);
    assert_true(path_exists(path));
    assert_int_equal(setup_enroll(dir, "a2", NULL, agency, FX_MAP_MB, why), REFNET_EEXIST);
    assert_non_null(strstr(why, "another agency"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test_setup_teardown(test_init_makes_a_broker_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enroll, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
