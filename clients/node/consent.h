/* consent: a person's consents to disclose, and the check every disclosure passes
 * (db "consents", key = consent id).
 *
 * Nothing about a person leaves the node unless consent_find_valid() finds a consent that
 * names the person, the recipient agency (or "*", any agency in the network), the purpose and
 * every category being sent, and that is in force: not revoked, effective, not expired.
 * consent_check() is the pure rule; the rest reads and writes records inside a transaction
 * owned by the caller. Every category must be named by the consent itself, so substance-use
 * (Part 2) data is covered only by a consent that names it. Revocation reaches the agencies
 * that received data through revoke.h; expiry is recorded in the audit log once
 * (consent_note_expired). Returned pbuf_t are the caller's and hold a Refnet__ConsentRecord.
 * Single-threaded. */
#ifndef REFNET_CONSENT_H
#define REFNET_CONSENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.pb-c.h"
#include "store.h"
#include "uid.h"

/* The recipient that stands for any agency in the network. */
#define CONSENT_ANY_RECIPIENT "*"

/* Checks whether consent `c` allows disclosing `categories` (n of them) about `person` to
 * agency `recipient` for `purpose` at time `now`. Returns 0, or REFNET_ECONSENT with *why
 * (may be NULL) set to a static sentence, e.g. "the consent has expired". Pure. */
int consent_check(const Refnet__ConsentRecord *c,
                  const char *person,
                  const char *recipient,
                  const char *purpose,
                  const Refnet__Category *categories,
                  size_t n,
                  uint64_t now,
                  const char **why);
/* True when `c` is in force at `now` (not revoked, effective, not expired), whatever it
 * covers. */
bool consent_in_force(const Refnet__ConsentRecord *c, uint64_t now);

/* Adds a consent. A new UUID is written into `id_out` (rec->id is ignored) and created_at_ms
 * is set to `now`; the caller validated the fields. Returns 0 or a store error. */
int consent_add(MDB_txn *txn,
                const store_t *st,
                const Refnet__ConsentRecord *rec,
                uint64_t now,
                char id_out[UID_STR_LEN]);
/* Reads consent `id`. Returns 0 and *out, REFNET_ENOTFOUND, REFNET_EDECODE or a store
 * error. */
int consent_get(MDB_txn *txn, const store_t *st, const char *id, pbuf_t **out);
/* Writes consent record `rec` back under rec->id (revoke.h adds its notices). Returns 0 or a
 * store error. */
int consent_put(MDB_txn *txn, const store_t *st, const Refnet__ConsentRecord *rec);
/* Revokes consent `id` at `now`. Returns 0, REFNET_ENOTFOUND, REFNET_EINVAL (already
 * revoked) or a store error. */
int consent_revoke(MDB_txn *txn, const store_t *st, const char *id, uint64_t now);
/* Finds a consent of `person` that passes consent_check. Returns 0 and *out (caller owns),
 * or REFNET_ECONSENT with *why set to the reason the closest candidate failed (static
 * sentence), or a store error. */
int consent_find_valid(MDB_txn *txn,
                       const store_t *st,
                       const char *person,
                       const char *recipient,
                       const char *purpose,
                       const Refnet__Category *categories,
                       size_t n,
                       uint64_t now,
                       pbuf_t **out,
                       const char **why);
/* Records in the audit log, once per consent, that a consent passed its expiry date: every
 * consent not revoked whose expires_at is at or before `now` and whose expiry is not noted yet
 * gets a consent-expired entry (actor "node") and expiry_noted_at_ms = now, at most `max` of
 * them per call. Sets *noted (may be NULL). Returns 0 or a store error. The node's loop calls
 * it periodically; an expired consent is refused at use whether or not it was noted. */
int consent_note_expired(MDB_txn *txn, const store_t *st, uint64_t now, size_t max, size_t *noted);
/* Calls `visit` with every consent of `person` (all persons when NULL), in id order, at most
 * `max` of them; stops at the first non-zero return and returns it. */
int consent_each(MDB_txn *txn,
                 const store_t *st,
                 const char *person,
                 size_t max,
                 int (*visit)(void *ctx, const Refnet__ConsentRecord *c),
                 void *ctx);

#endif
