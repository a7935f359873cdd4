/* replica: the node's copy of the network directory (see replica.h). */
#include "replica.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dirindex.h"
#include "dirsync.h"
#include "fields.h"
#include "log.h"
#include "nodedb.h"
#include "pbscan.h"
#include "refnet_error.h"
#include "wire.h"
#include "xmalloc.h"

/* A stored record is a service plus a few numbers: bounded by the frame that carried it. */
#define REPLICA_MAX_RECORD WIRE_MAX_FRAME
#define REPLICA_KEY_SEQ    "dir_seq"

static int
replica_read(MDB_txn *txn, const store_t *st, const char *id, pbuf_t **out)
{
    return store_get_msg(txn, store_db(st, NODEDB_SERVICES), id, strlen(id),
                         &refnet__dir_record__descriptor, out);
}

int
replica_head(MDB_txn *txn, const store_t *st, uint64_t *out)
{
    return store_get_u64(txn, store_db(st, NODEDB_META), REPLICA_KEY_SEQ, out);
}

/* Writes the update as the service's record unless the stored one is as new or newer. */
static int
replica_store(MDB_txn *txn, const store_t *st, const Refnet__DirUpdate *up, bool *changed)
{
    pbuf_t *old = NULL;
    Refnet__DirRecord rec = REFNET__DIR_RECORD__INIT;
    int rc = replica_read(txn, st, up->service_id, &old);

    *changed = false;
    if (rc == 0 && ((const Refnet__DirRecord *)pbuf_msg(old))->seq >= up->seq)
        goto out;
    if (rc != 0 && rc != REFNET_ENOTFOUND && rc != REFNET_EDECODE)
        goto out;
    rec.seq = up->seq;
    rec.agency = up->agency;
    rec.withdrawn = up->withdrawn;
    rec.service = up->withdrawn ? NULL : up->service;
    rc = store_put_msg(txn, store_db(st, NODEDB_SERVICES), up->service_id, strlen(up->service_id),
                       &rec.base);
    if (rc == 0) {
        const Refnet__DirRecord *was = old ? (const Refnet__DirRecord *)pbuf_msg(old) : NULL;
        rc = dirindex_update(txn, st, (was && !was->withdrawn) ? was->service : NULL, rec.service);
    }
    *changed = rc == 0;
out:
    pbuf_destroy(&old);
    return rc;
}

/* Builds the index of a replica stored before the index existed (once), so that every later
 * change only has to update it. */
static int
replica_index_ready(MDB_txn *txn, const store_t *st)
{
    bool built = false;
    size_t n = 0;
    int rc = dirindex_is_built(txn, st, &built);
    if (rc != 0 || built)
        return rc;
    rc = nodedb_count(txn, st, NODEDB_SERVICES, &n);
    if (rc != 0)
        return rc;
    return n == 0 ? dirindex_mark_built(txn, st) : dirindex_build(txn, st);
}

int
replica_apply(MDB_txn *txn, const store_t *st, const Refnet__DirUpdate *up, replica_apply_t *res)
{
    uint64_t head = 0;
    bool changed = false;
    int rc = replica_head(txn, st, &head);
    if (rc != 0)
        return rc;
    /* A live update must carry the record unless it is a tombstone; the validator checks
     * this too, but a record without a service would later read as an empty service. */
    if (!up->withdrawn && !up->service)
        return REFNET_EINVAL;
    rc = replica_index_ready(txn, st);
    if (rc == 0)
        rc = dirsync_track(txn, st, up); /* the digest (dirsync.h), before the record changes */
    if (rc != 0)
        return rc;
    rc = replica_store(txn, st, up, &changed);
    if (rc != 0)
        return rc;
    if (up->seq == head + 1)
        rc = store_put_u64(txn, store_db(st, NODEDB_META), REPLICA_KEY_SEQ, up->seq);
    if (res) {
        res->changed = changed;
        res->gap = up->seq > head + 1;
    }
    return rc;
}

int
replica_sync_done(MDB_txn *txn, const store_t *st, uint64_t seq)
{
    uint64_t head = 0;
    int rc = replica_head(txn, st, &head);
    if (rc != 0 || seq <= head)
        return rc;
    return store_put_u64(txn, store_db(st, NODEDB_META), REPLICA_KEY_SEQ, seq);
}

int
replica_get(MDB_txn *txn, const store_t *st, const char *id, pbuf_t **out)
{
    pbuf_t *pb = NULL;
    int rc = replica_read(txn, st, id, &pb);
    if (rc != 0)
        return rc;
    const Refnet__DirRecord *rec = (const Refnet__DirRecord *)pbuf_msg(pb);
    if (rec->withdrawn || !rec->service) {
        pbuf_destroy(&pb);
        return REFNET_ENOTFOUND;
    }
    *out = pb;
    return 0;
}

int
replica_service_name(MDB_txn *txn, const store_t *st, const char *id, char *out, size_t cap)
{
    MDB_val v;
    const uint8_t *svc = NULL;
    size_t svc_len = 0;
    uint64_t gone = 0;
    out[0] = '\0';
    int rc = store_get(txn, store_db(st, NODEDB_SERVICES), id, strlen(id), &v);
    if (!rc) {
        rc = pbscan_varint(v.mv_data, v.mv_size, FIELDS_DIR_RECORD_WITHDRAWN, &gone);
        rc = rc == REFNET_ENOTFOUND ? 0 : rc;
    }
    if (!rc && gone)
        rc = REFNET_ENOTFOUND;
    if (!rc)
        rc = pbscan_bytes(v.mv_data, v.mv_size, FIELDS_DIR_RECORD_SERVICE, &svc, &svc_len);
    if (!rc)
        rc = pbscan_string(svc, svc_len, FIELDS_SERVICE_NAME, out, cap);
    return rc;
}

/* Calls `visit` with every live record; stops at the first non-zero return. Records that do
 * not decode are skipped: one damaged value must not hide the rest of the directory. */
static int
replica_scan(MDB_txn *txn, const store_t *st, int (*visit)(void *ctx, pbuf_t **rec), void *ctx)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, store_db(st, NODEDB_SERVICES), &cur);
    if (rc != 0)
        return store_err(rc);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        pbuf_t *pb = NULL;
        if (pbuf_unpack(&pb, &refnet__dir_record__descriptor, v.mv_data, v.mv_size,
                        REPLICA_MAX_RECORD) != 0)
            continue;
        const Refnet__DirRecord *rec = (const Refnet__DirRecord *)pbuf_msg(pb);
        int vrc = 0;
        if (!rec->withdrawn && rec->service)
            vrc = visit(ctx, &pb);
        pbuf_destroy(&pb);
        if (vrc != 0) {
            mdb_cursor_close(cur);
            return vrc;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

static int
replica_count_visit(void *ctx, pbuf_t **rec)
{
    (void)rec;
    (*(size_t *)ctx)++;
    return 0;
}

int
replica_count(MDB_txn *txn, const store_t *st, size_t *out)
{
    bool built = false;
    int rc = dirindex_is_built(txn, st, &built);
    if (rc != 0)
        return rc;
    if (built)
        return dirindex_live(txn, st, out);
    *out = 0;
    return replica_scan(txn, st, replica_count_visit, out);
}

double
replica_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    if (a > 1.0)
        a = 1.0;
    return 2.0 * REPLICA_EARTH_KM * asin(sqrt(a));
}

bool
replica_taxonomy_match(const char *code, const char *want)
{
    size_t n = strlen(want);
    if (strncmp(code, want, n) != 0)
        return false;
    return code[n] == '\0' || code[n] == '-' || code[n] == '.';
}

bool
replica_same_ascii_case(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
        char cb = (*b >= 'A' && *b <= 'Z') ? (char)(*b - 'A' + 'a') : *b;
        if (ca != cb)
            return false;
    }
    return *a == *b;
}

bool
replica_is_stale(uint64_t cap_updated_ms, uint64_t now_ms, uint64_t stale_after_ms)
{
    return stale_after_ms > 0 && cap_updated_ms + stale_after_ms < now_ms;
}

bool
replica_schedule_open(
    uint32_t weekdays, uint32_t opens_at, uint32_t closes_at, unsigned weekday, unsigned minute)
{
    unsigned yesterday = (weekday + 6) % 7;
    if (closes_at > opens_at)
        return (weekdays >> weekday & 1u) && minute >= opens_at && minute < closes_at;
    /* Past midnight: the evening of a listed day, or the early hours after one. */
    return ((weekdays >> weekday & 1u) && minute >= opens_at) ||
           ((weekdays >> yesterday & 1u) && minute < closes_at);
}

bool
replica_age_ok(uint32_t minimum_age, uint32_t maximum_age, unsigned age)
{
    return age >= minimum_age && (maximum_age == 0 || age <= maximum_age);
}

/* ---- ranking ---------------------------------------------------------------------------- */

static int
replica_cmp_distance(const replica_rank_t *a, const replica_rank_t *b)
{
    if (a->has_distance != b->has_distance)
        return a->has_distance ? -1 : 1;
    if (a->has_distance && a->distance_km != b->distance_km)
        return a->distance_km < b->distance_km ? -1 : 1;
    return 0;
}

int
replica_rank_cmp(const replica_rank_t *a, const replica_rank_t *b, replica_sort_t sort)
{
    int c = 0;
    switch (sort) {
    case REPLICA_SORT_DEFAULT:
        c = a->ready != b->ready ? (a->ready ? -1 : 1) : replica_cmp_distance(a, b);
        break;
    case REPLICA_SORT_DISTANCE:
        c = replica_cmp_distance(a, b);
        break;
    case REPLICA_SORT_NAME:
        break;
    case REPLICA_SORT_UPDATED:
        c = a->cap_updated_ms != b->cap_updated_ms
                ? (a->cap_updated_ms > b->cap_updated_ms ? -1 : 1)
                : 0;
        break;
    case REPLICA_SORT_AVAILABLE:
        c = a->available != b->available ? (a->available > b->available ? -1 : 1)
                                         : replica_cmp_distance(a, b);
        break;
    }
    if (c == 0)
        c = strcmp(a->name, b->name);
    return c != 0 ? c : strcmp(a->id, b->id);
}

/* qsort has no context argument: one comparator per order. */
#define REPLICA_CMP(fn, mode)                                                                      \
    static int fn(const void *a, const void *b)                                                    \
    {                                                                                              \
        return replica_rank_cmp(a, b, mode);                                                       \
    }
REPLICA_CMP(replica_cmp_default, REPLICA_SORT_DEFAULT)
REPLICA_CMP(replica_cmp_dist, REPLICA_SORT_DISTANCE)
REPLICA_CMP(replica_cmp_name, REPLICA_SORT_NAME)
REPLICA_CMP(replica_cmp_updated, REPLICA_SORT_UPDATED)
REPLICA_CMP(replica_cmp_available, REPLICA_SORT_AVAILABLE)

/* Sorts items whose first member is a replica_rank_t. */
static void
replica_sort(void *items, size_t n, size_t size, replica_sort_t sort)
{
    static int (*const cmp[])(const void *, const void *) = {
        [REPLICA_SORT_DEFAULT] = replica_cmp_default,
        [REPLICA_SORT_DISTANCE] = replica_cmp_dist,
        [REPLICA_SORT_NAME] = replica_cmp_name,
        [REPLICA_SORT_UPDATED] = replica_cmp_updated,
        [REPLICA_SORT_AVAILABLE] = replica_cmp_available,
    };
    if (n > 1 && (size_t)sort < sizeof cmp / sizeof cmp[0])
        qsort(items, n, size, cmp[sort]);
}

/* A max-heap of indices into `r`, worst rank on top: the best `k` seen so far. */
typedef struct {
    const replica_rank_t *r;
    replica_sort_t sort;
    size_t *h, n;
} replica_heap_t;

static bool
replica_heap_worse(const replica_heap_t *hp, size_t a, size_t b)
{
    return replica_rank_cmp(&hp->r[hp->h[a]], &hp->r[hp->h[b]], hp->sort) > 0;
}

static void
replica_heap_swap(replica_heap_t *hp, size_t a, size_t b)
{
    size_t t = hp->h[a];
    hp->h[a] = hp->h[b];
    hp->h[b] = t;
}

static void
replica_heap_down(replica_heap_t *hp, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < hp->n && replica_heap_worse(hp, l, m))
            m = l;
        if (l + 1 < hp->n && replica_heap_worse(hp, l + 1, m))
            m = l + 1;
        if (m == i)
            return;
        replica_heap_swap(hp, i, m);
        i = m;
    }
}

static void
replica_heap_up(replica_heap_t *hp, size_t i)
{
    while (i > 0 && replica_heap_worse(hp, i, (i - 1) / 2)) {
        replica_heap_swap(hp, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

/* Puts the best `k` of `n` ranks, in order, at the front of `r` (the rest in any order). A
 * page of a large result needs only its first ranks ordered: one pass with a heap of k,
 * instead of sorting every match. */
static void
replica_top(replica_rank_t *r, size_t n, size_t k, replica_sort_t sort)
{
    if (k == 0 || k >= n / 4) {
        replica_sort(r, n, sizeof *r, sort);
        return;
    }
    replica_heap_t hp = { r, sort, xmalloc(k * sizeof(size_t)), 0 };
    for (size_t i = 0; i < n; i++) {
        if (hp.n < k) {
            hp.h[hp.n++] = i;
            replica_heap_up(&hp, hp.n - 1);
        } else if (replica_rank_cmp(&r[i], &r[hp.h[0]], sort) < 0) {
            hp.h[0] = i;
            replica_heap_down(&hp, 0);
        }
    }
    replica_rank_t *best = xmalloc(k * sizeof *best);
    for (size_t i = 0; i < k; i++)
        best[i] = r[hp.h[i]];
    replica_sort(best, k, sizeof *best, sort);
    memcpy(r, best, k * sizeof *best); /* ranks own nothing: overwriting loses nothing */
    free(best);
    free(hp.h);
}

/* The slice [*first, *first + *count) of `total` sorted matches that page q->page holds. */
static void
replica_page(const replica_query_t *q, size_t total, size_t *first, size_t *count)
{
    size_t page = q->page ? q->page : 1, limit = q->limit ? q->limit : 1;
    *first = (page - 1) > total / limit ? total : (page - 1) * limit;
    if (*first > total)
        *first = total;
    *count = total - *first < limit ? total - *first : limit;
}

/* ---- the brute-force search ------------------------------------------------------------- */

static bool
replica_match_words(const Refnet__Service *s, const char *text)
{
    dirindex_words_t *want = xcalloc(1, sizeof *want), *have = xcalloc(1, sizeof *have);
    bool ok = true;
    dirindex_tokenize(text, want, DIRINDEX_QUERY_WORDS);
    if (want->n > 0)
        dirindex_service_words(s, have);
    for (size_t i = 0; ok && i < want->n; i++) {
        ok = false;
        for (size_t j = 0; !ok && j < have->n; j++)
            ok = strcmp(want->word[i], have->word[j]) == 0;
    }
    free(want);
    free(have);
    return ok;
}

static bool
replica_match_taxonomy(const Refnet__Service *s, const char *want)
{
    for (size_t i = 0; i < s->n_taxonomy; i++)
        if (replica_taxonomy_match(s->taxonomy[i], want))
            return true;
    return false;
}

static bool
replica_match_language(const Refnet__Service *s, const char *want)
{
    for (size_t i = 0; i < s->n_languages; i++)
        if (replica_same_ascii_case(s->languages[i], want))
            return true;
    return false;
}

static bool
replica_open_at(const Refnet__Service *s, unsigned weekday, unsigned minute)
{
    for (size_t i = 0; i < s->n_schedules; i++) {
        const Refnet__Schedule *sc = s->schedules[i];
        if (replica_schedule_open(sc->weekdays, sc->opens_at, sc->closes_at, weekday, minute))
            return true;
    }
    return false;
}

/* The filters that need no distance, on the decoded Service. */
static bool
replica_match_plain(const replica_query_t *q, const Refnet__Service *s)
{
    bool accepting = s->intake && s->intake->accepting;
    if (q->text && q->text[0] && !replica_match_words(s, q->text))
        return false;
    if (q->taxonomy && q->taxonomy[0] && !replica_match_taxonomy(s, q->taxonomy))
        return false;
    if (q->language && q->language[0] && !replica_match_language(s, q->language))
        return false;
    if (q->accepting && !accepting)
        return false;
    if (q->available && !(s->capacity && s->capacity->available > 0 && accepting))
        return false;
    if (q->has_age && !replica_age_ok(s->minimum_age, s->maximum_age, q->age))
        return false;
    return !q->open_now || replica_open_at(s, q->weekday, q->minute);
}

/* Applies every filter of `q` to `s`; fills the ranking keys of a match. */
static bool
replica_match(const replica_query_t *q, const Refnet__Service *s, replica_rank_t *r)
{
    if (!replica_match_plain(q, s))
        return false;
    r->has_distance = false;
    if (q->has_near && s->has_location) {
        r->distance_km = replica_distance_km(q->lat, q->lon, s->lat, s->lon);
        r->has_distance = true;
    }
    if (q->has_near && q->radius_km > 0 && !(r->has_distance && r->distance_km <= q->radius_km))
        return false;
    bool accepting = s->intake && s->intake->accepting;
    r->id = s->id;
    r->name = s->name;
    r->available = s->capacity ? s->capacity->available : -1;
    r->cap_updated_ms = s->capacity ? s->capacity->updated_at_ms : 0;
    r->stale = s->capacity && replica_is_stale(r->cap_updated_ms, q->now_ms, q->stale_after_ms);
    r->ready = s->capacity && s->capacity->available > 0 && accepting && !r->stale;
    return true;
}

/* A match of the full scan: its ranking keys and the record they point into. */
typedef struct {
    replica_rank_t r; /* first: replica_sort sorts by it */
    pbuf_t *rec;
} replica_held_t;

typedef struct {
    const replica_query_t *q;
    replica_held_t *items;
    size_t n, cap;
} replica_collect_t;

static int
replica_collect_visit(void *ctx, pbuf_t **rec)
{
    replica_collect_t *c = ctx;
    const Refnet__DirRecord *r = (const Refnet__DirRecord *)pbuf_msg(*rec);
    replica_held_t h = { .rec = NULL };
    if (!replica_match(c->q, r->service, &h.r))
        return 0;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->items = xrealloc(c->items, c->cap * sizeof *c->items);
    }
    h.rec = *rec;
    *rec = NULL;
    c->items[c->n++] = h;
    return 0;
}

static replica_hit_t
replica_hit_of(const replica_rank_t *r, pbuf_t *rec)
{
    replica_hit_t h = { .rec = rec,
                        .distance_km = r->distance_km,
                        .has_distance = r->has_distance,
                        .stale = r->stale };
    return h;
}

int
replica_scan_search(MDB_txn *txn,
                    const store_t *st,
                    const replica_query_t *q,
                    replica_result_t *out)
{
    replica_collect_t c = { .q = q };
    size_t first = 0, count = 0;
    memset(out, 0, sizeof *out);
    int rc = replica_scan(txn, st, replica_collect_visit, &c);
    if (rc == 0) {
        replica_sort(c.items, c.n, sizeof *c.items, q->sort);
        replica_page(q, c.n, &first, &count);
        out->hits = xcalloc(count ? count : 1, sizeof *out->hits);
        for (size_t i = 0; i < count; i++) {
            out->hits[i] = replica_hit_of(&c.items[first + i].r, c.items[first + i].rec);
            c.items[first + i].rec = NULL;
        }
        out->n = count;
        out->total = c.n;
        out->plan = 'S';
        out->scanned = c.n;
    }
    for (size_t i = 0; i < c.n; i++)
        pbuf_destroy(&c.items[i].rec);
    free(c.items);
    return rc;
}

/* ---- the indexed search ----------------------------------------------------------------- */

/* Decodes the services of one page of ranked matches. */
static int
replica_load_page(MDB_txn *txn,
                  const store_t *st,
                  const replica_rank_t *ranks,
                  size_t count,
                  replica_result_t *out)
{
    out->hits = xcalloc(count ? count : 1, sizeof *out->hits);
    for (size_t i = 0; i < count; i++) {
        pbuf_t *rec = NULL;
        int rc = replica_get(txn, st, ranks[i].id, &rec);
        if (rc == REFNET_ENOTFOUND || rc == REFNET_EDECODE) {
            log_warn("directory index names service %s, which cannot be read", ranks[i].id);
            continue;
        }
        if (rc != 0)
            return rc;
        out->hits[out->n++] = replica_hit_of(&ranks[i], rec);
    }
    return 0;
}

int
replica_search(MDB_txn *txn, const store_t *st, const replica_query_t *q, replica_result_t *out)
{
    dirindex_result_t res = { 0 };
    size_t first = 0, count = 0;
    bool built = false;
    memset(out, 0, sizeof *out);
    int rc = dirindex_is_built(txn, st, &built);
    if (rc != 0)
        return rc;
    if (!built)
        return replica_scan_search(txn, st, q, out);
    rc = dirindex_search(txn, st, q, &res);
    if (rc == 0) {
        replica_page(q, res.total, &first, &count);
        if (!res.ordered)
            replica_top(res.ranks, res.n, first + count, q->sort);
        else if (res.n < first + count)
            count = res.n > first ? res.n - first : 0; /* the index lost members: log said */
        /* No hits leaves `ranks` NULL: no offset may be applied to it (UBSan). */
        rc = replica_load_page(txn, st, count ? res.ranks + first : NULL, count, out);
        out->total = res.total;
        out->plan = res.kind;
        out->scanned = res.scanned;
    }
    free(res.ranks);
    if (rc != 0)
        replica_result_clear(out);
    return rc;
}

void
replica_result_clear(replica_result_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->hits && i < r->n; i++)
        pbuf_destroy(&r->hits[i].rec);
    free(r->hits);
    memset(r, 0, sizeof *r);
}
