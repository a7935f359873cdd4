/* test_broker_session: a real broker in a thread and minimal agencies talking to it.
 *
 * Shared by the broker's whole-process tests (test_broker.c, test_intake.c): each test
 * gets a new broker folder with agencies "a1" and "a2" enrolled and the broker running in a
 * thread on a free loopback port; agencies are CURVE DEALER sockets that speak the node
 * protocol frame by frame, exactly as refnet-node does. */
#ifndef REFNET_TEST_BROKER_SESSION_H
#define REFNET_TEST_BROKER_SESSION_H

#include "test_broker_fixture.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "broker.h"
#include "broker_limits.h"
#include "keys.h"
#include "path.h"
#include "refnet_error.h"
#include "setup.h"

/* How long a test waits for something that must arrive, and for something that must not. */
#define WAIT_MS  3000
#define QUIET_MS 400

typedef struct {
    char dir[64];
    char broker_key[KEYS_Z85_LEN];
    char endpoint[BROKER_MAX_ENDPOINT];
    zcert_t *a1, *a2; /* enrolled as "a1" and "a2" */
    broker_t *broker;
    pthread_t thread;
    atomic_int stop;
    bool running;
    size_t map_size_mb;
} ctx_t;

static inline void *
run_broker(void *arg)
{
    ctx_t *c = arg;
    broker_run(c->broker);
    return NULL;
}

static inline void
start_broker(ctx_t *c)
{
    broker_config_t cfg;
    broker_config_defaults(&cfg);
    cfg.map_size_mb = c->map_size_mb ? c->map_size_mb : FX_MAP_MB;
    cfg.heartbeat_ms = 200;
    cfg.bind = "tcp://127.0.0.1:*";
    cfg.stop = &c->stop;
    atomic_store(&c->stop, 0);
    assert_int_equal(broker_open(&c->broker, c->dir, &cfg), 0);
    snprintf(c->endpoint, sizeof c->endpoint, "%s", broker_endpoint(c->broker));
    assert_non_null(strstr(c->endpoint, "tcp://127.0.0.1:"));
    assert_int_equal(pthread_create(&c->thread, NULL, run_broker, c), 0);
    c->running = true;
}

static inline void
stop_broker(ctx_t *c)
{
    if (!c->running)
        return;
    atomic_store(&c->stop, 1);
    pthread_join(c->thread, NULL);
    broker_destroy(&c->broker);
    c->running = false;
}

static inline int
enroll_cert(ctx_t *c, const char *id, zcert_t *cert)
{
    char why[WIRE_WHY_LEN];
    return setup_enroll(c->dir, id, NULL, zcert_public_txt(cert), FX_MAP_MB, why);
}

static inline int
setup(void **state)
{
    ctx_t *c = xcalloc(1, sizeof *c);
    char why[WIRE_WHY_LEN];
    snprintf(c->dir, sizeof c->dir, "/tmp/refnet-broker-test-XXXXXX");
    if (!mkdtemp(c->dir))
        return -1;
    if (setup_init(c->dir, NULL, FX_MAP_MB, c->broker_key, why) != 0)
        return -1;
    c->a1 = zcert_new();
    c->a2 = zcert_new();
    if (enroll_cert(c, "a1", c->a1) || enroll_cert(c, "a2", c->a2))
        return -1;
    *state = c;
    start_broker(c);
    return 0;
}

static inline int
teardown(void **state)
{
    ctx_t *c = *state;
    stop_broker(c);
    zcert_destroy(&c->a1);
    zcert_destroy(&c->a2);
    fx_rmrf(c->dir);
    free(c);
    return 0;
}

/* ---- a minimal node ----------------------------------------------------------------------- */

static inline zsock_t *
connect_as(ctx_t *c, zcert_t *cert, const char *endpoint)
{
    zsock_t *s = zsock_new(ZMQ_DEALER);
    assert_non_null(s);
    zcert_apply(cert, s);
    zsock_set_curve_serverkey(s, c->broker_key);
    zsock_set_linger(s, 0);
    assert_int_equal(zsock_connect(s, "%s", endpoint), 0);
    return s;
}

/* Encodes `env` under a new msg_id (`msg_id`) into *frame (caller frees). */
static inline void
encode_env(Refnet__Envelope *env, uint8_t msg_id[16], uint8_t **frame, size_t *len)
{
    wire_stamp(env, msg_id);
    assert_int_equal(wire_encode(env, frame, len), 0);
}

static inline void
send_env(zsock_t *s, Refnet__Envelope *env, uint8_t msg_id[16])
{
    uint8_t *frame = NULL;
    size_t len = 0;
    encode_env(env, msg_id, &frame, &len);
    assert_int_equal(zmq_send(zsock_resolve(s), frame, len, 0), (int)len);
    free(frame);
}

/* Sends the `n` encoded envelopes as one Batch frame: one group commit applies them all. */
static inline void
send_batch(zsock_t *s, uint8_t **frames, const size_t *lens, size_t n)
{
    wire_batch_t b;
    uint8_t *out = NULL;
    size_t len = 0;
    wire_batch_init(&b);
    for (size_t i = 0; i < n; i++) {
        assert_true(wire_batch_fits(&b, lens[i], WIRE_MAX_FRAME));
        wire_batch_add(&b, frames[i], lens[i]);
    }
    assert_int_equal(wire_batch_encode(&b, NULL, &out, &len), 0);
    assert_int_equal(zmq_send(zsock_resolve(s), out, len, 0), (int)len);
    free(out);
}

/* Receives envelopes until one with `body` arrives (others are skipped) or `ms` pass. */
static inline pbuf_t *
recv_body(zsock_t *s, Refnet__Envelope__BodyCase body, int ms)
{
    uint64_t deadline = clock_mono_ms() + (uint64_t)ms;
    while (clock_mono_ms() < deadline) {
        zsock_set_rcvtimeo(s, (int)(deadline - clock_mono_ms()) + 1);
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, zsock_resolve(s), 0) < 0) {
            zmq_msg_close(&m);
            return NULL;
        }
        pbuf_t *pb = NULL;
        int rc = wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), &pb, NULL);
        zmq_msg_close(&m);
        assert_int_equal(rc, 0);
        if (((Refnet__Envelope *)pbuf_msg(pb))->body_case == body)
            return pb;
        pbuf_destroy(&pb);
    }
    return NULL;
}

#define ENV(pb) ((Refnet__Envelope *)pbuf_msg(pb))

static inline void
send_hello(zsock_t *s)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Hello hello = REFNET__HELLO__INIT;
    uint8_t id[16];
    env.body_case = REFNET__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    send_env(s, &env, id);
}

/* Connects and completes Hello/Welcome as agency `who`. */
static inline zsock_t *
session(ctx_t *c, zcert_t *cert, const char *who)
{
    zsock_t *s = connect_as(c, cert, c->endpoint);
    send_hello(s);
    pbuf_t *pb = recv_body(s, REFNET__ENVELOPE__BODY_WELCOME, WAIT_MS);
    assert_non_null(pb);
    assert_string_equal(ENV(pb)->welcome->agency_id, who);
    assert_int_equal(ENV(pb)->welcome->heartbeat_ms, 200);
    pbuf_destroy(&pb);
    return s;
}

/* Waits for the Result answering `id`; returns its status (or -1 when none came). */
static inline int
result_for(zsock_t *s, const uint8_t id[16], uint64_t *seq, char *detail)
{
    uint64_t deadline = clock_mono_ms() + WAIT_MS;
    while (clock_mono_ms() < deadline) {
        pbuf_t *pb = recv_body(s, REFNET__ENVELOPE__BODY_RESULT, WAIT_MS);
        if (!pb)
            return -1;
        const Refnet__Result *r = ENV(pb)->result;
        if (r->ref.len == 16 && memcmp(r->ref.data, id, 16) == 0) {
            int st = (int)r->status;
            if (seq)
                *seq = r->seq;
            if (detail)
                snprintf(detail, WIRE_WHY_LEN, "%s", r->detail);
            pbuf_destroy(&pb);
            return st;
        }
        pbuf_destroy(&pb);
    }
    return -1;
}

static char food[] = "food";
static char *tax_food[] = { food };

static inline int
publish(zsock_t *s, const char *service_id, uint64_t *seq)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirPublish pub = REFNET__DIR_PUBLISH__INIT;
    Refnet__Service svc = fx_service(service_id, "Service", tax_food);
    uint8_t id[16];
    pub.service = &svc;
    env.body_case = REFNET__ENVELOPE__BODY_PUBLISH;
    env.publish = &pub;
    send_env(s, &env, id);
    return result_for(s, id, seq, NULL);
}

static inline int
withdraw(zsock_t *s, const char *service_id)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirWithdraw w = REFNET__DIR_WITHDRAW__INIT;
    uint8_t id[16];
    w.service_id = (char *)service_id;
    env.body_case = REFNET__ENVELOPE__BODY_WITHDRAW;
    env.withdraw = &w;
    send_env(s, &env, id);
    return result_for(s, id, NULL, NULL);
}

static const char *HANDOFF = "0b7f3d1e-8a55-4c2e-9d7f-1a2b3c4d5e6f";

/* Sends a handoff update as Mail; `id` receives its msg_id. Does not wait. */
static inline void
send_handoff(zsock_t *s,
             const char *to,
             const char *from,
             Refnet__HandoffStatus status,
             const char *reason,
             uint8_t id[16])
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__HandoffUpdate up = REFNET__HANDOFF_UPDATE__INIT;
    up.handoff_id = (char *)HANDOFF;
    up.service_id = (char *)"beds";
    up.status = status;
    up.reason = (char *)(reason ? reason : "");
    mail.to = (char *)to;
    mail.from = (char *)(from ? from : "");
    mail.content_case = REFNET__MAIL__CONTENT_HANDOFF;
    mail.handoff = &up;
    env.body_case = REFNET__ENVELOPE__BODY_MAIL;
    env.mail = &mail;
    send_env(s, &env, id);
}

/* Encodes an Ack of `msg_id` into *frame (caller frees). */
static inline void
encode_ack(const uint8_t *msg_id, uint8_t **frame, size_t *len)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Ack ack = REFNET__ACK__INIT;
    ProtobufCBinaryData ids[1] = { { 16, (uint8_t *)msg_id } };
    uint8_t id[16];
    ack.n_msg_ids = 1;
    ack.msg_ids = ids;
    env.body_case = REFNET__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    encode_env(&env, id, frame, len);
}

static inline void
send_ack(zsock_t *s, const uint8_t *msg_id)
{
    uint8_t *frame = NULL;
    size_t len = 0;
    encode_ack(msg_id, &frame, &len);
    assert_int_equal(zmq_send(zsock_resolve(s), frame, len, 0), (int)len);
    free(frame);
}

/* Waits for the Results answering the `n` ids; sets st[i] to each status (-1: none came). */
static inline void
results_for(zsock_t *s, uint8_t ids[][16], size_t n, int *st)
{
    size_t got = 0;
    uint64_t deadline = clock_mono_ms() + WAIT_MS;
    for (size_t i = 0; i < n; i++)
        st[i] = -1;
    while (got < n && clock_mono_ms() < deadline) {
        pbuf_t *pb = recv_body(s, REFNET__ENVELOPE__BODY_RESULT, WAIT_MS);
        if (!pb)
            return;
        const Refnet__Result *r = ENV(pb)->result;
        for (size_t i = 0; i < n; i++) {
            if (st[i] == -1 && r->ref.len == 16 && memcmp(r->ref.data, ids[i], 16) == 0) {
                st[i] = (int)r->status;
                got++;
            }
        }
        pbuf_destroy(&pb);
    }
}

#endif
