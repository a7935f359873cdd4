/* peerkeys: own box keypair, pinned broker key, verified agency keys (see peerkeys.h). */
#include "peerkeys.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "nodedb.h"
#include "path.h"
#include "refnet_error.h"
#include "uid.h"
#include "xmalloc.h"

/* ---- shared-key cache --------------------------------------------------------------------- */

typedef struct {
    uint8_t peer[SEAL_KEY_LEN];
    uint8_t own_sk[SEAL_KEY_LEN];
    uint8_t shared[SEAL_SHARED_LEN];
    uint64_t used; /* the cache's tick at the last hit; 0: empty slot */
} peerkeys_slot_t;

struct peerkeys_cache {
    peerkeys_slot_t slots[PEERKEYS_CACHE_SLOTS];
    uid_pool_t nonces; /* sealing nonces: one system call per UID_POOL_BYTES, not per packet */
    uint64_t tick;
    peerkeys_cache_stats_t stats;
};

peerkeys_cache_t *
peerkeys_cache_new(void)
{
    peerkeys_cache_t *self = xcalloc(1, sizeof *self);
    uid_pool_init(&self->nonces);
    return self;
}

void
peerkeys_cache_destroy(peerkeys_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sodium_memzero(*self_p, sizeof **self_p);
    free(*self_p);
    *self_p = NULL;
}

/* The slot holding (peer, own_sk), or NULL; *victim is the empty or least recently used one. */
static peerkeys_slot_t *
peerkeys_cache_find(peerkeys_cache_t *self,
                    const uint8_t peer[SEAL_KEY_LEN],
                    const uint8_t own_sk[SEAL_KEY_LEN],
                    peerkeys_slot_t **victim)
{
    *victim = &self->slots[0];
    for (size_t i = 0; i < PEERKEYS_CACHE_SLOTS; i++) {
        peerkeys_slot_t *s = &self->slots[i];
        if (s->used && memcmp(s->peer, peer, SEAL_KEY_LEN) == 0 &&
            memcmp(s->own_sk, own_sk, SEAL_KEY_LEN) == 0)
            return s;
        if (s->used < (*victim)->used)
            *victim = s;
    }
    return NULL;
}

int
peerkeys_cache_shared(peerkeys_cache_t *self,
                      const uint8_t peer_pk[SEAL_KEY_LEN],
                      const uint8_t my_sk[SEAL_KEY_LEN],
                      uint8_t shared[SEAL_SHARED_LEN])
{
    if (!self)
        return seal_precompute(peer_pk, my_sk, shared);
    peerkeys_slot_t *victim = NULL, *s = peerkeys_cache_find(self, peer_pk, my_sk, &victim);
    if (s) {
        s->used = ++self->tick;
        self->stats.hits++;
        memcpy(shared, s->shared, SEAL_SHARED_LEN);
        return 0;
    }
    int rc = seal_precompute(peer_pk, my_sk, shared);
    if (rc != 0)
        return rc; /* a weak key is not kept: it fails again, cheaply */
    self->stats.misses++;
    if (victim->used)
        self->stats.evictions++;
    else
        self->stats.live++;
    sodium_memzero(victim, sizeof *victim);
    memcpy(victim->peer, peer_pk, SEAL_KEY_LEN);
    memcpy(victim->own_sk, my_sk, SEAL_KEY_LEN);
    memcpy(victim->shared, shared, SEAL_SHARED_LEN);
    victim->used = ++self->tick;
    return 0;
}

void
peerkeys_cache_stats(const peerkeys_cache_t *self, peerkeys_cache_stats_t *out)
{
    if (self)
        *out = self->stats;
    else
        memset(out, 0, sizeof *out);
}

peerkeys_cache_t *
peerkeys_cache_of(const store_t *st)
{
    MDB_env *env = st ? store_env(st) : NULL;
    return env ? mdb_env_get_userctx(env) : NULL;
}

void
peerkeys_cache_stop(store_t *st)
{
    peerkeys_cache_t *c = peerkeys_cache_of(st);
    if (!c)
        return;
    mdb_env_set_userctx(store_env(st), NULL);
    peerkeys_cache_destroy(&c);
}

void
peerkeys_cache_start(store_t *st)
{
    peerkeys_cache_stop(st);
    mdb_env_set_userctx(store_env(st), peerkeys_cache_new());
}

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
    uint8_t shared[SEAL_SHARED_LEN], nonce[SEAL_NONCE_LEN];
    sealed->data = NULL;
    sealed->len = 0;
    peerkeys_cache_t *cache = peerkeys_cache_of(st);
    rc = peerkeys_cache_shared(cache, e.key, my_sk, shared);
    if (rc == 0 && clear->len > SIZE_MAX - SEAL_OVERHEAD)
        rc = REFNET_ECRYPTO;
    if (rc == 0) {
        uid_pool_bytes(cache ? &cache->nonces : NULL, nonce, sizeof nonce);
        sealed->data = xmalloc(clear->len + SEAL_OVERHEAD);
        sealed->len = clear->len + SEAL_OVERHEAD;
        rc = seal_box_shared(clear->data, clear->len, shared, nonce, sealed->data);
    }
    if (rc != 0) {
        free(sealed->data);
        sealed->data = NULL;
        sealed->len = 0;
    }
    sodium_memzero(shared, sizeof shared);
    return rc;
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

/* Opens `sealed` from the holder of `peer` for `my_sk`, with the shared key from `cache`. */
static int
peerkeys_open_one(peerkeys_cache_t *cache,
                  const uint8_t peer[SEAL_KEY_LEN],
                  const uint8_t my_sk[SEAL_KEY_LEN],
                  const ProtobufCBinaryData *sealed,
                  ProtobufCBinaryData *clear)
{
    uint8_t shared[SEAL_SHARED_LEN];
    clear->data = NULL;
    clear->len = 0;
    if (sealed->len < SEAL_OVERHEAD)
        return REFNET_ECRYPTO;
    int rc = peerkeys_cache_shared(cache, peer, my_sk, shared);
    if (rc == 0) {
        size_t plain = sealed->len - SEAL_OVERHEAD;
        clear->data = xmalloc(plain + 1); /* never zero bytes */
        rc = seal_open_shared(sealed->data, sealed->len, shared, clear->data);
        if (rc == 0)
            clear->len = plain;
        else {
            free(clear->data);
            clear->data = NULL;
        }
    }
    sodium_memzero(shared, sizeof shared);
    return rc;
}

/* Tries the sender's current and previous keys with one of this node's secret keys. */
static int
peerkeys_try(peerkeys_cache_t *cache,
             const peerkeys_entry_t *e,
             const uint8_t my_sk[SEAL_KEY_LEN],
             const ProtobufCBinaryData *sealed,
             ProtobufCBinaryData *clear)
{
    static const uint8_t none[SEAL_KEY_LEN];
    int rc = peerkeys_open_one(cache, e->key, my_sk, sealed, clear);
    if (rc != 0 && memcmp(e->prev, none, SEAL_KEY_LEN) != 0)
        rc = peerkeys_open_one(cache, e->prev, my_sk, sealed, clear);
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
    peerkeys_cache_t *cache = peerkeys_cache_of(st);
    rc = peerkeys_try(cache, &e, my_sk, sealed, clear);
    /* Sealed for this node's key before it rotated, and delivered after. */
    if (rc != 0 && peerkeys_prev_own(st, prev_sk) == 0)
        rc = peerkeys_try(cache, &e, prev_sk, sealed, clear);
    sodium_memzero(prev_sk, sizeof prev_sk);
    if (rc != 0)
        *why = "it does not open with the sending agency's key and ours (tampered, or sealed by "
               "another key)";
    return rc;
}
