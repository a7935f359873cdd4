/* store: LMDB environment, named databases and typed helpers (see store.h). */
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "path.h"
#include "refnet_error.h"
#include "xmalloc.h"

/* Named databases a store may hold; both daemons use about ten. */
#define STORE_MAX_DBS 32

struct store {
    MDB_env *env;
    MDB_dbi dbs[STORE_MAX_DBS];
    size_t ndbs;
};

int
store_err(int mdb_rc)
{
    switch (mdb_rc) {
    case MDB_SUCCESS:
        return 0;
    case MDB_NOTFOUND:
        return REFNET_ENOTFOUND;
    case MDB_KEYEXIST:
        return REFNET_EEXIST;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
        return REFNET_EFULL;
    case MDB_BAD_VALSIZE:
        return REFNET_ETOOLARGE;
    default:
        return REFNET_ESTORAGE;
    }
}

static int
store_open_dbs(store_t *self, const char *const *dbs, size_t ndbs)
{
    MDB_txn *txn = NULL;
    int rc = store_err(mdb_txn_begin(self->env, NULL, 0, &txn));
    if (rc)
        return rc;
    for (size_t i = 0; i < ndbs; i++) {
        int mrc = mdb_dbi_open(txn, dbs[i], MDB_CREATE, &self->dbs[i]);
        if (mrc) {
            log_error("store: cannot open database %s: %s", dbs[i], mdb_strerror(mrc));
            mdb_txn_abort(txn);
            return store_err(mrc);
        }
    }
    self->ndbs = ndbs;
    return store_commit(&txn);
}

static int
store_open_env(store_t *self, const char *path, size_t map_size, size_t ndbs)
{
    int mrc = mdb_env_create(&self->env);
    if (!mrc)
        mrc = mdb_env_set_maxdbs(self->env, (MDB_dbi)ndbs);
    if (!mrc)
        mrc = mdb_env_set_mapsize(self->env, map_size);
    /* Synced commits: durability is the point. MDB_NOTLS lets read transactions be used by
     * the single loop thread without thread-local reader slots. */
    if (!mrc)
        mrc = mdb_env_open(self->env, path, MDB_NOTLS, 0600);
    if (mrc) {
        log_error("store: cannot open LMDB environment %s: %s", path, mdb_strerror(mrc));
        return store_err(mrc);
    }
    int dead = 0;
    mdb_reader_check(self->env, &dead);
    if (dead > 0)
        log_warn("store: cleared %d stale reader slot(s) in %s", dead, path);
    return 0;
}

int
store_open(store_t **out, const char *path, size_t map_size, const char *const *dbs, size_t ndbs)
{
    if (ndbs > STORE_MAX_DBS)
        return REFNET_EINVAL;
    store_t *self = xcalloc(1, sizeof *self);
    int rc = path_mkdir(path, 0700);
    if (rc)
        goto err;
    rc = store_open_env(self, path, map_size, ndbs);
    if (rc)
        goto err;
    rc = store_open_dbs(self, dbs, ndbs);
    if (rc)
        goto err;
    *out = self;
    return 0;
err:
    store_destroy(&self);
    return rc;
}

void
store_destroy(store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    store_t *self = *self_p;
    if (self->env)
        mdb_env_close(self->env);
    free(self);
    *self_p = NULL;
}

MDB_dbi
store_db(const store_t *self, size_t index)
{
    return index < self->ndbs ? self->dbs[index] : 0;
}

MDB_env *
store_env(const store_t *self)
{
    return self->env;
}

int
store_begin(store_t *self, bool read_only, MDB_txn **out)
{
    int mrc = mdb_txn_begin(self->env, NULL, read_only ? MDB_RDONLY : 0, out);
    if (mrc)
        log_error("store: cannot begin transaction: %s", mdb_strerror(mrc));
    return store_err(mrc);
}

int
store_commit(MDB_txn **txn)
{
    if (!txn || !*txn)
        return REFNET_EINVAL;
    int mrc = mdb_txn_commit(*txn);
    *txn = NULL;
    if (mrc)
        log_error("store: commit failed: %s", mdb_strerror(mrc));
    return store_err(mrc);
}

void
store_abort(MDB_txn **txn)
{
    if (!txn || !*txn)
        return;
    mdb_txn_abort(*txn);
    *txn = NULL;
}

int
store_get(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen, MDB_val *out)
{
    MDB_val k = { klen, (void *)key };
    return store_err(mdb_get(txn, db, &k, out));
}

int
store_put(MDB_txn *txn,
          MDB_dbi db,
          const void *key,
          size_t klen,
          const void *val,
          size_t vlen,
          unsigned flags)
{
    MDB_val k = { klen, (void *)key };
    MDB_val v = { vlen, (void *)val };
    return store_err(mdb_put(txn, db, &k, &v, flags));
}

int
store_del(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen)
{
    MDB_val k = { klen, (void *)key };
    return store_err(mdb_del(txn, db, &k, NULL));
}

int
store_put_msg(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen, const ProtobufCMessage *msg)
{
    MDB_val k = { klen, (void *)key };
    MDB_val v = { protobuf_c_message_get_packed_size(msg), NULL };
    /* MDB_RESERVE lets protobuf-c pack straight into the map page: no copy. */
    int rc = store_err(mdb_put(txn, db, &k, &v, MDB_RESERVE));
    if (rc)
        return rc;
    protobuf_c_message_pack(msg, v.mv_data);
    return 0;
}

int
store_get_msg(MDB_txn *txn,
              MDB_dbi db,
              const void *key,
              size_t klen,
              const ProtobufCMessageDescriptor *desc,
              pbuf_t **out)
{
    MDB_val v;
    int rc = store_get(txn, db, key, klen, &v);
    if (rc)
        return rc;
    /* A stored record is bounded only by LMDB; the budget still bounds what decoding makes. */
    rc = pbuf_unpack(out, desc, v.mv_data, v.mv_size, v.mv_size);
    return rc == REFNET_ETOOLARGE ? REFNET_EDECODE : rc;
}

int
store_get_str(MDB_txn *txn, MDB_dbi db, const char *key, char **out)
{
    MDB_val v;
    int rc = store_get(txn, db, key, strlen(key), &v);
    if (rc)
        return rc;
    if (memchr(v.mv_data, '\0', v.mv_size))
        return REFNET_EDECODE;
    *out = xstrndup(v.mv_data, v.mv_size);
    return 0;
}

int
store_put_str(MDB_txn *txn, MDB_dbi db, const char *key, const char *value)
{
    return store_put(txn, db, key, strlen(key), value, strlen(value), 0);
}

int
store_get_u64(MDB_txn *txn, MDB_dbi db, const char *key, uint64_t *out)
{
    MDB_val v;
    int rc = store_get(txn, db, key, strlen(key), &v);
    if (rc == REFNET_ENOTFOUND) {
        *out = 0;
        return 0;
    }
    if (rc)
        return rc;
    if (v.mv_size != 8)
        return REFNET_EDECODE;
    *out = store_key_u64(v.mv_data);
    return 0;
}

int
store_put_u64(MDB_txn *txn, MDB_dbi db, const char *key, uint64_t value)
{
    uint8_t buf[8];
    store_u64_key(buf, value);
    return store_put(txn, db, key, strlen(key), buf, sizeof buf, 0);
}

void
store_u64_key(uint8_t out[8], uint64_t value)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(value & 0xff);
        value >>= 8;
    }
}

uint64_t
store_key_u64(const void *key8)
{
    const uint8_t *p = key8;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}
