/* dirdigest: the order-independent directory digest (see dirdigest.h). */
#include "dirdigest.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refnet_error.h"
#include "xmalloc.h"

static void
dirdigest_put_be(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t
dirdigest_get_le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

int
dirdigest_hash(
    const char *id, uint64_t seq, const char *agency, const Refnet__Service *svc, uint64_t h[4])
{
    crypto_generichash_state st;
    uint8_t seqb[8], out[WIRE_DIGEST_LEN];
    const uint8_t nul = 0;
    size_t len = refnet__service__get_packed_size(svc);
    if (len > WIRE_MAX_FRAME)
        return REFNET_ETOOLARGE;
    uint8_t *packed = xmalloc(len ? len : 1);
    refnet__service__pack(svc, packed);
    dirdigest_put_be(seqb, seq);
    crypto_generichash_init(&st, NULL, 0, sizeof out);
    crypto_generichash_update(&st, (const uint8_t *)id, strlen(id));
    crypto_generichash_update(&st, &nul, 1);
    crypto_generichash_update(&st, seqb, sizeof seqb);
    crypto_generichash_update(&st, (const uint8_t *)agency, strlen(agency));
    crypto_generichash_update(&st, &nul, 1);
    crypto_generichash_update(&st, packed, len);
    crypto_generichash_final(&st, out, sizeof out);
    free(packed);
    for (int i = 0; i < 4; i++)
        h[i] = dirdigest_get_le(out + 8 * i);
    return 0;
}

int
dirdigest_apply(dirdigest_t *d,
                int sign,
                const char *id,
                uint64_t seq,
                const char *agency,
                const Refnet__Service *svc)
{
    uint64_t h[4];
    int rc = dirdigest_hash(id, seq, agency, svc, h);
    if (rc != 0)
        return rc;
    /* Unsigned arithmetic wraps modulo 2^64, which is exactly the group the sum lives in. */
    for (int i = 0; i < 4; i++)
        d->w[i] = sign > 0 ? d->w[i] + h[i] : d->w[i] - h[i];
    d->count = sign > 0 ? d->count + 1 : d->count - 1;
    return 0;
}

void
dirdigest_bytes(const dirdigest_t *d, uint8_t out[WIRE_DIGEST_LEN])
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = d->w[i];
        for (int j = 0; j < 8; j++) {
            out[8 * i + j] = (uint8_t)(v & 0xff);
            v >>= 8;
        }
    }
}

void
dirdigest_store(const dirdigest_t *d, uint8_t out[DIRDIGEST_STORED_LEN])
{
    dirdigest_bytes(d, out);
    dirdigest_put_be(out + WIRE_DIGEST_LEN, d->count);
}

int
dirdigest_load(dirdigest_t *d, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (len != DIRDIGEST_STORED_LEN)
        return REFNET_EDECODE;
    for (int i = 0; i < 4; i++)
        d->w[i] = dirdigest_get_le(p + 8 * i);
    d->count = 0;
    for (int i = 0; i < 8; i++)
        d->count = (d->count << 8) | p[WIRE_DIGEST_LEN + i];
    return 0;
}

bool
dirdigest_equal(const dirdigest_t *a, const dirdigest_t *b)
{
    return a->count == b->count && memcmp(a->w, b->w, sizeof a->w) == 0;
}

void
dirdigest_hex(const dirdigest_t *d, char out[2 * WIRE_DIGEST_LEN + 1])
{
    uint8_t b[WIRE_DIGEST_LEN];
    dirdigest_bytes(d, b);
    for (int i = 0; i < WIRE_DIGEST_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}
