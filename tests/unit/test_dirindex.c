/* Unit tests of dirindex: words, index upkeep through replica_apply (change,
 * availability, withdrawal, build of an older replica), query plans, and a property test that
 * runs every combination of search filters over a random directory and compares the indexed
 * search with the full scan (same total, same ids in the same order, same distances). */
#include "test_node_fixture.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_search_fixture.h"

#include "dirindex.h"
#include "refnet_error.h"

/* 2026-01-05 12:00 UTC, and the staleness the node uses by default. */
#define NOW      1767614400000ULL
#define DAY_MS   86400000ULL
#define PROP_N   3000
#define PROP_SEQ 1

/* ---- a random directory ------------------------------------------------------------------ */

static const char *const WORDS[] = { "Harbor", "House",  "Detox",   "Youth", "Clinic",
                                     "Food",   "Pantry", "Legal",   "Peer",  "Recovery",
                                     "Women",  "Family", "Shelter", "niños", "Crisis" };
#define N_WORDS (sizeof WORDS / sizeof WORDS[0])
static const char *const CODES[] = { "BD",         "BD-1800",        "BD-1800.2000", "BD-1800.1500",
                                     "RX",         "RX-8450",        "RX-8450.1150", "BH-1800",
                                     "BH-1800.15", "detox",          "detox-youth",  "detoxify",
                                     "housing",    "housing-shelter" };
#define N_CODES (sizeof CODES / sizeof CODES[0])
static const char *const PARENTS[] = { "BD",    "BD-1800", "RX", "RX-8450", "BH-1800",
                                       "detox", "housing", "BH", "none" };
#define N_PARENTS (sizeof PARENTS / sizeof PARENTS[0])
static const char *const LANGS[] = { "en", "es", "ES", "zh", "vi", "pt-BR" };
#define N_LANGS (sizeof LANGS / sizeof LANGS[0])
/* Two metro areas and a place far from both. */
static const double METROS[][2] = { { 40.71, -74.00 }, { 45.52, -122.68 }, { -33.87, 151.21 } };

static unsigned
rnd(unsigned n)
{
    return tsf_rnd(n);
}

static double
rnd_real(double lo, double hi)
{
    return lo + (hi - lo) * (double)rnd(1000000) / 1000000.0;
}

/* A service with the storage its fields point to. */
typedef struct {
    Refnet__Service svc;
    Refnet__Capacity cap;
    Refnet__Intake in;
    Refnet__Schedule sched[3];
    Refnet__Schedule *sp[3];
    char id[16], name[80], desc[160];
    char *tax[3], *langs[3];
} gen_t;

static void
gen_text(char *buf, size_t len, unsigned words)
{
    buf[0] = '\0';
    for (unsigned i = 0; i < words; i++) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "%s%s", i ? (rnd(3) ? " " : ", ") : "", WORDS[rnd(N_WORDS)]);
    }
}

static void
gen_schedules(gen_t *g)
{
    static const uint32_t opens[] = { 0, 480, 540, 1020, 1320 };
    static const uint32_t closes[] = { 1440, 720, 1020, 1260, 360 };
    g->svc.n_schedules = rnd(4);
    for (size_t i = 0; i < g->svc.n_schedules; i++) {
        Refnet__Schedule s = REFNET__SCHEDULE__INIT;
        unsigned k = rnd(5);
        s.weekdays = 1 + rnd(127);
        s.opens_at = opens[k];
        s.closes_at = closes[k];
        g->sched[i] = s;
        g->sp[i] = &g->sched[i];
    }
    g->svc.schedules = g->sp;
}

static void
gen_availability(gen_t *g)
{
    g->svc.capacity = NULL;
    if (rnd(5) != 0) {
        g->cap.available = (int32_t)rnd(5) - 1;
        g->cap.maximum = 10;
        g->cap.updated_at_ms = NOW - rnd(3) * (DAY_MS / 2) - rnd(1000);
        g->svc.capacity = &g->cap;
    }
    g->in.accepting = rnd(3) != 0;
    g->svc.intake = rnd(8) ? &g->in : NULL;
}

static void
gen_service(gen_t *g, unsigned i)
{
    Refnet__Service s = REFNET__SERVICE__INIT;
    Refnet__Capacity c = REFNET__CAPACITY__INIT;
    Refnet__Intake in = REFNET__INTAKE__INIT;
    memset(g, 0, sizeof *g);
    g->svc = s;
    g->cap = c;
    g->in = in;
    snprintf(g->id, sizeof g->id, "s-%05u", i);
    gen_text(g->name, sizeof g->name, 1 + rnd(3));
    gen_text(g->desc, sizeof g->desc, rnd(6));
    g->svc.id = g->id;
    g->svc.agency = (char *)"ag";
    g->svc.name = g->name;
    g->svc.description = g->desc;
    g->svc.n_taxonomy = 1 + rnd(3);
    for (size_t t = 0; t < g->svc.n_taxonomy; t++)
        g->tax[t] = (char *)CODES[rnd(N_CODES)];
    g->svc.taxonomy = g->tax;
    g->svc.n_languages = rnd(3);
    for (size_t l = 0; l < g->svc.n_languages; l++)
        g->langs[l] = (char *)LANGS[rnd(N_LANGS)];
    g->svc.languages = g->langs;
    g->svc.has_location = rnd(6) != 0;
    if (g->svc.has_location) {
        const double *m = METROS[rnd(3)];
        g->svc.lat = m[0] + rnd_real(-0.4, 0.4);
        g->svc.lon = m[1] + rnd_real(-0.5, 0.5);
    }
    g->svc.minimum_age = rnd(3) ? 0 : (uint32_t)(10 + rnd(10));
    g->svc.maximum_age = rnd(3) ? 0 : (uint32_t)(g->svc.minimum_age + rnd(50));
    g->svc.updated_at_ms = NOW - rnd(1000000);
    gen_schedules(g);
    gen_availability(g);
}

static void
apply_gen(MDB_txn *txn, const store_t *st, gen_t *g, uint64_t seq)
{
    Refnet__DirUpdate up = REFNET__DIR_UPDATE__INIT;
    up.seq = seq;
    up.service_id = g->id;
    up.agency = (char *)"ag";
    up.service = &g->svc;
    assert_int_equal(replica_apply(txn, st, &up, NULL), 0);
}

/* ---- the two searches compared ------------------------------------------------------------ */

static size_t compared, nonempty;
/* How often each plan ran: the combinations must reach every posting list. */
static size_t plans[128];

static void
expect_same(MDB_txn *txn, const store_t *st, const replica_query_t *q)
{
    tsf_run_t run = tsf_expect_same(txn, st, q);
    /* Text, taxonomy and radius never walk every facet. */
    if ((q->text && q->text[0]) || q->taxonomy ||
        (q->has_near && q->radius_km > 0 && q->radius_km <= 100))
        assert_int_not_equal(run.plan, 'D');
    compared++;
    nonempty += run.total > 0;
    plans[(unsigned char)run.plan & 127]++;
}

enum {
    F_TEXT = 1,
    F_TAX = 2,
    F_NEAR = 4,
    F_LANG = 8,
    F_AGE = 16,
    F_OPEN = 32,
    F_AVAIL = 64,
    F_ACCEPT = 128,
    F_ALL = 256
};

static void
random_query(replica_query_t *q, unsigned mask, char *text, size_t len)
{
    memset(q, 0, sizeof *q);
    if (mask & F_TEXT) {
        gen_text(text, len, 1 + rnd(2));
        q->text = text;
    }
    if (mask & F_TAX)
        q->taxonomy = rnd(2) ? PARENTS[rnd(N_PARENTS)] : CODES[rnd(N_CODES)];
    if (mask & F_NEAR) {
        const double *m = METROS[rnd(3)];
        q->has_near = true;
        q->lat = m[0] + rnd_real(-0.3, 0.3);
        q->lon = m[1] + rnd_real(-0.3, 0.3);
        q->radius_km = rnd(4) ? rnd_real(0.5, 40.0) : (rnd(2) ? 0.0 : 3000.0);
    }
    if (mask & F_LANG)
        q->language = LANGS[rnd(N_LANGS)];
    q->has_age = mask & F_AGE;
    q->age = rnd(70);
    q->open_now = mask & F_OPEN;
    q->weekday = rnd(7);
    q->minute = rnd(1440);
    q->available = mask & F_AVAIL;
    q->accepting = mask & F_ACCEPT;
    q->now_ms = NOW;
    q->stale_after_ms = DAY_MS;
    q->sort = (replica_sort_t)rnd(5);
    q->limit = rnd(3) ? 1 + rnd(40) : 1000;
    q->page = rnd(3) ? 1 : 1 + rnd(4);
}

static void
test_every_filter_combination(void **state)
{
    (void)state;
    static gen_t gen[PROP_N];
    nfx_t *fx = nfx_new();
    MDB_txn *txn = nfx_begin(fx, false);
    uint64_t seq = PROP_SEQ;
    for (unsigned i = 0; i < PROP_N; i++) {
        gen_service(&gen[i], i);
        apply_gen(txn, fx->st, &gen[i], seq++);
    }
    /* Churn: new versions, availability changes, withdrawals. */
    for (unsigned r = 0; r < PROP_N / 2; r++) {
        unsigned i = rnd(PROP_N);
        if (rnd(4) == 0) {
            assert_int_equal(nfx_apply_withdraw(txn, fx->st, seq++, gen[i].id, "ag", NULL), 0);
        } else if (rnd(2) == 0) {
            gen_availability(&gen[i]);
            apply_gen(txn, fx->st, &gen[i], seq++);
        } else {
            gen_service(&gen[i], i);
            apply_gen(txn, fx->st, &gen[i], seq++);
        }
    }
    for (unsigned mask = 0; mask < F_ALL; mask++)
        for (int k = 0; k < 3; k++) {
            char text[160];
            replica_query_t q;
            random_query(&q, mask, text, sizeof text);
            expect_same(txn, fx->st, &q);
        }
    assert_int_equal(compared, F_ALL * 3);
    assert_true(nonempty > compared / 3);
    for (const char *k = "wxGglacD"; *k; k++)
        assert_true(plans[(unsigned char)*k] > 0);
    store_abort(&txn);
    nfx_destroy(&fx);
}

/* ---- smaller cases -------------------------------------------------------------------------- */

static void
test_words(void **state)
{
    (void)state;
    dirindex_words_t w = { .n = 0 };
    dirindex_tokenize("Detox-Youth  CLINIC, ni\xc3\xb1os! detox", &w, DIRINDEX_MAX_WORDS);
    assert_int_equal(w.n, 4);
    assert_string_equal(w.word[0], "detox");
    assert_string_equal(w.word[1], "youth");
    assert_string_equal(w.word[2], "clinic");
    assert_string_equal(w.word[3], "ni\xc3\xb1os");
    w.n = 0;
    dirindex_tokenize("aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd x", &w, 1);
    assert_int_equal(w.n, 1);
    assert_int_equal(strlen(w.word[0]), DIRINDEX_WORD_MAX);
    w.n = 0;
    dirindex_tokenize("  ,.;  ", &w, DIRINDEX_MAX_WORDS);
    assert_int_equal(w.n, 0);
}

static replica_result_t
search_text(MDB_txn *txn, const store_t *st, const char *text, bool available)
{
    replica_query_t q = { .text = text, .available = available, .limit = 10, .now_ms = NOW };
    replica_result_t r = { 0 };
    assert_int_equal(replica_search(txn, st, &q, &r), 0);
    return r;
}

static void
test_upkeep(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    MDB_txn *txn = nfx_begin(fx, false);
    gen_t g;
    gen_service(&g, 1);
    snprintf(g.name, sizeof g.name, "Harbor Detox");
    g.cap.available = 3;
    g.svc.capacity = &g.cap;
    g.in.accepting = true;
    g.svc.intake = &g.in;
    apply_gen(txn, fx->st, &g, 1);
    replica_result_t r = search_text(txn, fx->st, "detox harbor", true);
    assert_int_equal(r.total, 1);
    assert_int_equal(r.plan, 'B'); /* docno sets: no distance */
    replica_result_clear(&r);
    /* No places left: still found by its words, no longer as available. */
    g.cap.available = 0;
    apply_gen(txn, fx->st, &g, 2);
    r = search_text(txn, fx->st, "detox", true);
    assert_int_equal(r.total, 0);
    replica_result_clear(&r);
    r = search_text(txn, fx->st, "detox", false);
    assert_int_equal(r.total, 1);
    replica_result_clear(&r);
    /* Renamed: the old words go. */
    snprintf(g.name, sizeof g.name, "Lighthouse");
    apply_gen(txn, fx->st, &g, 3);
    r = search_text(txn, fx->st, "harbor", false);
    assert_int_equal(r.total, 0);
    replica_result_clear(&r);
    size_t live = 0;
    assert_int_equal(dirindex_live(txn, fx->st, &live), 0);
    assert_int_equal(live, 1);
    assert_int_equal(nfx_apply_withdraw(txn, fx->st, 4, g.id, "ag", NULL), 0);
    r = search_text(txn, fx->st, "lighthouse", false);
    assert_int_equal(r.total, 0);
    replica_result_clear(&r);
    assert_int_equal(dirindex_live(txn, fx->st, &live), 0);
    assert_int_equal(live, 0);
    /* Nothing of it is left in the index but the bookkeeping keys. */
    size_t entries = 0;
    assert_int_equal(nodedb_count(txn, fx->st, NODEDB_DIRINDEX, &entries), 0);
    assert_true(entries <= 3); /* "#built", "#next" and at most "#live" */
    store_abort(&txn);
    nfx_destroy(&fx);
}

/* A replica written before the index existed is indexed by the next change. */
static void
test_build_older_replica(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    MDB_txn *txn = nfx_begin(fx, false);
    gen_t g[3];
    for (unsigned i = 0; i < 3; i++) {
        Refnet__DirRecord rec = REFNET__DIR_RECORD__INIT;
        gen_service(&g[i], i);
        snprintf(g[i].name, sizeof g[i].name, "Old Clinic %u", i);
        rec.seq = i + 1;
        rec.agency = (char *)"ag";
        rec.service = &g[i].svc;
        assert_int_equal(store_put_msg(txn, store_db(fx->st, NODEDB_SERVICES), g[i].id,
                                       strlen(g[i].id), &rec.base),
                         0);
    }
    bool built = true;
    assert_int_equal(dirindex_is_built(txn, fx->st, &built), 0);
    assert_false(built);
    replica_result_t r = search_text(txn, fx->st, "clinic", false);
    assert_int_equal(r.total, 3);
    assert_int_equal(r.plan, 'S'); /* the full scan until the index is built */
    replica_result_clear(&r);
    gen_t extra;
    gen_service(&extra, 9);
    snprintf(extra.name, sizeof extra.name, "New Clinic");
    apply_gen(txn, fx->st, &extra, 4);
    assert_int_equal(dirindex_is_built(txn, fx->st, &built), 0);
    assert_true(built);
    r = search_text(txn, fx->st, "clinic", false);
    assert_int_equal(r.total, 4);
    assert_int_equal(r.plan, 'B');
    replica_result_clear(&r);
    store_abort(&txn);
    nfx_destroy(&fx);
}

/* The plan starts from the smallest list: a rare word beats a common taxonomy code, and a
 * taxonomy within a radius reads the combined cells. */
static void
test_plans(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    MDB_txn *txn = nfx_begin(fx, false);
    gen_t g;
    for (unsigned i = 0; i < 200; i++) {
        gen_service(&g, i);
        snprintf(g.name, sizeof g.name, "%s", i == 7 ? "Rare Place" : "Common Place");
        g.tax[0] = (char *)"BD-1800";
        g.svc.has_location = true;
        g.svc.lat = 40.7 + (double)i * 0.001;
        g.svc.lon = -74.0;
        apply_gen(txn, fx->st, &g, i + 1);
    }
    replica_query_t q = { .text = "rare", .taxonomy = "BD", .limit = 10, .now_ms = NOW };
    replica_result_t r = { 0 };
    assert_int_equal(replica_search(txn, fx->st, &q, &r), 0);
    assert_int_equal(r.plan, 'B'); /* from the rare word's list, the code probed */
    assert_int_equal(r.total, 1);
    assert_int_equal(r.scanned, 1);
    replica_result_clear(&r);
    replica_query_t near = { .taxonomy = "BD-1800",
                             .has_near = true,
                             .lat = 40.7,
                             .lon = -74.0,
                             .radius_km = 2.0,
                             .limit = 1000,
                             .now_ms = NOW };
    assert_int_equal(replica_search(txn, fx->st, &near, &r), 0);
    assert_int_equal(r.plan, 'G');
    assert_true(r.total > 10 && r.total < 200);
    assert_true(r.scanned < 200);
    replica_result_clear(&r);
    store_abort(&txn);
    nfx_destroy(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_upkeep),
        cmocka_unit_test(test_build_older_replica),
        cmocka_unit_test(test_plans),
        cmocka_unit_test(test_every_filter_combination),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
