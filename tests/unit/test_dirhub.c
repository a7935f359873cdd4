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

/* ---- digest, compaction and snapshots ---------------------------------------------------- */

static dirdigest_t
digest_of(store_t *store)
{
    dirdigest_t d;
    MDB_txn *txn = NULL;
    assert_int_equal(store_begin(store, true, &txn), 0);
    assert_int_equal(dirhub_digest(store, txn, &d), 0);
    store_abort(&txn);
    return d;
}

/* The digest computed from scratch: the stored one is deleted inside a transaction that is
 * then aborted, so dirhub_digest has to rebuild it from "services". */
static dirdigest_t
digest_rebuilt(store_t *store)
{
    dirdigest_t d;
    MDB_txn *txn = NULL;
    assert_int_equal(store_begin(store, false, &txn), 0);
    assert_int_equal(store_del(txn, bstore_db(store, BSTORE_META), "dir_digest", 10), 0);
    assert_int_equal(dirhub_digest(store, txn, &d), 0);
    store_abort(&txn);
    return d;
}

/* The digest is kept change by change, and always equals the digest computed from scratch;
 * it counts live services only; a change to a service changes it. */
static void
test_digest_incremental(void **state)
{
    fx_t *fx = *state;
    uint64_t seq = 0;
    bool changed = false;
    char id[16];
    dirdigest_t empty = digest_of(fx->store);
    assert_int_equal(empty.count, 0);
    srand(7);
    for (int i = 0; i < 300; i++) {
        snprintf(id, sizeof id, "s%03d", rand() % 40);
        int op = rand() % 3, rc;
        if (op == 0)
            rc = publish(fx->store, "a1", id, &seq);
        else if (op == 1)
            rc = availability(fx->store, "a1", id, rand() % 9, &seq);
        else
            rc = withdraw(fx->store, "a1", id, &seq, &changed);
        assert_true(rc == 0 || rc == REFNET_ENOTFOUND);
        if (i % 50 == 49) {
            dirdigest_t a = digest_of(fx->store), b = digest_rebuilt(fx->store);
            assert_true(dirdigest_equal(&a, &b));
        }
    }
    dirdigest_t before = digest_of(fx->store);
    assert_int_equal(publish(fx->store, "a1", "fresh", &seq), 0);
    dirdigest_t after = digest_of(fx->store);
    assert_int_equal(after.count, before.count + 1);
    assert_false(dirdigest_equal(&before, &after));
    assert_int_equal(withdraw(fx->store, "a1", "fresh", &seq, &changed), 0);
    after = digest_of(fx->store);
    assert_true(dirdigest_equal(&before, &after));
}

static int
compact(store_t *store, uint64_t cutoff, size_t steps, size_t *removed)
{
    MDB_txn *txn = NULL;
    int rc = store_begin(store, false, &txn);
    if (!rc)
        rc = dirhub_compact(store, txn, cutoff, steps, removed);
    if (!rc)
        return store_commit(&txn);
    store_abort(&txn);
    return rc;
}

static uint64_t
horizon(store_t *store)
{
    uint64_t h = 99;
    MDB_txn *txn = NULL;
    assert_int_equal(store_begin(store, true, &txn), 0);
    assert_int_equal(dirhub_horizon(store, txn, &h), 0);
    store_abort(&txn);
    return h;
}

/* Tombstones older than the cutoff are forgotten (record and log entry), the horizon is the
 * highest seq forgotten, young tombstones and live services stay, and the digest is unchanged
 * (tombstones are not in it). */
static void
test_compaction_forgets_tombstones(void **state)
{
    fx_t *fx = *state;
    uint64_t seq = 0, next = 0;
    bool changed = false, withdrawn = false;
    size_t removed = 99;
    char owner[WIRE_MAX_IDENT + 1];
    MDB_txn *txn = NULL;
    assert_int_equal(publish(fx->store, "a1", "s1", &seq), 0);
    assert_int_equal(publish(fx->store, "a1", "s2", &seq), 0);
    assert_int_equal(publish(fx->store, "a1", "s3", &seq), 0);
    assert_int_equal(withdraw(fx->store, "a1", "s1", &seq, &changed), 0); /* seq 4 */
    assert_int_equal(withdraw(fx->store, "a1", "s2", &seq, &changed), 0); /* seq 5 */
    dirdigest_t d = digest_of(fx->store);
    /* Nothing is old enough yet. */
    assert_int_equal(compact(fx->store, 0, 100, &removed), 0);
    assert_int_equal(removed, 0);
    assert_int_equal(horizon(fx->store), 0);
    /* Everything is. */
    assert_int_equal(compact(fx->store, clock_now_ms() + 1000, 100, &removed), 0);
    assert_int_equal(removed, 2);
    assert_int_equal(horizon(fx->store), 5);
    assert_int_equal(head(fx->store), 5);
    dirdigest_t after = digest_of(fx->store);
    assert_true(dirdigest_equal(&d, &after));
    assert_int_equal(store_begin(fx->store, true, &txn), 0);
    assert_int_equal(dirhub_owner(fx->store, txn, "s1", owner, &withdrawn), REFNET_ENOTFOUND);
    assert_int_equal(dirhub_owner(fx->store, txn, "s3", owner, &withdrawn), 0);
    assert_int_equal(dirhub_next(fx->store, txn, 0, &next), 0);
    assert_int_equal(next, 3); /* s3, the only entry left */
    assert_int_equal(dirhub_next(fx->store, txn, 3, &next), REFNET_ENOTFOUND);
    store_abort(&txn);
    /* A later withdrawal inside the retention stays; a forgotten id may be published anew. */
    assert_int_equal(withdraw(fx->store, "a1", "s3", &seq, &changed), 0);
    assert_int_equal(compact(fx->store, 0, 100, &removed), 0);
    assert_int_equal(removed, 0);
    assert_int_equal(horizon(fx->store), 5);
    assert_int_equal(publish(fx->store, "a2", "s1", &seq), 0);
    assert_int_equal(seq, 7);
}

/* A bounded run examines at most `steps` entries and resumes where it stopped. */
static void
test_compaction_is_bounded(void **state)
{
    fx_t *fx = *state;
    uint64_t seq = 0;
    bool changed = false;
    size_t removed = 0, total = 0;
    char id[16];
    for (int i = 0; i < 30; i++) {
        snprintf(id, sizeof id, "s%02d", i);
        assert_int_equal(publish(fx->store, "a1", id, &seq), 0);
    }
    for (int i = 0; i < 30; i += 3) {
        snprintf(id, sizeof id, "s%02d", i);
        assert_int_equal(withdraw(fx->store, "a1", id, &seq, &changed), 0);
    }
    for (int run = 0; run < 10; run++) {
        assert_int_equal(compact(fx->store, clock_now_ms() + 1000, 4, &removed), 0);
        assert_true(removed <= 4);
        total += removed;
    }
    assert_int_equal(total, 10);
    assert_int_equal(horizon(fx->store), 40);
}

/* Decodes a frame through the real wire decoder (which validates it). */
static pbuf_t *
decode(const uint8_t *frame, size_t len)
{
    pbuf_t *pb = NULL;
    char why[WIRE_WHY_LEN] = "";
    int rc = wire_decode(frame, len, &pb, why);
    if (rc)
        fprintf(stderr, "decode: %s\n", why);
    assert_int_equal(rc, 0);
    return pb;
}

/* Chunks list every live service once, in id order, each chunk after the previous one, under
 * the frame limit; tombstones are left out; the end marker closes the range. */
static void
test_snapshot_chunks(void **state)
{
    fx_t *fx = *state;
    uint64_t seq = 0, snap = 0;
    bool changed = false;
    char id[16], after[WIRE_MAX_IDENT + 1] = "", last[WIRE_MAX_IDENT + 1];
    enum { N = 1300 };
    const char *why = NULL;
    MDB_txn *txn = NULL;
    /* One transaction for all of them: a synced commit each would make the test slow. */
    assert_int_equal(store_begin(fx->store, false, &txn), 0);
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "s%05d", i);
        Refnet__Service svc = fx_service(id, "A service", tax_food);
        assert_int_equal(
            dirhub_publish(fx->store, txn, i % 2 ? "a1" : "a2", &svc, clock_now_ms(), &seq, &why),
            0);
    }
    for (int i = 0; i < N; i += 7) {
        snprintf(id, sizeof id, "s%05d", i);
        assert_int_equal(
            dirhub_withdraw(fx->store, txn, i % 2 ? "a1" : "a2", id, &seq, &changed, &why), 0);
    }
    assert_int_equal(store_commit(&txn), 0);
    uint8_t *frame = NULL;
    size_t len = 0, listed = 0, chunks = 0;
    int next_i = 0;
    assert_int_equal(store_begin(fx->store, true, &txn), 0);
    assert_int_equal(dirhub_snapshot_begin_frame(fx->store, txn, &snap, &frame, &len), 0);
    assert_int_equal(snap, seq);
    pbuf_t *pb = decode(frame, len);
    const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
    assert_int_equal(env->body_case, REFNET__ENVELOPE__BODY_SNAPSHOT_BEGIN);
    assert_int_equal(env->snapshot_begin->services, N - (N + 6) / 7);
    pbuf_destroy(&pb);
    free(frame);
    for (;;) {
        int rc = dirhub_snapshot_chunk(fx->store, txn, snap, after, WIRE_MAX_FRAME, 0, &frame, &len,
                                       last);
        if (rc == REFNET_ENOTFOUND)
            break;
        assert_int_equal(rc, 0);
        assert_true(len <= WIRE_MAX_FRAME);
        pb = decode(frame, len);
        env = (const Refnet__Envelope *)pbuf_msg(pb);
        assert_int_equal(env->body_case, REFNET__ENVELOPE__BODY_SNAPSHOT_CHUNK);
        assert_string_equal(env->snapshot_chunk->after, after);
        assert_int_equal(env->snapshot_chunk->seq, snap);
        for (size_t k = 0; k < env->snapshot_chunk->n_updates; k++) {
            while (next_i % 7 == 0)
                next_i++;
            snprintf(id, sizeof id, "s%05d", next_i++);
            assert_string_equal(env->snapshot_chunk->updates[k]->service_id, id);
            assert_false(env->snapshot_chunk->updates[k]->withdrawn);
            listed++;
        }
        assert_string_equal(last, id);
        snprintf(after, sizeof after, "%s", last);
        pbuf_destroy(&pb);
        free(frame);
        chunks++;
        assert_true(chunks < 100);
    }
    store_abort(&txn);
    assert_int_equal(listed, N - (N + 6) / 7);
    assert_true(chunks >= 3); /* 512 per chunk at most */
    assert_int_equal(dirhub_snapshot_end_frame(snap, after, &frame, &len), 0);
    pb = decode(frame, len);
    env = (const Refnet__Envelope *)pbuf_msg(pb);
    assert_int_equal(env->body_case, REFNET__ENVELOPE__BODY_SNAPSHOT_END);
    assert_string_equal(env->snapshot_end->after, after);
    pbuf_destroy(&pb);
    free(frame);
}

/* Large services fill a chunk by size, not count: every frame still fits. */
static void
test_snapshot_chunk_size_bound(void **state)
{
    fx_t *fx = *state;
    static char desc[2001];
    char id[16], last[WIRE_MAX_IDENT + 1];
    uint64_t seq = 0;
    memset(desc, 'x', sizeof desc - 1);
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "big%03d", i);
        Refnet__Service svc = fx_service(id, "A big service", tax_food);
        svc.description = desc;
        const char *why = NULL;
        MDB_txn *txn = NULL;
        assert_int_equal(store_begin(fx->store, false, &txn), 0);
        assert_int_equal(dirhub_publish(fx->store, txn, "a1", &svc, clock_now_ms(), &seq, &why), 0);
        assert_int_equal(store_commit(&txn), 0);
    }
    MDB_txn *txn = NULL;
    uint8_t *frame = NULL;
    size_t len = 0;
    assert_int_equal(store_begin(fx->store, true, &txn), 0);
    assert_int_equal(
        dirhub_snapshot_chunk(fx->store, txn, seq, "", WIRE_MAX_FRAME, 0, &frame, &len, last), 0);
    store_abort(&txn);
    assert_true(len <= WIRE_MAX_FRAME);
    pbuf_t *pb = decode(frame, len);
    const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
    assert_true(env->snapshot_chunk->n_updates > 10);
    assert_true(env->snapshot_chunk->n_updates < 100);
    pbuf_destroy(&pb);
    free(frame);
}

/* The digest frame names the head, the count and the request it answers. */
static void
test_digest_frame(void **state)
{
    fx_t *fx = *state;
    uint64_t seq = 0, h = 0;
    uint8_t ref_bytes[16] = { 1, 2, 3 }, want[WIRE_DIGEST_LEN];
    ProtobufCBinaryData ref = { sizeof ref_bytes, ref_bytes };
    MDB_txn *txn = NULL;
    uint8_t *frame = NULL;
    size_t len = 0;
    assert_int_equal(publish(fx->store, "a1", "s1", &seq), 0);
    assert_int_equal(publish(fx->store, "a1", "s2", &seq), 0);
    dirdigest_t d = digest_of(fx->store);
    dirdigest_bytes(&d, want);
    assert_int_equal(store_begin(fx->store, true, &txn), 0);
    assert_int_equal(dirhub_digest_frame(fx->store, txn, &ref, &frame, &len, &h), 0);
    store_abort(&txn);
    assert_int_equal(h, 2);
    pbuf_t *pb = decode(frame, len);
    const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
    assert_int_equal(env->body_case, REFNET__ENVELOPE__BODY_DIGEST);
    assert_int_equal(env->digest->seq, 2);
    assert_int_equal(env->digest->services, 2);
    assert_memory_equal(env->digest->digest.data, want, WIRE_DIGEST_LEN);
    assert_memory_equal(env->digest->ref.data, ref_bytes, sizeof ref_bytes);
    pbuf_destroy(&pb);
    free(frame);
}

/* Encodes a chunk of updates `ids` (tombstone where `tomb` is set) and decodes it: returns
 * wire_decode's code and its sentence in `why`. */
static int
chunk_decode(const char *after, const char **ids, const bool *tomb, size_t n, char *why)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirSnapshotChunk chunk = REFNET__DIR_SNAPSHOT_CHUNK__INIT;
    Refnet__DirUpdate ups[4], *ptr[4];
    Refnet__Service svcs[4];
    uint8_t msg_id[16], *frame = NULL;
    size_t len = 0;
    pbuf_t *pb = NULL;
    for (size_t i = 0; i < n; i++) {
        ups[i] = (Refnet__DirUpdate)REFNET__DIR_UPDATE__INIT;
        svcs[i] = fx_service(ids[i], "A service", tax_food);
        svcs[i].agency = (char *)"a1";
        ups[i].seq = i + 1;
        ups[i].service_id = (char *)ids[i];
        ups[i].agency = (char *)"a1";
        ups[i].withdrawn = tomb[i];
        ups[i].service = tomb[i] ? NULL : &svcs[i];
        ptr[i] = &ups[i];
    }
    chunk.seq = 9;
    chunk.after = (char *)after;
    chunk.updates = ptr;
    chunk.n_updates = n;
    env.body_case = REFNET__ENVELOPE__BODY_SNAPSHOT_CHUNK;
    env.snapshot_chunk = &chunk;
    wire_stamp(&env, msg_id);
    assert_int_equal(wire_encode(&env, &frame, &len), 0);
    int rc = wire_decode(frame, len, &pb, why);
    pbuf_destroy(&pb);
    free(frame);
    return rc;
}

/* The decoder refuses chunks a node could misread: ids out of order or not above `after`,
 * tombstones, an empty chunk. */
static void
test_snapshot_chunk_validation(void **state)
{
    (void)state;
    char why[WIRE_WHY_LEN];
    const char *ok[] = { "b", "c" }, *unordered[] = { "c", "b" };
    const bool live2[] = { false, false }, tomb2[] = { false, true };
    assert_int_equal(chunk_decode("a", ok, live2, 2, why), 0);
    assert_int_equal(chunk_decode("a", unordered, live2, 2, why), REFNET_EINVAL);
    assert_non_null(strstr(why, "out of order"));
    assert_int_equal(chunk_decode("b", ok, live2, 2, why), REFNET_EINVAL);
    assert_int_equal(chunk_decode("a", ok, tomb2, 2, why), REFNET_EINVAL);
    assert_non_null(strstr(why, "tombstone"));
    assert_int_equal(chunk_decode("", ok, live2, 0, why), REFNET_EINVAL);
    assert_int_equal(chunk_decode("bad id", ok, live2, 2, why), REFNET_EINVAL);
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
        cmocka_unit_test_setup_teardown(test_digest_incremental, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction_forgets_tombstones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_chunk_size_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digest_frame, setup, teardown),
        cmocka_unit_test(test_snapshot_chunk_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
