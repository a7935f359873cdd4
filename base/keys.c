/* keys: CURVE keypairs on disk through czmq's zcert (see keys.h). */
#include "keys.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "path.h"
#include "refnet_error.h"

static int
keys_cert_path(char *out, size_t outlen, const char *dir, const char *name)
{
    char file[256];
    int n = snprintf(file, sizeof file, "%s.cert", name);
    if (n < 0 || (size_t)n >= sizeof file)
        return REFNET_ETOOLARGE;
    return path_join(out, outlen, dir, file);
}

int
keys_create(const char *dir, const char *name, char public_z85[KEYS_Z85_LEN])
{
    char path[PATH_MAX_LEN], secret[PATH_MAX_LEN + 8];
    int rc = keys_cert_path(path, sizeof path, dir, name);
    if (rc)
        return rc;
    snprintf(secret, sizeof secret, "%s_secret", path);
    if (path_exists(path) || path_exists(secret))
        return REFNET_EEXIST;
    zcert_t *cert = zcert_new();
    if (!cert)
        return REFNET_ECRYPTO;
    /* Create the secret file 0600 from the start, not chmod it afterwards. */
    mode_t old = umask(077);
    rc = zcert_save(cert, path) == 0 ? 0 : REFNET_EIO;
    umask(old);
    if (rc == 0 && chmod(secret, 0600) != 0)
        rc = -errno;
    if (rc == 0 && chmod(path, 0644) != 0)
        rc = -errno;
    if (rc == 0)
        snprintf(public_z85, KEYS_Z85_LEN, "%s", zcert_public_txt(cert));
    zcert_destroy(&cert);
    return rc;
}

int
keys_load(const char *dir, const char *name, zcert_t **out)
{
    char path[PATH_MAX_LEN], secret[PATH_MAX_LEN + 8];
    struct stat st;
    int rc = keys_cert_path(path, sizeof path, dir, name);
    if (rc)
        return rc;
    snprintf(secret, sizeof secret, "%s_secret", path);
    if (stat(secret, &st) != 0)
        return REFNET_ENOTFOUND;
    if (st.st_mode & 077) {
        log_error("keys: %s is readable by group or others; refusing to use it (chmod 600)",
                  secret);
        return REFNET_ECRYPTO;
    }
    zcert_t *cert = zcert_load(path);
    if (!cert)
        return REFNET_ECRYPTO;
    *out = cert;
    return 0;
}

int
keys_load_public(const char *dir, const char *name, char public_z85[KEYS_Z85_LEN])
{
    char path[PATH_MAX_LEN];
    int rc = keys_cert_path(path, sizeof path, dir, name);
    if (rc)
        return rc;
    if (!path_exists(path))
        return REFNET_ENOTFOUND;
    zcert_t *cert = zcert_load(path);
    if (!cert)
        return REFNET_ECRYPTO;
    snprintf(public_z85, KEYS_Z85_LEN, "%s", zcert_public_txt(cert));
    zcert_destroy(&cert);
    return 0;
}

bool
keys_z85_valid(const char *text)
{
    uint8_t key[32];
    if (!text || strlen(text) != 40)
        return false;
    return zmq_z85_decode(key, text) != NULL;
}

int
keys_write_public(const char *dir, const char *filename, const char *public_z85, const char *label)
{
    uint8_t public_key[32], no_secret[32] = { 0 };
    char path[PATH_MAX_LEN];
    if (!keys_z85_valid(public_z85))
        return REFNET_EINVAL;
    int rc = path_join(path, sizeof path, dir, filename);
    if (rc)
        return rc;
    zmq_z85_decode(public_key, public_z85);
    zcert_t *cert = zcert_new_from(public_key, no_secret);
    if (!cert)
        return REFNET_ECRYPTO;
    if (label)
        zcert_set_meta(cert, "name", "%s", label);
    rc = zcert_save_public(cert, path) == 0 ? 0 : REFNET_EIO;
    if (rc == 0 && chmod(path, 0644) != 0)
        rc = -errno;
    zcert_destroy(&cert);
    return rc;
}
