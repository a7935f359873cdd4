/* sealkeys: the broker's register of agencies' sealing keys, and its signature on each.
 *
 * A node announces its libsodium box public key in every Hello. The broker keeps it in the
 * agency's AgencyRecord (db "agencies", fields box_public_key, box_key_at_ms, box_key_sig)
 * together with the broker's Ed25519 signature over the binding agency id -> key (seal.h),
 * made once when the key first appears. It sends the signed binding to nodes as
 * Envelope{agency_key}: every known key after each Welcome, and a new or changed key to every
 * online node. The broker only vouches for the binding; it never holds a box secret key and
 * cannot open what nodes seal for each other.
 *
 * Re-enrolling an agency (agencies_enroll) rewrites its record without a box key; its next
 * Hello announces it again. A revoked agency's AgencyKey carries revoked = true and the
 * broker's signature of the revocation (agencies_revoke made it), and its key no longer
 * changes. A rotated key (KeyRotate) is announced like a new one. Stateless; runs inside the caller's transaction. Loop thread. */
#ifndef REFNET_SEALKEYS_H
#define REFNET_SEALKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seal.h"
#include "store.h"

/* Records `box_pk` as agency `id`'s sealing key, signed with `sign_sk`, unless the record holds
 * that key already or the agency is revoked. Sets *changed. Returns 0, REFNET_ENOTFOUND (no such agency) or a store
 * error. */
int sealkeys_announce(store_t *store,
                      MDB_txn *txn,
                      const char *id,
                      const uint8_t box_pk[SEAL_KEY_LEN],
                      uint64_t now_ms,
                      const uint8_t sign_sk[SEAL_SIGN_SECRET_LEN],
                      bool *changed);

/* Encodes Envelope{agency_key} for agency `id` into *frame (caller frees): its signed key, or
 * its signed revocation. Returns 0, REFNET_ENOTFOUND when the agency is unknown or has
 * announced no key, or a store / encoding error. */
int sealkeys_frame(store_t *store, MDB_txn *txn, const char *id, uint8_t **frame, size_t *len);

/* Calls `fn(arg, frame, len)` with Envelope{agency_key} of every agency that has a key,
 * revoked ones included (so a node that connects later learns of the revocation), in id order; `fn` takes ownership of the frame. Returns 0 or a store error. */
typedef void(sealkeys_fn)(void *arg, uint8_t *frame, size_t len);
int sealkeys_each(store_t *store, MDB_txn *txn, sealkeys_fn *fn, void *arg);

#endif
