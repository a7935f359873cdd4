/* agencies: the enrolled agencies, their CURVE keys, and the files zauth trusts.
 *
 * LMDB is the truth: db "agencies" holds an AgencyRecord per agency id and db "keys" maps each
 * Z85 public key to its agency id. DATA/certs/ holds one public certificate per enrolled agency
 * (<id>.cert) plus admin.cert; that folder is what zauth reads, and it is rewritten from LMDB
 * whenever they differ. Enrolment is done by `refnet-broker enroll`, possibly while the broker
 * runs in another process: it bumps meta "enroll_gen", which the running broker checks
 * (agencies_refresh) to reload its table and certificates.
 *
 * Revocation (agencies_revoke, `refnet-broker revoke-agency`) keeps the record, stamped with
 * revoked_at_ms and the broker's signature of the revocation, and deletes the key from db
 * "keys": the agency's certificate leaves DATA/certs at the next refresh, so zauth refuses its
 * handshake, and its key no longer names a sender. Enrolling a revoked agency again lifts the
 * revocation. Rotation (agencies_rotate, a KeyRotate from the agency itself) replaces the
 * agency's one key in the same way; mail waits in mailboxes keyed by agency id, so none is lost.
 *
 * agencies_t is the broker's in-memory copy of the table, with lookups by key and by id.
 * Lookups by key and by id find enrolled agencies only; the list (agencies_count/at) also
 * holds the revoked ones, marked, for the administrator's report. Entries are borrowed and
 * valid until the next agencies_refresh that reports a change. One thread. */
#ifndef REFNET_AGENCIES_H
#define REFNET_AGENCIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "seal.h"
#include "store.h"
#include "wire.h"

/* File names in the certs folder that are not agencies; these ids cannot be enrolled. */
#define AGENCIES_ADMIN_NAME "admin"

typedef struct agencies agencies_t;

typedef struct {
    char id[WIRE_MAX_IDENT + 1];
    char name[WIRE_MAX_NAME + 1];
    char key[KEYS_Z85_LEN];
    uint64_t enrolled_at_ms;
    uint64_t last_seen_ms;  /* as persisted at the last shutdown */
    uint64_t revoked_at_ms; /* 0 while enrolled */
} agencies_entry_t;

/* Enrols agency `id` with public key `key_z85` and display `name` (NULL or "" means the id)
 * inside the write transaction `txn`, and bumps meta "enroll_gen". Enrolling an agency again
 * replaces its key and name. Returns 0, or:
 *   REFNET_EINVAL  id is not an identifier or is reserved, name is not valid text, key is not
 *                  a Z85 public key, or BROKER_MAX_AGENCIES are already enrolled;
 *   REFNET_EEXIST  the key already belongs to another agency;
 *   a store error. `why` (WIRE_WHY_LEN bytes, may be NULL) receives one sentence on failure. */
int agencies_enroll(store_t *store,
                    MDB_txn *txn,
                    const char *id,
                    const char *name,
                    const char *key_z85,
                    uint64_t now_ms,
                    char *why);
/* Persists `last_seen_ms` into agency `id`'s record. Returns 0, REFNET_ENOTFOUND or a store
 * error. */
int agencies_save_last_seen(store_t *store, MDB_txn *txn, const char *id, uint64_t last_seen_ms);

/* Revokes agency `id` at `now_ms` inside `txn`: stamps its record with revoked_at_ms and, when
 * it has a sealing key, the revocation signed with `sign_sk` (seal_sign_agency_revoked);
 * deletes its key from db "keys"; bumps meta "enroll_gen". Revoking a revoked agency changes
 * nothing and sets *already. Returns 0, REFNET_ENOTFOUND (no such agency; `why` says so) or a
 * store error. */
int agencies_revoke(store_t *store,
                    MDB_txn *txn,
                    const char *id,
                    uint64_t now_ms,
                    const uint8_t sign_sk[SEAL_SIGN_SECRET_LEN],
                    bool *already,
                    char *why);
/* Makes `key_z85` the only CURVE key of enrolled agency `id` inside `txn` (the old key stops
 * naming it) and bumps meta "enroll_gen". The agency's current key again is a no-op (*changed
 * false), so a resent request is answered the same. Returns 0, or REFNET_EINVAL (not a key),
 * REFNET_EEXIST (another agency holds that key), REFNET_ENOTFOUND (not enrolled, or revoked),
 * or a store error; `why` (WIRE_WHY_LEN bytes, may be NULL) gets a sentence on refusal. */
int agencies_rotate(
    store_t *store, MDB_txn *txn, const char *id, const char *key_z85, bool *changed, char *why);

/* Loads the table from `store` (borrowed; must outlive self) and writes the certificates of
 * the enrolled agencies into `certs_dir`, removing stale ones. Returns 0 and sets *out (caller
 * owns; agencies_destroy) or a store / file error. */
int agencies_open(agencies_t **out, store_t *store, const char *certs_dir);
void agencies_destroy(agencies_t **self_p);

/* Reloads the table and the certificates when meta "enroll_gen" changed since the last load.
 * Sets *changed. Returns 0 or a store / file error (the old table stays then). */
int agencies_refresh(agencies_t *self, bool *changed);

/* Lookups of enrolled agencies; NULL when unknown or revoked. */
const agencies_entry_t *agencies_by_key(const agencies_t *self, const char *key_z85);
const agencies_entry_t *agencies_by_id(const agencies_t *self, const char *id);
/* True when `id` names a revoked agency. */
bool agencies_is_revoked(const agencies_t *self, const char *id);
/* Every agency, enrolled or revoked (revoked_at_ms != 0), sorted by id: the count and entry i. */
size_t agencies_count(const agencies_t *self);
const agencies_entry_t *agencies_at(const agencies_t *self, size_t i);

#endif
