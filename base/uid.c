/* uid: UUID v4 and message ids from libsodium's CSPRNG (see uid.h). */
#include "uid.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

static void
uid_sodium_ready(void)
{
    /* sodium_init() is idempotent and thread-safe; it fails only when no entropy source can be
     * opened, and then nothing random can be trusted. */
    if (sodium_init() < 0) {
        fprintf(stderr, "refnet: libsodium failed to initialise\n");
        abort();
    }
}

/* Sets the version and variant bits and writes the canonical form. A table, not snprintf:
 * ids are made per message on hot paths, where formatting was a visible cost. */
static void
uid_format(uint8_t b[16], unsigned version, char out[UID_STR_LEN])
{
    static const char hex[] = "0123456789abcdef";
    b[6] = (uint8_t)((b[6] & 0x0f) | (version << 4));
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0f];
    }
    out[o] = '\0';
}

/* Writes the 48-bit big-endian Unix time in milliseconds at b[0..5]. */
static void
uid_put_time(uint8_t b[6])
{
    uint64_t now = clock_now_ms();
    for (int i = 5; i >= 0; i--) {
        b[i] = (uint8_t)(now & 0xff);
        now >>= 8;
    }
}

void
uid_new(char out[UID_STR_LEN])
{
    uint8_t b[16];
    uid_sodium_ready();
    randombytes_buf(b, sizeof b);
    uid_format(b, 4, out);
}

void
uid_new_ordered(char out[UID_STR_LEN])
{
    uid_new_ordered_pool(NULL, out);
}

void
uid_new_pool(uid_pool_t *pool, char out[UID_STR_LEN])
{
    uint8_t b[16];
    uid_pool_bytes(pool, b, sizeof b);
    uid_format(b, 4, out);
}

void
uid_new_ordered_pool(uid_pool_t *pool, char out[UID_STR_LEN])
{
    uint8_t b[16];
    uid_put_time(b);
    uid_pool_bytes(pool, b + 6, sizeof b - 6);
    uid_format(b, 7, out);
}

void
uid_derive(const char *name, char out[UID_STR_LEN])
{
    uint8_t b[16];
    uid_sodium_ready();
    crypto_generichash(b, sizeof b, (const uint8_t *)name, strlen(name), NULL, 0);
    uid_format(b, 8, out);
}

bool
uid_is_uuid(const char *s)
{
    if (!s || strlen(s) != UID_STR_LEN - 1)
        return false;
    for (size_t i = 0; i < UID_STR_LEN - 1; i++) {
        bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

void
uid_msgid(uint8_t out[UID_MSGID_LEN])
{
    uid_sodium_ready();
    randombytes_buf(out, UID_MSGID_LEN);
}

void
uid_pool_init(uid_pool_t *pool)
{
    pool->used = sizeof pool->buf;
}

/* Refills the pool from a fresh 32-byte CSPRNG seed expanded with ChaCha20
 * (randombytes_buf_deterministic): one getrandom() call, where filling the pool directly
 * takes one per 256 bytes (libsodium's limit per call). */
static void
uid_pool_fill(uid_pool_t *pool)
{
    uint8_t seed[randombytes_SEEDBYTES];
    randombytes_buf(seed, sizeof seed);
    randombytes_buf_deterministic(pool->buf, sizeof pool->buf, seed);
    sodium_memzero(seed, sizeof seed);
    pool->used = 0;
}

void
uid_pool_bytes(uid_pool_t *pool, uint8_t *out, size_t n)
{
    uid_sodium_ready();
    if (!pool || n > sizeof pool->buf) {
        randombytes_buf(out, n);
        return;
    }
    if (pool->used > sizeof pool->buf - n)
        uid_pool_fill(pool);
    memcpy(out, pool->buf + pool->used, n);
    /* Handed-out bytes are wiped, so that the pool never holds an id twice. */
    sodium_memzero(pool->buf + pool->used, n);
    pool->used += n;
}

void
uid_msgid_ordered(uid_pool_t *pool, uint8_t out[UID_MSGID_LEN])
{
    enum { TIME_BYTES = 6, RANDOM_BYTES = UID_MSGID_LEN - TIME_BYTES };
    uid_put_time(out);
    uid_pool_bytes(pool, out + TIME_BYTES, RANDOM_BYTES);
}

void
uid_msgid_hex(const uint8_t *id, size_t len, char out[2 * UID_MSGID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t n = len < UID_MSGID_LEN ? len : UID_MSGID_LEN;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[id[i] >> 4];
        out[2 * i + 1] = hex[id[i] & 0x0f];
    }
    out[2 * n] = '\0';
}
