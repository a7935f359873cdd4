/* dirbits: sets of document numbers (the directory index's docnos), in memory and stored.
 *
 * In memory a set is a flat bit array sized for the highest docno the index has handed out
 * (1,000,000 services: 122 KiB), so intersecting, subtracting and counting large sets costs
 * a pass over memory instead of a B-tree lookup per member.
 *
 * Stored, a set is a run of LMDB keys in the index's database: the set's prefix (a term,
 * e.g. 'b' 'L' "es" 0x00) followed by a chunk number (u32 big-endian), each value a bitmap of
 * DIRBITS_CHUNK_BITS docnos: while it has at most DIRBITS_ARRAY_MAX members, their offsets
 * in the chunk (u16 little-endian, ascending; a chunk of a sparse set costs a few bytes),
 * then a bitmap of DIRBITS_CHUNK_BYTES (bit d % DIRBITS_CHUNK_BITS at byte (that / 8), least
 * significant bit first). The two forms differ in size, so the value says which it is.
 * Chunks without a member are not stored. A chunk fits in an ordinary LMDB page, so a change
 * to one member rewrites one small value.
 *
 * Sets own their memory (dirbits_free). Functions on stored sets work inside the caller's
 * transaction. Single-threaded. */
#ifndef REFNET_DIRBITS_H
#define REFNET_DIRBITS_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Docnos per stored chunk and its size in bytes. */
#define DIRBITS_CHUNK_BITS  4096
#define DIRBITS_CHUNK_BYTES (DIRBITS_CHUNK_BITS / 8)
/* Members a chunk holds as a list of offsets (2 bytes each, less than a bitmap). */
#define DIRBITS_ARRAY_MAX 255
/* Longest prefix of a stored set. */
#define DIRBITS_PREFIX_MAX 96

typedef struct {
    uint64_t *w;
    size_t n_words; /* the set can hold docnos 0 .. n_words * 64 - 1 */
} dirbits_t;

/* An empty set that can hold docnos 0..max_docno. */
void dirbits_init(dirbits_t *b, uint32_t max_docno);
void dirbits_free(dirbits_t *b);
/* Empties the set, keeping its size. */
void dirbits_zero(dirbits_t *b);

static inline bool
dirbits_has(const dirbits_t *b, uint32_t d)
{
    size_t i = d / 64;
    return i < b->n_words && (b->w[i] >> (d % 64) & 1u);
}

/* Docnos beyond the set's size are ignored. */
void dirbits_set(dirbits_t *b, uint32_t d);
void dirbits_clear(dirbits_t *b, uint32_t d);
/* a = a AND b; a = a AND NOT b; a = a OR b (sets of the same size). */
void dirbits_and(dirbits_t *a, const dirbits_t *b);
void dirbits_andnot(dirbits_t *a, const dirbits_t *b);
/* Number of members. */
size_t dirbits_count(const dirbits_t *b);
/* The first member >= *d: true and *d set, or false when there is none. */
bool dirbits_next(const dirbits_t *b, uint32_t *d);

/* Adds or removes `docno` in the stored set `pre` (pre_len bytes), through `cur` (a cursor
 * of a write transaction on the set's database; it is left anywhere). Returns 0 or a store
 * code. */
int dirbits_store(MDB_cursor *cur, const uint8_t *pre, size_t pre_len, uint32_t docno, bool on);
/* ORs the stored set `pre` into *into. Returns 0 or a store code. */
int dirbits_load(MDB_txn *txn, MDB_dbi dbi, const uint8_t *pre, size_t pre_len, dirbits_t *into);

#endif
