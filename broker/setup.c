/* setup: the init and enroll commands as functions (see setup.h). */
#include "setup.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agencies.h"
#include "broker_limits.h"
#include "bstore.h"
#include "clock.h"
#include "log.h"
#include "path.h"
#include "refnet_error.h"
#include "wire.h"

static void
setup_why(char *why, const char *sentence)
{
    if (why)
        snprintf(why, WIRE_WHY_LEN, "%s", sentence);
}

bool
setup_endpoint_valid(const char *endpoint)
{
    size_t len = strnlen(endpoint, BROKER_MAX_ENDPOINT);
    if (len == BROKER_MAX_ENDPOINT || len <= 6)
        return false;
    if (strncmp(endpoint, "tcp://", 6) != 0 && strncmp(endpoint, "ipc://", 6) != 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)endpoint[i];
        if (c <= ' ' || c >= 0x7f)
            return false;
    }
    return true;
}

static int
setup_store_bind(const char *dir, const char *bind, size_t map_size_mb)
{
    store_t *store = NULL;
    MDB_txn *txn = NULL;
    int rc = bstore_open(&store, dir, map_size_mb);
    if (!rc)
        rc = store_begin(store, false, &txn);
    if (!rc)
        rc = store_put_str(txn, bstore_db(store, BSTORE_META), BSTORE_META_BIND, bind);
    if (!rc)
        rc = store_commit(&txn);
    store_abort(&txn);
    store_destroy(&store);
    return rc;
}

int
setup_init(
    const char *dir, const char *bind, size_t map_size_mb, char broker_key[KEYS_Z85_LEN], char *why)
{
    char path[PATH_MAX_LEN], admin_key[KEYS_Z85_LEN];
    bind = bind ? bind : BROKER_DEFAULT_BIND;
    if (!setup_endpoint_valid(bind)) {
        setup_why(why, "the bind endpoint must look like tcp://HOST:PORT or ipc://PATH");
        return REFNET_EINVAL;
    }
    int rc = path_mkdir(dir, 0700);
    if (!rc)
        rc = path_join(path, sizeof path, dir, "db");
    if (!rc && path_exists(path))
        rc = REFNET_EEXIST;
    if (!rc)
        rc = keys_create(dir, SETUP_BROKER_KEY, broker_key);
    if (!rc)
        rc = keys_create(dir, SETUP_ADMIN_KEY, admin_key);
    if (rc == REFNET_EEXIST) {
        setup_why(why, "the folder already holds a broker; refusing to overwrite it");
        return rc;
    }
    if (!rc)
        rc = path_join(path, sizeof path, dir, SETUP_CERTS_DIR);
    if (!rc)
        rc = path_mkdir(path, 0755);
    if (!rc)
        rc = keys_write_public(path, SETUP_ADMIN_KEY ".cert", admin_key, SETUP_ADMIN_KEY);
    if (!rc)
        rc = setup_store_bind(dir, bind, map_size_mb);
    if (!rc) {
        uint8_t pk[SEAL_KEY_LEN], sk[SEAL_SIGN_SECRET_LEN];
        rc = setup_sign_key(dir, pk, sk);
        sodium_memzero(sk, sizeof sk);
    }
    if (rc)
        setup_why(why, refnet_strerror(rc));
    return rc;
}

int
setup_sign_key(const char *dir, uint8_t pk[SEAL_KEY_LEN], uint8_t sk[SEAL_SIGN_SECRET_LEN])
{
    char path[PATH_MAX_LEN];
    int rc = path_join(path, sizeof path, dir, SETUP_SIGN_KEY);
    if (rc)
        return rc;
    rc = seal_sign_load(path, pk, sk);
    if (rc == REFNET_ENOTFOUND) {
        rc = seal_sign_create(path, pk);
        if (!rc)
            rc = seal_sign_load(path, pk, sk);
        if (!rc)
            log_info("created the broker's signing key %s", path);
    }
    return rc;
}

/* The broker's and the admin's keys must never double as an agency's. */
static int
setup_check_own_keys(const char *dir, const char *key, char *why)
{
    char own[KEYS_Z85_LEN];
    const char *names[] = { SETUP_BROKER_KEY, SETUP_ADMIN_KEY };
    for (size_t i = 0; i < 2; i++) {
        int rc = keys_load_public(dir, names[i], own);
        if (rc) {
            setup_why(why, "the folder is not a broker folder (run refnet-broker init)");
            return REFNET_ENOTFOUND;
        }
        if (strcmp(own, key) == 0) {
            setup_why(why, "that key is the broker's or the admin's own key");
            return REFNET_EINVAL;
        }
    }
    return 0;
}

int
setup_enroll(const char *dir,
             const char *id,
             const char *name,
             const char *key,
             size_t map_size_mb,
             char *why)
{
    store_t *store = NULL;
    MDB_txn *txn = NULL;
    char certs[PATH_MAX_LEN], file[WIRE_MAX_IDENT + 8];
    int rc = setup_check_own_keys(dir, key, why);
    if (rc)
        return rc;
    rc = bstore_open(&store, dir, map_size_mb);
    if (!rc)
        rc = store_begin(store, false, &txn);
    if (!rc)
        rc = agencies_enroll(store, txn, id, name, key, clock_now_ms(), why);
    if (!rc)
        rc = store_commit(&txn);
    store_abort(&txn);
    store_destroy(&store);
    /* LMDB is the truth; the certificate is written now so zauth accepts the key at once,
     * and the running broker rewrites it from LMDB anyway. */
    if (!rc)
        rc = path_join(certs, sizeof certs, dir, SETUP_CERTS_DIR);
    if (!rc) {
        snprintf(file, sizeof file, "%s.cert", id);
        rc = keys_write_public(certs, file, key, id);
        if (rc)
            setup_why(why, "the enrolment is stored but its certificate could not be written");
    }
    return rc;
}

/* The certificate goes at once, so zauth refuses the key even before a broker reloads. */
static void
setup_remove_cert(const char *dir, const char *id)
{
    char certs[PATH_MAX_LEN], path[PATH_MAX_LEN], file[WIRE_MAX_IDENT + 8];
    snprintf(file, sizeof file, "%s.cert", id);
    if (path_join(certs, sizeof certs, dir, SETUP_CERTS_DIR) == 0 &&
        path_join(path, sizeof path, certs, file) == 0)
        unlink(path);
}

int
setup_revoke(const char *dir, const char *id, size_t map_size_mb, bool *already, char *why)
{
    store_t *store = NULL;
    MDB_txn *txn = NULL;
    uint8_t sign_pk[SEAL_KEY_LEN], sign_sk[SEAL_SIGN_SECRET_LEN];
    char own[KEYS_Z85_LEN];
    int rc = keys_load_public(dir, SETUP_BROKER_KEY, own);
    if (rc) {
        setup_why(why, "the folder is not a broker folder (run refnet-broker init)");
        return REFNET_ENOTFOUND;
    }
    rc = setup_sign_key(dir, sign_pk, sign_sk);
    if (!rc)
        rc = bstore_open(&store, dir, map_size_mb);
    if (!rc)
        rc = store_begin(store, false, &txn);
    if (!rc)
        rc = agencies_revoke(store, txn, id, clock_now_ms(), sign_sk, already, why);
    if (!rc)
        rc = store_commit(&txn);
    store_abort(&txn);
    store_destroy(&store);
    sodium_memzero(sign_sk, sizeof sign_sk);
    if (!rc)
        setup_remove_cert(dir, id);
    return rc;
}
