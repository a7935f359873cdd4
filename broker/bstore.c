/* bstore: opens the broker's LMDB environment (see bstore.h). */
#include "bstore.h"

#include "path.h"

/* Same order as bstore_db_t. */
static const char *const bstore_names[BSTORE_NDBS] = {
    "meta",   "agencies", "keys",   "services", "dirlog",   "queue",
    "qstate", "msgids",   "expiry", "dead",     "handoffs",
};

int
bstore_open(store_t **out, const char *data_dir, size_t map_size_mb)
{
    char dbdir[PATH_MAX_LEN];
    int rc = path_join(dbdir, sizeof dbdir, data_dir, "db");
    if (rc)
        return rc;
    return store_open(out, dbdir, map_size_mb * 1024 * 1024, bstore_names, BSTORE_NDBS);
}

MDB_dbi
bstore_db(const store_t *store, bstore_db_t db)
{
    return store_db(store, (size_t)db);
}
