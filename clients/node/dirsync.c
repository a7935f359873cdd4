/* dirsync: snapshot replication and the directory digest at the node (see dirsync.h). */
#include "dirsync.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nodedb.h"
#include "outbox.h"
#include "refnet_error.h"
#include "replica.h"
#include "wire.h"
#include "xmalloc.h"

/* A stored record is bounded by the frame that carried it (as in replica.c). */
#define DIRSYNC_MAX_RECORD WIRE_MAX_FRAME
#define DIRSYNC_KEY_DIGEST "dir_digest"
#define DIRSYNC_KEY_REMOTE "dir_broker_digest"
#define DIRSYNC_REMOTE_LEN (8 + DIRDIGEST_STORED_LEN)

/* ---- digest ------------------------------------------------------------------------------- */

/* Decodes the record at a cursor position; *live is false for tombstones and for values that
 * do not decode (replica.c skips those too). */
static int
dirsync_decode(const MDB_val *v, pbuf_t **pb, bool *live)
{
    *live = false;
    if (pbuf_unpack(pb, &refnet__dir_record__descriptor, v->mv_data, v->mv_size,
                    DIRSYNC_MAX_RECORD) != 0)
        return 0;
    const Refnet__DirRecord *rec = (const Refnet__DirRecord *)pbuf_msg(*pb);
    *live = !rec->withdrawn && rec->service;
    return 0;
}

/* Computes the digest of every live record: once, for a replica stored before it was kept. */
static int
dirsync_rebuild(MDB_txn *txn, const store_t *st, dirdigest_t *d)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc = 0, mrc;
    memset(d, 0, sizeof *d);
    if (mdb_cursor_open(txn, store_db(st, NODEDB_SERVICES), &cur) != 0)
        return REFNET_ESTORAGE;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && rc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        pbuf_t *pb = NULL;
        bool live = false;
        char id[WIRE_MAX_IDENT + 1];
        if (k.mv_size == 0 || k.mv_size > WIRE_MAX_IDENT)
            continue;
        snprintf(id, sizeof id, "%.*s", (int)k.mv_size, (const char *)k.mv_data);
        dirsync_decode(&v, &pb, &live);
        if (live) {
            const Refnet__DirRecord *rec = (const Refnet__DirRecord *)pbuf_msg(pb);
            rc = dirdigest_apply(d, 1, id, rec->seq, rec->agency, rec->service);
        }
        pbuf_destroy(&pb);
    }
    mdb_cursor_close(cur);
    if (rc == 0 && mrc != MDB_NOTFOUND)
        rc = store_err(mrc);
    return rc;
}

int
dirsync_digest(MDB_txn *txn, const store_t *st, dirdigest_t *out)
{
    MDB_val v;
    int rc = store_get(txn, store_db(st, NODEDB_META), DIRSYNC_KEY_DIGEST,
                       strlen(DIRSYNC_KEY_DIGEST), &v);
    if (rc == REFNET_ENOTFOUND)
        return dirsync_rebuild(txn, st, out);
    if (rc != 0)
        return rc;
    if (dirdigest_load(out, v.mv_data, v.mv_size) != 0)
        return dirsync_rebuild(txn, st, out); /* a damaged value: recount rather than fail */
    return 0;
}

static int
dirsync_digest_put(MDB_txn *txn, const store_t *st, const dirdigest_t *d)
{
    uint8_t buf[DIRDIGEST_STORED_LEN];
    dirdigest_store(d, buf);
    return store_put(txn, store_db(st, NODEDB_META), DIRSYNC_KEY_DIGEST, strlen(DIRSYNC_KEY_DIGEST),
                     buf, sizeof buf, 0);
}

int
dirsync_track(MDB_txn *txn, const store_t *st, const Refnet__DirUpdate *up)
{
    pbuf_t *old = NULL;
    dirdigest_t d;
    int rc = dirsync_digest(txn, st, &d);
    if (rc != 0)
        return rc;
    rc = store_get_msg(txn, store_db(st, NODEDB_SERVICES), up->service_id, strlen(up->service_id),
                       &refnet__dir_record__descriptor, &old);
    if (rc != 0 && rc != REFNET_ENOTFOUND && rc != REFNET_EDECODE)
        return rc;
    rc = 0;
    const Refnet__DirRecord *was = old ? (const Refnet__DirRecord *)pbuf_msg(old) : NULL;
    if (was && was->seq >= up->seq)
        goto out; /* replica_apply keeps the stored record */
    if (was && !was->withdrawn && was->service)
        rc = dirdigest_apply(&d, -1, up->service_id, was->seq, was->agency, was->service);
    if (rc == 0 && !up->withdrawn && up->service)
        rc = dirdigest_apply(&d, 1, up->service_id, up->seq, up->agency, up->service);
    if (rc == 0)
        rc = dirsync_digest_put(txn, st, &d);
out:
    pbuf_destroy(&old);
    return rc;
}

/* ---- snapshot ----------------------------------------------------------------------------- */

/* Ids of stale services found in a range, withdrawn once the cursor is closed. */
typedef struct {
    char (*id)[WIRE_MAX_IDENT + 1];
    char (*agency)[WIRE_MAX_IDENT + 1];
    size_t n, cap;
} dirsync_stale_t;

static void
dirsync_stale_add(dirsync_stale_t *s, const MDB_val *k, const char *agency)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->id = xrealloc(s->id, s->cap * sizeof *s->id);
        s->agency = xrealloc(s->agency, s->cap * sizeof *s->agency);
    }
    snprintf(s->id[s->n], sizeof s->id[s->n], "%.*s", (int)k->mv_size, (const char *)k->mv_data);
    snprintf(s->agency[s->n], sizeof s->agency[s->n], "%s", agency);
    s->n++;
}

/* True when key `k` is listed in `ups` (ascending), advancing *i past smaller ids. */
static bool
dirsync_listed(const MDB_val *k, Refnet__DirUpdate *const *ups, size_t n, size_t *i)
{
    while (*i < n) {
        const char *id = ups[*i]->service_id;
        size_t len = strlen(id), m = len < k->mv_size ? len : k->mv_size;
        int c = memcmp(id, k->mv_data, m);
        if (c == 0)
            c = len < k->mv_size ? -1 : (len > k->mv_size ? 1 : 0);
        if (c > 0)
            return false;
        if (c == 0)
            return true;
        (*i)++;
    }
    return false;
}

/* True when key `k` is above `last` (NULL: no upper bound). */
static bool
dirsync_past(const MDB_val *k, const char *last)
{
    if (!last)
        return false;
    size_t len = strlen(last), m = len < k->mv_size ? len : k->mv_size;
    int c = memcmp(k->mv_data, last, m);
    return c > 0 || (c == 0 && k->mv_size > len);
}

/* Collects the live services with ids in (after, last] (last NULL: to the end), seq at most
 * `seq`, that `ups` does not list. */
static int
dirsync_find_stale(MDB_txn *txn,
                   const store_t *st,
                   const char *after,
                   const char *last,
                   uint64_t seq,
                   Refnet__DirUpdate *const *ups,
                   size_t n,
                   dirsync_stale_t *out)
{
    MDB_cursor *cur = NULL;
    MDB_val k = { strlen(after), (void *)after }, v;
    size_t i = 0;
    if (mdb_cursor_open(txn, store_db(st, NODEDB_SERVICES), &cur) != 0)
        return REFNET_ESTORAGE;
    int mrc = after[0] ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
                       : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    for (; mrc == 0 && !dirsync_past(&k, last); mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        pbuf_t *pb = NULL;
        bool live = false;
        if (k.mv_size == 0 || k.mv_size > WIRE_MAX_IDENT ||
            (k.mv_size == strlen(after) && memcmp(k.mv_data, after, k.mv_size) == 0))
            continue;
        if (dirsync_listed(&k, ups, n, &i))
            continue;
        dirsync_decode(&v, &pb, &live);
        const Refnet__DirRecord *rec = live ? (const Refnet__DirRecord *)pbuf_msg(pb) : NULL;
        if (rec && rec->seq <= seq)
            dirsync_stale_add(out, &k, rec->agency);
        pbuf_destroy(&pb);
    }
    mdb_cursor_close(cur);
    return mrc == 0 || mrc == MDB_NOTFOUND ? 0 : store_err(mrc);
}

/* Withdraws the stale services of (after, last] at seq `seq` through replica_apply, so the
 * search index and the digest follow. */
static int
dirsync_sweep(MDB_txn *txn,
              const store_t *st,
              const char *after,
              const char *last,
              uint64_t seq,
              Refnet__DirUpdate *const *ups,
              size_t n,
              dirsync_stats_t *stats)
{
    dirsync_stale_t stale = { 0 };
    int rc = dirsync_find_stale(txn, st, after, last, seq, ups, n, &stale);
    for (size_t j = 0; rc == 0 && j < stale.n; j++) {
        Refnet__DirUpdate tomb = REFNET__DIR_UPDATE__INIT;
        replica_apply_t res = { 0 };
        tomb.seq = seq;
        tomb.service_id = stale.id[j];
        tomb.agency = stale.agency[j];
        tomb.withdrawn = true;
        rc = replica_apply(txn, st, &tomb, &res);
        if (rc == 0 && res.changed)
            stats->removed++;
    }
    free(stale.id);
    free(stale.agency);
    return rc;
}

int
dirsync_chunk(MDB_txn *txn,
              const store_t *st,
              const Refnet__DirSnapshotChunk *chunk,
              dirsync_stats_t *stats)
{
    if (chunk->n_updates == 0)
        return 0;
    for (size_t i = 0; i < chunk->n_updates; i++) {
        replica_apply_t res = { 0 };
        int rc = replica_apply(txn, st, chunk->updates[i], &res);
        if (rc == REFNET_EINVAL)
            continue; /* refused as replica_apply refuses any bad update; the rest stand */
        if (rc != 0)
            return rc;
        if (res.changed)
            stats->applied++;
    }
    const char *last = chunk->updates[chunk->n_updates - 1]->service_id;
    return dirsync_sweep(txn, st, chunk->after, last, chunk->seq, chunk->updates, chunk->n_updates,
                         stats);
}

int
dirsync_end(MDB_txn *txn,
            const store_t *st,
            const Refnet__DirSnapshotEnd *end,
            dirsync_stats_t *stats)
{
    int rc = dirsync_sweep(txn, st, end->after, NULL, end->seq, NULL, 0, stats);
    if (rc == 0)
        rc = replica_sync_done(txn, st, end->seq);
    return rc;
}

/* ---- the broker's digest ------------------------------------------------------------------ */

int
dirsync_remote_put(MDB_txn *txn, const store_t *st, const Refnet__DirDigest *dg)
{
    /* Stored as the seq, then the digest in dirdigest's stored form (digest, count). */
    uint8_t buf[DIRSYNC_REMOTE_LEN];
    if (dg->digest.len != WIRE_DIGEST_LEN)
        return REFNET_EINVAL;
    store_u64_key(buf, dg->seq);
    memcpy(buf + 8, dg->digest.data, WIRE_DIGEST_LEN);
    store_u64_key(buf + 8 + WIRE_DIGEST_LEN, dg->services);
    return store_put(txn, store_db(st, NODEDB_META), DIRSYNC_KEY_REMOTE, strlen(DIRSYNC_KEY_REMOTE),
                     buf, sizeof buf, 0);
}

int
dirsync_remote_get(MDB_txn *txn, const store_t *st, dirsync_remote_t *out)
{
    MDB_val v;
    int rc = store_get(txn, store_db(st, NODEDB_META), DIRSYNC_KEY_REMOTE,
                       strlen(DIRSYNC_KEY_REMOTE), &v);
    if (rc != 0)
        return rc;
    if (v.mv_size != DIRSYNC_REMOTE_LEN)
        return REFNET_EDECODE;
    out->seq = store_key_u64(v.mv_data);
    return dirdigest_load(&out->digest, (const uint8_t *)v.mv_data + 8, DIRDIGEST_STORED_LEN);
}

/* ---- inbound handlers --------------------------------------------------------------------- */

static bool
dirsync_storage_error(int rc)
{
    return rc == REFNET_ESTORAGE || rc == REFNET_EFULL;
}

static void
dirsync_fail(inbound_batch_t *b, int rc, const char *what)
{
    if (!b->failed)
        log_error("dirsync: %s: %s", what, refnet_strerror(rc));
    b->failed = rc;
}

void
dirsync_on_begin(inbound_batch_t *b, const Refnet__Envelope *env)
{
    (void)b;
    log_info("dirsync: receiving a directory snapshot as of %llu (%llu services, horizon %llu)",
             (unsigned long long)env->snapshot_begin->seq,
             (unsigned long long)env->snapshot_begin->services,
             (unsigned long long)env->snapshot_begin->horizon);
}

void
dirsync_on_chunk(inbound_batch_t *b, const Refnet__Envelope *env)
{
    dirsync_stats_t stats = { 0 };
    int rc = dirsync_chunk(b->txn, b->st, env->snapshot_chunk, &stats);
    if (rc != 0) {
        dirsync_fail(b, rc, "applying a directory snapshot chunk");
        return;
    }
    b->stats->dir_updates += stats.applied + stats.removed;
    if (stats.removed)
        log_info("dirsync: %zu service(s) the broker no longer lists were withdrawn",
                 stats.removed);
}

void
dirsync_on_end(inbound_batch_t *b, const Refnet__Envelope *env)
{
    dirsync_stats_t stats = { 0 };
    int rc = dirsync_end(b->txn, b->st, env->snapshot_end, &stats);
    if (rc != 0) {
        dirsync_fail(b, rc, "ending a directory snapshot");
        return;
    }
    b->stats->dir_updates += stats.removed;
    log_info("dirsync: directory snapshot as of %llu applied%s",
             (unsigned long long)env->snapshot_end->seq,
             stats.removed ? "; services the broker no longer lists were withdrawn" : "");
}

void
dirsync_on_digest(inbound_batch_t *b, const Refnet__Envelope *env)
{
    uint64_t head = 0;
    int rc = dirsync_remote_put(b->txn, b->st, env->digest);
    if (rc == 0)
        rc = replica_head(b->txn, b->st, &head);
    if (dirsync_storage_error(rc)) {
        dirsync_fail(b, rc, "recording the broker's directory digest");
        return;
    }
    if (rc == 0 && env->digest->seq > head && !link_syncing(b->link))
        b->need_sync = true;
}

/* ---- verify ------------------------------------------------------------------------------- */

int
dirsync_verify_request(MDB_txn *txn, const store_t *st, uint64_t now, uint8_t msg_id[16])
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirDigestRequest req = REFNET__DIR_DIGEST_REQUEST__INIT;
    env.body_case = REFNET__ENVELOPE__BODY_DIGEST_REQUEST;
    env.digest_request = &req;
    return outbox_add(txn, st, &env, NULL, now, msg_id, NULL);
}

int
dirsync_verify_again(store_t *st, uint64_t now, uint8_t msg_id[16])
{
    MDB_txn *txn = NULL;
    int rc = store_begin(st, false, &txn);
    if (rc == 0)
        rc = dirsync_verify_request(txn, st, now, msg_id);
    if (rc == 0)
        rc = store_commit(&txn);
    store_abort(&txn);
    return rc;
}

bool
dirsync_is_verify(const char *subject)
{
    return strcmp(subject, DIRSYNC_VERIFY_SUBJECT) == 0;
}

/* Encodes {"ok": false, "error": {code, message}} (API.md). */
static char *
dirsync_error_doc(int code, const char *message, size_t *len)
{
    json_t *err = json_object(), *doc = json_object();
    json_object_set_new(err, "code", json_string(refnet_error_name(code)));
    json_object_set_new(err, "message", json_string(message));
    json_object_set_new(doc, "ok", json_false());
    json_object_set_new(doc, "error", err);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    *len = text ? strlen(text) : 0;
    return text;
}

static char *
dirsync_ok_doc(uint64_t seq, const dirdigest_t *d, size_t *len)
{
    char hex[2 * WIRE_DIGEST_LEN + 1];
    json_t *result = json_object(), *doc = json_object();
    dirdigest_hex(d, hex);
    json_object_set_new(result, "equal", json_true());
    json_object_set_new(result, "seq", json_integer((json_int_t)seq));
    json_object_set_new(result, "services", json_integer((json_int_t)d->count));
    json_object_set_new(result, "digest", json_string(hex));
    json_object_set_new(doc, "ok", json_true());
    json_object_set_new(doc, "result", result);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    *len = text ? strlen(text) : 0;
    return text;
}

/* Compares the replica with the broker's recorded digest. */
static char *
dirsync_compare(uint64_t head,
                const dirdigest_t *mine,
                const dirsync_remote_t *theirs,
                bool final,
                bool *again,
                size_t *len)
{
    char msg[512], a[2 * WIRE_DIGEST_LEN + 1], b[2 * WIRE_DIGEST_LEN + 1];
    if (head != theirs->seq) {
        if (!final) {
            *again = true;
            return NULL;
        }
        snprintf(msg, sizeof msg,
                 "the node is at directory seq %llu and the broker at %llu; the node is still "
                 "catching up (try again)",
                 (unsigned long long)head, (unsigned long long)theirs->seq);
        return dirsync_error_doc(REFNET_EUNAVAIL, msg, len);
    }
    if (dirdigest_equal(mine, &theirs->digest))
        return dirsync_ok_doc(head, mine, len);
    dirdigest_hex(mine, a);
    dirdigest_hex(&theirs->digest, b);
    snprintf(msg, sizeof msg,
             "the replica differs from the broker's directory at seq %llu: the node holds %llu "
             "live services, the broker %llu; digest %.16s... here, %.16s... at the broker",
             (unsigned long long)head, (unsigned long long)mine->count,
             (unsigned long long)theirs->digest.count, a, b);
    return dirsync_error_doc(REFNET_EIO, msg, len);
}

char *
dirsync_verify_answer(
    store_t *st, bool answered, Refnet__Status status, bool final, bool *again, size_t *len)
{
    MDB_txn *txn = NULL;
    uint64_t head = 0;
    dirdigest_t mine = { 0 };
    dirsync_remote_t theirs;
    *again = false;
    if (!answered)
        return dirsync_error_doc(REFNET_EUNAVAIL, "the broker did not answer in time", len);
    if (status != REFNET__STATUS__STATUS_OK)
        return dirsync_error_doc(REFNET_EIO, "the broker refused the digest request", len);
    int rc = store_begin(st, true, &txn);
    if (rc == 0)
        rc = replica_head(txn, st, &head);
    if (rc == 0)
        rc = dirsync_remote_get(txn, st, &theirs);
    /* Recomputed from the stored services rather than taken from the running digest, so that
     * verify also catches a replica changed behind replica_apply's back (a damaged or edited
     * store), not only a change that was never applied. One scan, only when the seqs match. */
    if (rc == 0 && head == theirs.seq)
        rc = dirsync_rebuild(txn, st, &mine);
    store_abort(&txn);
    if (rc != 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "cannot read the directory digests: %s", refnet_strerror(rc));
        return dirsync_error_doc(rc == REFNET_ENOTFOUND ? REFNET_ESTORAGE : rc, msg, len);
    }
    return dirsync_compare(head, &mine, &theirs, final, again, len);
}
