/* dirfast: the directory search over docno sets (see dirindex.h for the index's layout).
 *
 * A peer supporter's common questions carry no distance: "detox, in Spanish", "open now, for
 * a 16-year-old". Their answers can be large (half the directory is open at noon), yet the
 * page shows twenty services and a count. So the search here never ranks every match:
 *   1. it builds the set of matching docnos, starting from the shortest word or taxonomy
 *      posting list (or every live service), intersecting the stored sets of the other
 *      filters (language, accepting, available, the minute of the week, the age), as bitmaps;
 *   2. the total is the set's size;
 *   3. the page comes from walking the 'N' keys (name order, the order every sort ends with)
 *      and stopping once it has enough. For the default order, ready services (available,
 *      accepting, fresh) come first: they are a set of their own, fresh ones taken from a
 *      segment tree over the minute of each available service's last availability change;
 *      few ready ones are ranked whole, many are walked in name order like the rest. A small
 *      result is ranked whole.
 * Opening hours and ages are exact: a weekly period becomes nodes of a segment tree over the
 * 2,048 slots that hold a day's 1,440 minutes (at most two per level), an age bound the
 * nodes of one over ages 0..255 it excludes, and a point query is the union of one node per
 * level. Single-threaded; works inside the caller's read or write transaction. */
#include <stdlib.h>
#include <string.h>

#include "dirbits.h"
#include "dirindex_int.h"
#include "refnet_error.h"
#include "wire.h"
#include "xmalloc.h"

/* Levels of the segment trees: 2^11 minute slots hold a day, 2^8 ages hold WIRE_MAX_AGE. */
#define DIRFAST_DAY_LEVELS 11
#define DIRFAST_AGE_LEVELS 8
#define DIRFAST_AGES       (1u << DIRFAST_AGE_LEVELS)
/* Availability times are kept by the minute since 1970, in a tree of 2^26 minutes (to 2097);
 * later times count as its last minute. */
#define DIRFAST_TIME_LEVELS 26
#define DIRFAST_MINUTE_MS   60000ULL
/* A result this small (plus one in 1,024 of the directory) is ranked whole, from its facets:
 * cheaper than walking names for it. */
#define DIRFAST_SMALL 64
/* A posting list longer than this many times the candidates is checked by lookups of each
 * candidate instead of being read whole. */
#define DIRFAST_LOOKUP_RATIO 4

/* ---- the sets of a service ---------------------------------------------------------------- */

static dk_t
dirfast_set(char kind)
{
    dk_t k = { .n = 0 };
    dk_byte(&k, 'b');
    dk_byte(&k, (uint8_t)kind);
    return k;
}

static dk_t
dirfast_lang_set(const char *lang)
{
    dk_t k = dirfast_set('L');
    for (const char *p = lang; *p; p++)
        dk_byte(&k, (uint8_t)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p));
    dk_byte(&k, 0);
    return k;
}

/* A node of one of the segment trees: 'O' (a weekday's minutes: `day` is the weekday), 'Y'
 * (ages) or 'U' (minutes since 1970 of the last availability change); the node at `level`
 * with index `idx` covers [idx << level, (idx + 1) << level). */
static dk_t
dirfast_node(char kind, unsigned day, unsigned level, unsigned idx)
{
    dk_t k = dirfast_set(kind);
    if (kind == 'O')
        dk_byte(&k, (uint8_t)day);
    dk_byte(&k, (uint8_t)level);
    dk_byte(&k, (uint8_t)(idx >> 16));
    dk_byte(&k, (uint8_t)(idx >> 8));
    dk_byte(&k, (uint8_t)idx);
    return k;
}

/* Adds the nodes of tree `kind` that cover [lo, hi): at most two per level. */
static void
dirfast_cover(dkset_t *s, char kind, unsigned day, unsigned lo, unsigned hi)
{
    for (unsigned level = 0; lo < hi; level++, lo >>= 1, hi >>= 1) {
        if (lo & 1u)
            dkset_add(s, dirfast_node(kind, day, level, lo++));
        if (hi & 1u)
            dkset_add(s, dirfast_node(kind, day, level, --hi));
    }
}

/* The nodes of tree `kind` on the path of point `x`, one per level 0..levels. */
static size_t
dirfast_path(dk_t *out, char kind, unsigned day, unsigned x, unsigned levels)
{
    for (unsigned l = 0; l <= levels; l++)
        out[l] = dirfast_node(kind, day, l, x >> l);
    return levels + 1;
}

static unsigned
dirfast_minute(uint64_t ms)
{
    uint64_t m = ms / DIRFAST_MINUTE_MS, last = (1u << DIRFAST_TIME_LEVELS) - 1;
    return (unsigned)(m < last ? m : last);
}

/* Opening hours, as replica_schedule_open reads them. */
static void
dirfast_schedule_sets(const Refnet__Service *svc, dkset_t *s)
{
    for (size_t i = 0; i < svc->n_schedules; i++) {
        const Refnet__Schedule *sc = svc->schedules[i];
        unsigned opens = sc->opens_at, closes = sc->closes_at;
        if (opens >= WIRE_DAY_MINUTES || closes > WIRE_DAY_MINUTES)
            continue; /* refused by validation; never indexed */
        for (int d = 0; d < 7; d++) {
            if (!(sc->weekdays >> d & 1u))
                continue;
            if (closes > opens) {
                dirfast_cover(s, 'O', (unsigned)d, opens, closes);
            } else {
                dirfast_cover(s, 'O', (unsigned)d, opens, WIRE_DAY_MINUTES);
                dirfast_cover(s, 'O', (unsigned)(d + 1) % 7, 0, closes);
            }
        }
    }
}

/* The ages a service is not for (replica_age_ok), within 0..DIRFAST_AGES-1. */
static void
dirfast_age_sets(const Refnet__Service *svc, dkset_t *s)
{
    unsigned lo = svc->minimum_age < DIRFAST_AGES ? svc->minimum_age : DIRFAST_AGES;
    dirfast_cover(s, 'Y', 0, 0, lo);
    if (svc->maximum_age > 0 && svc->maximum_age + 1 < DIRFAST_AGES)
        dirfast_cover(s, 'Y', 0, svc->maximum_age + 1, DIRFAST_AGES);
}

void
dirfast_service_sets(const Refnet__Service *svc, dkset_t *s)
{
    bool accepting = svc->intake && svc->intake->accepting;
    dkset_add(s, dirfast_set('V'));
    if (accepting)
        dkset_add(s, dirfast_set('C'));
    if (accepting && svc->capacity && svc->capacity->available > 0) {
        dk_t path[DIRFAST_TIME_LEVELS + 1];
        size_t n = dirfast_path(path, 'U', 0, dirfast_minute(svc->capacity->updated_at_ms),
                                DIRFAST_TIME_LEVELS);
        dkset_add(s, dirfast_set('A'));
        for (size_t i = 0; i < n; i++)
            dkset_add(s, path[i]);
    }
    for (size_t i = 0; i < svc->n_languages; i++)
        dkset_add(s, dirfast_lang_set(svc->languages[i]));
    dirfast_schedule_sets(svc, s);
    dirfast_age_sets(svc, s);
    dkset_sort_unique(s);
}

/* ---- building the match set --------------------------------------------------------------- */

typedef struct {
    MDB_txn *txn;
    const store_t *st;
    const replica_query_t *q;
    dirbits_t m, tmp;
    uint32_t max; /* highest docno */
    MDB_cursor *facets;
    dirindex_result_t *out;
    size_t cap, need, small;
} fast_t;

/* A posting list of the query (a word or the taxonomy code) and its length. */
typedef struct {
    dk_t term;
    size_t n;
} list_t;

static int
list_cmp(const void *a, const void *b)
{
    const list_t *x = a, *y = b;
    return x->n < y->n ? -1 : x->n > y->n;
}

/* ORs the docnos of posting list `term` into *into. */
static int
dirfast_read_list(fast_t *f, const dk_t *term, dirbits_t *into)
{
    MDB_cursor *cur = NULL;
    MDB_val k = { .mv_size = term->n, .mv_data = (void *)term->b }, v;
    int rc = mdb_cursor_open(f->txn, dirindex_db(f->st), &cur);
    if (rc != 0)
        return store_err(rc);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *b = k.mv_data;
        if (k.mv_size != term->n + 4 || memcmp(b, term->b, term->n) != 0)
            break;
        b += term->n;
        dirbits_set(into, (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]);
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

/* Keeps the candidates that have a posting in `term`, one lookup each (candidates come in
 * docno order, so the cursor moves forward through the list). */
static int
dirfast_probe_list(fast_t *f, const dk_t *term)
{
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(f->txn, dirindex_db(f->st), &cur);
    if (rc != 0)
        return store_err(rc);
    for (uint32_t d = 0; rc == 0 && dirbits_next(&f->m, &d); d++) {
        dk_t k = *term;
        dk_docno(&k, d);
        MDB_val key = { .mv_size = k.n, .mv_data = k.b }, v;
        rc = mdb_cursor_get(cur, &key, &v, MDB_SET);
        if (rc == MDB_NOTFOUND)
            dirbits_clear(&f->m, d);
        rc = rc == MDB_NOTFOUND ? 0 : rc;
    }
    mdb_cursor_close(cur);
    return rc == 0 ? 0 : store_err(rc);
}

/* Intersects the candidates with the words and taxonomy of the query; starts from every live
 * service when there are none. */
static int
dirfast_lists(fast_t *f, const dirindex_words_t *words)
{
    list_t l[DIRINDEX_QUERY_WORDS + 1];
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < words->n; i++)
        l[n++].term = dk_term('w', words->word[i], true);
    if (f->q->taxonomy && f->q->taxonomy[0])
        l[n++].term = dk_term('x', f->q->taxonomy, true);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = dirindex_read_count(f->txn, f->st, &l[i].term, &l[i].n);
    if (rc != 0)
        return rc;
    if (n == 0) {
        dk_t live = dirfast_set('V');
        return dirbits_load(f->txn, dirindex_db(f->st), live.b, live.n, &f->m);
    }
    qsort(l, n, sizeof *l, list_cmp);
    rc = dirfast_read_list(f, &l[0].term, &f->m);
    for (size_t i = 1; rc == 0 && i < n; i++) {
        if (l[i].n > DIRFAST_LOOKUP_RATIO * dirbits_count(&f->m)) {
            rc = dirfast_probe_list(f, &l[i].term);
            continue;
        }
        dirbits_zero(&f->tmp);
        rc = dirfast_read_list(f, &l[i].term, &f->tmp);
        dirbits_and(&f->m, &f->tmp);
    }
    return rc;
}

/* Loads the union of `n` stored sets into tmp, then keeps (or, with `remove`, drops) its
 * members from *into. */
static int
dirfast_filter(fast_t *f, const dk_t *sets, size_t n, bool remove, dirbits_t *into)
{
    int rc = 0;
    dirbits_zero(&f->tmp);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = dirbits_load(f->txn, dirindex_db(f->st), sets[i].b, sets[i].n, &f->tmp);
    if (rc == 0 && remove)
        dirbits_andnot(into, &f->tmp);
    else if (rc == 0)
        dirbits_and(into, &f->tmp);
    return rc;
}

/* The stored-set filters: language, accepting, available, opening hours, age. */
static int
dirfast_sets(fast_t *f)
{
    const replica_query_t *q = f->q;
    dk_t nodes[DIRFAST_DAY_LEVELS + 1];
    int rc = 0;
    if (q->language && q->language[0]) {
        nodes[0] = dirfast_lang_set(q->language);
        rc = dirfast_filter(f, nodes, 1, false, &f->m);
    }
    if (rc == 0 && q->accepting) {
        nodes[0] = dirfast_set('C');
        rc = dirfast_filter(f, nodes, 1, false, &f->m);
    }
    if (rc == 0 && q->available) {
        nodes[0] = dirfast_set('A');
        rc = dirfast_filter(f, nodes, 1, false, &f->m);
    }
    if (rc == 0 && q->open_now) {
        size_t n = dirfast_path(nodes, 'O', q->weekday % 7, q->minute % WIRE_DAY_MINUTES,
                                DIRFAST_DAY_LEVELS);
        rc = dirfast_filter(f, nodes, n, false, &f->m);
    }
    if (rc == 0 && q->has_age && q->age < DIRFAST_AGES) {
        size_t n = dirfast_path(nodes, 'Y', 0, q->age, DIRFAST_AGE_LEVELS);
        rc = dirfast_filter(f, nodes, n, true, &f->m);
    }
    return rc;
}

int
dirfast_gate(MDB_txn *txn, const store_t *st, const replica_query_t *q, dirbits_t *gate)
{
    fast_t f = { .txn = txn, .st = st, .q = q };
    uint32_t max = 0;
    dk_t live = dirfast_set('V');
    int rc = dirindex_max_docno(txn, st, &max);
    if (rc != 0)
        return rc;
    dirbits_init(&f.m, max);
    dirbits_init(&f.tmp, max);
    rc = dirbits_load(txn, dirindex_db(st), live.b, live.n, &f.m);
    if (rc == 0)
        rc = dirfast_sets(&f);
    dirbits_free(&f.tmp);
    if (rc != 0)
        dirbits_free(&f.m);
    *gate = f.m;
    return rc;
}

/* ---- ranking ------------------------------------------------------------------------------ */

static void
dirfast_push(dirindex_result_t *out, size_t *cap, const replica_rank_t *r)
{
    if (out->n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        out->ranks = xrealloc(out->ranks, *cap * sizeof *out->ranks);
    }
    out->ranks[out->n++] = *r;
}

/* Ranks every member of `set` from its facet into out (unordered). */
static int
dirfast_rank_all(fast_t *f, const dirbits_t *set)
{
    int rc = 0;
    for (uint32_t d = 0; rc >= 0 && dirbits_next(set, &d); d++) {
        replica_rank_t r;
        rc = dirindex_rank_doc(f->facets, f->q, d, &r);
        f->out->scanned++;
        if (rc == 1)
            dirfast_push(f->out, &f->cap, &r);
    }
    return rc < 0 ? rc : 0;
}

/* Walks the names in order and appends members of `set` not in `skip` (may be NULL) until
 * out holds f->need ranks. */
static int
dirfast_walk_names(fast_t *f, const dirbits_t *set, const dirbits_t *skip)
{
    MDB_cursor *cur = NULL;
    char start[] = "N";
    MDB_val k = { .mv_size = 1, .mv_data = start }, v;
    int rc = mdb_cursor_open(f->txn, dirindex_db(f->st), &cur);
    if (rc != 0)
        return store_err(rc);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && f->out->n < f->need;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint32_t d;
        replica_rank_t r;
        if (((const uint8_t *)k.mv_data)[0] != 'N' || v.mv_size != sizeof d)
            break;
        memcpy(&d, v.mv_data, sizeof d);
        f->out->scanned++;
        if (!dirbits_has(set, d) || (skip && dirbits_has(skip, d)))
            continue;
        int mrc = dirindex_rank_doc(f->facets, f->q, d, &r);
        if (mrc < 0) {
            rc = mrc;
            break;
        }
        if (mrc == 1)
            dirfast_push(f->out, &f->cap, &r);
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : (rc < 0 ? rc : store_err(rc));
}

/* Keeps in *ready only the services whose availability is fresh: changed at or after
 * t0 = now - stale_after. Every minute after t0's comes from the time tree (at most two
 * nodes per level); the services changed in t0's own minute are told by their facet. */
static int
dirfast_fresh(fast_t *f, dirbits_t *ready)
{
    const replica_query_t *q = f->q;
    dkset_t later = { 0 };
    dirbits_t edge = { 0 };
    if (q->stale_after_ms == 0 || q->now_ms <= q->stale_after_ms)
        return 0; /* nothing can be stale */
    unsigned m0 = dirfast_minute(q->now_ms - q->stale_after_ms);
    dk_t leaf = dirfast_node('U', 0, 0, m0);
    dirfast_cover(&later, 'U', 0, m0 + 1, 1u << DIRFAST_TIME_LEVELS);
    int rc = dirfast_filter(f, later.k, later.n, false, ready);
    free(later.k);
    dirbits_init(&edge, f->max);
    if (rc == 0)
        rc = dirbits_load(f->txn, dirindex_db(f->st), leaf.b, leaf.n, &edge);
    for (uint32_t d = 0; rc >= 0 && dirbits_next(&edge, &d); d++) {
        replica_rank_t r;
        rc = dirindex_rank_doc(f->facets, q, d, &r);
        if (rc == 1 && r.ready && dirbits_has(&f->m, d))
            dirbits_set(ready, d);
    }
    dirbits_free(&edge);
    return rc < 0 ? rc : 0;
}

static int
dirfast_cmp_default(const void *a, const void *b)
{
    return replica_rank_cmp(a, b, REPLICA_SORT_DEFAULT);
}

/* The default order: ready services (available, accepting, fresh) first, each group by name.
 * The ready matches are a set of their own; when it is small (or shorter than the page) it
 * is ranked whole and the page is filled with the others in name order, otherwise the walk
 * over names takes ready ones only. */
static int
dirfast_rank_default(fast_t *f)
{
    dirbits_t ready = { 0 };
    dk_t a = dirfast_set('A');
    dirbits_init(&ready, f->max);
    int rc = dirbits_load(f->txn, dirindex_db(f->st), a.b, a.n, &ready);
    dirbits_and(&ready, &f->m);
    if (rc == 0)
        rc = dirfast_fresh(f, &ready);
    size_t n_ready = rc == 0 ? dirbits_count(&ready) : 0;
    if (rc == 0 && (n_ready <= f->small || n_ready < f->need)) {
        rc = dirfast_rank_all(f, &ready);
        if (f->out->n > 1) /* no ranks: a NULL array, which qsort may not be given */
            qsort(f->out->ranks, f->out->n, sizeof *f->out->ranks, dirfast_cmp_default);
        if (rc == 0 && f->out->n < f->need)
            rc = dirfast_walk_names(f, &f->m, &ready);
    } else if (rc == 0) {
        rc = dirfast_walk_names(f, &ready, NULL);
    }
    dirbits_free(&ready);
    return rc;
}

static int
dirfast_rank(fast_t *f)
{
    f->out->ordered = true;
    if (f->out->total <= f->small) {
        f->out->ordered = false;
        return dirfast_rank_all(f, &f->m);
    }
    if (f->q->sort != REPLICA_SORT_DEFAULT)
        return dirfast_walk_names(f, &f->m, NULL);
    return dirfast_rank_default(f);
}

/* ---- the search --------------------------------------------------------------------------- */

static bool
dirfast_answers(const replica_query_t *q)
{
    if (q->has_near || (q->has_age && q->age >= DIRFAST_AGES))
        return false;
    return q->sort == REPLICA_SORT_DEFAULT || q->sort == REPLICA_SORT_NAME ||
           q->sort == REPLICA_SORT_DISTANCE; /* no distances: name order */
}

/* How many ranks the page needs: through the end of q's page, at most every match. */
static size_t
dirfast_need(const replica_query_t *q, size_t total)
{
    size_t page = q->page ? q->page : 1, limit = q->limit ? q->limit : 1;
    if (page - 1 > total / limit)
        return total;
    return page * limit < total ? page * limit : total;
}

int
dirfast_search(MDB_txn *txn,
               const store_t *st,
               const replica_query_t *q,
               const dirindex_words_t *words,
               dirindex_result_t *out)
{
    fast_t f = { .txn = txn, .st = st, .q = q, .out = out };
    uint32_t max = 0;
    if (!dirfast_answers(q))
        return 0;
    int rc = dirindex_max_docno(txn, st, &max);
    if (rc != 0)
        return rc;
    f.max = max;
    dirbits_init(&f.m, max);
    dirbits_init(&f.tmp, max);
    out->kind = 'B';
    f.small = DIRFAST_SMALL + max / 1024;
    rc = mdb_cursor_open(txn, dirindex_db(st), &f.facets);
    rc = rc == 0 ? dirfast_lists(&f, words) : store_err(rc);
    if (rc == 0)
        rc = dirfast_sets(&f);
    if (rc == 0) {
        out->total = dirbits_count(&f.m);
        f.need = dirfast_need(q, out->total);
        rc = dirfast_rank(&f);
    }
    if (f.facets)
        mdb_cursor_close(f.facets);
    dirbits_free(&f.m);
    dirbits_free(&f.tmp);
    if (rc != 0) {
        free(out->ranks);
        memset(out, 0, sizeof *out);
        return rc;
    }
    return 1;
}
