/* dirhub: directory sequencing and ownership at the broker (see dirhub.h). */
#include "dirhub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bstore.h"
#include "clock.h"
#include "dirdigest.h"
#include "fields.h"
#include "pbscan.h"
#include "records.pb-c.h"
#include "refnet_error.h"
#include "wire.h"
#include "xmalloc.h"

/* A stored DirRecord holds one Service, which must fit in a DirUpdate frame. */
#define DIRHUB_MAX_RECORD WIRE_MAX_FRAME

/* Meta keys of this module (bstore.h names the databases). */
#define DIRHUB_META_DIGEST        "dir_digest"
#define DIRHUB_META_HORIZON       "dir_horizon"
#define DIRHUB_META_COMPACT_AFTER "dir_compact_after"

/* Room kept in a snapshot chunk for the envelope around the updates and each update's tag
 * and length: generous, so that the encoded frame is always under WIRE_MAX_FRAME. */
#define DIRHUB_CHUNK_SLACK    1024
#define DIRHUB_UPDATE_FRAMING 16

static int
dirhub_get(store_t *store, MDB_txn *txn, const char *service_id, pbuf_t **out)
{
    return store_get_msg(txn, bstore_db(store, BSTORE_SERVICES), service_id, strlen(service_id),
                         &refnet__dir_record__descriptor, out);
}

int
dirhub_head(store_t *store, MDB_txn *txn, uint64_t *out)
{
    return store_get_u64(txn, bstore_db(store, BSTORE_META), BSTORE_META_DIR_SEQ, out);
}

/* Computes the digest from every live record: for a store written before the digest was kept. */
static int
dirhub_digest_rebuild(store_t *store, MDB_txn *txn, dirdigest_t *d)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    memset(d, 0, sizeof *d);
    int rc = store_err(mdb_cursor_open(txn, bstore_db(store, BSTORE_SERVICES), &cur));
    if (rc)
        return rc;
    int mrc;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && !rc;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        pbuf_t *pb = NULL;
        char id[WIRE_MAX_IDENT + 1];
        if (k.mv_size == 0 || k.mv_size > WIRE_MAX_IDENT)
            continue;
        snprintf(id, sizeof id, "%.*s", (int)k.mv_size, (const char *)k.mv_data);
        rc = pbuf_unpack(&pb, &refnet__dir_record__descriptor, v.mv_data, v.mv_size,
                         DIRHUB_MAX_RECORD);
        if (rc)
            break;
        const Refnet__DirRecord *rec = (const Refnet__DirRecord *)pbuf_msg(pb);
        if (!rec->withdrawn && rec->service)
            rc = dirdigest_apply(d, 1, id, rec->seq, rec->agency, rec->service);
        pbuf_destroy(&pb);
    }
    mdb_cursor_close(cur);
    if (!rc && mrc != MDB_NOTFOUND)
        rc = store_err(mrc);
    return rc;
}

int
dirhub_digest(store_t *store, MDB_txn *txn, dirdigest_t *out)
{
    MDB_val v;
    int rc = store_get(txn, bstore_db(store, BSTORE_META), DIRHUB_META_DIGEST,
                       strlen(DIRHUB_META_DIGEST), &v);
    if (rc == REFNET_ENOTFOUND)
        return dirhub_digest_rebuild(store, txn, out);
    if (rc)
        return rc;
    return dirdigest_load(out, v.mv_data, v.mv_size);
}

static int
dirhub_digest_put(store_t *store, MDB_txn *txn, const dirdigest_t *d)
{
    uint8_t buf[DIRDIGEST_STORED_LEN];
    dirdigest_store(d, buf);
    return store_put(txn, bstore_db(store, BSTORE_META), DIRHUB_META_DIGEST,
                     strlen(DIRHUB_META_DIGEST), buf, sizeof buf, 0);
}

int
dirhub_horizon(store_t *store, MDB_txn *txn, uint64_t *out)
{
    return store_get_u64(txn, bstore_db(store, BSTORE_META), DIRHUB_META_HORIZON, out);
}

/* Gives `rec` the next seq and stores it, moving the service's dirlog entry to that seq and
 * replacing `prev`'s share of the digest (prev NULL: a new service) with `rec`'s. */
static int
dirhub_store_change(store_t *store,
                    MDB_txn *txn,
                    const char *service_id,
                    Refnet__DirRecord *rec,
                    const Refnet__DirRecord *prev,
                    uint64_t *seq)
{
    uint8_t key[8];
    uint64_t head = 0;
    dirdigest_t d;
    int rc = dirhub_head(store, txn, &head);
    if (!rc)
        rc = dirhub_digest(store, txn, &d);
    if (rc)
        return rc;
    rec->seq = head + 1;
    if (prev && !prev->withdrawn && prev->service)
        rc = dirdigest_apply(&d, -1, service_id, prev->seq, prev->agency, prev->service);
    if (!rc && !rec->withdrawn && rec->service)
        rc = dirdigest_apply(&d, 1, service_id, rec->seq, rec->agency, rec->service);
    if (!rc && prev) {
        store_u64_key(key, prev->seq);
        rc = store_del(txn, bstore_db(store, BSTORE_DIRLOG), key, sizeof key);
        if (rc == REFNET_ENOTFOUND)
            rc = 0;
    }
    if (rc)
        return rc;
    store_u64_key(key, rec->seq);
    rc = store_put(txn, bstore_db(store, BSTORE_DIRLOG), key, sizeof key, service_id,
                   strlen(service_id), 0);
    if (!rc)
        rc = store_put_msg(txn, bstore_db(store, BSTORE_SERVICES), service_id, strlen(service_id),
                           &rec->base);
    if (!rc)
        rc = store_put_u64(txn, bstore_db(store, BSTORE_META), BSTORE_META_DIR_SEQ, rec->seq);
    if (!rc)
        rc = dirhub_digest_put(store, txn, &d);
    if (!rc)
        *seq = rec->seq;
    return rc;
}

/* Loads the record of `service_id` and checks that `agency` owns it. *out is NULL (and 0 is
 * returned) when the service does not exist. */
static int
dirhub_load_owned(store_t *store,
                  MDB_txn *txn,
                  const char *agency,
                  const char *service_id,
                  pbuf_t **out,
                  const char **why)
{
    int rc = dirhub_get(store, txn, service_id, out);
    if (rc == REFNET_ENOTFOUND) {
        *out = NULL;
        return 0;
    }
    if (rc)
        return rc;
    const Refnet__DirRecord *rec = (const Refnet__DirRecord *)pbuf_msg(*out);
    if (strcmp(rec->agency, agency) != 0) {
        *why = "the service belongs to another agency";
        pbuf_destroy(out);
        return REFNET_EFORBIDDEN;
    }
    return 0;
}

int
dirhub_publish(store_t *store,
               MDB_txn *txn,
               const char *agency,
               const Refnet__Service *svc,
               uint64_t now_ms,
               uint64_t *seq,
               const char **why)
{
    pbuf_t *old = NULL;
    Refnet__DirRecord rec = REFNET__DIR_RECORD__INIT;
    int rc = dirhub_load_owned(store, txn, agency, svc->id, &old, why);
    if (rc)
        return rc;
    const Refnet__DirRecord *prev = old ? (const Refnet__DirRecord *)pbuf_msg(old) : NULL;
    /* A shallow copy: the stored service differs from the sent one only in its owner. */
    Refnet__Service copy = *svc;
    copy.agency = (char *)agency;
    if (copy.updated_at_ms == 0)
        copy.updated_at_ms = now_ms;
    rec.agency = (char *)agency;
    rec.service = &copy;
    rc = dirhub_store_change(store, txn, svc->id, &rec, prev, seq);
    pbuf_destroy(&old);
    return rc;
}

int
dirhub_availability(store_t *store,
                    MDB_txn *txn,
                    const char *agency,
                    const Refnet__DirAvailability *av,
                    uint64_t now_ms,
                    uint64_t *seq,
                    const char **why)
{
    pbuf_t *old = NULL;
    int rc = dirhub_load_owned(store, txn, agency, av->service_id, &old, why);
    if (rc)
        return rc;
    const Refnet__DirRecord *prev = old ? (const Refnet__DirRecord *)pbuf_msg(old) : NULL;
    if (!prev || prev->withdrawn || !prev->service) {
        *why = prev ? "the service is withdrawn" : "no such service";
        pbuf_destroy(&old);
        return REFNET_ENOTFOUND;
    }
    Refnet__Service svc = *prev->service;
    svc.capacity = av->capacity;
    svc.intake = av->intake;
    svc.updated_at_ms = now_ms;
    Refnet__DirRecord rec = *prev;
    rec.service = &svc;
    rc = dirhub_store_change(store, txn, av->service_id, &rec, prev, seq);
    pbuf_destroy(&old);
    return rc;
}

int
dirhub_withdraw(store_t *store,
                MDB_txn *txn,
                const char *agency,
                const char *service_id,
                uint64_t *seq,
                bool *changed,
                const char **why)
{
    pbuf_t *old = NULL;
    Refnet__DirRecord rec = REFNET__DIR_RECORD__INIT;
    *changed = false;
    int rc = dirhub_load_owned(store, txn, agency, service_id, &old, why);
    if (rc)
        return rc;
    if (!old) {
        *why = "no such service";
        return REFNET_ENOTFOUND;
    }
    const Refnet__DirRecord *prev = (const Refnet__DirRecord *)pbuf_msg(old);
    if (prev->withdrawn) {
        *seq = prev->seq;
    } else {
        rec.agency = (char *)agency;
        rec.withdrawn = true;
        /* The broker's own clock: compaction forgets the tombstone after the retention. */
        rec.withdrawn_at_ms = clock_now_ms();
        rc = dirhub_store_change(store, txn, service_id, &rec, prev, seq);
        *changed = rc == 0;
    }
    pbuf_destroy(&old);
    return rc;
}

int
dirhub_next(store_t *store, MDB_txn *txn, uint64_t after, uint64_t *seq)
{
    MDB_cursor *cur = NULL;
    uint8_t k[8];
    MDB_val key = { sizeof k, k }, val;
    if (after == UINT64_MAX)
        return REFNET_ENOTFOUND;
    store_u64_key(k, after + 1);
    int rc = store_err(mdb_cursor_open(txn, bstore_db(store, BSTORE_DIRLOG), &cur));
    if (rc)
        return rc;
    rc = store_err(mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE));
    if (!rc && key.mv_size != 8)
        rc = REFNET_EDECODE;
    if (!rc)
        *seq = store_key_u64(key.mv_data);
    mdb_cursor_close(cur);
    return rc;
}

/* Loads the record whose latest change is `seq`, and its id (the log entry's value, which a
 * tombstone needs since it has no service). */
static int
dirhub_service_at(
    store_t *store, MDB_txn *txn, uint64_t seq, char id[WIRE_MAX_IDENT + 1], pbuf_t **out)
{
    uint8_t k[8];
    MDB_val val;
    store_u64_key(k, seq);
    int rc = store_get(txn, bstore_db(store, BSTORE_DIRLOG), k, sizeof k, &val);
    if (rc)
        return rc;
    if (val.mv_size == 0 || val.mv_size > WIRE_MAX_IDENT)
        return REFNET_EDECODE;
    snprintf(id, WIRE_MAX_IDENT + 1, "%.*s", (int)val.mv_size, (const char *)val.mv_data);
    rc = dirhub_get(store, txn, id, out);
    if (!rc && ((const Refnet__DirRecord *)pbuf_msg(*out))->seq != seq) {
        pbuf_destroy(out);
        rc = REFNET_ENOTFOUND; /* a stale log entry: the service changed since */
    }
    return rc;
}

int
dirhub_update_frame(store_t *store, MDB_txn *txn, uint64_t seq, uint8_t **frame, size_t *len)
{
    pbuf_t *pb = NULL;
    char id[WIRE_MAX_IDENT + 1];
    uint8_t msg_id[16];
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirUpdate up = REFNET__DIR_UPDATE__INIT;
    int rc = dirhub_service_at(store, txn, seq, id, &pb);
    if (rc)
        return rc;
    const Refnet__DirRecord *rec = (const Refnet__DirRecord *)pbuf_msg(pb);
    up.seq = rec->seq;
    up.service_id = id;
    up.agency = rec->agency;
    up.withdrawn = rec->withdrawn;
    up.service = rec->withdrawn ? NULL : rec->service;
    wire_stamp(&env, msg_id);
    env.body_case = REFNET__ENVELOPE__BODY_UPDATE;
    env.update = &up;
    rc = wire_encode(&env, frame, len);
    pbuf_destroy(&pb);
    return rc;
}

int
dirhub_owner(store_t *store, MDB_txn *txn, const char *service_id, char *owner, bool *withdrawn)
{
    MDB_val val;
    uint64_t gone = 0;
    size_t n = strlen(service_id);
    if (n == 0 || n > WIRE_MAX_IDENT)
        return REFNET_ENOTFOUND;
    /* Every handoff checks its service's owner: the owner and the tombstone flag are read from
     * the record without decoding the service it carries. */
    int rc = store_get(txn, bstore_db(store, BSTORE_SERVICES), service_id, n, &val);
    if (!rc)
        rc = pbscan_string(val.mv_data, val.mv_size, FIELDS_DIR_RECORD_AGENCY, owner,
                           WIRE_MAX_IDENT + 1);
    if (!rc) {
        rc = pbscan_varint(val.mv_data, val.mv_size, FIELDS_DIR_RECORD_WITHDRAWN, &gone);
        rc = rc == REFNET_ENOTFOUND ? 0 : rc;
    }
    if (rc == REFNET_ETOOLARGE)
        rc = REFNET_EDECODE;
    *withdrawn = gone != 0;
    return rc;
}

/* ---- compaction --------------------------------------------------------------------------- */

/* Forgets the tombstone at `seq` (id `id`) and raises the horizon to it. */
static int
dirhub_forget(store_t *store, MDB_txn *txn, uint64_t seq, const char *id)
{
    uint8_t k[8];
    uint64_t horizon = 0;
    store_u64_key(k, seq);
    int rc = store_del(txn, bstore_db(store, BSTORE_DIRLOG), k, sizeof k);
    if (!rc)
        rc = store_del(txn, bstore_db(store, BSTORE_SERVICES), id, strlen(id));
    if (!rc)
        rc = dirhub_horizon(store, txn, &horizon);
    if (!rc && seq > horizon)
        rc = store_put_u64(txn, bstore_db(store, BSTORE_META), DIRHUB_META_HORIZON, seq);
    return rc;
}

int
dirhub_compact(store_t *store, MDB_txn *txn, uint64_t cutoff_ms, size_t max_steps, size_t *removed)
{
    uint64_t after = 0;
    *removed = 0;
    int rc = store_get_u64(txn, bstore_db(store, BSTORE_META), DIRHUB_META_COMPACT_AFTER, &after);
    uint64_t start = after;
    for (size_t i = 0; !rc && i < max_steps; i++) {
        uint64_t seq = 0;
        pbuf_t *pb = NULL;
        char id[WIRE_MAX_IDENT + 1];
        rc = dirhub_next(store, txn, after, &seq);
        if (rc == REFNET_ENOTFOUND) {
            rc = 0;
            break;
        }
        if (!rc)
            rc = dirhub_service_at(store, txn, seq, id, &pb);
        if (rc)
            break;
        const Refnet__DirRecord *rec = (const Refnet__DirRecord *)pbuf_msg(pb);
        /* The log is in seq order, hence in withdrawal order: the first tombstone still
         * inside its retention means every later one is too. */
        bool young = rec->withdrawn && rec->withdrawn_at_ms >= cutoff_ms;
        if (rec->withdrawn && !young) {
            rc = dirhub_forget(store, txn, seq, id);
            if (!rc)
                (*removed)++;
        }
        pbuf_destroy(&pb);
        if (young)
            break;
        /* Entries before the cursor are live services (a change moves them past it) or gone. */
        after = seq;
    }
    /* Written only when it moved: an idle run leaves the transaction clean (no sync). */
    if (!rc && after != start)
        rc = store_put_u64(txn, bstore_db(store, BSTORE_META), DIRHUB_META_COMPACT_AFTER, after);
    return rc;
}

/* ---- snapshot ----------------------------------------------------------------------------- */

static int
dirhub_encode(Refnet__Envelope *env, uint8_t **frame, size_t *len)
{
    uint8_t msg_id[16];
    wire_stamp(env, msg_id);
    return wire_encode(env, frame, len);
}

int
dirhub_snapshot_begin_frame(
    store_t *store, MDB_txn *txn, uint64_t *seq, uint8_t **frame, size_t *len)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirSnapshotBegin begin = REFNET__DIR_SNAPSHOT_BEGIN__INIT;
    dirdigest_t d;
    int rc = dirhub_head(store, txn, &begin.seq);
    if (!rc)
        rc = dirhub_horizon(store, txn, &begin.horizon);
    if (!rc)
        rc = dirhub_digest(store, txn, &d);
    if (rc)
        return rc;
    begin.services = d.count;
    *seq = begin.seq;
    env.body_case = REFNET__ENVELOPE__BODY_SNAPSHOT_BEGIN;
    env.snapshot_begin = &begin;
    return dirhub_encode(&env, frame, len);
}

int
dirhub_snapshot_end_frame(uint64_t seq, const char *after, uint8_t **frame, size_t *len)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirSnapshotEnd end = REFNET__DIR_SNAPSHOT_END__INIT;
    end.seq = seq;
    end.after = (char *)after;
    env.body_case = REFNET__ENVELOPE__BODY_SNAPSHOT_END;
    env.snapshot_end = &end;
    return dirhub_encode(&env, frame, len);
}

/* The live records of a chunk while it is being built. */
typedef struct {
    pbuf_t *pb[WIRE_MAX_SNAPSHOT_UPDATES];
    Refnet__DirUpdate up[WIRE_MAX_SNAPSHOT_UPDATES];
    Refnet__DirUpdate *ptr[WIRE_MAX_SNAPSHOT_UPDATES];
    char id[WIRE_MAX_SNAPSHOT_UPDATES][WIRE_MAX_IDENT + 1];
    size_t n, bytes;
} dirhub_chunk_t;

/* Adds the record at the cursor to `c` if it is live. Returns 1 when the chunk is full (the
 * record was not added), 0 or an error. */
static int
dirhub_chunk_add(dirhub_chunk_t *c, const MDB_val *k, const MDB_val *v, size_t budget)
{
    pbuf_t *pb = NULL;
    if (k->mv_size == 0 || k->mv_size > WIRE_MAX_IDENT)
        return 0; /* not a valid id: never sent, so never in a chunk */
    int rc = pbuf_unpack(&pb, &refnet__dir_record__descriptor, v->mv_data, v->mv_size,
                         DIRHUB_MAX_RECORD);
    if (rc)
        return rc;
    const Refnet__DirRecord *rec = (const Refnet__DirRecord *)pbuf_msg(pb);
    if (rec->withdrawn || !rec->service) {
        pbuf_destroy(&pb);
        return 0;
    }
    Refnet__DirUpdate *up = &c->up[c->n];
    *up = (Refnet__DirUpdate)REFNET__DIR_UPDATE__INIT;
    snprintf(c->id[c->n], sizeof c->id[c->n], "%.*s", (int)k->mv_size, (const char *)k->mv_data);
    up->seq = rec->seq;
    up->service_id = c->id[c->n];
    up->agency = rec->agency;
    up->service = rec->service;
    size_t size = refnet__dir_update__get_packed_size(up) + DIRHUB_UPDATE_FRAMING;
    if (c->n > 0 && c->bytes + size > budget) {
        pbuf_destroy(&pb);
        return 1;
    }
    c->pb[c->n] = pb;
    c->ptr[c->n] = up;
    c->bytes += size;
    c->n++;
    return 0;
}

/* Fills `c` with at most `max_services` live services whose ids follow `after`, within
 * `budget` bytes. */
static int
dirhub_chunk_fill(store_t *store,
                  MDB_txn *txn,
                  const char *after,
                  size_t budget,
                  size_t max_services,
                  dirhub_chunk_t *c)
{
    MDB_cursor *cur = NULL;
    MDB_val k = { strlen(after), (void *)after }, v;
    int rc = store_err(mdb_cursor_open(txn, bstore_db(store, BSTORE_SERVICES), &cur));
    if (rc)
        return rc;
    int mrc = after[0] ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
                       : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    if (mrc == 0 && after[0] && k.mv_size == strlen(after) &&
        memcmp(k.mv_data, after, k.mv_size) == 0)
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    while (mrc == 0 && c->n < max_services) {
        rc = dirhub_chunk_add(c, &k, &v, budget);
        if (rc)
            break;
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc == 1)
        rc = 0;
    if (!rc && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = store_err(mrc);
    return rc;
}

int
dirhub_snapshot_chunk(store_t *store,
                      MDB_txn *txn,
                      uint64_t seq,
                      const char *after,
                      size_t max_frame,
                      size_t max_services,
                      uint8_t **frame,
                      size_t *len,
                      char last[WIRE_MAX_IDENT + 1])
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirSnapshotChunk chunk = REFNET__DIR_SNAPSHOT_CHUNK__INIT;
    dirhub_chunk_t *c = xcalloc(1, sizeof *c);
    size_t budget =
        max_frame > 2 * DIRHUB_CHUNK_SLACK ? max_frame - DIRHUB_CHUNK_SLACK : DIRHUB_CHUNK_SLACK;
    if (max_services == 0 || max_services > WIRE_MAX_SNAPSHOT_UPDATES)
        max_services = WIRE_MAX_SNAPSHOT_UPDATES;
    int rc = dirhub_chunk_fill(store, txn, after, budget, max_services, c);
    if (!rc && c->n == 0)
        rc = REFNET_ENOTFOUND;
    if (!rc) {
        chunk.seq = seq;
        chunk.after = (char *)after;
        chunk.updates = c->ptr;
        chunk.n_updates = c->n;
        env.body_case = REFNET__ENVELOPE__BODY_SNAPSHOT_CHUNK;
        env.snapshot_chunk = &chunk;
        rc = dirhub_encode(&env, frame, len);
    }
    if (!rc)
        snprintf(last, WIRE_MAX_IDENT + 1, "%s", c->id[c->n - 1]);
    for (size_t i = 0; i < c->n; i++)
        pbuf_destroy(&c->pb[i]);
    free(c);
    return rc;
}

int
dirhub_digest_frame(store_t *store,
                    MDB_txn *txn,
                    const ProtobufCBinaryData *ref,
                    uint8_t **frame,
                    size_t *len,
                    uint64_t *head)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirDigest dg = REFNET__DIR_DIGEST__INIT;
    uint8_t bytes[WIRE_DIGEST_LEN];
    dirdigest_t d;
    int rc = dirhub_head(store, txn, &dg.seq);
    if (!rc)
        rc = dirhub_horizon(store, txn, &dg.horizon);
    if (!rc)
        rc = dirhub_digest(store, txn, &d);
    if (rc)
        return rc;
    dirdigest_bytes(&d, bytes);
    dg.services = d.count;
    dg.digest.data = bytes;
    dg.digest.len = sizeof bytes;
    dg.ref = *ref;
    *head = dg.seq;
    env.body_case = REFNET__ENVELOPE__BODY_DIGEST;
    env.digest = &dg;
    return dirhub_encode(&env, frame, len);
}
