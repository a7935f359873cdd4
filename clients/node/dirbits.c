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

int
dirbits_store(MDB_cursor *cur, const uint8_t *pre, size_t pre_len, uint32_t docno, bool on)
{
    uint8_t key[DIRBITS_PREFIX_MAX + 4], chunk[DIRBITS_CHUNK_BYTES];
    uint32_t bit = docno % DIRBITS_CHUNK_BITS;
    if (pre_len > DIRBITS_PREFIX_MAX)
        return REFNET_EINVAL;
    MDB_val k = { .mv_size = dirbits_key(key, pre, pre_len, docno / DIRBITS_CHUNK_BITS),
                  .mv_data = key },
            v;
    /* One descent: the cursor stays on the chunk, and a value of the same size on a page
     * this transaction already wrote is overwritten in place. */
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
    bool found = rc == 0;
    if (rc == MDB_NOTFOUND && !on)
        return 0;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_err(rc);
    if (found && v.mv_size != DIRBITS_CHUNK_BYTES)
        return REFNET_EDECODE;
    if (found)
        memcpy(chunk, v.mv_data, sizeof chunk);
    else
        memset(chunk, 0, sizeof chunk);
    if (on)
        chunk[bit / 8] |= (uint8_t)(1u << (bit % 8));
    else
        chunk[bit / 8] &= (uint8_t) ~(1u << (bit % 8));
    MDB_val nv = { .mv_size = sizeof chunk, .mv_data = chunk };
    if (!on && dirbits_chunk_empty(chunk))
        rc = mdb_cursor_del(cur, 0);
    else
        rc = mdb_cursor_put(cur, &k, &nv, found ? MDB_CURRENT : 0);
    return rc == 0 ? 0 : store_err(rc);
}

/* ORs one stored chunk into the set: bytes are least significant first, as the words are on
 * a little-endian machine; assembled byte by byte so any machine reads them alike. */
static void
dirbits_or_chunk(dirbits_t *into, uint32_t chunk, const uint8_t *c)
{
    size_t first = (size_t)chunk * DIRBITS_CHUNK_WORDS;
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
        if (k.mv_size != pre_len + 4 || v.mv_size != DIRBITS_CHUNK_BYTES)
            continue; /* not a chunk of this set */
        uint32_t chunk = (uint32_t)kb[pre_len] << 24 | (uint32_t)kb[pre_len + 1] << 16 |
                         (uint32_t)kb[pre_len + 2] << 8 | kb[pre_len + 3];
        dirbits_or_chunk(into, chunk, v.mv_data);
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_err(rc);
}
