/* pbscan: reading one field of an encoded protobuf message (see pbscan.h). */
#include "pbscan.h"

#include <stdbool.h>
#include <string.h>

#include "refnet_error.h"

/* Protobuf wire types; 3 and 4 (groups) are refused. */
enum { PBSCAN_VARINT = 0, PBSCAN_I64 = 1, PBSCAN_LEN = 2, PBSCAN_I32 = 5 };

/* Reads a varint at *p (< end) into *v and advances *p. Returns false when it runs past `end`
 * or over ten bytes. */
static bool
pbscan_read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* One field of the walk: its number and wire type, and where its value lies. */
typedef struct {
    uint32_t field;
    unsigned type;
    uint64_t varint;      /* PBSCAN_VARINT */
    const uint8_t *value; /* PBSCAN_LEN: the bytes */
    size_t value_len;
} pbscan_field_t;

/* Reads the field at *p and advances *p past it. Returns false on a malformed encoding. */
static bool
pbscan_next(const uint8_t **p, const uint8_t *end, pbscan_field_t *f)
{
    uint64_t tag, n;
    if (!pbscan_read_varint(p, end, &tag) || (tag >> 3) == 0 || (tag >> 3) > UINT32_MAX)
        return false;
    f->field = (uint32_t)(tag >> 3);
    f->type = (unsigned)(tag & 7);
    switch (f->type) {
    case PBSCAN_VARINT:
        return pbscan_read_varint(p, end, &f->varint);
    case PBSCAN_I64:
    case PBSCAN_I32:
        n = f->type == PBSCAN_I64 ? 8 : 4;
        if ((size_t)(end - *p) < n)
            return false;
        *p += n;
        return true;
    case PBSCAN_LEN:
        if (!pbscan_read_varint(p, end, &n) || n > (uint64_t)(end - *p))
            return false;
        f->value = *p;
        f->value_len = (size_t)n;
        *p += n;
        return true;
    default:
        return false;
    }
}

/* Walks the whole message (so that a malformed tail is refused too) and keeps the last
 * occurrence of `field`. Returns 0, REFNET_ENOTFOUND or REFNET_EDECODE. */
static int
pbscan_find(const uint8_t *msg, size_t len, uint32_t field, unsigned type, pbscan_field_t *out)
{
    const uint8_t *p = msg, *end = msg + len;
    bool found = false;
    while (p < end) {
        pbscan_field_t f;
        if (!pbscan_next(&p, end, &f))
            return REFNET_EDECODE;
        if (f.field != field)
            continue;
        if (f.type != type)
            return REFNET_EDECODE;
        *out = f;
        found = true;
    }
    return found ? 0 : REFNET_ENOTFOUND;
}

int
pbscan_bytes(const uint8_t *msg, size_t len, uint32_t field, const uint8_t **out, size_t *out_len)
{
    pbscan_field_t f;
    int rc = pbscan_find(msg, len, field, PBSCAN_LEN, &f);
    if (rc)
        return rc;
    *out = f.value;
    *out_len = f.value_len;
    return 0;
}

int
pbscan_varint(const uint8_t *msg, size_t len, uint32_t field, uint64_t *out)
{
    pbscan_field_t f;
    int rc = pbscan_find(msg, len, field, PBSCAN_VARINT, &f);
    if (rc)
        return rc;
    *out = f.varint;
    return 0;
}

int
pbscan_string(const uint8_t *msg, size_t len, uint32_t field, char *out, size_t cap)
{
    const uint8_t *s = NULL;
    size_t n = 0;
    out[0] = '\0';
    int rc = pbscan_bytes(msg, len, field, &s, &n);
    if (rc == REFNET_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (n >= cap || memchr(s, '\0', n))
        return n >= cap ? REFNET_ETOOLARGE : REFNET_EDECODE;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}
