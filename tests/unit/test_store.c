/* test_store: the LMDB helpers on a real environment in a temporary folder.
 *
 * No mocks: every test opens real LMDB files under mkdtemp(), and the folder is removed
 * afterwards. Covers put/get/del, numeric ordering of u64 keys, protobuf records, strings and
 * counters, "storage full" on a tiny map, and that a reopened environment keeps its data. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "records.pb-c.h"
#include "refnet_error.h"
#include "store.h"

#define MAP_1M (1024 * 1024)

static const char *const DBS[] = { "meta", "outbox", "persons" };
enum { DB_META = 0, DB_OUTBOX, DB_PERSONS };

typedef struct {
    char dir[64];
    char env[96];
    store_t *store;
} fixture_t;

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int
setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/refnet-test-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->env, sizeof f->env, "%s/db", f->dir);
    if (store_open(&f->store, f->env, MAP_1M, DBS, 3) != 0)
        return -1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *f = *state;
    store_destroy(&f->store);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void
test_put_get_del(void **state)
{
    fixture_t *f = *state;
    MDB_txn *txn = NULL;
    MDB_val v;
    MDB_dbi meta = store_db(f->store, DB_META);
    assert_int_equal(store_begin(f->store, false, &txn), 0);
    assert_int_equal(store_put(txn, meta, "k", 1, "value", 5, 0), 0);
    assert_int_equal(store_put(txn, meta, "k", 1, "other", 5, MDB_NOOVERWRITE), REFNET_EEXIST);
    assert_int_equal(store_commit(&txn), 0);
    assert_null(txn);

    assert_int_equal(store_begin(f->store, true, &txn), 0);
    assert_int_equal(store_get(txn, meta, "k", 1, &v), 0);
    assert_int_equal(v.mv_size, 5);
    assert_memory_equal(v.mv_data, "value", 5);
    assert_int_equal(store_get(txn, meta, "missing", 7, &v), REFNET_ENOTFOUND);
    /* databases are separate key spaces */
    assert_int_equal(store_get(txn, store_db(f->store, DB_OUTBOX), "k", 1, &v), REFNET_ENOTFOUND);
    store_abort(&txn);
    assert_null(txn);

    assert_int_equal(store_begin(f->store, false, &txn), 0);
    assert_int_equal(store_del(txn, meta, "k", 1), 0);
    assert_int_equal(store_del(txn, meta, "k", 1), REFNET_ENOTFOUND);
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(store_begin(f->store, true, &txn), 0);
    assert_int_equal(store_get(txn, meta, "k", 1, &v), REFNET_ENOTFOUND);
    store_abort(&txn);
}

static void
test_abort_discards(void **state)
{
    fixture_t *f = *state;
    MDB_txn *txn = NULL;
    MDB_val v;
    MDB_dbi meta = store_db(f->store, DB_META);
    assert_int_equal(store_begin(f->store, false, &txn), 0);
    assert_int_equal(store_put(txn, meta, "gone", 4, "x", 1, 0), 0);
    store_abort(&txn);
    assert_int_equal(store_begin(f->store, true, &txn), 0);
    assert_int_equal(store_get(txn, meta, "gone", 4, &v), REFNET_ENOTFOUND);
    store_abort(&txn);
    store_abort(&txn); /* a second abort is harmless */
    store_abort(NULL);
    assert_int_equal(store_commit(&txn), REFNET_EINVAL);
    assert_int_equal(store_commit(NULL), REFNET_EINVAL);
}

static void
test_u64_keys_sort_numerically(void **state)
{
    fixture_t *f = *state;
    const uint64_t values[] = { 256, 1, UINT64_MAX, 0, 65536, 255, 1ULL << 40, 2 };
    const size_t n = sizeof values / sizeof values[0];
    MDB_txn *txn = NULL;
    MDB_dbi outbox = store_db(f->store, DB_OUTBOX);
    uint8_t key[8];
    assert_int_equal(store_begin(f->store, false, &txn), 0);
    for (size_t i = 0; i < n; i++) {
        store_u64_key(key, values[i]);
        assert_int_equal(store_key_u64(key), values[i]);
        assert_int_equal(store_put(txn, outbox, key, 8, &i, sizeof i, 0), 0);
    }
    assert_int_equal(store_commit(&txn), 0);

    assert_int_equal(store_begin(f->store, true, &txn), 0);
    MDB_cursor *cur = NULL;
    assert_int_equal(mdb_cursor_open(txn, outbox, &cur), 0);
    MDB_val k, v;
    size_t seen = 0;
    uint64_t prev = 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint64_t now = store_key_u64(k.mv_data);
        if (seen > 0)
            assert_true(now > prev);
        prev = now;
        seen++;
    }
    assert_int_equal(seen, n);
    assert_int_equal(prev, UINT64_MAX);
    mdb_cursor_close(cur);
    store_abort(&txn);

    store_u64_key(key, 0x0102030405060708ULL);
    const uint8_t be[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    assert_memory_equal(key, be, 8);
}

static void
test_msg_round_trip(void **state)
{
    fixture_t *f = *state;
    MDB_txn *txn = NULL;
    MDB_dbi persons = store_db(f->store, DB_PERSONS);
    Refnet__PersonRecord rec = REFNET__PERSON_RECORD__INIT;
    rec.id = (char *)"3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a";
    rec.name = (char *)"Alex Example";
    rec.contact = (char *)"555-0100";
    rec.preferred_contact = REFNET__CONTACT_MODE__CONTACT_MODE_VIDEO;
    rec.created_at_ms = 1790000000000ULL;
    assert_int_equal(store_begin(f->store, false, &txn), 0);
    assert_int_equal(store_put_msg(txn, persons, rec.id, strlen(rec.id), &rec.base), 0);
    assert_int_equal(store_put(txn, persons, "junk", 4, "\x0a\xff\xff", 3, 0), 0);
    assert_int_equal(store_commit(&txn), 0);

    pbuf_t *pb = NULL;
    assert_int_equal(store_begin(f->store, true, &txn), 0);
    assert_int_equal(store_get_msg(txn, persons, rec.id, strlen(rec.id),
                                   &refnet__person_record__descriptor, &pb),
                     0);
    store_abort(&txn); /* the decoded record does not point into the map */
    const Refnet__PersonRecord *got = (const Refnet__PersonRecord *)pbuf_msg(pb);
    assert_string_equal(got->name, "Alex Example");
    assert_string_equal(got->contact, "555-0100");
    assert_int_equal(got->preferred_contact, REFNET__CONTACT_MODE__CONTACT_MODE_VIDEO);
    assert_int_equal(got->created_at_ms, 1790000000000ULL);
    pbuf_destroy(&pb);
    assert_null(pb);

    assert_int_equal(store_begin(f->store, true, &txn), 0);
    assert_int_equal(
        store_get_msg(txn, persons, "junk", 4, &refnet__person_record__descriptor, &pb),
        REFNET_EDECODE);
    assert_null(pb);
    assert_int_equal(
        store_get_msg(txn, persons, "nobody", 6, &refnet__person_record__descriptor, &pb),
        REFNET_ENOTFOUND);
    store_abort(&txn);
}

static void
test_strings_and_counters(void **state)
{
    fixture_t *f = *state;
    MDB_txn *txn = NULL;
    MDB_dbi meta = store_db(f->store, DB_META);
    char *s = NULL;
    uint64_t n = 99;
    assert_int_equal(store_begin(f->store, false, &txn), 0);
    assert_int_equal(store_get_u64(txn, meta, "dir_seq", &n), 0);
    assert_int_equal(n, 0); /* missing reads as zero */
    assert_int_equal(store_put_u64(txn, meta, "dir_seq", 1234567890123ULL), 0);
    assert_int_equal(store_put_str(txn, meta, "agency", "harbor"), 0);
    assert_int_equal(store_put(txn, meta, "nul", 3, "a\0b", 3, 0), 0);
    assert_int_equal(store_put(txn, meta, "short", 5, "abc", 3, 0), 0);
    assert_int_equal(store_commit(&txn), 0);

    assert_int_equal(store_begin(f->store, true, &txn), 0);
    assert_int_equal(store_get_u64(txn, meta, "dir_seq", &n), 0);
    assert_int_equal(n, 1234567890123ULL);
    assert_int_equal(store_get_str(txn, meta, "agency", &s), 0);
    assert_string_equal(s, "harbor");
    free(s);
    s = NULL;
    assert_int_equal(store_get_str(txn, meta, "nul", &s), REFNET_EDECODE);
    assert_null(s);
    assert_int_equal(store_get_str(txn, meta, "none", &s), REFNET_ENOTFOUND);
    assert_int_equal(store_get_u64(txn, meta, "short", &n), REFNET_EDECODE);
    store_abort(&txn);
}

static void
test_key_too_long(void **state)
{
    fixture_t *f = *state;
    MDB_txn *txn = NULL;
    char key[600];
    memset(key, 'k', sizeof key);
    assert_int_equal(store_begin(f->store, false, &txn), 0);
    /* LMDB's default maximum key size is 511 bytes */
    assert_int_equal(store_put(txn, store_db(f->store, DB_META), key, sizeof key, "v", 1, 0),
                     REFNET_ETOOLARGE);
    store_abort(&txn);
}

static void
test_reopen_keeps_data(void **state)
{
    fixture_t *f = *state;
    MDB_txn *txn = NULL;
    MDB_val v;
    assert_int_equal(store_begin(f->store, false, &txn), 0);
    assert_int_equal(store_put_str(txn, store_db(f->store, DB_META), "broker", "tcp://x:1"), 0);
    assert_int_equal(store_commit(&txn), 0);
    store_destroy(&f->store);
    assert_null(f->store);
    store_destroy(&f->store); /* twice is fine */

    assert_int_equal(store_open(&f->store, f->env, MAP_1M, DBS, 3), 0);
    assert_int_equal(store_begin(f->store, true, &txn), 0);
    assert_int_equal(store_get(txn, store_db(f->store, DB_META), "broker", 6, &v), 0);
    assert_int_equal(v.mv_size, 9);
    assert_memory_equal(v.mv_data, "tcp://x:1", 9);
    store_abort(&txn);
}

static void
test_map_full(void **state)
{
    fixture_t *f = *state;
    char env[128];
    store_t *tiny = NULL;
    snprintf(env, sizeof env, "%s/tiny", f->dir);
    assert_int_equal(store_open(&tiny, env, 64 * 1024, DBS, 3), 0);
    static char value[4096];
    memset(value, 'v', sizeof value);
    MDB_txn *txn = NULL;
    int rc = 0;
    assert_int_equal(store_begin(tiny, false, &txn), 0);
    for (uint64_t i = 0; i < 1000 && rc == 0; i++) {
        uint8_t key[8];
        store_u64_key(key, i);
        rc = store_put(txn, store_db(tiny, DB_OUTBOX), key, 8, value, sizeof value, 0);
    }
    assert_int_equal(rc, REFNET_EFULL);
    store_abort(&txn);

    /* the failed transaction changed nothing and the store is still usable */
    assert_int_equal(store_begin(tiny, false, &txn), 0);
    assert_int_equal(store_put_str(txn, store_db(tiny, DB_META), "after", "full"), 0);
    assert_int_equal(store_commit(&txn), 0);
    store_destroy(&tiny);
}

static void
test_open_errors(void **state)
{
    fixture_t *f = *state;
    store_t *s = NULL;
    char env[128];
    const char *many[40];
    for (size_t i = 0; i < 40; i++)
        many[i] = "db";
    snprintf(env, sizeof env, "%s/many", f->dir);
    assert_int_equal(store_open(&s, env, MAP_1M, many, 40), REFNET_EINVAL);
    assert_null(s);
    snprintf(env, sizeof env, "%s/no/such/parent", f->dir);
    assert_true(store_open(&s, env, MAP_1M, DBS, 3) < 0);
    assert_null(s);
    assert_int_equal(store_db(f->store, 3), 0); /* beyond the list */
    assert_non_null(store_env(f->store));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_del, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_discards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_u64_keys_sort_numerically, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msg_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings_and_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
