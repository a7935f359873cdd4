/* Unit tests of clients/node/dirsync: the replica's digest kept by replica_apply, snapshot
 * chunks and end markers (stale services withdrawn, newer ones kept), the broker's digest
 * record and the verify verdicts, against a real node store in a temporary folder. */
#include "test_node_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "dirsync.h"
#include "refnet_error.h"

static int
setup(void **state)
{
    *state = nfx_new();
    return 0;
}

static int
teardown(void **state)
{
    nfx_t *fx = *state;
    nfx_destroy(&fx);
    return 0;
}

static const nfx_service_t SVC = {
    .agency = "a1", .name = "Shelter", .taxonomy = { "shelter" }, .ntax = 1, .available = 3
};

/* Applies service `id` (SVC otherwise) at `seq` in its own transaction. */
static void
put(nfx_t *fx, const char *id, uint64_t seq, int available)
{
    nfx_service_t s = SVC;
    s.id = id;
    s.available = available;
    MDB_txn *txn = nfx_begin(fx, false);
    assert_non_null(txn);
    assert_int_equal(nfx_apply_service(txn, fx->st, seq, &s, NULL), 0);
    assert_int_equal(store_commit(&txn), 0);
}

static void
withdraw(nfx_t *fx, const char *id, uint64_t seq)
{
    MDB_txn *txn = nfx_begin(fx, false);
    assert_non_null(txn);
    assert_int_equal(nfx_apply_withdraw(txn, fx->st, seq, id, "a1", NULL), 0);
    assert_int_equal(store_commit(&txn), 0);
}

static dirdigest_t
digest(nfx_t *fx)
{
    dirdigest_t d;
    MDB_txn *txn = nfx_begin(fx, true);
    assert_int_equal(dirsync_digest(txn, fx->st, &d), 0);
    store_abort(&txn);
    return d;
}

/* The digest as the broker would compute it: over (id, seq, agency, service) of each live
 * service, built here independently of the replica. */
static void
model_add(dirdigest_t *d, const char *id, uint64_t seq, int available)
{
    Refnet__Service svc = REFNET__SERVICE__INIT;
    Refnet__Capacity cap = REFNET__CAPACITY__INIT;
    Refnet__Intake in = REFNET__INTAKE__INIT;
    svc.id = (char *)id;
    svc.agency = (char *)SVC.agency;
    svc.name = (char *)SVC.name;
    svc.description = (char *)"";
    svc.taxonomy = (char **)SVC.taxonomy;
    svc.n_taxonomy = SVC.ntax;
    cap.available = available;
    cap.maximum = 100;
    svc.capacity = &cap;
    svc.intake = &in;
    assert_int_equal(dirdigest_apply(d, 1, id, seq, SVC.agency, &svc), 0);
}

static bool
live(nfx_t *fx, const char *id)
{
    pbuf_t *pb = NULL;
    MDB_txn *txn = nfx_begin(fx, true);
    int rc = replica_get(txn, fx->st, id, &pb);
    store_abort(&txn);
    pbuf_destroy(&pb);
    return rc == 0;
}

static uint64_t
head(nfx_t *fx)
{
    uint64_t h = 0;
    MDB_txn *txn = nfx_begin(fx, true);
    assert_int_equal(replica_head(txn, fx->st, &h), 0);
    store_abort(&txn);
    return h;
}

/* replica_apply keeps the digest: it equals the model's after creates, replacements, stale
 * (older) updates that are ignored, and withdrawals; and equals a rebuild from scratch. */
static void
test_digest_follows_apply(void **state)
{
    nfx_t *fx = *state;
    dirdigest_t model = { 0 };
    put(fx, "s1", 1, 1);
    put(fx, "s2", 2, 2);
    put(fx, "s3", 3, 3);
    put(fx, "s1", 4, 9); /* replaces s1 */
    put(fx, "s2", 1, 7); /* older than the stored s2: ignored, digest unchanged */
    withdraw(fx, "s3", 5);
    model_add(&model, "s1", 4, 9);
    model_add(&model, "s2", 2, 2);
    dirdigest_t d = digest(fx);
    assert_int_equal(d.count, 2);
    assert_true(dirdigest_equal(&d, &model));
    /* Recomputed from the services when the stored value is missing. */
    MDB_txn *txn = nfx_begin(fx, false);
    assert_int_equal(store_del(txn, store_db(fx->st, NODEDB_META), "dir_digest", 10), 0);
    dirdigest_t rebuilt;
    assert_int_equal(dirsync_digest(txn, fx->st, &rebuilt), 0);
    store_abort(&txn);
    assert_true(dirdigest_equal(&rebuilt, &model));
}

/* Builds a chunk of services `ids` (seqs `seqs`) covering (after, last id]. */
static void
apply_chunk(nfx_t *fx,
            uint64_t snap,
            const char *after,
            const char **ids,
            const uint64_t *seqs,
            size_t n,
            dirsync_stats_t *stats)
{
    Refnet__DirUpdate ups[8], *ptr[8];
    Refnet__Service svcs[8];
    Refnet__Capacity caps[8];
    Refnet__Intake ins[8];
    Refnet__DirSnapshotChunk chunk = REFNET__DIR_SNAPSHOT_CHUNK__INIT;
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        ups[i] = (Refnet__DirUpdate)REFNET__DIR_UPDATE__INIT;
        svcs[i] = (Refnet__Service)REFNET__SERVICE__INIT;
        caps[i] = (Refnet__Capacity)REFNET__CAPACITY__INIT;
        ins[i] = (Refnet__Intake)REFNET__INTAKE__INIT;
        svcs[i].id = (char *)ids[i];
        svcs[i].agency = (char *)"a1";
        svcs[i].name = (char *)"Shelter";
        svcs[i].description = (char *)"";
        svcs[i].taxonomy = (char **)SVC.taxonomy;
        svcs[i].n_taxonomy = 1;
        caps[i].available = 5;
        caps[i].maximum = 100;
        svcs[i].capacity = &caps[i];
        svcs[i].intake = &ins[i];
        ups[i].seq = seqs[i];
        ups[i].service_id = (char *)ids[i];
        ups[i].agency = (char *)"a1";
        ups[i].service = &svcs[i];
        ptr[i] = &ups[i];
    }
    chunk.seq = snap;
    chunk.after = (char *)after;
    chunk.updates = ptr;
    chunk.n_updates = n;
    MDB_txn *txn = nfx_begin(fx, false);
    assert_int_equal(dirsync_chunk(txn, fx->st, &chunk, stats), 0);
    assert_int_equal(store_commit(&txn), 0);
}

static void
apply_end(nfx_t *fx, uint64_t snap, const char *after, dirsync_stats_t *stats)
{
    Refnet__DirSnapshotEnd end = REFNET__DIR_SNAPSHOT_END__INIT;
    end.seq = snap;
    end.after = (char *)after;
    MDB_txn *txn = nfx_begin(fx, false);
    assert_int_equal(dirsync_end(txn, fx->st, &end, stats), 0);
    assert_int_equal(store_commit(&txn), 0);
}

/* A chunk withdraws the services of its range it does not list, and only those; services
 * newer than the snapshot stay; the end marker sweeps the rest and raises the head. */
static void
test_snapshot_sweeps_stale(void **state)
{
    nfx_t *fx = *state;
    dirsync_stats_t stats = { 0 };
    put(fx, "a0", 1, 1);
    put(fx, "b1", 2, 1);
    put(fx, "c2", 3, 1);
    put(fx, "d3", 4, 1);
    put(fx, "e4", 5, 1);
    put(fx, "f5", 12, 1); /* a change after the snapshot's seq (10) */
    put(fx, "g6", 6, 1);
    assert_int_equal(head(fx), 7 - 1); /* 1..6 in order, 12 is a gap */
    const char *ids1[] = { "b1", "d3" };
    const uint64_t seqs1[] = { 2, 8 };
    apply_chunk(fx, 10, "", ids1, seqs1, 2, &stats);
    assert_false(live(fx, "a0")); /* in ("", d3], not listed */
    assert_true(live(fx, "b1"));
    assert_false(live(fx, "c2"));
    assert_true(live(fx, "d3"));
    assert_true(live(fx, "e4")); /* beyond this chunk: untouched for now */
    assert_int_equal(stats.removed, 2);
    assert_int_equal(stats.applied, 1); /* d3 at 8; b1 at 2 was already there */
    const char *ids2[] = { "e4" };
    const uint64_t seqs2[] = { 5 };
    apply_chunk(fx, 10, "d3", ids2, seqs2, 1, &stats);
    assert_true(live(fx, "e4"));
    apply_end(fx, 10, "e4", &stats);
    assert_true(live(fx, "f5"));  /* newer than the snapshot */
    assert_false(live(fx, "g6")); /* gone at the broker */
    assert_int_equal(stats.removed, 3);
    assert_int_equal(head(fx), 10);
    /* The digest still equals the live set. */
    dirdigest_t model = { 0 };
    model_add(&model, "b1", 2, 1);
    model_add(&model, "d3", 8, 5);
    model_add(&model, "e4", 5, 1);
    model_add(&model, "f5", 12, 1);
    dirdigest_t d = digest(fx);
    assert_true(dirdigest_equal(&d, &model));
}

/* An empty directory at the broker: the end marker alone withdraws everything older. */
static void
test_snapshot_of_empty_directory(void **state)
{
    nfx_t *fx = *state;
    dirsync_stats_t stats = { 0 };
    put(fx, "s1", 1, 1);
    put(fx, "s2", 2, 1);
    apply_end(fx, 9, "", &stats);
    assert_false(live(fx, "s1"));
    assert_false(live(fx, "s2"));
    assert_int_equal(digest(fx).count, 0);
    assert_int_equal(head(fx), 9);
}

static void
remote_put(nfx_t *fx, uint64_t seq, const dirdigest_t *d)
{
    Refnet__DirDigest dg = REFNET__DIR_DIGEST__INIT;
    uint8_t bytes[WIRE_DIGEST_LEN];
    dirdigest_bytes(d, bytes);
    dg.seq = seq;
    dg.services = d->count;
    dg.digest.data = bytes;
    dg.digest.len = sizeof bytes;
    MDB_txn *txn = nfx_begin(fx, false);
    assert_int_equal(dirsync_remote_put(txn, fx->st, &dg), 0);
    assert_int_equal(store_commit(&txn), 0);
}

/* Parses a verify answer; returns its "ok". */
static bool
answer_ok(char *reply, json_t **doc)
{
    assert_non_null(reply);
    *doc = json_loads(reply, 0, NULL);
    free(reply);
    assert_non_null(*doc);
    return json_is_true(json_object_get(*doc, "ok"));
}

/* Equal digests at the same seq: ok; a different one: an error naming both counts; the node
 * behind the broker: ask again, or an "unavailable" error once final; no answer: unavailable. */
static void
test_verify_verdicts(void **state)
{
    nfx_t *fx = *state;
    bool again = true;
    size_t len = 0;
    json_t *doc = NULL;
    put(fx, "s1", 1, 1);
    put(fx, "s2", 2, 1);
    dirdigest_t mine = digest(fx);
    dirsync_remote_t got;
    remote_put(fx, 2, &mine);
    MDB_txn *txn = nfx_begin(fx, true);
    assert_int_equal(dirsync_remote_get(txn, fx->st, &got), 0);
    store_abort(&txn);
    assert_int_equal(got.seq, 2);
    assert_true(dirdigest_equal(&got.digest, &mine));

    assert_true(answer_ok(
        dirsync_verify_answer(fx->st, true, REFNET__STATUS__STATUS_OK, false, &again, &len), &doc));
    assert_false(again);
    json_t *res = json_object_get(doc, "result");
    assert_true(json_is_true(json_object_get(res, "equal")));
    assert_int_equal(json_integer_value(json_object_get(res, "services")), 2);
    assert_int_equal(json_integer_value(json_object_get(res, "seq")), 2);
    json_decref(doc);

    dirdigest_t other = mine;
    other.w[0] ^= 1;
    other.count = 3;
    remote_put(fx, 2, &other);
    assert_false(answer_ok(
        dirsync_verify_answer(fx->st, true, REFNET__STATUS__STATUS_OK, false, &again, &len), &doc));
    const char *msg = json_string_value(json_object_get(json_object_get(doc, "error"), "message"));
    assert_non_null(strstr(msg, "holds 2 live services, the broker 3"));
    json_decref(doc);

    remote_put(fx, 5, &mine);
    assert_null(
        dirsync_verify_answer(fx->st, true, REFNET__STATUS__STATUS_OK, false, &again, &len));
    assert_true(again);
    assert_false(answer_ok(
        dirsync_verify_answer(fx->st, true, REFNET__STATUS__STATUS_OK, true, &again, &len), &doc));
    assert_false(again);
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "error"), "code")),
                        "unavailable");
    json_decref(doc);

    assert_false(answer_ok(
        dirsync_verify_answer(fx->st, false, REFNET__STATUS__STATUS_OK, false, &again, &len),
        &doc));
    json_decref(doc);
    assert_true(dirsync_is_verify(DIRSYNC_VERIFY_SUBJECT));
    assert_false(dirsync_is_verify("directory.verify"));
}

/* A record changed behind replica_apply's back (the running digest does not know) is still
 * caught: verify recomputes the replica's digest from the stored services. */
static void
test_verify_catches_edited_store(void **state)
{
    nfx_t *fx = *state;
    bool again = true;
    size_t len = 0;
    json_t *doc = NULL;
    put(fx, "s1", 1, 1);
    put(fx, "s2", 2, 1);
    dirdigest_t mine = digest(fx);
    remote_put(fx, 2, &mine);
    /* Edit s2's availability straight in LMDB. */
    MDB_txn *txn = nfx_begin(fx, false);
    pbuf_t *pb = NULL;
    assert_int_equal(replica_get(txn, fx->st, "s2", &pb), 0);
    Refnet__DirRecord *rec = (Refnet__DirRecord *)pbuf_msg(pb);
    rec->service->capacity->available = 42;
    assert_int_equal(store_put_msg(txn, store_db(fx->st, NODEDB_SERVICES), "s2", 2, &rec->base), 0);
    pbuf_destroy(&pb);
    assert_int_equal(store_commit(&txn), 0);
    dirdigest_t running = digest(fx);
    assert_true(dirdigest_equal(&running, &mine)); /* the running digest did not notice */
    assert_false(answer_ok(
        dirsync_verify_answer(fx->st, true, REFNET__STATUS__STATUS_OK, false, &again, &len), &doc));
    const char *msg = json_string_value(json_object_get(json_object_get(doc, "error"), "message"));
    assert_non_null(strstr(msg, "differs"));
    json_decref(doc);
}

/* The verify request goes to the outbox as a DirDigestRequest. */
static void
test_verify_request_queued(void **state)
{
    nfx_t *fx = *state;
    uint8_t id[16] = { 0 }, zero[16] = { 0 };
    assert_int_equal(dirsync_verify_again(fx->st, clock_now_ms(), id), 0);
    assert_memory_not_equal(id, zero, sizeof id);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_digest_follows_apply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_sweeps_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_of_empty_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_verdicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_catches_edited_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_request_queued, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
