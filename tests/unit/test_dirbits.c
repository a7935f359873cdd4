/* Unit tests of dirbits: the in-memory set operations against a plain array of booleans, and
 * stored sets (add, remove, empty chunks deleted, load) in a real LMDB database. */
#include "test_node_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_search_fixture.h"

#include "dirbits.h"
#include "nodedb.h"
#include "refnet_error.h"

#define N_DOCS 20000

static unsigned
rnd(unsigned n)
{
    return tsf_rnd(n);
}

static void
fill(dirbits_t *b, bool *model, unsigned one_in)
{
    for (uint32_t d = 0; d < N_DOCS; d++) {
        model[d] = rnd(one_in) == 0;
        if (model[d])
            dirbits_set(b, d);
    }
}

static void
expect_model(const dirbits_t *b, const bool *model)
{
    size_t n = 0;
    uint32_t d = 0, prev = 0;
    bool first = true;
    for (uint32_t i = 0; i < N_DOCS; i++) {
        assert_int_equal(dirbits_has(b, i), model[i]);
        n += model[i];
    }
    assert_int_equal(dirbits_count(b), n);
    /* dirbits_next visits exactly the members, in order. */
    size_t seen = 0;
    for (; dirbits_next(b, &d); d++, seen++) {
        assert_true(model[d]);
        assert_true(first || d > prev);
        prev = d;
        first = false;
    }
    assert_int_equal(seen, n);
}

static void
test_memory_ops(void **state)
{
    (void)state;
    static bool ma[N_DOCS], mb[N_DOCS];
    dirbits_t a, b;
    dirbits_init(&a, N_DOCS - 1);
    dirbits_init(&b, N_DOCS - 1);
    fill(&a, ma, 3);
    fill(&b, mb, 2);
    expect_model(&a, ma);
    dirbits_set(&a, N_DOCS + 5000); /* beyond the size: ignored */
    assert_false(dirbits_has(&a, N_DOCS + 5000));
    dirbits_and(&a, &b);
    for (size_t i = 0; i < N_DOCS; i++)
        ma[i] = ma[i] && mb[i];
    expect_model(&a, ma);
    dirbits_andnot(&b, &a);
    for (size_t i = 0; i < N_DOCS; i++)
        mb[i] = mb[i] && !ma[i];
    expect_model(&b, mb);
    dirbits_clear(&b, 7);
    mb[7] = false;
    expect_model(&b, mb);
    dirbits_zero(&b);
    uint32_t d = 0;
    assert_false(dirbits_next(&b, &d));
    assert_int_equal(dirbits_count(&b), 0);
    dirbits_free(&a);
    dirbits_free(&b);
    assert_null(a.w);
}

static void
test_stored(void **state)
{
    (void)state;
    static bool model[N_DOCS];
    static const uint8_t pre[] = { 'b', 'T', 'x', 0 }, other[] = { 'b', 'T', 'y', 0 };
    nfx_t *fx = nfx_new();
    MDB_txn *txn = nfx_begin(fx, false);
    MDB_dbi dbi = store_db(fx->st, NODEDB_DIRINDEX);
    MDB_cursor *cur = NULL;
    assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
    for (uint32_t d = 0; d < N_DOCS; d++) {
        model[d] = rnd(5) == 0;
        if (model[d])
            assert_int_equal(dirbits_store(cur, pre, sizeof pre, d, true), 0);
    }
    /* A neighbouring set shares no chunk with it. */
    assert_int_equal(dirbits_store(cur, other, sizeof other, 3, true), 0);
    /* Remove some, and everything in the second chunk: that chunk's key goes away. */
    for (uint32_t d = 0; d < N_DOCS; d++) {
        bool drop = (d >= DIRBITS_CHUNK_BITS && d < 2 * DIRBITS_CHUNK_BITS) || rnd(4) == 0;
        if (drop) {
            assert_int_equal(dirbits_store(cur, pre, sizeof pre, d, false), 0);
            model[d] = false;
        }
    }
    mdb_cursor_close(cur);
    dirbits_t b;
    dirbits_init(&b, N_DOCS - 1);
    assert_int_equal(dirbits_load(txn, dbi, pre, sizeof pre, &b), 0);
    expect_model(&b, model);
    MDB_val v;
    uint8_t key[sizeof pre + 4] = { 'b', 'T', 'x', 0, 0, 0, 0, 1 };
    assert_int_equal(store_get(txn, dbi, key, sizeof key, &v), REFNET_ENOTFOUND);
    /* Loading ORs: the other set adds its one member. */
    assert_int_equal(dirbits_load(txn, dbi, other, sizeof other, &b), 0);
    assert_true(dirbits_has(&b, 3));
    dirbits_free(&b);
    store_abort(&txn);
    nfx_destroy(&fx);
}

/* A sparse set keeps offsets (2 bytes a member); past DIRBITS_ARRAY_MAX a chunk becomes a
 * bitmap; members come and go in any order in both forms. */
static void
test_chunk_forms(void **state)
{
    (void)state;
    static bool model[DIRBITS_CHUNK_BITS];
    static const uint8_t pre[] = { 'b', 'S', 0 };
    uint8_t key[] = { 'b', 'S', 0, 0, 0, 0, 0 };
    nfx_t *fx = nfx_new();
    MDB_txn *txn = nfx_begin(fx, false);
    MDB_dbi dbi = store_db(fx->st, NODEDB_DIRINDEX);
    MDB_cursor *cur = NULL;
    MDB_val v;
    size_t n = 0;
    assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
    for (unsigned round = 0; round < 4000; round++) {
        uint32_t d = rnd(DIRBITS_CHUNK_BITS);
        bool on = round < 2000 ? rnd(8) != 0 : rnd(8) == 0;
        assert_int_equal(dirbits_store(cur, pre, sizeof pre, d, on), 0);
        n += on && !model[d];
        n -= !on && model[d];
        model[d] = on;
        int rc = store_get(txn, dbi, key, sizeof key, &v);
        if (n == 0) {
            assert_int_equal(rc, REFNET_ENOTFOUND);
            continue;
        }
        assert_int_equal(rc, 0);
        /* Offsets while few; a bitmap once it outgrew them (it stays one). */
        if (v.mv_size != DIRBITS_CHUNK_BYTES)
            assert_int_equal(v.mv_size, 2 * n);
        else
            assert_true(round > DIRBITS_ARRAY_MAX);
    }
    mdb_cursor_close(cur);
    dirbits_t b;
    dirbits_init(&b, DIRBITS_CHUNK_BITS - 1);
    assert_int_equal(dirbits_load(txn, dbi, pre, sizeof pre, &b), 0);
    for (uint32_t d = 0; d < DIRBITS_CHUNK_BITS; d++)
        assert_int_equal(dirbits_has(&b, d), model[d]);
    assert_int_equal(dirbits_count(&b), n);
    dirbits_free(&b);
    store_abort(&txn);
    nfx_destroy(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_ops),
        cmocka_unit_test(test_stored),
        cmocka_unit_test(test_chunk_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
