/* Unit tests of link: the session with a stand-in broker (a CURVE server ROUTER in this
 * process, on a loopback port chosen at run time): Hello on connect, Welcome, the outbox
 * pump and its answers, Pings, resending after a new Welcome, and liveness. */
#include "test_node_fixture.h"

#include <czmq.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "link.h"
#include "outbox.h"
#include "wire.h"

#define HB_MS 100

typedef struct {
    nfx_t *fx;
    zcert_t *server_cert, *client_cert;
    zsock_t *router;
    link_t *link;
    zframe_t *rid; /* the node's routing id at the stand-in broker */
    uint8_t item_id[UID_MSGID_LEN];
    int frames_seen; /* frames the stand-in broker received */
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
        if (((const Refnet__Envelope *)pbuf_msg(env))->body_case == want)
            return env;
        pbuf_destroy(&env);
    }
    return NULL;
}

/* Sends `env` from the stand-in broker to the node. */
static void
broker_send(t_t *t, Refnet__Envelope *env)
{
    uint8_t id[UID_MSGID_LEN], *bytes = NULL;
    size_t len = 0;
    wire_stamp(env, id);
    assert_int_equal(wire_encode(env, &bytes, &len), 0);
    zmsg_t *msg = zmsg_new();
    zmsg_append(msg, &(zframe_t *){ zframe_dup(t->rid) });
    zmsg_addmem(msg, bytes, len);
    assert_int_equal(zmsg_send(&msg, t->router), 0);
    free(bytes);
}

static void
send_welcome(t_t *t)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Welcome w = REFNET__WELCOME__INIT;
    w.agency_id = (char *)"harbor";
    w.heartbeat_ms = HB_MS;
    env.body_case = REFNET__ENVELOPE__BODY_WELCOME;
    env.welcome = &w;
    broker_send(t, &env);
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

    /* A new Welcome (a new session) sends the unanswered item again. */
    send_welcome(t);
    env = pump_until(t, REFNET__ENVELOPE__BODY_WITHDRAW, 3000, on_frame_session);
    assert_non_null(env);
    assert_memory_equal(((Refnet__Envelope *)pbuf_msg(env))->msg_id.data, t->item_id,
                        UID_MSGID_LEN);
    pbuf_destroy(&env);
    assert_int_equal(link_stats(t->link)->sent, 2);

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

static void
test_silence_ends_the_session(void **state)
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
    /* The stand-in broker stops answering: after three heartbeats the link says Hello
     * again. */
    env = pump_until(t, REFNET__ENVELOPE__BODY_HELLO, 3000, NULL);
    assert_non_null(env);
    pbuf_destroy(&env);
    assert_false(link_connected(t->link));
    assert_int_equal(link_stats(t->link)->lost, 1);
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

int
main(void)
{
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_session_pump_and_resend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silence_ends_the_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bye_waits_then_reconnects, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
