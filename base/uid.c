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

static void
uid_format(uint8_t b[16], unsigned version, char out[UID_STR_LEN])
{
    b[6] = (uint8_t)((b[6] & 0x0f) | (version << 4));
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, UID_STR_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
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
    uint8_t b[16];
    uint64_t now = clock_now_ms();
    for (int i = 5; i >= 0; i--) {
        b[i] = (uint8_t)(now & 0xff);
        now >>= 8;
    }
    uid_sodium_ready();
    randombytes_buf(b + 6, sizeof b - 6);
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

void
uid_msgid_ordered(uid_pool_t *pool, uint8_t out[UID_MSGID_LEN])
{
    enum { TIME_BYTES = 6, RANDOM_BYTES = UID_MSGID_LEN - TIME_BYTES };
    uint64_t now = clock_now_ms();
    for (int i = TIME_BYTES - 1; i >= 0; i--) {
        out[i] = (uint8_t)(now & 0xff);
        now >>= 8;
    }
    uid_sodium_ready();
    if (!pool) {
        randombytes_buf(out + TIME_BYTES, RANDOM_BYTES);
        return;
    }
    if (pool->used > sizeof pool->buf - RANDOM_BYTES) {
        randombytes_buf(pool->buf, sizeof pool->buf);
        pool->used = 0;
    }
    memcpy(out + TIME_BYTES, pool->buf + pool->used, RANDOM_BYTES);
    /* Handed-out bytes are wiped, so that the pool never holds an id twice. */
    sodium_memzero(pool->buf + pool->used, RANDOM_BYTES);
    pool->used += RANDOM_BYTES;
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
