/* Unit tests of broker/mailbox: store, FIFO delivery order, ack and receipt, duplicate
 * msg_ids, queue-full refusal, TTL expiry into the dead-letter list and msg_id retention. */
#include "test_broker_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mailbox.h"
#include "refnet_error.h"

#define T0 1800000000000ULL /* a fixed "now" in 2027 */

typedef struct {
    fx_t *fx;
    mailbox_t *mb;
} ctx_t;

static int
setup_with(void **state, uint64_t max_queue)
{
    ctx_t *c = xcalloc(1, sizeof *c);
    mailbox_config_t cfg = { .max_queue = max_queue,
                             .default_ttl_ms = 60000,
                             .done_retention_ms = 3600000 };
    c->fx = fx_new();
    if (!c->fx)
        return -1;
    c->mb = mailbox_new(c->fx->store, &cfg);
    *state = c;
    return 0;
}

static int
setup(void **state)
{
    return setup_with(state, 100);
}

static int
setup_small(void **state)
{
    return setup_with(state, 3);
}

static int
teardown(void **state)
{
    ctx_t *c = *state;
    mailbox_destroy(&c->mb);
    fx_destroy(&c->fx);
    free(c);
    return 0;
}

/* A message whose frame is just its number, for order checks. */
static int
put(ctx_t *c,
    const char *from,
    const char *to,
    const uint8_t id[16],
    uint8_t tag,
    uint64_t ttl,
    uint64_t now)
{
    MDB_txn *txn = NULL;
    uint64_t qseq = 0;
    uint8_t frame[1] = { tag };
    mailbox_item_t item = { .to = to,
                            .sender = from,
                            .msg_id = id,
                            .frame = frame,
                            .len = 1,
                            .ttl_ms = ttl,
                            .handoff_id = "" };
    int rc = store_begin(c->fx->store, false, &txn);
    if (!rc)
        rc = mailbox_enqueue(c->mb, txn, &item, now, &qseq);
    if (!rc)
        return store_commit(&txn);
    store_abort(&txn);
    return rc;
}

static int
ack(ctx_t *c, const char *who, const uint8_t id[16], uint64_t now, mailbox_ack_t *out)
{
    MDB_txn *txn = NULL;
    int rc = store_begin(c->fx->store, false, &txn);
    if (!rc)
        rc = mailbox_ack(c->mb, txn, who, id, now, out);
    if (!rc)
        return store_commit(&txn);
    store_abort(&txn);
    return rc;
}

static uint64_t
depth(ctx_t *c, const char *who)
{
    MDB_txn *txn = NULL;
    uint64_t d = 99;
    assert_int_equal(store_begin(c->fx->store, true, &txn), 0);
    assert_int_equal(mailbox_depth(c->mb, txn, who, &d), 0);
    store_abort(&txn);
    return d;
}

static mailbox_state_t
state_of(ctx_t *c, const uint8_t id[16])
{
    MDB_txn *txn = NULL;
    mailbox_state_t s = MAILBOX_UNKNOWN;
    assert_int_equal(store_begin(c->fx->store, true, &txn), 0);
    assert_int_equal(mailbox_state(c->mb, txn, id, &s), 0);
    store_abort(&txn);
    return s;
}

/* What a scan delivers: the frames (first byte, or the decoded envelope for receipts). */
typedef struct {
    uint64_t seqs[64];
    uint8_t tags[64];
    uint8_t *frames[64];
    size_t lens[64];
    size_t n;
    size_t stop_after;
} seen_t;

static bool
on_deliver(void *arg, uint64_t qseq, const uint8_t *frame, size_t len)
{
    seen_t *s = arg;
    s->seqs[s->n] = qseq;
    s->tags[s->n] = len ? frame[0] : 0;
    s->frames[s->n] = xmalloc(len);
    memcpy(s->frames[s->n], frame, len);
    s->lens[s->n] = len;
    s->n++;
    return s->n < s->stop_after;
}

static void
scan(ctx_t *c, const char *who, uint64_t after, uint64_t now, seen_t *s)
{
    MDB_txn *txn = NULL;
    for (size_t i = 0; i < s->n; i++)
        free(s->frames[i]);
    s->n = 0;
    if (!s->stop_after)
        s->stop_after = 64;
    assert_int_equal(store_begin(c->fx->store, true, &txn), 0);
    assert_int_equal(mailbox_scan(c->mb, txn, who, after, now, on_deliver, s), 0);
    store_abort(&txn);
}

static void
seen_free(seen_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->frames[i]);
    s->n = 0;
}

/* Decodes delivered receipt number i and checks what it says. */
static void
check_receipt(
    const seen_t *s, size_t i, const uint8_t id[16], const char *recipient, uint64_t delivered_at)
{
    pbuf_t *pb = NULL;
    assert_int_equal(wire_decode(s->frames[i], s->lens[i], &pb, NULL), 0);
    const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
    assert_int_equal(env->body_case, REFNET__ENVELOPE__BODY_MAIL);
    assert_int_equal(env->mail->content_case, REFNET__MAIL__CONTENT_RECEIPT);
    assert_string_equal(env->mail->from, "");
    assert_memory_equal(env->mail->receipt->msg_id.data, id, 16);
    assert_string_equal(env->mail->receipt->recipient, recipient);
    assert_int_equal(env->mail->receipt->delivered_at_ms, delivered_at);
    pbuf_destroy(&pb);
}

static void
test_fifo_per_recipient(void **state)
{
    ctx_t *c = *state;
    uint8_t id[16];
    seen_t s = { 0 };
    for (uint8_t i = 1; i <= 5; i++) {
        uid_msgid(id);
        assert_int_equal(put(c, i % 2 ? "a" : "b", i == 3 ? "y" : "x", id, i, 0, T0), 0);
    }
    assert_int_equal(depth(c, "x"), 4);
    assert_int_equal(depth(c, "y"), 1);
    scan(c, "x", 0, T0, &s);
    assert_int_equal(s.n, 4);
    const uint8_t expect[] = { 1, 2, 4, 5 };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(s.tags[i], expect[i]);
        if (i)
            assert_true(s.seqs[i] > s.seqs[i - 1]);
    }
    /* A cursor continues after what was sent; a stopping callback stops the scan. */
    scan(c, "x", s.seqs[1], T0, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.tags[0], 4);
    s.stop_after = 1;
    scan(c, "x", 0, T0, &s);
    assert_int_equal(s.n, 1);
    seen_free(&s);
}

static int
receipts(ctx_t *c,
         const char *sender,
         const char *recipient,
         const mailbox_receipt_t *items,
         size_t n,
         uint64_t now)
{
    MDB_txn *txn = NULL;
    int rc = store_begin(c->fx->store, false, &txn);
    if (!rc)
        rc = mailbox_receipts(c->mb, txn, sender, recipient, items, n, now);
    if (!rc)
        return store_commit(&txn);
    store_abort(&txn);
    return rc;
}

/* Decodes delivered frame i, a Mail{receipts}, and checks that it has `n` receipts from
 * `recipient` at `delivered_at`, the first of them for message `first` of handoff
 * `handoff_id`. Copies the mail's msg_id to `mail_id`. */
static void
check_receipts(const seen_t *s,
               size_t i,
               size_t n,
               const uint8_t first[16],
               const char *handoff_id,
               const char *recipient,
               uint64_t delivered_at,
               uint8_t mail_id[16])
{
    pbuf_t *pb = NULL;
    assert_int_equal(wire_decode(s->frames[i], s->lens[i], &pb, NULL), 0);
    const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
    assert_int_equal(env->body_case, REFNET__ENVELOPE__BODY_MAIL);
    assert_int_equal(env->mail->content_case, REFNET__MAIL__CONTENT_RECEIPTS);
    assert_string_equal(env->mail->from, "");
    assert_int_equal(env->mail->receipts->n_receipts, n);
    const Refnet__Receipt *r = env->mail->receipts->receipts[0];
    assert_memory_equal(r->msg_id.data, first, 16);
    assert_string_equal(r->recipient, recipient);
    assert_int_equal(r->delivered_at_ms, delivered_at);
    assert_string_equal(r->handoff_id, handoff_id);
    memcpy(mail_id, env->msg_id.data, 16);
    pbuf_destroy(&pb);
}

static void
test_ack_makes_receipt(void **state)
{
    ctx_t *c = *state;
    uint8_t id[16], rid[16], rid2[16];
    mailbox_ack_t done;
    seen_t s = { 0 };
    uid_msgid(id);
    assert_int_equal(put(c, "a", "b", id, 7, 0, T0), 0);
    assert_int_equal(state_of(c, id), MAILBOX_QUEUED);
    /* Only the recipient can acknowledge it. */
    assert_int_equal(ack(c, "a", id, T0 + 5, &done), REFNET_ENOTFOUND);
    assert_int_equal(ack(c, "c", id, T0 + 5, &done), REFNET_ENOTFOUND);
    assert_int_equal(depth(c, "b"), 1);
    assert_int_equal(ack(c, "b", id, T0 + 5, &done), 0);
    assert_string_equal(done.receipt_to, "a");
    assert_string_equal(done.handoff_id, "");
    assert_int_equal(done.qseq, 1);
    assert_int_equal(depth(c, "b"), 0);
    assert_int_equal(state_of(c, id), MAILBOX_DONE);
    /* A second ack changes nothing. */
    assert_int_equal(ack(c, "b", id, T0 + 6, &done), REFNET_ENOTFOUND);
    /* The caller queues the receipts: one mail for several messages. */
    assert_int_equal(depth(c, "a"), 0);
    mailbox_receipt_t items[3] = { 0 };
    for (size_t i = 0; i < 3; i++) {
        if (i == 0)
            memcpy(items[i].msg_id, id, 16);
        else
            uid_msgid(items[i].msg_id);
        uid_new(items[i].handoff_id);
    }
    assert_int_equal(receipts(c, "a", "b", items, 0, T0 + 5), REFNET_EINVAL);
    assert_int_equal(receipts(c, "a", "b", items, 3, T0 + 5), 0);
    assert_int_equal(receipts(c, "a", "b", items, 1, T0 + 6), 0);
    assert_int_equal(depth(c, "a"), 2);
    scan(c, "a", 0, T0 + 10, &s);
    assert_int_equal(s.n, 2);
    check_receipts(&s, 0, 3, id, items[0].handoff_id, "b", T0 + 5, rid);
    check_receipts(&s, 1, 1, id, items[0].handoff_id, "b", T0 + 6, rid2);
    /* Broker-made ids are time-ordered: the later one's time prefix (6 bytes of ms) is not
     * earlier; within one millisecond the random rest decides. */
    assert_true(memcmp(rid, rid2, 6) <= 0);
    /* Acknowledged, a receipt mail owes nothing and its id is forgotten at once. */
    assert_int_equal(state_of(c, rid), MAILBOX_QUEUED);
    assert_int_equal(ack(c, "a", rid, T0 + 11, &done), 0);
    assert_string_equal(done.receipt_to, "");
    assert_int_equal(state_of(c, rid), MAILBOX_UNKNOWN);
    assert_int_equal(ack(c, "a", rid, T0 + 12, &done), REFNET_ENOTFOUND);
    assert_int_equal(depth(c, "a"), 1);
    seen_free(&s);
}

/* Encodes `env` and returns what wire_decode (which validates) says of it. */
static int
decodes(const Refnet__Envelope *env)
{
    uint8_t *frame = NULL;
    size_t len = 0;
    pbuf_t *pb = NULL;
    int rc = wire_encode(env, &frame, &len);
    if (!rc)
        rc = wire_decode(frame, len, &pb, NULL);
    pbuf_destroy(&pb);
    free(frame);
    return rc;
}

/* A Mail{receipts} holds 1 to WIRE_MAX_ACK_IDS valid receipts (proto/validate.c). */
static void
test_receipts_are_validated(void **state)
{
    (void)state;
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__Receipts batch = REFNET__RECEIPTS__INIT;
    Refnet__Receipt r = REFNET__RECEIPT__INIT;
    Refnet__Receipt *many[WIRE_MAX_ACK_IDS + 1];
    uint8_t id[16], mid[16];
    uid_msgid(id);
    wire_stamp(&env, mid);
    r.msg_id.data = id;
    r.msg_id.len = 16;
    r.recipient = (char *)"b";
    r.delivered_at_ms = T0;
    r.handoff_id = (char *)"";
    for (size_t i = 0; i <= WIRE_MAX_ACK_IDS; i++)
        many[i] = &r;
    mail.to = (char *)"a";
    mail.content_case = REFNET__MAIL__CONTENT_RECEIPTS;
    mail.receipts = &batch;
    env.body_case = REFNET__ENVELOPE__BODY_MAIL;
    env.mail = &mail;
    batch.receipts = many;
    batch.n_receipts = WIRE_MAX_ACK_IDS;
    assert_int_equal(decodes(&env), 0);
    batch.n_receipts = 0;
    assert_int_not_equal(decodes(&env), 0);
    batch.n_receipts = WIRE_MAX_ACK_IDS + 1;
    assert_int_not_equal(decodes(&env), 0);
    batch.n_receipts = 2;
    r.msg_id.len = 15; /* each receipt is checked as a Mail.receipt is */
    assert_int_not_equal(decodes(&env), 0);
}

static void
test_duplicate_msg_id_is_not_requeued(void **state)
{
    ctx_t *c = *state;
    uint8_t id[16];
    mailbox_ack_t done;
    uid_msgid(id);
    assert_int_equal(put(c, "a", "b", id, 1, 0, T0), 0);
    assert_int_equal(put(c, "a", "b", id, 1, 0, T0), REFNET_EEXIST);
    assert_int_equal(depth(c, "b"), 1);
    assert_int_equal(ack(c, "b", id, T0, &done), 0);
    /* Known after delivery too: a resend never reaches the recipient twice. */
    assert_int_equal(put(c, "a", "b", id, 1, 0, T0), REFNET_EEXIST);
    assert_int_equal(depth(c, "b"), 0);
}

static void
test_queue_full(void **state)
{
    ctx_t *c = *state;
    uint8_t id[16];
    MDB_txn *txn = NULL;
    mailbox_ack_t done;
    uint8_t first[16];
    for (int i = 0; i < 3; i++) {
        uid_msgid(id);
        if (i == 0)
            memcpy(first, id, 16);
        assert_int_equal(put(c, "a", "b", id, 1, 0, T0), 0);
    }
    uid_msgid(id);
    assert_int_equal(put(c, "a", "b", id, 1, 0, T0), REFNET_EQUEUEFULL);
    assert_int_equal(store_begin(c->fx->store, true, &txn), 0);
    assert_int_equal(mailbox_room(c->mb, txn, "b"), REFNET_EQUEUEFULL);
    assert_int_equal(mailbox_room(c->mb, txn, "a"), 0);
    store_abort(&txn);
    assert_int_equal(depth(c, "b"), 3);
    /* Receipts are never refused: b acks into a's full mailbox. */
    for (int i = 0; i < 3; i++) {
        uid_msgid(id);
        assert_int_equal(put(c, "b", "a", id, 1, 0, T0), 0);
    }
    assert_int_equal(ack(c, "b", first, T0, &done), 0);
    mailbox_receipt_t item = { 0 };
    memcpy(item.msg_id, first, 16);
    assert_int_equal(receipts(c, "a", "b", &item, 1, T0), 0);
    assert_int_equal(depth(c, "a"), 4);
    assert_int_equal(depth(c, "b"), 2);
    uid_msgid(id);
    assert_int_equal(put(c, "a", "b", id, 1, 0, T0), 0);
}

static int
admit(ctx_t *c, const char *from, const char *to, const uint8_t id[16], uint64_t now)
{
    MDB_txn *txn = NULL;
    int rc = store_begin(c->fx->store, true, &txn);
    if (!rc)
        rc = mailbox_admit(c->mb, txn, from, to, id, now);
    store_abort(&txn);
    return rc;
}

/* Once k1 and k2 of a pair are refused for a full mailbox, a freed place goes to k1 first: k2
 * may not overtake it, while other senders are not held. */
static void
test_admit_keeps_pairs_in_order(void **state)
{
    ctx_t *c = *state;
    uint8_t id[16], first[16], k1[16], k2[16];
    mailbox_ack_t done;
    for (int i = 0; i < 3; i++) {
        uid_msgid(id);
        if (i == 0)
            memcpy(first, id, 16);
        assert_int_equal(put(c, "z", "b", id, 1, 0, T0), 0);
    }
    uid_msgid(k1);
    uid_msgid(k2);
    assert_int_equal(admit(c, "a", "b", k1, T0), REFNET_EQUEUEFULL);
    assert_int_equal(admit(c, "a", "b", k2, T0), REFNET_EQUEUEFULL);
    assert_int_equal(ack(c, "b", first, T0, &done), 0);
    assert_int_equal(admit(c, "a", "b", k2, T0 + 1), REFNET_EQUEUEFULL);
    uid_msgid(id);
    assert_int_equal(admit(c, "c", "b", id, T0 + 1), 0);
    assert_int_equal(admit(c, "a", "b", k1, T0 + 2), 0);
    assert_int_equal(put(c, "a", "b", k1, 2, 0, T0 + 2), 0);
    /* Full again: k2 waits; with room, k2 (now first in line) passes. */
    assert_int_equal(admit(c, "a", "b", k2, T0 + 3), REFNET_EQUEUEFULL);
    assert_int_equal(ack(c, "b", k1, T0 + 4, &done), 0);
    assert_int_equal(admit(c, "a", "b", k2, T0 + 5), 0);
}

/* A commit that failed (storage full) un-stores its mails: the pair is held with them first
 * in line, in their order, as after "queue full". */
static void
test_unstored_holds_the_pair(void **state)
{
    ctx_t *c = *state;
    uint8_t k1[16], k2[16], k3[16], other[16];
    uid_msgid(k1);
    uid_msgid(k2);
    uid_msgid(k3);
    uid_msgid(other);
    assert_int_equal(admit(c, "a", "b", k1, T0), 0);
    assert_int_equal(admit(c, "a", "b", k2, T0), 0);
    mailbox_unstored(c->mb, "a", "b", k2, T0); /* newest first */
    mailbox_unstored(c->mb, "a", "b", k1, T0);
    assert_int_equal(admit(c, "a", "b", k3, T0 + 1), REFNET_EQUEUEFULL);
    assert_int_equal(admit(c, "a", "b", k2, T0 + 1), REFNET_EQUEUEFULL);
    assert_int_equal(admit(c, "c", "b", other, T0 + 1), 0);
    assert_int_equal(admit(c, "a", "b", k1, T0 + 2), 0);
    /* k1's retry is stored by a commit that fails again: it goes back to the front, before k2
     * and k3 (refused above), not behind them. */
    mailbox_unstored(c->mb, "a", "b", k1, T0 + 2);
    assert_int_equal(admit(c, "a", "b", k2, T0 + 3), REFNET_EQUEUEFULL);
    assert_int_equal(admit(c, "a", "b", k1, T0 + 3), 0);
    assert_int_equal(admit(c, "a", "b", k2, T0 + 3), 0);
    assert_int_equal(admit(c, "a", "b", k3, T0 + 4), 0);
}

static void
test_expiry_moves_to_dead_and_tells_sender(void **state)
{
    ctx_t *c = *state;
    uint8_t old[16], fresh[16];
    MDB_txn *txn = NULL;
    size_t expired = 0;
    seen_t s = { 0 };
    uid_msgid(old);
    uid_msgid(fresh);
    assert_int_equal(put(c, "a", "b", old, 1, 1000, T0), 0);
    assert_int_equal(put(c, "a", "b", fresh, 2, 0, T0), 0);
    /* Expired messages are no longer delivered, even before the sweep. */
    scan(c, "b", 0, T0 + 1500, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.tags[0], 2);

    assert_int_equal(store_begin(c->fx->store, false, &txn), 0);
    assert_int_equal(mailbox_sweep(c->mb, txn, T0 + 1500, 100, NULL, NULL, &expired), 0);
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(expired, 1);
    assert_int_equal(depth(c, "b"), 1);
    assert_int_equal(state_of(c, old), MAILBOX_DEAD);
    assert_int_equal(state_of(c, fresh), MAILBOX_QUEUED);

    MDB_val val;
    assert_int_equal(store_begin(c->fx->store, true, &txn), 0);
    assert_int_equal(store_get(txn, bstore_db(c->fx->store, BSTORE_DEAD), old, 16, &val), 0);
    store_abort(&txn);

    scan(c, "a", 0, T0 + 1500, &s);
    assert_int_equal(s.n, 1);
    check_receipt(&s, 0, old, "b", 0);
    seen_free(&s);

    /* The default TTL (60 s) applies to the other one. */
    assert_int_equal(store_begin(c->fx->store, false, &txn), 0);
    assert_int_equal(mailbox_sweep(c->mb, txn, T0 + 61000, 100, NULL, NULL, &expired), 0);
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(expired, 1);
    assert_int_equal(depth(c, "b"), 0);

    /* The dead letter is pruned with its msg_id when the retention (1 h from its expiry) ends. */
    assert_int_equal(store_begin(c->fx->store, false, &txn), 0);
    assert_int_equal(mailbox_sweep(c->mb, txn, T0 + 1500 + 3600000 + 1, 100, NULL, NULL, &expired),
                     0);
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(state_of(c, old), MAILBOX_UNKNOWN);
    assert_int_equal(store_begin(c->fx->store, true, &txn), 0);
    assert_int_equal(store_get(txn, bstore_db(c->fx->store, BSTORE_DEAD), old, 16, &val),
                     REFNET_ENOTFOUND);
    store_abort(&txn);
}

static void
test_finished_ids_are_forgotten_after_retention(void **state)
{
    ctx_t *c = *state;
    uint8_t id[16];
    mailbox_ack_t done;
    MDB_txn *txn = NULL;
    size_t expired = 9;
    uid_msgid(id);
    assert_int_equal(put(c, "a", "b", id, 1, 0, T0), 0);
    assert_int_equal(ack(c, "b", id, T0 + 10, &done), 0);
    /* Sweeping before the retention ends keeps it; after, it is gone. */
    assert_int_equal(store_begin(c->fx->store, false, &txn), 0);
    assert_int_equal(mailbox_sweep(c->mb, txn, T0 + 3600000, 100, NULL, NULL, &expired), 0);
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(state_of(c, id), MAILBOX_DONE);
    assert_int_equal(store_begin(c->fx->store, false, &txn), 0);
    assert_int_equal(mailbox_sweep(c->mb, txn, T0 + 3600011, 100, NULL, NULL, &expired), 0);
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(expired, 0);
    assert_int_equal(state_of(c, id), MAILBOX_UNKNOWN);
}

static void
test_limits_on_input(void **state)
{
    ctx_t *c = *state;
    uint8_t id[16];
    uid_msgid(id);
    assert_int_equal(put(c, "a", "b", id, 1, WIRE_MAX_TTL_MS + 1, T0), REFNET_EINVAL);
    assert_int_equal(depth(c, "b"), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fifo_per_recipient, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_makes_receipt, setup, teardown),
        cmocka_unit_test(test_receipts_are_validated),
        cmocka_unit_test_setup_teardown(test_duplicate_msg_id_is_not_requeued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_full, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_admit_keeps_pairs_in_order, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_unstored_holds_the_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_moves_to_dead_and_tells_sender, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_finished_ids_are_forgotten_after_retention, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_limits_on_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
