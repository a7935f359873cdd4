/* test_broker_fixture: shared set-up for the broker's unit tests.
 *
 * Each test gets its own mkdtemp() folder under /tmp, a broker store in it (small map), and
 * helpers that enrol agencies with fresh CURVE keys and build valid protocol messages. Header
 * only (static functions), included by one test file per executable. */
#ifndef REFNET_TEST_BROKER_FIXTURE_H
#define REFNET_TEST_BROKER_FIXTURE_H

#define _XOPEN_SOURCE 700
#include <czmq.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agencies.h"
#include "bstore.h"
#include "clock.h"
#include "store.h"
#include "uid.h"
#include "wire.h"
#include "xmalloc.h"

/* Map size of test stores: enough for every test, small enough to fill on purpose. */
#define FX_MAP_MB 16

typedef struct {
    char dir[64];
    store_t *store;
} fx_t;

static int
fx_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void
fx_rmrf(const char *dir)
{
    nftw(dir, fx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Makes a temporary folder and opens a broker store in it. Returns NULL on failure. */
static inline fx_t *
fx_new(void)
{
    fx_t *fx = xcalloc(1, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/refnet-broker-test-XXXXXX");
    if (!mkdtemp(fx->dir) || bstore_open(&fx->store, fx->dir, FX_MAP_MB) != 0) {
        free(fx);
        return NULL;
    }
    return fx;
}

static inline void
fx_destroy(fx_t **fx_p)
{
    fx_t *fx = *fx_p;
    if (!fx)
        return;
    store_destroy(&fx->store);
    fx_rmrf(fx->dir);
    free(fx);
    *fx_p = NULL;
}

/* Writes a fresh public key into `key` (KEYS_Z85_LEN bytes). */
static inline void
fx_new_key(char *key)
{
    zcert_t *cert = zcert_new();
    snprintf(key, KEYS_Z85_LEN, "%s", zcert_public_txt(cert));
    zcert_destroy(&cert);
}

/* Enrols `id` with a fresh key in its own committed transaction; returns agencies_enroll's
 * code. The key is written into `key_out` when not NULL. */
static inline int
fx_enroll(store_t *store, const char *id, char *key_out)
{
    char key[KEYS_Z85_LEN];
    MDB_txn *txn = NULL;
    fx_new_key(key);
    int rc = store_begin(store, false, &txn);
    if (!rc)
        rc = agencies_enroll(store, txn, id, NULL, key, clock_now_ms(), NULL);
    if (!rc)
        rc = store_commit(&txn);
    store_abort(&txn);
    if (key_out)
        snprintf(key_out, KEYS_Z85_LEN, "%s", key);
    return rc;
}

/* A valid service `id` (strings are static; taxonomy points into `tax`). */
static inline Refnet__Service
fx_service(const char *id, const char *name, char **tax)
{
    Refnet__Service svc = REFNET__SERVICE__INIT;
    svc.id = (char *)id;
    svc.name = (char *)name;
    svc.n_taxonomy = 1;
    svc.taxonomy = tax;
    return svc;
}

#endif
