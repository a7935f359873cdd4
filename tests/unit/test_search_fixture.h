/* test_search_fixture: what the search tests share (test_dirindex, test_dirfast,
 * test_dirbits): a seeded xorshift generator, and the comparison of the indexed search with
 * the full scan (replica_scan_search), the model it must agree with. Header only (static
 * functions); include after cmocka.h. */
#ifndef REFNET_TEST_SEARCH_FIXTURE_H
#define REFNET_TEST_SEARCH_FIXTURE_H

#include <stdint.h>

#include "pbuf.h"
#include "records.pb-c.h"
#include "replica.h"

/* Each test file seeds it once; runs are reproducible. */
static uint64_t tsf_rng = 88172645463325252ULL;

static inline unsigned
tsf_rnd(unsigned n)
{
    tsf_rng ^= tsf_rng << 13;
    tsf_rng ^= tsf_rng >> 7;
    tsf_rng ^= tsf_rng << 17;
    return (unsigned)(tsf_rng % n);
}

/* How one indexed search ran, for the caller's own checks. */
typedef struct {
    char plan;
    size_t total, scanned;
} tsf_run_t;

/* Runs `q` through the index and through the full scan and asserts the same total, the same
 * page (ids in order), distances and stale flags. */
static inline tsf_run_t
tsf_expect_same(MDB_txn *txn, const store_t *st, const replica_query_t *q)
{
    replica_result_t a = { 0 }, b = { 0 };
    assert_int_equal(replica_search(txn, st, q, &a), 0);
    assert_int_equal(replica_scan_search(txn, st, q, &b), 0);
    assert_int_equal(a.total, b.total);
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        const Refnet__DirRecord *ra = (const Refnet__DirRecord *)pbuf_msg(a.hits[i].rec);
        const Refnet__DirRecord *rb = (const Refnet__DirRecord *)pbuf_msg(b.hits[i].rec);
        assert_string_equal(ra->service->id, rb->service->id);
        assert_int_equal(a.hits[i].has_distance, b.hits[i].has_distance);
        assert_true(a.hits[i].distance_km == b.hits[i].distance_km);
        assert_int_equal(a.hits[i].stale, b.hits[i].stale);
    }
    tsf_run_t run = { .plan = a.plan, .total = a.total, .scanned = a.scanned };
    replica_result_clear(&a);
    replica_result_clear(&b);
    return run;
}

#endif
