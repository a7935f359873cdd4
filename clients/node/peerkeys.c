/* peerkeys: own box keypair, pinned broker key, verified agency keys (see peerkeys.h). */
#include "peerkeys.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
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

/* ---- agency keys ------------------------------------------------------------------------ */

/* One agency's entry in db "agency_keys", decoded. */
typedef struct {
    uint8_t key[SEAL_KEY_LEN];
    uint8_t prev[SEAL_KEY_LEN]; /* zeros when none */
    uint64_t issued_at_ms;
    uint64_t revoked_at_ms;
} peerkeys_entry_t;

static uint64_t
peerkeys_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void
peerkeys_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Reads an entry: REFNET_ENOTFOUND, REFNET_ECRYPTO for a value of another size, or 0. */
static int
peerkeys_read(MDB_txn *txn, const store_t *st, const char *agency, peerkeys_entry_t *e)
{
    MDB_val v;
    memset(e, 0, sizeof *e);
    int rc = store_get(txn, store_db(st, NODEDB_AGENCY_KEYS), agency, strlen(agency), &v);
    if (rc != 0)
        return rc;
    if (v.mv_size != SEAL_KEY_LEN && v.mv_size != PEERKEYS_VALUE_LEN)
        return REFNET_ECRYPTO;
    const uint8_t *d = v.mv_data;
    memcpy(e->key, d, SEAL_KEY_LEN);
    if (v.mv_size == PEERKEYS_VALUE_LEN) {
        memcpy(e->prev, d + SEAL_KEY_LEN, SEAL_KEY_LEN);
        e->issued_at_ms = peerkeys_u64(d + 2 * SEAL_KEY_LEN);
        e->revoked_at_ms = peerkeys_u64(d + 2 * SEAL_KEY_LEN + 8);
    }
    return 0;
}

static int
peerkeys_write(MDB_txn *txn, const store_t *st, const char *agency, const peerkeys_entry_t *e)
{
    uint8_t v[PEERKEYS_VALUE_LEN];
    memcpy(v, e->key, SEAL_KEY_LEN);
    memcpy(v + SEAL_KEY_LEN, e->prev, SEAL_KEY_LEN);
    peerkeys_put_u64(v + 2 * SEAL_KEY_LEN, e->issued_at_ms);
    peerkeys_put_u64(v + 2 * SEAL_KEY_LEN + 8, e->revoked_at_ms);
    return store_put(txn, store_db(st, NODEDB_AGENCY_KEYS), agency, strlen(agency), v, sizeof v, 0);
}

static bool
peerkeys_verify(const Refnet__AgencyKey *k, const uint8_t broker[SEAL_KEY_LEN])
{
    if (k->box_public_key.len != SEAL_KEY_LEN || k->signature.len != SEAL_SIGNATURE_LEN)
        return false;
    if (k->revoked)
        return k->revoked_at_ms != 0 &&
               seal_verify_agency_revoked(k->agency_id, k->box_public_key.data, k->issued_at_ms,
                                          k->revoked_at_ms, k->signature.data, broker);
    return seal_verify_agency_key(k->agency_id, k->box_public_key.data, k->issued_at_ms,
                                  k->signature.data, broker);
}

int
peerkeys_accept(MDB_txn *txn, const store_t *st, const Refnet__AgencyKey *k)
{
    uint8_t broker[SEAL_KEY_LEN];
    peerkeys_entry_t e;
    int rc = peerkeys_broker(txn, st, broker);
    if (rc != 0)
        return rc;
    if (!peerkeys_verify(k, broker))
        return REFNET_ECRYPTO;
    rc = peerkeys_read(txn, st, k->agency_id, &e);
    if (rc == REFNET_ENOTFOUND || rc == REFNET_ECRYPTO)
        memset(&e, 0, sizeof e);
    else if (rc != 0)
        return rc;
    bool known = rc == 0;
    /* A binding older than the revocation is a replay of what was true before it. */
    if (!k->revoked && e.revoked_at_ms && k->issued_at_ms <= e.revoked_at_ms)
        return 0;
    if (known && memcmp(e.key, k->box_public_key.data, SEAL_KEY_LEN) != 0) {
        memcpy(e.prev, e.key, SEAL_KEY_LEN);
        log_info("peerkeys: agency %s has a new sealing key", k->agency_id);
    }
    memcpy(e.key, k->box_public_key.data, SEAL_KEY_LEN);
    e.issued_at_ms = k->issued_at_ms;
    if (k->revoked && !e.revoked_at_ms)
        log_warn("peerkeys: agency %s was revoked by the network's administrator; no new "
                 "handoff can be sent to it",
                 k->agency_id);
    e.revoked_at_ms = k->revoked ? k->revoked_at_ms : 0;
    return peerkeys_write(txn, st, k->agency_id, &e);
}

int
peerkeys_revoked(MDB_txn *txn, const store_t *st, const char *agency, uint64_t *revoked_at_ms)
{
    peerkeys_entry_t e;
    int rc = peerkeys_read(txn, st, agency, &e);
    *revoked_at_ms = rc == 0 ? e.revoked_at_ms : 0;
    return rc == REFNET_ENOTFOUND || rc == REFNET_ECRYPTO ? 0 : rc;
}

int
peerkeys_refuse_revoked(
    MDB_txn *txn, const store_t *st, const char *agency, char *why, size_t why_len)
{
    char when[CLOCK_ISO_LEN];
    uint64_t at = 0;
    int rc = peerkeys_revoked(txn, st, agency, &at);
    if (rc != 0 || at == 0)
        return rc;
    clock_format_iso(at, when);
    if (why)
        snprintf(
            why, why_len,
            "agency %s was revoked by the network's administrator at %s; no new handoff can be "
            "sent to it, and nothing was sent",
            agency, when);
    return REFNET_EFORBIDDEN;
}

int
peerkeys_get(MDB_txn *txn, const store_t *st, const char *agency, uint8_t key[SEAL_KEY_LEN])
{
    peerkeys_entry_t e;
    int rc = peerkeys_read(txn, st, agency, &e);
    if (rc == 0)
        memcpy(key, e.key, SEAL_KEY_LEN);
    sodium_memzero(&e, sizeof e);
    return rc;
}

int
peerkeys_seal(MDB_txn *txn,
              const store_t *st,
              const char *to,
              const uint8_t my_sk[SEAL_KEY_LEN],
              const ProtobufCBinaryData *clear,
              ProtobufCBinaryData *sealed)
{
    peerkeys_entry_t e;
    int rc = peerkeys_read(txn, st, to, &e);
    if (rc == REFNET_ENOTFOUND || rc == REFNET_ECRYPTO || (rc == 0 && e.revoked_at_ms))
        return REFNET_EFORBIDDEN;
    if (rc != 0)
        return rc;
    return seal_box(clear->data, clear->len, e.key, my_sk, &sealed->data, &sealed->len);
}

int
peerkeys_node_dir(const store_t *st, char *out, size_t len)
{
    const char *envdir = NULL;
    if (mdb_env_get_path(store_env(st), &envdir) != 0 || !envdir)
        return REFNET_ENOTFOUND;
    const char *slash = strrchr(envdir, '/');
    if (!slash)
        return REFNET_ENOTFOUND;
    size_t n = slash == envdir ? 1 : (size_t)(slash - envdir);
    if (n >= len)
        return REFNET_EINVAL;
    snprintf(out, len, "%.*s", (int)n, envdir);
    return 0;
}

/* Loads this node's previous box secret key (DIR/seal.key.prev). Returns 0, or
 * REFNET_ENOTFOUND when there is none. */
static int
peerkeys_prev_own(const store_t *st, uint8_t sk[SEAL_KEY_LEN])
{
    char dir[PATH_MAX_LEN], path[PATH_MAX_LEN];
    uint8_t pk[SEAL_KEY_LEN];
    int rc = peerkeys_node_dir(st, dir, sizeof dir);
    if (rc == 0)
        rc = path_join(path, sizeof path, dir, PEERKEYS_FILE_PREV);
    return rc == 0 ? seal_box_load(path, pk, sk) : rc;
}

/* Tries the sender's current and previous keys with one of this node's secret keys. */
static int
peerkeys_try(const peerkeys_entry_t *e,
             const uint8_t my_sk[SEAL_KEY_LEN],
             const ProtobufCBinaryData *sealed,
             ProtobufCBinaryData *clear)
{
    static const uint8_t none[SEAL_KEY_LEN];
    int rc = seal_open(sealed->data, sealed->len, e->key, my_sk, &clear->data, &clear->len);
    if (rc != 0 && memcmp(e->prev, none, SEAL_KEY_LEN) != 0)
        rc = seal_open(sealed->data, sealed->len, e->prev, my_sk, &clear->data, &clear->len);
    return rc;
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
    peerkeys_entry_t e;
    uint8_t prev_sk[SEAL_KEY_LEN];
    int rc = peerkeys_read(txn, st, from, &e);
    if (rc == REFNET_ENOTFOUND || rc == REFNET_ECRYPTO) {
        *why = "the broker has vouched for no sealing key of the sending agency";
        return REFNET_ECRYPTO;
    }
    if (rc != 0)
        return rc;
    rc = peerkeys_try(&e, my_sk, sealed, clear);
    /* Sealed for this node's key before it rotated, and delivered after. */
    if (rc != 0 && peerkeys_prev_own(st, prev_sk) == 0)
        rc = peerkeys_try(&e, prev_sk, sealed, clear);
    sodium_memzero(prev_sk, sizeof prev_sk);
    if (rc != 0)
        *why = "it does not open with the sending agency's key and ours (tampered, or sealed by "
               "another key)";
    return rc;
}
