/* bench_sync: the disk floor under the delivery benchmark, measured through base/store.h.
 *
 *   bench_sync --dir DIR [--commits N] [--batches N] [--batch N] [--prefill N]
 *
 * Opens an LMDB store in DIR (which must not hold one yet) exactly as the daemons do (synced
 * commits) and times whole write transactions, puts and synced commit, of four kinds that the
 * broker's and the node's numbers rest on:
 *   commit   one 200-byte record: what one message costs when it is committed alone, and the
 *            floor of every step of the latency path;
 *   seq      --batch records under increasing keys (a queue's tail);
 *   random   --batch records under random 16-byte keys (a msg_id or UUID index), after
 *            --prefill random records, where every record dirties its own page;
 *   nested   the same, each record in its own child transaction, as the broker applies each
 *            request of a batch.
 * Prints "RESULT bench=sync commit_p50_us=... seq_p50_us=... random_p50_us=...
 * nested_p50_us=... complete=1".
 * Exit 0 on success, 1 on a storage error, 2 on a usage error. Single-threaded. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_stats.h"
#include "refnet_error.h"
#include "store.h"
#include "uid.h"

#define SYNC_EXIT_USAGE 2
#define SYNC_VALUE_LEN  200
/* Enough map for a million prefilled records of this size and their pages. */
#define SYNC_MAP_SIZE (2048ULL * 1024 * 1024)
#define SYNC_MAX_N    10000000L

typedef struct {
    const char *dir;
    long commits;
    long batches;
    long batch;
    long prefill;
} sync_args_t;

typedef enum { SYNC_SEQ, SYNC_RANDOM, SYNC_NESTED } sync_keys_t;

typedef struct {
    store_t *st;
    uint64_t next_seq; /* the next sequential key */
} sync_ctx_t;

/* Writes one record under a key of kind `keys`, in a child transaction of `txn` for
 * SYNC_NESTED. */
static int
sync_put(sync_ctx_t *ctx, MDB_txn *txn, sync_keys_t keys)
{
    static const uint8_t value[SYNC_VALUE_LEN] = { 0 };
    uint8_t key[UID_MSGID_LEN] = { 0 };
    MDB_txn *child = NULL;
    if (keys == SYNC_SEQ)
        store_u64_key(key, ctx->next_seq++);
    else
        uid_msgid(key);
    if (keys != SYNC_NESTED)
        return store_put(txn, store_db(ctx->st, 0), key, sizeof key, value, sizeof value, 0);
    int rc = store_err(mdb_txn_begin(store_env(ctx->st), txn, 0, &child));
    if (!rc)
        rc = store_put(child, store_db(ctx->st, 0), key, sizeof key, value, sizeof value, 0);
    if (!rc)
        rc = store_commit(&child);
    store_abort(&child);
    return rc;
}

/* Writes `n` records under keys of kind `keys` in one transaction and commits it (synced);
 * adds the transaction's duration to `stats` when it is not NULL. */
static int
sync_commit(sync_ctx_t *ctx, long n, sync_keys_t keys, bench_stats_t *stats)
{
    MDB_txn *txn = NULL;
    uint64_t t0 = bench_stats_now_us();
    int rc = store_begin(ctx->st, false, &txn);
    for (long i = 0; !rc && i < n; i++)
        rc = sync_put(ctx, txn, keys);
    if (!rc)
        rc = store_commit(&txn);
    if (!rc && stats)
        bench_stats_add(stats, bench_stats_now_us() - t0);
    store_abort(&txn);
    return rc;
}

static int
sync_series(sync_ctx_t *ctx, long commits, long n, sync_keys_t keys, bench_stats_t *stats)
{
    int rc = 0;
    for (long i = 0; !rc && i < commits; i++)
        rc = sync_commit(ctx, n, keys, stats);
    return rc;
}

static int
sync_measure(store_t *st, const sync_args_t *a)
{
    sync_ctx_t ctx = { st, 1 };
    bench_stats_t *one = bench_stats_new((size_t)a->commits);
    bench_stats_t *seq = bench_stats_new((size_t)a->batches);
    bench_stats_t *rnd = bench_stats_new((size_t)a->batches);
    bench_stats_t *nested = bench_stats_new((size_t)a->batches);
    int rc = sync_series(&ctx, a->commits, 1, SYNC_SEQ, one);
    for (long done = 0; !rc && done < a->prefill; done += 10000)
        rc = sync_commit(&ctx, a->prefill - done < 10000 ? a->prefill - done : 10000, SYNC_RANDOM,
                         NULL);
    if (!rc)
        rc = sync_series(&ctx, a->batches, a->batch, SYNC_SEQ, seq);
    if (!rc)
        rc = sync_series(&ctx, a->batches, a->batch, SYNC_RANDOM, rnd);
    if (!rc)
        rc = sync_series(&ctx, a->batches, a->batch, SYNC_NESTED, nested);
    if (!rc)
        printf("RESULT bench=sync commit_p50_us=%llu commit_p99_us=%llu batch=%ld prefill=%ld "
               "seq_p50_us=%llu seq_p99_us=%llu random_p50_us=%llu random_p99_us=%llu "
               "nested_p50_us=%llu nested_p99_us=%llu complete=1\n",
               (unsigned long long)bench_stats_percentile(one, 50),
               (unsigned long long)bench_stats_percentile(one, 99), a->batch, a->prefill,
               (unsigned long long)bench_stats_percentile(seq, 50),
               (unsigned long long)bench_stats_percentile(seq, 99),
               (unsigned long long)bench_stats_percentile(rnd, 50),
               (unsigned long long)bench_stats_percentile(rnd, 99),
               (unsigned long long)bench_stats_percentile(nested, 50),
               (unsigned long long)bench_stats_percentile(nested, 99));
    bench_stats_destroy(&one);
    bench_stats_destroy(&seq);
    bench_stats_destroy(&rnd);
    bench_stats_destroy(&nested);
    return rc;
}

static const char SYNC_USAGE[] =
    "usage: bench_sync --dir DIR [--commits N] [--batches N] [--batch N] [--prefill N]\n"
    "\n"
    "Times synced LMDB write transactions in a new store in DIR: one record each (--commits,\n"
    "default 200), then --batches (default 30) of --batch records (default 512) under\n"
    "sequential keys, under random keys after --prefill random records (default 200000),\n"
    "and under random keys with each record in its own child transaction. Prints\n"
    "'RESULT bench=sync ...' with p50/p99 times in microseconds.\n";

static bool
sync_parse_long(const char *text, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < 0 || v > SYNC_MAX_N)
        return false;
    *out = v;
    return true;
}

static int
sync_parse(int argc, char **argv, sync_args_t *a)
{
    static const struct option opts[] = { { "dir", required_argument, NULL, 'd' },
                                          { "commits", required_argument, NULL, 'c' },
                                          { "batches", required_argument, NULL, 'b' },
                                          { "batch", required_argument, NULL, 'n' },
                                          { "prefill", required_argument, NULL, 'p' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    *a = (sync_args_t){ NULL, 200, 30, 512, 200000 };
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        long v = 0;
        if (opt == 'h') {
            fputs(SYNC_USAGE, stdout);
            exit(0);
        }
        if (opt == 'd') {
            a->dir = optarg;
            continue;
        }
        if (opt == '?' || !sync_parse_long(optarg, &v))
            return -1;
        if (opt == 'c')
            a->commits = v;
        else if (opt == 'b')
            a->batches = v;
        else if (opt == 'n')
            a->batch = v;
        else
            a->prefill = v;
    }
    return optind == argc && a->dir && a->commits > 0 && a->batches > 0 && a->batch > 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
    static const char *const dbs[] = { "bench" };
    sync_args_t a;
    store_t *st = NULL;
    if (sync_parse(argc, argv, &a) != 0) {
        fputs(SYNC_USAGE, stderr);
        return SYNC_EXIT_USAGE;
    }
    int rc = store_open(&st, a.dir, SYNC_MAP_SIZE, dbs, 1);
    if (!rc)
        rc = sync_measure(st, &a);
    if (rc)
        fprintf(stderr, "bench_sync: %s: %s\n", a.dir, refnet_strerror(rc));
    store_destroy(&st);
    return rc ? 1 : 0;
}
