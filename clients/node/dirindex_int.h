/* dirindex_int: what dirindex.c (postings, facets, the planned search) shares with
 * dirfast.c (the search over docno sets). Private to those two files: index keys (dk_*),
 * term sets (dkset_*), facets and counters. See dirindex.h for the index's layout.
 * Single-threaded; everything works inside the caller's transaction. */
#ifndef REFNET_DIRINDEX_INT_H
#define REFNET_DIRINDEX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dirbits.h"
#include "dirindex.h"

/* Longest index key: kind, a 64-byte code, separator, 6-byte cell, 4-byte docno. */
#define DK_MAX 96

/* One index key (or key prefix). */
typedef struct {
    uint8_t b[DK_MAX];
    size_t n;
} dk_t;

/* A set of keys (terms of one service, without docno). */
typedef struct {
    dk_t *k;
    size_t n, cap;
} dkset_t;

void dk_add(dk_t *k, const void *p, size_t n);
void dk_str(dk_t *k, const char *s);
void dk_byte(dk_t *k, uint8_t c);
void dk_docno(dk_t *k, uint32_t docno);
/* A term: kind, text and (for variable-length text) a 0x00 terminator. */
dk_t dk_term(char kind, const char *text, bool terminated);
int dk_cmp(const dk_t *a, const dk_t *b);
void dkset_add(dkset_t *s, dk_t k);
void dkset_sort_unique(dkset_t *s);

MDB_dbi dirindex_db(const store_t *st);
/* Number of postings of `term` (from its 'C' counter). */
int dirindex_read_count(MDB_txn *txn, const store_t *st, const dk_t *term, size_t *out);
/* Highest docno handed out so far. */
int dirindex_max_docno(MDB_txn *txn, const store_t *st, uint32_t *out);
/* Reads the facet of `docno` through `cur` (a cursor on the index) and applies q's facet
 * filters: 1 and *r filled when it passes, 0 when it does not or is gone, or a store code. */
int dirindex_rank_doc(MDB_cursor *cur, const replica_query_t *q, uint32_t docno, replica_rank_t *r);

/* The stored docno sets of a service (dirfast.c): every set it belongs to, sorted, unique. */
void dirfast_service_sets(const Refnet__Service *svc, dkset_t *s);
/* The services that pass q's language, accepting, available, open-now and age filters
 * (those it can tell from stored sets; the rest pass), as a set the caller frees
 * (dirfast.c). Returns 0 or a store code (then *gate holds nothing). */
int dirfast_gate(MDB_txn *txn, const store_t *st, const replica_query_t *q, dirbits_t *gate);
/* The search over docno sets (dirfast.c): 1 when it answered `q` into *out, 0 when `q` is
 * not one it answers (a distance, a radius, or an order other than ready/name), or a store
 * code. `words` are q's text words. */
int dirfast_search(MDB_txn *txn,
                   const store_t *st,
                   const replica_query_t *q,
                   const dirindex_words_t *words,
                   dirindex_result_t *out);

#endif
