/* dirhub: the network directory at the broker, sequenced as in the Clone pattern.
 *
 * db "services" maps a service id to its latest DirRecord{seq, agency, withdrawn, service};
 * db "dirlog" maps each record's seq (u64 big-endian) to its service id, keeping only the
 * latest seq of each service (the old key is deleted when a service changes), so a catch-up
 * sends each changed service once. meta "dir_seq" is the head: the highest seq given out.
 *
 * A service belongs to the agency that first published it: publishing, changing the
 * availability of or withdrawing another agency's service is refused (REFNET_EFORBIDDEN),
 * also after it was withdrawn, until compaction forgets its tombstone (then the id is free). Withdrawal leaves a tombstone. Every accepted change gets the
 * next seq, gap-free.
 *
 * The digest (proto/dirdigest.h) of the live services is kept in meta "dir_digest", updated
 * with every change in the same transaction (and computed once from "services" when a store
 * written before it lacks the key), so DirDigest costs one read.
 *
 * Compaction: a tombstone older than the retention is forgotten (its "services" record and
 * its "dirlog" entry are deleted), and meta "dir_horizon" keeps the highest seq forgotten. A
 * catch-up from below the horizon could miss a withdrawal, so it is served as a snapshot of
 * the live services instead (refnet.proto, DirSnapshotBegin). Meta "dir_compact_after" keeps
 * how far the log was examined: every entry before it is a live service.
 *
 * Functions work inside the caller's transaction and keep no state; on a non-zero return the
 * caller aborts the transaction (or its child), since a write may have been made. `why`
 * receives a static sentence for refusals. */
#ifndef REFNET_DIRHUB_H
#define REFNET_DIRHUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dirdigest.h"
#include "refnet.pb-c.h"
#include "store.h"
#include "wire_limits.h"

/* Reads the head seq (0 for an empty directory). */
int dirhub_head(store_t *store, MDB_txn *txn, uint64_t *out);

/* Creates or replaces `agency`'s service `svc` (svc->agency is ignored and stored as
 * `agency`). Sets *seq. Returns 0, REFNET_EFORBIDDEN or a store error. */
int dirhub_publish(store_t *store,
                   MDB_txn *txn,
                   const char *agency,
                   const Refnet__Service *svc,
                   uint64_t now_ms,
                   uint64_t *seq,
                   const char **why);
/* Replaces the capacity and intake of `agency`'s service. Returns 0, REFNET_ENOTFOUND (no such
 * service, or withdrawn), REFNET_EFORBIDDEN or a store error. */
int dirhub_availability(store_t *store,
                        MDB_txn *txn,
                        const char *agency,
                        const Refnet__DirAvailability *av,
                        uint64_t now_ms,
                        uint64_t *seq,
                        const char **why);
/* Withdraws `agency`'s service. Withdrawing it again is accepted without a new change
 * (*changed false, *seq the tombstone's seq), so a resent request gets the same answer.
 * Returns 0, REFNET_ENOTFOUND, REFNET_EFORBIDDEN or a store error. */
int dirhub_withdraw(store_t *store,
                    MDB_txn *txn,
                    const char *agency,
                    const char *service_id,
                    uint64_t *seq,
                    bool *changed,
                    const char **why);

/* Finds the first dirlog seq above `after`. Returns 0, REFNET_ENOTFOUND at the end, or a store
 * error. */
int dirhub_next(store_t *store, MDB_txn *txn, uint64_t after, uint64_t *seq);
/* Encodes Envelope{update} for the service whose latest change is `seq`. Returns 0 and sets
 * *frame (caller frees), REFNET_ENOTFOUND when seq is not (or no longer) in the log, or an
 * error. */
int dirhub_update_frame(store_t *store, MDB_txn *txn, uint64_t seq, uint8_t **frame, size_t *len);

/* Reads the digest of the live directory (computing it once if the store has none). Returns 0
 * or a store / decode error. */
int dirhub_digest(store_t *store, MDB_txn *txn, dirdigest_t *out);
/* Reads the compaction horizon: the highest seq of a forgotten tombstone (0: none). */
int dirhub_horizon(store_t *store, MDB_txn *txn, uint64_t *out);

/* Forgets tombstones made before `cutoff_ms` (broker clock), examining at most `max_steps`
 * log entries from where the last call stopped; raises the horizon. Sets *removed. Returns 0
 * or a store error (the caller aborts). */
int
dirhub_compact(store_t *store, MDB_txn *txn, uint64_t cutoff_ms, size_t max_steps, size_t *removed);

/* Encodes Envelope{snapshot_begin} as of the current head, which it stores in *seq. Returns 0
 * and *frame (caller frees) or an error. */
int dirhub_snapshot_begin_frame(
    store_t *store, MDB_txn *txn, uint64_t *seq, uint8_t **frame, size_t *len);
/* Encodes the next Envelope{snapshot_chunk} of snapshot `seq`: the live services whose ids
 * follow `after` ("" = from the first), as many as fit in `max_frame` bytes and at most
 * `max_services` (0 or over WIRE_MAX_SNAPSHOT_UPDATES: that limit). Copies the last id listed
 * into `last`. Returns 0 and *frame (caller frees), REFNET_ENOTFOUND when no live service
 * follows `after`, or an error. */
int dirhub_snapshot_chunk(store_t *store,
                          MDB_txn *txn,
                          uint64_t seq,
                          const char *after,
                          size_t max_frame,
                          size_t max_services,
                          uint8_t **frame,
                          size_t *len,
                          char last[WIRE_MAX_IDENT + 1]);
/* Encodes Envelope{snapshot_end{seq, after}}. Returns 0 and *frame (caller frees) or an error. */
int dirhub_snapshot_end_frame(uint64_t seq, const char *after, uint8_t **frame, size_t *len);
/* Encodes Envelope{digest} answering request `ref`, and sets *head to the seq it describes.
 * Returns 0 and *frame (caller frees) or an error. */
int dirhub_digest_frame(store_t *store,
                        MDB_txn *txn,
                        const ProtobufCBinaryData *ref,
                        uint8_t **frame,
                        size_t *len,
                        uint64_t *head);

/* Looks up the owner of `service_id`: copies it into `owner` (WIRE_MAX_IDENT + 1 bytes) and
 * sets *withdrawn. Returns 0, REFNET_ENOTFOUND or a store error. */
int
dirhub_owner(store_t *store, MDB_txn *txn, const char *service_id, char *owner, bool *withdrawn);

#endif
