/* refnet-dirseed: makes many directory changes in a stopped broker's LMDB, for the replication
 * tests (dir_catchup.sh, dir_snapshot.sh) and the replication benchmark (tests/bench/dirsync.sh).
 *
 *   refnet-dirseed BROKER_DIR AGENCIES PUBLISH AVAILABILITY WITHDRAW [PREFIX]
 *
 * AGENCIES is a comma-separated list of owners. The tool publishes PUBLISH services named
 * PREFIX-000000... (default prefix "seed"), owned by the agencies in turn, with taxonomy,
 * languages, a location and capacity; then makes AVAILABILITY availability changes over them in
 * turn; then withdraws WITHDRAW of them (every other one from the start, then the rest). Every
 * change goes through the broker's own dirhub module, so the records, sequence numbers and the
 * digest are exactly what the running broker would have written; 10,000 changes through nodes
 * take minutes, this takes a second. Commits every SEED_TXN_SIZE changes. The broker must not
 * be running. Prints "HEAD LIVE" (the directory head and the live services). Exit 0 ok, 1
 * error, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_limits.h"
#include "bstore.h"
#include "clock.h"
#include "dirhub.h"
#include "refnet_error.h"
#include "store.h"
#include "wire.h"

#define SEED_TXN_SIZE     10000
#define SEED_MAX_COUNT    2000000
#define SEED_MAX_AGENCIES 64

typedef struct {
    char *agency[SEED_MAX_AGENCIES];
    size_t n_agencies;
    long publish, availability, withdraw;
    const char *prefix;
} seed_args_t;

/* Taxonomy codes and languages spread over the services. */
static const char *const SEED_TAXONOMY[] = { "shelter", "detox",         "peer-support", "food",
                                             "housing", "mental-health", "legal" };
static const char *const SEED_LANGS[] = { "en", "es", "vi", "zh" };

static const char *
seed_owner(const seed_args_t *a, long i)
{
    return a->agency[(size_t)i % a->n_agencies];
}

static int
seed_publish(store_t *st, MDB_txn *txn, const seed_args_t *a, long i, uint64_t now)
{
    char id[WIRE_MAX_IDENT + 1], name[64];
    Refnet__Service svc = REFNET__SERVICE__INIT;
    Refnet__Capacity cap = REFNET__CAPACITY__INIT;
    Refnet__Intake in = REFNET__INTAKE__INIT;
    char *tax[2] = { (char *)SEED_TAXONOMY[i % 7], (char *)SEED_TAXONOMY[(i / 7) % 7] };
    char *langs[2] = { (char *)SEED_LANGS[0], (char *)SEED_LANGS[1 + i % 3] };
    const char *why = NULL;
    uint64_t seq = 0;
    snprintf(id, sizeof id, "%s-%06ld", a->prefix, i);
    snprintf(name, sizeof name, "Seeded service %06ld", i);
    svc.id = id;
    svc.name = name;
    svc.description = (char *)"A service made by refnet-dirseed for the replication tests.";
    svc.taxonomy = tax;
    svc.n_taxonomy = tax[0] == tax[1] ? 1 : 2;
    svc.languages = langs;
    svc.n_languages = 2;
    svc.has_location = true;
    svc.lat = 40.0 + (double)(i % 1000) / 1000.0;
    svc.lon = -75.0 + (double)(i % 997) / 997.0;
    cap.available = (int32_t)(i % 11);
    cap.maximum = 10 + (int32_t)(i % 11);
    cap.unit = (char *)"bed";
    cap.updated_at_ms = now;
    in.accepting = i % 3 != 0;
    svc.capacity = &cap;
    svc.intake = &in;
    svc.updated_at_ms = now;
    return dirhub_publish(st, txn, seed_owner(a, i), &svc, now, &seq, &why);
}

static int
seed_availability(store_t *st, MDB_txn *txn, const seed_args_t *a, long k, uint64_t now)
{
    char id[WIRE_MAX_IDENT + 1];
    Refnet__DirAvailability av = REFNET__DIR_AVAILABILITY__INIT;
    Refnet__Capacity cap = REFNET__CAPACITY__INIT;
    Refnet__Intake in = REFNET__INTAKE__INIT;
    const char *why = NULL;
    uint64_t seq = 0;
    long i = k % a->publish;
    snprintf(id, sizeof id, "%s-%06ld", a->prefix, i);
    cap.available = (int32_t)((k * 7) % 13);
    cap.maximum = 20;
    cap.unit = (char *)"bed";
    cap.updated_at_ms = now;
    in.accepting = k % 2 == 0;
    in.waitlist = (uint32_t)(k % 5);
    av.service_id = id;
    av.capacity = &cap;
    av.intake = &in;
    return dirhub_availability(st, txn, seed_owner(a, i), &av, now, &seq, &why);
}

/* The k-th withdrawal: even-numbered services first, then odd ones. */
static int
seed_withdraw(store_t *st, MDB_txn *txn, const seed_args_t *a, long k)
{
    char id[WIRE_MAX_IDENT + 1];
    const char *why = NULL;
    uint64_t seq = 0;
    bool changed = false;
    long half = (a->publish + 1) / 2;
    long i = k < half ? 2 * k : 2 * (k - half) + 1;
    snprintf(id, sizeof id, "%s-%06ld", a->prefix, i);
    return dirhub_withdraw(st, txn, seed_owner(a, i), id, &seq, &changed, &why);
}

/* Runs change number `n` of the whole sequence. */
static int
seed_change(store_t *st, MDB_txn *txn, const seed_args_t *a, long n, uint64_t now)
{
    if (n < a->publish)
        return seed_publish(st, txn, a, n, now);
    n -= a->publish;
    if (n < a->availability)
        return seed_availability(st, txn, a, n, now);
    return seed_withdraw(st, txn, a, n - a->availability);
}

static int
seed_run(store_t *st, const seed_args_t *a, uint64_t *head, uint64_t *live)
{
    MDB_txn *txn = NULL;
    long total = a->publish + a->availability + a->withdraw;
    uint64_t now = clock_now_ms();
    int rc = 0;
    for (long done = 0; !rc && done < total;) {
        rc = store_begin(st, false, &txn);
        for (long i = 0; !rc && i < SEED_TXN_SIZE && done < total; i++, done++)
            rc = seed_change(st, txn, a, done, now);
        if (!rc)
            rc = store_commit(&txn);
        store_abort(&txn);
    }
    dirdigest_t d = { 0 };
    if (!rc)
        rc = store_begin(st, true, &txn);
    if (!rc)
        rc = dirhub_head(st, txn, head);
    if (!rc)
        rc = dirhub_digest(st, txn, &d);
    store_abort(&txn);
    *live = d.count;
    return rc;
}

static bool
seed_count(const char *s, long *out)
{
    char *end = NULL;
    *out = strtol(s, &end, 10);
    return end && !*end && *out >= 0 && *out <= SEED_MAX_COUNT;
}

static int
seed_parse(int argc, char **argv, seed_args_t *a)
{
    if (argc < 6 || argc > 7 || !seed_count(argv[3], &a->publish) ||
        !seed_count(argv[4], &a->availability) || !seed_count(argv[5], &a->withdraw))
        return -1;
    if (a->publish == 0 || a->withdraw > a->publish)
        return -1;
    a->prefix = argc == 7 ? argv[6] : "seed";
    for (char *tok = strtok(argv[2], ","); tok; tok = strtok(NULL, ",")) {
        if (a->n_agencies == SEED_MAX_AGENCIES)
            return -1;
        a->agency[a->n_agencies++] = tok;
    }
    return a->n_agencies ? 0 : -1;
}

int
main(int argc, char **argv)
{
    store_t *st = NULL;
    seed_args_t a = { .n_agencies = 0 };
    uint64_t head = 0, live = 0;
    if (seed_parse(argc, argv, &a) != 0) {
        fprintf(stderr,
                "usage: refnet-dirseed BROKER_DIR AGENCIES PUBLISH AVAILABILITY WITHDRAW "
                "[PREFIX]\n  (counts 0-%d, PUBLISH at least 1, WITHDRAW at most PUBLISH)\n",
                SEED_MAX_COUNT);
        return 2;
    }
    int rc = bstore_open(&st, argv[1], 4 * BROKER_MAP_SIZE_MB_DEFAULT);
    if (rc) {
        fprintf(stderr, "refnet-dirseed: cannot open %s: %s\n", argv[1], refnet_strerror(rc));
        return 1;
    }
    rc = seed_run(st, &a, &head, &live);
    store_destroy(&st);
    if (rc) {
        fprintf(stderr, "refnet-dirseed: %s\n", refnet_strerror(rc));
        return 1;
    }
    printf("%llu %llu\n", (unsigned long long)head, (unsigned long long)live);
    return 0;
}
