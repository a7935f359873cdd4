/* Unit tests of broker/pump over an inproc ROUTER/DEALER pair: deliveries stop at the window
 * and resume after acks, a catch-up ends with DirSyncDone at the head, a peer whose pipe is
 * full gets a catch-up instead of a gap, and a vanished peer loses its session. */
#include "test_broker_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dirhub.h"
#include "mailbox.h"
#include "presence.h"
#include "pump.h"

#define T0 1800000000000ULL

typedef struct {
    fx_t *fx;
    mailbox_t *mb;
    presence_t *presence;
    counters_t counters;
    zsock_t *router, *dealer;
    pump_ctx_t pump;
    presence_peer_t *peer;
} ctx_t;

static char food[] = "food";
static char *tax_food[] = { food };

static int
setup(void **state)
{
    static int n = 0;
    char ep[64];
    ctx_t *c = xcalloc(1, sizeof *c);
    mailbox_config_t cfg = { .max_queue = 100,
                             .default_ttl_ms = 60000,
                             .done_retention_ms = 60000 };
    c->fx = fx_new();
    if (!c->fx)
        return -1;
    c->mb = mailbox_new(c->fx->store, &cfg);
    c->presence = presence_new(1000);
    snprintf(ep, sizeof ep, "inproc://pump-test-%d", n++);
    c->router = zsock_new(ZMQ_ROUTER);
    zsock_set_router_mandatory(c->router, 1);
    zsock_set_sndhwm(c->router, 4);
    if (zsock_bind(c->router, "%s", ep) != 0)
        return -1;
    c->dealer = zsock_new(ZMQ_DEALER);
    zsock_set_identity(c->dealer, "peer1");
    zsock_set_rcvhwm(c->dealer, 4);
    zsock_set_rcvtimeo(c->dealer, 1000);
    zsock_connect(c->dealer, "%s", ep);
    c->pump = (pump_ctx_t){ c->fx->store, c->mb, c->presence, zsock_resolve(c->router),
                            &c->counters, 3,     NULL };
    c->peer = presence_touch(c->presence, "a", (const uint8_t *)"peer1", 5, T0, 1);
    *state = c;
    return 0;
}

static int
teardown(void **state)
{
    ctx_t *c = *state;
    zsock_destroy(&c->dealer);
    zsock_destroy(&c->router);
    presence_destroy(&c->presence);
    mailbox_destroy(&c->mb);
    fx_destroy(&c->fx);
    free(c);
    return 0;
}

/* Queues message number `tag` (one byte) for agency "a". */
static void
queue(ctx_t *c, uint8_t tag)
{
    MDB_txn *txn = NULL;
    uint8_t id[16], frame[1] = { tag };
    uint64_t qseq;
    uid_msgid(id);
    mailbox_item_t item = {
        .to = "a", .sender = "b", .msg_id = id, .frame = frame, .len = 1, .handoff_id = ""
    };
    assert_int_equal(store_begin(c->fx->store, false, &txn), 0);
    assert_int_equal(mailbox_enqueue(c->mb, txn, &item, T0, &qseq), 0);
    assert_int_equal(store_commit(&txn), 0);
}

/* Receives up to `max` frames without waiting long; returns how many, first bytes in tags. */
static size_t
drain(ctx_t *c, uint8_t *tags, size_t max)
{
    size_t n = 0;
    zsock_set_rcvtimeo(c->dealer, 100);
    while (n < max) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        int rc = zmq_msg_recv(&m, zsock_resolve(c->dealer), 0);
        if (rc < 0) {
            zmq_msg_close(&m);
            break;
        }
        tags[n++] = zmq_msg_size(&m) ? ((uint8_t *)zmq_msg_data(&m))[0] : 0;
        zmq_msg_close(&m);
    }
    return n;
}

static void
test_window_and_acks(void **state)
{
    ctx_t *c = *state;
    uint8_t tags[16];
    for (uint8_t i = 1; i <= 5; i++)
        queue(c, i);
    pump_peer(&c->pump, c->peer, T0, 20);
    assert_int_equal(drain(c, tags, 16), 3);
    assert_int_equal(tags[0], 1);
    assert_int_equal(tags[2], 3);
    assert_int_equal(c->peer->inflight, 3);
    assert_int_equal(c->peer->cursor, 3);
    assert_false(c->peer->pending);
    pump_peer(&c->pump, c->peer, T0, 20);
    assert_int_equal(drain(c, tags, 16), 0); /* the window is full */
    presence_acked(c->peer, 2, 5);
    assert_true(pump_all(&c->pump, T0, 20) == false);
    assert_int_equal(drain(c, tags, 16), 2);
    assert_int_equal(tags[0], 4);
    assert_int_equal(tags[1], 5);
    assert_int_equal(c->counters.delivered, 5);
    assert_int_equal(c->counters.redelivered, 0);

    /* A restart (reconnect) sends everything not yet acknowledged again, in order. */
    presence_restart(c->peer, 10);
    pump_peer(&c->pump, c->peer, T0, 20);
    assert_int_equal(drain(c, tags, 16), 3);
    assert_int_equal(tags[0], 1);
    assert_int_equal(c->counters.redelivered, 3);

    /* No ack within the redelivery time: the same. */
    pump_timeouts(&c->pump, 20 + 29999, 30000);
    assert_false(c->peer->pending);
    pump_timeouts(&c->pump, 20 + 30000, 30000);
    assert_true(c->peer->pending);
    assert_int_equal(c->peer->cursor, 0);

    /* After a long quiet time, the timer starts at the first new send, not before. */
    presence_acked(c->peer, 5, 40000);
    c->peer->cursor = 5;
    queue(c, 6);
    pump_peer(&c->pump, c->peer, T0, 100000);
    assert_int_equal(drain(c, tags, 16), 1);
    assert_int_equal(tags[0], 6);
    pump_timeouts(&c->pump, 100000 + 29999, 30000);
    assert_false(c->peer->pending);
    pump_timeouts(&c->pump, 100000 + 30000, 30000);
    assert_true(c->peer->pending);
}

static void
test_catch_up_ends_at_head(void **state)
{
    ctx_t *c = *state;
    MDB_txn *txn = NULL;
    uint64_t seq;
    const char *why;
    char ids[3][4] = { "s0", "s1", "s2" };
    assert_int_equal(store_begin(c->fx->store, false, &txn), 0);
    for (int i = 0; i < 3; i++) {
        Refnet__Service svc = fx_service(ids[i], "Svc", tax_food);
        assert_int_equal(dirhub_publish(c->fx->store, txn, "x", &svc, T0, &seq, &why), 0);
    }
    assert_int_equal(store_commit(&txn), 0);
    c->peer->syncing = true;
    c->peer->sync_after = 1;
    pump_peer(&c->pump, c->peer, T0, 20);
    assert_false(c->peer->syncing);
    uint64_t got[4] = { 0 };
    zsock_set_rcvtimeo(c->dealer, 200);
    for (int i = 0; i < 3; i++) {
        zmq_msg_t m;
        pbuf_t *pb = NULL;
        zmq_msg_init(&m);
        assert_true(zmq_msg_recv(&m, zsock_resolve(c->dealer), 0) > 0);
        assert_int_equal(wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), &pb, NULL), 0);
        const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
        got[i] = env->body_case == REFNET__ENVELOPE__BODY_UPDATE ? env->update->seq
                                                                 : 100 + env->sync_done->seq;
        pbuf_destroy(&pb);
        zmq_msg_close(&m);
    }
    assert_int_equal(got[0], 2);
    assert_int_equal(got[1], 3);
    assert_int_equal(got[2], 103); /* DirSyncDone{3} */
}

/* Compaction raising the horizon restarts, as a snapshot, every catch-up that still needs the
 * log from below it, and only those. */
static void
test_raised_horizon_turns_catch_up_into_snapshot(void **state)
{
    ctx_t *c = *state;
    presence_peer_t *b = presence_touch(c->presence, "b", (const uint8_t *)"peer2", 5, T0, 1);
    presence_peer_t *d = presence_touch(c->presence, "d", (const uint8_t *)"peer3", 5, T0, 1);
    c->peer->syncing = true; /* from the log, after 5 */
    c->peer->sync_after = 5;
    c->peer->pending = false;
    b->syncing = true; /* from the log, after 20: needs nothing below 10 */
    b->sync_after = 20;
    d->syncing = true; /* a snapshot whose tail starts at 7 */
    d->snapshot = true;
    d->snap_begun = true;
    d->snap_seq = 7;
    snprintf(d->snap_after, sizeof d->snap_after, "%s", "s4");
    assert_int_equal(pump_horizon_raised(&c->pump, 10), 2);
    assert_true(c->peer->snapshot);
    assert_false(c->peer->snap_begun);
    assert_true(c->peer->pending);
    assert_false(b->snapshot);
    assert_true(d->snapshot);
    assert_false(d->snap_begun);
    assert_string_equal(d->snap_after, "");
    /* Nothing more below the same horizon; a peer not catching up is never touched. */
    assert_int_equal(pump_horizon_raised(&c->pump, 10), 0);
    b->syncing = false;
    assert_int_equal(pump_horizon_raised(&c->pump, 100), 0);
    assert_false(b->snapshot);
}

static void
test_full_pipe_turns_fanout_into_catch_up(void **state)
{
    ctx_t *c = *state;
    uint8_t frame[1] = { 1 };
    int i = 0;
    while (!c->peer->syncing && i < 1000)
        pump_fanout(&c->pump, frame, sizeof frame, (uint64_t)++i);
    assert_true(c->peer->syncing);
    assert_int_equal(c->peer->sync_after, (uint64_t)i - 1);
    assert_true(c->peer->pending);
    assert_true(c->counters.peer_busy >= 1);
    /* While a catch-up runs, fan-out skips the peer: the catch-up reads the log live. */
    uint64_t before = c->counters.dir_updates;
    pump_fanout(&c->pump, frame, sizeof frame, (uint64_t)i + 1);
    assert_int_equal(c->counters.dir_updates, before);
}

static void
test_vanished_peer_loses_its_session(void **state)
{
    ctx_t *c = *state;
    queue(c, 1);
    presence_peer_t *ghost = presence_touch(c->presence, "g", (const uint8_t *)"nobody", 6, T0, 1);
    (void)ghost;
    uint8_t frame[1] = { 1 };
    pump_fanout(&c->pump, frame, 1, 1);
    ghost = presence_get(c->presence, "g");
    assert_int_equal(ghost->rid_len, 0);
    assert_int_equal(c->counters.peer_gone, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_window_and_acks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catch_up_ends_at_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_pipe_turns_fanout_into_catch_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vanished_peer_loses_its_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raised_horizon_turns_catch_up_into_snapshot, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
