/* audit: the node's accounting of disclosures, an append-only hash chain (db "audit", key =
 * u64 big-endian seq; the head seq is meta "audit_seq").
 *
 * One entry is written for every consent granted, revoked or expired, every disclosure sent
 * (handoff start), every person packet received, every revocation sent to a recipient and
 * acknowledged by it, and every received packet restricted by a revocation, inside the same
 * transaction as the event, so an event and its entry commit together or not at all. Each entry's hash is BLAKE2b-256 over
 * the entry encoded with an empty hash, and it carries the previous entry's hash: changing,
 * removing or reordering a stored entry breaks the chain, and audit_verify() names the first
 * entry where it breaks. The chain shows tampering; it does not prevent it.
 *
 * Functions work inside a transaction owned by the caller. Single-threaded. */
#ifndef REFNET_AUDIT_H
#define REFNET_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "records.pb-c.h"
#include "store.h"

#define AUDIT_HASH_LEN  32
#define AUDIT_ACTOR_LEN 64
/* The actor of entries the daemon makes on its own (received data). */
#define AUDIT_ACTOR_NODE "node"

/* How the chain is broken at the first bad entry. */
typedef enum {
    AUDIT_OK = 0,
    AUDIT_ALTERED,   /* the entry does not match its hash, or does not decode */
    AUDIT_REMOVED,   /* an entry is missing */
    AUDIT_REORDERED, /* an entry sits under another entry's seq */
    AUDIT_BROKEN,    /* prev_hash does not match the entry before: that one was replaced */
} audit_fault_t;

/* The result of audit_verify. */
typedef struct {
    uint64_t entries;    /* entries stored */
    audit_fault_t fault; /* AUDIT_OK when the whole chain verifies */
    uint64_t first_bad;  /* seq of the first bad entry (0 when none) */
} audit_check_t;

/* Appends `e` as the next entry: sets e->seq, e->prev_hash and e->hash (the hash buffers
 * point into e's own storage until the call returns; e is not kept). The caller sets the
 * other fields. Returns 0 or a store error. */
int audit_append(MDB_txn *txn, const store_t *st, Refnet__AuditEntry *e);
/* Walks the whole chain from seq 1 and fills *out. Returns 0 (whatever the chain holds) or a
 * store error. */
int audit_verify(MDB_txn *txn, const store_t *st, audit_check_t *out);
/* Calls `visit` with every entry that decodes, in seq order; stops at the first non-zero
 * return and returns it. */
int audit_each(MDB_txn *txn,
               const store_t *st,
               int (*visit)(void *ctx, const Refnet__AuditEntry *e),
               void *ctx);
/* Writes the name of the acting local user (the process's login or user name) into `out`,
 * or AUDIT_ACTOR_NODE when there is none. */
void audit_actor(char out[AUDIT_ACTOR_LEN]);
/* Short names: "consent-granted", "consent-revoked", "consent-expired", "disclosure-sent",
 * "data-received", "revocation-sent", "revocation-acknowledged", "data-restricted";
 * "altered", "removed", ... Never NULL. */
const char *audit_event_name(Refnet__AuditEvent ev);
const char *audit_fault_name(audit_fault_t f);

#endif
