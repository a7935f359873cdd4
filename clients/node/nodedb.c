/* nodedb: the node's LMDB environment and the list of its databases (see nodedb.h). */
#include "nodedb.h"

static const char *const nodedb_names[NODEDB_COUNT] = {
    [NODEDB_META] = "meta",
    [NODEDB_SERVICES] = "services",
    [NODEDB_PERSONS] = "persons",
    [NODEDB_CONSENTS] = "consents",
    [NODEDB_HANDOFFS] = "handoffs",
    [NODEDB_OUTBOX] = "outbox",
    [NODEDB_OUTBOX_IDS] = "outbox_ids",
    [NODEDB_SEEN] = "seen",
    [NODEDB_HSDS] = "hsds",
    [NODEDB_AGENCY_KEYS] = "agency_keys",
    [NODEDB_AUDIT] = "audit",
    [NODEDB_DIRINDEX] = "dirindex",
};

int
nodedb_open(store_t **out, const char *path, size_t map_size)
{
    return store_open(out, path, map_size, nodedb_names, NODEDB_COUNT);
}

int
nodedb_count(MDB_txn *txn, const store_t *st, size_t index, size_t *out)
{
    MDB_stat stat;
    int rc = mdb_stat(txn, store_db(st, index), &stat);
    if (rc != 0)
        return store_err(rc);
    *out = stat.ms_entries;
    return 0;
}
