/* Unit tests of broker/rekey (KeyRotate) and of the broker's handling of a revoked agency,
 * without sockets: dispatch_handle against a real store, then what the batch holds and what
 * the agency table says after a refresh. */
#include "test_broker_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dispatch.h"
#include "path.h"
#include "refnet_error.h"
#include "rekey.h"
#include "seal.h"

typedef struct {
    fx_t *fx;
    agencies_t *agencies;
    presence_t *presence;
    mailbox_t *mb;
    batch_t *batch;
    counters_t counters;
    dispatch_ctx_t dctx;
    uint8_t sign_pk[SEAL_KEY_LEN], sign_sk[SEAL_SIGN_SECRET_LEN];
    char k1[KEYS_Z85_LEN], k2[KEYS_Z85_LEN];
} ctx_t;

static int
setup(void **state)
{
    ctx_t *c = xcalloc(1, sizeof *c);
    char certs[PATH_MAX_LEN], sign[PATH_MAX_LEN];
    mailbox_config_t cfg = { .max_queue = 100, .default_ttl_ms = 60000, .done_retention_ms = 1 };
    c->fx = fx_new();
    if (!c->fx || fx_enroll(c->fx->store, "a1", c->k1) || fx_enroll(c->fx->store, "a2", c->k2))
        return -1;
    path_join(certs, sizeof certs, c->fx->dir, "certs");
    path_join(sign, sizeof sign, c->fx->dir, "sign.key");
    if (seal_sign_create(sign, c->sign_pk) || seal_sign_load(sign, c->sign_pk, c->sign_sk) ||
        agencies_open(&c->agencies, c->fx->store, certs) != 0)
        return -1;
    c->presence = presence_new(1000);
    c->mb = mailbox_new(c->fx->store, &cfg);
    c->batch = batch_new();
    c->dctx = (dispatch_ctx_t){ .store = c->fx->store,
                                .agencies = c->agencies,
                                .presence = c->presence,
                                .mailbox = c->mb,
                                .batch = c->batch,
                                .counters = &c->counters,
                                .heartbeat_ms = 1000,
                                .sign_pk = c->sign_pk,
                                .sign_sk = c->sign_sk };
    *state = c;
    return 0;
}

static int
teardown(void **state)
{
    ctx_t *c = *state;
    batch_destroy(&c->batch);
    mailbox_destroy(&c->mb);
    presence_destroy(&c->presence);
    agencies_destroy(&c->agencies);
    fx_destroy(&c->fx);
    free(c);
    return 0;
}

/* Runs `env` as agency `who` in its own committed transaction. */
static Refnet__Status
run(ctx_t *c, const char *who, Refnet__Envelope *env, const char **why)
{
    uint8_t id[16];
    MDB_txn *txn = NULL;
    wire_stamp(env, id);
    presence_peer_t *peer =
        presence_touch(c->presence, who, (const uint8_t *)who, strlen(who), 1, 1);
    dispatch_req_t req = { .agency = agencies_by_id(c->agencies, who),
                           .peer = peer,
                           .env = env,
                           .now_ms = clock_now_ms() };
    assert_non_null(req.agency);
    assert_int_equal(store_begin(c->fx->store, false, &txn), 0);
    req.txn = txn;
    *why = NULL;
    Refnet__Status st = dispatch_handle(&c->dctx, &req, why);
    if (st == REFNET__STATUS__STATUS_OK)
        assert_int_equal(store_commit(&txn), 0);
    store_abort(&txn);
    return st;
}

static Refnet__Status
rotate_to(ctx_t *c, const char *who, const char *curve, uint8_t box[SEAL_KEY_LEN], const char **why)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__KeyRotate kr = REFNET__KEY_ROTATE__INIT;
    kr.curve_public_key = (char *)curve;
    kr.box_public_key.data = box;
    kr.box_public_key.len = SEAL_KEY_LEN;
    env.body_case = REFNET__ENVELOPE__BODY_KEY_ROTATE;
    env.key_rotate = &kr;
    return run(c, who, &env, why);
}

static void
test_rotation_replaces_both_keys(void **state)
{
    ctx_t *c = *state;
    char k3[KEYS_Z85_LEN];
    uint8_t box[SEAL_KEY_LEN];
    bool changed = false;
    const char *why = NULL;
    fx_new_key(k3);
    memset(box, 0x42, sizeof box);
    assert_int_equal(rotate_to(c, "a1", k3, box, &why), REFNET__STATUS__STATUS_OK);
    assert_int_equal(c->counters.key_rotations, 1);
    /* The new signed key for everyone, and Result OK (durable: sent after the commit). */
    assert_int_equal(batch_mark(c->batch), 2);
    batch_entry_t *fan = batch_at(c->batch, 0), *ok = batch_at(c->batch, 1);
    assert_int_equal(ok->kind, BATCH_REPLY);
    assert_true(ok->durable);
    assert_int_equal(fan->kind, BATCH_FANOUT);
    pbuf_t *pb = NULL;
    assert_int_equal(wire_decode(fan->frame, fan->len, &pb, NULL), 0);
    const Refnet__AgencyKey *k = ((const Refnet__Envelope *)pbuf_msg(pb))->agency_key;
    assert_string_equal(k->agency_id, "a1");
    assert_memory_equal(k->box_public_key.data, box, SEAL_KEY_LEN);
    assert_true(seal_verify_agency_key("a1", box, k->issued_at_ms, k->signature.data, c->sign_pk));
    pbuf_destroy(&pb);
    batch_clear(c->batch);

    /* The new CURVE key names a1 from now on; the old one names nobody. */
    assert_int_equal(agencies_refresh(c->agencies, &changed), 0);
    assert_true(changed);
    assert_null(agencies_by_key(c->agencies, c->k1));
    assert_string_equal(agencies_by_key(c->agencies, k3)->id, "a1");

    /* A resent request is answered OK again and changes nothing. */
    assert_int_equal(rotate_to(c, "a1", k3, box, &why), REFNET__STATUS__STATUS_OK);
    assert_int_equal(c->counters.key_rotations, 1);
    assert_int_equal(batch_mark(c->batch), 1);
    batch_clear(c->batch);
    /* Another agency's key is refused. */
    assert_int_equal(rotate_to(c, "a1", c->k2, box, &why), REFNET__STATUS__STATUS_FORBIDDEN);
    assert_non_null(why);
}

static void
test_mail_to_a_revoked_agency_is_refused(void **state)
{
    ctx_t *c = *state;
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__HandoffUpdate up = REFNET__HANDOFF_UPDATE__INIT;
    MDB_txn *txn = NULL;
    bool already = false, changed = false;
    char why_buf[WIRE_WHY_LEN];
    const char *why = NULL;
    assert_int_equal(store_begin(c->fx->store, false, &txn), 0);
    assert_int_equal(
        agencies_revoke(c->fx->store, txn, "a2", clock_now_ms(), c->sign_sk, &already, why_buf), 0);
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(agencies_refresh(c->agencies, &changed), 0);
    up.handoff_id = (char *)"0b7f3d1e-8a55-4c2e-9d7f-1a2b3c4d5e6f";
    mail.to = (char *)"a2";
    mail.content_case = REFNET__MAIL__CONTENT_HANDOFF;
    mail.handoff = &up;
    env.body_case = REFNET__ENVELOPE__BODY_MAIL;
    env.mail = &mail;
    assert_int_equal(run(c, "a1", &env, &why), REFNET__STATUS__STATUS_UNKNOWN_RECIPIENT);
    assert_non_null(strstr(why, "revoked"));
    assert_int_equal(batch_mark(c->batch), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rotation_replaces_both_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mail_to_a_revoked_agency_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
