/* nodedb: the node's LMDB environment and the list of its databases.
 *
 * Every node module reads and writes through a store_t opened here, inside a transaction its
 * caller owns: the modules never begin or commit themselves, so one request or one batch of
 * broker frames is always one atomic commit. Databases:
 *   meta        "agency", "name", "broker", "broker_key" (strings), "dir_seq",
 *               "outbox_seq" (u64)
 *   services    service id -> DirRecord (directory replica, tombstones included)
 *   persons     person id -> PersonRecord
 *   consents    consent id -> ConsentRecord
 *   handoffs    handoff id -> HandoffRecord
 *   outbox      u64 big-endian -> OutboxItem
 *   outbox_ids  msg_id (16 bytes) -> u64 big-endian outbox key
 *   seen        msg_id (16 bytes) -> u64 big-endian time it was applied
 *   hsds        "TABLE/ID" -> the agency's own HSDS record as compact JSON (hsds.h)
 *   agency_keys agency id -> its 32-byte sealing key, verified (peerkeys.h); meta also holds
 *               "broker_sign_key" (32 bytes)
 *   audit       u64 big-endian seq -> AuditEntry, a hash chain (audit.h)
 *   dirindex    search index over "services": postings, facets, counters (dirindex.h)
 * Single-threaded, like the store. */
#ifndef REFNET_NODEDB_H
#define REFNET_NODEDB_H

#include <stddef.h>

#include "store.h"

enum {
    NODEDB_META = 0,
    NODEDB_SERVICES,
    NODEDB_PERSONS,
    NODEDB_CONSENTS,
    NODEDB_HANDOFFS,
    NODEDB_OUTBOX,
    NODEDB_OUTBOX_IDS,
    NODEDB_SEEN,
    NODEDB_HSDS,
    NODEDB_AGENCY_KEYS,
    NODEDB_AUDIT,
    NODEDB_DIRINDEX,
    NODEDB_COUNT
};

/* Opens the environment in folder `path` (created with mode 0700 if needed) with a map of
 * `map_size` bytes. Returns 0 and sets *out (caller owns; store_destroy) or a REFNET_E* code. */
int nodedb_open(store_t **out, const char *path, size_t map_size);

/* Number of entries in database `index`. Returns 0 or a REFNET_E* code. */
int nodedb_count(MDB_txn *txn, const store_t *st, size_t index, size_t *out);

#endif
