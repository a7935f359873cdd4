/* seal: person-data sealing and agency-key signatures with libsodium (see seal.h). */
#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "refnet_error.h"
#include "xmalloc.h"

#define SEAL_DOMAIN "refnet-agency-key-v1"
/* A revocation is signed under its own domain, so it can never pass for a binding. */
#define SEAL_DOMAIN_REVOKED "refnet-agency-revoked-v1"
/* Domain, NUL, identifier (at most 64), NUL, key, time: well under this. */
#define SEAL_SIGNED_MAX 160

int
seal_init(void)
{
    return sodium_init() < 0 ? REFNET_ECRYPTO : 0;
}

/* ---- key files ---------------------------------------------------------------------------- */

/* Writes 32 bytes as hex to a new file of mode 0600 (O_EXCL: never replaces a key). */
static int
seal_write_secret(const char *path, const uint8_t key[SEAL_KEY_LEN])
{
    char hex[SEAL_HEX_LEN + 1];
    seal_key_hex(key, hex);
    size_t len = strlen(hex);
    hex[len++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? REFNET_EEXIST : REFNET_EIO;
    ssize_t n = write(fd, hex, len);
    int rc = (n == (ssize_t)len && fsync(fd) == 0) ? 0 : REFNET_EIO;
    if (close(fd) != 0)
        rc = REFNET_EIO;
    sodium_memzero(hex, sizeof hex);
    if (rc != 0)
        unlink(path);
    return rc;
}

/* Reads the 32 bytes of a secret key file, refusing one that group or others may read. */
static int
seal_read_secret(const char *path, uint8_t key[SEAL_KEY_LEN])
{
    char text[SEAL_HEX_LEN + 8];
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? REFNET_ENOTFOUND : REFNET_EIO;
    int rc = 0;
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0)
        rc = REFNET_ECRYPTO;
    ssize_t n = rc == 0 ? read(fd, text, sizeof text - 1) : -1;
    close(fd);
    if (rc == 0 && n < SEAL_HEX_LEN - 1)
        rc = REFNET_ECRYPTO;
    if (rc == 0) {
        size_t got = 0;
        text[n] = '\0';
        if (sodium_hex2bin(key, SEAL_KEY_LEN, text, (size_t)n, "\n", &got, NULL) != 0 ||
            got != SEAL_KEY_LEN)
            rc = REFNET_ECRYPTO;
    }
    sodium_memzero(text, sizeof text);
    return rc;
}

int
seal_box_create(const char *path, uint8_t pk[SEAL_KEY_LEN])
{
    uint8_t sk[SEAL_KEY_LEN];
    int rc = seal_init();
    if (rc != 0)
        return rc;
    crypto_box_keypair(pk, sk);
    rc = seal_write_secret(path, sk);
    sodium_memzero(sk, sizeof sk);
    return rc;
}

int
seal_box_load(const char *path, uint8_t pk[SEAL_KEY_LEN], uint8_t sk[SEAL_KEY_LEN])
{
    int rc = seal_init();
    if (rc == 0)
        rc = seal_read_secret(path, sk);
    if (rc == 0 && crypto_scalarmult_base(pk, sk) != 0)
        rc = REFNET_ECRYPTO;
    return rc;
}

int
seal_sign_create(const char *path, uint8_t pk[SEAL_KEY_LEN])
{
    uint8_t seed[SEAL_KEY_LEN], sk[SEAL_SIGN_SECRET_LEN];
    int rc = seal_init();
    if (rc != 0)
        return rc;
    randombytes_buf(seed, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    rc = seal_write_secret(path, seed);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(sk, sizeof sk);
    return rc;
}

int
seal_sign_load(const char *path, uint8_t pk[SEAL_KEY_LEN], uint8_t sk[SEAL_SIGN_SECRET_LEN])
{
    uint8_t seed[SEAL_KEY_LEN];
    int rc = seal_init();
    if (rc == 0)
        rc = seal_read_secret(path, seed);
    if (rc == 0 && crypto_sign_seed_keypair(pk, sk, seed) != 0)
        rc = REFNET_ECRYPTO;
    sodium_memzero(seed, sizeof seed);
    return rc;
}

/* ---- sealing ------------------------------------------------------------------------------ */

int
seal_box(const uint8_t *msg,
         size_t len,
         const uint8_t peer_pk[SEAL_KEY_LEN],
         const uint8_t my_sk[SEAL_KEY_LEN],
         uint8_t **out,
         size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (seal_init() != 0 || len > SIZE_MAX - SEAL_OVERHEAD)
        return REFNET_ECRYPTO;
    uint8_t *buf = xmalloc(len + SEAL_OVERHEAD);
    randombytes_buf(buf, SEAL_NONCE_LEN);
    if (crypto_box_easy(buf + SEAL_NONCE_LEN, msg, len, buf, peer_pk, my_sk) != 0) {
        free(buf);
        return REFNET_ECRYPTO;
    }
    *out = buf;
    *out_len = len + SEAL_OVERHEAD;
    return 0;
}

int
seal_open(const uint8_t *sealed,
          size_t len,
          const uint8_t peer_pk[SEAL_KEY_LEN],
          const uint8_t my_sk[SEAL_KEY_LEN],
          uint8_t **out,
          size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (seal_init() != 0 || len < SEAL_OVERHEAD)
        return REFNET_ECRYPTO;
    size_t plain = len - SEAL_OVERHEAD;
    uint8_t *buf = xmalloc(plain + 1); /* never zero bytes */
    if (crypto_box_open_easy(buf, sealed + SEAL_NONCE_LEN, len - SEAL_NONCE_LEN, sealed, peer_pk,
                             my_sk) != 0) {
        free(buf);
        return REFNET_ECRYPTO;
    }
    *out = buf;
    *out_len = plain;
    return 0;
}

int
seal_precompute(const uint8_t peer_pk[SEAL_KEY_LEN],
                const uint8_t my_sk[SEAL_KEY_LEN],
                uint8_t shared[SEAL_SHARED_LEN])
{
    if (seal_init() != 0 || crypto_box_beforenm(shared, peer_pk, my_sk) != 0) {
        sodium_memzero(shared, SEAL_SHARED_LEN);
        return REFNET_ECRYPTO;
    }
    return 0;
}

int
seal_box_shared(const uint8_t *msg,
                size_t len,
                const uint8_t shared[SEAL_SHARED_LEN],
                const uint8_t nonce[SEAL_NONCE_LEN],
                uint8_t *out)
{
    if (len > SIZE_MAX - SEAL_OVERHEAD)
        return REFNET_ECRYPTO;
    memcpy(out, nonce, SEAL_NONCE_LEN);
    return crypto_box_easy_afternm(out + SEAL_NONCE_LEN, msg, len, out, shared) == 0
               ? 0
               : REFNET_ECRYPTO;
}

int
seal_open_shared(const uint8_t *sealed,
                 size_t len,
                 const uint8_t shared[SEAL_SHARED_LEN],
                 uint8_t *out)
{
    if (len < SEAL_OVERHEAD)
        return REFNET_ECRYPTO;
    return crypto_box_open_easy_afternm(out, sealed + SEAL_NONCE_LEN, len - SEAL_NONCE_LEN, sealed,
                                        shared) == 0
               ? 0
               : REFNET_ECRYPTO;
}

/* ---- agency key signatures ---------------------------------------------------------------- */

static size_t
seal_put_u64(uint8_t *buf, size_t n, uint64_t v)
{
    for (int i = 7; i >= 0; i--)
        buf[n++] = (uint8_t)(v >> (8 * i));
    return n;
}

static size_t
seal_binding_in(const char *domain,
                const char *agency,
                const uint8_t box_pk[SEAL_KEY_LEN],
                uint64_t issued_at_ms,
                uint8_t buf[SEAL_SIGNED_MAX])
{
    size_t alen = strnlen(agency, 64);
    size_t n = strlen(domain) + 1; /* with its NUL */
    memcpy(buf, domain, n);
    memcpy(buf + n, agency, alen);
    n += alen;
    buf[n++] = 0;
    memcpy(buf + n, box_pk, SEAL_KEY_LEN);
    n += SEAL_KEY_LEN;
    return seal_put_u64(buf, n, issued_at_ms);
}

static size_t
seal_binding(const char *agency,
             const uint8_t box_pk[SEAL_KEY_LEN],
             uint64_t issued_at_ms,
             uint8_t buf[SEAL_SIGNED_MAX])
{
    return seal_binding_in(SEAL_DOMAIN, agency, box_pk, issued_at_ms, buf);
}

void
seal_sign_agency_key(const char *agency,
                     const uint8_t box_pk[SEAL_KEY_LEN],
                     uint64_t issued_at_ms,
                     const uint8_t sign_sk[SEAL_SIGN_SECRET_LEN],
                     uint8_t sig[SEAL_SIGNATURE_LEN])
{
    uint8_t buf[SEAL_SIGNED_MAX];
    size_t n = seal_binding(agency, box_pk, issued_at_ms, buf);
    crypto_sign_detached(sig, NULL, buf, n, sign_sk);
}

bool
seal_verify_agency_key(const char *agency,
                       const uint8_t box_pk[SEAL_KEY_LEN],
                       uint64_t issued_at_ms,
                       const uint8_t sig[SEAL_SIGNATURE_LEN],
                       const uint8_t sign_pk[SEAL_KEY_LEN])
{
    uint8_t buf[SEAL_SIGNED_MAX];
    if (seal_init() != 0 || strlen(agency) > 64)
        return false;
    size_t n = seal_binding(agency, box_pk, issued_at_ms, buf);
    return crypto_sign_verify_detached(sig, buf, n, sign_pk) == 0;
}

void
seal_sign_agency_revoked(const char *agency,
                         const uint8_t box_pk[SEAL_KEY_LEN],
                         uint64_t issued_at_ms,
                         uint64_t revoked_at_ms,
                         const uint8_t sign_sk[SEAL_SIGN_SECRET_LEN],
                         uint8_t sig[SEAL_SIGNATURE_LEN])
{
    uint8_t buf[SEAL_SIGNED_MAX];
    size_t n = seal_binding_in(SEAL_DOMAIN_REVOKED, agency, box_pk, issued_at_ms, buf);
    n = seal_put_u64(buf, n, revoked_at_ms);
    crypto_sign_detached(sig, NULL, buf, n, sign_sk);
}

bool
seal_verify_agency_revoked(const char *agency,
                           const uint8_t box_pk[SEAL_KEY_LEN],
                           uint64_t issued_at_ms,
                           uint64_t revoked_at_ms,
                           const uint8_t sig[SEAL_SIGNATURE_LEN],
                           const uint8_t sign_pk[SEAL_KEY_LEN])
{
    uint8_t buf[SEAL_SIGNED_MAX];
    if (seal_init() != 0 || strlen(agency) > 64)
        return false;
    size_t n = seal_binding_in(SEAL_DOMAIN_REVOKED, agency, box_pk, issued_at_ms, buf);
    n = seal_put_u64(buf, n, revoked_at_ms);
    return crypto_sign_verify_detached(sig, buf, n, sign_pk) == 0;
}

/* ---- text forms --------------------------------------------------------------------------- */

void
seal_key_hex(const uint8_t key[SEAL_KEY_LEN], char out[SEAL_HEX_LEN])
{
    sodium_bin2hex(out, SEAL_HEX_LEN, key, SEAL_KEY_LEN);
}

int
seal_key_parse(const char *text, uint8_t key[SEAL_KEY_LEN])
{
    size_t len = text ? strlen(text) : 0, got = 0;
    if (len == 2 * SEAL_KEY_LEN) {
        if (sodium_hex2bin(key, SEAL_KEY_LEN, text, len, NULL, &got, NULL) == 0 &&
            got == SEAL_KEY_LEN)
            return 0;
        return REFNET_EINVAL;
    }
    if (len == 40 && zmq_z85_decode(key, text))
        return 0;
    return REFNET_EINVAL;
}
