/* seen: the ids of messages this node has applied (see seen.h). */
#include "seen.h"

#include "nodedb.h"
#include "refnet_error.h"

int
seen_has(MDB_txn *txn, const store_t *st, const uint8_t *msg_id, size_t len)
{
    MDB_val v;
    int rc = store_get(txn, store_db(st, NODEDB_SEEN), msg_id, len, &v);
    if (rc == REFNET_ENOTFOUND)
        return 0;
    return rc == 0 ? 1 : rc;
}

int
seen_add(MDB_txn *txn, const store_t *st, const uint8_t *msg_id, size_t len, uint64_t now)
{
    uint8_t when[8];
    store_u64_key(when, now);
    return store_put(txn, store_db(st, NODEDB_SEEN), msg_id, len, when, sizeof when, 0);
}

int
seen_prune(MDB_txn *txn, const store_t *st, uint64_t before, size_t max, size_t *removed)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    size_t n = 0;
    int rc = mdb_cursor_open(txn, store_db(st, NODEDB_SEEN), &cur);
    if (rc != 0)
        return store_err(rc);
    /* Ids are random, so old ones are spread over the whole db: walk it all, deleting at
     * most `max` per call to keep one loop iteration short. */
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && n < max;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (v.mv_size == 8 && store_key_u64(v.mv_data) >= before)
            continue;
        rc = mdb_cursor_del(cur, 0);
        if (rc != 0)
            break;
        n++;
    }
    mdb_cursor_close(cur);
    if (removed)
        *removed = n;
    return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : store_err(rc);
}
