/* Unit tests of inbound: a batch of broker frames against a real store. The link is real
 * but points at a port nobody serves: these tests only look at what the batch decides. */
#include "test_node_fixture.h"

#include <czmq.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <sodium.h>

#include "handoff.h"
#include "inbound.h"
#include "outbox.h"
#include "peerkeys.h"
#include "refnet_error.h"
#include "seen.h"

typedef struct {
    nfx_t *fx;
    zcert_t *cert;
    link_t *link;
    inbound_batch_t *b;
    inbound_stats_t stats;
    MDB_txn *txn;
} t_t;

static int
setup(void **state)
{
    t_t *t = xcalloc(1, sizeof *t);
    t->fx = nfx_new();
    assert_non_null(t->fx);
    t->cert = zcert_new();
    zcert_t *server = zcert_new();
    assert_int_equal(
        link_open(&t->link, "tcp://127.0.0.1:9", zcert_public_txt(server), t->cert, "harbor", 1000),
        0);
    zcert_destroy(&server);
    t->b = xcalloc(1, sizeof *t->b);
    *state = t;
    return 0;
}

static int
teardown(void **state)
{
    t_t *t = *state;
    store_abort(&t->txn);
    free(t->b);
    link_destroy(&t->link);
    zcert_destroy(&t->cert);
    nfx_destroy(&t->fx);
    free(t);
    return 0;
}

static void
begin(t_t *t)
{
    t->txn = nfx_begin(t->fx, false);
    assert_non_null(t->txn);
    inbound_begin(t->b, t->fx->st, t->txn, t->link, "harbor", &t->stats, clock_now_ms(),
                  clock_mono_ms());
}

static void
commit(t_t *t)
{
    assert_int_equal(t->b->failed, 0);
    assert_int_equal(store_commit(&t->txn), 0);
}

/* Gives `env` a fresh msg_id unless it has one, and applies it. */
static void
run(t_t *t, Refnet__Envelope *env)
{
    static uint8_t ids[64][UID_MSGID_LEN];
    static int next;
    if (env->msg_id.len == 0) {
        uid_msgid(ids[next % 64]);
        env->msg_id.data = ids[next++ % 64];
        env->msg_id.len = UID_MSGID_LEN;
    }
    env->version = 1;
    inbound_envelope(t->b, env);
}

static void
test_welcome_pong_updates(void **state)
{
    t_t *t = *state;
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Welcome w = REFNET__WELCOME__INIT;
    w.agency_id = (char *)"harbor";
    w.dir_seq = 3;
    env.body_case = REFNET__ENVELOPE__BODY_WELCOME;
    env.welcome = &w;
    begin(t);
    assert_false(link_connected(t->link));
    run(t, &env);
    assert_true(link_connected(t->link));
    assert_true(t->b->need_sync);
    commit(t);

    /* Live update 1 in order: no catch-up needed. Update 3 then reveals a gap. */
    begin(t);
    Refnet__DirUpdate up = REFNET__DIR_UPDATE__INIT;
    Refnet__Service svc = REFNET__SERVICE__INIT;
    svc.id = (char *)"a";
    svc.name = (char *)"A";
    up.seq = 1;
    up.service_id = (char *)"a";
    up.agency = (char *)"lighthouse";
    up.service = &svc;
    Refnet__Envelope u = REFNET__ENVELOPE__INIT;
    u.body_case = REFNET__ENVELOPE__BODY_UPDATE;
    u.update = &up;
    run(t, &u);
    assert_false(t->b->need_sync);
    up.seq = 3;
    u.msg_id.len = 0;
    run(t, &u);
    assert_true(t->b->need_sync);
    assert_int_equal(t->stats.dir_updates, 2);
    commit(t);

    /* A Pong naming a head above ours asks for a catch-up; DirSyncDone ends it. */
    begin(t);
    Refnet__Envelope p = REFNET__ENVELOPE__INIT;
    Refnet__Pong pong = REFNET__PONG__INIT;
    pong.dir_seq = 4;
    p.body_case = REFNET__ENVELOPE__BODY_PONG;
    p.pong = &pong;
    run(t, &p);
    assert_true(t->b->need_sync);
    Refnet__Envelope d = REFNET__ENVELOPE__INIT;
    Refnet__DirSyncDone done = REFNET__DIR_SYNC_DONE__INIT;
    done.seq = 4;
    d.body_case = REFNET__ENVELOPE__BODY_SYNC_DONE;
    d.sync_done = &done;
    run(t, &d);
    uint64_t head = 0;
    assert_int_equal(replica_head(t->txn, t->fx->st, &head), 0);
    assert_int_equal(head, 4);
    /* A frame a broker never sends a node is counted and ignored. */
    Refnet__Envelope h = REFNET__ENVELOPE__INIT;
    Refnet__Hello hello = REFNET__HELLO__INIT;
    h.body_case = REFNET__ENVELOPE__BODY_HELLO;
    h.hello = &hello;
    run(t, &h);
    assert_int_equal(t->stats.unexpected, 1);
    commit(t);
}

static void
test_mail_applied_once_and_acked(void **state)
{
    t_t *t = *state;
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__Receipt r = REFNET__RECEIPT__INIT;
    r.handoff_id = (char *)"00000000-0000-4000-8000-000000000009";
    r.recipient = (char *)"lighthouse";
    mail.to = (char *)"harbor";
    mail.content_case = REFNET__MAIL__CONTENT_RECEIPT;
    mail.receipt = &r;
    env.body_case = REFNET__ENVELOPE__BODY_MAIL;
    env.mail = &mail;
    begin(t);
    run(t, &env);
    assert_int_equal(t->b->nacks, 1);
    assert_memory_equal(t->b->acks[0], env.msg_id.data, UID_MSGID_LEN);
    assert_int_equal(seen_has(t->txn, t->fx->st, env.msg_id.data, UID_MSGID_LEN), 1);
    commit(t);

    /* The same message again: dropped as a duplicate, still acknowledged. */
    begin(t);
    run(t, &env);
    assert_int_equal(t->b->nacks, 1);
    assert_int_equal(t->stats.mail_duplicate, 1);
    commit(t);

    /* A handoff step nobody can apply is refused, recorded as seen and acknowledged. */
    Refnet__HandoffUpdate up = REFNET__HANDOFF_UPDATE__INIT;
    up.handoff_id = (char *)"00000000-0000-4000-8000-000000000009";
    up.status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ACCEPTED;
    Refnet__Mail m2 = REFNET__MAIL__INIT;
    m2.to = (char *)"harbor";
    m2.from = (char *)"lighthouse";
    m2.content_case = REFNET__MAIL__CONTENT_HANDOFF;
    m2.handoff = &up;
    Refnet__Envelope e2 = REFNET__ENVELOPE__INIT;
    e2.body_case = REFNET__ENVELOPE__BODY_MAIL;
    e2.mail = &m2;
    begin(t);
    run(t, &e2);
    assert_int_equal(t->b->nacks, 1);
    assert_int_equal(t->stats.mail_refused, 1);
    commit(t);
    assert_int_equal(nfx_count(t->fx, NODEDB_SEEN), 2);
}

/* Revocations and their acknowledgements are routed to revoke.h, applied once and acked. */
static void
test_revocation_mail_routed(void **state)
{
    t_t *t = *state;
    char *ids[] = { (char *)"00000000-0000-4000-8000-000000000009" };
    Refnet__Revocation r = REFNET__REVOCATION__INIT;
    Refnet__RevocationAck a = REFNET__REVOCATION_ACK__INIT;
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    r.consent_id = a.consent_id = (char *)"00000000-0000-4000-8000-00000000000c";
    r.handoff_ids = a.handoff_ids = ids;
    r.n_handoff_ids = a.n_handoff_ids = 1;
    r.revoked_at_ms = a.restricted_at_ms = clock_now_ms();
    mail.to = (char *)"harbor";
    mail.from = (char *)"lighthouse";
    mail.content_case = REFNET__MAIL__CONTENT_REVOCATION;
    mail.revocation = &r;
    env.body_case = REFNET__ENVELOPE__BODY_MAIL;
    env.mail = &mail;
    /* A revocation naming a handoff unknown here: applied (nothing to restrict), acked, and
     * nothing acknowledged back to the sender. */
    begin(t);
    run(t, &env);
    assert_int_equal(t->stats.revocations, 1);
    assert_int_equal(t->b->nacks, 1);
    commit(t);
    assert_int_equal(nfx_count(t->fx, NODEDB_OUTBOX), 0);
    /* An acknowledgement of a revocation this node never sent: refused, still acked. */
    Refnet__Envelope e2 = REFNET__ENVELOPE__INIT;
    Refnet__Mail m2 = mail;
    m2.content_case = REFNET__MAIL__CONTENT_REVOCATION_ACK;
    m2.revocation_ack = &a;
    e2.body_case = REFNET__ENVELOPE__BODY_MAIL;
    e2.mail = &m2;
    begin(t);
    run(t, &e2);
    assert_int_equal(t->stats.revocation_acks, 0);
    assert_int_equal(t->stats.mail_refused, 1);
    assert_int_equal(t->b->nacks, 1);
    commit(t);
    assert_int_equal(nfx_count(t->fx, NODEDB_SEEN), 2);
}

/* Queues a withdraw; writes its msg_id. */
static void
queue_item(t_t *t, uint8_t msg_id[UID_MSGID_LEN])
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirWithdraw wd = REFNET__DIR_WITHDRAW__INIT;
    wd.service_id = (char *)"s";
    env.body_case = REFNET__ENVELOPE__BODY_WITHDRAW;
    env.withdraw = &wd;
    MDB_txn *txn = nfx_begin(t->fx, false);
    assert_int_equal(outbox_add(txn, t->fx->st, &env, NULL, 1, msg_id, NULL), 0);
    assert_int_equal(store_commit(&txn), 0);
}

static void
result(t_t *t, const uint8_t msg_id[UID_MSGID_LEN], Refnet__Status status)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Result res = REFNET__RESULT__INIT;
    res.ref.data = (uint8_t *)msg_id;
    res.ref.len = UID_MSGID_LEN;
    res.status = status;
    res.seq = 11;
    res.detail = (char *)(status ? "refused here" : "");
    env.body_case = REFNET__ENVELOPE__BODY_RESULT;
    env.result = &res;
    run(t, &env);
}

static void
test_results_settle_the_outbox(void **state)
{
    t_t *t = *state;
    uint8_t ok[UID_MSGID_LEN], full[UID_MSGID_LEN], no[UID_MSGID_LEN];
    queue_item(t, ok);
    queue_item(t, full);
    queue_item(t, no);
    begin(t);
    result(t, ok, REFNET__STATUS__STATUS_OK);
    result(t, full, REFNET__STATUS__STATUS_QUEUE_FULL);
    result(t, no, REFNET__STATUS__STATUS_FORBIDDEN);
    result(t, ok, REFNET__STATUS__STATUS_OK); /* a second answer to a resent item */
    assert_int_equal(t->b->nanswers, 2);
    assert_memory_equal(t->b->answers[0].msg_id, ok, UID_MSGID_LEN);
    assert_int_equal(t->b->answers[0].seq, 11);
    assert_int_equal(t->b->answers[1].status, REFNET__STATUS__STATUS_FORBIDDEN);
    assert_string_equal(t->b->answers[1].detail, "refused here");
    commit(t);
    assert_int_equal(t->stats.stored, 1);
    assert_int_equal(t->stats.refused, 1);
    assert_int_equal(t->stats.retried, 1);
    /* Only the "queue full" item waits for another try. */
    assert_int_equal(nfx_count(t->fx, NODEDB_OUTBOX), 1);
    MDB_txn *txn = nfx_begin(t->fx, true);
    uint64_t key = 0;
    assert_int_equal(outbox_find(txn, t->fx->st, full, UID_MSGID_LEN, &key), 0);
    store_abort(&txn);
}

/* Applies an AgencyKey for `agency` signed with `sign_sk`. */
static void
run_key(t_t *t, const char *agency, const uint8_t *pk, const uint8_t *sign_sk)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__AgencyKey k = REFNET__AGENCY_KEY__INIT;
    uint8_t sig[SEAL_SIGNATURE_LEN];
    seal_sign_agency_key(agency, pk, 1700000000000ULL, sign_sk, sig);
    k.agency_id = (char *)agency;
    k.box_public_key = (ProtobufCBinaryData){ SEAL_KEY_LEN, (uint8_t *)pk };
    k.issued_at_ms = 1700000000000ULL;
    k.signature = (ProtobufCBinaryData){ sizeof sig, sig };
    env.body_case = REFNET__ENVELOPE__BODY_AGENCY_KEY;
    env.agency_key = &k;
    run(t, &env);
}

/* The first Welcome's signing key is pinned; agency keys count only when it signed them; a
 * later Welcome with another key changes nothing. */
static void
test_welcome_pins_and_keys_verify(void **state)
{
    t_t *t = *state;
    uint8_t sign_pk[SEAL_KEY_LEN], sign_sk[SEAL_SIGN_SECRET_LEN], rogue_pk[SEAL_KEY_LEN],
        rogue_sk[SEAL_SIGN_SECRET_LEN], box_pk[SEAL_KEY_LEN], box_sk[SEAL_KEY_LEN],
        got[SEAL_KEY_LEN];
    assert_int_equal(seal_init(), 0);
    crypto_sign_keypair(sign_pk, sign_sk);
    crypto_sign_keypair(rogue_pk, rogue_sk);
    crypto_box_keypair(box_pk, box_sk);

    /* Before any Welcome, no key can be verified. */
    begin(t);
    run_key(t, "lighthouse", box_pk, sign_sk);
    commit(t);
    assert_int_equal(t->stats.keys_refused, 1);

    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Welcome w = REFNET__WELCOME__INIT;
    w.agency_id = (char *)"harbor";
    w.broker_sign_key = (ProtobufCBinaryData){ SEAL_KEY_LEN, sign_pk };
    env.body_case = REFNET__ENVELOPE__BODY_WELCOME;
    env.welcome = &w;
    begin(t);
    run(t, &env);
    run_key(t, "lighthouse", box_pk, sign_sk);
    run_key(t, "mallory", box_pk, rogue_sk); /* not signed by the pinned key */
    commit(t);
    assert_int_equal(t->stats.keys_accepted, 1);
    assert_int_equal(t->stats.keys_refused, 2);

    /* Another broker key in a later Welcome is refused; the pinned one stays. */
    env.msg_id.len = 0;
    w.broker_sign_key.data = rogue_pk;
    begin(t);
    run(t, &env);
    run_key(t, "mallory", box_pk, rogue_sk);
    commit(t);
    assert_int_equal(t->stats.keys_refused, 4);
    MDB_txn *txn = nfx_begin(t->fx, true);
    assert_int_equal(peerkeys_broker(txn, t->fx->st, got), 0);
    assert_memory_equal(got, sign_pk, SEAL_KEY_LEN);
    assert_int_equal(peerkeys_get(txn, t->fx->st, "lighthouse", got), 0);
    assert_memory_equal(got, box_pk, SEAL_KEY_LEN);
    assert_int_equal(peerkeys_get(txn, t->fx->st, "mallory", got), REFNET_ENOTFOUND);
    store_abort(&txn);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_welcome_pong_updates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_welcome_pins_and_keys_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mail_applied_once_and_acked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revocation_mail_routed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_results_settle_the_outbox, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
