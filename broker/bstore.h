/* bstore: the broker's LMDB layout, in one place.
 *
 * The broker keeps all its state in one LMDB environment in DATA/db. This module names its
 * databases (the index of each is the handle for store_db) and opens the environment; the
 * modules that own each database document its keys and values. `refnet-broker enroll` opens
 * the same environment from another process while the broker runs, which LMDB supports.
 *
 *   meta      string key -> value: "bind" (endpoint), "dir_seq" (u64), "enroll_gen" (u64)
 *   agencies  agency id -> AgencyRecord                          (agencies.h)
 *   keys      Z85 public key -> agency id                        (agencies.h)
 *   services  service id -> DirRecord                            (dirhub.h)
 *   dirlog    u64 BE seq -> service id, latest change only       (dirhub.h)
 *   queue     agency id, NUL, u64 BE seq -> QueuedMail           (mailbox.h)
 *   qstate    agency id -> next seq and depth of its mailbox     (mailbox.h)
 *   msgids    msg_id -> state of that message                    (mailbox.h)
 *   expiry    u64 BE time, msg_id -> 1 byte: what to expire when (mailbox.h)
 *   dead      msg_id -> QueuedMail that expired undelivered      (mailbox.h)
 *   handoffs  handoff id -> HandoffMeta                          (flow.h)
 *
 * Stateless; the returned store_t belongs to the caller. */
#ifndef REFNET_BSTORE_H
#define REFNET_BSTORE_H

#include <stddef.h>

#include "store.h"

typedef enum {
    BSTORE_META = 0,
    BSTORE_AGENCIES,
    BSTORE_KEYS,
    BSTORE_SERVICES,
    BSTORE_DIRLOG,
    BSTORE_QUEUE,
    BSTORE_QSTATE,
    BSTORE_MSGIDS,
    BSTORE_EXPIRY,
    BSTORE_DEAD,
    BSTORE_HANDOFFS,
    BSTORE_NDBS
} bstore_db_t;

/* Meta keys. */
#define BSTORE_META_BIND       "bind"
#define BSTORE_META_DIR_SEQ    "dir_seq"
#define BSTORE_META_ENROLL_GEN "enroll_gen"

/* Opens (creating if needed) the environment in DATA_DIR/db with a map of `map_size_mb` MiB.
 * Returns 0 and sets *out (caller owns; store_destroy), REFNET_ETOOLARGE when the path is too
 * long, or a code from store_open. */
int bstore_open(store_t **out, const char *data_dir, size_t map_size_mb);

/* The handle of database `db` in a store opened by bstore_open. */
MDB_dbi bstore_db(const store_t *store, bstore_db_t db);

#endif
