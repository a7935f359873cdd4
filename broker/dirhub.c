/* dirhub: directory sequencing and ownership at the broker (see dirhub.h). */
#include "dirhub.h"

#include <stdio.h>
#include <string.h>

#include "bstore.h"
#include "records.pb-c.h"
#include "refnet_error.h"
#include "wire.h"

/* A stored DirRecord holds one Service, which must fit in a DirUpdate frame. */
#define DIRHUB_MAX_RECORD WIRE_MAX_FRAME

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

/* Gives `rec` the next seq and stores it, moving the service's dirlog entry to that seq. */
static int
dirhub_store_change(store_t *store,
                    MDB_txn *txn,
                    const char *service_id,
                    Refnet__DirRecord *rec,
                    uint64_t old_seq,
                    uint64_t *seq)
{
    uint8_t key[8];
    uint64_t head = 0;
    int rc = dirhub_head(store, txn, &head);
    if (rc)
        return rc;
    rec->seq = head + 1;
    if (old_seq) {
        store_u64_key(key, old_seq);
        rc = store_del(txn, bstore_db(store, BSTORE_DIRLOG), key, sizeof key);
        if (rc && rc != REFNET_ENOTFOUND)
            return rc;
    }
    store_u64_key(key, rec->seq);
    rc = store_put(txn, bstore_db(store, BSTORE_DIRLOG), key, sizeof key, service_id,
                   strlen(service_id), 0);
    if (!rc)
        rc = store_put_msg(txn, bstore_db(store, BSTORE_SERVICES), service_id, strlen(service_id),
                           &rec->base);
    if (!rc)
        rc = store_put_u64(txn, bstore_db(store, BSTORE_META), BSTORE_META_DIR_SEQ, rec->seq);
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
    uint64_t old_seq = 0;
    int rc = dirhub_load_owned(store, txn, agency, svc->id, &old, why);
    if (rc)
        return rc;
    if (old)
        old_seq = ((const Refnet__DirRecord *)pbuf_msg(old))->seq;
    /* A shallow copy: the stored service differs from the sent one only in its owner. */
    Refnet__Service copy = *svc;
    copy.agency = (char *)agency;
    if (copy.updated_at_ms == 0)
        copy.updated_at_ms = now_ms;
    rec.agency = (char *)agency;
    rec.service = &copy;
    rc = dirhub_store_change(store, txn, svc->id, &rec, old_seq, seq);
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
    rc = dirhub_store_change(store, txn, av->service_id, &rec, prev->seq, seq);
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
        rc = dirhub_store_change(store, txn, service_id, &rec, prev->seq, seq);
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
    pbuf_t *pb = NULL;
    int rc = dirhub_get(store, txn, service_id, &pb);
    if (rc)
        return rc;
    const Refnet__DirRecord *rec = (const Refnet__DirRecord *)pbuf_msg(pb);
    snprintf(owner, WIRE_MAX_IDENT + 1, "%s", rec->agency);
    *withdrawn = rec->withdrawn;
    pbuf_destroy(&pb);
    return 0;
}
