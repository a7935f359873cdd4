/* refnet-hostile: an enrolled agency that misbehaves on purpose, for tests/integration/hostile.sh.
 *
 *   refnet-hostile ENDPOINT BROKER_KEY NODE_DIR
 *
 * Connects to the broker at ENDPOINT (CURVE server key BROKER_KEY, Z85) with the agency keypair
 * of NODE_DIR (made by `refnet-node init` and enrolled; the node itself never runs), says Hello
 * like a node, then goes through the phases below in order, checking what the broker answers:
 *
 *   garbage      random bytes                          each answered BAD_REQUEST
 *   truncated    a valid Mail envelope cut short       each answered BAD_REQUEST
 *   version      envelopes of versions 0, 2 and 999    each answered VERSION
 *   multipart    messages of two and three frames      each answered BAD_REQUEST
 *   ping-flood   a burst of valid Pings                answered (not a misbehaviour)
 *   oversized    a frame over WIRE_MAX_FRAME           libzmq's ZMQ_MAXMSGSIZE at the broker
 *                                                      drops the connection, unanswered; the
 *                                                      socket reconnects and is welcomed again
 *   flood        bad frames past SHUN_BAD_FRAMES       refused until the threshold, then a Bye
 *   shunned      a Ping, a Hello, a new connection     nothing is answered any more
 *
 * Prints one line per phase and "hostile: bad frames counted N" (the bad frames the broker
 * answered, which `refnet admin nodes` must show). Exit 0 when every phase behaved as above, 1
 * otherwise, 2 on usage. Every wait is bounded in time; the whole run takes about 15 s
 * (a minute at most). */
#include <czmq.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_limits.h"
#include "clock.h"
#include "keys.h"
#include "uid.h"
#include "wire.h"

#define HOSTILE_WAIT_MS  10000 /* for what must come, also under the sanitizers */
#define HOSTILE_QUIET_MS 2000  /* for what must not */
#define HOSTILE_PINGS    2000
#define HOSTILE_EVENTS   (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED)

typedef struct {
    const char *endpoint, *server_key;
    zcert_t *cert;
    zsock_t *dealer, *monitor;
    int sockets; /* sockets made so far, to name each monitor uniquely */
    int bad;     /* bad frames the broker answered as such */
    int failures;
} hostile_t;

/* Milliseconds left until monotonic time `end`, 0 once it has passed. */
static int
hostile_left(uint64_t end)
{
    uint64_t now = clock_mono_ms();
    return now < end ? (int)(end - now) : 0;
}

static void
hostile_check(hostile_t *h, bool ok, const char *phase, const char *what)
{
    printf("hostile: %-10s %s: %s\n", phase, ok ? "ok  " : "FAIL", what);
    fflush(stdout);
    if (!ok)
        h->failures++;
}

static int
hostile_connect(hostile_t *h)
{
    char ep[64];
    h->dealer = zsock_new(ZMQ_DEALER);
    h->monitor = zsock_new(ZMQ_PAIR);
    if (!h->dealer || !h->monitor)
        return -1;
    zcert_apply(h->cert, h->dealer);
    zsock_set_curve_serverkey(h->dealer, h->server_key);
    zsock_set_linger(h->dealer, 0);
    zsock_set_reconnect_ivl(h->dealer, 100);
    zsock_set_sndtimeo(h->dealer, HOSTILE_WAIT_MS);
    zsock_set_rcvhwm(h->dealer, 100000);
    snprintf(ep, sizeof ep, "inproc://hostile-monitor-%d", h->sockets++);
    if (zmq_socket_monitor(zsock_resolve(h->dealer), ep, HOSTILE_EVENTS) != 0 ||
        zsock_connect(h->monitor, "%s", ep) != 0)
        return -1;
    return zsock_connect(h->dealer, "%s", h->endpoint);
}

static void
hostile_close(hostile_t *h)
{
    if (h->dealer)
        zmq_socket_monitor(zsock_resolve(h->dealer), NULL, 0);
    zsock_destroy(&h->monitor);
    zsock_destroy(&h->dealer);
}

/* Waits up to `ms` for monitor event `want`. */
static bool
hostile_event(hostile_t *h, uint16_t want, int ms)
{
    uint64_t end = clock_mono_ms() + (uint64_t)ms;
    while (clock_mono_ms() < end) {
        zsock_set_rcvtimeo(h->monitor, hostile_left(end) + 1);
        zmsg_t *msg = zmsg_recv(h->monitor);
        if (!msg)
            return false;
        zframe_t *f = zmsg_first(msg);
        uint16_t event = 0;
        if (f && zframe_size(f) >= sizeof event)
            memcpy(&event, zframe_data(f), sizeof event);
        zmsg_destroy(&msg);
        if (event == want)
            return true;
    }
    return false;
}

static bool
hostile_send_raw(hostile_t *h, const void *data, size_t len, int flags)
{
    return zmq_send(zsock_resolve(h->dealer), data, len, flags) == (int)len;
}

static bool
hostile_send_env(hostile_t *h, Refnet__Envelope *env, uint8_t msg_id[UID_MSGID_LEN])
{
    uint8_t *frame = NULL;
    size_t len = 0;
    wire_stamp(env, msg_id);
    bool ok = wire_encode(env, &frame, &len) == 0 && hostile_send_raw(h, frame, len, 0);
    free(frame);
    return ok;
}

/* Receives one envelope within `ms`, or NULL. A frame that does not decode counts as a
 * failure: the broker must only ever send valid envelopes. */
static pbuf_t *
hostile_recv(hostile_t *h, int ms)
{
    char why[WIRE_WHY_LEN];
    pbuf_t *pb = NULL;
    zmq_msg_t m;
    if (ms < 1)
        return NULL;
    zsock_set_rcvtimeo(h->dealer, ms);
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, zsock_resolve(h->dealer), 0) < 0) {
        zmq_msg_close(&m);
        return NULL;
    }
    if (wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), &pb, why) != 0) {
        hostile_check(h, false, "recv", why);
        pb = NULL;
    }
    zmq_msg_close(&m);
    return pb;
}

#define ENV(pb) ((const Refnet__Envelope *)pbuf_msg(pb))

/* Waits for an envelope of `body`, skipping others (counted in *skipped when not NULL). */
static pbuf_t *
hostile_expect(hostile_t *h, Refnet__Envelope__BodyCase body, int ms, int *skipped)
{
    uint64_t end = clock_mono_ms() + (uint64_t)ms;
    while (clock_mono_ms() < end) {
        pbuf_t *pb = hostile_recv(h, hostile_left(end));
        if (!pb)
            return NULL;
        if (ENV(pb)->body_case == body)
            return pb;
        if (skipped)
            (*skipped)++;
        pbuf_destroy(&pb);
    }
    return NULL;
}

/* Collects `n` Results of status `want` (others are skipped); returns how many came. */
static int
hostile_refusals(hostile_t *h, int n, Refnet__Status want)
{
    int got = 0;
    uint64_t end = clock_mono_ms() + HOSTILE_WAIT_MS;
    while (got < n && clock_mono_ms() < end) {
        pbuf_t *pb = hostile_expect(h, REFNET__ENVELOPE__BODY_RESULT, hostile_left(end), NULL);
        if (!pb)
            break;
        if (ENV(pb)->result->status == want)
            got++;
        pbuf_destroy(&pb);
    }
    return got;
}

/* Says Hello; true when a Welcome comes within `ms`. */
static bool
hostile_hello(hostile_t *h, int ms)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Hello hello = REFNET__HELLO__INIT;
    uint8_t id[UID_MSGID_LEN];
    hello.software = (char *)"refnet-hostile";
    env.body_case = REFNET__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    if (!hostile_send_env(h, &env, id))
        return false;
    pbuf_t *pb = hostile_expect(h, REFNET__ENVELOPE__BODY_WELCOME, ms, NULL);
    bool ok = pb != NULL;
    pbuf_destroy(&pb);
    return ok;
}

/* Sends `n` frames made by `make` and expects each refused with `status`. */
static void
hostile_phase(hostile_t *h,
              const char *phase,
              int n,
              size_t (*make)(int i, uint8_t *buf, size_t cap),
              Refnet__Status status)
{
    uint8_t buf[4096];
    char what[128];
    int sent = 0;
    for (int i = 0; i < n; i++)
        sent += hostile_send_raw(h, buf, make(i, buf, sizeof buf), 0);
    int got = hostile_refusals(h, sent, status);
    h->bad += got;
    snprintf(what, sizeof what, "%d sent, %d refused with status %d", sent, got, (int)status);
    hostile_check(h, sent == n && got == n, phase, what);
}

static size_t
hostile_garbage(int i, uint8_t *buf, size_t cap)
{
    size_t len = 1 + (size_t)i * 97 % (cap - 1);
    randombytes_buf(buf, len);
    buf[0] = 0xff; /* field 31, wire type 7: never a valid protobuf start */
    return len;
}

/* A valid Mail envelope to a made-up agency, of which `make` keeps a prefix. */
static size_t
hostile_mail(uint8_t *buf, size_t cap)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__HandoffUpdate up = REFNET__HANDOFF_UPDATE__INIT;
    uint8_t id[UID_MSGID_LEN], packet[200];
    char handoff[UID_STR_LEN];
    randombytes_buf(packet, sizeof packet);
    uid_new(handoff);
    up.handoff_id = handoff;
    up.service_id = (char *)"nowhere-svc";
    up.status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED;
    up.person_packet.data = packet;
    up.person_packet.len = sizeof packet;
    up.seal_version = 1;
    mail.to = (char *)"nowhere";
    mail.content_case = REFNET__MAIL__CONTENT_HANDOFF;
    mail.handoff = &up;
    env.body_case = REFNET__ENVELOPE__BODY_MAIL;
    env.mail = &mail;
    wire_stamp(&env, id);
    size_t len = refnet__envelope__get_packed_size(&env);
    return len <= cap ? refnet__envelope__pack(&env, buf) : 0;
}

static size_t
hostile_truncated(int i, uint8_t *buf, size_t cap)
{
    size_t len = hostile_mail(buf, cap);
    /* Cut inside the mail body (the last field): its length prefix then overruns the frame. */
    return len - 1 - (size_t)i * 17 % (len / 2);
}

static size_t
hostile_version(int i, uint8_t *buf, size_t cap)
{
    static const uint32_t versions[] = { 0, 2, 999 };
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Ping ping = REFNET__PING__INIT;
    uint8_t id[UID_MSGID_LEN];
    wire_stamp(&env, id);
    env.version = versions[i % 3];
    env.body_case = REFNET__ENVELOPE__BODY_PING;
    env.ping = &ping;
    return refnet__envelope__get_packed_size(&env) <= cap ? refnet__envelope__pack(&env, buf) : 0;
}

static void
hostile_multipart(hostile_t *h)
{
    uint8_t frame[64];
    size_t len = hostile_version(1, frame, sizeof frame) /* any bytes */;
    int sent = 0;
    for (int parts = 2; parts <= 3; parts++) {
        bool ok = true;
        for (int p = 0; p < parts; p++)
            ok = ok && hostile_send_raw(h, frame, len, p + 1 < parts ? ZMQ_SNDMORE : 0);
        sent += ok;
    }
    int got = hostile_refusals(h, sent, REFNET__STATUS__STATUS_BAD_REQUEST);
    h->bad += got;
    hostile_check(h, sent == 2 && got == 2, "multipart", "2 multi-frame messages refused");
}

static void
hostile_ping_flood(hostile_t *h)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Ping ping = REFNET__PING__INIT;
    uint8_t id[UID_MSGID_LEN];
    char what[96];
    int sent = 0, pongs = 0;
    env.body_case = REFNET__ENVELOPE__BODY_PING;
    env.ping = &ping;
    for (int i = 0; i < HOSTILE_PINGS; i++)
        sent += hostile_send_env(h, &env, id);
    /* The first Pong may wait behind the whole burst; after it they come back to back. */
    pbuf_t *pb = hostile_expect(h, REFNET__ENVELOPE__BODY_PONG, HOSTILE_WAIT_MS, NULL);
    while (pb != NULL) {
        pongs++;
        pbuf_destroy(&pb);
        pb = hostile_expect(h, REFNET__ENVELOPE__BODY_PONG, HOSTILE_QUIET_MS, NULL);
    }
    snprintf(what, sizeof what, "%d valid Pings sent, %d Pongs back", sent, pongs);
    /* The broker may shed Pongs a slow reader does not take (its sends never block); it must
     * answer, and must not count any Ping as a bad frame (hostile.sh checks the count). */
    hostile_check(h, sent == HOSTILE_PINGS && pongs > 0, "ping-flood", what);
}

static void
hostile_oversized(hostile_t *h)
{
    size_t len = WIRE_MAX_FRAME + 1024;
    uint8_t *big = calloc(1, len);
    bool sent = big && hostile_send_raw(h, big, len, 0);
    free(big);
    bool dropped = sent && hostile_event(h, ZMQ_EVENT_DISCONNECTED, HOSTILE_WAIT_MS);
    hostile_check(h, dropped, "oversized", "a frame over WIRE_MAX_FRAME drops the connection");
    bool back = dropped && hostile_event(h, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, HOSTILE_WAIT_MS);
    hostile_check(h, back, "oversized", "the socket reconnected");
    /* Nothing answered the oversized frame (a late Pong of the burst may still come). */
    pbuf_t *answer = back ? hostile_expect(h, REFNET__ENVELOPE__BODY_RESULT, 300, NULL) : NULL;
    hostile_check(h, back && !answer, "oversized", "the oversized frame was not answered");
    pbuf_destroy(&answer);
    hostile_check(h, back && hostile_hello(h, HOSTILE_WAIT_MS), "oversized",
                  "the new connection is welcomed");
}

static void
hostile_flood(hostile_t *h)
{
    uint8_t junk[3] = { 0x08, 0x01, 0x12 }; /* a truncated Envelope */
    char what[128];
    int n = SHUN_BAD_FRAMES + 50, sent = 0, refused = 0;
    int want = SHUN_BAD_FRAMES + 1 - h->bad; /* answered before the threshold is passed */
    pbuf_t *bye = NULL, *pb = NULL;
    uint64_t end = clock_mono_ms() + HOSTILE_WAIT_MS;
    for (int i = 0; i < n; i++)
        sent += hostile_send_raw(h, junk, sizeof junk, 0);
    while (!bye && (pb = hostile_recv(h, hostile_left(end))) != NULL) {
        if (ENV(pb)->body_case == REFNET__ENVELOPE__BODY_BYE)
            bye = pb;
        else if (ENV(pb)->body_case == REFNET__ENVELOPE__BODY_RESULT &&
                 ENV(pb)->result->status == REFNET__STATUS__STATUS_BAD_REQUEST)
            refused++;
        if (pb != bye)
            pbuf_destroy(&pb);
    }
    h->bad += refused;
    snprintf(what, sizeof what, "%d sent, %d refused (expected %d), then %s", sent, refused, want,
             bye ? "Bye" : "no Bye");
    hostile_check(h, bye && refused == want, "flood", what);
    if (bye) {
        snprintf(what, sizeof what, "Bye says \"%s\", retry after %llu ms", ENV(bye)->bye->reason,
                 (unsigned long long)ENV(bye)->bye->retry_after_ms);
        hostile_check(h, ENV(bye)->bye->retry_after_ms == SHUN_COOLDOWN_MS, "flood", what);
    }
    pbuf_destroy(&bye);
}

static void
hostile_shunned(hostile_t *h)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Ping ping = REFNET__PING__INIT;
    uint8_t id[UID_MSGID_LEN];
    env.body_case = REFNET__ENVELOPE__BODY_PING;
    env.ping = &ping;
    hostile_send_env(h, &env, id);
    pbuf_t *pb = hostile_recv(h, HOSTILE_QUIET_MS);
    hostile_check(h, pb == NULL, "shunned", "a valid Ping is no longer answered");
    pbuf_destroy(&pb);
    /* A new connection under the same key is not heard either. */
    hostile_close(h);
    bool up =
        hostile_connect(h) == 0 && hostile_event(h, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, HOSTILE_WAIT_MS);
    hostile_check(h, up && !hostile_hello(h, HOSTILE_QUIET_MS), "shunned",
                  "a new connection's Hello gets no Welcome");
}

int
main(int argc, char **argv)
{
    hostile_t h = { 0 };
    if (argc != 4) {
        fprintf(stderr, "usage: refnet-hostile ENDPOINT BROKER_KEY NODE_DIR\n");
        return 2;
    }
    zsys_init();
    zsys_handler_set(NULL);
    h.endpoint = argv[1];
    h.server_key = argv[2];
    if (keys_load(argv[3], "agency", &h.cert) != 0) {
        fprintf(stderr, "refnet-hostile: no agency keypair in %s\n", argv[3]);
        return 1;
    }
    bool up = hostile_connect(&h) == 0 && hostile_hello(&h, HOSTILE_WAIT_MS);
    hostile_check(&h, up, "hello", "an enrolled key is welcomed");
    if (up) {
        hostile_phase(&h, "garbage", 10, hostile_garbage, REFNET__STATUS__STATUS_BAD_REQUEST);
        hostile_phase(&h, "truncated", 10, hostile_truncated, REFNET__STATUS__STATUS_BAD_REQUEST);
        hostile_phase(&h, "version", 3, hostile_version, REFNET__STATUS__STATUS_VERSION);
        hostile_multipart(&h);
        hostile_ping_flood(&h);
        hostile_oversized(&h);
        hostile_flood(&h);
        hostile_shunned(&h);
    }
    printf("hostile: bad frames counted %d\n", h.bad);
    hostile_close(&h);
    zcert_destroy(&h.cert);
    return h.failures == 0 && up ? 0 : 1;
}
