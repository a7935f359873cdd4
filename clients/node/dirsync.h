/* dirsync: the node's side of snapshot replication and of the directory digest.
 *
 * Snapshots (refnet.proto, DirSnapshotBegin): each DirSnapshotChunk lists the broker's live
 * services with ids in (after, last listed id]; the node applies them through replica_apply
 * and then withdraws, at the snapshot's seq S, every live service it holds in that range that
 * the chunk does not list and whose seq is at most S: those are services whose withdrawal the
 * broker no longer remembers. DirSnapshotEnd does the same for the ids above its `after` and
 * raises the head to S. Chunks stand alone, so nothing is kept between them; each chunk's
 * work is bounded by the chunk plus the stale services in its range.
 *
 * Digest (proto/dirdigest.h): meta "dir_digest" holds the digest of the live replica, kept
 * up to date by dirsync_track, which replica_apply calls before it stores an update (and
 * computed once from "services" when missing). The broker's latest DirDigest is kept in meta
 * "dir_broker_digest" (seq, then the stored digest) for `refnet directory verify`.
 *
 * All functions work inside a transaction owned by the caller; a non-zero return means the
 * caller aborts it. Single-threaded. */
#ifndef REFNET_DIRSYNC_H
#define REFNET_DIRSYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dirdigest.h"
#include "inbound.h"
#include "refnet.pb-c.h"
#include "store.h"

/* Accounts update `up` in the replica's digest: removes the stored record's share and adds
 * the update's, unless the stored record is as new or newer (then replica_apply ignores the
 * update too). Returns 0 or a store error. */
int dirsync_track(MDB_txn *txn, const store_t *st, const Refnet__DirUpdate *up);
/* Reads the replica's digest (computing it once if missing). Returns 0 or a store error. */
int dirsync_digest(MDB_txn *txn, const store_t *st, dirdigest_t *out);

/* What a snapshot step did. */
typedef struct {
    size_t applied; /* services stored from the chunk (newer than the replica's) */
    size_t removed; /* stale services withdrawn */
} dirsync_stats_t;

/* Applies one chunk (already validated: ids ascending above chunk->after, no tombstones).
 * Returns 0 and adds to *stats, or a store error. */
int dirsync_chunk(MDB_txn *txn,
                  const store_t *st,
                  const Refnet__DirSnapshotChunk *chunk,
                  dirsync_stats_t *stats);
/* Ends a snapshot: withdraws stale services above end->after and raises the head to end->seq.
 * Returns 0 and adds to *stats, or a store error. */
int dirsync_end(MDB_txn *txn,
                const store_t *st,
                const Refnet__DirSnapshotEnd *end,
                dirsync_stats_t *stats);

/* The broker's latest digest as this node recorded it. */
typedef struct {
    uint64_t seq;
    dirdigest_t digest;
} dirsync_remote_t;

/* Records the broker's answer. Returns 0 or a store error. */
int dirsync_remote_put(MDB_txn *txn, const store_t *st, const Refnet__DirDigest *dg);
/* Reads it. Returns 0, REFNET_ENOTFOUND (never asked), REFNET_EDECODE or a store error. */
int dirsync_remote_get(MDB_txn *txn, const store_t *st, dirsync_remote_t *out);

/* `refnet directory verify` (API.md "directory.verify"). The API call queues a
 * DirDigestRequest in the outbox and waits, as a pending request whose subject is
 * DIRSYNC_VERIFY_SUBJECT (not an identifier, so no service id can collide with it), for the
 * broker's Result; the DirDigest before it has been recorded by then. When the node's head is
 * not the broker's seq (the node is catching up, or changes arrived meanwhile) the node asks
 * again, until the request's deadline. */
#define DIRSYNC_VERIFY_SUBJECT "#directory.verify"

/* Queues a DirDigestRequest in `txn`; writes its msg_id. Returns 0 or an outbox error. */
int dirsync_verify_request(MDB_txn *txn, const store_t *st, uint64_t now, uint8_t msg_id[16]);
/* The same in its own write transaction (for the node loop). */
int dirsync_verify_again(store_t *st, uint64_t now, uint8_t msg_id[16]);
/* True when a pending request's subject is a verify. */
bool dirsync_is_verify(const char *subject);
/* Builds the API answer (one JSON document, caller frees; *len set) to a verify whose broker
 * request was `answered` with `status`. The replica's side is recomputed from its stored
 * services (one scan), so a record changed outside replica_apply is caught too. Sets *again (and returns NULL) when the node should
 * ask once more: its head differs from the broker's seq and `final` is false. */
char *dirsync_verify_answer(
    store_t *st, bool answered, Refnet__Status status, bool final, bool *again, size_t *len);

/* Inbound handlers (inbound.h's table): snapshot begin (logged), chunk, end, and DirDigest
 * (recorded; a head above the node's starts a catch-up). Storage errors set b->failed. */
void dirsync_on_begin(inbound_batch_t *b, const Refnet__Envelope *env);
void dirsync_on_chunk(inbound_batch_t *b, const Refnet__Envelope *env);
void dirsync_on_end(inbound_batch_t *b, const Refnet__Envelope *env);
void dirsync_on_digest(inbound_batch_t *b, const Refnet__Envelope *env);

#endif
