/* outbox: the node's durable queue of messages for the broker (db "outbox").
 *
 * Every request that must reach the broker (handoff mail, directory changes) is written here
 * in the same transaction as the local change it belongs to, so a committed change is never
 * lost and never half-sent. The link (link.h) sends items in key order and removes each one
 * when the broker gives a final answer. Keys are u64 big-endian, increasing and never reused
 * (meta "outbox_seq" holds the last one given); a second db
 * "outbox_ids" maps each item's msg_id to its key so an answer finds its item directly.
 *
 * All functions work inside a transaction owned by the caller; returned pbuf_t are the
 * caller's (pbuf_destroy) and hold a decoded Refnet__OutboxItem. Single-threaded. */
#ifndef REFNET_OUTBOX_H
#define REFNET_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "records.pb-c.h"
#include "store.h"
#include "uid.h"

/* Stamps `env` (wire_stamp: version, new msg_id, sent_at), encodes it and appends it as a new
 * item. `env` must have its body set; `handoff_id` may be NULL. On success writes the new
 * msg_id into `msg_id_out` and the key into *key_out (either may be NULL). Returns 0,
 * REFNET_EQUEUEFULL (NODE_OUTBOX_MAX items waiting), REFNET_ETOOLARGE (encoding over the
 * frame limit), REFNET_EFULL or REFNET_ESTORAGE. */
int outbox_add(MDB_txn *txn,
               const store_t *st,
               Refnet__Envelope *env,
               const char *handoff_id,
               uint64_t now,
               uint8_t msg_id_out[UID_MSGID_LEN],
               uint64_t *key_out);
/* Reads item `key`. Returns 0 and *out, REFNET_ENOTFOUND, REFNET_EDECODE or REFNET_ESTORAGE. */
int outbox_get(MDB_txn *txn, const store_t *st, uint64_t key, pbuf_t **out);
/* Finds the key of the item with this msg_id. Returns 0, REFNET_ENOTFOUND or a store error. */
int
outbox_find(MDB_txn *txn, const store_t *st, const uint8_t *msg_id, size_t len, uint64_t *key_out);
/* Removes item `key` and its msg_id index entry. Returns 0, REFNET_ENOTFOUND or a store
 * error. */
int outbox_remove(MDB_txn *txn, const store_t *st, uint64_t key);
/* Reads the first item whose key is greater than `after`. Returns 0 with *key_out and *out
 * set, REFNET_ENOTFOUND when there is none, or a store error. */
int outbox_next(MDB_txn *txn, const store_t *st, uint64_t after, uint64_t *key_out, pbuf_t **out);
/* Number of items waiting. */
int outbox_count(MDB_txn *txn, const store_t *st, size_t *out);

#endif
