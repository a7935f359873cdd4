/* Unit tests of broker/sealkeys: the broker signs each agency's sealing-key binding once, the
 * signature verifies with seal.h and binds exactly that agency id and key, and the signed
 * bindings go out as Envelope{agency_key} frames; a revoked agency's frame carries the signed
 * revocation, and its key is frozen. Real LMDB store in a mkdtemp() folder. */
#include "test_broker_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pbuf.h"
#include "refnet_error.h"
#include "sealkeys.h"

typedef struct {
    fx_t *fx;
    uint8_t sign_pk[SEAL_KEY_LEN];
    uint8_t sign_sk[SEAL_SIGN_SECRET_LEN];
} sk_t;

static int
setup(void **state)
{
    sk_t *t = xcalloc(1, sizeof *t);
    char path[128];
    t->fx = fx_new();
    if (!t->fx)
        return -1;
    snprintf(path, sizeof path, "%s/sign.key", t->fx->dir);
    if (seal_sign_create(path, t->sign_pk) != 0 || seal_sign_load(path, t->sign_pk, t->sign_sk))
        return -1;
    *state = t;
    return 0;
}

static int
teardown(void **state)
{
    sk_t *t = *state;
    fx_destroy(&t->fx);
    free(t);
    return 0;
}

/* Issue times the wire accepts (2000..2100): a fixed base plus small offsets. */
#define T0 UINT64_C(1700000000000)

static void
fill_key(uint8_t key[SEAL_KEY_LEN], uint8_t seed)
{
    for (size_t i = 0; i < SEAL_KEY_LEN; i++)
        key[i] = (uint8_t)(seed + i * 7);
}

static int
announce(sk_t *t, const char *id, const uint8_t pk[SEAL_KEY_LEN], uint64_t now, bool *changed)
{
    MDB_txn *txn = NULL;
    int rc = store_begin(t->fx->store, false, &txn);
    if (!rc)
        rc = sealkeys_announce(t->fx->store, txn, id, pk, now, t->sign_sk, changed);
    if (!rc)
        rc = store_commit(&txn);
    store_abort(&txn);
    return rc;
}

/* Decodes the agency's frame; returns the pbuf (caller destroys) or NULL. */
static pbuf_t *
frame_of(sk_t *t, const char *id, int *rc_out)
{
    MDB_txn *txn = NULL;
    uint8_t *frame = NULL;
    size_t len = 0;
    pbuf_t *pb = NULL;
    char why[WIRE_WHY_LEN];
    int rc = store_begin(t->fx->store, true, &txn);
    if (!rc)
        rc = sealkeys_frame(t->fx->store, txn, id, &frame, &len);
    store_abort(&txn);
    *rc_out = rc;
    if (rc)
        return NULL;
    rc = wire_decode(frame, len, &pb, why);
    free(frame);
    *rc_out = rc;
    return rc ? NULL : pb;
}

static void
test_signature_binds_id_and_key(void **state)
{
    sk_t *t = *state;
    uint8_t pk[SEAL_KEY_LEN], other[SEAL_KEY_LEN];
    bool changed = false;
    int rc = 0;
    fill_key(pk, 1);
    fill_key(other, 2);
    assert_int_equal(fx_enroll(t->fx->store, "alpha", NULL), 0);
    assert_int_equal(announce(t, "alpha", pk, T0 + 1234, &changed), 0);
    assert_true(changed);

    pbuf_t *pb = frame_of(t, "alpha", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(pb);
    const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
    assert_int_equal(env->body_case, REFNET__ENVELOPE__BODY_AGENCY_KEY);
    const Refnet__AgencyKey *k = env->agency_key;
    assert_string_equal(k->agency_id, "alpha");
    assert_int_equal(k->box_public_key.len, SEAL_KEY_LEN);
    assert_memory_equal(k->box_public_key.data, pk, SEAL_KEY_LEN);
    assert_int_equal(k->issued_at_ms, T0 + 1234);
    assert_int_equal(k->signature.len, SEAL_SIGNATURE_LEN);
    assert_true(seal_verify_agency_key("alpha", pk, T0 + 1234, k->signature.data, t->sign_pk));
    /* The signature vouches for this exact binding only. */
    assert_false(seal_verify_agency_key("alpha", other, T0 + 1234, k->signature.data, t->sign_pk));
    assert_false(seal_verify_agency_key("alphb", pk, T0 + 1234, k->signature.data, t->sign_pk));
    assert_false(seal_verify_agency_key("alpha", pk, T0 + 1235, k->signature.data, t->sign_pk));
    uint8_t bad_signer[SEAL_KEY_LEN];
    memcpy(bad_signer, t->sign_pk, SEAL_KEY_LEN);
    bad_signer[0] ^= 1;
    assert_false(seal_verify_agency_key("alpha", pk, T0 + 1234, k->signature.data, bad_signer));
    pbuf_destroy(&pb);
}

static void
test_same_key_is_not_resigned_new_key_is(void **state)
{
    sk_t *t = *state;
    uint8_t pk[SEAL_KEY_LEN], pk2[SEAL_KEY_LEN];
    bool changed = true;
    int rc = 0;
    fill_key(pk, 10);
    fill_key(pk2, 20);
    assert_int_equal(fx_enroll(t->fx->store, "beta", NULL), 0);
    assert_int_equal(announce(t, "beta", pk, T0 + 100, &changed), 0);
    assert_true(changed);
    /* The same key again: unchanged, and the original issue time is kept. */
    assert_int_equal(announce(t, "beta", pk, T0 + 200, &changed), 0);
    assert_false(changed);
    pbuf_t *pb = frame_of(t, "beta", &rc);
    assert_non_null(pb);
    const Refnet__AgencyKey *k = ((const Refnet__Envelope *)pbuf_msg(pb))->agency_key;
    assert_int_equal(k->issued_at_ms, T0 + 100);
    pbuf_destroy(&pb);
    /* A new key replaces it with a fresh signature. */
    assert_int_equal(announce(t, "beta", pk2, T0 + 300, &changed), 0);
    assert_true(changed);
    pb = frame_of(t, "beta", &rc);
    assert_non_null(pb);
    k = ((const Refnet__Envelope *)pbuf_msg(pb))->agency_key;
    assert_memory_equal(k->box_public_key.data, pk2, SEAL_KEY_LEN);
    assert_int_equal(k->issued_at_ms, T0 + 300);
    assert_true(seal_verify_agency_key("beta", pk2, T0 + 300, k->signature.data, t->sign_pk));
    assert_false(seal_verify_agency_key("beta", pk, T0 + 300, k->signature.data, t->sign_pk));
    pbuf_destroy(&pb);
}

static void
test_unknown_and_keyless_agencies(void **state)
{
    sk_t *t = *state;
    uint8_t pk[SEAL_KEY_LEN];
    bool changed = true;
    int rc = 0;
    fill_key(pk, 3);
    assert_int_equal(announce(t, "nobody", pk, T0 + 1, &changed), REFNET_ENOTFOUND);
    assert_false(changed);
    assert_null(frame_of(t, "nobody", &rc));
    assert_int_equal(rc, REFNET_ENOTFOUND);
    /* Enrolled but never announced a key. */
    assert_int_equal(fx_enroll(t->fx->store, "gamma", NULL), 0);
    assert_null(frame_of(t, "gamma", &rc));
    assert_int_equal(rc, REFNET_ENOTFOUND);
    /* Re-enrolment drops the key until the next announcement. */
    assert_int_equal(announce(t, "gamma", pk, T0 + 5, &changed), 0);
    pbuf_t *pb = frame_of(t, "gamma", &rc);
    assert_non_null(pb);
    pbuf_destroy(&pb);
    assert_int_equal(fx_enroll(t->fx->store, "gamma", NULL), 0);
    assert_null(frame_of(t, "gamma", &rc));
    assert_int_equal(rc, REFNET_ENOTFOUND);
}

typedef struct {
    int n;
    char ids[4][16];
} each_t;

static void
collect(void *arg, uint8_t *frame, size_t len)
{
    each_t *e = arg;
    pbuf_t *pb = NULL;
    char why[WIRE_WHY_LEN];
    if (wire_decode(frame, len, &pb, why) == 0 && e->n < 4) {
        const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
        if (env->body_case == REFNET__ENVELOPE__BODY_AGENCY_KEY)
            snprintf(e->ids[e->n], sizeof e->ids[0], "%s", env->agency_key->agency_id);
    }
    e->n++;
    pbuf_destroy(&pb);
    free(frame);
}

static void
test_each_lists_keyed_agencies_in_id_order(void **state)
{
    sk_t *t = *state;
    uint8_t pk[SEAL_KEY_LEN], pk2[SEAL_KEY_LEN];
    bool changed = false;
    fill_key(pk, 4);
    fill_key(pk2, 5);
    assert_int_equal(fx_enroll(t->fx->store, "zeta", NULL), 0);
    assert_int_equal(fx_enroll(t->fx->store, "delta", NULL), 0);
    assert_int_equal(fx_enroll(t->fx->store, "keyless", NULL), 0);
    assert_int_equal(announce(t, "zeta", pk, T0 + 1, &changed), 0);
    assert_int_equal(announce(t, "delta", pk2, T0 + 2, &changed), 0);
    each_t e = { 0 };
    MDB_txn *txn = NULL;
    assert_int_equal(store_begin(t->fx->store, true, &txn), 0);
    assert_int_equal(sealkeys_each(t->fx->store, txn, collect, &e), 0);
    store_abort(&txn);
    assert_int_equal(e.n, 2);
    assert_string_equal(e.ids[0], "delta");
    assert_string_equal(e.ids[1], "zeta");
}

static void
test_revocation_is_signed_and_sent(void **state)
{
    sk_t *t = *state;
    uint8_t pk[SEAL_KEY_LEN], pk2[SEAL_KEY_LEN];
    bool changed = false, already = false;
    char why[WIRE_WHY_LEN] = "";
    int rc = 0;
    MDB_txn *txn = NULL;
    fill_key(pk, 6);
    fill_key(pk2, 7);
    assert_int_equal(fx_enroll(t->fx->store, "omega", NULL), 0);
    assert_int_equal(announce(t, "omega", pk, T0 + 10, &changed), 0);
    assert_int_equal(store_begin(t->fx->store, false, &txn), 0);
    assert_int_equal(
        agencies_revoke(t->fx->store, txn, "omega", T0 + 500, t->sign_sk, &already, why), 0);
    assert_int_equal(store_commit(&txn), 0);

    pbuf_t *pb = frame_of(t, "omega", &rc);
    assert_int_equal(rc, 0);
    const Refnet__AgencyKey *k = ((const Refnet__Envelope *)pbuf_msg(pb))->agency_key;
    assert_true(k->revoked);
    assert_int_equal(k->revoked_at_ms, T0 + 500);
    assert_memory_equal(k->box_public_key.data, pk, SEAL_KEY_LEN);
    /* The signature covers the revocation and its time, and is no binding. */
    assert_true(
        seal_verify_agency_revoked("omega", pk, T0 + 10, T0 + 500, k->signature.data, t->sign_pk));
    assert_false(
        seal_verify_agency_revoked("omega", pk, T0 + 10, T0 + 501, k->signature.data, t->sign_pk));
    assert_false(seal_verify_agency_key("omega", pk, T0 + 10, k->signature.data, t->sign_pk));
    pbuf_destroy(&pb);

    /* A revoked agency's key no longer changes, and sealkeys_each still sends it. */
    assert_int_equal(announce(t, "omega", pk2, T0 + 600, &changed), 0);
    assert_false(changed);
    each_t e = { 0 };
    assert_int_equal(store_begin(t->fx->store, true, &txn), 0);
    assert_int_equal(sealkeys_each(t->fx->store, txn, collect, &e), 0);
    store_abort(&txn);
    assert_int_equal(e.n, 1);
    assert_string_equal(e.ids[0], "omega");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_signature_binds_id_and_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_key_is_not_resigned_new_key_is, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_keyless_agencies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_lists_keyed_agencies_in_id_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_revocation_is_signed_and_sent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
