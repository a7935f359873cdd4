/* dirbits: sets of document numbers in memory and in the index (see dirbits.h). */
#include "dirbits.h"

#include <stdlib.h>
#include <string.h>

#include "refnet_error.h"
#include "store.h"
#include "xmalloc.h"

/* Words of 64 bits per stored chunk. */
#define DIRBITS_CHUNK_WORDS (DIRBITS_CHUNK_BITS / 64)

void
dirbits_init(dirbits_t *b, uint32_t max_docno)
{
    b->n_words = (size_t)max_docno / 64 + 1;
    b->w = xcalloc(b->n_words, sizeof *b->w);
}

void
dirbits_free(dirbits_t *b)
{
    free(b->w);
    b->w = NULL;
    b->n_words = 0;
}

void
dirbits_zero(dirbits_t *b)
{
    memset(b->w, 0, b->n_words * sizeof *b->w);
}

void
dirbits_set(dirbits_t *b, uint32_t d)
{
    if (d / 64 < b->n_words)
        b->w[d / 64] |= (uint64_t)1 << (d % 64);
}

void
dirbits_clear(dirbits_t *b, uint32_t d)
{
    if (d / 64 < b->n_words)
        b->w[d / 64] &= ~((uint64_t)1 << (d % 64));
}

void
dirbits_and(dirbits_t *a, const dirbits_t *b)
{
    for (size_t i = 0; i < a->n_words; i++)
        a->w[i] &= i < b->n_words ? b->w[i] : 0;
}

void
dirbits_andnot(dirbits_t *a, const dirbits_t *b)
{
    size_t n = a->n_words < b->n_words ? a->n_words : b->n_words;
    for (size_t i = 0; i < n; i++)
        a->w[i] &= ~b->w[i];
}

size_t
dirbits_count(const dirbits_t *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n_words; i++)
        n += (size_t)__builtin_popcountll(b->w[i]);
    return n;
}

bool
dirbits_next(const dirbits_t *b, uint32_t *d)
{
    size_t i = *d / 64;
    if (i >= b->n_words)
        return false;
    uint64_t w = b->w[i] & (~(uint64_t)0 << (*d % 64));
    while (w == 0) {
        if (++i == b->n_words)
            return false;
        w = b->w[i];
    }
    *d = (uint32_t)(i * 64 + (size_t)__builtin_ctzll(w));
    return true;
}

/* ---- stored sets ------------------------------------------------------------------------ */

static size_t
dirbits_key(uint8_t *key, const uint8_t *pre, size_t pre_len, uint32_t chunk)
{
    memcpy(key, pre, pre_len);
    key[pre_len] = (uint8_t)(chunk >> 24);
    key[pre_len + 1] = (uint8_t)(chunk >> 16);
    key[pre_len + 2] = (uint8_t)(chunk >> 8);
    key[pre_len + 3] = (uint8_t)chunk;
    return pre_len + 4;
}

static bool
dirbits_chunk_empty(const uint8_t *c)
{
    for (size_t i = 0; i < DIRBITS_CHUNK_BYTES; i++)
        if (c[i])
            return false;
    return true;
}

/* A chunk being changed: a bitmap, or (few members) their offsets in ascending order. */
typedef struct {
    bool bitmap;
    size_t n; /* offsets held (array form) */
    uint8_t b[DIRBITS_CHUNK_BYTES];
} chunk_t;

static unsigned
chunk_off(const chunk_t *c, size_t i)
{
    return (unsigned)c->b[2 * i] | (unsigned)c->b[2 * i + 1] << 8;
}

/* Reads a stored value; false when it is neither form. */
static bool
chunk_read(chunk_t *c, const MDB_val *v)
{
    c->bitmap = v->mv_size == DIRBITS_CHUNK_BYTES;
    if (!c->bitmap && (v->mv_size % 2 != 0 || v->mv_size / 2 > DIRBITS_ARRAY_MAX))
        return false;
    c->n = c->bitmap ? 0 : v->mv_size / 2;
    memcpy(c->b, v->mv_data, v->mv_size);
    return true;
}

/* Index of the first offset >= off in the array form. */
static size_t
chunk_find(const chunk_t *c, unsigned off)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (chunk_off(c, mid) < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void
chunk_to_bitmap(chunk_t *c)
{
    uint8_t b[DIRBITS_CHUNK_BYTES] = { 0 };
    for (size_t i = 0; i < c->n; i++) {
        unsigned off = chunk_off(c, i);
        b[off / 8] |= (uint8_t)(1u << (off % 8));
    }
    memcpy(c->b, b, sizeof b);
    c->bitmap = true;
}

/* Adds or removes one offset; false when nothing changed. */
static bool
chunk_change(chunk_t *c, unsigned off, bool on)
{
    if (c->bitmap) {
        uint8_t *byte = &c->b[off / 8], mask = (uint8_t)(1u << (off % 8));
        bool had = *byte & mask;
        *byte = on ? (uint8_t)(*byte | mask) : (uint8_t)(*byte & ~mask);
        return had != on;
    }
    size_t i = chunk_find(c, off);
    bool had = i < c->n && chunk_off(c, i) == off;
    if (had == on)
        return false;
    if (!on) {
        memmove(&c->b[2 * i], &c->b[2 * i + 2], 2 * (c->n - i - 1));
        c->n--;
        return true;
    }
    if (c->n == DIRBITS_ARRAY_MAX) {
        chunk_to_bitmap(c);
        return chunk_change(c, off, on);
    }
    memmove(&c->b[2 * i + 2], &c->b[2 * i], 2 * (c->n - i));
    c->b[2 * i] = (uint8_t)off;
    c->b[2 * i + 1] = (uint8_t)(off >> 8);
    c->n++;
    return true;
}

int
dirbits_store(MDB_cursor *cur, const uint8_t *pre, size_t pre_len, uint32_t docno, bool on)
{
    uint8_t key[DIRBITS_PREFIX_MAX + 4];
    chunk_t c = { .bitmap = false, .n = 0 };
    if (pre_len > DIRBITS_PREFIX_MAX)
        return REFNET_EINVAL;
    MDB_val k = { .mv_size = dirbits_key(key, pre, pre_len, docno / DIRBITS_CHUNK_BITS),
                  .mv_data = key },
            v;
    /* One descent: the cursor stays on the chunk, and a value of the same size on a page
     * this transaction already wrote is overwritten in place. */
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET); /* MDB_SET leaves k on our buffer */
    bool found = rc == 0;
    if (rc == MDB_NOTFOUND && !on)
        return 0;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_err(rc);
    if (found && !chunk_read(&c, &v))
        return REFNET_EDECODE;
    if (!chunk_change(&c, docno % DIRBITS_CHUNK_BITS, on))
        return 0;
    bool empty = c.bitmap ? dirbits_chunk_empty(c.b) : c.n == 0;
    MDB_val nv = { .mv_size = c.bitmap ? DIRBITS_CHUNK_BYTES : 2 * c.n, .mv_data = c.b };
    if (empty)
        rc = mdb_cursor_del(cur, 0);
    else
        rc = mdb_cursor_put(cur, &k, &nv, found ? MDB_CURRENT : 0);
    return rc == 0 ? 0 : store_err(rc);
}

/* ORs one stored chunk into the set. Bitmap bytes are least significant first, as the words
 * are on a little-endian machine; assembled byte by byte so any machine reads them alike. */
static void
dirbits_or_chunk(dirbits_t *into, uint32_t chunk, const MDB_val *v)
{
    const uint8_t *c = v->mv_data;
    size_t first = (size_t)chunk * DIRBITS_CHUNK_WORDS;
    if (v->mv_size != DIRBITS_CHUNK_BYTES) {
        for (size_t i = 0; i + 1 < v->mv_size; i += 2)
            dirbits_set(into,
                        chunk * DIRBITS_CHUNK_BITS + ((uint32_t)c[i] | (uint32_t)c[i + 1] << 8));
        return;
    }
    for (size_t i = 0; i < DIRBITS_CHUNK_WORDS && first + i < into->n_words; i++) {
        uint64_t w = 0;
        for (size_t j = 0; j < 8; j++)
            w |= (uint64_t)c[i * 8 + j] << (8 * j);
        into->w[first + i] |= w;
    }
}

int
dirbits_load(MDB_txn *txn, MDB_dbi dbi, const uint8_t *pre, size_t pre_len, dirbits_t *into)
{
    MDB_cursor *cur = NULL;
    MDB_val k = { .mv_size = pre_len, .mv_data = (void *)pre }, v;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        return store_err(rc);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *kb = k.mv_data;
        if (k.mv_size < pre_len || memcmp(kb, pre, pre_len) != 0)
            break;
        if (k.mv_size != pre_len + 4 || v.mv_size > DIRBITS_CHUNK_BYTES || v.mv_size % 2 != 0)
            continue; /* not a chunk of this set */
        uint32_t chunk = (uint32_t)kb[pre_len] << 24 | (uint32_t)kb[pre_len + 1] << 16 |
                         (uint32_t)kb[pre_len + 2] << 8 | kb[pre_len + 3];
        dirbits_or_chunk(into, chunk, &v);
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_err(rc);
}
