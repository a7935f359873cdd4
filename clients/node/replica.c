/* replica: the node's copy of the network directory (see replica.h). */
#include "replica.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nodedb.h"
#include "refnet_error.h"
#include "wire.h"
#include "xmalloc.h"

/* A stored record is a service plus a few numbers: bounded by the frame that carried it. */
#define REPLICA_MAX_RECORD WIRE_MAX_FRAME
#define REPLICA_KEY_SEQ    "dir_seq"
/* Mean Earth radius (IUGG), km. */
#define REPLICA_EARTH_KM 6371.0088

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
    *changed = rc == 0;
out:
    pbuf_destroy(&old);
    return rc;
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

static char
replica_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool
replica_text_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return true;
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && replica_lower(hay[i]) == replica_lower(needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

static bool
replica_match_text(const Refnet__Service *s, const char *text)
{
    if (replica_text_contains(s->name, text) || replica_text_contains(s->description, text))
        return true;
    for (size_t i = 0; i < s->n_taxonomy; i++)
        if (replica_text_contains(s->taxonomy[i], text))
            return true;
    return false;
}

static bool
replica_match_taxonomy(const Refnet__Service *s, const char *want)
{
    for (size_t i = 0; i < s->n_taxonomy; i++)
        if (replica_taxonomy_match(s->taxonomy[i], want))
            return true;
    return false;
}

/* True for services with free places that accept referrals. */
static bool
replica_is_available(const Refnet__Service *s)
{
    return s->capacity && s->capacity->available > 0 && s->intake && s->intake->accepting;
}

/* Applies every filter of `q` to `s`; fills the distance for near queries. */
static bool
replica_match(const replica_query_t *q, const Refnet__Service *s, replica_hit_t *hit)
{
    if (q->text && q->text[0] && !replica_match_text(s, q->text))
        return false;
    if (q->taxonomy && q->taxonomy[0] && !replica_match_taxonomy(s, q->taxonomy))
        return false;
    if (q->available && !replica_is_available(s))
        return false;
    hit->has_distance = false;
    if (q->has_near && s->has_location) {
        hit->distance_km = replica_distance_km(q->lat, q->lon, s->lat, s->lon);
        hit->has_distance = true;
    }
    if (q->has_near && q->radius_km > 0)
        return hit->has_distance && hit->distance_km <= q->radius_km;
    return true;
}

typedef struct {
    const replica_query_t *q;
    replica_hit_t *hits;
    size_t n, cap;
} replica_collect_t;

static int
replica_collect_visit(void *ctx, pbuf_t **rec)
{
    replica_collect_t *c = ctx;
    const Refnet__DirRecord *r = (const Refnet__DirRecord *)pbuf_msg(*rec);
    replica_hit_t hit = { 0 };
    if (!replica_match(c->q, r->service, &hit))
        return 0;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->hits = xrealloc(c->hits, c->cap * sizeof *c->hits);
    }
    hit.rec = *rec;
    *rec = NULL;
    c->hits[c->n++] = hit;
    return 0;
}

static const Refnet__Service *
replica_hit_service(const replica_hit_t *h)
{
    return ((const Refnet__DirRecord *)pbuf_msg(h->rec))->service;
}

static int
replica_cmp_name(const replica_hit_t *a, const replica_hit_t *b)
{
    const Refnet__Service *sa = replica_hit_service(a), *sb = replica_hit_service(b);
    int c = strcmp(sa->name, sb->name);
    return c != 0 ? c : strcmp(sa->id, sb->id);
}

static int
replica_cmp_distance(const void *pa, const void *pb)
{
    const replica_hit_t *a = pa, *b = pb;
    if (a->has_distance != b->has_distance)
        return a->has_distance ? -1 : 1;
    if (a->has_distance && a->distance_km != b->distance_km)
        return a->distance_km < b->distance_km ? -1 : 1;
    return replica_cmp_name(a, b);
}

static int
replica_cmp_by_name(const void *pa, const void *pb)
{
    return replica_cmp_name(pa, pb);
}

int
replica_search(
    MDB_txn *txn, const store_t *st, const replica_query_t *q, replica_hit_t **hits, size_t *n)
{
    replica_collect_t c = { .q = q };
    int rc = replica_scan(txn, st, replica_collect_visit, &c);
    if (rc != 0) {
        replica_hits_free(&c.hits, c.n);
        return rc;
    }
    if (c.n > 1)
        qsort(c.hits, c.n, sizeof *c.hits,
              q->has_near ? replica_cmp_distance : replica_cmp_by_name);
    while (c.n > q->limit) {
        c.n--;
        pbuf_destroy(&c.hits[c.n].rec);
    }
    *hits = c.hits;
    *n = c.n;
    return 0;
}

void
replica_hits_free(replica_hit_t **hits, size_t n)
{
    if (!hits || !*hits)
        return;
    for (size_t i = 0; i < n; i++)
        pbuf_destroy(&(*hits)[i].rec);
    free(*hits);
    *hits = NULL;
}
