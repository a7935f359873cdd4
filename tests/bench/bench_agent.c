/* bench_agent: one sending agency of the delivery benchmark (see bench_agent.h). */
#include "bench_agent.h"

#include <czmq.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "keys.h"
#include "log.h"
#include "refnet_error.h"
#include "uid.h"
#include "wire.h"
#include "xmalloc.h"

/* The broker refuses person data in clear and cannot open sealed data, so the agents carry
 * opaque bytes shaped like a sealed packet (seal_version 1: nonce, ciphertext, MAC): to the
 * broker they cost exactly what a real one does. The receiving refnet-nodes cannot open them
 * and keep each handoff without its person data, as with any packet that does not open. */
#define BENCH_SEAL_VERSION 1
#define BENCH_SEAL_MIN     40 /* nonce (24) + MAC (16) around an empty packet */

/* Per-message state bits. */
#define BA_SENT      0x01
#define BA_STORED    0x02
#define BA_RECEIPTED 0x04
#define BA_REFUSED   0x08

/* Hello is repeated this often until the Welcome (a node does the same, NODE_HELLO_RETRY_MS);
 * a Ping goes out every BA_PING_US afterwards (the broker's default heartbeat). */
#define BA_HELLO_US (250 * 1000ULL)
#define BA_PING_US  (1000 * 1000ULL)
/* Refusals logged one by one per agent; the rest are only counted. */
#define BA_LOG_FIRST 5
/* libzmq queue bounds of the agent's socket: room for a full window of mail and acks each
 * way, so a send never blocks the loop and the broker never finds the pipe full. */
#define BA_HWM_EXTRA 4096

struct bench_agent {
    bench_agent_config_t cfg;
    zcert_t *cert;
    zsock_t *sock;
    bench_stats_t *receipt_lat;
    bench_stats_t *stored_lat;
    uint8_t *state;    /* per message: BA_* bits */
    uint64_t *sent_us; /* per message: when it was sent */
    uint8_t *packet;   /* the stand-in sealed person packet every handoff carries */
    size_t packet_len;
    bool welcomed;
    uint64_t last_hello_us;
    uint64_t last_ping_us;
    uint64_t finished; /* messages receipted or refused */
    uint8_t acks[WIRE_MAX_ACK_IDS][UID_MSGID_LEN];
    size_t nacks;
    bench_agent_counts_t counts;
};

/* ---- message ids -------------------------------------------------------------------------- */

static void
bench_agent_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t
bench_agent_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Bytes 0-5: the time in ms, as a node's outbox ids have (uid_msgid_ordered), so the indexes
 * keyed by msg_id see what they see with real nodes; 6-9: the run's nonce; 10-11: agent;
 * 12-15: sequence. */
static void
bench_agent_stamp_id(const bench_agent_t *self, uint32_t seq, uint8_t id[UID_MSGID_LEN])
{
    uid_msgid_ordered(NULL, id);
    bench_agent_put_u32(id + 6, self->cfg.nonce);
    id[10] = (uint8_t)(self->cfg.index >> 8);
    id[11] = (uint8_t)self->cfg.index;
    bench_agent_put_u32(id + 12, seq);
}

/* True when `id` names a message of this agent in this run; sets *seq. */
static bool
bench_agent_seq(const bench_agent_t *self, const ProtobufCBinaryData *id, uint32_t *seq)
{
    if (id->len != UID_MSGID_LEN || bench_agent_get_u32(id->data + 6) != self->cfg.nonce ||
        ((uint32_t)id->data[10] << 8 | id->data[11]) != (self->cfg.index & 0xffff))
        return false;
    *seq = bench_agent_get_u32(id->data + 12);
    return *seq < self->cfg.count;
}

/* A new handoff id, random as refnet-node makes them, or time-ordered when asked. */
static void
bench_agent_handoff_id(const bench_agent_t *self, char out[UID_STR_LEN])
{
    if (self->cfg.ordered_handoffs)
        uid_new_ordered(out);
    else
        uid_new(out);
}

/* ---- frames ------------------------------------------------------------------------------- */

/* Stamps, encodes and sends `env` without blocking; a mail's id also gets its sequence number.
 * Returns 0, -EAGAIN when the pipe is full, or another negative code. */
static int
bench_agent_send(bench_agent_t *self, Refnet__Envelope *env, const uint32_t *seq)
{
    uint8_t msg_id[UID_MSGID_LEN], *frame = NULL;
    size_t len = 0;
    wire_stamp(env, msg_id);
    if (seq)
        bench_agent_stamp_id(self, *seq, msg_id);
    int rc = wire_encode(env, &frame, &len);
    if (rc)
        return rc;
    if (zmq_send(zsock_resolve(self->sock), frame, len, ZMQ_DONTWAIT) < 0)
        rc = zmq_errno() == EAGAIN ? -EAGAIN : REFNET_EIO;
    free(frame);
    return rc;
}

static void
bench_agent_hello(bench_agent_t *self)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Hello hello = REFNET__HELLO__INIT;
    hello.software = (char *)"refnet-bench";
    env.body_case = REFNET__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    (void)bench_agent_send(self, &env, NULL);
}

static void
bench_agent_ping(bench_agent_t *self)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Ping ping = REFNET__PING__INIT;
    env.body_case = REFNET__ENVELOPE__BODY_PING;
    env.ping = &ping;
    (void)bench_agent_send(self, &env, NULL);
}

/* Sends message `seq`: a new handoff (REQUESTED, new UUID) for the next target in turn. */
static int
bench_agent_send_mail(bench_agent_t *self, uint32_t seq)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__HandoffUpdate up = REFNET__HANDOFF_UPDATE__INIT;
    const bench_target_t *t = &self->cfg.targets[(self->cfg.index + seq) % self->cfg.ntargets];
    char handoff_id[UID_STR_LEN];
    bench_agent_handoff_id(self, handoff_id);
    up.handoff_id = handoff_id;
    up.service_id = (char *)t->service;
    up.status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED;
    up.mode = REFNET__CONTACT_MODE__CONTACT_MODE_PHONE;
    up.at_ms = clock_now_ms();
    up.person_packet.data = self->packet;
    up.person_packet.len = self->packet_len;
    up.seal_version = BENCH_SEAL_VERSION;
    mail.to = (char *)t->agency;
    mail.content_case = REFNET__MAIL__CONTENT_HANDOFF;
    mail.handoff = &up;
    env.body_case = REFNET__ENVELOPE__BODY_MAIL;
    env.mail = &mail;
    return bench_agent_send(self, &env, &seq);
}

static void
bench_agent_flush_acks(bench_agent_t *self)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Ack ack = REFNET__ACK__INIT;
    ProtobufCBinaryData ids[WIRE_MAX_ACK_IDS];
    if (self->nacks == 0)
        return;
    for (size_t i = 0; i < self->nacks; i++)
        ids[i] = (ProtobufCBinaryData){ UID_MSGID_LEN, self->acks[i] };
    ack.msg_ids = ids;
    ack.n_msg_ids = self->nacks;
    env.body_case = REFNET__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    if (bench_agent_send(self, &env, NULL) != 0)
        log_warn("bench: agent %u could not acknowledge %zu receipt(s)", self->cfg.index,
                 self->nacks);
    self->nacks = 0;
}

static void
bench_agent_ack(bench_agent_t *self, const ProtobufCBinaryData *id)
{
    if (id->len != UID_MSGID_LEN)
        return;
    if (self->nacks == WIRE_MAX_ACK_IDS)
        bench_agent_flush_acks(self);
    memcpy(self->acks[self->nacks++], id->data, UID_MSGID_LEN);
}

/* ---- what the broker sends ---------------------------------------------------------------- */

static void
bench_agent_refused(bench_agent_t *self, const Refnet__Result *r)
{
    self->counts.refused++;
    if (self->counts.refused <= BA_LOG_FIRST)
        log_warn("bench: agent %u: the broker answered status %d: %s", self->cfg.index,
                 (int)r->status, r->detail[0] ? r->detail : "(no detail)");
}

static void
bench_agent_result(bench_agent_t *self, const Refnet__Result *r, uint64_t now_us)
{
    uint32_t seq = 0;
    bool ours = bench_agent_seq(self, &r->ref, &seq);
    if (r->status != REFNET__STATUS__STATUS_OK) {
        bench_agent_refused(self, r);
        if (ours && !(self->state[seq] & (BA_REFUSED | BA_RECEIPTED))) {
            self->state[seq] |= BA_REFUSED;
            self->finished++;
        }
        return;
    }
    if (!ours) {
        self->counts.other++;
    } else if (self->state[seq] & BA_STORED) {
        self->counts.duplicates++;
    } else {
        self->state[seq] |= BA_STORED;
        self->counts.stored++;
        if (seq >= self->cfg.warmup)
            bench_stats_add(self->stored_lat, now_us - self->sent_us[seq]);
    }
}

static void
bench_agent_receipt(bench_agent_t *self, const Refnet__Receipt *r, uint64_t now_us)
{
    uint32_t seq = 0;
    if (!bench_agent_seq(self, &r->msg_id, &seq)) {
        self->counts.stale++;
        return;
    }
    if (self->state[seq] & (BA_RECEIPTED | BA_REFUSED)) {
        self->counts.duplicates++;
        return;
    }
    self->state[seq] |= BA_RECEIPTED;
    self->finished++;
    self->counts.receipts++;
    self->counts.last_receipt_us = now_us;
    if (seq >= self->cfg.warmup)
        bench_stats_add(self->receipt_lat, now_us - self->sent_us[seq]);
}

static void
bench_agent_mail(bench_agent_t *self, const Refnet__Envelope *env, uint64_t now_us)
{
    if (env->mail->content_case == REFNET__MAIL__CONTENT_RECEIPT)
        bench_agent_receipt(self, env->mail->receipt, now_us);
    else if (env->mail->content_case == REFNET__MAIL__CONTENT_RECEIPTS)
        for (size_t i = 0; i < env->mail->receipts->n_receipts; i++)
            bench_agent_receipt(self, env->mail->receipts->receipts[i], now_us);
    else
        self->counts.other++;
    bench_agent_ack(self, &env->msg_id); /* a node acknowledges all mail, applied or not */
}

static void
bench_agent_frame(bench_agent_t *self, const void *data, size_t len, uint64_t now_us)
{
    char why[WIRE_WHY_LEN];
    pbuf_t *pb = NULL;
    if (wire_decode(data, len, &pb, why) != 0) {
        if (self->counts.bad_frames++ < BA_LOG_FIRST)
            log_warn("bench: agent %u: bad frame from the broker: %s", self->cfg.index, why);
        return;
    }
    const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
    if (env->body_case == REFNET__ENVELOPE__BODY_RESULT)
        bench_agent_result(self, env->result, now_us);
    else if (env->body_case == REFNET__ENVELOPE__BODY_MAIL)
        bench_agent_mail(self, env, now_us);
    else if (env->body_case == REFNET__ENVELOPE__BODY_WELCOME)
        self->welcomed = true;
    else
        self->counts.other++;
    pbuf_destroy(&pb);
}

/* ---- opening ------------------------------------------------------------------------------ */

static size_t
bench_agent_pack_packet(bench_agent_t *self, size_t len)
{
    free(self->packet);
    self->packet_len = len;
    self->packet = xmalloc(len);
    for (size_t i = 0; i < len; i++)
        self->packet[i] = (uint8_t)(i * 131u + 7u);
    return self->packet_len;
}

/* Sizes the sealed packet so that a Mail envelope is about cfg.size bytes. */
static void
bench_agent_size_packet(bench_agent_t *self)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__HandoffUpdate up = REFNET__HANDOFF_UPDATE__INIT;
    uint8_t msg_id[UID_MSGID_LEN];
    char handoff_id[UID_STR_LEN];
    bench_agent_handoff_id(self, handoff_id);
    up.handoff_id = handoff_id;
    up.service_id = (char *)self->cfg.targets[0].service;
    up.status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED;
    up.mode = REFNET__CONTACT_MODE__CONTACT_MODE_PHONE;
    up.at_ms = clock_now_ms();
    bench_agent_pack_packet(self, BENCH_SEAL_MIN);
    up.person_packet = (ProtobufCBinaryData){ self->packet_len, self->packet };
    up.seal_version = BENCH_SEAL_VERSION;
    mail.to = (char *)self->cfg.targets[0].agency;
    mail.content_case = REFNET__MAIL__CONTENT_HANDOFF;
    mail.handoff = &up;
    env.body_case = REFNET__ENVELOPE__BODY_MAIL;
    env.mail = &mail;
    wire_stamp(&env, msg_id);
    size_t base = refnet__envelope__get_packed_size(&env);
    size_t len = self->cfg.size > base ? self->cfg.size - base + BENCH_SEAL_MIN : BENCH_SEAL_MIN;
    bench_agent_pack_packet(self, len < WIRE_MAX_SEALED_PACKET ? len : WIRE_MAX_SEALED_PACKET);
}

static int
bench_agent_connect(bench_agent_t *self)
{
    int hwm = (int)self->cfg.window + BA_HWM_EXTRA;
    self->sock = zsock_new(ZMQ_DEALER);
    if (!self->sock)
        return REFNET_EIO;
    zcert_apply(self->cert, self->sock);
    zsock_set_curve_serverkey(self->sock, self->cfg.server_key);
    zsock_set_sndhwm(self->sock, hwm);
    zsock_set_rcvhwm(self->sock, hwm);
    zsock_set_maxmsgsize(self->sock, WIRE_MAX_FRAME);
    zsock_set_linger(self->sock, 0);
    if (zsock_connect(self->sock, "%s", self->cfg.endpoint) != 0) {
        log_error("bench: cannot connect to %s", self->cfg.endpoint);
        return REFNET_EINVAL;
    }
    return 0;
}

int
bench_agent_open(bench_agent_t **out,
                 const bench_agent_config_t *cfg,
                 bench_stats_t *receipt_lat,
                 bench_stats_t *stored_lat)
{
    bench_agent_t *self = xcalloc(1, sizeof *self);
    self->cfg = *cfg;
    self->receipt_lat = receipt_lat;
    self->stored_lat = stored_lat;
    self->state = xcalloc(cfg->count ? cfg->count : 1, sizeof *self->state);
    self->sent_us = xcalloc(cfg->count ? cfg->count : 1, sizeof *self->sent_us);
    int rc = keys_load(cfg->dir, "agency", &self->cert);
    if (rc) {
        log_error("bench: cannot load the agency keys of %s: %s", cfg->dir, refnet_strerror(rc));
        goto err;
    }
    bench_agent_size_packet(self);
    rc = bench_agent_connect(self);
    if (rc)
        goto err;
    *out = self;
    return 0;
err:
    bench_agent_destroy(&self, 0);
    return rc;
}

void
bench_agent_destroy(bench_agent_t **self_p, int linger_ms)
{
    if (!self_p || !*self_p)
        return;
    bench_agent_t *self = *self_p;
    if (self->sock) {
        zsock_set_linger(self->sock, linger_ms);
        zsock_destroy(&self->sock);
    }
    zcert_destroy(&self->cert);
    free(self->packet);
    free(self->sent_us);
    free(self->state);
    free(self);
    *self_p = NULL;
}

/* ---- the loop's calls --------------------------------------------------------------------- */

void *
bench_agent_socket(bench_agent_t *self)
{
    return zsock_resolve(self->sock);
}

void
bench_agent_tick(bench_agent_t *self, uint64_t now_us)
{
    if (!self->welcomed && now_us - self->last_hello_us >= BA_HELLO_US) {
        bench_agent_hello(self);
        self->last_hello_us = now_us;
    } else if (self->welcomed && now_us - self->last_ping_us >= BA_PING_US) {
        bench_agent_ping(self);
        self->last_ping_us = now_us;
    }
}

int
bench_agent_fill(bench_agent_t *self, uint64_t now_us)
{
    bench_agent_counts_t *c = &self->counts;
    while (self->welcomed && c->sent < self->cfg.count &&
           c->sent - self->finished < self->cfg.window) {
        uint32_t seq = (uint32_t)c->sent;
        int rc = bench_agent_send_mail(self, seq);
        if (rc == -EAGAIN)
            return 0; /* the pipe is full: the next round sends it */
        if (rc)
            return rc;
        self->state[seq] |= BA_SENT;
        self->sent_us[seq] = now_us;
        c->sent++;
    }
    return 0;
}

void
bench_agent_drain(bench_agent_t *self, size_t max)
{
    void *sock = zsock_resolve(self->sock);
    for (size_t i = 0; i < max; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        bench_agent_frame(self, zmq_msg_data(&m), zmq_msg_size(&m), bench_stats_now_us());
        zmq_msg_close(&m);
    }
    bench_agent_flush_acks(self);
}

bool
bench_agent_welcomed(const bench_agent_t *self)
{
    return self->welcomed;
}

bool
bench_agent_done(const bench_agent_t *self)
{
    return self->finished >= self->cfg.count;
}

const bench_agent_counts_t *
bench_agent_counts(const bench_agent_t *self)
{
    return &self->counts;
}
