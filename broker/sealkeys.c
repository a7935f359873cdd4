/* sealkeys: agencies' sealing keys and the broker's signature on them (see sealkeys.h). */
#include "sealkeys.h"

#include <stdlib.h>
#include <string.h>

#include "bstore.h"
#include "log.h"
#include "pbuf.h"
#include "records.pb-c.h"
#include "refnet_error.h"
#include "uid.h"
#include "wire.h"

/* An AgencyRecord is a few hundred bytes; anything larger on disk is corruption. */
#define SEALKEYS_MAX_RECORD 4096

static int
sealkeys_get(store_t *store, MDB_txn *txn, const char *id, pbuf_t **out)
{
    return store_get_msg(txn, bstore_db(store, BSTORE_AGENCIES), id, strlen(id),
                         &refnet__agency_record__descriptor, out);
}

int
sealkeys_announce(store_t *store,
                  MDB_txn *txn,
                  const char *id,
                  const uint8_t box_pk[SEAL_KEY_LEN],
                  uint64_t now_ms,
                  const uint8_t sign_sk[SEAL_SIGN_SECRET_LEN],
                  bool *changed)
{
    pbuf_t *pb = NULL;
    uint8_t sig[SEAL_SIGNATURE_LEN];
    ProtobufCBinaryData old_pk, old_sig;
    *changed = false;
    int rc = sealkeys_get(store, txn, id, &pb);
    if (rc)
        return rc;
    Refnet__AgencyRecord *rec = (Refnet__AgencyRecord *)pbuf_msg(pb);
    if (rec->revoked_at_ms)
        goto out; /* a revoked agency's key is frozen with its revocation */
    if (rec->box_public_key.len == SEAL_KEY_LEN &&
        memcmp(rec->box_public_key.data, box_pk, SEAL_KEY_LEN) == 0 &&
        rec->box_key_sig.len == SEAL_SIGNATURE_LEN)
        goto out;
    seal_sign_agency_key(id, box_pk, now_ms, sign_sk, sig);
    old_pk = rec->box_public_key;
    old_sig = rec->box_key_sig;
    rec->box_public_key.data = (uint8_t *)box_pk;
    rec->box_public_key.len = SEAL_KEY_LEN;
    rec->box_key_at_ms = now_ms;
    rec->box_key_sig.data = sig;
    rec->box_key_sig.len = sizeof sig;
    rc = store_put_msg(txn, bstore_db(store, BSTORE_AGENCIES), id, strlen(id), &rec->base);
    /* The record's memory belongs to the decoder: restore its own pointers before freeing. */
    rec->box_public_key = old_pk;
    rec->box_key_sig = old_sig;
    if (!rc) {
        *changed = true;
        log_info("seal: agency %s announced a new sealing key", id);
    }
out:
    pbuf_destroy(&pb);
    return rc;
}

/* Encodes the AgencyKey of one decoded record: its signed binding, or once it is revoked
 * its signed revocation. REFNET_ENOTFOUND when it has neither. */
static int
sealkeys_encode(const Refnet__AgencyRecord *rec, uint8_t **frame, size_t *len)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__AgencyKey key = REFNET__AGENCY_KEY__INIT;
    uint8_t msg_id[UID_MSGID_LEN];
    const ProtobufCBinaryData *sig = rec->revoked_at_ms ? &rec->revoked_sig : &rec->box_key_sig;
    if (rec->box_public_key.len != SEAL_KEY_LEN || sig->len != SEAL_SIGNATURE_LEN)
        return REFNET_ENOTFOUND;
    key.agency_id = rec->id;
    key.box_public_key = rec->box_public_key;
    key.issued_at_ms = rec->box_key_at_ms;
    key.signature = *sig;
    key.revoked = rec->revoked_at_ms != 0;
    key.revoked_at_ms = rec->revoked_at_ms;
    wire_stamp(&env, msg_id);
    env.body_case = REFNET__ENVELOPE__BODY_AGENCY_KEY;
    env.agency_key = &key;
    return wire_encode(&env, frame, len);
}

int
sealkeys_frame(store_t *store, MDB_txn *txn, const char *id, uint8_t **frame, size_t *len)
{
    pbuf_t *pb = NULL;
    int rc = sealkeys_get(store, txn, id, &pb);
    if (!rc)
        rc = sealkeys_encode((const Refnet__AgencyRecord *)pbuf_msg(pb), frame, len);
    pbuf_destroy(&pb);
    return rc;
}

int
sealkeys_each(store_t *store, MDB_txn *txn, sealkeys_fn *fn, void *arg)
{
    MDB_cursor *cur = NULL;
    MDB_val key, val;
    int rc = store_err(mdb_cursor_open(txn, bstore_db(store, BSTORE_AGENCIES), &cur));
    if (rc)
        return rc;
    int mrc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    for (; mrc == 0; mrc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        pbuf_t *pb = NULL;
        uint8_t *frame = NULL;
        size_t len = 0;
        if (pbuf_unpack(&pb, &refnet__agency_record__descriptor, val.mv_data, val.mv_size,
                        SEALKEYS_MAX_RECORD) != 0) {
            log_warn("seal: skipping an unreadable agency record");
            continue;
        }
        if (sealkeys_encode((const Refnet__AgencyRecord *)pbuf_msg(pb), &frame, &len) == 0)
            fn(arg, frame, len);
        pbuf_destroy(&pb);
    }
    mdb_cursor_close(cur);
    return mrc == MDB_NOTFOUND ? 0 : store_err(mrc);
}
