/* dirindex: the search index over the node's directory replica (LMDB db "dirindex").
 *
 * replica.c calls dirindex_update for every change it stores, inside the same write
 * transaction, so the index always agrees with the records. Each live service gets a small
 * document number (docno) and a compact "facet" holding what the filters and the ranking read
 * (location, availability, ages, schedules, name, id), so a search never decodes a record it
 * does not return. Posting lists are LMDB key ranges, one key per (term, docno), sorted by
 * docno, with empty values:
 *   'w' word 0x00 docno    case-folded word of the name, a taxonomy code or the description
 *   'x' code 0x00 docno    taxonomy code and each parent (the code cut before a '-' or '.')
 *   'G' code 0x00 a cell docno   the same codes, per geohash cell (precision 6), `a` 1
 *                          for services available and accepting, else 0: taxonomy within a
 *                          radius reads only the cells that cover the circle (for available
 *                          services, only their half); the value is a copy of the facet
 *   'g' cell docno         geohash cell (precision 6) of located services; the value is a
 *                          copy of the facet, so a radius search reads neighbouring keys only
 *   'l' language 0x00 docno    language code, lower case; the value is a copy of the
 *                          facet, so the lookup that checks a language also brings it
 *   'a' docno              available > 0 and accepting; 'c' docno: accepting
 *   'N' name 0x00 id       every live service in name order (then id: the order every sort
 *                          ends with); the value is its docno
 *   'b' set chunk          docno sets as chunked bitmaps (dirbits.h): 'V' live, 'C'
 *                          accepting, 'A' available and accepting, 'L' language 0x00, 'O'
 *                          weekday level node (opening hours) and 'Y' level node (ages a
 *                          service is not for), 'U' level node (available services by the
 *                          minute of their last availability change): nodes of segment trees
 *                          over the minutes of a day, over ages and over minutes since 1970,
 *                          so "open at minute m" and "not for age a" are unions of one node
 *                          per level and "changed since t" of two per level
 * Bookkeeping: 'I' id -> docno; 'D' docno -> facet; 'C' term -> number of postings (for
 * planning; geohash counts kept for precisions 2..6); "#next", "#live", "#built".
 *
 * A search without a distance, ordered by readiness or name (dirfast.c), intersects docno
 * sets: the smallest word or taxonomy posting list, then the stored sets of its other
 * filters; it counts the matches and walks the 'N' names only as far as its page needs, so
 * neither a large result nor a large directory is visited service by service. Any other
 * search plans from the posting list with the fewest entries among its filters (text words,
 * taxonomy, taxonomy x radius, radius, language, available, accepting), checks the other
 * word/taxonomy/language filters by point lookups of their postings and the rest on the
 * facet (exact haversine distance, ages, schedules). Only such a search without any of these
 * filters walks all facets. Numbers in facets are in host byte order: the index is local to
 * this node and rebuilt from the records when its version changes.
 *
 * Functions work inside the caller's transaction. Returned strings point into the LMDB map
 * and live until the transaction ends. Single-threaded. */
#ifndef REFNET_DIRINDEX_H
#define REFNET_DIRINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "refnet.pb-c.h"
#include "replica.h"
#include "store.h"

/* Longest word indexed; longer words are cut here, in the index and in queries alike. */
#define DIRINDEX_WORD_MAX 32
/* Distinct words indexed per service (name first, then taxonomy codes, then description):
 * bounds the index's growth per service. */
#define DIRINDEX_MAX_WORDS 128
/* Words used from a query: more only narrows a result that is already small. */
#define DIRINDEX_QUERY_WORDS 8
/* Geohash cells read for one radius: finer cells are used while the circle needs at most
 * this many, so a radius reads a few small key ranges. */
#define DIRINDEX_MAX_CELLS 256

/* Words of a text, in order of first appearance, without repeats. */
typedef struct {
    char word[DIRINDEX_MAX_WORDS][DIRINDEX_WORD_MAX + 1];
    size_t n;
} dirindex_words_t;

/* Appends the words of `text` to *w (up to `max` in all): runs of ASCII letters and digits
 * and of bytes >= 0x80 (other UTF-8 characters are kept as they are), ASCII folded to lower
 * case, cut at DIRINDEX_WORD_MAX bytes. */
void dirindex_tokenize(const char *text, dirindex_words_t *w, size_t max);
/* The searchable words of a service: name, taxonomy codes, description (in that order). */
void dirindex_service_words(const Refnet__Service *svc, dirindex_words_t *w);

/* Replaces the index entries of one service: `old` is the stored service before the change
 * (NULL when it was unknown or withdrawn), `new_svc` after it (NULL when withdrawn). Only the
 * postings that differ are written, so an availability change touches a few keys. Returns 0
 * or a store code. */
int dirindex_update(MDB_txn *txn,
                    const store_t *st,
                    const Refnet__Service *old,
                    const Refnet__Service *new_svc);

/* Whether the index has been built for the records (see dirindex_build). */
int dirindex_is_built(MDB_txn *txn, const store_t *st, bool *out);
/* Drops the whole index and indexes every live record of db "services" again, then marks it
 * built. Used once for a replica stored before the index existed. Returns 0 or a store code. */
int dirindex_build(MDB_txn *txn, const store_t *st);
/* Marks an index built (for an empty replica, which needs nothing indexed). */
int dirindex_mark_built(MDB_txn *txn, const store_t *st);
/* Number of live services indexed. */
int dirindex_live(MDB_txn *txn, const store_t *st, size_t *out);

/* The answer of a search. */
typedef struct {
    replica_rank_t *ranks; /* caller frees; the strings in it point into the map */
    size_t n;              /* ranks held */
    size_t total;          /* matches in all */
    bool ordered;   /* ranks[0..n) are the first n matches in q->sort order and reach past q's
                     page; otherwise they are every match, unordered */
    char kind;      /* how it ran: the posting list it started from ('w','x','G','g','l','a',
                     'c'), 'D' for a walk over every facet, 'B' for docno sets */
    size_t scanned; /* candidates visited */
} dirindex_result_t;

/* Runs the filters of `q` and ranks as far as q's page needs. Returns 0 and fills *out, or
 * a store code (then *out holds nothing to free). */
int
dirindex_search(MDB_txn *txn, const store_t *st, const replica_query_t *q, dirindex_result_t *out);

#endif
