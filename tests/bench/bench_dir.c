/* bench_dir: the directory benchmark's program (tests/bench/directory.sh).
 *
 *   bench_dir gen   --db DIR --services N [--map-mb M] [--batch B]
 *   bench_dir query --db DIR [--queries Q] [--scans S] [--kind K]   (K: one kind of the mix,
 *                                                               0..3, e.g. to profile it)
 *   bench_dir api   --node DIR [--queries Q]
 *
 * gen writes N synthetic services into the node store DIR (a node's DIR/db) through
 * replica_apply, B per write transaction, as DirUpdates from the broker would arrive:
 * taxonomy codes spread like a 211 taxonomy (a few large top-level branches, many small
 * leaves), locations around five metro areas, languages, weekly schedules, age bounds,
 * capacity and intake. query runs the search mix in this process against the indexed search
 * and, S times per query, against the full scan over the same data (replica_scan_search),
 * checking both give the same totals. api runs the mix through a running refnet-node's local
 * API (librefnet), end to end. Output is "key value" lines for the script. Random choices
 * come from a fixed seed, so runs are alike. Single-threaded. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_stats.h"
#include "nodedb.h"
#include "refnet.h"
#include "refnet_error.h"
#include "replica.h"
#include "wire_limits.h"
#include "xmalloc.h"

/* Benchmark "now": 2026-01-05 12:00 UTC, a Monday. */
#define BENCH_NOW_MS 1767614400000ULL
#define BENCH_DAY_MS 86400000ULL

static const char *const TOP[] = { "BD", "BH", "BM", "BR", "BT", "D", "F", "L",  "LF", "LH",
                                   "N",  "P",  "PH", "PL", "PN", "R", "T", "TH", "Y",  "YZ" };
#define N_TOP 20
/* Five metro areas (lat, lon) and their share of services (weights). */
static const double METRO[][3] = {
    { 40.7128, -74.0060, 35 }, { 34.0522, -118.2437, 25 }, { 41.8781, -87.6298, 15 },
    { 29.7604, -95.3698, 15 }, { 33.4484, -112.0740, 10 },
};
#define N_METRO 5
static const char *const NOUNS[] = {
    "detox",    "shelter",  "pantry",   "clinic",     "housing",   "recovery",   "counseling",
    "legal",    "food",     "meals",    "youth",      "family",    "women",      "veterans",
    "crisis",   "peer",     "support",  "treatment",  "methadone", "harm",       "reduction",
    "mental",   "health",   "dental",   "employment", "training",  "childcare",  "transit",
    "utility",  "rent",     "eviction", "immigrant",  "refugee",   "senior",     "disability",
    "hotline",  "outreach", "respite",  "sober",      "living",    "medication", "assisted",
    "naloxone", "syringe",  "testing",  "hiv",        "hepatitis", "prenatal",   "diapers",
    "clothing", "laundry",  "showers",  "mail",       "id",        "benefits",   "snap",
    "wic",      "tax",      "literacy", "esl",        "ged",       "tutoring",   "mentoring",
};
#define N_NOUNS (sizeof NOUNS / sizeof NOUNS[0])
static const char *const LANG[] = { "en", "es", "zh", "vi", "ko", "ru", "ar", "ht", "fr", "tl" };
static const unsigned LANG_PCT[] = { 92, 38, 6, 5, 4, 4, 3, 3, 3, 3 };
#define N_LANG 10

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t
rnd64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static unsigned
rnd(unsigned n)
{
    return (unsigned)(rnd64() % n);
}

static double
rnd_unit(void)
{
    return (double)(rnd64() >> 11) / 9007199254740992.0;
}

/* Zipf-like: small indices far more often (rank r with weight 1/(r+1)). */
static unsigned
rnd_zipf(unsigned n)
{
    double h = 0, x;
    for (unsigned i = 0; i < n; i++)
        h += 1.0 / (i + 1);
    x = rnd_unit() * h;
    for (unsigned i = 0; i < n; i++) {
        x -= 1.0 / (i + 1);
        if (x <= 0)
            return i;
    }
    return n - 1;
}

static double
rnd_gauss(void)
{
    double u = rnd_unit() + 1e-12, v = rnd_unit();
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

static unsigned
rnd_metro(void)
{
    unsigned x = rnd(100), acc = 0;
    for (unsigned m = 0; m < N_METRO; m++) {
        acc += (unsigned)METRO[m][2];
        if (x < acc)
            return m;
    }
    return 0;
}

/* ---- generation --------------------------------------------------------------------------- */

typedef struct {
    Refnet__Service svc;
    Refnet__Capacity cap;
    Refnet__Intake in;
    Refnet__Schedule sched[2];
    Refnet__Schedule *sp[2];
    char id[40], name[120], desc[400], codes[3][32], *tax[3], *langs[N_LANG];
} gen_t;

/* A code of the taxonomy: top level, second level (-NNNN) or leaf (-NNNN.NNN). */
static void
gen_code(char *buf, size_t len)
{
    unsigned top = rnd_zipf(N_TOP), mid = rnd_zipf(12), leaf = rnd_zipf(10), depth = rnd(10);
    if (depth == 0)
        snprintf(buf, len, "%s", TOP[top]);
    else if (depth < 4)
        snprintf(buf, len, "%s-%04u", TOP[top], 1000 + mid * 100);
    else
        snprintf(buf, len, "%s-%04u.%03u", TOP[top], 1000 + mid * 100, 100 + leaf * 50);
}

/* A word of the long tail ("term" + rank): log-uniform ranks, which is Zipf's law. */
static unsigned
rnd_tail(void)
{
    return (unsigned)exp(rnd_unit() * log(20000.0));
}

/* One word of the care vocabulary (each in about one service of 30), then `n` others. */
static void
gen_words(char *buf, size_t len, unsigned n)
{
    size_t used = (size_t)snprintf(buf, len, "%s", NOUNS[rnd((unsigned)N_NOUNS)]);
    for (unsigned i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, " term%u", rnd_tail());
}

static void
gen_schedule(gen_t *g)
{
    Refnet__Schedule s = REFNET__SCHEDULE__INIT;
    unsigned kind = rnd(10);
    g->svc.n_schedules = kind == 9 ? 0 : 1;
    s.weekdays = kind < 7 ? 0x1F : 0x7F;
    s.opens_at = kind < 7 ? 480 + 60 * rnd(3) : kind == 7 ? 0 : 1080;
    s.closes_at = kind < 7 ? 1020 + 60 * rnd(3) : kind == 7 ? 1440 : 360;
    g->sched[0] = s;
    g->sp[0] = &g->sched[0];
    g->svc.schedules = g->sp;
}

static void
gen_people(gen_t *g)
{
    unsigned a = rnd(20);
    g->svc.minimum_age = a < 14 ? 0 : a < 17 ? 12 : a < 19 ? 18 : 60;
    g->svc.maximum_age = a >= 14 && a < 17 ? 17 : 0;
    g->svc.n_languages = 0;
    for (unsigned l = 0; l < N_LANG; l++)
        if (rnd(100) < LANG_PCT[l])
            g->langs[g->svc.n_languages++] = (char *)LANG[l];
    g->svc.languages = g->langs;
}

static void
gen_availability(gen_t *g)
{
    g->svc.capacity = NULL;
    if (rnd(5) != 0) {
        g->cap.available = rnd(10) < 3 ? 0 : (int32_t)rnd(20);
        g->cap.maximum = 20;
        g->cap.unit = (char *)"bed";
        g->cap.updated_at_ms = BENCH_NOW_MS - (uint64_t)rnd(2 * 86400) * 1000;
        g->svc.capacity = &g->cap;
    }
    g->in.accepting = rnd(5) != 0;
    g->svc.intake = &g->in;
}

static void
gen_location(gen_t *g)
{
    unsigned m = rnd_metro();
    g->svc.has_location = rnd(20) != 0;
    g->svc.lat = METRO[m][0] + 0.15 * rnd_gauss();
    g->svc.lon = METRO[m][1] + 0.18 * rnd_gauss();
    if (!g->svc.has_location)
        g->svc.lat = g->svc.lon = 0.0;
}

static void
gen_service(gen_t *g, unsigned i)
{
    Refnet__Service s = REFNET__SERVICE__INIT;
    Refnet__Capacity c = REFNET__CAPACITY__INIT;
    Refnet__Intake in = REFNET__INTAKE__INIT;
    g->svc = s;
    g->cap = c;
    g->in = in;
    snprintf(g->id, sizeof g->id, "svc-%08u", i);
    gen_words(g->name, sizeof g->name, 1 + rnd(2));
    gen_words(g->desc, sizeof g->desc, 6 + rnd(7));
    g->svc.id = g->id;
    g->svc.agency = (char *)"bench";
    g->svc.name = g->name;
    g->svc.description = g->desc;
    g->svc.n_taxonomy = 1 + rnd(3);
    for (size_t t = 0; t < g->svc.n_taxonomy; t++) {
        gen_code(g->codes[t], sizeof g->codes[t]);
        g->tax[t] = g->codes[t];
    }
    g->svc.taxonomy = g->tax;
    g->svc.updated_at_ms = BENCH_NOW_MS - (uint64_t)rnd(30 * 86400) * 1000;
    gen_location(g);
    gen_people(g);
    gen_schedule(g);
    gen_availability(g);
}

static int
bench_gen(const char *db, unsigned n, size_t map_mb, unsigned batch)
{
    store_t *st = NULL;
    gen_t g;
    int rc = nodedb_open(&st, db, map_mb << 20);
    if (rc != 0) {
        fprintf(stderr, "bench_dir: cannot open %s: %s\n", db, refnet_strerror(rc));
        return 1;
    }
    uint64_t t0 = bench_stats_now_us();
    for (unsigned i = 0; rc == 0 && i < n;) {
        MDB_txn *txn = NULL;
        rc = store_begin(st, false, &txn);
        for (unsigned k = 0; rc == 0 && k < batch && i < n; k++, i++) {
            Refnet__DirUpdate up = REFNET__DIR_UPDATE__INIT;
            gen_service(&g, i);
            up.seq = (uint64_t)i + 1;
            up.service_id = g.id;
            up.agency = (char *)"bench";
            up.service = &g.svc;
            rc = replica_apply(txn, st, &up, NULL);
        }
        rc = rc == 0 ? store_commit(&txn) : (store_abort(&txn), rc);
    }
    double s = (double)(bench_stats_now_us() - t0) / 1e6;
    store_destroy(&st);
    if (rc != 0) {
        fprintf(stderr, "bench_dir: import failed: %s\n", refnet_strerror(rc));
        return 1;
    }
    printf("import_services %u\nimport_seconds %.1f\nimport_rate %.0f\n", n, s, n / s);
    return 0;
}

/* ---- the query mix ------------------------------------------------------------------------ */

enum { MIX_TAX_RADIUS, MIX_TEXT_LANG, MIX_OPEN_AGE_NEAR, MIX_OPEN_AGE, MIX_N };
static const char *const MIX_NAME[MIX_N] = { "taxonomy+radius+available", "text+language",
                                             "open-now+age+radius", "open-now+age(all)" };
static const char *const QUERY_WORDS[] = { "detox",   "methadone", "shelter",   "naloxone",
                                           "respite", "eviction",  "childcare", "prenatal" };

/* One query of kind `kind`, with its parameters drawn at random. */
static void
mix_query(int kind, replica_query_t *q, char *code, size_t len)
{
    unsigned m = rnd_metro();
    memset(q, 0, sizeof *q);
    q->now_ms = BENCH_NOW_MS;
    q->stale_after_ms = BENCH_DAY_MS;
    q->limit = 20;
    q->page = 1;
    q->lat = METRO[m][0] + 0.05 * rnd_gauss();
    q->lon = METRO[m][1] + 0.05 * rnd_gauss();
    if (kind == MIX_TAX_RADIUS) {
        snprintf(code, len, "%s-%04u", TOP[rnd_zipf(6)], 1000 + rnd_zipf(12) * 100);
        q->taxonomy = code;
        q->has_near = true;
        q->radius_km = 10.0;
        q->available = true;
    } else if (kind == MIX_TEXT_LANG) {
        q->text = QUERY_WORDS[rnd(8)];
        q->language = "es";
    } else {
        q->open_now = true;
        q->weekday = rnd(7);
        q->minute = 600 + rnd(600);
        q->has_age = true;
        q->age = 16;
        q->has_near = kind == MIX_OPEN_AGE_NEAR;
        q->radius_km = q->has_near ? 5.0 : 0.0;
    }
}

typedef struct {
    bench_stats_t *idx, *scan;
    double total_sum;
    int mismatches;
    double cold_p99; /* us, of the first pass */
} mix_stats_t;

/* Runs one query of the mix: timed through the index, or (scan) timed as a full scan and
 * compared with the index's answer. */
static int
mix_run_one(MDB_txn *txn, const store_t *st, int kind, bool scan, mix_stats_t *ms)
{
    replica_query_t q;
    replica_result_t a = { 0 }, b = { 0 };
    char code[32];
    mix_query(kind, &q, code, sizeof code);
    uint64_t t0 = bench_stats_now_us();
    int rc = replica_search(txn, st, &q, &a);
    if (!scan) {
        bench_stats_add(ms->idx, bench_stats_now_us() - t0);
        ms->total_sum += (double)a.total;
    }
    if (rc == 0 && scan) {
        t0 = bench_stats_now_us();
        rc = replica_scan_search(txn, st, &q, &b);
        bench_stats_add(ms->scan, bench_stats_now_us() - t0);
        ms->mismatches += a.total != b.total;
    }
    replica_result_clear(&a);
    replica_result_clear(&b);
    return rc;
}

static void
mix_print(int kind, mix_stats_t *ms, unsigned queries)
{
    double p50 = (double)bench_stats_percentile(ms->idx, 50);
    double p99 = (double)bench_stats_percentile(ms->idx, 99);
    double s50 = bench_stats_count(ms->scan) ? (double)bench_stats_percentile(ms->scan, 50) : 0;
    printf("query %d %s idx_p50_ms %.3f idx_p99_ms %.3f cold_p99_ms %.3f scan_p50_ms %.1f "
           "speedup %.0f avg_matches %.0f mismatches %d\n",
           kind, MIX_NAME[kind], p50 / 1000, p99 / 1000, ms->cold_p99 / 1000, s50 / 1000,
           p50 > 0 ? s50 / p50 : 0, ms->total_sum / queries, ms->mismatches);
}

static int
bench_query(const char *db, unsigned queries, unsigned scans, unsigned only)
{
    store_t *st = NULL;
    MDB_txn *txn = NULL;
    int rc = nodedb_open(&st, db, (size_t)1 << 20);
    if (rc == 0)
        rc = store_begin(st, true, &txn);
    for (int kind = 0; rc == 0 && kind < MIX_N; kind++) {
        if (only < MIX_N && (unsigned)kind != only)
            continue;
        mix_stats_t ms = { .idx = bench_stats_new(queries),
                           .scan = bench_stats_new(scans ? scans : 1) };
        /* A first pass, timed apart as "cold": this process maps each LMDB page the first
         * time it reads it (a page fault, costly on a virtual machine); a node in service
         * has its pages mapped. The figures are from the second pass, with new queries. */
        mix_stats_t cold = { .idx = bench_stats_new(queries) };
        for (unsigned i = 0; rc == 0 && i < queries; i++)
            rc = mix_run_one(txn, st, kind, false, &cold);
        ms.cold_p99 = (double)bench_stats_percentile(cold.idx, 99);
        bench_stats_destroy(&cold.idx);
        /* The scans run apart, on the first queries again, so that they do not disturb the
         * timing of the indexed ones. */
        uint64_t seed = rng;
        for (unsigned i = 0; rc == 0 && i < queries; i++)
            rc = mix_run_one(txn, st, kind, false, &ms);
        uint64_t after = rng;
        rng = seed;
        for (unsigned i = 0; rc == 0 && i < scans; i++)
            rc = mix_run_one(txn, st, kind, true, &ms);
        rng = after;
        if (rc == 0)
            mix_print(kind, &ms, queries);
        bench_stats_destroy(&ms.idx);
        bench_stats_destroy(&ms.scan);
    }
    store_abort(&txn);
    store_destroy(&st);
    if (rc != 0)
        fprintf(stderr, "bench_dir: query failed: %s\n", refnet_strerror(rc));
    return rc == 0 ? 0 : 1;
}

/* ---- through the node's API ----------------------------------------------------------------- */

static json_t *
mix_args(const replica_query_t *q)
{
    json_t *a = json_object();
    json_object_set_new(a, "limit", json_integer((json_int_t)q->limit));
    if (q->taxonomy)
        json_object_set_new(a, "taxonomy", json_string(q->taxonomy));
    if (q->text)
        json_object_set_new(a, "text", json_string(q->text));
    if (q->language)
        json_object_set_new(a, "language", json_string(q->language));
    if (q->has_near) {
        json_object_set_new(a, "near", json_pack("{s:f,s:f}", "lat", q->lat, "lon", q->lon));
        json_object_set_new(a, "radius_km", json_real(q->radius_km));
    }
    if (q->available)
        json_object_set_new(a, "available", json_true());
    if (q->has_age)
        json_object_set_new(a, "age", json_integer(q->age));
    if (q->open_now) {
        json_object_set_new(a, "open_now", json_true());
        /* The same local weekday and minute on the benchmark's Monday week. */
        json_object_set_new(a, "at_ms", json_integer((json_int_t)(BENCH_NOW_MS)));
    }
    return a;
}

static int
bench_api(const char *node, unsigned queries)
{
    refnet_client_t *cl = NULL;
    refnet_client_error_t err;
    int rc = refnet_client_open(&cl, node, &err);
    if (rc != 0) {
        fprintf(stderr, "bench_dir: %s\n", err.message);
        return 1;
    }
    refnet_client_set_timeout(cl, 30000);
    for (int kind = 0; rc == 0 && kind < MIX_N; kind++) {
        bench_stats_t *lat = bench_stats_new(queries);
        /* As in process: a first pass maps the node's pages, the second is measured. */
        for (unsigned i = 0; rc == 0 && i < 2 * queries; i++) {
            replica_query_t q;
            char code[32];
            mix_query(kind, &q, code, sizeof code);
            uint64_t t0 = bench_stats_now_us();
            rc = refnet_client_call(cl, "search", mix_args(&q), NULL, &err);
            if (i >= queries)
                bench_stats_add(lat, bench_stats_now_us() - t0);
        }
        if (rc == 0)
            printf("api %d %s p50_ms %.3f p99_ms %.3f\n", kind, MIX_NAME[kind],
                   (double)bench_stats_percentile(lat, 50) / 1000,
                   (double)bench_stats_percentile(lat, 99) / 1000);
        bench_stats_destroy(&lat);
    }
    if (rc != 0)
        fprintf(stderr, "bench_dir: search through the API failed: %s\n", err.message);
    refnet_client_destroy(&cl);
    return rc == 0 ? 0 : 1;
}

/* ---- main ----------------------------------------------------------------------------------- */

static const char *
arg_str(int argc, char **argv, const char *flag, const char *dflt)
{
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], flag) == 0)
            return argv[i + 1];
    return dflt;
}

static unsigned
arg_uint(int argc, char **argv, const char *flag, unsigned dflt)
{
    const char *s = arg_str(argc, argv, flag, NULL);
    long v = s ? strtol(s, NULL, 10) : (long)dflt;
    return v >= 0 && v < 100000000 ? (unsigned)v : dflt;
}

int
main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    json_set_alloc_funcs(xmalloc, free);
    if (strcmp(cmd, "gen") == 0 && arg_str(argc, argv, "--db", NULL))
        return bench_gen(
            arg_str(argc, argv, "--db", NULL), arg_uint(argc, argv, "--services", 1000000),
            arg_uint(argc, argv, "--map-mb", 8192), arg_uint(argc, argv, "--batch", 5000));
    if (strcmp(cmd, "query") == 0 && arg_str(argc, argv, "--db", NULL))
        return bench_query(
            arg_str(argc, argv, "--db", NULL), arg_uint(argc, argv, "--queries", 500),
            arg_uint(argc, argv, "--scans", 5), arg_uint(argc, argv, "--kind", MIX_N));
    if (strcmp(cmd, "api") == 0 && arg_str(argc, argv, "--node", NULL))
        return bench_api(arg_str(argc, argv, "--node", NULL),
                         arg_uint(argc, argv, "--queries", 300));
    fprintf(stderr, "usage: bench_dir gen --db DIR --services N [--map-mb M] [--batch B]\n"
                    "       bench_dir query --db DIR [--queries Q] [--scans S] [--kind K]\n"
                    "       bench_dir api --node DIR [--queries Q]\n");
    return 2;
}
