/* Unit tests of replica: applying directory updates in any order, and search against a
 * brute-force model over a random directory. */
#include "test_node_fixture.h"

#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <strings.h>

#include <cmocka.h>

#include "refnet_error.h"
#include "wire.h"

static nfx_service_t
svc(const char *id, const char *agency, const char *name)
{
    nfx_service_t s = { .id = id, .agency = agency, .name = name, .ntax = 1, .available = -1 };
    s.taxonomy[0] = "food";
    return s;
}

static uint64_t
head_of(nfx_t *fx)
{
    MDB_txn *txn = nfx_begin(fx, true);
    uint64_t head = 99999;
    replica_head(txn, fx->st, &head);
    store_abort(&txn);
    return head;
}

static void
test_apply_in_order_advances_head(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    assert_non_null(fx);
    MDB_txn *txn = nfx_begin(fx, false);
    replica_apply_t res;
    nfx_service_t a = svc("a", "harbor", "A"), b = svc("b", "lighthouse", "B");
    assert_int_equal(nfx_apply_service(txn, fx->st, 1, &a, &res), 0);
    assert_true(res.changed);
    assert_false(res.gap);
    assert_int_equal(nfx_apply_service(txn, fx->st, 2, &b, &res), 0);
    assert_false(res.gap);
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(head_of(fx), 2);

    txn = nfx_begin(fx, false);
    size_t n = 0;
    assert_int_equal(replica_count(txn, fx->st, &n), 0);
    assert_int_equal(n, 2);
    pbuf_t *pb = NULL;
    assert_int_equal(replica_get(txn, fx->st, "b", &pb), 0);
    assert_string_equal(((Refnet__DirRecord *)pbuf_msg(pb))->agency, "lighthouse");
    assert_int_equal(((Refnet__DirRecord *)pbuf_msg(pb))->seq, 2);
    /* The name read in place is the decoded record's. */
    char name[WIRE_MAX_NAME + 1], tiny[1];
    assert_int_equal(replica_service_name(txn, fx->st, "b", name, sizeof name), 0);
    assert_string_equal(name, ((Refnet__DirRecord *)pbuf_msg(pb))->service->name);
    assert_int_equal(replica_service_name(txn, fx->st, "b", tiny, sizeof tiny), REFNET_ETOOLARGE);
    assert_int_equal(replica_service_name(txn, fx->st, "zz", name, sizeof name), REFNET_ENOTFOUND);
    assert_string_equal(name, "");
    pbuf_destroy(&pb);
    store_abort(&txn);
    nfx_destroy(&fx);
}

static void
test_old_update_never_undoes_newer(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    assert_non_null(fx);
    MDB_txn *txn = nfx_begin(fx, false);
    replica_apply_t res;
    nfx_service_t v1 = svc("a", "harbor", "Old name"), v2 = svc("a", "harbor", "New name");
    assert_int_equal(nfx_apply_service(txn, fx->st, 1, &v1, &res), 0);
    assert_int_equal(nfx_apply_service(txn, fx->st, 2, &v2, &res), 0);
    /* A replay of change 1 (catch-up overlapping live fan-out) is a no-op. */
    assert_int_equal(nfx_apply_service(txn, fx->st, 1, &v1, &res), 0);
    assert_false(res.changed);
    assert_false(res.gap);
    pbuf_t *pb = NULL;
    assert_int_equal(replica_get(txn, fx->st, "a", &pb), 0);
    assert_string_equal(((Refnet__DirRecord *)pbuf_msg(pb))->service->name, "New name");
    pbuf_destroy(&pb);
    store_abort(&txn);
    nfx_destroy(&fx);
}

static void
test_gap_detected_and_head_held(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    assert_non_null(fx);
    MDB_txn *txn = nfx_begin(fx, false);
    replica_apply_t res;
    nfx_service_t a = svc("a", "harbor", "A"), c = svc("c", "harbor", "C");
    assert_int_equal(nfx_apply_service(txn, fx->st, 1, &a, &res), 0);
    assert_int_equal(nfx_apply_service(txn, fx->st, 5, &c, &res), 0);
    assert_true(res.gap);     /* 2..4 are missing */
    assert_true(res.changed); /* the newer record is still kept */
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(head_of(fx), 1); /* the head stays until the catch-up ends */

    txn = nfx_begin(fx, false);
    nfx_service_t b = svc("b", "harbor", "B");
    assert_int_equal(nfx_apply_service(txn, fx->st, 2, &b, &res), 0);
    assert_false(res.gap);
    assert_int_equal(replica_sync_done(txn, fx->st, 5), 0);
    assert_int_equal(replica_sync_done(txn, fx->st, 3), 0); /* never moves back */
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(head_of(fx), 5);
    nfx_destroy(&fx);
}

static void
test_tombstones(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    assert_non_null(fx);
    MDB_txn *txn = nfx_begin(fx, false);
    replica_apply_t res;
    nfx_service_t a = svc("a", "harbor", "A");
    assert_int_equal(nfx_apply_service(txn, fx->st, 1, &a, &res), 0);
    assert_int_equal(nfx_apply_withdraw(txn, fx->st, 2, "a", "harbor", &res), 0);
    assert_true(res.changed);
    pbuf_t *pb = NULL;
    char name[WIRE_MAX_NAME + 1];
    assert_int_equal(replica_get(txn, fx->st, "a", &pb), REFNET_ENOTFOUND);
    assert_int_equal(replica_service_name(txn, fx->st, "a", name, sizeof name), REFNET_ENOTFOUND);
    size_t n = 9;
    assert_int_equal(replica_count(txn, fx->st, &n), 0);
    assert_int_equal(n, 0);
    /* The tombstone keeps its seq: the old upsert cannot resurrect the service. */
    assert_int_equal(nfx_apply_service(txn, fx->st, 1, &a, &res), 0);
    assert_false(res.changed);
    assert_int_equal(replica_get(txn, fx->st, "a", &pb), REFNET_ENOTFOUND);
    /* A later publish brings it back. */
    assert_int_equal(nfx_apply_service(txn, fx->st, 3, &a, &res), 0);
    assert_int_equal(replica_get(txn, fx->st, "a", &pb), 0);
    assert_int_equal(replica_service_name(txn, fx->st, "a", name, sizeof name), 0);
    assert_string_equal(name, ((Refnet__DirRecord *)pbuf_msg(pb))->service->name);
    pbuf_destroy(&pb);
    replica_query_t q = { .limit = 10 };
    replica_result_t r = { 0 };
    assert_int_equal(replica_search(txn, fx->st, &q, &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.total, 1);
    replica_result_clear(&r);
    assert_int_equal(replica_count(txn, fx->st, &n), 0);
    assert_int_equal(n, 1);
    store_abort(&txn);
    nfx_destroy(&fx);
}

static void
test_matchers(void **state)
{
    (void)state;
    assert_true(replica_taxonomy_match("detox", "detox"));
    assert_true(replica_taxonomy_match("detox-youth", "detox"));
    assert_true(replica_taxonomy_match("detox.inpatient", "detox"));
    assert_false(replica_taxonomy_match("detoxify", "detox"));
    assert_false(replica_taxonomy_match("det", "detox"));
    assert_true(replica_same_ascii_case("ES", "es"));
    assert_false(replica_same_ascii_case("es", "est"));
    /* 09:00-17:00 Monday to Friday (bits 0-4). */
    assert_true(replica_schedule_open(0x1F, 540, 1020, 0, 540));
    assert_false(replica_schedule_open(0x1F, 540, 1020, 0, 1020));
    assert_false(replica_schedule_open(0x1F, 540, 1020, 5, 600));
    /* 22:00-06:00 on Friday nights only: open late Friday and early Saturday. */
    assert_true(replica_schedule_open(1u << 4, 1320, 360, 4, 1400));
    assert_true(replica_schedule_open(1u << 4, 1320, 360, 5, 100));
    assert_false(replica_schedule_open(1u << 4, 1320, 360, 4, 100));
    assert_false(replica_schedule_open(1u << 4, 1320, 360, 6, 100));
    /* Sunday night runs into Monday. */
    assert_true(replica_schedule_open(1u << 6, 1320, 360, 0, 10));
    assert_true(replica_age_ok(0, 0, 99));
    assert_true(replica_age_ok(12, 17, 17));
    assert_false(replica_age_ok(12, 17, 18));
    assert_false(replica_age_ok(18, 0, 17));
    assert_true(replica_is_stale(1000, 1000 + 86400001, 86400000));
    assert_false(replica_is_stale(1000, 1000 + 86400000, 86400000));
    assert_false(replica_is_stale(0, UINT64_MAX / 2, 0));
    /* Paris to London, about 344 km. */
    double d = replica_distance_km(48.8566, 2.3522, 51.5074, -0.1278);
    assert_true(d > 340.0 && d < 348.0);
    assert_true(replica_distance_km(10, 10, 10, 10) < 1e-9);
}

/* ---- search against a brute-force model ----------------------------------------------- */

#define MODEL_N 120

static const char *const words[] = { "Harbor", "House", "Lighthouse", "Detox", "Food",
                                     "Bank",   "Legal", "Clinic",     "Peer",  "Recovery" };
static const char *const codes[] = { "detox",    "detox-youth", "detox.inpatient",
                                     "detoxify", "housing",     "housing-shelter",
                                     "food",     "legal-aid",   "peer-support" };
static const char *const queries[] = { "",     "house", "DETOX", "youth",
                                       "bank", "zzz",   "peer",  "services" };

typedef struct {
    char id[16], name[64], desc[64];
    const char *tax[3];
    size_t ntax;
    bool has_location, accepting, live;
    double lat, lon;
    int available;
    uint64_t seq;
} model_svc_t;

static unsigned rng_state = 12345;

static unsigned
rnd(unsigned n)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) % n;
}

static double
rnd_real(double lo, double hi)
{
    return lo + (hi - lo) * (double)rnd(1000000) / 1000000.0;
}

static void
model_make(model_svc_t *m, int i)
{
    memset(m, 0, sizeof *m);
    snprintf(m->id, sizeof m->id, "svc-%03d", i);
    snprintf(m->name, sizeof m->name, "%s %s", words[rnd(10)], words[rnd(10)]);
    snprintf(m->desc, sizeof m->desc, "%s services", rnd(2) ? words[rnd(10)] : "general");
    m->ntax = 1 + rnd(3);
    for (size_t t = 0; t < m->ntax; t++)
        m->tax[t] = codes[rnd(9)];
    m->has_location = rnd(5) != 0;
    m->lat = rnd_real(40.0, 41.0);
    m->lon = rnd_real(-74.5, -73.5);
    m->available = (int)rnd(4) - 1;
    m->accepting = rnd(3) != 0;
    m->live = true;
}

static void
model_apply(MDB_txn *txn, const store_t *st, model_svc_t *m, uint64_t seq)
{
    nfx_service_t s = { .id = m->id,
                        .agency = "ag",
                        .name = m->name,
                        .description = m->desc,
                        .ntax = m->ntax,
                        .has_location = m->has_location,
                        .lat = m->lat,
                        .lon = m->lon,
                        .available = m->available,
                        .accepting = m->accepting };
    for (size_t t = 0; t < m->ntax; t++)
        s.taxonomy[t] = m->tax[t];
    assert_int_equal(nfx_apply_service(txn, st, seq, &s, NULL), 0);
    m->seq = seq;
}

/* An independent distance: spherical law of cosines, close to haversine at these ranges. */
static double
model_distance(double lat1, double lon1, double lat2, double lon2)
{
    double r = M_PI / 180.0;
    double c =
        sin(lat1 * r) * sin(lat2 * r) + cos(lat1 * r) * cos(lat2 * r) * cos((lon2 - lon1) * r);
    if (c > 1.0)
        c = 1.0;
    return 6371.0088 * acos(c);
}

/* True when every word of `q` (letters and digits, any case) is a word of `text`. */
static bool
model_words_in(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; *p;) {
        while (*p && !isalnum((unsigned char)*p))
            p++;
        const char *start = p;
        while (*p && isalnum((unsigned char)*p))
            p++;
        if ((size_t)(p - start) == n && n > 0 && strncasecmp(start, word, n) == 0)
            return true;
    }
    return false;
}

static bool
model_tax_match(const char *code, const char *want)
{
    if (strcmp(code, want) == 0)
        return true;
    char a[80], b[80];
    snprintf(a, sizeof a, "%s-", want);
    snprintf(b, sizeof b, "%s.", want);
    return strncmp(code, a, strlen(a)) == 0 || strncmp(code, b, strlen(b)) == 0;
}

static bool
model_match(const model_svc_t *m, const replica_query_t *q, double *dist)
{
    if (!m->live)
        return false;
    if (q->text && q->text[0]) {
        bool hit = model_words_in(m->name, q->text) || model_words_in(m->desc, q->text);
        for (size_t t = 0; t < m->ntax; t++)
            hit = hit || model_words_in(m->tax[t], q->text);
        if (!hit)
            return false;
    }
    if (q->taxonomy) {
        bool hit = false;
        for (size_t t = 0; t < m->ntax; t++)
            hit = hit || model_tax_match(m->tax[t], q->taxonomy);
        if (!hit)
            return false;
    }
    if (q->available && !(m->available > 0 && m->accepting))
        return false;
    *dist = -1.0;
    if (q->has_near && m->has_location)
        *dist = model_distance(q->lat, q->lon, m->lat, m->lon);
    if (q->has_near && q->radius_km > 0)
        return *dist >= 0 && *dist <= q->radius_km;
    return true;
}

static void
random_query(replica_query_t *q)
{
    memset(q, 0, sizeof *q);
    q->text = queries[rnd(8)];
    q->taxonomy = rnd(3) == 0 ? (rnd(2) ? "detox" : codes[rnd(9)]) : NULL;
    q->available = rnd(4) == 0;
    q->has_near = rnd(2) == 0;
    q->lat = rnd_real(40.0, 41.0);
    q->lon = rnd_real(-74.5, -73.5);
    q->radius_km = q->has_near && rnd(2) ? rnd_real(1.0, 60.0) : 0.0;
    q->limit = rnd(4) == 0 ? 1 + rnd(10) : 1000;
    q->page = 1;
    q->sort = REPLICA_SORT_DISTANCE; /* the order checked below; test_dirindex covers the rest */
}

/* Queries that found something: the random queries must exercise real answers. */
static int nonempty_answers;

/* Checks one query: the replica's answer against the model's. */
static void
check_query(MDB_txn *txn, const store_t *st, const model_svc_t *model, const replica_query_t *q)
{
    replica_result_t r = { 0 };
    size_t n = 0, expect = 0;
    double dist[MODEL_N];
    bool want[MODEL_N];
    for (int i = 0; i < MODEL_N; i++) {
        want[i] = model_match(&model[i], q, &dist[i]);
        expect += want[i];
    }
    assert_int_equal(replica_search(txn, st, q, &r), 0);
    replica_hit_t *hits = r.hits;
    n = r.n;
    assert_int_equal(r.total, expect);
    assert_int_equal(n, expect < q->limit ? expect : q->limit);
    nonempty_answers += n > 0;
    for (size_t k = 0; k < n; k++) {
        const Refnet__Service *s = ((Refnet__DirRecord *)pbuf_msg(hits[k].rec))->service;
        int i = atoi(s->id + 4);
        assert_true(want[i]);
        assert_int_equal(hits[k].has_distance, dist[i] >= 0);
        if (hits[k].has_distance)
            assert_true(fabs(hits[k].distance_km - dist[i]) < 1e-3);
        if (k == 0)
            continue;
        const replica_hit_t *p = &hits[k - 1];
        const Refnet__Service *ps = ((Refnet__DirRecord *)pbuf_msg(p->rec))->service;
        int by_name = strcmp(ps->name, s->name);
        if (by_name == 0)
            by_name = strcmp(ps->id, s->id);
        if (q->has_near && p->has_distance != hits[k].has_distance)
            assert_true(p->has_distance); /* located services first */
        else if (q->has_near && p->has_distance && p->distance_km != hits[k].distance_km)
            assert_true(p->distance_km < hits[k].distance_km);
        else
            assert_true(by_name < 0);
    }
    /* With a limit, nothing left out may rank before the last result kept. */
    if (n == q->limit && n < expect && q->has_near && n > 0 && hits[n - 1].has_distance) {
        for (int i = 0; i < MODEL_N; i++) {
            bool kept = false;
            for (size_t k = 0; k < n; k++)
                kept = kept || strcmp(((Refnet__DirRecord *)pbuf_msg(hits[k].rec))->service->id,
                                      model[i].id) == 0;
            if (want[i] && !kept && dist[i] >= 0)
                assert_true(dist[i] >= hits[n - 1].distance_km - 1e-3);
        }
    }
    replica_result_clear(&r);
}

static void
test_search_against_model(void **state)
{
    (void)state;
    static model_svc_t model[MODEL_N];
    nfx_t *fx = nfx_new();
    assert_non_null(fx);
    MDB_txn *txn = nfx_begin(fx, false);
    uint64_t seq = 0;
    for (int i = 0; i < MODEL_N; i++) {
        model_make(&model[i], i);
        model_apply(txn, fx->st, &model[i], ++seq);
    }
    /* Churn: republish some, withdraw some, replay old updates. */
    for (int r = 0; r < 60; r++) {
        int i = (int)rnd(MODEL_N);
        if (rnd(3) == 0) {
            assert_int_equal(nfx_apply_withdraw(txn, fx->st, ++seq, model[i].id, "ag", NULL), 0);
            model[i].live = false;
        } else {
            model_make(&model[i], i);
            model_apply(txn, fx->st, &model[i], ++seq);
        }
    }
    for (int qn = 0; qn < 400; qn++) {
        replica_query_t q;
        random_query(&q);
        check_query(txn, fx->st, model, &q);
    }
    assert_true(nonempty_answers > 150);
    store_abort(&txn);
    nfx_destroy(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_in_order_advances_head),
        cmocka_unit_test(test_old_update_never_undoes_newer),
        cmocka_unit_test(test_gap_detected_and_head_held),
        cmocka_unit_test(test_tombstones),
        cmocka_unit_test(test_matchers),
        cmocka_unit_test(test_search_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
