/* persons: the people a peer supporter works with (db "persons", key = person id).
 *
 * A person record stays in this node's LMDB only: it is never replicated and never sent,
 * except for the consented parts of it that a handoff carries. All functions work inside a
 * transaction owned by the caller; returned pbuf_t are the caller's and hold a decoded
 * Refnet__PersonRecord. Single-threaded. */
#ifndef REFNET_PERSONS_H
#define REFNET_PERSONS_H

#include <stddef.h>
#include <stdint.h>

#include "records.pb-c.h"
#include "store.h"
#include "uid.h"

/* Adds a person. `rec->id` is ignored: a new UUID is made and written into `id_out`, and
 * created_at_ms is set to `now`. The caller validated the fields. Returns 0 or a store
 * error. */
int persons_add(MDB_txn *txn,
                const store_t *st,
                const Refnet__PersonRecord *rec,
                uint64_t now,
                char id_out[UID_STR_LEN]);
/* Reads person `id`. Returns 0 and *out, REFNET_ENOTFOUND, REFNET_EDECODE or a store error. */
int persons_get(MDB_txn *txn, const store_t *st, const char *id, pbuf_t **out);
/* Calls `visit` with every person (record borrowed for the call) in id order, at most `max`
 * of them; stops at the first non-zero return and returns it. */
int persons_each(MDB_txn *txn,
                 const store_t *st,
                 size_t max,
                 int (*visit)(void *ctx, const Refnet__PersonRecord *p),
                 void *ctx);

#endif
