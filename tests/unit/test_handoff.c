/* Unit tests of handoff: a warm handoff between two nodes' stores, with the mail carried by
 * hand from one outbox to the other (as the broker would deliver it). */
#include "test_node_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "handoff.h"
#include "outbox.h"
#include "refnet_error.h"
#include "wire.h"

#define C_CONTACT   REFNET__CATEGORY__CATEGORY_CONTACT
#define C_OWN_WORDS REFNET__CATEGORY__CATEGORY_OWN_WORDS
#define C_NOTES     REFNET__CATEGORY__CATEGORY_NOTES
#define S(x)        REFNET__HANDOFF_STATUS__HANDOFF_STATUS_##x
#define DAY         (24ULL * 3600 * 1000)

typedef struct {
    nfx_t *a; /* sender: agency harbor */
    nfx_t *b; /* receiver: agency lighthouse, owner of service beds-1 */
    char person[UID_STR_LEN];
    uint64_t last_a, last_b; /* outbox keys already carried */
} pair_t;

static int
setup(void **state)
{
    pair_t *p = xcalloc(1, sizeof *p);
    p->a = nfx_new();
    p->b = nfx_new();
    assert_non_null(p->a);
    assert_non_null(p->b);
    nfx_service_t s = { .id = "beds-1",
                        .agency = "lighthouse",
                        .name = "Crisis beds",
                        .ntax = 1,
                        .available = 3,
                        .accepting = true };
    s.taxonomy[0] = "housing-shelter";
    nfx_service_t own = {
        .id = "peer-1", .agency = "harbor", .name = "Peer support", .ntax = 1, .available = -1
    };
    own.taxonomy[0] = "peer-support";
    nfx_t *both[] = { p->a, p->b };
    for (int i = 0; i < 2; i++) {
        MDB_txn *txn = nfx_begin(both[i], false);
        assert_int_equal(nfx_apply_service(txn, both[i]->st, 1, &s, NULL), 0);
        assert_int_equal(nfx_apply_service(txn, both[i]->st, 2, &own, NULL), 0);
        if (i == 0)
            assert_int_equal(nfx_add_person(txn, both[i]->st, "Sam Doe", "555-0100", p->person), 0);
        assert_int_equal(store_commit(&txn), 0);
    }
    *state = p;
    return 0;
}

static int
teardown(void **state)
{
    pair_t *p = *state;
    nfx_destroy(&p->a);
    nfx_destroy(&p->b);
    free(p);
    return 0;
}

static handoff_start_t
start_req(const pair_t *p)
{
    handoff_start_t r = { .person_id = p->person,
                          .service_id = "beds-1",
                          .own_words = "I want a quiet place to stay",
                          .mode = REFNET__CONTACT_MODE__CONTACT_MODE_PHONE,
                          .accompany = true };
    return r;
}

static void
grant(pair_t *p, const char *to, const Refnet__Category *cats, size_t n)
{
    char id[UID_STR_LEN];
    uint64_t now = clock_now_ms();
    MDB_txn *txn = nfx_begin(p->a, false);
    assert_int_equal(
        nfx_add_consent(txn, p->a->st, p->person, to, cats, n, now - DAY, now + DAY, id), 0);
    assert_int_equal(store_commit(&txn), 0);
}

/* Starts the handoff on A and commits; returns its id in `id`. */
static void
start_ok(pair_t *p, char id[UID_STR_LEN])
{
    char to[WIRE_MAX_IDENT + 1], why[HANDOFF_WHY_LEN] = "";
    handoff_start_t req = start_req(p);
    MDB_txn *txn = nfx_begin(p->a, false);
    assert_int_equal(handoff_start(txn, p->a->st, "harbor", &req, clock_now_ms(), id, to, why), 0);
    assert_string_equal(to, "lighthouse");
    assert_int_equal(store_commit(&txn), 0);
}

/* Carries the next outbox item of `from` (agency `sender`) to `to` as delivered mail and
 * applies it there. Returns handoff_apply_mail's code. */
static int
carry(nfx_t *from, uint64_t *last, const char *sender, nfx_t *to, const char *receiver)
{
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
    assert_int_equal(e->body_case, REFNET__ENVELOPE__BODY_MAIL);
    assert_string_equal(e->mail->to, receiver);
    Refnet__Mail m = *e->mail;
    m.from = (char *)sender;
    m.stored_at_ms = clock_now_ms();
    txn = nfx_begin(to, false);
    int rc = handoff_apply_mail(txn, to->st, receiver, &m, clock_now_ms(), why);
    if (rc == 0)
        assert_int_equal(store_commit(&txn), 0);
    store_abort(&txn);
    pbuf_destroy(&env);
    pbuf_destroy(&item);
    return rc;
}

static Refnet__HandoffStatus
status_of(nfx_t *fx, const char *id)
{
    MDB_txn *txn = nfx_begin(fx, true);
    pbuf_t *pb = NULL;
    assert_int_equal(handoff_get(txn, fx->st, id, &pb), 0);
    Refnet__HandoffStatus s = ((Refnet__HandoffRecord *)pbuf_msg(pb))->status;
    pbuf_destroy(&pb);
    store_abort(&txn);
    return s;
}

/* Runs a local status change on `fx` and commits it when accepted. */
static int
set_status(nfx_t *fx,
           const char *self,
           const char *id,
           Refnet__HandoffStatus s,
           const char *reason,
           char *why)
{
    MDB_txn *txn = nfx_begin(fx, false);
    int rc = handoff_set_status(txn, fx->st, self, id, s, reason, 0, clock_now_ms(), why);
    if (rc == 0)
        assert_int_equal(store_commit(&txn), 0);
    store_abort(&txn);
    return rc;
}

static void
test_refused_without_consent_writes_nothing(void **state)
{
    pair_t *p = *state;
    char id[UID_STR_LEN] = "", to[WIRE_MAX_IDENT + 1], why[HANDOFF_WHY_LEN] = "";
    handoff_start_t req = start_req(p);
    MDB_txn *txn = nfx_begin(p->a, false);
    assert_int_equal(handoff_start(txn, p->a->st, "harbor", &req, clock_now_ms(), id, to, why),
                     REFNET_ECONSENT);
    assert_non_null(strstr(why, "lighthouse"));
    assert_non_null(strstr(why, "no consent on record"));
    /* Nothing was written, even inside the still-open transaction. */
    size_t n = 9;
    assert_int_equal(nodedb_count(txn, p->a->st, NODEDB_OUTBOX, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(nodedb_count(txn, p->a->st, NODEDB_HANDOFFS, &n), 0);
    assert_int_equal(n, 0);
    store_abort(&txn);

    /* A consent for contact only does not cover the person's own words. */
    Refnet__Category contact[] = { C_CONTACT };
    grant(p, "lighthouse", contact, 1);
    txn = nfx_begin(p->a, false);
    assert_int_equal(handoff_start(txn, p->a->st, "harbor", &req, clock_now_ms(), id, to, why),
                     REFNET_ECONSENT);
    assert_non_null(strstr(why, "category"));
    store_abort(&txn);
    /* A consent for another agency does not count. */
    Refnet__Category both[] = { C_CONTACT, C_OWN_WORDS };
    grant(p, "otherplace", both, 2);
    txn = nfx_begin(p->a, false);
    assert_int_equal(handoff_start(txn, p->a->st, "harbor", &req, clock_now_ms(), id, to, why),
                     REFNET_ECONSENT);
    store_abort(&txn);
    assert_int_equal(nfx_count(p->a, NODEDB_OUTBOX), 0);
    assert_int_equal(nfx_count(p->a, NODEDB_HANDOFFS), 0);
}

static void
test_start_lookups(void **state)
{
    pair_t *p = *state;
    char id[UID_STR_LEN], to[WIRE_MAX_IDENT + 1], why[HANDOFF_WHY_LEN] = "";
    handoff_start_t req = start_req(p);
    MDB_txn *txn = nfx_begin(p->a, false);
    req.service_id = "nope";
    assert_int_equal(handoff_start(txn, p->a->st, "harbor", &req, 1, id, to, why),
                     REFNET_ENOTFOUND);
    req.service_id = "peer-1";
    assert_int_equal(handoff_start(txn, p->a->st, "harbor", &req, 1, id, to, why), REFNET_EINVAL);
    assert_non_null(strstr(why, "belongs to this agency"));
    req.service_id = "beds-1";
    req.person_id = "00000000-0000-4000-8000-000000000000";
    assert_int_equal(handoff_start(txn, p->a->st, "harbor", &req, 1, id, to, why),
                     REFNET_ENOTFOUND);
    store_abort(&txn);
}

static void
test_full_handoff_both_sides(void **state)
{
    pair_t *p = *state;
    char id[UID_STR_LEN], why[HANDOFF_WHY_LEN] = "";
    Refnet__Category cats[] = { C_CONTACT, C_OWN_WORDS };
    grant(p, "*", cats, 2);
    start_ok(p, id);
    assert_int_equal(nfx_count(p->a, NODEDB_OUTBOX), 1);
    assert_int_equal(status_of(p->a, id), S(REQUESTED));

    /* Delivery creates the receiver's record with exactly the consented packet. */
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse"), 0);
    MDB_txn *txn = nfx_begin(p->b, true);
    pbuf_t *pb = NULL, *pkt = NULL;
    assert_int_equal(handoff_get(txn, p->b->st, id, &pb), 0);
    const Refnet__HandoffRecord *h = (const Refnet__HandoffRecord *)pbuf_msg(pb);
    assert_int_equal(h->role, REFNET__HANDOFF_ROLE__HANDOFF_ROLE_RECEIVER);
    assert_string_equal(h->sender, "harbor");
    assert_string_equal(h->service_name, "Crisis beds");
    assert_true(h->accompany);
    assert_int_equal(h->n_categories, 2);
    assert_int_equal(pbuf_unpack(&pkt, &refnet__person_packet__descriptor, h->person_packet.data,
                                 h->person_packet.len, WIRE_MAX_PERSON_PACKET),
                     0);
    const Refnet__PersonPacket *pp = (const Refnet__PersonPacket *)pbuf_msg(pkt);
    assert_string_equal(pp->name, "Sam Doe");
    assert_string_equal(pp->contact, "555-0100");
    assert_string_equal(pp->own_words, "I want a quiet place to stay");
    assert_string_equal(pp->notes, "");
    pbuf_destroy(&pkt);
    pbuf_destroy(&pb);
    store_abort(&txn);
    /* The same request delivered twice under another id is refused, not duplicated. */
    p->last_a = 0;
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse"), REFNET_EEXIST);

    /* Only the receiver accepts. */
    assert_int_equal(set_status(p->a, "harbor", id, S(ACCEPTED), "", why), REFNET_ETRANSITION);
    assert_non_null(strstr(why, "receiver"));
    assert_int_equal(set_status(p->b, "lighthouse", id, S(ACCEPTED), "", why), 0);
    assert_int_equal(carry(p->b, &p->last_b, "lighthouse", p->a, "harbor"), 0);
    assert_int_equal(status_of(p->a, id), S(ACCEPTED));

    /* on-hold needs a reason, on both sides' checks. */
    assert_int_equal(set_status(p->b, "lighthouse", id, S(ON_HOLD), "", why), REFNET_ETRANSITION);
    assert_int_equal(set_status(p->b, "lighthouse", id, S(IN_PROGRESS), "", why), 0);
    assert_int_equal(set_status(p->b, "lighthouse", id, S(COMPLETED), "", why), 0);
    assert_int_equal(carry(p->b, &p->last_b, "lighthouse", p->a, "harbor"), 0);
    assert_int_equal(carry(p->b, &p->last_b, "lighthouse", p->a, "harbor"), 0);
    assert_int_equal(status_of(p->a, id), S(COMPLETED));
    assert_int_equal(status_of(p->b, id), S(COMPLETED));
    /* A final status stays final. */
    assert_int_equal(set_status(p->a, "harbor", id, S(CANCELLED), "changed mind", why),
                     REFNET_ETRANSITION);

    /* The sender's history names who did what. */
    txn = nfx_begin(p->a, true);
    assert_int_equal(handoff_get(txn, p->a->st, id, &pb), 0);
    h = (const Refnet__HandoffRecord *)pbuf_msg(pb);
    assert_int_equal(h->n_events, 4);
    assert_string_equal(h->events[0]->by, "harbor");
    assert_string_equal(h->events[1]->by, "lighthouse");
    assert_int_equal(h->events[3]->status, S(COMPLETED));
    pbuf_destroy(&pb);
    store_abort(&txn);
}

static void
test_cancel_and_milestones(void **state)
{
    pair_t *p = *state;
    char id[UID_STR_LEN], why[HANDOFF_WHY_LEN] = "";
    Refnet__Category cats[] = { C_CONTACT, C_OWN_WORDS, C_NOTES };
    grant(p, "lighthouse", cats, 3);
    start_ok(p, id);
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse"), 0);

    MDB_txn *txn = nfx_begin(p->a, false);
    assert_int_equal(
        handoff_milestone(txn, p->a->st, "harbor", id, REFNET__MILESTONE__MILESTONE_INTRODUCED,
                          REFNET__CONTACT_MODE__CONTACT_MODE_VIDEO, clock_now_ms(), why),
        0);
    assert_int_equal(store_commit(&txn), 0);
    txn = nfx_begin(p->b, false);
    assert_int_equal(handoff_milestone(txn, p->b->st, "lighthouse", id,
                                       REFNET__MILESTONE__MILESTONE_INTRODUCED, 0, clock_now_ms(),
                                       why),
                     REFNET_ETRANSITION);
    store_abort(&txn);
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse"), 0);

    /* Cancel needs a reason; the sender may cancel. */
    assert_int_equal(set_status(p->a, "harbor", id, S(CANCELLED), "", why), REFNET_ETRANSITION);
    assert_int_equal(set_status(p->a, "harbor", id, S(CANCELLED), "person chose not to go", why),
                     0);
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse"), 0);
    assert_int_equal(status_of(p->b, id), S(CANCELLED));

    txn = nfx_begin(p->b, true);
    pbuf_t *pb = NULL;
    assert_int_equal(handoff_get(txn, p->b->st, id, &pb), 0);
    const Refnet__HandoffRecord *h = (const Refnet__HandoffRecord *)pbuf_msg(pb);
    assert_string_equal(h->reason, "person chose not to go");
    assert_int_equal(h->n_events, 3);
    assert_int_equal(h->events[1]->milestone, REFNET__MILESTONE__MILESTONE_INTRODUCED);
    assert_int_equal(h->events[1]->mode, REFNET__CONTACT_MODE__CONTACT_MODE_VIDEO);
    pbuf_destroy(&pb);
    store_abort(&txn);
}

/* Steps the other party may not take are refused and change nothing. */
static void
test_incoming_refusals(void **state)
{
    pair_t *p = *state;
    char id[UID_STR_LEN], why[HANDOFF_WHY_LEN] = "";
    Refnet__Category cats[] = { C_CONTACT, C_OWN_WORDS };
    grant(p, "lighthouse", cats, 2);
    start_ok(p, id);
    Refnet__HandoffUpdate up = REFNET__HANDOFF_UPDATE__INIT;
    Refnet__Mail m = REFNET__MAIL__INIT;
    up.handoff_id = id;
    up.status = S(COMPLETED);
    m.to = (char *)"harbor";
    m.from = (char *)"lighthouse";
    m.content_case = REFNET__MAIL__CONTENT_HANDOFF;
    m.handoff = &up;
    MDB_txn *txn = nfx_begin(p->a, false);
    /* completed is not reachable from requested. */
    assert_int_equal(handoff_apply_mail(txn, p->a->st, "harbor", &m, 1, why), REFNET_ETRANSITION);
    /* A third agency is not a party. */
    up.status = S(ACCEPTED);
    m.from = (char *)"intruder";
    assert_int_equal(handoff_apply_mail(txn, p->a->st, "harbor", &m, 1, why), REFNET_EFORBIDDEN);
    /* Unknown handoff. */
    m.from = (char *)"lighthouse";
    up.handoff_id = (char *)"00000000-0000-4000-8000-000000000001";
    assert_int_equal(handoff_apply_mail(txn, p->a->st, "harbor", &m, 1, why), REFNET_ENOTFOUND);
    store_abort(&txn);
    assert_int_equal(status_of(p->a, id), S(REQUESTED));
}

static void
test_stored_and_receipt(void **state)
{
    pair_t *p = *state;
    char id[UID_STR_LEN];
    Refnet__Category cats[] = { C_CONTACT, C_OWN_WORDS };
    grant(p, "lighthouse", cats, 2);
    start_ok(p, id);
    Refnet__Receipt r = REFNET__RECEIPT__INIT;
    r.handoff_id = id;
    r.delivered_at_ms = 1800000000000ULL;
    MDB_txn *txn = nfx_begin(p->a, false);
    assert_int_equal(handoff_stored(txn, p->a->st, id, 1700000000000ULL), 0);
    assert_int_equal(handoff_stored(txn, p->a->st, id, 1799999999999ULL), 0); /* first wins */
    assert_int_equal(handoff_apply_receipt(txn, p->a->st, &r, 1), 0);
    r.handoff_id = (char *)"";
    assert_int_equal(handoff_apply_receipt(txn, p->a->st, &r, 1), 0);
    pbuf_t *pb = NULL;
    assert_int_equal(handoff_get(txn, p->a->st, id, &pb), 0);
    const Refnet__HandoffRecord *h = (const Refnet__HandoffRecord *)pbuf_msg(pb);
    assert_int_equal(h->stored_at_ms, 1700000000000ULL);
    assert_int_equal(h->delivered_at_ms, 1800000000000ULL);
    assert_true(h->sent_at_ms > 0);
    assert_int_equal(h->outcome, REFNET__OUTCOME__OUTCOME_UNSPECIFIED);
    pbuf_destroy(&pb);
    store_abort(&txn);
}

/* A receipt without a delivery time: the request expired at the broker. */
static void
test_expired_request(void **state)
{
    pair_t *p = *state;
    char id[UID_STR_LEN];
    Refnet__Category cats[] = { C_CONTACT, C_OWN_WORDS };
    grant(p, "lighthouse", cats, 2);
    start_ok(p, id);
    Refnet__Receipt r = REFNET__RECEIPT__INIT;
    r.handoff_id = id;
    r.recipient = (char *)"lighthouse";
    MDB_txn *txn = nfx_begin(p->a, false);
    assert_int_equal(handoff_apply_receipt(txn, p->a->st, &r, 1800000000000ULL), 0);
    pbuf_t *pb = NULL;
    assert_int_equal(handoff_get(txn, p->a->st, id, &pb), 0);
    const Refnet__HandoffRecord *h = (const Refnet__HandoffRecord *)pbuf_msg(pb);
    assert_int_equal(h->outcome, REFNET__OUTCOME__OUTCOME_EXPIRED);
    assert_int_equal(h->delivered_at_ms, 0);
    assert_int_equal(h->n_events, 2);
    assert_string_equal(h->events[1]->by, "network");
    assert_non_null(strstr(h->events[1]->reason, "expired"));
    pbuf_destroy(&pb);
    store_abort(&txn);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refused_without_consent_writes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_start_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_handoff_both_sides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_and_milestones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incoming_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stored_and_receipt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_request, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
