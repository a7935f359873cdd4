/* persons: the people a peer supporter works with (see persons.h). */
#include "persons.h"

#include <string.h>

#include "nodedb.h"
#include "refnet_error.h"

/* A person record is a handful of bounded strings: 8 KiB is far above its largest form. */
#define PERSONS_MAX_RECORD (8 * 1024)

int
persons_add(MDB_txn *txn,
            const store_t *st,
            const Refnet__PersonRecord *rec,
            uint64_t now,
            char id_out[UID_STR_LEN])
{
    Refnet__PersonRecord copy = *rec;
    char id[UID_STR_LEN];
    uid_new(id);
    copy.id = id;
    copy.created_at_ms = now;
    int rc = store_put_msg(txn, store_db(st, NODEDB_PERSONS), id, strlen(id), &copy.base);
    if (rc == 0)
        memcpy(id_out, id, UID_STR_LEN);
    return rc;
}

int
persons_get(MDB_txn *txn, const store_t *st, const char *id, pbuf_t **out)
{
    return store_get_msg(txn, store_db(st, NODEDB_PERSONS), id, strlen(id),
                         &refnet__person_record__descriptor, out);
}

int
persons_each(MDB_txn *txn,
             const store_t *st,
             size_t max,
             int (*visit)(void *ctx, const Refnet__PersonRecord *p),
             void *ctx)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    size_t seen = 0;
    int rc = mdb_cursor_open(txn, store_db(st, NODEDB_PERSONS), &cur);
    if (rc != 0)
        return store_err(rc);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && seen < max;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        pbuf_t *pb = NULL;
        if (pbuf_unpack(&pb, &refnet__person_record__descriptor, v.mv_data, v.mv_size,
                        PERSONS_MAX_RECORD) != 0)
            continue;
        int vrc = visit(ctx, (const Refnet__PersonRecord *)pbuf_msg(pb));
        pbuf_destroy(&pb);
        seen++;
        if (vrc != 0) {
            mdb_cursor_close(cur);
            return vrc;
        }
    }
    mdb_cursor_close(cur);
    return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : store_err(rc);
}
