/* Unit tests of outbox: ordered keys, lookup by msg_id, removal, the size limit. */
#include "test_node_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "node_limits.h"
#include "outbox.h"
#include "refnet_error.h"
#include "wire.h"

/* Appends a withdraw of `id` and returns its key; writes its msg_id. */
static uint64_t
add_withdraw(MDB_txn *txn,
             const store_t *st,
             const char *id,
             const char *handoff,
             uint8_t msg_id[UID_MSGID_LEN])
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirWithdraw wd = REFNET__DIR_WITHDRAW__INIT;
    uint64_t key = 0;
    wd.service_id = (char *)id;
    env.body_case = REFNET__ENVELOPE__BODY_WITHDRAW;
    env.withdraw = &wd;
    assert_int_equal(outbox_add(txn, st, &env, handoff, 1700000000000ULL, msg_id, &key), 0);
    return key;
}

static void
test_add_next_find_remove(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    assert_non_null(fx);
    MDB_txn *txn = nfx_begin(fx, false);
    uint8_t m1[UID_MSGID_LEN], m2[UID_MSGID_LEN], m3[UID_MSGID_LEN];
    uint64_t k1 = add_withdraw(txn, fx->st, "s1", NULL, m1);
    uint64_t k2 = add_withdraw(txn, fx->st, "s2", "h-1", m2);
    uint64_t k3 = add_withdraw(txn, fx->st, "s3", NULL, m3);
    assert_true(k1 < k2 && k2 < k3);
    size_t n = 0;
    assert_int_equal(outbox_count(txn, fx->st, &n), 0);
    assert_int_equal(n, 3);

    /* Items come back in key order, with an envelope that decodes to what was queued. */
    pbuf_t *pb = NULL, *env = NULL;
    uint64_t key = 0;
    char why[WIRE_WHY_LEN];
    assert_int_equal(outbox_next(txn, fx->st, k1, &key, &pb), 0);
    assert_int_equal(key, k2);
    const Refnet__OutboxItem *it = (const Refnet__OutboxItem *)pbuf_msg(pb);
    assert_string_equal(it->handoff_id, "h-1");
    assert_memory_equal(it->msg_id.data, m2, UID_MSGID_LEN);
    assert_int_equal(wire_decode(it->envelope.data, it->envelope.len, &env, why), 0);
    const Refnet__Envelope *e = (const Refnet__Envelope *)pbuf_msg(env);
    assert_string_equal(e->withdraw->service_id, "s2");
    assert_memory_equal(e->msg_id.data, m2, UID_MSGID_LEN);
    pbuf_destroy(&env);
    pbuf_destroy(&pb);

    assert_int_equal(outbox_find(txn, fx->st, m3, UID_MSGID_LEN, &key), 0);
    assert_int_equal(key, k3);
    assert_int_equal(outbox_remove(txn, fx->st, k2), 0);
    assert_int_equal(outbox_find(txn, fx->st, m2, UID_MSGID_LEN, &key), REFNET_ENOTFOUND);
    assert_int_equal(outbox_remove(txn, fx->st, k2), REFNET_ENOTFOUND);
    assert_int_equal(outbox_next(txn, fx->st, k1, &key, &pb), 0);
    assert_int_equal(key, k3);
    pbuf_destroy(&pb);
    assert_int_equal(outbox_next(txn, fx->st, k3, &key, &pb), REFNET_ENOTFOUND);
    assert_int_equal(outbox_find(txn, fx->st, m1, 3, &key), REFNET_ENOTFOUND);
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(nfx_count(fx, NODEDB_OUTBOX_IDS), 2);

    /* Keys keep increasing after the last item goes: the link only sends keys above the
     * highest it has sent, so a reused key would never leave. */
    txn = nfx_begin(fx, false);
    assert_int_equal(outbox_remove(txn, fx->st, k1), 0);
    assert_int_equal(outbox_remove(txn, fx->st, k3), 0);
    assert_int_equal(outbox_count(txn, fx->st, &n), 0);
    assert_int_equal(n, 0);
    uint64_t k4 = add_withdraw(txn, fx->st, "s4", NULL, m1);
    assert_true(k4 > k3);
    assert_int_equal(store_commit(&txn), 0);
    nfx_destroy(&fx);
}

static void
test_full_outbox_refuses(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    assert_non_null(fx);
    MDB_txn *txn = nfx_begin(fx, false);
    uint8_t m[UID_MSGID_LEN];
    for (int i = 0; i < NODE_OUTBOX_MAX; i++)
        add_withdraw(txn, fx->st, "s", NULL, m);
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirWithdraw wd = REFNET__DIR_WITHDRAW__INIT;
    wd.service_id = (char *)"s";
    env.body_case = REFNET__ENVELOPE__BODY_WITHDRAW;
    env.withdraw = &wd;
    assert_int_equal(outbox_add(txn, fx->st, &env, NULL, 1, m, NULL), REFNET_EQUEUEFULL);
    store_abort(&txn);
    nfx_destroy(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_next_find_remove),
        cmocka_unit_test(test_full_outbox_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
