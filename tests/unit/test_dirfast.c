/* Unit tests of dirfast, the search over docno sets: opening hours to the minute (periods
 * at any minute, past midnight, every minute at the edge of a period), ages 0..160, and the
 * ranking shortcuts (ready first with stale and unready services, deep pages, name order,
 * large and small results), each compared with the full scan (replica_scan_search). */
#include "test_node_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_search_fixture.h"

#include "dirindex.h"
#include "replica.h"

#define NOW    1767614400000ULL
#define DAY_MS 86400000ULL
#define N_SVC  1500

static unsigned
rnd(unsigned n)
{
    return tsf_rnd(n);
}

typedef struct {
    Refnet__Service svc;
    Refnet__Capacity cap;
    Refnet__Intake in;
    Refnet__Schedule sched[3];
    Refnet__Schedule *sp[3];
    char id[16], name[32], *lang[1];
} svc_t;

static svc_t S[N_SVC];
static const char *const NAMES[] = { "Alder", "Birch", "Cedar", "Dogwood", "Elm" };

static void
gen(svc_t *g, unsigned i)
{
    Refnet__Service s = REFNET__SERVICE__INIT;
    Refnet__Capacity c = REFNET__CAPACITY__INIT;
    Refnet__Intake in = REFNET__INTAKE__INIT;
    g->svc = s;
    g->cap = c;
    g->in = in;
    snprintf(g->id, sizeof g->id, "s%04u", i);
    /* Few distinct names: ties are broken by id. */
    snprintf(g->name, sizeof g->name, "%s %u", NAMES[rnd(5)], rnd(40));
    g->svc.id = g->id;
    g->svc.name = g->name;
    g->svc.n_schedules = rnd(4);
    for (size_t k = 0; k < g->svc.n_schedules; k++) {
        Refnet__Schedule sc = REFNET__SCHEDULE__INIT;
        sc.weekdays = 1 + rnd(127);
        sc.opens_at = rnd(1440);
        do
            sc.closes_at = 1 + rnd(1440);
        while (sc.closes_at == sc.opens_at);
        g->sched[k] = sc;
        g->sp[k] = &g->sched[k];
    }
    g->svc.schedules = g->sp;
    g->svc.minimum_age = rnd(2) ? 0 : rnd(30);
    g->svc.maximum_age = rnd(2) ? 0 : g->svc.minimum_age + rnd(130);
    g->lang[0] = (char *)(rnd(2) ? "es" : "en");
    g->svc.n_languages = 1;
    g->svc.languages = g->lang;
    g->in.accepting = rnd(4) != 0;
    g->svc.intake = &g->in;
    if (rnd(4) != 0) {
        g->cap.available = (int32_t)rnd(3);
        g->cap.maximum = 5;
        /* Any minute of the last three days (and a few ahead of the clock). */
        g->cap.updated_at_ms = NOW + 5 * 60000 - (uint64_t)rnd(3 * 1440) * 60000 - rnd(60000);
        g->svc.capacity = &g->cap;
    }
}

static void
apply(MDB_txn *txn, const store_t *st, svc_t *g, uint64_t seq)
{
    Refnet__DirUpdate up = REFNET__DIR_UPDATE__INIT;
    up.seq = seq;
    up.service_id = g->id;
    up.agency = (char *)"ag";
    up.service = &g->svc;
    assert_int_equal(replica_apply(txn, st, &up, NULL), 0);
}

static size_t fast_runs, shortcuts;

static void
expect_same(MDB_txn *txn, const store_t *st, const replica_query_t *q)
{
    tsf_run_t run = tsf_expect_same(txn, st, q);
    fast_runs += run.plan == 'B';
    /* A large result ranked without visiting every match: the name walk stopped early. */
    shortcuts += run.plan == 'B' && run.total > 200 && run.scanned < run.total;
}

static MDB_txn *
directory(nfx_t *fx)
{
    MDB_txn *txn = nfx_begin(fx, false);
    uint64_t seq = 1;
    for (unsigned i = 0; i < N_SVC; i++) {
        gen(&S[i], i);
        apply(txn, fx->st, &S[i], seq++);
    }
    /* Changes after the first version: the old sets must be left. */
    for (unsigned i = 0; i < N_SVC; i += 3) {
        gen(&S[i], i);
        apply(txn, fx->st, &S[i], seq++);
    }
    return txn;
}

static void
test_open_now_to_the_minute(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    MDB_txn *txn = directory(fx);
    replica_query_t q = { .open_now = true, .limit = 20, .now_ms = NOW, .stale_after_ms = DAY_MS };
    /* Every minute at the edge of some service's period, and random ones. */
    for (unsigned i = 0; i < 300; i++) {
        const svc_t *g = &S[rnd(N_SVC)];
        q.weekday = rnd(7);
        q.minute = rnd(1440);
        if (g->svc.n_schedules > 0 && rnd(2)) {
            const Refnet__Schedule *sc = g->svc.schedules[rnd((unsigned)g->svc.n_schedules)];
            unsigned edge = rnd(2) ? sc->opens_at : sc->closes_at;
            q.minute = (edge + 1440 + rnd(3) - 1) % 1440; /* before, at, after */
        }
        q.sort = rnd(2) ? REPLICA_SORT_DEFAULT : REPLICA_SORT_NAME;
        expect_same(txn, fx->st, &q);
    }
    assert_int_equal(fast_runs, 300);
    store_abort(&txn);
    nfx_destroy(&fx);
}

static void
test_ages(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    MDB_txn *txn = directory(fx);
    replica_query_t q = { .has_age = true, .limit = 15, .now_ms = NOW, .stale_after_ms = DAY_MS };
    for (unsigned age = 0; age <= 160; age++) {
        q.age = age;
        q.language = age % 2 ? "es" : NULL;
        expect_same(txn, fx->st, &q);
    }
    /* An age past the sets' range still answers, through the planned search. */
    q.age = 300;
    expect_same(txn, fx->st, &q);
    store_abort(&txn);
    nfx_destroy(&fx);
}

static void
test_ranking_and_pages(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    MDB_txn *txn = directory(fx);
    fast_runs = shortcuts = 0;
    for (unsigned i = 0; i < 400; i++) {
        replica_query_t q = { .now_ms = NOW, .stale_after_ms = DAY_MS };
        q.sort = rnd(3) ? REPLICA_SORT_DEFAULT : REPLICA_SORT_NAME;
        q.limit = 1 + rnd(60);
        q.page = 1 + (rnd(3) ? 0 : rnd(40)); /* deep pages, and pages past the end */
        q.accepting = rnd(4) == 0;
        q.available = rnd(6) == 0;
        q.language = rnd(3) == 0 ? "ES" : NULL;
        q.open_now = rnd(3) == 0;
        q.weekday = rnd(7);
        q.minute = rnd(1440);
        q.has_age = rnd(3) == 0;
        q.age = rnd(90);
        /* Windows from everything stale to nothing stale, cut at any minute. */
        static const uint64_t WINDOWS[] = { 1, 3600000, DAY_MS, 30 * DAY_MS, 0 };
        q.stale_after_ms = WINDOWS[rnd(5)] + (rnd(2) ? rnd(7200000) : 0);
        expect_same(txn, fx->st, &q);
    }
    assert_int_equal(fast_runs, 400);
    assert_true(shortcuts > 50);
    store_abort(&txn);
    nfx_destroy(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_now_to_the_minute),
        cmocka_unit_test(test_ages),
        cmocka_unit_test(test_ranking_and_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
