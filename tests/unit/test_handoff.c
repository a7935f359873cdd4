/* Unit tests of handoff: a warm handoff between two nodes' stores, with the mail carried by
 * hand from one outbox to the other (as the broker would deliver it). */
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
#include "validate.h"
#include "wire.h"

#define C_CONTACT   REFNET__CATEGORY__CATEGORY_CONTACT
#define C_OWN_WORDS REFNET__CATEGORY__CATEGORY_OWN_WORDS
#define C_NOTES     REFNET__CATEGORY__CATEGORY_NOTES
#define S(x)        REFNET__HANDOFF_STATUS__HANDOFF_STATUS_##x
#define DAY         (24ULL * 3600 * 1000)

static int
setup(void **state)
{
    nfx_service_t own = {
        .id = "peer-1", .agency = "harbor", .name = "Peer support", .ntax = 1, .available = -1
    };
    own.taxonomy[0] = "peer-support";
    *state = pair_new(&own);
    return 0;
}

static handoff_start_t
start_req(const pair_t *p)
{
    handoff_start_t r = { .person_id = p->person,
                          .service_id = "beds-1",
                          .own_words = "I want a quiet place to stay",
                          .mode = REFNET__CONTACT_MODE__CONTACT_MODE_PHONE,
                          .accompany = true,
                          .seal_sk = p->a_sk };
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
 * applies it there as the node does, opening sealed data with `sk`. Returns
 * handoff_receive's code. */
static int
carry(nfx_t *from,
      uint64_t *last,
      const char *sender,
      nfx_t *to,
      const char *receiver,
      const uint8_t *sk)
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
    assert_int_equal(e->body_case, REFNET__ENVELOPE__BODY_MAIL);
    assert_string_equal(e->mail->to, receiver);
    Refnet__Mail m = *e->mail;
    m.from = (char *)sender;
    m.stored_at_ms = clock_now_ms();
    txn = nfx_begin(to, false);
    int rc = handoff_receive(txn, to->st, receiver, &m, e->msg_id.data, sk, clock_now_ms(), why,
                             &packet);
    assert_int_not_equal(packet, HANDOFF_PACKET_DROPPED);
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
           const uint8_t *sk,
           const char *self,
           const char *id,
           Refnet__HandoffStatus s,
           const char *reason,
           char *why)
{
    MDB_txn *txn = nfx_begin(fx, false);
    int rc = handoff_update(txn, fx->st, self, id, s, reason, 0, sk, clock_now_ms(), why);
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
    assert_int_equal(nfx_count(p->a, NODEDB_AUDIT), 0); /* no disclosure, no entry */
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
    /* The disclosure and the data received are each accounted for, in the same commit. */
    assert_int_equal(nfx_count(p->a, NODEDB_AUDIT), 1);
    assert_int_equal(nfx_count(p->b, NODEDB_AUDIT), 0);

    /* Delivery creates the receiver's record with exactly the consented packet. */
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse", p->b_sk), 0);
    assert_int_equal(nfx_count(p->b, NODEDB_AUDIT), 1);
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
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse", p->b_sk), REFNET_EEXIST);

    /* Only the receiver accepts. */
    assert_int_equal(set_status(p->a, p->a_sk, "harbor", id, S(ACCEPTED), "", why),
                     REFNET_ETRANSITION);
    assert_non_null(strstr(why, "receiver"));
    assert_int_equal(set_status(p->b, p->b_sk, "lighthouse", id, S(ACCEPTED), "", why), 0);
    assert_int_equal(carry(p->b, &p->last_b, "lighthouse", p->a, "harbor", p->a_sk), 0);
    assert_int_equal(status_of(p->a, id), S(ACCEPTED));

    /* on-hold needs a reason, on both sides' checks. */
    assert_int_equal(set_status(p->b, p->b_sk, "lighthouse", id, S(ON_HOLD), "", why),
                     REFNET_ETRANSITION);
    assert_int_equal(set_status(p->b, p->b_sk, "lighthouse", id, S(IN_PROGRESS), "", why), 0);
    assert_int_equal(set_status(p->b, p->b_sk, "lighthouse", id, S(COMPLETED), "", why), 0);
    assert_int_equal(carry(p->b, &p->last_b, "lighthouse", p->a, "harbor", p->a_sk), 0);
    assert_int_equal(carry(p->b, &p->last_b, "lighthouse", p->a, "harbor", p->a_sk), 0);
    assert_int_equal(status_of(p->a, id), S(COMPLETED));
    assert_int_equal(status_of(p->b, id), S(COMPLETED));
    /* A final status stays final. */
    assert_int_equal(set_status(p->a, p->a_sk, "harbor", id, S(CANCELLED), "changed mind", why),
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
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse", p->b_sk), 0);

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
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse", p->b_sk), 0);

    /* Cancel needs a reason; the sender may cancel. */
    assert_int_equal(set_status(p->a, p->a_sk, "harbor", id, S(CANCELLED), "", why),
                     REFNET_ETRANSITION);
    assert_int_equal(
        set_status(p->a, p->a_sk, "harbor", id, S(CANCELLED), "person chose not to go", why), 0);
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse", p->b_sk), 0);
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

/* True when `needle` occurs in the `len` bytes at `hay`. */
static bool
has_bytes(const uint8_t *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return true;
    return false;
}

/* Decodes the first outbox item of A: the REQUESTED mail as it leaves. */
static pbuf_t *
first_request(pair_t *p, const Refnet__HandoffUpdate **up)
{
    MDB_txn *txn = nfx_begin(p->a, true);
    pbuf_t *item = NULL, *env = NULL;
    char why[WIRE_WHY_LEN] = "";
    uint64_t key = 0;
    assert_int_equal(outbox_next(txn, p->a->st, 0, &key, &item), 0);
    const Refnet__OutboxItem *it = (const Refnet__OutboxItem *)pbuf_msg(item);
    assert_false(has_bytes(it->envelope.data, it->envelope.len, "Sam Doe"));
    assert_false(has_bytes(it->envelope.data, it->envelope.len, "quiet place"));
    assert_int_equal(wire_decode(it->envelope.data, it->envelope.len, &env, why), 0);
    store_abort(&txn);
    pbuf_destroy(&item);
    *up = ((const Refnet__Envelope *)pbuf_msg(env))->mail->handoff;
    return env;
}

/* What leaves the sender is sealed; the sender keeps its clear copy; nothing leaves for an
 * agency without a vouched-for key. */
static void
test_sealed_on_the_way(void **state)
{
    pair_t *p = *state;
    char id[UID_STR_LEN], to[WIRE_MAX_IDENT + 1], why[HANDOFF_WHY_LEN] = "";
    Refnet__Category cats[] = { C_CONTACT, C_OWN_WORDS };
    grant(p, "lighthouse", cats, 2);
    start_ok(p, id);
    const Refnet__HandoffUpdate *up = NULL;
    pbuf_t *env = first_request(p, &up);
    assert_int_equal(up->seal_version, SEAL_VERSION);
    assert_true(up->person_packet.len > SEAL_OVERHEAD);
    pbuf_destroy(&env);
    /* The sender's own record holds the clear packet. */
    MDB_txn *txn = nfx_begin(p->a, true);
    pbuf_t *pb = NULL;
    assert_int_equal(handoff_get(txn, p->a->st, id, &pb), 0);
    const Refnet__HandoffRecord *h = (const Refnet__HandoffRecord *)pbuf_msg(pb);
    assert_true(has_bytes(h->person_packet.data, h->person_packet.len, "Sam Doe"));
    pbuf_destroy(&pb);
    store_abort(&txn);

    /* Without the receiver's key, or without our own, nothing is written or queued. */
    txn = nfx_begin(p->a, false);
    assert_int_equal(store_del(txn, store_db(p->a->st, NODEDB_AGENCY_KEYS), "lighthouse", 10), 0);
    handoff_start_t req = start_req(p);
    assert_int_equal(handoff_start(txn, p->a->st, "harbor", &req, clock_now_ms(), id, to, why),
                     REFNET_EFORBIDDEN);
    assert_non_null(strstr(why, "sealing key"));
    assert_non_null(strstr(why, "lighthouse"));
    size_t n = 0;
    assert_int_equal(nodedb_count(txn, p->a->st, NODEDB_OUTBOX, &n), 0);
    assert_int_equal(n, 1);
    store_abort(&txn);
    req.seal_sk = NULL;
    txn = nfx_begin(p->a, false);
    assert_int_equal(handoff_start(txn, p->a->st, "harbor", &req, clock_now_ms(), id, to, why),
                     REFNET_EFORBIDDEN);
    store_abort(&txn);
    assert_int_equal(nfx_count(p->a, NODEDB_OUTBOX), 1);
}

/* Applies A's request at B with `m` changed by the caller; returns what became of the packet. */
static handoff_packet_t
receive_at_b(pair_t *p, Refnet__Mail *m, const uint8_t *sk, ProtobufCBinaryData *kept)
{
    char why[HANDOFF_WHY_LEN] = "";
    handoff_packet_t packet = HANDOFF_PACKET_NONE;
    pbuf_t *pb = NULL;
    MDB_txn *txn = nfx_begin(p->b, false);
    assert_int_equal(
        handoff_receive(txn, p->b->st, "lighthouse", m, NULL, sk, clock_now_ms(), why, &packet), 0);
    assert_int_equal(handoff_get(txn, p->b->st, m->handoff->handoff_id, &pb), 0);
    kept->len = ((const Refnet__HandoffRecord *)pbuf_msg(pb))->person_packet.len;
    pbuf_destroy(&pb);
    store_abort(&txn);
    return packet;
}

/* A packet that does not open is dropped, the handoff itself is kept. */
static void
test_unopenable_packets_dropped(void **state)
{
    pair_t *p = *state;
    char id[UID_STR_LEN];
    Refnet__Category cats[] = { C_CONTACT, C_OWN_WORDS };
    grant(p, "lighthouse", cats, 2);
    start_ok(p, id);
    const Refnet__HandoffUpdate *orig = NULL;
    pbuf_t *env = first_request(p, &orig);
    Refnet__HandoffUpdate up = *orig;
    Refnet__Mail m = *((const Refnet__Envelope *)pbuf_msg(env))->mail;
    m.from = (char *)"harbor";
    m.handoff = &up;
    ProtobufCBinaryData kept;
    /* Untouched, with the right key: opened. */
    assert_int_equal(receive_at_b(p, &m, p->b_sk, &kept), HANDOFF_PACKET_OPENED);
    assert_true(kept.len > 0);
    /* One flipped bit. */
    uint8_t *copy = xmalloc(up.person_packet.len);
    memcpy(copy, up.person_packet.data, up.person_packet.len);
    copy[up.person_packet.len / 2] ^= 0x20;
    up.person_packet.data = copy;
    assert_int_equal(receive_at_b(p, &m, p->b_sk, &kept), HANDOFF_PACKET_DROPPED);
    assert_int_equal(kept.len, 0);
    up.person_packet = orig->person_packet;
    /* Claimed by another sender (whose key B holds no record of), or opened with a wrong key. */
    assert_int_equal(receive_at_b(p, &m, p->a_sk, &kept), HANDOFF_PACKET_DROPPED);
    m.from = (char *)"elsewhere";
    assert_int_equal(receive_at_b(p, &m, p->b_sk, &kept), HANDOFF_PACKET_DROPPED);
    m.from = (char *)"harbor";
    /* Unsealed person data is not accepted either. */
    up.seal_version = 0;
    assert_int_equal(receive_at_b(p, &m, p->b_sk, &kept), HANDOFF_PACKET_DROPPED);
    assert_int_equal(kept.len, 0);
    free(copy);
    pbuf_destroy(&env);
}

/* Agency keys count only with the pinned broker's signature. */
static void
test_forged_agency_key_refused(void **state)
{
    pair_t *p = *state;
    uint8_t rogue_pk[SEAL_KEY_LEN], rogue_sk[SEAL_SIGN_SECRET_LEN], key[SEAL_KEY_LEN];
    uint8_t box_pk[SEAL_KEY_LEN], box_sk[SEAL_KEY_LEN], sig[SEAL_SIGNATURE_LEN];
    crypto_sign_keypair(rogue_pk, rogue_sk);
    crypto_box_keypair(box_pk, box_sk);
    seal_sign_agency_key("lighthouse", box_pk, 1700000000001ULL, rogue_sk, sig);
    Refnet__AgencyKey k = REFNET__AGENCY_KEY__INIT;
    k.agency_id = (char *)"lighthouse";
    k.box_public_key.data = box_pk;
    k.box_public_key.len = sizeof box_pk;
    k.issued_at_ms = 1700000000001ULL;
    k.signature.data = sig;
    k.signature.len = sizeof sig;
    MDB_txn *txn = nfx_begin(p->a, false);
    assert_int_equal(peerkeys_accept(txn, p->a->st, &k), REFNET_ECRYPTO);
    /* Another broker key cannot be pinned over the first. */
    assert_int_equal(peerkeys_pin_broker(txn, p->a->st, rogue_pk, SEAL_KEY_LEN), REFNET_ECRYPTO);
    assert_int_equal(peerkeys_get(txn, p->a->st, "lighthouse", key), 0);
    assert_memory_equal(key, p->b_pk, SEAL_KEY_LEN);
    store_abort(&txn);
    /* A node with no broker key pinned accepts no agency key at all. */
    nfx_t *fresh = nfx_new();
    txn = nfx_begin(fresh, false);
    assert_int_equal(peerkeys_accept(txn, fresh->st, &k), REFNET_ENOTFOUND);
    store_abort(&txn);
    nfx_destroy(&fresh);
}

/* A receipt without a delivery time: the request expired at the broker. */

/* Reads handoff `id` from `fx` into a copy of its latest reason. */
static void
reason_of(nfx_t *fx, const char *id, char *out, size_t len)
{
    MDB_txn *txn = nfx_begin(fx, true);
    pbuf_t *pb = NULL;
    assert_int_equal(handoff_get(txn, fx->st, id, &pb), 0);
    snprintf(out, len, "%s", ((const Refnet__HandoffRecord *)pbuf_msg(pb))->reason);
    pbuf_destroy(&pb);
    store_abort(&txn);
}

/* Decodes B's outbox item after `after` (its key into *key). */
static pbuf_t *
b_item(pair_t *p, uint64_t after, uint64_t *key, const Refnet__HandoffUpdate **up)
{
    MDB_txn *txn = nfx_begin(p->b, true);
    pbuf_t *item = NULL, *env = NULL;
    char why[WIRE_WHY_LEN] = "";
    assert_int_equal(outbox_next(txn, p->b->st, after, key, &item), 0);
    const Refnet__OutboxItem *it = (const Refnet__OutboxItem *)pbuf_msg(item);
    assert_false(has_bytes(it->envelope.data, it->envelope.len, "bed went to"));
    assert_int_equal(wire_decode(it->envelope.data, it->envelope.len, &env, why), 0);
    store_abort(&txn);
    pbuf_destroy(&item);
    *up = ((const Refnet__Envelope *)pbuf_msg(env))->mail->handoff;
    return env;
}

/* A later step's reason travels sealed for the other party and is shown there in clear. */
static void
test_sealed_reason(void **state)
{
    pair_t *p = *state;
    char id[UID_STR_LEN], why[HANDOFF_WHY_LEN] = "", reason[WIRE_MAX_REASON + 1];
    const Refnet__HandoffUpdate *up = NULL;
    uint64_t key = 0;
    Refnet__Category cats[] = { C_CONTACT, C_OWN_WORDS };
    grant(p, "lighthouse", cats, 2);
    start_ok(p, id);
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse", p->b_sk), 0);
    /* Without a sealing key a reason cannot leave: refused, nothing queued. */
    MDB_txn *txn = nfx_begin(p->b, false);
    assert_int_equal(handoff_set_status(txn, p->b->st, "lighthouse", id, S(REJECTED),
                                        "the bed went to someone else", 0, clock_now_ms(), why),
                     REFNET_EFORBIDDEN);
    assert_non_null(strstr(why, "sealed"));
    store_abort(&txn);
    assert_int_equal(nfx_count(p->b, NODEDB_OUTBOX), 0);
    assert_int_equal(set_status(p->b, p->b_sk, "lighthouse", id, S(REJECTED),
                                "the bed went to someone else", why),
                     0);
    /* On the wire: no clear reason, a sealed one, and it passes the wire rules. */
    pbuf_t *env = b_item(p, 0, &key, &up);
    assert_string_equal(up->reason, "");
    assert_true(up->sealed_reason.len > SEAL_OVERHEAD);
    assert_int_equal(validate_handoff_update(up, why), 0);
    pbuf_destroy(&env);
    /* B keeps its own reason; A opens it. */
    reason_of(p->b, id, reason, sizeof reason);
    assert_string_equal(reason, "the bed went to someone else");
    assert_int_equal(carry(p->b, &p->last_b, "lighthouse", p->a, "harbor", p->a_sk), 0);
    assert_int_equal(status_of(p->a, id), S(REJECTED));
    reason_of(p->a, id, reason, sizeof reason);
    assert_string_equal(reason, "the bed went to someone else");
}

/* A sealed reason that does not open: the step still counts (a reason was given), without it. */
static void
test_sealed_reason_unopenable(void **state)
{
    pair_t *p = *state;
    char id[UID_STR_LEN], why[HANDOFF_WHY_LEN] = "", reason[WIRE_MAX_REASON + 1];
    Refnet__Category cats[] = { C_CONTACT, C_OWN_WORDS };
    grant(p, "lighthouse", cats, 2);
    start_ok(p, id);
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse", p->b_sk), 0);
    assert_int_equal(set_status(p->b, p->b_sk, "lighthouse", id, S(REJECTED),
                                "the bed went to someone else", why),
                     0);
    /* Opened with the wrong key (B's own instead of A's). */
    assert_int_equal(carry(p->b, &p->last_b, "lighthouse", p->a, "harbor", p->b_sk), 0);
    assert_int_equal(status_of(p->a, id), S(REJECTED));
    reason_of(p->a, id, reason, sizeof reason);
    assert_string_equal(reason, "");
}

/* Reads the person packet B holds for `id`. */
static pbuf_t *
b_packet(pair_t *p, const char *id, size_t *ncats, bool *has_su)
{
    MDB_txn *txn = nfx_begin(p->b, true);
    pbuf_t *pb = NULL, *pkt = NULL;
    assert_int_equal(handoff_get(txn, p->b->st, id, &pb), 0);
    const Refnet__HandoffRecord *h = (const Refnet__HandoffRecord *)pbuf_msg(pb);
    *ncats = h->n_categories;
    *has_su = false;
    for (size_t i = 0; i < h->n_categories; i++)
        *has_su = *has_su || h->categories[i] == REFNET__CATEGORY__CATEGORY_SUBSTANCE_USE;
    assert_int_equal(pbuf_unpack(&pkt, &refnet__person_packet__descriptor, h->person_packet.data,
                                 h->person_packet.len, WIRE_MAX_PERSON_PACKET),
                     0);
    pbuf_destroy(&pb);
    store_abort(&txn);
    return pkt;
}

/* Substance-use data needs a consent naming it, and carries the 42 CFR 2.32 notice. */
static void
test_part2_notice(void **state)
{
    pair_t *p = *state;
    char id[UID_STR_LEN], to[WIRE_MAX_IDENT + 1], why[HANDOFF_WHY_LEN] = "";
    size_t ncats = 0;
    bool su = false;
    Refnet__Category cats[] = { C_CONTACT, C_OWN_WORDS };
    grant(p, "*", cats, 2);
    handoff_start_t req = start_req(p);
    req.substance_use = true;
    /* "Any agency" and every other category, but not substance-use: refused. */
    MDB_txn *txn = nfx_begin(p->a, false);
    assert_int_equal(handoff_start(txn, p->a->st, "harbor", &req, clock_now_ms(), id, to, why),
                     REFNET_ECONSENT);
    assert_non_null(strstr(why, "category"));
    store_abort(&txn);
    Refnet__Category part2[] = { C_CONTACT, C_OWN_WORDS, REFNET__CATEGORY__CATEGORY_SUBSTANCE_USE };
    grant(p, "lighthouse", part2, 3);
    txn = nfx_begin(p->a, false);
    assert_int_equal(handoff_start(txn, p->a->st, "harbor", &req, clock_now_ms(), id, to, why), 0);
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse", p->b_sk), 0);
    pbuf_t *pkt = b_packet(p, id, &ncats, &su);
    assert_true(su);
    assert_int_equal(ncats, 3);
    const char *notice = ((const Refnet__PersonPacket *)pbuf_msg(pkt))->redisclosure_notice;
    assert_string_equal(notice, HANDOFF_PART2_NOTICE);
    assert_non_null(strstr(notice, "42 CFR part 2"));
    assert_true(strlen(notice) <= WIRE_MAX_NOTICE);
    pbuf_destroy(&pkt);
    /* Without substance-use, no notice. */
    start_ok(p, id);
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse", p->b_sk), 0);
    pkt = b_packet(p, id, &ncats, &su);
    assert_false(su);
    assert_string_equal(((const Refnet__PersonPacket *)pbuf_msg(pkt))->redisclosure_notice, "");
    pbuf_destroy(&pkt);
}

static int
audit_last_visit(void *ctx, const Refnet__AuditEntry *e)
{
    Refnet__AuditEntry *last = ctx;
    last->event = e->event;
    last->msg_id.len = e->msg_id.len;
    return 0;
}

/* The data-received entry names the delivered message. */
static void
test_received_audit_msg_id(void **state)
{
    pair_t *p = *state;
    char id[UID_STR_LEN];
    Refnet__AuditEntry last = REFNET__AUDIT_ENTRY__INIT;
    Refnet__Category cats[] = { C_CONTACT, C_OWN_WORDS };
    grant(p, "lighthouse", cats, 2);
    start_ok(p, id);
    assert_int_equal(carry(p->a, &p->last_a, "harbor", p->b, "lighthouse", p->b_sk), 0);
    MDB_txn *txn = nfx_begin(p->b, true);
    assert_int_equal(audit_each(txn, p->b->st, audit_last_visit, &last), 0);
    store_abort(&txn);
    assert_int_equal(last.event, REFNET__AUDIT_EVENT__AUDIT_EVENT_DATA_RECEIVED);
    assert_int_equal(last.msg_id.len, UID_MSGID_LEN);
}

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

/* A step the broker refused for good shows in the history, by "network", with its detail;
 * the status stays. An unknown handoff is reported. */
static void
test_refused_step_recorded(void **state)
{
    pair_t *p = *state;
    char id[UID_STR_LEN];
    Refnet__Category cats[] = { C_CONTACT, C_OWN_WORDS };
    grant(p, "lighthouse", cats, 2);
    start_ok(p, id);
    MDB_txn *txn = nfx_begin(p->a, false);
    assert_int_equal(
        handoff_refused(txn, p->a->st, id, "a frame of 3224 bytes is too large", 1800000000000ULL),
        0);
    assert_int_equal(handoff_refused(txn, p->a->st, "00000000-0000-4000-8000-000000000000", "x",
                                     1800000000000ULL),
                     REFNET_ENOTFOUND);
    pbuf_t *pb = NULL;
    assert_int_equal(handoff_get(txn, p->a->st, id, &pb), 0);
    const Refnet__HandoffRecord *h = (const Refnet__HandoffRecord *)pbuf_msg(pb);
    assert_int_equal(h->status, REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED);
    assert_int_equal(h->n_events, 2);
    assert_string_equal(h->events[1]->by, "network");
    assert_non_null(strstr(h->events[1]->reason, "refused"));
    assert_non_null(strstr(h->events[1]->reason, "3224 bytes"));
    pbuf_destroy(&pb);
    store_abort(&txn);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refused_without_consent_writes_nothing, setup,
                                        pair_teardown),
        cmocka_unit_test_setup_teardown(test_start_lookups, setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_full_handoff_both_sides, setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_and_milestones, setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_incoming_refusals, setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_stored_and_receipt, setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_expired_request, setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_refused_step_recorded, setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_sealed_on_the_way, setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_unopenable_packets_dropped, setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_forged_agency_key_refused, setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_sealed_reason, setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_sealed_reason_unopenable, setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_part2_notice, setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_received_audit_msg_id, setup, pair_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
