/* Unit tests of audit: appending to the hash chain, and verify naming the first entry that
 * was altered, removed or moved when the stored bytes are changed behind the node's back. */
#include "test_node_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <sodium.h>

#include "audit.h"
#include "pbuf.h"

#define T_ENTRIES 5

/* Appends T_ENTRIES entries, one transaction each, as the node does. */
static void
t_fill(nfx_t *fx)
{
    for (uint64_t i = 1; i <= T_ENTRIES; i++) {
        Refnet__AuditEntry e = REFNET__AUDIT_ENTRY__INIT;
        Refnet__Category cats[1] = { REFNET__CATEGORY__CATEGORY_CONTACT };
        MDB_txn *txn = nfx_begin(fx, false);
        assert_non_null(txn);
        e.at_ms = 1000 * i;
        e.event = REFNET__AUDIT_EVENT__AUDIT_EVENT_DISCLOSURE_SENT;
        e.discloser = (char *)"harbor";
        e.recipient = (char *)"lighthouse";
        e.person_id = (char *)"person-a";
        e.categories = cats;
        e.n_categories = 1;
        e.purpose = (char *)"referral";
        e.consent_id = (char *)"consent-a";
        e.actor = (char *)"alice";
        assert_int_equal(audit_append(txn, fx->st, &e), 0);
        assert_int_equal(e.seq, i);
        assert_int_equal(store_commit(&txn), 0);
    }
}

/* Offset of `needle` in buf, or len when absent. */
static size_t
t_find(const uint8_t *buf, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(buf + i, needle, n) == 0)
            return i;
    return len;
}

static audit_check_t
t_verify(nfx_t *fx)
{
    audit_check_t chk;
    MDB_txn *txn = nfx_begin(fx, true);
    assert_non_null(txn);
    assert_int_equal(audit_verify(txn, fx->st, &chk), 0);
    store_abort(&txn);
    return chk;
}

/* Copies the stored bytes of entry `seq` into buf (returns the length). */
static size_t
t_raw_get(nfx_t *fx, uint64_t seq, uint8_t *buf, size_t cap)
{
    uint8_t key[8];
    MDB_val v;
    MDB_txn *txn = nfx_begin(fx, true);
    store_u64_key(key, seq);
    assert_int_equal(store_get(txn, store_db(fx->st, NODEDB_AUDIT), key, 8, &v), 0);
    assert_true(v.mv_size <= cap);
    memcpy(buf, v.mv_data, v.mv_size);
    store_abort(&txn);
    return v.mv_size;
}

/* Writes raw bytes under entry key `seq` with the LMDB C API, as a tamperer would. */
static void
t_raw_put(nfx_t *fx, uint64_t seq, const uint8_t *buf, size_t len)
{
    uint8_t key[8];
    MDB_val k = { 8, key }, v = { len, (void *)buf };
    MDB_txn *txn = nfx_begin(fx, false);
    store_u64_key(key, seq);
    assert_int_equal(mdb_put(txn, store_db(fx->st, NODEDB_AUDIT), &k, &v, 0), 0);
    assert_int_equal(store_commit(&txn), 0);
}

static void
test_chain_verifies(void **state)
{
    (void)state;
    nfx_t *fx = nfx_new();
    audit_check_t chk = t_verify(fx);
    assert_int_equal(chk.entries, 0);
    assert_int_equal(chk.fault, AUDIT_OK);
    t_fill(fx);
    chk = t_verify(fx);
    assert_int_equal(chk.entries, T_ENTRIES);
    assert_int_equal(chk.fault, AUDIT_OK);
    assert_int_equal(chk.first_bad, 0);
    nfx_destroy(&fx);
}

static void
test_altered(void **state)
{
    (void)state;
    uint8_t buf[1024];
    nfx_t *fx = nfx_new();
    t_fill(fx);
    size_t len = t_raw_get(fx, 3, buf, sizeof buf);
    /* Change the recipient "lighthouse" into "lighthousf": still a valid message. */
    size_t at = t_find(buf, len, "lighthouse");
    assert_true(at < len);
    buf[at + 9] = 'f';
    t_raw_put(fx, 3, buf, len);
    audit_check_t chk = t_verify(fx);
    assert_int_equal(chk.fault, AUDIT_ALTERED);
    assert_int_equal(chk.first_bad, 3);
    assert_string_equal(audit_fault_name(chk.fault), "altered");
    nfx_destroy(&fx);
}

static void
test_removed(void **state)
{
    (void)state;
    uint8_t key[8];
    nfx_t *fx = nfx_new();
    t_fill(fx);
    MDB_txn *txn = nfx_begin(fx, false);
    store_u64_key(key, 2);
    MDB_val k = { 8, key };
    assert_int_equal(mdb_del(txn, store_db(fx->st, NODEDB_AUDIT), &k, NULL), 0);
    assert_int_equal(store_commit(&txn), 0);
    audit_check_t chk = t_verify(fx);
    assert_int_equal(chk.fault, AUDIT_REMOVED);
    assert_int_equal(chk.first_bad, 2);
    assert_int_equal(chk.entries, T_ENTRIES - 1);
    /* Cutting the last entry off is found too. */
    fx = (nfx_destroy(&fx), nfx_new());
    t_fill(fx);
    txn = nfx_begin(fx, false);
    store_u64_key(key, T_ENTRIES);
    assert_int_equal(mdb_del(txn, store_db(fx->st, NODEDB_AUDIT), &k, NULL), 0);
    assert_int_equal(store_commit(&txn), 0);
    chk = t_verify(fx);
    assert_int_equal(chk.fault, AUDIT_REMOVED);
    assert_int_equal(chk.first_bad, T_ENTRIES);
    nfx_destroy(&fx);
}

static void
test_swapped(void **state)
{
    (void)state;
    uint8_t a[1024], b[1024];
    nfx_t *fx = nfx_new();
    t_fill(fx);
    size_t alen = t_raw_get(fx, 2, a, sizeof a);
    size_t blen = t_raw_get(fx, 4, b, sizeof b);
    t_raw_put(fx, 2, b, blen);
    t_raw_put(fx, 4, a, alen);
    audit_check_t chk = t_verify(fx);
    assert_int_equal(chk.fault, AUDIT_REORDERED);
    assert_int_equal(chk.first_bad, 2);
    nfx_destroy(&fx);
}

static void
test_garbage(void **state)
{
    (void)state;
    static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff };
    nfx_t *fx = nfx_new();
    t_fill(fx);
    t_raw_put(fx, 4, junk, sizeof junk);
    audit_check_t chk = t_verify(fx);
    assert_int_equal(chk.fault, AUDIT_ALTERED);
    assert_int_equal(chk.first_bad, 4);
    nfx_destroy(&fx);
}

/* An entry replaced by a self-consistent one (rehashed) still breaks the link to the next. */
static void
test_rehashed(void **state)
{
    (void)state;
    uint8_t key[8];
    nfx_t *fx = nfx_new();
    t_fill(fx);
    pbuf_t *pb = NULL;
    MDB_txn *txn = nfx_begin(fx, false);
    store_u64_key(key, 2);
    assert_int_equal(store_get_msg(txn, store_db(fx->st, NODEDB_AUDIT), key, 8,
                                   &refnet__audit_entry__descriptor, &pb),
                     0);
    /* A shallow copy, so that the decoded message keeps its own pointers for pbuf_destroy. */
    Refnet__AuditEntry e = *(const Refnet__AuditEntry *)pbuf_msg(pb);
    uint8_t hash[AUDIT_HASH_LEN];
    e.recipient = (char *)"elsewhere";
    e.hash.len = 0;
    uint8_t *bytes = NULL;
    size_t len = 0;
    pbuf_pack(&e.base, &bytes, &len);
    crypto_generichash(hash, sizeof hash, bytes, len, NULL, 0);
    free(bytes);
    e.hash.data = hash;
    e.hash.len = sizeof hash;
    assert_int_equal(store_put_msg(txn, store_db(fx->st, NODEDB_AUDIT), key, 8, &e.base), 0);
    assert_int_equal(store_commit(&txn), 0);
    pbuf_destroy(&pb);
    audit_check_t chk = t_verify(fx);
    assert_int_equal(chk.fault, AUDIT_BROKEN);
    assert_int_equal(chk.first_bad, 3);
    nfx_destroy(&fx);
}

/* Each entry is stored as protobuf-c encodes it (packed once, the hash field appended), its
 * hash covers that encoding with the hash empty, and it chains on the previous entry's hash. */
static void
test_stored_encoding(void **state)
{
    (void)state;
    uint8_t buf[1024], prev[AUDIT_HASH_LEN] = { 0 }, hash[AUDIT_HASH_LEN];
    nfx_t *fx = nfx_new();
    t_fill(fx);
    for (uint64_t seq = 1; seq <= T_ENTRIES; seq++) {
        size_t len = t_raw_get(fx, seq, buf, sizeof buf);
        pbuf_t *pb = NULL;
        assert_int_equal(pbuf_unpack(&pb, &refnet__audit_entry__descriptor, buf, len, sizeof buf),
                         0);
        Refnet__AuditEntry e = *(const Refnet__AuditEntry *)pbuf_msg(pb);
        uint8_t *bytes = NULL;
        size_t blen = 0;
        pbuf_pack(&e.base, &bytes, &blen);
        assert_int_equal(blen, len);
        assert_memory_equal(bytes, buf, len);
        free(bytes);
        assert_int_equal(e.seq, seq);
        assert_int_equal(e.hash.len, AUDIT_HASH_LEN);
        if (seq == 1) {
            assert_int_equal(e.prev_hash.len, 0);
        } else {
            assert_int_equal(e.prev_hash.len, AUDIT_HASH_LEN);
            assert_memory_equal(e.prev_hash.data, prev, AUDIT_HASH_LEN);
        }
        memcpy(prev, e.hash.data, AUDIT_HASH_LEN);
        e.hash.len = 0;
        pbuf_pack(&e.base, &bytes, &blen);
        crypto_generichash(hash, sizeof hash, bytes, blen, NULL, 0);
        free(bytes);
        assert_memory_equal(hash, prev, AUDIT_HASH_LEN);
        pbuf_destroy(&pb);
    }
    nfx_destroy(&fx);
}

static void
test_names(void **state)
{
    (void)state;
    char actor[AUDIT_ACTOR_LEN];
    audit_actor(actor);
    assert_true(strlen(actor) > 0);
    assert_string_equal(audit_event_name(REFNET__AUDIT_EVENT__AUDIT_EVENT_DATA_RECEIVED),
                        "data-received");
    /* Every event has its own name; an unknown value says so. */
    static const char *const want[] = { "unknown",         "consent-granted",
                                        "consent-revoked", "disclosure-sent",
                                        "data-received",   "consent-expired",
                                        "revocation-sent", "revocation-acknowledged",
                                        "data-restricted" };
    for (int i = 0; i < (int)(sizeof want / sizeof want[0]); i++)
        assert_string_equal(audit_event_name((Refnet__AuditEvent)i), want[i]);
    assert_string_equal(audit_event_name((Refnet__AuditEvent)99), "unknown");
    assert_string_equal(audit_fault_name(AUDIT_REMOVED), "removed");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_verifies), cmocka_unit_test(test_altered),
        cmocka_unit_test(test_removed),        cmocka_unit_test(test_swapped),
        cmocka_unit_test(test_garbage),        cmocka_unit_test(test_rehashed),
        cmocka_unit_test(test_names),          cmocka_unit_test(test_stored_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
