/* refnet-audittamper: alters one entry of a stopped node's audit log behind the node's back,
 * for the integration test of audit verification (audit_trail.sh).
 *
 *   refnet-audittamper NODE_DIR SEQ
 *
 * Reads entry SEQ from NODE_DIR/db, changes one byte of its stored encoding (the last byte
 * of its actor name, so the bytes still decode as an entry) and writes the bytes back with
 * the LMDB C API, as someone editing the file would. The node must not be running. Exit 0
 * ok, 1 error, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_limits.h"
#include "nodedb.h"
#include "refnet_error.h"
#include "store.h"
#include "xmalloc.h"

#define TAMPER_PATH_LEN 4096

/* Flips the case of the first ASCII letter found after the middle of the encoding. */
static int
tamper_bytes(uint8_t *buf, size_t len)
{
    for (size_t i = len / 2; i < len; i++) {
        if ((buf[i] >= 'a' && buf[i] <= 'z') || (buf[i] >= 'A' && buf[i] <= 'Z')) {
            buf[i] ^= 0x20;
            return 0;
        }
    }
    return REFNET_EINVAL;
}

static int
tamper(const char *dir, uint64_t seq)
{
    char path[TAMPER_PATH_LEN];
    store_t *st = NULL;
    MDB_txn *txn = NULL;
    uint8_t key[8], *copy = NULL;
    MDB_val v;
    snprintf(path, sizeof path, "%s/db", dir);
    int rc = nodedb_open(&st, path, (size_t)NODE_MAP_SIZE_DEFAULT_MB << 20);
    if (rc == 0)
        rc = store_begin(st, false, &txn);
    store_u64_key(key, seq);
    if (rc == 0)
        rc = store_get(txn, store_db(st, NODEDB_AUDIT), key, sizeof key, &v);
    if (rc == 0) {
        copy = xmalloc(v.mv_size);
        memcpy(copy, v.mv_data, v.mv_size);
        rc = tamper_bytes(copy, v.mv_size);
    }
    if (rc == 0) {
        MDB_val k = { sizeof key, key }, nv = { v.mv_size, copy };
        rc = store_err(mdb_put(txn, store_db(st, NODEDB_AUDIT), &k, &nv, 0));
    }
    if (rc == 0)
        rc = store_commit(&txn);
    store_abort(&txn);
    free(copy);
    store_destroy(&st);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: refnet-audittamper NODE_DIR SEQ\n");
        return 2;
    }
    char *end = NULL;
    unsigned long long seq = strtoull(argv[2], &end, 10);
    if (!end || *end || seq == 0) {
        fprintf(stderr, "refnet-audittamper: SEQ must be a positive number\n");
        return 2;
    }
    int rc = tamper(argv[1], seq);
    if (rc != 0) {
        fprintf(stderr, "refnet-audittamper: cannot alter entry %llu: %s\n", seq,
                refnet_strerror(rc));
        return 1;
    }
    printf("altered audit entry %llu\n", seq);
    return 0;
}
