/* Unit tests of revoke: a consent revoked at the sending node reaches the receiving node,
 * which restricts the data and acknowledges; mail is carried by hand between the two stores
 * as the broker would deliver it. */
#include "test_node_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_pair_fixture.h"
#include <sodium.h>

#include "audit.h"
#include "handoff.h"
#include "outbox.h"
#include "peerkeys.h"
#include "refnet_error.h"
#include "revoke.h"
#include "wire.h"

#define C_CONTACT   REFNET__CATEGORY__CATEGORY_CONTACT
#define C_OWN_WORDS REFNET__CATEGORY__CATEGORY_OWN_WORDS
#define DAY         (24ULL * 3600 * 1000)
#define EV(x)       REFNET__AUDIT_EVENT__AUDIT_EVENT_##x

/* The pair, with a consent for lighthouse (contact, own words) granted on A. */
static int
setup(void **state)
{
    pair_t *p = pair_new(NULL);
    Refnet__Category cats[] = { C_CONTACT, C_OWN_WORDS };
    uint64_t now = clock_now_ms();
    MDB_txn *txn = nfx_begin(p->a, false);
    assert_int_equal(nfx_add_consent(txn, p->a->st, p->person, "lighthouse", cats, 2, now - DAY,
                                     now + DAY, p->consent),
                     0);
    assert_int_equal(store_commit(&txn), 0);
    *state = p;
    return 0;
}

static void
start_ok(pair_t *p, char id[UID_STR_LEN])
{
    char to[WIRE_MAX_IDENT + 1], why[HANDOFF_WHY_LEN] = "";
    handoff_start_t req = { .person_id = p->person,
                            .service_id = "beds-1",
                            .own_words = "I want a quiet place to stay",
                            .seal_sk = p->a_sk };
    MDB_txn *txn = nfx_begin(p->a, false);
    assert_int_equal(handoff_start(txn, p->a->st, "harbor", &req, clock_now_ms(), id, to, why), 0);
    assert_int_equal(store_commit(&txn), 0);
}

/* Carries the next outbox item of `from` to `to` and applies it as inbound.c does. Returns
 * the apply code; *content receives the mail's content case. */
static int
carry(nfx_t *from,
      uint64_t *last,
      const char *sender,
      nfx_t *to,
      const char *receiver,
      const uint8_t *sk,
      Refnet__Mail__ContentCase *content)
{
    handoff_packet_t packet;
    MDB_txn *txn = nfx_begin(from, true);
    pbuf_t *item = NULL, *env = NULL;
    char why[HANDOFF_WHY_LEN] = "";
    uint64_t key = 0;
    assert_int_equal(outbox_next(txn, from->st, *last, &key, &item), 0);
    *last = key;
    const Refnet__OutboxItem *it = (const Refnet__OutboxItem *)pbuf_msg(item);
    assert_int_equal(wire_decode(it->envelope.data, it->envelope.len, &env, why), 0);
    store_abort(&txn);
    const Refnet__Envelope *e = (const Refnet__Envelope *)pbuf_msg(env);
    assert_string_equal(e->mail->to, receiver);
    Refnet__Mail m = *e->mail;
    m.from = (char *)sender;
    *content = m.content_case;
    txn = nfx_begin(to, false);
    int rc;
    if (m.content_case == REFNET__MAIL__CONTENT_REVOCATION)
        rc = revoke_apply(txn, to->st, &m, e->msg_id.data, clock_now_ms(), NULL);
    else if (m.content_case == REFNET__MAIL__CONTENT_REVOCATION_ACK)
        rc = revoke_apply_ack(txn, to->st, &m, e->msg_id.data, clock_now_ms());
    else
        rc = handoff_receive(txn, to->st, receiver, &m, e->msg_id.data, sk, clock_now_ms(), why,
                             &packet);
    if (rc == 0)
        assert_int_equal(store_commit(&txn), 0);
    store_abort(&txn);
    pbuf_destroy(&env);
    pbuf_destroy(&item);
    return rc;
}

/* Revokes the pair's consent on A as api_people does: consent, audit and propagation. */
static size_t
revoke_on_a(pair_t *p)
{
    size_t told = 99;
    MDB_txn *txn = nfx_begin(p->a, false);
    assert_int_equal(consent_revoke(txn, p->a->st, p->consent, clock_now_ms()), 0);
    assert_int_equal(revoke_propagate(txn, p->a->st, p->consent, clock_now_ms(), "tester", &told),
                     0);
    assert_int_equal(store_commit(&txn), 0);
    return told;
}

static pbuf_t *
get_handoff(nfx_t *fx, const char *id, const Refnet__HandoffRecord **h)
{
    MDB_txn *txn = nfx_begin(fx, true);
    pbuf_t *pb = NULL;
    assert_int_equal(handoff_get(txn, fx->st, id, &pb), 0);
    store_abort(&txn);
    *h = (const Refnet__HandoffRecord *)pbuf_msg(pb);
    return pb;
}

typedef struct {
    size_t count[16];
    size_t with_msg_id, with_handoff;
} audit_tally_t;

static int
tally_visit(void *ctx, const Refnet__AuditEntry *e)
{
    audit_tally_t *t = ctx;
    if ((unsigned)e->event < 16)
        t->count[e->event]++;
    if (e->msg_id.len == UID_MSGID_LEN)
        t->with_msg_id++;
    if (e->handoff_id[0])
        t->with_handoff++;
    return 0;
}

static audit_tally_t
tally(nfx_t *fx)
{
    audit_tally_t t = { { 0 }, 0, 0 };
    audit_check_t check;
    MDB_txn *txn = nfx_begin(fx, true);
    assert_int_equal(audit_each(txn, fx->st, tally_visit, &t), 0);
    assert_int_equal(audit_verify(txn, fx->st, &check), 0);
    assert_int_equal(check.fault, AUDIT_OK);
    store_abort(&txn);
    return t;
}

/* The whole round: revoke, restrict at the receiver, acknowledge, recorded on both sides. */
static void
test_revocation_round_trip(void **state)
{
    pair_t *p = *state;
    char id1[UID_STR_LEN], id2[UID_STR_LEN];
    Refnet__Mail__ContentCase content;
    const Refnet__HandoffRecord *h = NULL;
    start_ok(p, id1);
    start_ok(p, id2);
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse", p->b_sk, &content), 0);
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse", p->b_sk, &content), 0);

    /* Both handoffs went to one agency: one revocation naming both. */
    assert_int_equal(revoke_on_a(p), 1);
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse", NULL, &content), 0);
    assert_int_equal(content, REFNET__MAIL__CONTENT_REVOCATION);
    pbuf_t *pb = get_handoff(p->b, id1, &h);
    assert_true(revoke_is_restricted(h));
    assert_int_equal(h->revocation_msg_id.len, UID_MSGID_LEN);
    /* The handoff itself is kept as it was: status, history, the (unshown) packet. */
    assert_int_equal(h->status, REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED);
    assert_int_equal(h->n_events, 1);
    pbuf_destroy(&pb);
    pb = get_handoff(p->b, id2, &h);
    assert_true(revoke_is_restricted(h));
    pbuf_destroy(&pb);

    /* Pending at A until B's acknowledgement arrives. */
    MDB_txn *txn = nfx_begin(p->a, true);
    assert_int_equal(consent_get(txn, p->a->st, p->consent, &pb), 0);
    const Refnet__ConsentRecord *c = (const Refnet__ConsentRecord *)pbuf_msg(pb);
    assert_int_equal(c->n_notices, 1);
    assert_string_equal(c->notices[0]->recipient, "lighthouse");
    assert_int_equal(c->notices[0]->n_handoff_ids, 2);
    assert_int_equal(c->notices[0]->acked_at_ms, 0);
    pbuf_destroy(&pb);
    store_abort(&txn);
    assert_int_equal(carry(p->b, &p->last_b, "lighthouse", p->a, "harbor", NULL, &content), 0);
    assert_int_equal(content, REFNET__MAIL__CONTENT_REVOCATION_ACK);
    txn = nfx_begin(p->a, true);
    assert_int_equal(consent_get(txn, p->a->st, p->consent, &pb), 0);
    c = (const Refnet__ConsentRecord *)pbuf_msg(pb);
    assert_true(c->notices[0]->acked_at_ms > 0);
    assert_true(c->notices[0]->restricted_at_ms > 0);
    pbuf_destroy(&pb);
    store_abort(&txn);

    /* Accounted on both sides, each entry naming its handoff and message. */
    audit_tally_t ta = tally(p->a), tb = tally(p->b);
    assert_int_equal(ta.count[EV(DISCLOSURE_SENT)], 2);
    assert_int_equal(ta.count[EV(REVOCATION_SENT)], 2);
    assert_int_equal(ta.count[EV(REVOCATION_ACKED)], 2);
    assert_int_equal(ta.with_msg_id, 6);
    assert_int_equal(tb.count[EV(DATA_RECEIVED)], 2);
    assert_int_equal(tb.count[EV(DATA_RESTRICTED)], 2);
    assert_int_equal(tb.with_msg_id, 4);
    assert_int_equal(tb.with_handoff, 4);

    /* A second copy of the acknowledgement changes nothing. */
    p->last_b = 0;
    assert_int_equal(carry(p->b, &p->last_b, "lighthouse", p->a, "harbor", NULL, &content), 0);
    assert_int_equal(tally(p->a).count[EV(REVOCATION_ACKED)], 2);
}

/* Nothing was sent under the consent: nothing to tell. Data not sent (no packet) does not count. */
static void
test_nothing_to_tell(void **state)
{
    pair_t *p = *state;
    assert_int_equal(revoke_on_a(p), 0);
    assert_int_equal(nfx_count(p->a, NODEDB_OUTBOX), 0);
}

/* A revocation only restricts what its sender sent here under that consent. */
static void
test_foreign_revocation_ignored(void **state)
{
    pair_t *p = *state;
    char id[UID_STR_LEN];
    char *ids[1];
    const Refnet__HandoffRecord *h = NULL;
    Refnet__Mail__ContentCase content;
    start_ok(p, id);
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse", p->b_sk, &content), 0);
    Refnet__Revocation r = REFNET__REVOCATION__INIT;
    Refnet__Mail m = REFNET__MAIL__INIT;
    uint8_t msg_id[UID_MSGID_LEN] = { 1 };
    size_t n = 9;
    ids[0] = id;
    r.consent_id = p->consent;
    r.handoff_ids = ids;
    r.n_handoff_ids = 1;
    r.revoked_at_ms = clock_now_ms();
    m.to = (char *)"lighthouse";
    m.from = (char *)"intruder";
    m.content_case = REFNET__MAIL__CONTENT_REVOCATION;
    m.revocation = &r;
    MDB_txn *txn = nfx_begin(p->b, false);
    assert_int_equal(revoke_apply(txn, p->b->st, &m, msg_id, clock_now_ms(), &n), 0);
    assert_int_equal(n, 0);
    /* The right sender with another consent id. */
    m.from = (char *)"harbor";
    r.consent_id = (char *)"00000000-0000-4000-8000-000000000009";
    assert_int_equal(revoke_apply(txn, p->b->st, &m, msg_id, clock_now_ms(), &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_commit(&txn), 0);
    pbuf_t *pb = get_handoff(p->b, id, &h);
    assert_false(revoke_is_restricted(h));
    pbuf_destroy(&pb);
    assert_int_equal(nfx_count(p->b, NODEDB_OUTBOX), 0); /* nothing acknowledged */
    /* An acknowledgement nobody asked for is refused. */
    Refnet__RevocationAck a = REFNET__REVOCATION_ACK__INIT;
    a.consent_id = p->consent;
    a.handoff_ids = ids;
    a.n_handoff_ids = 1;
    a.restricted_at_ms = clock_now_ms();
    m.content_case = REFNET__MAIL__CONTENT_REVOCATION_ACK;
    m.revocation_ack = &a;
    m.from = (char *)"lighthouse";
    txn = nfx_begin(p->a, false);
    assert_int_equal(revoke_apply_ack(txn, p->a->st, &m, msg_id, clock_now_ms()), REFNET_ENOTFOUND);
    store_abort(&txn);
}

/* Data taken from a received handoff is never sent onward once restricted. */
static void
test_onward_refused(void **state)
{
    pair_t *p = *state;
    char id[UID_STR_LEN], pid[UID_STR_LEN], why[HANDOFF_WHY_LEN] = "";
    Refnet__Mail__ContentCase content;
    Refnet__PersonRecord person = REFNET__PERSON_RECORD__INIT;
    start_ok(p, id);
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse", p->b_sk, &content), 0);
    person.name = (char *)"Sam Doe";
    person.from_handoff = id;
    MDB_txn *txn = nfx_begin(p->b, false);
    assert_int_equal(persons_add(txn, p->b->st, &person, clock_now_ms(), pid), 0);
    assert_int_equal(revoke_check_onward(txn, p->b->st, &person, why), 0);
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(revoke_on_a(p), 1);
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse", NULL, &content), 0);
    txn = nfx_begin(p->b, true);
    assert_int_equal(revoke_check_onward(txn, p->b->st, &person, why), REFNET_EFORBIDDEN);
    assert_non_null(strstr(why, "restricted"));
    /* A person whose source handoff is unknown is refused too; a typed-in one is not. */
    person.from_handoff = (char *)"00000000-0000-4000-8000-000000000009";
    assert_int_equal(revoke_check_onward(txn, p->b->st, &person, NULL), REFNET_EFORBIDDEN);
    person.from_handoff = (char *)"";
    assert_int_equal(revoke_check_onward(txn, p->b->st, &person, NULL), 0);
    store_abort(&txn);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_revocation_round_trip, setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_nothing_to_tell, setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_foreign_revocation_ignored, setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_onward_refused, setup, pair_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
