/* Unit tests of broker/dirhub: sequencing, ownership, compaction of the log and catch-up
 * sets, against a real LMDB store in a temporary folder. */
#include "test_broker_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dirhub.h"
#include "refnet_error.h"

static char food[] = "food";
static char *tax_food[] = { food };

static int
setup(void **state)
{
    fx_t *fx = fx_new();
    *state = fx;
    return fx ? 0 : -1;
}

static int
teardown(void **state)
{
    fx_t *fx = *state;
    fx_destroy(&fx);
    return 0;
}

/* Publishes in its own committed transaction; returns the code, sets *seq. */
static int
publish(store_t *store, const char *agency, const char *id, uint64_t *seq)
{
    Refnet__Service svc = fx_service(id, "A service", tax_food);
    const char *why = NULL;
    MDB_txn *txn = NULL;
    int rc = store_begin(store, false, &txn);
    if (!rc)
        rc = dirhub_publish(store, txn, agency, &svc, clock_now_ms(), seq, &why);
    if (!rc)
        return store_commit(&txn);
    store_abort(&txn);
    return rc;
}

static int
withdraw(store_t *store, const char *agency, const char *id, uint64_t *seq, bool *changed)
{
    const char *why = NULL;
    MDB_txn *txn = NULL;
    int rc = store_begin(store, false, &txn);
    if (!rc)
        rc = dirhub_withdraw(store, txn, agency, id, seq, changed, &why);
    if (!rc)
        return store_commit(&txn);
    store_abort(&txn);
    return rc;
}

static int
availability(store_t *store, const char *agency, const char *id, int32_t available, uint64_t *seq)
{
    Refnet__Capacity cap = REFNET__CAPACITY__INIT;
    Refnet__DirAvailability av = REFNET__DIR_AVAILABILITY__INIT;
    const char *why = NULL;
    MDB_txn *txn = NULL;
    cap.available = available;
    cap.maximum = 10;
    av.service_id = (char *)id;
    av.capacity = &cap;
    int rc = store_begin(store, false, &txn);
    if (!rc)
        rc = dirhub_availability(store, txn, agency, &av, clock_now_ms(), seq, &why);
    if (!rc)
        return store_commit(&txn);
    store_abort(&txn);
    return rc;
}

static uint64_t
head(store_t *store)
{
    uint64_t h = 99;
    MDB_txn *txn = NULL;
    assert_int_equal(store_begin(store, true, &txn), 0);
    assert_int_equal(dirhub_head(store, txn, &h), 0);
    store_abort(&txn);
    return h;
}

/* Decodes the update frame of `seq` (through the real wire decoder) into its parts. */
static void
read_update(store_t *store,
            uint64_t seq,
            char *service_id,
            char *agency,
            bool *withdrawn,
            int32_t *available)
{
    MDB_txn *txn = NULL;
    uint8_t *frame = NULL;
    size_t len = 0;
    pbuf_t *pb = NULL;
    assert_int_equal(store_begin(store, true, &txn), 0);
    assert_int_equal(dirhub_update_frame(store, txn, seq, &frame, &len), 0);
    store_abort(&txn);
    assert_int_equal(wire_decode(frame, len, &pb, NULL), 0);
    const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
    assert_int_equal(env->body_case, REFNET__ENVELOPE__BODY_UPDATE);
    assert_int_equal(env->update->seq, seq);
    snprintf(service_id, WIRE_MAX_IDENT + 1, "%s", env->update->service_id);
    snprintf(agency, WIRE_MAX_IDENT + 1, "%s", env->update->agency);
    *withdrawn = env->update->withdrawn;
    *available = env->update->service && env->update->service->capacity
                     ? env->update->service->capacity->available
                     : -100;
    if (env->update->service)
        assert_string_equal(env->update->service->agency, agency);
    pbuf_destroy(&pb);
    free(frame);
}

static void
test_sequencing_is_gap_free(void **state)
{
    fx_t *fx = *state;
    uint64_t seq = 0;
    assert_int_equal(head(fx->store), 0);
    assert_int_equal(publish(fx->store, "a1", "s1", &seq), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(publish(fx->store, "a2", "s2", &seq), 0);
    assert_int_equal(seq, 2);
    assert_int_equal(availability(fx->store, "a1", "s1", 3, &seq), 0);
    assert_int_equal(seq, 3);
    assert_int_equal(head(fx->store), 3);

    char id[WIRE_MAX_IDENT + 1], agency[WIRE_MAX_IDENT + 1];
    bool gone = true;
    int32_t avail = 0;
    read_update(fx->store, 3, id, agency, &gone, &avail);
    assert_string_equal(id, "s1");
    assert_string_equal(agency, "a1");
    assert_false(gone);
    assert_int_equal(avail, 3);
}

static void
test_ownership_is_enforced(void **state)
{
    fx_t *fx = *state;
    uint64_t seq = 0;
    bool changed = true;
    assert_int_equal(publish(fx->store, "a1", "s1", &seq), 0);
    assert_int_equal(publish(fx->store, "a2", "s1", &seq), REFNET_EFORBIDDEN);
    assert_int_equal(availability(fx->store, "a2", "s1", 1, &seq), REFNET_EFORBIDDEN);
    assert_int_equal(withdraw(fx->store, "a2", "s1", &seq, &changed), REFNET_EFORBIDDEN);
    assert_int_equal(head(fx->store), 1);
    /* Still the owner's after withdrawal: nobody else may take the id over. */
    assert_int_equal(withdraw(fx->store, "a1", "s1", &seq, &changed), 0);
    assert_true(changed);
    assert_int_equal(seq, 2);
    assert_int_equal(publish(fx->store, "a2", "s1", &seq), REFNET_EFORBIDDEN);
    assert_int_equal(publish(fx->store, "a1", "s1", &seq), 0);
    assert_int_equal(seq, 3);
}

static void
test_unknown_and_withdrawn(void **state)
{
    fx_t *fx = *state;
    uint64_t seq = 0;
    bool changed = true;
    assert_int_equal(availability(fx->store, "a1", "nope", 1, &seq), REFNET_ENOTFOUND);
    assert_int_equal(withdraw(fx->store, "a1", "nope", &seq, &changed), REFNET_ENOTFOUND);
    assert_int_equal(publish(fx->store, "a1", "s1", &seq), 0);
    assert_int_equal(withdraw(fx->store, "a1", "s1", &seq, &changed), 0);
    assert_int_equal(seq, 2);
    /* A resent withdrawal gets the same answer and makes no new change. */
    assert_int_equal(withdraw(fx->store, "a1", "s1", &seq, &changed), 0);
    assert_false(changed);
    assert_int_equal(seq, 2);
    assert_int_equal(head(fx->store), 2);
    assert_int_equal(availability(fx->store, "a1", "s1", 1, &seq), REFNET_ENOTFOUND);

    char id[WIRE_MAX_IDENT + 1], agency[WIRE_MAX_IDENT + 1];
    bool gone = false;
    int32_t avail = 0;
    read_update(fx->store, 2, id, agency, &gone, &avail);
    assert_string_equal(id, "s1");
    assert_true(gone);
    assert_int_equal(avail, -100);
}

static size_t
dirlog_entries(store_t *store)
{
    MDB_txn *txn = NULL;
    MDB_stat st;
    assert_int_equal(store_begin(store, true, &txn), 0);
    assert_int_equal(mdb_stat(txn, bstore_db(store, BSTORE_DIRLOG), &st), 0);
    store_abort(&txn);
    return st.ms_entries;
}

/* The set of services a node that applied everything up to `since` must receive. */
static void
collect_since(store_t *store, uint64_t since, uint64_t *seqs, size_t *n)
{
    MDB_txn *txn = NULL;
    uint64_t seq = since;
    *n = 0;
    assert_int_equal(store_begin(store, true, &txn), 0);
    while (dirhub_next(store, txn, seq, &seq) == 0)
        seqs[(*n)++] = seq;
    store_abort(&txn);
}

/* Random changes against a model that remembers each service's latest seq: the log keeps one
 * entry per service, and a catch-up from any N sends exactly the services changed after N. */
static void
test_compaction_and_sync_against_model(void **state)
{
    enum { SERVICES = 12, CHANGES = 200 };
    fx_t *fx = *state;
    uint64_t latest[SERVICES] = { 0 };
    char ids[SERVICES][8];
    srand(7);
    for (int i = 0; i < SERVICES; i++)
        snprintf(ids[i], sizeof ids[i], "s%d", i);
    for (int c = 0; c < CHANGES; c++) {
        int i = rand() % SERVICES;
        uint64_t seq = 0;
        if (latest[i] && rand() % 2)
            assert_int_equal(availability(fx->store, "a1", ids[i], c % 7, &seq), 0);
        else
            assert_int_equal(publish(fx->store, "a1", ids[i], &seq), 0);
        assert_int_equal(seq, (uint64_t)c + 1);
        latest[i] = seq;
    }
    size_t published = 0;
    for (int i = 0; i < SERVICES; i++)
        published += latest[i] ? 1 : 0;
    assert_int_equal(dirlog_entries(fx->store), published);

    uint64_t got[SERVICES];
    size_t n = 0;
    for (uint64_t since = 0; since <= CHANGES; since += 13) {
        collect_since(fx->store, since, got, &n);
        size_t expect = 0;
        for (int i = 0; i < SERVICES; i++)
            expect += latest[i] > since ? 1 : 0;
        assert_int_equal(n, expect);
        for (size_t k = 0; k < n; k++) {
            bool found = false;
            for (int i = 0; i < SERVICES; i++)
                found = found || latest[i] == got[k];
            assert_true(found);
            assert_true(got[k] > since);
            if (k)
                assert_true(got[k] > got[k - 1]);
        }
    }
}

static void
test_owner_lookup(void **state)
{
    fx_t *fx = *state;
    uint64_t seq = 0;
    bool changed = false, withdrawn = true;
    char owner[WIRE_MAX_IDENT + 1];
    MDB_txn *txn = NULL;
    assert_int_equal(publish(fx->store, "a1", "s1", &seq), 0);
    assert_int_equal(store_begin(fx->store, true, &txn), 0);
    assert_int_equal(dirhub_owner(fx->store, txn, "s1", owner, &withdrawn), 0);
    assert_string_equal(owner, "a1");
    assert_false(withdrawn);
    assert_int_equal(dirhub_owner(fx->store, txn, "s2", owner, &withdrawn), REFNET_ENOTFOUND);
    store_abort(&txn);
    assert_int_equal(withdraw(fx->store, "a1", "s1", &seq, &changed), 0);
    assert_int_equal(store_begin(fx->store, true, &txn), 0);
    assert_int_equal(dirhub_owner(fx->store, txn, "s1", owner, &withdrawn), 0);
    assert_true(withdrawn);
    store_abort(&txn);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sequencing_is_gap_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ownership_is_enforced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_withdrawn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction_and_sync_against_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_lookup, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
