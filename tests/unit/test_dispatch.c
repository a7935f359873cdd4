/* Unit tests of broker/dispatch without sockets: each request type against a real store, and
 * what it leaves in the batch (replies, durable or not; fan-out; kicks), plus the refusals a
 * node can provoke. */
#include "test_broker_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>

#include "dispatch.h"
#include "path.h"
#include "refnet_error.h"
#include "seal.h"

typedef struct {
    fx_t *fx;
    agencies_t *agencies;
    presence_t *presence;
    mailbox_t *mb;
    batch_t *batch;
    counters_t counters;
    dispatch_ctx_t dctx;
} ctx_t;

static char food[] = "food";
static char *tax_food[] = { food };
static const char *HANDOFF = "0b7f3d1e-8a55-4c2e-9d7f-1a2b3c4d5e6f";

static int
setup(void **state)
{
    ctx_t *c = xcalloc(1, sizeof *c);
    char certs[PATH_MAX_LEN];
    mailbox_config_t cfg = { .max_queue = 100,
                             .default_ttl_ms = 60000,
                             .done_retention_ms = 60000 };
    c->fx = fx_new();
    if (!c->fx || fx_enroll(c->fx->store, "a1", NULL) || fx_enroll(c->fx->store, "a2", NULL))
        return -1;
    path_join(certs, sizeof certs, c->fx->dir, "certs");
    if (agencies_open(&c->agencies, c->fx->store, certs) != 0)
        return -1;
    c->presence = presence_new(1000);
    c->mb = mailbox_new(c->fx->store, &cfg);
    c->batch = batch_new();
    c->dctx = (dispatch_ctx_t){ c->fx->store, c->agencies, c->presence, c->mb, c->batch,
                                &c->counters, 1000,        NULL,        NULL };
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

/* Decodes batch entry i as an Envelope (caller destroys). */
static pbuf_t *
entry_env(ctx_t *c, size_t i)
{
    pbuf_t *pb = NULL;
    batch_entry_t *e = batch_at(c->batch, i);
    assert_non_null(e);
    assert_int_equal(wire_decode(e->frame, e->len, &pb, NULL), 0);
    return pb;
}

static void
test_hello_and_ping(void **state)
{
    ctx_t *c = *state;
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Hello hello = REFNET__HELLO__INIT;
    Refnet__Ping ping = REFNET__PING__INIT;
    const char *why;
    env.body_case = REFNET__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    presence_peer_t *peer = presence_touch(c->presence, "a1", (const uint8_t *)"a1", 2, 1, 1);
    peer->cursor = 5;
    peer->inflight = 3;
    peer->pending = false;
    assert_int_equal(run(c, "a1", &env, &why), REFNET__STATUS__STATUS_OK);
    /* The same connection: what is in flight stays in flight, nothing is sent twice. */
    assert_int_equal(peer->cursor, 5);
    assert_int_equal(peer->inflight, 3);
    assert_true(peer->pending);
    assert_int_equal(batch_mark(c->batch), 1);
    assert_false(batch_at(c->batch, 0)->durable);
    pbuf_t *pb = entry_env(c, 0);
    const Refnet__Welcome *w = ((Refnet__Envelope *)pbuf_msg(pb))->welcome;
    assert_string_equal(w->agency_id, "a1");
    assert_int_equal(w->heartbeat_ms, 1000);
    pbuf_destroy(&pb);
    env.body_case = REFNET__ENVELOPE__BODY_PING;
    env.ping = &ping;
    assert_int_equal(run(c, "a1", &env, &why), REFNET__STATUS__STATUS_OK);
    pb = entry_env(c, 1);
    assert_int_equal(((Refnet__Envelope *)pbuf_msg(pb))->body_case, REFNET__ENVELOPE__BODY_PONG);
    pbuf_destroy(&pb);

    /* A Hello on a new connection (another routing id) starts delivery over. */
    env.body_case = REFNET__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    assert_ptr_equal(presence_touch(c->presence, "a1", (const uint8_t *)"a1-new", 6, 1, 1), peer);
    assert_int_equal(peer->cursor, 0);
    peer->cursor = 5;
    peer->inflight = 3;
    assert_int_equal(run(c, "a1", &env, &why), REFNET__STATUS__STATUS_OK); /* rid "a1" again */
    assert_int_equal(peer->cursor, 0);
    assert_int_equal(peer->inflight, 0);
    assert_true(peer->pending);
}

/* A Hello's sealing key is recorded once, signed, fanned out when new, and every known key
 * follows each Welcome; the signature verifies with the broker's key only. */
static void
test_hello_seal_keys(void **state)
{
    ctx_t *c = *state;
    uint8_t sign_pk[SEAL_KEY_LEN], sign_sk[SEAL_SIGN_SECRET_LEN], box_pk[SEAL_KEY_LEN],
        box_sk[SEAL_KEY_LEN], other_pk[SEAL_KEY_LEN], other_sk[SEAL_SIGN_SECRET_LEN];
    assert_int_equal(seal_init(), 0);
    crypto_sign_keypair(sign_pk, sign_sk);
    crypto_box_keypair(box_pk, box_sk);
    crypto_sign_keypair(other_pk, other_sk);
    c->dctx.sign_pk = sign_pk;
    c->dctx.sign_sk = sign_sk;
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Hello hello = REFNET__HELLO__INIT;
    const char *why;
    env.body_case = REFNET__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    hello.box_public_key.data = box_pk;
    hello.box_public_key.len = sizeof box_pk;
    assert_int_equal(run(c, "a1", &env, &why), REFNET__STATUS__STATUS_OK);
    /* Welcome, the fan-out of the new key, and the keys known (a1's) for a1. */
    assert_int_equal(batch_mark(c->batch), 3);
    pbuf_t *pb = entry_env(c, 0);
    const Refnet__Welcome *w = ((Refnet__Envelope *)pbuf_msg(pb))->welcome;
    assert_int_equal(w->broker_sign_key.len, SEAL_KEY_LEN);
    assert_memory_equal(w->broker_sign_key.data, sign_pk, SEAL_KEY_LEN);
    pbuf_destroy(&pb);
    assert_int_equal(batch_at(c->batch, 1)->kind, BATCH_FANOUT);
    for (size_t i = 1; i < 3; i++) {
        pb = entry_env(c, i);
        const Refnet__AgencyKey *k = ((Refnet__Envelope *)pbuf_msg(pb))->agency_key;
        assert_non_null(k);
        assert_string_equal(k->agency_id, "a1");
        assert_memory_equal(k->box_public_key.data, box_pk, SEAL_KEY_LEN);
        assert_true(
            seal_verify_agency_key("a1", box_pk, k->issued_at_ms, k->signature.data, sign_pk));
        assert_false(
            seal_verify_agency_key("a1", box_pk, k->issued_at_ms, k->signature.data, other_pk));
        assert_false(
            seal_verify_agency_key("a2", box_pk, k->issued_at_ms, k->signature.data, sign_pk));
        pbuf_destroy(&pb);
    }
    /* The same key again: no fan-out, only the Welcome and the known keys. */
    batch_clear(c->batch);
    assert_int_equal(run(c, "a1", &env, &why), REFNET__STATUS__STATUS_OK);
    assert_int_equal(batch_mark(c->batch), 2);
    assert_int_equal(batch_at(c->batch, 1)->kind, BATCH_REPLY);
    /* a2 says Hello without a key: it still learns a1's. */
    batch_clear(c->batch);
    hello.box_public_key.len = 0;
    assert_int_equal(run(c, "a2", &env, &why), REFNET__STATUS__STATUS_OK);
    assert_int_equal(batch_mark(c->batch), 2);
    pb = entry_env(c, 1);
    assert_string_equal(((Refnet__Envelope *)pbuf_msg(pb))->agency_key->agency_id, "a1");
    pbuf_destroy(&pb);
}

static void
test_publish_replies_after_commit_and_fans_out(void **state)
{
    ctx_t *c = *state;
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirPublish pub = REFNET__DIR_PUBLISH__INIT;
    Refnet__Service svc = fx_service("beds", "Beds", tax_food);
    const char *why;
    pub.service = &svc;
    env.body_case = REFNET__ENVELOPE__BODY_PUBLISH;
    env.publish = &pub;
    assert_int_equal(run(c, "a2", &env, &why), REFNET__STATUS__STATUS_OK);
    assert_int_equal(batch_mark(c->batch), 2);
    assert_int_equal(batch_at(c->batch, 0)->kind, BATCH_FANOUT);
    assert_int_equal(batch_at(c->batch, 0)->seq, 1);
    assert_int_equal(batch_at(c->batch, 1)->kind, BATCH_REPLY);
    assert_true(batch_at(c->batch, 1)->durable);
    pbuf_t *pb = entry_env(c, 1);
    assert_int_equal(((Refnet__Envelope *)pbuf_msg(pb))->result->seq, 1);
    pbuf_destroy(&pb);
    assert_int_equal(run(c, "a1", &env, &why), REFNET__STATUS__STATUS_FORBIDDEN);
    assert_non_null(why);
    assert_int_equal(c->counters.dir_changes, 1);
}

static Refnet__Status
mail(ctx_t *c,
     const char *who,
     const char *to,
     const char *from,
     Refnet__HandoffStatus status,
     const char **why)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Mail m = REFNET__MAIL__INIT;
    Refnet__HandoffUpdate up = REFNET__HANDOFF_UPDATE__INIT;
    up.handoff_id = (char *)HANDOFF;
    up.service_id = (char *)"beds";
    up.status = status;
    m.to = (char *)to;
    m.from = (char *)from;
    m.content_case = REFNET__MAIL__CONTENT_HANDOFF;
    m.handoff = &up;
    env.body_case = REFNET__ENVELOPE__BODY_MAIL;
    env.mail = &m;
    Refnet__Status st = run(c, who, &env, why);
    /* The handler restores what it changed to stamp the delivery. */
    assert_ptr_equal(m.from, from);
    assert_int_equal(m.stored_at_ms, 0);
    return st;
}

static void
test_mail_and_its_refusals(void **state)
{
    ctx_t *c = *state;
    const char *why;
    test_publish_replies_after_commit_and_fans_out(state);
    batch_clear(c->batch);
    Refnet__HandoffStatus req = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED;
    assert_int_equal(mail(c, "a1", "a2", "a2", req, &why), REFNET__STATUS__STATUS_FORBIDDEN);
    assert_string_equal(why, "message claims another sender");
    assert_int_equal(mail(c, "a1", "nobody", "", req, &why),
                     REFNET__STATUS__STATUS_UNKNOWN_RECIPIENT);
    assert_int_equal(mail(c, "a1", "a1", "", req, &why), REFNET__STATUS__STATUS_BAD_REQUEST);
    assert_int_equal(mail(c, "a2", "a1", "", req, &why), REFNET__STATUS__STATUS_FORBIDDEN);
    assert_int_equal(mail(c, "a1", "a2", "", REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ACCEPTED, &why),
                     REFNET__STATUS__STATUS_NOT_FOUND);
    assert_int_equal(mail(c, "a1", "a2", "a1", req, &why), REFNET__STATUS__STATUS_OK);
    assert_int_equal(batch_mark(c->batch), 3);
    assert_true(batch_at(c->batch, 0)->durable);
    assert_int_equal(batch_at(c->batch, 1)->kind, BATCH_KICK);
    assert_string_equal(batch_at(c->batch, 1)->agency, "a2");
    assert_int_equal(batch_at(c->batch, 2)->kind, BATCH_STORED);
    assert_string_equal(batch_at(c->batch, 2)->agency, "a1");
    assert_string_equal(batch_at(c->batch, 2)->to, "a2");
    assert_int_equal(
        mail(c, "a1", "a2", "", REFNET__HANDOFF_STATUS__HANDOFF_STATUS_CANCELLED, &why),
        REFNET__STATUS__STATUS_INVALID_TRANSITION);
    assert_non_null(strstr(why, "reason"));
    assert_int_equal(c->counters.stored, 1);
}

/* Sends a consent revocation (or, with `ack`, its acknowledgement) naming handoff `id`. */
static Refnet__Status
revocation(ctx_t *c, const char *who, const char *to, const char *id, bool ack, const char **why)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Mail m = REFNET__MAIL__INIT;
    Refnet__Revocation r = REFNET__REVOCATION__INIT;
    Refnet__RevocationAck a = REFNET__REVOCATION_ACK__INIT;
    char *ids[] = { (char *)id };
    r.consent_id = a.consent_id = (char *)"5d1c7a3e-2b4f-4e6a-8c9d-0e1f2a3b4c5d";
    r.handoff_ids = a.handoff_ids = ids;
    r.n_handoff_ids = a.n_handoff_ids = 1;
    r.revoked_at_ms = a.restricted_at_ms = clock_now_ms();
    m.to = (char *)to;
    m.from = (char *)"";
    if (ack) {
        m.content_case = REFNET__MAIL__CONTENT_REVOCATION_ACK;
        m.revocation_ack = &a;
    } else {
        m.content_case = REFNET__MAIL__CONTENT_REVOCATION;
        m.revocation = &r;
    }
    env.body_case = REFNET__ENVELOPE__BODY_MAIL;
    env.mail = &m;
    return run(c, who, &env, why);
}

/* A revocation travels only from a handoff's sender to its receiver, its acknowledgement only
 * back; both are stored and delivered like any mail. */
static void
test_revocation_between_parties_only(void **state)
{
    ctx_t *c = *state;
    const char *why;
    test_publish_replies_after_commit_and_fans_out(state);
    assert_int_equal(
        mail(c, "a1", "a2", "", REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED, &why),
        REFNET__STATUS__STATUS_OK);
    assert_int_equal(c->counters.stored, 1);
    /* The wrong way round, or naming a handoff the broker never saw: refused. */
    assert_int_equal(revocation(c, "a2", "a1", HANDOFF, false, &why),
                     REFNET__STATUS__STATUS_FORBIDDEN);
    assert_non_null(strstr(why, "two parties"));
    assert_int_equal(revocation(c, "a1", "a2", HANDOFF, true, &why),
                     REFNET__STATUS__STATUS_FORBIDDEN);
    assert_int_equal(revocation(c, "a1", "a2", "00000000-0000-4000-8000-00000000000f", false, &why),
                     REFNET__STATUS__STATUS_FORBIDDEN);
    assert_int_equal(c->counters.stored, 1);
    /* Sender to receiver, and the acknowledgement back: stored. */
    assert_int_equal(revocation(c, "a1", "a2", HANDOFF, false, &why), REFNET__STATUS__STATUS_OK);
    assert_int_equal(revocation(c, "a2", "a1", HANDOFF, true, &why), REFNET__STATUS__STATUS_OK);
    assert_int_equal(c->counters.stored, 3);
}

static void
test_requests_only_the_broker_sends(void **state)
{
    ctx_t *c = *state;
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Pong pong = REFNET__PONG__INIT;
    const char *why;
    env.body_case = REFNET__ENVELOPE__BODY_PONG;
    env.pong = &pong;
    assert_int_equal(run(c, "a1", &env, &why), REFNET__STATUS__STATUS_BAD_REQUEST);
    assert_non_null(why);
    assert_int_equal(batch_mark(c->batch), 0);
}

static void
test_status_mapping(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(dispatch_status(REFNET_EFULL, &why), REFNET__STATUS__STATUS_STORAGE_FULL);
    assert_non_null(why);
    why = NULL;
    assert_int_equal(dispatch_status(REFNET_ESTORAGE, &why), REFNET__STATUS__STATUS_INTERNAL);
    assert_non_null(why);
    assert_int_equal(dispatch_status(REFNET_EQUEUEFULL, &why), REFNET__STATUS__STATUS_QUEUE_FULL);
    assert_int_equal(dispatch_status(REFNET_ETRANSITION, &why),
                     REFNET__STATUS__STATUS_INVALID_TRANSITION);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hello_and_ping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hello_seal_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_replies_after_commit_and_fans_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mail_and_its_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revocation_between_parties_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requests_only_the_broker_sends, setup, teardown),
        cmocka_unit_test(test_status_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
