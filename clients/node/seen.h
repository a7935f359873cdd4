/* seen: the ids of messages this node has applied (db "seen", msg_id -> u64 BE time).
 *
 * The broker delivers at least once; the node applies each message exactly once by recording
 * its msg_id in the same transaction that applies it, and dropping (but still acknowledging)
 * any message whose id is already here. Ids are kept NODE_SEEN_RETENTION_MS, longer than the
 * broker may redeliver. All functions work inside a transaction owned by the caller.
 * Single-threaded. */
#ifndef REFNET_SEEN_H
#define REFNET_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Returns 1 when `msg_id` is recorded, 0 when not, or a store error. */
int seen_has(MDB_txn *txn, const store_t *st, const uint8_t *msg_id, size_t len);
/* Records `msg_id` as applied at `now` (wall-clock ms). Returns 0 or a store error. */
int seen_add(MDB_txn *txn, const store_t *st, const uint8_t *msg_id, size_t len, uint64_t now);
/* Deletes up to `max` ids recorded before `before`. Writes how many into *removed (may be
 * NULL). Returns 0 or a store error. */
int seen_prune(MDB_txn *txn, const store_t *st, uint64_t before, size_t max, size_t *removed);

#endif
