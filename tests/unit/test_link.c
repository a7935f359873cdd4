/* Unit tests of link: the session with a stand-in broker (a CURVE server ROUTER in this
 * process, on a loopback port chosen at run time): Hello on connect, Welcome, the outbox
 * pump and its answers, Pings, resending after a new Welcome, liveness (silence keeps the session, a lost
 * connection ends it), and Batch frames both
 * ways (items handed out one by one, bad items refused alone, outbox items packed only for a
 * broker that takes batches). */
#include "test_node_fixture.h"

#include <czmq.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "inbound.h"
#include "link.h"
#include "outbox.h"
#include "refnet_error.h"
#include "seen.h"
#include "wire.h"

#define HB_MS 100
/* Outbox items of the packing test: more than one window, so the window shows in frames. */
#define N_ITEMS (NODE_OUTBOX_WINDOW + 6)

typedef struct {
    nfx_t *fx;
    zcert_t *server_cert, *client_cert;
    zsock_t *router;
    link_t *link;
    zframe_t *rid; /* the node's routing id at the stand-in broker */
    uint8_t item_id[UID_MSGID_LEN];
    int frames_seen;   /* frames the stand-in broker received */
    int batches_seen;  /* of which Batch frames */
    bool answer_pings; /* the stand-in broker answers Pings, so the session never lapses */
    int port;          /* where the stand-in broker listens */
    uint8_t ids[N_ITEMS][UID_MSGID_LEN];
} t_t;

static int
setup(void **state)
{
    t_t *t = xcalloc(1, sizeof *t);
    char ep[64];
    t->fx = nfx_new();
    assert_non_null(t->fx);
    t->server_cert = zcert_new();
    t->client_cert = zcert_new();
    t->router = zsock_new(ZMQ_ROUTER);
    zsock_set_curve_server(t->router, 1);
    zcert_apply(t->server_cert, t->router);
    int port = zsock_bind(t->router, "tcp://127.0.0.1:*");
    assert_true(port > 0);
    t->port = port;
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    assert_int_equal(
        link_open(&t->link, ep, zcert_public_txt(t->server_cert), t->client_cert, "harbor", HB_MS),
        0);
    *state = t;
    return 0;
}

static int
teardown(void **state)
{
    t_t *t = *state;
    link_destroy(&t->link);
    zframe_destroy(&t->rid);
    zsock_destroy(&t->router);
    zcert_destroy(&t->server_cert);
    zcert_destroy(&t->client_cert);
    nfx_destroy(&t->fx);
    free(t);
    return 0;
}

static void broker_send(t_t *t, Refnet__Envelope *env);

/* Answers a Ping as the broker would. */
static void
send_pong(t_t *t)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Pong pong = REFNET__PONG__INIT;
    env.body_case = REFNET__ENVELOPE__BODY_PONG;
    env.pong = &pong;
    broker_send(t, &env);
}

/* Runs the link's side (monitor, timers, frames) for up to `ms`, until the stand-in broker
 * has a frame of kind `want`; returns that envelope (caller destroys) or NULL. Frames the
 * link receives are handed to `on_frame`. */
static pbuf_t *
pump_until(t_t *t,
           Refnet__Envelope__BodyCase want,
           int ms,
           void (*on_frame)(t_t *t, const Refnet__Envelope *env))
{
    uint64_t end = clock_mono_ms() + (uint64_t)ms;
    char why[WIRE_WHY_LEN];
    while (clock_mono_ms() < end) {
        bool need_sync = false;
        zmq_pollitem_t items[] = { { link_monitor_socket(t->link), 0, ZMQ_POLLIN, 0 },
                                   { link_socket(t->link), 0, ZMQ_POLLIN, 0 },
                                   { zsock_resolve(t->router), 0, ZMQ_POLLIN, 0 } };
        link_tick(t->link, t->fx->st, clock_mono_ms(), &need_sync);
        zmq_poll(items, 3, 10);
        if (items[0].revents)
            link_on_monitor(t->link, t->fx->st, clock_mono_ms());
        pbuf_t *in = NULL;
        while (link_recv(t->link, clock_mono_ms(), &in, why) == 0) {
            if (on_frame)
                on_frame(t, (const Refnet__Envelope *)pbuf_msg(in));
            pbuf_destroy(&in);
        }
        if (!items[2].revents)
            continue;
        zmsg_t *msg = zmsg_recv(t->router);
        t->frames_seen++;
        zframe_destroy(&t->rid);
        t->rid = zmsg_pop(msg);
        zframe_t *body = zmsg_pop(msg);
        pbuf_t *env = NULL;
        assert_int_equal(wire_decode(zframe_data(body), zframe_size(body), &env, why), 0);
        zframe_destroy(&body);
        zmsg_destroy(&msg);
        if (((const Refnet__Envelope *)pbuf_msg(env))->body_case == REFNET__ENVELOPE__BODY_BATCH)
            t->batches_seen++;
        if (((const Refnet__Envelope *)pbuf_msg(env))->body_case == REFNET__ENVELOPE__BODY_PING &&
            t->answer_pings)
            send_pong(t);
        if (((const Refnet__Envelope *)pbuf_msg(env))->body_case == want)
            return env;
        pbuf_destroy(&env);
    }
    return NULL;
}

/* Sends one frame of `len` bytes from the stand-in broker to the node. */
static void
broker_send_bytes(t_t *t, const uint8_t *bytes, size_t len)
{
    zmsg_t *msg = zmsg_new();
    zmsg_append(msg, &(zframe_t *){ zframe_dup(t->rid) });
    zmsg_addmem(msg, bytes, len);
    assert_int_equal(zmsg_send(&msg, t->router), 0);
}

/* Stamps `env` with a new msg_id (written to `id`, which must outlive env) and encodes it
 * (caller frees). */
static uint8_t *
encode(Refnet__Envelope *env, uint8_t id[UID_MSGID_LEN], size_t *len)
{
    uint8_t *bytes = NULL;
    wire_stamp(env, id);
    assert_int_equal(wire_encode(env, &bytes, len), 0);
    return bytes;
}

/* Sends `env` from the stand-in broker to the node. */
static void
broker_send(t_t *t, Refnet__Envelope *env)
{
    uint8_t id[UID_MSGID_LEN];
    size_t len = 0;
    uint8_t *bytes = encode(env, id, &len);
    broker_send_bytes(t, bytes, len);
    free(bytes);
}

/* Sends `n` encoded envelopes as one Batch frame. */
static void
broker_send_batch(t_t *t, uint8_t **items, const size_t *lens, size_t n)
{
    wire_batch_t b;
    uint8_t *frame = NULL;
    size_t len = 0;
    wire_batch_init(&b);
    for (size_t i = 0; i < n; i++) {
        assert_true(wire_batch_fits(&b, lens[i], WIRE_MAX_FRAME));
        wire_batch_add(&b, items[i], lens[i]);
    }
    assert_int_equal(wire_batch_encode(&b, NULL, &frame, &len), 0);
    broker_send_bytes(t, frame, len);
    free(frame);
}

static void
send_welcome_batches(t_t *t, bool batches)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Welcome w = REFNET__WELCOME__INIT;
    w.agency_id = (char *)"harbor";
    w.heartbeat_ms = HB_MS;
    w.batches = batches;
    env.body_case = REFNET__ENVELOPE__BODY_WELCOME;
    env.welcome = &w;
    broker_send(t, &env);
}

/* A Welcome from a broker that does not take batches. */
static void
send_welcome(t_t *t)
{
    send_welcome_batches(t, false);
}

static void
on_frame_session(t_t *t, const Refnet__Envelope *env)
{
    if (env->body_case == REFNET__ENVELOPE__BODY_WELCOME)
        link_on_welcome(t->link, env->welcome, clock_mono_ms());
    if (env->body_case == REFNET__ENVELOPE__BODY_RESULT)
        assert_true(link_on_answer(t->link, &env->result->ref));
}

/* Frames the link hands over after a Bye: a Bye must never be among them. */
static void
on_frame_bye_unseen(t_t *t, const Refnet__Envelope *env)
{
    (void)t;
    assert_int_not_equal(env->body_case, REFNET__ENVELOPE__BODY_BYE);
}

static void
queue_item(t_t *t)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirWithdraw wd = REFNET__DIR_WITHDRAW__INIT;
    wd.service_id = (char *)"s1";
    env.body_case = REFNET__ENVELOPE__BODY_WITHDRAW;
    env.withdraw = &wd;
    MDB_txn *txn = nfx_begin(t->fx, false);
    assert_int_equal(outbox_add(txn, t->fx->st, &env, NULL, 1, t->item_id, NULL), 0);
    assert_int_equal(store_commit(&txn), 0);
}

static void
test_session_pump_and_resend(void **state)
{
    t_t *t = *state;
    queue_item(t);
    /* The link says Hello once the CURVE handshake completes; nothing else before Welcome. */
    pbuf_t *env = pump_until(t, REFNET__ENVELOPE__BODY_HELLO, 3000, NULL);
    assert_non_null(env);
    assert_string_equal(((Refnet__Envelope *)pbuf_msg(env))->hello->software, "refnet-node 0.1");
    assert_true(((Refnet__Envelope *)pbuf_msg(env))->hello->batches);
    pbuf_destroy(&env);
    assert_false(link_connected(t->link));

    /* After Welcome the outbox item goes out, with its own msg_id. */
    send_welcome(t);
    env = pump_until(t, REFNET__ENVELOPE__BODY_WITHDRAW, 3000, on_frame_session);
    assert_non_null(env);
    assert_true(link_connected(t->link));
    assert_memory_equal(((Refnet__Envelope *)pbuf_msg(env))->msg_id.data, t->item_id,
                        UID_MSGID_LEN);
    pbuf_destroy(&env);
    assert_int_equal(link_stats(t->link)->sent, 1);

    /* Pings follow, one per heartbeat. */
    env = pump_until(t, REFNET__ENVELOPE__BODY_PING, 1000, on_frame_session);
    assert_non_null(env);
    pbuf_destroy(&env);

    /* A second Welcome on the same connection (the answer to a repeated Hello) is no new
     * session: the unanswered item is not sent again. */
    send_welcome(t);
    env = pump_until(t, REFNET__ENVELOPE__BODY_WITHDRAW, 3 * HB_MS, on_frame_session);
    assert_null(env);
    assert_true(link_connected(t->link));
    assert_int_equal(link_stats(t->link)->sent, 1);
    assert_int_equal(link_stats(t->link)->welcomes, 1);

    /* Answered, it leaves the window. */
    Refnet__Envelope r = REFNET__ENVELOPE__INIT;
    Refnet__Result res = REFNET__RESULT__INIT;
    res.ref.data = t->item_id;
    res.ref.len = UID_MSGID_LEN;
    r.body_case = REFNET__ENVELOPE__BODY_RESULT;
    r.result = &res;
    broker_send(t, &r);
    env = pump_until(t, REFNET__ENVELOPE__BODY_PING, 1000, on_frame_session);
    pbuf_destroy(&env);
    MDB_txn *txn = nfx_begin(t->fx, false);
    uint64_t key = 0;
    assert_int_equal(outbox_find(txn, t->fx->st, t->item_id, UID_MSGID_LEN, &key), 0);
    assert_int_equal(outbox_remove(txn, t->fx->st, key), 0);
    assert_int_equal(store_commit(&txn), 0);

    /* A later item, queued once the outbox is empty, goes out in the same session. */
    queue_item(t);
    link_pump(t->link, t->fx->st, clock_mono_ms());
    env = pump_until(t, REFNET__ENVELOPE__BODY_WITHDRAW, 3000, on_frame_session);
    assert_non_null(env);
    assert_memory_equal(((Refnet__Envelope *)pbuf_msg(env))->msg_id.data, t->item_id,
                        UID_MSGID_LEN);
    pbuf_destroy(&env);
}

/* Sends an OK Result for `id` from the stand-in broker. */
static void
answer_ok(t_t *t, const uint8_t id[UID_MSGID_LEN])
{
    Refnet__Envelope r = REFNET__ENVELOPE__INIT;
    Refnet__Result res = REFNET__RESULT__INIT;
    res.ref = (ProtobufCBinaryData){ UID_MSGID_LEN, (uint8_t *)id };
    r.body_case = REFNET__ENVELOPE__BODY_RESULT;
    r.result = &res;
    broker_send(t, &r);
}

/* A broker whose loop is busy answers nothing, but its I/O thread still answers the ZMTP
 * heartbeats (as the stand-in's does): the link keeps its session, says no Hello and sends
 * nothing again, however long the silence; answers that come later settle the window. */
static void
test_silence_keeps_the_session(void **state)
{
    t_t *t = *state;
    queue_item(t);
    pbuf_t *env = pump_until(t, REFNET__ENVELOPE__BODY_HELLO, 3000, NULL);
    assert_non_null(env);
    pbuf_destroy(&env);
    send_welcome(t);
    env = pump_until(t, REFNET__ENVELOPE__BODY_WITHDRAW, 2000, on_frame_session);
    assert_non_null(env);
    pbuf_destroy(&env);
    assert_true(link_connected(t->link));
    /* Ten heartbeats of silence, over three times the old limit of three. */
    env = pump_until(t, REFNET__ENVELOPE__BODY_HELLO, 10 * HB_MS, on_frame_session);
    assert_null(env);
    assert_true(link_connected(t->link));
    const link_stats_t *ls = link_stats(t->link);
    assert_int_equal(ls->lost, 0);
    assert_int_equal(ls->welcomes, 1);
    assert_true(ls->slow >= 1);
    assert_int_equal(ls->sent, 1);
    assert_int_equal(ls->resent, 0);
    /* The broker catches up: its answer settles the item (on_frame_session asserts it was
     * still in the window) and Pings go on in the same session. */
    answer_ok(t, t->item_id);
    env = pump_until(t, REFNET__ENVELOPE__BODY_PING, 2000, on_frame_session);
    assert_non_null(env);
    pbuf_destroy(&env);
    assert_int_equal(ls->welcomes, 1);
    assert_int_equal(ls->sent, 1);
}

/* A lost connection (the broker went away) ends the session; the reconnect says Hello, and
 * its Welcome sends the unanswered item again: the broker serves a new connection from the
 * head of its window, and so does the node. */
static void
test_lost_connection_says_hello(void **state)
{
    t_t *t = *state;
    char ep[64];
    queue_item(t);
    pbuf_t *env = pump_until(t, REFNET__ENVELOPE__BODY_HELLO, 3000, NULL);
    pbuf_destroy(&env);
    send_welcome(t);
    env = pump_until(t, REFNET__ENVELOPE__BODY_WITHDRAW, 2000, on_frame_session);
    assert_non_null(env);
    pbuf_destroy(&env);
    /* The broker goes away and comes back on the same port. */
    zsock_destroy(&t->router);
    zframe_destroy(&t->rid);
    t->router = zsock_new(ZMQ_ROUTER);
    zsock_set_curve_server(t->router, 1);
    zcert_apply(t->server_cert, t->router);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", t->port);
    /* libzmq closes the old listener in its I/O thread: the port may take a moment to free. */
    int port = -1;
    for (int i = 0; i < 100 && port < 0; i++) {
        port = zsock_bind(t->router, "%s", ep);
        if (port < 0)
            zclock_sleep(20);
    }
    assert_int_equal(port, t->port);
    env = pump_until(t, REFNET__ENVELOPE__BODY_HELLO, 5000, on_frame_session);
    assert_non_null(env);
    pbuf_destroy(&env);
    assert_false(link_connected(t->link));
    assert_int_equal(link_stats(t->link)->lost, 1);
    send_welcome(t);
    env = pump_until(t, REFNET__ENVELOPE__BODY_WITHDRAW, 2000, on_frame_session);
    assert_non_null(env);
    assert_memory_equal(((Refnet__Envelope *)pbuf_msg(env))->msg_id.data, t->item_id,
                        UID_MSGID_LEN);
    pbuf_destroy(&env);
    assert_int_equal(link_stats(t->link)->sent, 2);
}

static void
test_sync_request(void **state)
{
    t_t *t = *state;
    pbuf_t *env = pump_until(t, REFNET__ENVELOPE__BODY_HELLO, 3000, NULL);
    pbuf_destroy(&env);
    send_welcome(t);
    env = pump_until(t, REFNET__ENVELOPE__BODY_PING, 2000, on_frame_session);
    pbuf_destroy(&env);
    assert_int_equal(link_request_sync(t->link, 41, clock_mono_ms()), 0);
    assert_true(link_syncing(t->link));
    env = pump_until(t, REFNET__ENVELOPE__BODY_SYNC, 2000, on_frame_session);
    assert_non_null(env);
    assert_int_equal(((Refnet__Envelope *)pbuf_msg(env))->sync->since_seq, 41);
    pbuf_destroy(&env);
    link_sync_finished(t->link);
    assert_false(link_syncing(t->link));
}

/* Bye: the link disconnects, says nothing for retry_after_ms, then reconnects and says Hello
 * again; the Bye itself is never handed to the caller. */
static void
test_bye_waits_then_reconnects(void **state)
{
    t_t *t = *state;
    pbuf_t *env = pump_until(t, REFNET__ENVELOPE__BODY_HELLO, 3000, NULL);
    assert_non_null(env);
    pbuf_destroy(&env);
    send_welcome(t);
    env = pump_until(t, REFNET__ENVELOPE__BODY_PING, 2000, on_frame_session);
    assert_non_null(env);
    pbuf_destroy(&env);
    assert_true(link_connected(t->link));

    Refnet__Envelope e = REFNET__ENVELOPE__INIT;
    Refnet__Bye bye = REFNET__BYE__INIT;
    bye.reason = (char *)"too many bad frames";
    bye.retry_after_ms = 1500;
    e.body_case = REFNET__ENVELOPE__BODY_BYE;
    e.bye = &bye;
    uint64_t sent = clock_mono_ms();
    broker_send(t, &e);
    /* Within the retry time nothing at all reaches the stand-in broker (no Ping, no Hello);
     * the first 300 ms let a Ping already on its way arrive. */
    env = pump_until(t, REFNET__ENVELOPE__BODY__NOT_SET, 300, on_frame_bye_unseen);
    assert_null(env);
    t->frames_seen = 0;
    env = pump_until(t, REFNET__ENVELOPE__BODY__NOT_SET, 900, on_frame_bye_unseen);
    assert_null(env);
    assert_int_equal(t->frames_seen, 0);
    assert_false(link_connected(t->link));
    assert_int_equal(link_stats(t->link)->byes, 1);
    /* After it, a new connection says Hello. */
    env = pump_until(t, REFNET__ENVELOPE__BODY_HELLO, 4000, on_frame_bye_unseen);
    assert_non_null(env);
    assert_true(clock_mono_ms() - sent >= 1500);
    pbuf_destroy(&env);
}

/* Hello, then a Welcome (batches or not), and a first Ping: a session is up. */
static void
start_session(t_t *t, bool batches)
{
    pbuf_t *env = pump_until(t, REFNET__ENVELOPE__BODY_HELLO, 3000, NULL);
    assert_non_null(env);
    pbuf_destroy(&env);
    send_welcome_batches(t, batches);
    env = pump_until(t, REFNET__ENVELOPE__BODY_PING, 2000, on_frame_session);
    assert_non_null(env);
    pbuf_destroy(&env);
    assert_true(link_connected(t->link));
}

/* Makes *env a Mail{receipt} to `to` about a new msg_id (`of`) that `recipient` received, for
 * a handoff no node here knows; *mail and *r hold its parts. */
static void
receipt_mail(Refnet__Envelope *env,
             Refnet__Mail *mail,
             Refnet__Receipt *r,
             uint8_t of[UID_MSGID_LEN],
             const char *to,
             const char *recipient)
{
    uid_msgid(of);
    r->msg_id = (ProtobufCBinaryData){ UID_MSGID_LEN, of };
    r->recipient = (char *)recipient;
    r->handoff_id = (char *)"00000000-0000-4000-8000-000000000009";
    mail->to = (char *)to;
    mail->content_case = REFNET__MAIL__CONTENT_RECEIPT;
    mail->receipt = r;
    env->body_case = REFNET__ENVELOPE__BODY_MAIL;
    env->mail = mail;
}

/* A delivery as the broker makes it: Mail{receipt} for a handoff this node does not know
 * (applied as a no-op, recorded as seen and acknowledged like any mail). */
static uint8_t *
encode_delivery(uint8_t id[UID_MSGID_LEN], size_t *len)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__Receipt r = REFNET__RECEIPT__INIT;
    uint8_t of[UID_MSGID_LEN];
    receipt_mail(&env, &mail, &r, of, "harbor", "lighthouse");
    return encode(&env, id, len);
}

/* Reads envelopes from the link (at most 3 s) until `want` came or were refused, applies
 * them in one inbound batch and commits, as the node's loop does. Returns how many were
 * refused; the batch's acks are in b. */
static int
recv_and_apply(t_t *t, inbound_batch_t *b, inbound_stats_t *stats, int want)
{
    char why[WIRE_WHY_LEN];
    int got = 0, bad = 0;
    uint64_t end = clock_mono_ms() + 3000;
    MDB_txn *txn = nfx_begin(t->fx, false);
    assert_non_null(txn);
    inbound_begin(b, t->fx->st, txn, t->link, "harbor", stats, clock_now_ms(), clock_mono_ms());
    while (got + bad < want && clock_mono_ms() < end) {
        zmq_pollitem_t item = { link_socket(t->link), 0, ZMQ_POLLIN, 0 };
        if (!link_backlog(t->link))
            zmq_poll(&item, 1, 10);
        pbuf_t *in = NULL;
        int rc;
        while (got + bad < want && (rc = link_recv(t->link, clock_mono_ms(), &in, why)) != 1) {
            if (rc == 0)
                inbound_envelope(b, (const Refnet__Envelope *)pbuf_msg(in));
            got += rc == 0;
            bad += rc < 0;
            pbuf_destroy(&in);
        }
    }
    assert_int_equal(got + bad, want);
    assert_int_equal(b->failed, 0);
    assert_int_equal(store_commit(&txn), 0);
    return bad;
}

/* A Batch of deliveries with bad items among them: each good item is applied once and
 * acknowledged, each bad one refused alone; the same batch again is all duplicates, still
 * acknowledged. */
static void
test_batch_items_applied_once(void **state)
{
    t_t *t = *state;
    inbound_batch_t *b = xcalloc(1, sizeof *b);
    inbound_stats_t stats = { 0 };
    uint8_t ids[3][UID_MSGID_LEN], nested_ids[2][UID_MSGID_LEN];
    uint8_t *items[5], *inner[2], garbage[] = { 0xff, 0xff, 0xff, 0x01 };
    size_t lens[5], inner_lens[2];
    start_session(t, true);
    uint64_t frames_before = link_stats(t->link)->frames_in;

    /* [mail, garbage, mail, a batch inside the batch, mail] */
    items[0] = encode_delivery(ids[0], &lens[0]);
    items[1] = garbage;
    lens[1] = sizeof garbage;
    items[2] = encode_delivery(ids[1], &lens[2]);
    inner[0] = encode_delivery(nested_ids[0], &inner_lens[0]);
    inner[1] = encode_delivery(nested_ids[1], &inner_lens[1]);
    wire_batch_t nb;
    wire_batch_init(&nb);
    wire_batch_add(&nb, inner[0], inner_lens[0]);
    wire_batch_add(&nb, inner[1], inner_lens[1]);
    assert_int_equal(wire_batch_encode(&nb, NULL, &items[3], &lens[3]), 0);
    items[4] = encode_delivery(ids[2], &lens[4]);
    broker_send_batch(t, items, lens, 5);

    assert_int_equal(recv_and_apply(t, b, &stats, 5), 2);
    assert_int_equal(stats.receipts + stats.mail_applied, 0); /* no such handoff here */
    assert_int_equal(b->nacks, 3);
    for (size_t i = 0; i < 3; i++)
        assert_memory_equal(b->acks[i], ids[i], UID_MSGID_LEN);
    const link_stats_t *ls = link_stats(t->link);
    assert_int_equal(ls->frames_in - frames_before, 1);
    assert_int_equal(ls->batches_in, 1);
    assert_int_equal(ls->bad_items, 2);
    assert_false(link_backlog(t->link));
    assert_int_equal(nfx_count(t->fx, NODEDB_SEEN), 3);
    MDB_txn *txn = nfx_begin(t->fx, true);
    for (size_t i = 0; i < 2; i++) /* the nested batch's items were never applied */
        assert_int_equal(seen_has(txn, t->fx->st, nested_ids[i], UID_MSGID_LEN), 0);
    store_abort(&txn);

    /* The acks reach the broker in one Ack. */
    link_send_acks(t->link, (const uint8_t(*)[16])b->acks, b->nacks);
    pbuf_t *env = pump_until(t, REFNET__ENVELOPE__BODY_ACK, 2000, NULL);
    assert_non_null(env);
    const Refnet__Ack *ack = ((const Refnet__Envelope *)pbuf_msg(env))->ack;
    assert_int_equal(ack->n_msg_ids, 3);
    for (size_t i = 0; i < 3; i++)
        assert_memory_equal(ack->msg_ids[i].data, ids[i], UID_MSGID_LEN);
    pbuf_destroy(&env);

    /* Delivered again (a redelivery after a reconnect): dropped, acknowledged all the same. */
    send_welcome_batches(t, true);
    broker_send_batch(t, items, lens, 5);
    assert_int_equal(recv_and_apply(t, b, &stats, 6), 2);
    assert_int_equal(stats.mail_duplicate, 3);
    assert_int_equal(b->nacks, 3);
    assert_int_equal(nfx_count(t->fx, NODEDB_SEEN), 3);

    for (size_t i = 0; i < 5; i++)
        if (i != 1)
            free(items[i]);
    free(inner[0]);
    free(inner[1]);
    free(b);
}

/* A Bye inside a batch ends the session there: the items after it are dropped. */
static void
test_bye_in_a_batch(void **state)
{
    t_t *t = *state;
    char why[WIRE_WHY_LEN];
    uint8_t id[3][UID_MSGID_LEN], *items[3];
    size_t lens[3];
    Refnet__Envelope p = REFNET__ENVELOPE__INIT, e = REFNET__ENVELOPE__INIT;
    Refnet__Pong pong = REFNET__PONG__INIT;
    Refnet__Bye bye = REFNET__BYE__INIT;
    p.body_case = REFNET__ENVELOPE__BODY_PONG;
    p.pong = &pong;
    bye.reason = (char *)"maintenance";
    bye.retry_after_ms = 5000;
    e.body_case = REFNET__ENVELOPE__BODY_BYE;
    e.bye = &bye;
    start_session(t, true);
    items[0] = encode(&p, id[0], &lens[0]);
    items[1] = encode(&e, id[1], &lens[1]);
    items[2] = encode(&p, id[2], &lens[2]);
    broker_send_batch(t, items, lens, 3);

    pbuf_t *in = NULL;
    int rc = 1;
    for (int i = 0; i < 300 && rc == 1; i++) {
        zmq_pollitem_t item = { link_socket(t->link), 0, ZMQ_POLLIN, 0 };
        zmq_poll(&item, 1, 10);
        rc = link_recv(t->link, clock_mono_ms(), &in, why);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(((const Refnet__Envelope *)pbuf_msg(in))->body_case,
                     REFNET__ENVELOPE__BODY_PONG);
    pbuf_destroy(&in);
    assert_true(link_backlog(t->link));
    assert_int_equal(link_recv(t->link, clock_mono_ms(), &in, why), 1); /* the Bye */
    assert_null(in);
    assert_false(link_backlog(t->link));
    assert_int_equal(link_recv(t->link, clock_mono_ms(), &in, why), 1);
    assert_false(link_connected(t->link));
    assert_int_equal(link_stats(t->link)->byes, 1);
    for (size_t i = 0; i < 3; i++)
        free(items[i]);
}

/* Queues `n` withdraws, their msg_ids into t->ids in key order. */
static void
queue_items(t_t *t, size_t n)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirWithdraw wd = REFNET__DIR_WITHDRAW__INIT;
    wd.service_id = (char *)"s1";
    env.body_case = REFNET__ENVELOPE__BODY_WITHDRAW;
    env.withdraw = &wd;
    MDB_txn *txn = nfx_begin(t->fx, false);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(outbox_add(txn, t->fx->st, &env, NULL, 1, t->ids[i], NULL), 0);
    assert_int_equal(store_commit(&txn), 0);
}

/* Checks that `env` is a Batch of the withdraws t->ids[first .. first + n - 1], in order. */
static void
assert_batch_of_items(t_t *t, const pbuf_t *env, size_t first, size_t n)
{
    char why[WIRE_WHY_LEN];
    const Refnet__Batch *batch = ((const Refnet__Envelope *)pbuf_msg(env))->batch;
    assert_int_equal(batch->n_envelopes, n);
    for (size_t i = 0; i < n; i++) {
        pbuf_t *item = NULL;
        assert_int_equal(
            wire_decode_item(batch->envelopes[i].data, batch->envelopes[i].len, &item, why), 0);
        const Refnet__Envelope *e = (const Refnet__Envelope *)pbuf_msg(item);
        assert_int_equal(e->body_case, REFNET__ENVELOPE__BODY_WITHDRAW);
        assert_memory_equal(e->msg_id.data, t->ids[first + i], UID_MSGID_LEN);
        pbuf_destroy(&item);
    }
}

/* Sends a Batch of OK Results for t->ids[first .. first + n - 1]. */
static void
answer_items(t_t *t, size_t first, size_t n)
{
    uint8_t *items[N_ITEMS], id[N_ITEMS][UID_MSGID_LEN];
    size_t lens[N_ITEMS];
    for (size_t i = 0; i < n; i++) {
        Refnet__Envelope r = REFNET__ENVELOPE__INIT;
        Refnet__Result res = REFNET__RESULT__INIT;
        res.ref = (ProtobufCBinaryData){ UID_MSGID_LEN, t->ids[first + i] };
        r.body_case = REFNET__ENVELOPE__BODY_RESULT;
        r.result = &res;
        items[i] = encode(&r, id[i], &lens[i]);
    }
    broker_send_batch(t, items, lens, n);
    for (size_t i = 0; i < n; i++)
        free(items[i]);
}

/* Outbox items go one a frame to a broker that did not say it takes batches, and share
 * frames once a Welcome says it does; the window still counts items. */
static void
test_outbox_packed_only_with_batches(void **state)
{
    t_t *t = *state;
    t->answer_pings = true; /* a slow run must not read as broker silence */
    start_session(t, false);
    queue_items(t, N_ITEMS);
    for (size_t i = 0; i < NODE_OUTBOX_WINDOW; i++) {
        pbuf_t *env = pump_until(t, REFNET__ENVELOPE__BODY_WITHDRAW, 2000, on_frame_session);
        assert_non_null(env);
        assert_memory_equal(((Refnet__Envelope *)pbuf_msg(env))->msg_id.data, t->ids[i],
                            UID_MSGID_LEN);
        pbuf_destroy(&env);
    }
    assert_int_equal(t->batches_seen, 0);
    assert_int_equal(link_stats(t->link)->batches_out, 0);
    assert_int_equal(link_stats(t->link)->sent, NODE_OUTBOX_WINDOW);

    /* A Welcome that says the broker takes batches (here on the same connection, so nothing
     * is sent again); the answers, themselves a batch, free the window, and the rest follow
     * in one frame. */
    send_welcome_batches(t, true);
    answer_items(t, 0, NODE_OUTBOX_WINDOW);
    pbuf_t *env = pump_until(t, REFNET__ENVELOPE__BODY_BATCH, 2000, on_frame_session);
    assert_non_null(env);
    assert_batch_of_items(t, env, NODE_OUTBOX_WINDOW, N_ITEMS - NODE_OUTBOX_WINDOW);
    pbuf_destroy(&env);
    const link_stats_t *ls = link_stats(t->link);
    assert_int_equal(ls->batches_out, 1);
    assert_int_equal(ls->sent, N_ITEMS);
    /* One frame carried the last items; every other frame one. */
    assert_int_equal(ls->envelopes_out, ls->frames_out - 1 + (N_ITEMS - NODE_OUTBOX_WINDOW));
}

/* Frames the link hands over while items wait: "queue full" keeps them for a later try. */
static void
on_frame_queue_full(t_t *t, const Refnet__Envelope *env)
{
    if (env->body_case == REFNET__ENVELOPE__BODY_RESULT)
        link_retry_later(t->link, &env->result->ref, clock_mono_ms());
    else
        on_frame_session(t, env);
}

/* Items the broker asked to retry are resent together, in one frame, oldest first. */
static void
test_resend_packed(void **state)
{
    t_t *t = *state;
    t->answer_pings = true;
    start_session(t, true);
    queue_items(t, 3);
    pbuf_t *env = pump_until(t, REFNET__ENVELOPE__BODY_BATCH, 2000, on_frame_session);
    assert_non_null(env);
    assert_batch_of_items(t, env, 0, 3);
    pbuf_destroy(&env);

    /* "Queue full" for all three: after NODE_RETRY_MS they go again, still one frame. */
    uint8_t *items[3], id[3][UID_MSGID_LEN];
    size_t lens[3];
    for (size_t i = 0; i < 3; i++) {
        Refnet__Envelope r = REFNET__ENVELOPE__INIT;
        Refnet__Result res = REFNET__RESULT__INIT;
        res.ref = (ProtobufCBinaryData){ UID_MSGID_LEN, t->ids[i] };
        res.status = REFNET__STATUS__STATUS_QUEUE_FULL;
        r.body_case = REFNET__ENVELOPE__BODY_RESULT;
        r.result = &res;
        items[i] = encode(&r, id[i], &lens[i]);
    }
    broker_send_batch(t, items, lens, 3);
    for (size_t i = 0; i < 3; i++)
        free(items[i]);
    uint64_t asked = clock_mono_ms();
    env = pump_until(t, REFNET__ENVELOPE__BODY_BATCH, NODE_RETRY_MS + 2000, on_frame_queue_full);
    assert_non_null(env);
    assert_true(clock_mono_ms() - asked >= NODE_RETRY_MS - 100);
    assert_batch_of_items(t, env, 0, 3);
    pbuf_destroy(&env);
    assert_true(link_connected(t->link));
    assert_int_equal(link_stats(t->link)->sent, 3);
    assert_int_equal(link_stats(t->link)->resent, 3);
    assert_int_equal(link_stats(t->link)->batches_out, 2);
}

/* Head of line: mail for a recipient whose mailbox is full must not hold up mail for others. */
#define HOL_FULL (NODE_OUTBOX_WINDOW + 2) /* mails to the full recipient: more than a window */
#define HOL_FREE 8                        /* mails to another recipient, queued between */

/* Queues a mail (a receipt, which the stand-in never opens) to `to`; its msg_id into `id`. */
static void
queue_mail(t_t *t, const char *to, uint8_t id[UID_MSGID_LEN])
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__Receipt r = REFNET__RECEIPT__INIT;
    uint8_t of[UID_MSGID_LEN];
    receipt_mail(&env, &mail, &r, of, to, "harbor");
    MDB_txn *txn = nfx_begin(t->fx, false);
    assert_int_equal(outbox_add(txn, t->fx->st, &env, NULL, 1, id, NULL), 0);
    assert_int_equal(store_commit(&txn), 0);
}

/* The node's side of answers: "queue full" keeps the item for later, OK settles it (it leaves
 * the window and the outbox, as inbound.c does). */
static void
on_frame_settle(t_t *t, const Refnet__Envelope *env)
{
    if (env->body_case != REFNET__ENVELOPE__BODY_RESULT) {
        on_frame_session(t, env);
        return;
    }
    const Refnet__Result *r = env->result;
    if (r->status == REFNET__STATUS__STATUS_QUEUE_FULL) {
        link_retry_later(t->link, &r->ref, clock_mono_ms());
        return;
    }
    assert_true(link_on_answer(t->link, &r->ref));
    uint64_t key = 0;
    MDB_txn *txn = nfx_begin(t->fx, false);
    assert_int_equal(outbox_find(txn, t->fx->st, r->ref.data, r->ref.len, &key), 0);
    assert_int_equal(outbox_remove(txn, t->fx->st, key), 0);
    assert_int_equal(store_commit(&txn), 0);
}

/* Waits (at most `ms`) for the next mail at the stand-in broker and answers it: "queue full"
 * for recipient "full" while `full`, else OK. Copies its msg_id to `id` and returns whether
 * it was for "full"; fails the test when none comes. */
static bool
broker_take_mail(t_t *t, bool full, int ms, uint8_t id[UID_MSGID_LEN])
{
    pbuf_t *env = pump_until(t, REFNET__ENVELOPE__BODY_MAIL, ms, on_frame_settle);
    assert_non_null(env);
    const Refnet__Envelope *e = (const Refnet__Envelope *)pbuf_msg(env);
    bool for_full = strcmp(e->mail->to, "full") == 0;
    memcpy(id, e->msg_id.data, UID_MSGID_LEN);
    pbuf_destroy(&env);
    Refnet__Envelope r = REFNET__ENVELOPE__INIT;
    Refnet__Result res = REFNET__RESULT__INIT;
    res.ref = (ProtobufCBinaryData){ UID_MSGID_LEN, id };
    res.status = full && for_full ? REFNET__STATUS__STATUS_QUEUE_FULL : REFNET__STATUS__STATUS_OK;
    r.body_case = REFNET__ENVELOPE__BODY_RESULT;
    r.result = &res;
    broker_send(t, &r);
    return for_full;
}

/* More than a window of mail waits for a full recipient, queued before mail for another: the
 * other's mail all goes out at once; the full recipient's waits out of the window and, once
 * its mailbox has room, arrives exactly once and in order, the mail queued behind the
 * refused ones included. */
static void
test_full_recipient_holds_up_no_other(void **state)
{
    t_t *t = *state;
    uint8_t full_ids[HOL_FULL][UID_MSGID_LEN], free_ids[HOL_FREE][UID_MSGID_LEN];
    uint8_t id[UID_MSGID_LEN];
    size_t nfree = 0, nfull = 0;
    t->answer_pings = true;
    start_session(t, false);
    for (size_t i = 0; i < NODE_OUTBOX_WINDOW; i++)
        queue_mail(t, "full", full_ids[i]);
    for (size_t i = 0; i < HOL_FREE; i++)
        queue_mail(t, "free", free_ids[i]);
    for (size_t i = NODE_OUTBOX_WINDOW; i < HOL_FULL; i++)
        queue_mail(t, "full", full_ids[i]);
    uint64_t start = clock_mono_ms();
    link_pump(t->link, t->fx->st, start);
    /* A window of "full" mail is refused; the "free" mail follows before any retry. */
    while (nfree < HOL_FREE) {
        if (broker_take_mail(t, true, 2000, id)) {
            assert_memory_equal(id, full_ids[nfull], UID_MSGID_LEN);
            nfull++;
        } else {
            assert_memory_equal(id, free_ids[nfree], UID_MSGID_LEN);
            nfree++;
        }
    }
    assert_true(clock_mono_ms() - start < NODE_RETRY_MS);
    /* The two queued behind the refused ones were not sent into a full mailbox. */
    assert_int_equal(nfull, NODE_OUTBOX_WINDOW);
    assert_int_equal(link_stats(t->link)->sent, NODE_OUTBOX_WINDOW + HOL_FREE);
    /* The mailbox has room again: every "full" mail comes once more, oldest first, and the
     * two that waited behind them after them. */
    for (size_t i = 0; i < HOL_FULL; i++) {
        assert_true(broker_take_mail(t, false, NODE_RETRY_MS + 3000, id));
        assert_memory_equal(id, full_ids[i], UID_MSGID_LEN);
    }
    assert_null(pump_until(t, REFNET__ENVELOPE__BODY_MAIL, 300, on_frame_settle));
    const link_stats_t *ls = link_stats(t->link);
    assert_int_equal(ls->sent, HOL_FULL + HOL_FREE);
    assert_int_equal(ls->resent, NODE_OUTBOX_WINDOW);
    MDB_txn *txn = nfx_begin(t->fx, true);
    uint64_t key = 0;
    pbuf_t *pb = NULL;
    assert_int_equal(outbox_next(txn, t->fx->st, 0, &key, &pb), REFNET_ENOTFOUND);
    store_abort(&txn);
}

int
main(void)
{
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_session_pump_and_resend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silence_keeps_the_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_connection_says_hello, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bye_waits_then_reconnects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_items_applied_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bye_in_a_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox_packed_only_with_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resend_packed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_recipient_holds_up_no_other, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
