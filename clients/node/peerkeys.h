/* peerkeys: the node's sealing keys: its own box keypair, the broker's pinned signing key, and
 * the other agencies' box keys that the broker vouched for.
 *
 * - The node's box keypair (seal.h) lives in DIR/seal.key (secret, mode 0600), made by
 *   `refnet-node init`, or by `run` for a folder made before sealing existed. It is separate
 *   from the CURVE keypair, which only protects the transport to the broker.
 * - The broker's Ed25519 public signing key is meta "broker_sign_key" (32 bytes): given at init
 *   (--broker-sign-key), or pinned from the first Welcome that names one (trust on first use).
 *   A Welcome naming another key afterwards is refused and logged: keys it would vouch for are
 *   not accepted.
 * - db "agency_keys": agency id -> its box public key, stored only after the AgencyKey's
 *   signature verified with the pinned broker key. handoff.c seals for and opens from these
 *   keys only. The value is 32 bytes (the key; folders from before rotation existed) or
 *   PEERKEYS_VALUE_LEN bytes: the key, the agency's previous key (zeros if none), the key's
 *   issue time and its revocation time (0 while enrolled), 8 bytes big-endian each. The
 *   previous key opens what the agency sealed before it rotated; a revoked agency's key stays
 *   known (its handoffs under way remain readable) but nothing new is sealed for it.
 * - Key rotation (rotate.h) keeps the node's previous box secret key in DIR/seal.key.prev
 *   (0600), where DIR is the folder that holds the store's LMDB folder (DIR/db): a packet that
 *   does not open with the current key is tried with that one, read only then.
 *
 * - Shared-key cache (peerkeys_cache_t): sealing and opening cost an X25519 scalar
 *   multiplication per packet unless the shared key of (peer key, own key) is kept. A cache of
 *   PEERKEYS_CACHE_SLOTS such keys, least recently used first out, is attached to a store with
 *   peerkeys_cache_start() (it lives in the LMDB environment's user context, which nothing
 *   else uses) and is then used by peerkeys_seal and peerkeys_open; without one they compute
 *   each key as before. It is keyed by the key bytes, so an agency's new key, or this node's
 *   rotated one, is simply a miss; evicted and destroyed entries are wiped.
 *
 * Functions taking a transaction run inside the caller's; nothing commits here. Stateless
 * apart from the cache; single-threaded like the store. */
#ifndef REFNET_PEERKEYS_H
#define REFNET_PEERKEYS_H

#include <stddef.h>
#include <stdint.h>

#include "refnet.pb-c.h"
#include "seal.h"
#include "store.h"

#define PEERKEYS_FILE      "seal.key"
#define PEERKEYS_FILE_PREV "seal.key.prev"
#define PEERKEYS_META_SIGN "broker_sign_key"
#define PEERKEYS_VALUE_LEN (2 * SEAL_KEY_LEN + 16)
/* Shared keys kept: a node talks to a few dozen agencies; a miss costs one scalar mult. */
#define PEERKEYS_CACHE_SLOTS 64

typedef struct peerkeys_cache peerkeys_cache_t;

/* What a cache has done, for tests and counters. */
typedef struct {
    uint64_t hits;
    uint64_t misses;    /* shared keys computed */
    uint64_t evictions; /* entries wiped to make room */
    size_t live;        /* entries held now, at most PEERKEYS_CACHE_SLOTS */
} peerkeys_cache_stats_t;

/* A new empty cache (caller owns; peerkeys_cache_destroy). */
peerkeys_cache_t *peerkeys_cache_new(void);
/* Wipes every entry and frees the cache. Accepts NULL; nulls *self_p. */
void peerkeys_cache_destroy(peerkeys_cache_t **self_p);
/* Writes the shared key of `peer_pk` and `my_sk` into `shared` (SEAL_SHARED_LEN bytes), from
 * the cache when it holds it, else computed and kept (evicting the least recently used entry
 * when full). `self` may be NULL: computed, not kept. Returns 0 or REFNET_ECRYPTO (weak key). */
int peerkeys_cache_shared(peerkeys_cache_t *self,
                          const uint8_t peer_pk[SEAL_KEY_LEN],
                          const uint8_t my_sk[SEAL_KEY_LEN],
                          uint8_t shared[SEAL_SHARED_LEN]);
void peerkeys_cache_stats(const peerkeys_cache_t *self, peerkeys_cache_stats_t *out);

/* Creates a cache and attaches it to `st`, for peerkeys_seal and peerkeys_open on that store
 * (one destroyed first if attached already). Call it once after opening the store. */
void peerkeys_cache_start(store_t *st);
/* Detaches and destroys the cache of `st`, if any. Call it before store_destroy. Accepts NULL. */
void peerkeys_cache_stop(store_t *st);
/* The cache attached to `st`, or NULL (borrowed). */
peerkeys_cache_t *peerkeys_cache_of(const store_t *st);

/* Loads the node's box keypair from DIR/seal.key, creating it first when absent. Returns 0 or
 * a REFNET_E* code (REFNET_ECRYPTO for a key file others may read). */
int peerkeys_own(const char *dir, uint8_t pk[SEAL_KEY_LEN], uint8_t sk[SEAL_KEY_LEN]);

/* The node's folder: the folder that holds the store's LMDB folder (DIR/db). Writes it into
 * `out` (`len` bytes). Returns 0, REFNET_ENOTFOUND or REFNET_EINVAL (too long). */
int peerkeys_node_dir(const store_t *st, char *out, size_t len);

/* Pins `key` (`len` bytes) as the broker's signing key unless one is pinned already. Returns
 * 0 when it is pinned now or was the pinned key already, REFNET_EINVAL for a wrong length,
 * REFNET_ECRYPTO when another key is pinned, or a store error. */
int peerkeys_pin_broker(MDB_txn *txn, const store_t *st, const uint8_t *key, size_t len);
/* Reads the pinned broker key. Returns 0, REFNET_ENOTFOUND or a store error. */
int peerkeys_broker(MDB_txn *txn, const store_t *st, uint8_t key[SEAL_KEY_LEN]);

/* Verifies `k` with the pinned broker key (the binding, or with k->revoked the revocation) and
 * stores the agency's key: a new key becomes current and the old one previous; a revocation
 * marks the agency revoked at k->revoked_at_ms. A binding issued before a stored revocation
 * does not lift it (only one made after re-enrolment does). Returns 0, REFNET_ENOTFOUND (no
 * broker key pinned yet), REFNET_ECRYPTO (bad signature) or a store error. */
int peerkeys_accept(MDB_txn *txn, const store_t *st, const Refnet__AgencyKey *k);
/* Reads when `agency` was revoked into *revoked_at_ms (0: not revoked, or unknown). Returns 0
 * or a store error. */
int peerkeys_revoked(MDB_txn *txn, const store_t *st, const char *agency, uint64_t *revoked_at_ms);
/* The check before any new disclosure to `agency`: returns REFNET_EFORBIDDEN with one sentence
 * in `why` (`why_len` bytes, may be NULL) naming the agency and when it was revoked, 0 when it is not
 * revoked, or a store error. */
int peerkeys_refuse_revoked(
    MDB_txn *txn, const store_t *st, const char *agency, char *why, size_t why_len);
/* Reads the verified box key of `agency`. Returns 0, REFNET_ENOTFOUND or a store error. */
int peerkeys_get(MDB_txn *txn, const store_t *st, const char *agency, uint8_t key[SEAL_KEY_LEN]);

/* Seals `clear` for agency `to` with its verified key and this agency's secret `my_sk`:
 * sealed->data is allocated (caller frees). Returns 0, REFNET_EFORBIDDEN when no verified key
 * of `to` is known or `to` is revoked (nothing may be sent to it then), REFNET_ECRYPTO or a
 * store error. */
int peerkeys_seal(MDB_txn *txn,
                  const store_t *st,
                  const char *to,
                  const uint8_t my_sk[SEAL_KEY_LEN],
                  const ProtobufCBinaryData *clear,
                  ProtobufCBinaryData *sealed);
/* Opens `sealed` from agency `from` with its verified key (or its previous one) and `my_sk`
 * (or this node's previous secret key, DIR/seal.key.prev): clear->data is allocated (caller
 * frees). Returns 0, REFNET_ECRYPTO with *why set (no verified key of `from`, or the packet
 * does not open: tampered, or not sealed by `from` for us) or a store error. */
int peerkeys_open(MDB_txn *txn,
                  const store_t *st,
                  const char *from,
                  const uint8_t my_sk[SEAL_KEY_LEN],
                  const ProtobufCBinaryData *sealed,
                  ProtobufCBinaryData *clear,
                  const char **why);

#endif
