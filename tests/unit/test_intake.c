/* test_intake: Batch frames at the broker (intake.c expands them; packer.c and pump.c pack
 * what goes back): a real broker in a thread and agencies on CURVE DEALER sockets
 * (test_broker_session.h).
 *
 * A Batch's items are applied and answered one by one, as if each had come alone: a bad item
 * is refused by itself and the others are stored; a nested batch is refused. Answers and
 * deliveries are packed into Batch frames only for a session whose Hello asked for them, and
 * the items arrive in order. */
#include "test_broker_session.h"

#define MAILS 5

/* Opens a session as `who`, asking for Batch frames or not; the Welcome must offer them. */
static zsock_t *
session_batches(ctx_t *c, zcert_t *cert, const char *who, bool batches)
{
    zsock_t *s = connect_as(c, cert, c->endpoint);
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Hello hello = REFNET__HELLO__INIT;
    uint8_t id[16];
    hello.batches = batches;
    env.body_case = REFNET__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    send_env(s, &env, id);
    pbuf_t *pb = recv_body(s, REFNET__ENVELOPE__BODY_WELCOME, WAIT_MS);
    assert_non_null(pb);
    assert_string_equal(ENV(pb)->welcome->agency_id, who);
    assert_true(ENV(pb)->welcome->batches);
    pbuf_destroy(&pb);
    return s;
}

/* Encodes a REQUESTED step of handoff number `i` from a1 to a2; `id` gets its msg_id. */
static void
encode_mail(int i, uint8_t id[16], uint8_t **frame, size_t *len)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__HandoffUpdate up = REFNET__HANDOFF_UPDATE__INIT;
    char handoff[64];
    snprintf(handoff, sizeof handoff, "0b7f3d1e-8a55-4c2e-9d7f-1a2b3c4d5e%02d", i % 100);
    up.handoff_id = handoff;
    up.service_id = (char *)"beds";
    up.status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED;
    mail.to = (char *)"a2";
    mail.content_case = REFNET__MAIL__CONTENT_HANDOFF;
    mail.handoff = &up;
    env.body_case = REFNET__ENVELOPE__BODY_MAIL;
    env.mail = &mail;
    encode_env(&env, id, frame, len);
}

/* What arrived on a socket within a time limit: the envelopes in order, and how many frames
 * carried them and how many of those were Batch frames. */
typedef struct {
    pbuf_t *items[64];
    size_t n;
    size_t frames, batches;
} received_t;

/* Receives frames until `want` envelopes with `body` have arrived or WAIT_MS pass; other
 * envelopes are dropped. Items of Batch frames are decoded as the node does. */
static void
receive(zsock_t *s, Refnet__Envelope__BodyCase body, size_t want, received_t *r)
{
    memset(r, 0, sizeof *r);
    uint64_t deadline = clock_mono_ms() + WAIT_MS;
    while (r->n < want && clock_mono_ms() < deadline) {
        zsock_set_rcvtimeo(s, (int)(deadline - clock_mono_ms()) + 1);
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, zsock_resolve(s), 0) < 0) {
            zmq_msg_close(&m);
            return;
        }
        pbuf_t *outer = NULL;
        assert_int_equal(wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), &outer, NULL), 0);
        zmq_msg_close(&m);
        const Refnet__Envelope *env = ENV(outer);
        /* A lone envelope is `outer` itself, which may be freed in the loop: decide first. */
        bool is_batch = env->body_case == REFNET__ENVELOPE__BODY_BATCH;
        size_t count = is_batch ? env->batch->n_envelopes : 1;
        r->frames++;
        r->batches += is_batch;
        for (size_t i = 0; i < count; i++) {
            pbuf_t *pb = outer;
            if (is_batch) {
                const ProtobufCBinaryData *it = &env->batch->envelopes[i];
                assert_int_equal(wire_decode_item(it->data, it->len, &pb, NULL), 0);
            }
            if (ENV(pb)->body_case == body && r->n < 64)
                r->items[r->n++] = pb;
            else
                pbuf_destroy(&pb);
        }
        if (is_batch)
            pbuf_destroy(&outer);
    }
}

static void
received_clear(received_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        pbuf_destroy(&r->items[i]);
    r->n = 0;
}

/* One Batch of five mails and a garbage item: the garbage is refused by itself, the five are
 * stored, answered (packed) and delivered (packed) in order; one Ack gives one receipt mail. */
static void
test_batch_items_apply_one_by_one(void **state)
{
    ctx_t *c = *state;
    uint8_t ids[MAILS][16], *frames[MAILS + 1];
    size_t lens[MAILS + 1];
    zsock_t *s1 = session_batches(c, c->a1, "a1", true);
    zsock_t *s2 = session_batches(c, c->a2, "a2", true);
    assert_int_equal(publish(s2, "beds", NULL), REFNET__STATUS__STATUS_OK);
    for (int i = 0; i < MAILS; i++)
        encode_mail(i, ids[i], &frames[i], &lens[i]);
    frames[MAILS] = (uint8_t *)strdup("not an envelope");
    lens[MAILS] = strlen("not an envelope");
    /* The garbage goes third: the items after it still apply. */
    uint8_t *order[MAILS + 1] = { frames[0], frames[1], frames[MAILS],
                                  frames[2], frames[3], frames[4] };
    size_t order_lens[MAILS + 1] = { lens[0], lens[1], lens[MAILS], lens[2], lens[3], lens[4] };
    send_batch(s1, order, order_lens, MAILS + 1);

    received_t r;
    receive(s1, REFNET__ENVELOPE__BODY_RESULT, MAILS + 1, &r);
    assert_int_equal(r.n, MAILS + 1);
    assert_true(r.batches >= 1);
    size_t ok = 0, bad = 0;
    for (size_t i = 0; i < r.n; i++) {
        const Refnet__Result *res = ENV(r.items[i])->result;
        if (res->status == REFNET__STATUS__STATUS_OK) {
            assert_memory_equal(res->ref.data, ids[ok], 16); /* answered in order */
            ok++;
        } else {
            assert_int_equal(res->status, REFNET__STATUS__STATUS_BAD_REQUEST);
            assert_int_equal(res->ref.len, 0);
            bad++;
        }
    }
    assert_int_equal(ok, MAILS);
    assert_int_equal(bad, 1);
    received_clear(&r);

    receive(s2, REFNET__ENVELOPE__BODY_MAIL, MAILS, &r);
    assert_int_equal(r.n, MAILS);
    assert_true(r.batches >= 1);
    assert_true(r.frames < MAILS);
    Refnet__Envelope ack_env = REFNET__ENVELOPE__INIT;
    Refnet__Ack ack = REFNET__ACK__INIT;
    ProtobufCBinaryData acked[MAILS];
    for (size_t i = 0; i < MAILS; i++) {
        assert_memory_equal(ENV(r.items[i])->msg_id.data, ids[i], 16); /* delivered in order */
        assert_string_equal(ENV(r.items[i])->mail->from, "a1");
        acked[i] = (ProtobufCBinaryData){ 16, ids[i] };
    }
    ack.n_msg_ids = MAILS;
    ack.msg_ids = acked;
    ack_env.body_case = REFNET__ENVELOPE__BODY_ACK;
    ack_env.ack = &ack;
    uint8_t ack_id[16];
    send_env(s2, &ack_env, ack_id);
    received_clear(&r);

    pbuf_t *pb = recv_body(s1, REFNET__ENVELOPE__BODY_MAIL, WAIT_MS);
    assert_non_null(pb);
    assert_int_equal(ENV(pb)->mail->content_case, REFNET__MAIL__CONTENT_RECEIPTS);
    assert_int_equal(ENV(pb)->mail->receipts->n_receipts, MAILS);
    pbuf_destroy(&pb);

    const counters_t *k = broker_counters(c->broker);
    assert_int_equal(k->stored, MAILS);
    assert_int_equal(k->bad_frames, 1);
    assert_true(k->batches_in >= 1);
    assert_true(k->batches_out >= 2);
    for (int i = 0; i <= MAILS; i++)
        free(frames[i]);
    zsock_destroy(&s1);
    zsock_destroy(&s2);
}

/* A session that did not ask for batches gets one envelope per frame, even when the sender
 * batched; and a batch inside a batch is refused by name. */
static void
test_no_batches_unless_asked_and_no_nesting(void **state)
{
    ctx_t *c = *state;
    uint8_t ids[3][16], *frames[3];
    size_t lens[3];
    zsock_t *s1 = session_batches(c, c->a1, "a1", true);
    zsock_t *s2 = session_batches(c, c->a2, "a2", false);
    assert_int_equal(publish(s2, "beds", NULL), REFNET__STATUS__STATUS_OK);
    for (int i = 0; i < 3; i++)
        encode_mail(10 + i, ids[i], &frames[i], &lens[i]);
    send_batch(s1, frames, lens, 3);
    received_t r;
    receive(s2, REFNET__ENVELOPE__BODY_MAIL, 3, &r);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.batches, 0);
    assert_int_equal(r.frames, 3);
    for (size_t i = 0; i < 3; i++)
        assert_memory_equal(ENV(r.items[i])->msg_id.data, ids[i], 16);
    received_clear(&r);
    receive(s1, REFNET__ENVELOPE__BODY_RESULT, 3, &r);
    assert_int_equal(r.n, 3);
    received_clear(&r);

    /* A Batch whose item is a Batch: refused, nothing stored. */
    uint8_t id[16], *inner = NULL, *outer = NULL;
    size_t inner_len = 0, outer_len = 0;
    wire_batch_t b;
    free(frames[0]);
    encode_mail(20, id, &frames[0], &lens[0]);
    wire_batch_init(&b);
    wire_batch_add(&b, frames[0], lens[0]);
    wire_batch_add(&b, frames[0], lens[0]);
    assert_int_equal(wire_batch_encode(&b, NULL, &inner, &inner_len), 0);
    wire_batch_add(&b, inner, inner_len);
    wire_batch_add(&b, inner, inner_len);
    assert_int_equal(wire_batch_encode(&b, NULL, &outer, &outer_len), 0);
    assert_int_equal(zmq_send(zsock_resolve(s1), outer, outer_len, 0), (int)outer_len);
    receive(s1, REFNET__ENVELOPE__BODY_RESULT, 2, &r);
    assert_int_equal(r.n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(ENV(r.items[i])->result->status, REFNET__STATUS__STATUS_BAD_REQUEST);
        assert_non_null(strstr(ENV(r.items[i])->result->detail, "batch"));
    }
    received_clear(&r);
    assert_int_equal(broker_counters(c->broker)->stored, 3);
    free(inner);
    free(outer);
    for (int i = 0; i < 3; i++)
        free(frames[i]);
    zsock_destroy(&s1);
    zsock_destroy(&s2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batch_items_apply_one_by_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_batches_unless_asked_and_no_nesting, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
