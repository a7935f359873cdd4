/* peerkeys: own box keypair, pinned broker key, verified agency keys (see peerkeys.h). */
#include "peerkeys.h"

#include <string.h>

#include "log.h"
#include "nodedb.h"
#include "path.h"
#include "refnet_error.h"

int
peerkeys_own(const char *dir, uint8_t pk[SEAL_KEY_LEN], uint8_t sk[SEAL_KEY_LEN])
{
    char path[PATH_MAX_LEN];
    int rc = path_join(path, sizeof path, dir, PEERKEYS_FILE);
    if (rc != 0)
        return rc;
    rc = seal_box_load(path, pk, sk);
    if (rc == REFNET_ENOTFOUND) {
        rc = seal_box_create(path, pk);
        if (rc == 0)
            rc = seal_box_load(path, pk, sk);
        if (rc == 0)
            log_info("peerkeys: created the sealing keypair %s", path);
    }
    return rc;
}

int
peerkeys_broker(MDB_txn *txn, const store_t *st, uint8_t key[SEAL_KEY_LEN])
{
    MDB_val v;
    int rc = store_get(txn, store_db(st, NODEDB_META), PEERKEYS_META_SIGN,
                       strlen(PEERKEYS_META_SIGN), &v);
    if (rc != 0)
        return rc;
    if (v.mv_size != SEAL_KEY_LEN) {
        log_error("peerkeys: the pinned broker signing key is damaged (%zu bytes)", v.mv_size);
        return REFNET_ECRYPTO;
    }
    memcpy(key, v.mv_data, SEAL_KEY_LEN);
    return 0;
}

int
peerkeys_pin_broker(MDB_txn *txn, const store_t *st, const uint8_t *key, size_t len)
{
    uint8_t pinned[SEAL_KEY_LEN];
    if (len != SEAL_KEY_LEN)
        return REFNET_EINVAL;
    int rc = peerkeys_broker(txn, st, pinned);
    if (rc == 0)
        return memcmp(pinned, key, SEAL_KEY_LEN) == 0 ? 0 : REFNET_ECRYPTO;
    if (rc != REFNET_ENOTFOUND)
        return rc;
    return store_put(txn, store_db(st, NODEDB_META), PEERKEYS_META_SIGN, strlen(PEERKEYS_META_SIGN),
                     key, SEAL_KEY_LEN, 0);
}

int
peerkeys_accept(MDB_txn *txn, const store_t *st, const Refnet__AgencyKey *k)
{
    uint8_t broker[SEAL_KEY_LEN];
    int rc = peerkeys_broker(txn, st, broker);
    if (rc != 0)
        return rc;
    if (k->box_public_key.len != SEAL_KEY_LEN || k->signature.len != SEAL_SIGNATURE_LEN ||
        !seal_verify_agency_key(k->agency_id, k->box_public_key.data, k->issued_at_ms,
                                k->signature.data, broker))
        return REFNET_ECRYPTO;
    return store_put(txn, store_db(st, NODEDB_AGENCY_KEYS), k->agency_id, strlen(k->agency_id),
                     k->box_public_key.data, SEAL_KEY_LEN, 0);
}

int
peerkeys_get(MDB_txn *txn, const store_t *st, const char *agency, uint8_t key[SEAL_KEY_LEN])
{
    MDB_val v;
    int rc = store_get(txn, store_db(st, NODEDB_AGENCY_KEYS), agency, strlen(agency), &v);
    if (rc != 0)
        return rc;
    if (v.mv_size != SEAL_KEY_LEN)
        return REFNET_ECRYPTO;
    memcpy(key, v.mv_data, SEAL_KEY_LEN);
    return 0;
}

int
peerkeys_seal(MDB_txn *txn,
              const store_t *st,
              const char *to,
              const uint8_t my_sk[SEAL_KEY_LEN],
              const ProtobufCBinaryData *clear,
              ProtobufCBinaryData *sealed)
{
    uint8_t peer[SEAL_KEY_LEN];
    int rc = peerkeys_get(txn, st, to, peer);
    if (rc == REFNET_ENOTFOUND || rc == REFNET_ECRYPTO)
        return REFNET_EFORBIDDEN;
    if (rc != 0)
        return rc;
    return seal_box(clear->data, clear->len, peer, my_sk, &sealed->data, &sealed->len);
}

int
peerkeys_open(MDB_txn *txn,
              const store_t *st,
              const char *from,
              const uint8_t my_sk[SEAL_KEY_LEN],
              const ProtobufCBinaryData *sealed,
              ProtobufCBinaryData *clear,
              const char **why)
{
    uint8_t peer[SEAL_KEY_LEN];
    int rc = peerkeys_get(txn, st, from, peer);
    if (rc == REFNET_ENOTFOUND || rc == REFNET_ECRYPTO) {
        *why = "the broker has vouched for no sealing key of the sending agency";
        return REFNET_ECRYPTO;
    }
    if (rc != 0)
        return rc;
    rc = seal_open(sealed->data, sealed->len, peer, my_sk, &clear->data, &clear->len);
    if (rc != 0)
        *why = "it does not open with the sending agency's key and ours (tampered, or sealed by "
               "another key)";
    return rc;
}
