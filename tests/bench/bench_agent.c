/* bench_agent: one sending agency of the delivery benchmark (see bench_agent.h). */
#include "bench_agent.h"

#include <czmq.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "keys.h"
#include "log.h"
#include "path.h"
#include "refnet_error.h"
#include "seal.h"
#include "uid.h"
#include "wire.h"
#include "xmalloc.h"

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
/* The sealing key file of a node folder (clients/node/peerkeys.h PEERKEYS_FILE). */
#define BA_SEAL_FILE "seal.key"
/* The person every handoff introduces; its needs are padded to reach cfg.size. */
#define BA_PERSON_NAME "Bench Person"

/* A target's verified box key and the shared key every packet for it is sealed with. */
typedef struct {
    uint8_t pk[SEAL_KEY_LEN];
    uint8_t shared[SEAL_SHARED_LEN];
    bool known;
} ba_key_t;

struct bench_agent {
    bench_agent_config_t cfg;
    zcert_t *cert;
    zsock_t *sock;
    bench_stats_t *receipt_lat;
    bench_stats_t *stored_lat;
    uint8_t *state;    /* per message: BA_* bits */
    uint64_t *sent_us; /* per message: when it was sent */
    uint8_t box_pk[SEAL_KEY_LEN], box_sk[SEAL_KEY_LEN];
    uint8_t sign_pk[SEAL_KEY_LEN]; /* the broker's, from the Welcome */
    bool has_sign_pk;
    ba_key_t *keys; /* per target */
    size_t nknown;  /* targets whose key is known */
    uint8_t *clear; /* the encoded PersonPacket every handoff carries */
    size_t clear_len;
    uint8_t *sealed; /* the packet sealed for the current message (clear_len + SEAL_OVERHEAD) */
    Refnet__Category category;
    char consent_id[UID_STR_LEN];
    uid_pool_t ids; /* handoff ids, nonces, batch ids */
    uint8_t *arena; /* encoded envelopes of the batch being built (WIRE_MAX_FRAME bytes) */
    size_t arena_used;
    wire_batch_t batch;
    bool welcomed;
    bool batching; /* the broker takes batches and cfg.no_batch is false */
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
 * 12-15: sequence. Nothing random: the id is unique by construction. */
static void
bench_agent_stamp_id(const bench_agent_t *self, uint64_t now_ms, uint32_t seq, uint8_t *id)
{
    for (int i = 5; i >= 0; i--, now_ms >>= 8)
        id[i] = (uint8_t)now_ms;
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

/* A new handoff id, random as refnet-node made them, or time-ordered as it makes them now. */
static void
bench_agent_handoff_id(bench_agent_t *self, char out[UID_STR_LEN])
{
    if (self->cfg.ordered_handoffs)
        uid_new_ordered_pool(&self->ids, out);
    else
        uid_new_pool(&self->ids, out);
}

/* ---- frames ------------------------------------------------------------------------------- */

/* Sends `len` bytes without blocking. Returns 0, -EAGAIN when the pipe is full, or
 * REFNET_EIO. */
static int
bench_agent_send_bytes(bench_agent_t *self, const uint8_t *frame, size_t len)
{
    if (zmq_send(zsock_resolve(self->sock), frame, len, ZMQ_DONTWAIT) < 0)
        return zmq_errno() == EAGAIN ? -EAGAIN : REFNET_EIO;
    self->counts.frames_out++;
    return 0;
}

/* Stamps (a pooled time-ordered msg_id, as a node's control frames have), encodes and sends
 * `env`: Hello, Ping and Ack. */
static int
bench_agent_send(bench_agent_t *self, Refnet__Envelope *env)
{
    uint8_t msg_id[UID_MSGID_LEN], *frame = NULL;
    size_t len = 0;
    uid_msgid_ordered(&self->ids, msg_id);
    env->version = WIRE_VERSION;
    env->msg_id = (ProtobufCBinaryData){ UID_MSGID_LEN, msg_id };
    env->sent_at_ms = clock_now_ms();
    int rc = wire_encode(env, &frame, &len);
    if (rc == 0)
        rc = bench_agent_send_bytes(self, frame, len);
    free(frame);
    return rc;
}

static void
bench_agent_hello(bench_agent_t *self)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Hello hello = REFNET__HELLO__INIT;
    hello.software = (char *)"refnet-bench";
    hello.box_public_key = (ProtobufCBinaryData){ SEAL_KEY_LEN, self->box_pk };
    hello.batches = !self->cfg.no_batch;
    env.body_case = REFNET__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    (void)bench_agent_send(self, &env);
}

static void
bench_agent_ping(bench_agent_t *self)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Ping ping = REFNET__PING__INIT;
    env.body_case = REFNET__ENVELOPE__BODY_PING;
    env.ping = &ping;
    (void)bench_agent_send(self, &env);
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
    if (bench_agent_send(self, &env) != 0)
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

/* ---- sending mail ------------------------------------------------------------------------- */

/* Fills `env` (with `mail` and `up`) as refnet-node's handoff_start queues a REQUESTED step,
 * the packet not yet sealed. `handoff_id` and `msg_id` must outlive env. */
static void
bench_agent_build(bench_agent_t *self,
                  const bench_target_t *t,
                  uint64_t now_ms,
                  char *handoff_id,
                  uint8_t *msg_id,
                  Refnet__Envelope *env,
                  Refnet__Mail *mail,
                  Refnet__HandoffUpdate *up)
{
    up->handoff_id = handoff_id;
    up->service_id = (char *)t->service;
    up->status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED;
    up->mode = REFNET__CONTACT_MODE__CONTACT_MODE_PHONE;
    up->at_ms = now_ms;
    up->categories = &self->category;
    up->n_categories = 1;
    up->consent_id = self->consent_id;
    up->person_packet = (ProtobufCBinaryData){ self->clear_len + SEAL_OVERHEAD, self->sealed };
    up->seal_version = SEAL_VERSION;
    mail->to = (char *)t->agency;
    mail->content_case = REFNET__MAIL__CONTENT_HANDOFF;
    mail->handoff = up;
    env->version = WIRE_VERSION;
    env->msg_id = (ProtobufCBinaryData){ UID_MSGID_LEN, msg_id };
    env->sent_at_ms = now_ms;
    env->body_case = REFNET__ENVELOPE__BODY_MAIL;
    env->mail = mail;
}

/* Sends the batch being built, if any; its messages count as sent from `now_us`. A batch of
 * one goes out as the envelope itself, straight from the arena. Returns 0, -EAGAIN when the
 * pipe is full (the batch is dropped: its messages are built again, with new ids, on the next
 * round) or another negative code. */
static int
bench_agent_flush(bench_agent_t *self, uint64_t now_us)
{
    uint8_t *frame = NULL;
    size_t len = 0, n = self->batch.n;
    int rc = 0;
    if (n == 0)
        return 0;
    if (n == 1) {
        rc = bench_agent_send_bytes(self, self->arena, self->arena_used);
    } else {
        rc = wire_batch_encode(&self->batch, &self->ids, &frame, &len);
        if (rc == 0)
            rc = bench_agent_send_bytes(self, frame, len);
        free(frame);
    }
    wire_batch_init(&self->batch);
    self->arena_used = 0;
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        uint64_t seq = self->counts.sent++;
        self->state[seq] |= BA_SENT;
        self->sent_us[seq] = now_us;
    }
    return 0;
}

/* Builds message `seq` (a new handoff for the next target in turn, its packet sealed anew) and
 * adds it to the batch, sending the batch first when it would not fit. Without batching, the
 * batch holds one message and is sent at once. */
static int
bench_agent_add_mail(bench_agent_t *self, uint32_t seq, uint64_t now_ms, uint64_t now_us)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__HandoffUpdate up = REFNET__HANDOFF_UPDATE__INIT;
    uint8_t msg_id[UID_MSGID_LEN], nonce[SEAL_NONCE_LEN];
    char handoff_id[UID_STR_LEN];
    size_t ti = (self->cfg.index + seq) % self->cfg.ntargets;
    bench_agent_handoff_id(self, handoff_id);
    bench_agent_stamp_id(self, now_ms, seq, msg_id);
    uid_pool_bytes(&self->ids, nonce, sizeof nonce);
    int rc =
        seal_box_shared(self->clear, self->clear_len, self->keys[ti].shared, nonce, self->sealed);
    if (rc != 0)
        return rc;
    bench_agent_build(self, &self->cfg.targets[ti], now_ms, handoff_id, msg_id, &env, &mail, &up);
    size_t len = refnet__envelope__get_packed_size(&env);
    if (len > WIRE_MAX_FRAME)
        return REFNET_ETOOLARGE;
    if (self->batch.n > 0 && (!self->batching || self->arena_used + len > WIRE_MAX_FRAME ||
                              !wire_batch_fits(&self->batch, len, WIRE_MAX_FRAME))) {
        rc = bench_agent_flush(self, now_us);
        if (rc != 0)
            return rc;
    }
    uint8_t *at = self->arena + self->arena_used;
    refnet__envelope__pack(&env, at);
    self->arena_used += len;
    wire_batch_add(&self->batch, at, len);
    return 0;
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
bench_agent_welcome(bench_agent_t *self, const Refnet__Welcome *w)
{
    if (w->broker_sign_key.len == SEAL_KEY_LEN && !self->has_sign_pk) {
        memcpy(self->sign_pk, w->broker_sign_key.data, SEAL_KEY_LEN);
        self->has_sign_pk = true;
    }
    self->batching = w->batches && !self->cfg.no_batch;
    self->welcomed = true;
}

/* Takes a target's box key from an AgencyKey the broker signed, as refnet-node's peerkeys
 * does, and computes the shared key its packets are sealed with. */
static void
bench_agent_key(bench_agent_t *self, const Refnet__AgencyKey *k)
{
    bool target = false;
    for (size_t i = 0; i < self->cfg.ntargets && !target; i++)
        target = strcmp(self->cfg.targets[i].agency, k->agency_id) == 0;
    if (!target) { /* its own key, the other senders': nothing is sealed for them */
        self->counts.other++;
        return;
    }
    if (!self->has_sign_pk || k->revoked || k->box_public_key.len != SEAL_KEY_LEN ||
        k->signature.len != SEAL_SIGNATURE_LEN ||
        !seal_verify_agency_key(k->agency_id, k->box_public_key.data, k->issued_at_ms,
                                k->signature.data, self->sign_pk)) {
        if (self->counts.keys_refused++ < BA_LOG_FIRST)
            log_warn("bench: agent %u: the sealing key of agency %s is not taken (unsigned, "
                     "revoked, or before the Welcome)",
                     self->cfg.index, k->agency_id);
        return;
    }
    self->counts.keys++;
    for (size_t i = 0; i < self->cfg.ntargets; i++) {
        ba_key_t *t = &self->keys[i];
        if (strcmp(self->cfg.targets[i].agency, k->agency_id) != 0 ||
            (t->known && memcmp(t->pk, k->box_public_key.data, SEAL_KEY_LEN) == 0))
            continue;
        memcpy(t->pk, k->box_public_key.data, SEAL_KEY_LEN);
        if (seal_precompute(t->pk, self->box_sk, t->shared) != 0) {
            log_warn("bench: agent %u: agency %s has a weak sealing key", self->cfg.index,
                     k->agency_id);
            continue;
        }
        self->nknown += !t->known;
        t->known = true;
    }
}

static void
bench_agent_envelope(bench_agent_t *self, const Refnet__Envelope *env, uint64_t now_us)
{
    switch (env->body_case) {
    case REFNET__ENVELOPE__BODY_RESULT:
        bench_agent_result(self, env->result, now_us);
        break;
    case REFNET__ENVELOPE__BODY_MAIL:
        bench_agent_mail(self, env, now_us);
        break;
    case REFNET__ENVELOPE__BODY_WELCOME:
        bench_agent_welcome(self, env->welcome);
        break;
    case REFNET__ENVELOPE__BODY_AGENCY_KEY:
        bench_agent_key(self, env->agency_key);
        break;
    default:
        self->counts.other++;
    }
}

/* Decodes one frame, or one item of a Batch (`item`), and handles what it holds. */
static void
bench_agent_frame(bench_agent_t *self, const void *data, size_t len, bool item, uint64_t now_us)
{
    char why[WIRE_WHY_LEN];
    pbuf_t *pb = NULL;
    int rc = item ? wire_decode_item(data, len, &pb, why) : wire_decode(data, len, &pb, why);
    if (rc != 0) {
        if (self->counts.bad_frames++ < BA_LOG_FIRST)
            log_warn("bench: agent %u: bad frame from the broker: %s", self->cfg.index, why);
        return;
    }
    const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
    if (env->body_case == REFNET__ENVELOPE__BODY_BATCH) {
        self->counts.batches_in++;
        for (size_t i = 0; i < env->batch->n_envelopes; i++)
            bench_agent_frame(self, env->batch->envelopes[i].data, env->batch->envelopes[i].len,
                              true, now_us);
    } else {
        bench_agent_envelope(self, env, now_us);
    }
    pbuf_destroy(&pb);
}

/* ---- opening ------------------------------------------------------------------------------ */

/* Encodes the person packet with `needs` bytes of needs into self->clear. */
static void
bench_agent_pack_packet(bench_agent_t *self, size_t needs)
{
    Refnet__PersonPacket pkt = REFNET__PERSON_PACKET__INIT;
    char *text = xmalloc(needs + 1);
    for (size_t i = 0; i < needs; i++)
        text[i] = (char)('a' + i % 26);
    text[needs] = '\0';
    pkt.name = (char *)BA_PERSON_NAME;
    pkt.needs = text;
    free(self->clear);
    free(self->sealed);
    self->clear_len = refnet__person_packet__get_packed_size(&pkt);
    self->clear = xmalloc(self->clear_len);
    refnet__person_packet__pack(&pkt, self->clear);
    self->sealed = xcalloc(1, self->clear_len + SEAL_OVERHEAD);
    free(text);
}

/* Sizes the packet's needs so that a Mail envelope is about cfg.size bytes. */
static void
bench_agent_size_packet(bench_agent_t *self)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__HandoffUpdate up = REFNET__HANDOFF_UPDATE__INIT;
    uint8_t msg_id[UID_MSGID_LEN] = { 0 };
    char handoff_id[UID_STR_LEN];
    bench_agent_handoff_id(self, handoff_id);
    bench_agent_pack_packet(self, 1);
    bench_agent_build(self, &self->cfg.targets[0], clock_now_ms(), handoff_id, msg_id, &env, &mail,
                      &up);
    size_t base = refnet__envelope__get_packed_size(&env);
    size_t needs = self->cfg.size > base ? self->cfg.size - base + 1 : 1;
    bench_agent_pack_packet(self, needs < WIRE_MAX_NEEDS ? needs : WIRE_MAX_NEEDS);
}

static int
bench_agent_load_seal(bench_agent_t *self)
{
    char path[PATH_MAX_LEN];
    int rc = path_join(path, sizeof path, self->cfg.dir, BA_SEAL_FILE);
    if (rc == 0)
        rc = seal_box_load(path, self->box_pk, self->box_sk);
    if (rc != 0)
        log_error("bench: cannot load the sealing key of %s: %s", self->cfg.dir,
                  refnet_strerror(rc));
    return rc;
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
    self->keys = xcalloc(cfg->ntargets ? cfg->ntargets : 1, sizeof *self->keys);
    self->arena = xmalloc(WIRE_MAX_FRAME);
    self->category = REFNET__CATEGORY__CATEGORY_NEEDS;
    uid_pool_init(&self->ids);
    wire_batch_init(&self->batch);
    uid_new_pool(&self->ids, self->consent_id);
    int rc = keys_load(cfg->dir, "agency", &self->cert);
    if (rc) {
        log_error("bench: cannot load the agency keys of %s: %s", cfg->dir, refnet_strerror(rc));
        goto err;
    }
    rc = bench_agent_load_seal(self);
    if (rc)
        goto err;
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
    if (self->keys)
        sodium_memzero(self->keys, self->cfg.ntargets * sizeof *self->keys);
    sodium_memzero(self->box_sk, sizeof self->box_sk);
    sodium_memzero(&self->ids, sizeof self->ids);
    free(self->keys);
    free(self->arena);
    free(self->clear);
    free(self->sealed);
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
    uint64_t now_ms = clock_now_ms(); /* one clock read for the whole round */
    int rc = 0;
    if (!bench_agent_welcomed(self))
        return 0;
    while (rc == 0 && c->sent + self->batch.n < self->cfg.count &&
           c->sent + self->batch.n - self->finished < self->cfg.window)
        rc = bench_agent_add_mail(self, (uint32_t)(c->sent + self->batch.n), now_ms, now_us);
    if (rc == 0)
        rc = bench_agent_flush(self, now_us);
    if (rc == -EAGAIN) { /* the pipe is full: the next round sends what is left */
        wire_batch_init(&self->batch);
        self->arena_used = 0;
        return 0;
    }
    return rc;
}

void
bench_agent_drain(bench_agent_t *self, size_t max)
{
    void *sock = zsock_resolve(self->sock);
    uint64_t now_us = bench_stats_now_us(); /* one clock read per drain */
    for (size_t i = 0; i < max; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        bench_agent_frame(self, zmq_msg_data(&m), zmq_msg_size(&m), false, now_us);
        zmq_msg_close(&m);
    }
    bench_agent_flush_acks(self);
}

bool
bench_agent_welcomed(const bench_agent_t *self)
{
    return self->welcomed && self->nknown == self->cfg.ntargets;
}

bool
bench_agent_batching(const bench_agent_t *self)
{
    return self->batching;
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
