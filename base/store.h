/* store: thin helpers over an LMDB environment, shared by the broker and the node.
 *
 * A store_t owns one LMDB environment in its own folder and a fixed list of named databases,
 * opened once at start-up. Commits are synced to disk (no MDB_NOSYNC): when store_commit()
 * returns 0 the data survives a crash. Stale reader slots left by a killed process are cleared
 * at open. LMDB error codes are translated here into REFNET_E* codes; MDB_MAP_FULL becomes
 * REFNET_EFULL ("storage full"). MDB_val contents never outlive their transaction.
 *
 * Threads: the environment is opened with MDB_NOTLS; a transaction belongs to the thread that
 * began it. The daemons use one thread. */
#ifndef REFNET_STORE_H
#define REFNET_STORE_H

#include <lmdb.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbuf.h"

typedef struct store store_t;

/* Opens (creating if needed, mode 0700) the environment in folder `path` with map size
 * `map_size` bytes and the `ndbs` named databases in `dbs` (created if missing). Index i in
 * `dbs` is the handle store_db(s, i). Returns 0 and sets *out (caller owns; store_destroy), or
 * REFNET_ESTORAGE / REFNET_EIO / -errno. */
int
store_open(store_t **out, const char *path, size_t map_size, const char *const *dbs, size_t ndbs);
/* Closes the environment. Accepts NULL and *self_p == NULL; nulls *self_p. */
void store_destroy(store_t **self_p);
/* Returns the handle of database number `index` given to store_open. */
MDB_dbi store_db(const store_t *self, size_t index);
/* Returns the LMDB environment (borrowed). */
MDB_env *store_env(const store_t *self);

/* Begins a transaction. Returns 0 and sets *out, or a REFNET_E* code. */
int store_begin(store_t *self, bool read_only, MDB_txn **out);
/* Commits and ends *txn (always ends it, nulls *txn). Returns 0, REFNET_EFULL or
 * REFNET_ESTORAGE. A NULL *txn is an error (REFNET_EINVAL). */
int store_commit(MDB_txn **txn);
/* Aborts and ends *txn; accepts NULL and *txn == NULL; nulls *txn. */
void store_abort(MDB_txn **txn);

/* Reads `key`; on success *out points into the map (valid until the transaction ends).
 * Returns 0, REFNET_ENOTFOUND or REFNET_ESTORAGE. */
int store_get(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen, MDB_val *out);
/* Writes `key` = `val` with LMDB `flags` (0 or MDB_NOOVERWRITE). Returns 0, REFNET_EEXIST
 * (MDB_NOOVERWRITE and present), REFNET_EFULL, REFNET_ETOOLARGE (key too long) or
 * REFNET_ESTORAGE. */
int store_put(MDB_txn *txn,
              MDB_dbi db,
              const void *key,
              size_t klen,
              const void *val,
              size_t vlen,
              unsigned flags);
/* Deletes `key`. Returns 0, REFNET_ENOTFOUND or REFNET_ESTORAGE. */
int store_del(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen);
/* Writes a protobuf message as the value of `key` (packed straight into the map). Same
 * returns as store_put. */
int
store_put_msg(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen, const ProtobufCMessage *msg);
/* Reads and decodes the value of `key` as message type `desc` with the bounded decoder.
 * Returns 0 and sets *out (caller owns; pbuf_destroy), REFNET_ENOTFOUND, REFNET_EDECODE or
 * REFNET_ESTORAGE. The decoded message does not point into the map. */
int store_get_msg(MDB_txn *txn,
                  MDB_dbi db,
                  const void *key,
                  size_t klen,
                  const ProtobufCMessageDescriptor *desc,
                  pbuf_t **out);

/* Reads a NUL-free string value into a new heap string (caller frees). Same returns as
 * store_get. */
int store_get_str(MDB_txn *txn, MDB_dbi db, const char *key, char **out);
/* Writes a string value under a string key. */
int store_put_str(MDB_txn *txn, MDB_dbi db, const char *key, const char *value);
/* Reads an unsigned 64-bit counter stored under `key`; a missing key reads as 0. */
int store_get_u64(MDB_txn *txn, MDB_dbi db, const char *key, uint64_t *out);
/* Writes an unsigned 64-bit counter under `key`. */
int store_put_u64(MDB_txn *txn, MDB_dbi db, const char *key, uint64_t value);

/* Big-endian encoding of a u64, so that LMDB's byte order sorts keys numerically. */
void store_u64_key(uint8_t out[8], uint64_t value);
uint64_t store_key_u64(const void *key8);

/* Translates an LMDB return code into 0 or a REFNET_E* code. */
int store_err(int mdb_rc);

#endif
