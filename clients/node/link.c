/* link: the node's session with the broker (see link.h).
 *
 * Every `now` here is monotonic milliseconds (clock_mono_ms).
 *
 * Batches: a received Batch frame is held (`held`) and its items are handed out one by one by
 * link_recv, each decoded on its own, so that every item takes the path a lone frame takes.
 * Outbox items leave through the pack (link_pack_t): while the broker's last Welcome said it
 * takes batches, consecutive items share frames up to WIRE_MAX_FRAME bytes; otherwise the
 * pack holds one item and sends it as itself. The window counts items either way.
 *
 * Parking: an item answered "queue full" (or "storage full") moves from the window to the
 * parking (parking.h), kept in key order, and any later item for the same recipient is parked
 * behind it unsent, so the window keeps serving other recipients. link_retry_parked sends a
 * recipient's parked items again, oldest first, once its oldest is due; the broker
 * (pairhold.h) stores a pair's refused items only in the order it refused them, so FIFO per
 * pair holds even when retries and new items cross. Each slot (outslot.h) remembers its
 * item's recipient (the mail's `to`, read when the item is first sent). */
#include "link.h"

#include <errno.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

#include "log.h"
#include "node_limits.h"
#include "outbox.h"
#include "parking.h"
#include "refnet_error.h"
#include "replica.h"
#include "uid.h"
#include "xmalloc.h"

#define LINK_SOFTWARE "refnet-node 0.1"
/* Socket-monitor events the link acts on. */
#define LINK_EVENTS                                                                                \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |    \
     ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)

/* Why items are sent: a first try (they join the window), a resend of window items, or a
 * retry of parked items (they leave the parking for the window). */
typedef enum { LINK_FIRST, LINK_RESEND, LINK_RETRY } link_try_t;

/* A pump or a resend packs at most the window's items, so a pack never holds more than one
 * Batch can carry. */
_Static_assert(NODE_OUTBOX_WINDOW <= WIRE_MAX_BATCH, "a window of items must fit one batch");

/* Outbox items on their way into one frame. The batch borrows the encoded envelopes from the
 * decoded records, which the pack owns until the frame is sent. */
typedef struct {
    wire_batch_t batch;
    pbuf_t *rec[NODE_OUTBOX_WINDOW];
    outslot_t slot[NODE_OUTBOX_WINDOW];
    size_t n;
} link_pack_t;

struct link {
    zsock_t *dealer;
    zsock_t *monitor;
    char *endpoint; /* copies: the sockets are rebuilt after a refused handshake */
    char *server_key;
    zcert_t *cert;       /* borrowed */
    uint64_t rebuild_at; /* 0, or when to rebuild the sockets (monotonic ms) */
    bool said_bye;       /* the broker said Bye: disconnected until rebuild_at */
    const char *agency;
    int heartbeat_ms;
    bool welcomed;
    uint64_t last_heard, last_ping, next_hello;
    uint64_t slow_since; /* last_heard when the broker's silence was last logged */
    bool syncing;
    uint64_t sync_started;
    outslot_t window[NODE_OUTBOX_WINDOW];
    size_t nwindow;
    parking_t parking; /* items refused for a full recipient, and those behind them */
    uint64_t cursor;   /* highest outbox key sent in this session */
    link_stats_t stats;
    uint8_t box_pk[WIRE_SEAL_KEY_LEN]; /* announced in every Hello when has_box_pk */
    bool has_box_pk;
    bool peer_batches; /* the session's Welcome said the broker takes Batch frames */
    pbuf_t *held;      /* a received Batch whose items are being handed out, or NULL */
    size_t held_next;  /* index of its next item */
    link_pack_t pack;
    uid_pool_t ids; /* msg_ids of the Batch frames sent */
};

static void
link_set_options(zsock_t *s, int heartbeat_ms)
{
    zsock_set_maxmsgsize(s, WIRE_MAX_FRAME);
    zsock_set_linger(s, NODE_LINGER_MS);
    zsock_set_immediate(s, 1); /* refuse sends while there is no connection: nothing stale */
    zsock_set_reconnect_ivl(s, NODE_RECONNECT_IVL_MS);
    zsock_set_reconnect_ivl_max(s, NODE_RECONNECT_IVL_MAX_MS);
    zsock_set_heartbeat_ivl(s, heartbeat_ms);
    zsock_set_heartbeat_timeout(s, NODE_LIVENESS * heartbeat_ms);
    zsock_set_heartbeat_ttl(s, NODE_LIVENESS * heartbeat_ms);
}

/* Monitor endpoints made in this process (link_open_sockets). */
static atomic_uint_fast64_t link_monitors;

/* Creates the DEALER and its monitor and starts connecting. Returns 0, REFNET_EINVAL or
 * REFNET_EIO; on failure the half-made sockets are left for link_close_sockets. */
static int
link_open_sockets(link_t *self)
{
    char monitor_ep[64];
    self->dealer = zsock_new(ZMQ_DEALER);
    self->monitor = zsock_new(ZMQ_PAIR);
    if (!self->dealer || !self->monitor)
        return REFNET_EIO;
    zcert_apply(self->cert, self->dealer);
    zsock_set_curve_serverkey(self->dealer, self->server_key);
    link_set_options(self->dealer, self->heartbeat_ms);
    /* Every socket pair gets a monitor endpoint of its own in the process: a rebuilt link's
     * old one, or a destroyed link's at the same address, may still be unbinding. */
    snprintf(monitor_ep, sizeof monitor_ep, "inproc://refnet-node-link-%llu",
             (unsigned long long)atomic_fetch_add(&link_monitors, 1));
    if (zmq_socket_monitor(zsock_resolve(self->dealer), monitor_ep, LINK_EVENTS) != 0 ||
        zsock_connect(self->monitor, "%s", monitor_ep) != 0)
        return REFNET_EIO;
    if (zsock_connect(self->dealer, "%s", self->endpoint) != 0) {
        log_error("link: cannot connect to %s: %s", self->endpoint, zmq_strerror(zmq_errno()));
        return REFNET_EINVAL;
    }
    return 0;
}

static void
link_close_sockets(link_t *self)
{
    if (self->dealer)
        zmq_socket_monitor(zsock_resolve(self->dealer), NULL, 0);
    zsock_destroy(&self->monitor);
    zsock_destroy(&self->dealer);
}

int
link_open(link_t **out,
          const char *endpoint,
          const char *server_key,
          zcert_t *cert,
          const char *agency,
          int heartbeat_ms)
{
    link_t *self = xcalloc(1, sizeof *self);
    self->agency = agency;
    self->heartbeat_ms = heartbeat_ms;
    self->endpoint = xstrdup(endpoint);
    self->server_key = xstrdup(server_key);
    self->cert = cert;
    wire_batch_init(&self->pack.batch);
    uid_pool_init(&self->ids);
    int rc = link_open_sockets(self);
    if (rc)
        goto err;
    *out = self;
    return 0;
err:
    link_destroy(&self);
    return rc;
}

void
link_set_box_key(link_t *self, const uint8_t pk[WIRE_SEAL_KEY_LEN])
{
    memcpy(self->box_pk, pk, sizeof self->box_pk);
    self->has_box_pk = true;
}

void
link_destroy(link_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    link_t *self = *self_p;
    link_close_sockets(self);
    pbuf_destroy(&self->held);
    free(self->endpoint);
    free(self->server_key);
    free(self);
    *self_p = NULL;
}

void *
link_socket(link_t *self)
{
    return zsock_resolve(self->dealer);
}

void *
link_monitor_socket(link_t *self)
{
    return zsock_resolve(self->monitor);
}

/* Sends one frame of `nenv` envelopes without blocking. Returns 0 or REFNET_EUNAVAIL (no
 * connection or full). */
static int
link_send_bytes(link_t *self, const void *data, size_t len, size_t nenv)
{
    if (zmq_send(zsock_resolve(self->dealer), data, len, ZMQ_DONTWAIT) < 0)
        return REFNET_EUNAVAIL;
    self->stats.frames_out++;
    self->stats.envelopes_out += nenv;
    if (nenv > 1)
        self->stats.batches_out++;
    return 0;
}

static int
link_send_env(link_t *self, Refnet__Envelope *env)
{
    uint8_t msg_id[UID_MSGID_LEN];
    uint8_t *bytes = NULL;
    size_t len = 0;
    wire_stamp(env, msg_id);
    int rc = wire_encode(env, &bytes, &len);
    if (rc == 0)
        rc = link_send_bytes(self, bytes, len, 1);
    free(bytes);
    return rc;
}

static uint64_t
link_head(store_t *st)
{
    MDB_txn *txn = NULL;
    uint64_t head = 0;
    if (store_begin(st, true, &txn) == 0)
        replica_head(txn, st, &head);
    store_abort(&txn);
    return head;
}

static void
link_send_hello(link_t *self, store_t *st, uint64_t now)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Hello hello = REFNET__HELLO__INIT;
    hello.dir_seq = link_head(st);
    hello.software = (char *)LINK_SOFTWARE;
    hello.batches = true; /* link_recv expands Batch frames */
    if (self->has_box_pk) {
        hello.box_public_key.data = self->box_pk;
        hello.box_public_key.len = sizeof self->box_pk;
    }
    env.body_case = REFNET__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    bool sent = link_send_env(self, &env) == 0;
    self->next_hello = now + (uint64_t)(sent ? self->heartbeat_ms : NODE_HELLO_RETRY_MS);
    if (sent)
        log_debug("link: hello sent (dir_seq %llu)", (unsigned long long)hello.dir_seq);
}

/* Ends the session as the node sees it; the next Welcome starts a new one. */
static void
link_session_end(link_t *self, uint64_t now)
{
    self->welcomed = false;
    self->syncing = false;
    self->peer_batches = false;
    self->next_hello = now;
}

/* libzmq treats a refused handshake as a protocol error and never reconnects that socket,
 * so an agency enrolled after its first attempt would stay cut off. The link rebuilds its
 * sockets instead, backing off exponentially with jitter so a refused node cannot hammer the
 * broker. */
static void
link_schedule_rebuild(link_t *self, uint64_t now)
{
    if (self->said_bye)
        return; /* the broker's retry_after stands */
    uint64_t shift = self->stats.refused < 6 ? self->stats.refused - 1 : 5;
    uint64_t delay = (uint64_t)NODE_REBUILD_MIN_MS << shift;
    if (delay > NODE_REBUILD_MAX_MS)
        delay = NODE_REBUILD_MAX_MS;
    delay += randombytes_uniform((uint32_t)(delay / 4 + 1));
    self->rebuild_at = now + delay;
}

static void
link_rebuild_due(link_t *self, uint64_t now)
{
    if (!self->rebuild_at || now < self->rebuild_at)
        return;
    self->rebuild_at = 0;
    self->said_bye = false;
    link_close_sockets(self);
    if (link_open_sockets(self) != 0) {
        log_error("link: cannot rebuild the broker connection; retrying");
        link_schedule_rebuild(self, now);
        return;
    }
    log_info("link: retrying the broker handshake");
}

void
link_set_cert(link_t *self, zcert_t *cert, uint64_t now)
{
    self->cert = cert;
    self->rebuild_at = 0;
    self->said_bye = false;
    link_session_end(self, now);
    link_close_sockets(self);
    if (link_open_sockets(self) != 0) {
        log_error("link: cannot connect with the new key; retrying");
        link_schedule_rebuild(self, now);
        return;
    }
    log_info("link: reconnecting to the broker with the agency's new key");
}

static void
link_on_event(link_t *self, store_t *st, uint16_t event, uint64_t now)
{
    switch (event) {
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        log_info("link: connected to the broker; saying hello");
        link_session_end(self, now);
        link_send_hello(self, st, now);
        break;
    case ZMQ_EVENT_DISCONNECTED:
        if (self->welcomed) {
            self->stats.lost++;
            log_warn("link: connection to the broker lost; reconnecting");
        }
        link_session_end(self, now);
        /* The rest of a batch came in the session that ended (a Welcome among it would start
         * a session the new connection has not had); the broker delivers it again. */
        pbuf_destroy(&self->held);
        break;
    default:
        self->stats.refused++;
        if (self->stats.refused == 1 || self->stats.refused % 100 == 0)
            log_warn("link: the broker refused the CURVE handshake (%llu times); is agency %s "
                     "enrolled with this key?",
                     (unsigned long long)self->stats.refused, self->agency);
        link_schedule_rebuild(self, now);
        break;
    }
}

void
link_on_monitor(link_t *self, store_t *st, uint64_t now)
{
    void *sock = zsock_resolve(self->monitor);
    for (int i = 0; i < 64; i++) {
        zmq_msg_t part;
        uint16_t event = 0;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            return;
        }
        if (zmq_msg_size(&part) >= sizeof event)
            memcpy(&event, zmq_msg_data(&part), sizeof event);
        while (zmq_msg_more(&part)) { /* the endpoint frame: not needed */
            zmq_msg_close(&part);
            zmq_msg_init(&part);
            if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) < 0)
                break;
        }
        zmq_msg_close(&part);
        link_on_event(self, st, event, now);
    }
}

/* The broker has stopped serving this connection (shun.h at the broker). The connection is
 * closed at once, so nothing more is sent into a session nobody hears, and the sockets are
 * rebuilt no sooner than the broker asked: retry_after_ms, or with 0 (the agency was revoked)
 * after the longest reconnect interval, where a revoked key is refused at the handshake and
 * the usual back-off takes over. Jitter keeps many nodes from coming back at once. */
static void
link_on_bye(link_t *self, const Refnet__Bye *bye, uint64_t now)
{
    uint64_t delay = bye->retry_after_ms ? bye->retry_after_ms : NODE_RECONNECT_IVL_MAX_MS;
    self->stats.byes++;
    log_warn("link: the broker said bye (%s); reconnecting in %llu s",
             bye->reason[0] ? bye->reason : "no reason given",
             (unsigned long long)((delay + 999) / 1000));
    /* Disconnecting closes the connection but keeps the socket that the poll loop holds. */
    if (zsock_disconnect(self->dealer, "%s", self->endpoint) != 0)
        log_debug("link: disconnect: %s", zmq_strerror(zmq_errno()));
    link_session_end(self, now);
    pbuf_destroy(&self->held); /* the rest of a batch belongs to the session that ended */
    self->said_bye = true;
    self->rebuild_at = now + delay + randombytes_uniform((uint32_t)(delay / 8 + 1));
}

/* Reads one frame and decodes it with wire_decode(). Returns 0 with *out, 1 when none waits,
 * or the decode error (logged and counted). */
static int
link_read_frame(link_t *self, uint64_t now, pbuf_t **out, char why[WIRE_WHY_LEN])
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, zsock_resolve(self->dealer), ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&msg);
        return 1;
    }
    self->stats.frames_in++;
    self->last_heard = now;
    /* A DEALER frame from the broker is always a single part; drain any extra parts. */
    bool extra = zmq_msg_more(&msg);
    int rc = extra ? REFNET_EDECODE : wire_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), out, why);
    if (extra)
        snprintf(why, WIRE_WHY_LEN, "a broker message has more than one frame");
    while (zmq_msg_more(&msg)) {
        zmq_msg_close(&msg);
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, zsock_resolve(self->dealer), ZMQ_DONTWAIT) < 0)
            break;
    }
    zmq_msg_close(&msg);
    if (rc != 0) {
        self->stats.bad_frames++;
        log_warn("link: bad frame from the broker: %s", why);
    }
    return rc;
}

/* One decoded envelope, from a frame or a batch: a Bye is acted on here and not returned. */
static int
link_take(link_t *self, uint64_t now, pbuf_t **out)
{
    const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(*out);
    self->stats.envelopes_in++;
    if (env->body_case != REFNET__ENVELOPE__BODY_BYE)
        return 0;
    link_on_bye(self, env->bye, now);
    pbuf_destroy(out);
    return 1;
}

/* Decodes the next item of the held Batch, as a frame of its own would be. The item's
 * arrival counts as liveness, as a frame read from the socket's queue does. */
static int
link_next_item(link_t *self, uint64_t now, pbuf_t **out, char why[WIRE_WHY_LEN])
{
    const Refnet__Batch *batch = ((const Refnet__Envelope *)pbuf_msg(self->held))->batch;
    int rc = REFNET_EDECODE;
    if (self->held_next < batch->n_envelopes) {
        const ProtobufCBinaryData *item = &batch->envelopes[self->held_next++];
        rc = wire_decode_item(item->data, item->len, out, why);
    } else {
        snprintf(why, WIRE_WHY_LEN, "a batch with no envelopes");
    }
    /* The decoded item owns copies of its bytes, so the batch can go once it is used up. */
    if (self->held_next >= batch->n_envelopes)
        pbuf_destroy(&self->held);
    self->last_heard = now;
    if (rc != 0) {
        self->stats.bad_items++;
        log_warn("link: bad envelope in a batch from the broker: %s", why);
        return rc;
    }
    return link_take(self, now, out);
}

int
link_recv(link_t *self, uint64_t now, pbuf_t **out, char why[WIRE_WHY_LEN])
{
    if (self->said_bye)
        return 1; /* what is still queued belongs to the session that ended */
    if (self->held)
        return link_next_item(self, now, out, why);
    int rc = link_read_frame(self, now, out, why);
    if (rc != 0)
        return rc;
    if (((const Refnet__Envelope *)pbuf_msg(*out))->body_case != REFNET__ENVELOPE__BODY_BATCH)
        return link_take(self, now, out);
    self->stats.batches_in++;
    self->held = *out;
    self->held_next = 0;
    *out = NULL;
    return link_next_item(self, now, out, why);
}

bool
link_backlog(const link_t *self)
{
    return self->held != NULL && !self->said_bye;
}

void
link_on_welcome(link_t *self, const Refnet__Welcome *w, uint64_t now)
{
    if (strcmp(w->agency_id, self->agency) != 0)
        log_error("link: the broker knows this key as agency %s, but this node is %s", w->agency_id,
                  self->agency);
    if (w->heartbeat_ms >= NODE_HEARTBEAT_MIN_MS && w->heartbeat_ms <= NODE_HEARTBEAT_MAX_MS)
        self->heartbeat_ms = (int)w->heartbeat_ms;
    if (!self->welcomed)
        log_info("link: welcomed by the broker as %s (directory head %llu%s)", w->agency_id,
                 (unsigned long long)w->dir_seq, w->batches ? ", batches" : "");
    /* A session begins with the first Welcome after a (re)connection: the window starts over
     * from the oldest item, as the broker's does for a new connection. A second Welcome on the
     * same connection answers a repeated Hello (the broker was slow to answer the first):
     * what was sent on it reached the broker, so nothing is sent again. */
    bool fresh = !self->welcomed;
    self->welcomed = true;
    self->peer_batches = w->batches;
    self->last_heard = self->last_ping = now;
    if (!fresh)
        return;
    self->stats.welcomes++;
    link_restart_window(self);
}

static outslot_t *
link_find(link_t *self, const ProtobufCBinaryData *ref)
{
    if (ref->len != UID_MSGID_LEN)
        return NULL;
    for (size_t i = 0; i < self->nwindow; i++)
        if (memcmp(self->window[i].msg_id, ref->data, UID_MSGID_LEN) == 0)
            return &self->window[i];
    return NULL;
}

bool
link_on_answer(link_t *self, const ProtobufCBinaryData *ref)
{
    outslot_t *slot = link_find(self, ref);
    if (!slot) /* an earlier copy of a parked item may be answered after the refused copy */
        return parking_answered(&self->parking, ref->data, ref->len);
    *slot = self->window[--self->nwindow];
    return true;
}

void
link_retry_later(link_t *self, const ProtobufCBinaryData *ref, uint64_t now)
{
    outslot_t *slot = link_find(self, ref);
    if (!slot) {
        parking_postpone(&self->parking, ref->data, ref->len, now + NODE_RETRY_MS);
        return;
    }
    /* The item leaves the window, so that items for other recipients are not held up. */
    if (parking_park(&self->parking, slot, now + NODE_RETRY_MS))
        *slot = self->window[--self->nwindow];
    else
        slot->due = now + NODE_RETRY_MS; /* parking full: it waits in the window */
}

void
link_restart_window(link_t *self)
{
    self->nwindow = 0;
    parking_clear(&self->parking);
    self->cursor = 0;
}

bool
link_connected(const link_t *self)
{
    return self->welcomed;
}

int
link_heartbeat_ms(const link_t *self)
{
    return self->heartbeat_ms;
}

int
link_request_sync(link_t *self, uint64_t since_seq, uint64_t now)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirSync sync = REFNET__DIR_SYNC__INIT;
    sync.since_seq = since_seq;
    env.body_case = REFNET__ENVELOPE__BODY_SYNC;
    env.sync = &sync;
    int rc = link_send_env(self, &env);
    if (rc == 0) {
        self->syncing = true;
        self->sync_started = now;
        log_debug("link: directory catch-up since %llu", (unsigned long long)since_seq);
    }
    return rc;
}

bool
link_syncing(const link_t *self)
{
    return self->syncing;
}

void
link_sync_finished(link_t *self)
{
    self->syncing = false;
}

void
link_send_acks(link_t *self, const uint8_t (*ids)[16], size_t n)
{
    ProtobufCBinaryData bins[WIRE_MAX_ACK_IDS];
    for (size_t off = 0; off < n; off += WIRE_MAX_ACK_IDS) {
        Refnet__Envelope env = REFNET__ENVELOPE__INIT;
        Refnet__Ack ack = REFNET__ACK__INIT;
        size_t chunk = n - off < WIRE_MAX_ACK_IDS ? n - off : WIRE_MAX_ACK_IDS;
        for (size_t i = 0; i < chunk; i++) {
            bins[i].data = (uint8_t *)ids[off + i];
            bins[i].len = 16;
        }
        ack.msg_ids = bins;
        ack.n_msg_ids = chunk;
        env.body_case = REFNET__ENVELOPE__BODY_ACK;
        env.ack = &ack;
        if (link_send_env(self, &env) != 0)
            log_debug("link: %zu acks not sent; the broker will deliver again", chunk);
    }
}

/* ---- sending outbox items ----------------------------------------------------------------- */

/* True when an item of `len` encoded bytes can join the pack: any item joins an empty one;
 * more join only when the broker takes batches and the frame stays within its limits. */
static bool
link_pack_fits(const link_t *self, size_t len)
{
    const link_pack_t *p = &self->pack;
    if (p->n == 0)
        return true;
    if (!self->peer_batches || p->n >= NODE_OUTBOX_WINDOW)
        return false;
    return wire_batch_fits(&p->batch, len, WIRE_MAX_FRAME);
}

/* Adds the decoded outbox record *rec (ownership passes to the pack) of item `key` for `to`. */
static void
link_pack_add(link_t *self, pbuf_t **rec, uint64_t key, const char *to)
{
    link_pack_t *p = &self->pack;
    const Refnet__OutboxItem *item = (const Refnet__OutboxItem *)pbuf_msg(*rec);
    outslot_t *slot = &p->slot[p->n];
    memset(slot, 0, sizeof *slot);
    slot->key = key;
    snprintf(slot->to, sizeof slot->to, "%s", to);
    if (item->msg_id.len == UID_MSGID_LEN)
        memcpy(slot->msg_id, item->msg_id.data, UID_MSGID_LEN);
    wire_batch_add(&p->batch, item->envelope.data, item->envelope.len);
    p->rec[p->n++] = *rec;
    *rec = NULL;
}

static void
link_pack_clear(link_pack_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        pbuf_destroy(&p->rec[i]);
    p->n = 0;
    wire_batch_init(&p->batch);
}

/* Sends the packed items in one frame: the item itself when alone, else a Batch. Returns 0,
 * REFNET_EUNAVAIL or REFNET_ETOOLARGE (which the fits check rules out). */
static int
link_pack_send(link_t *self)
{
    link_pack_t *p = &self->pack;
    uint8_t *frame = NULL;
    size_t len = 0;
    if (p->n == 1)
        return link_send_bytes(self, p->batch.items[0].data, p->batch.items[0].len, 1);
    int rc = wire_batch_encode(&p->batch, &self->ids, &frame, &len);
    if (rc == 0)
        rc = link_send_bytes(self, frame, len, p->n);
    else
        log_error("link: %zu outbox items do not pack: %s", p->n, refnet_strerror(rc));
    free(frame);
    return rc;
}

/* A first try or a retry of a parked item went out: the item joins the window. */
static void
link_mark_sent(link_t *self, const outslot_t *sent, uint64_t now, link_try_t why)
{
    outslot_t *slot = &self->window[self->nwindow++];
    *slot = *sent;
    slot->due = now + NODE_RESEND_MS;
    if (why == LINK_FIRST) {
        if (sent->key > self->cursor)
            self->cursor = sent->key;
        self->stats.sent++;
        return;
    }
    /* A retry leaves the cursor alone: items after it may not have gone yet. An item parked
     * behind another one had not gone before. */
    parking_took(&self->parking, sent->key, &self->stats.sent, &self->stats.resent);
}

/* A resend went out: its window slot waits another NODE_RESEND_MS. */
static void
link_mark_resent(link_t *self, uint64_t key, uint64_t now)
{
    for (size_t i = 0; i < self->nwindow; i++) {
        if (self->window[i].key == key) {
            self->window[i].due = now + NODE_RESEND_MS;
            self->stats.resent++;
            return;
        }
    }
}

/* Sends what the pack holds (nothing when empty) and empties it. Returns 0 or the send's
 * error: then none of the items counts as sent. */
static int
link_pack_flush(link_t *self, uint64_t now, link_try_t why)
{
    link_pack_t *p = &self->pack;
    if (p->n == 0)
        return 0;
    int rc = link_pack_send(self);
    for (size_t i = 0; rc == 0 && i < p->n; i++) {
        if (why == LINK_RESEND)
            link_mark_resent(self, p->slot[i].key, now);
        else
            link_mark_sent(self, &p->slot[i], now, why);
    }
    link_pack_clear(p);
    return rc;
}

/* Packs item `key` for `to` (its record *rec passes to the pack), sending the pack first
 * when the item does not fit. Returns 0, or the failed send's error (*rec is freed then). */
static int
link_pack_item(
    link_t *self, pbuf_t **rec, uint64_t key, const char *to, uint64_t now, link_try_t why)
{
    size_t len = ((const Refnet__OutboxItem *)pbuf_msg(*rec))->envelope.len;
    if (!link_pack_fits(self, len)) {
        int rc = link_pack_flush(self, now, why);
        if (rc != 0) {
            pbuf_destroy(rec);
            return rc;
        }
    }
    link_pack_add(self, rec, key, to);
    return 0;
}

/* The recipient of an outbox item's mail into `to` ("" for anything but mail, or an envelope
 * that does not decode: the broker answers it, and it is never parked behind a recipient). */
static void
link_item_to(const Refnet__OutboxItem *item, char to[WIRE_MAX_IDENT + 1])
{
    pbuf_t *pb = NULL;
    to[0] = '\0';
    if (pbuf_unpack(&pb, &refnet__envelope__descriptor, item->envelope.data, item->envelope.len,
                    WIRE_MAX_FRAME) != 0)
        return;
    const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
    if (env->body_case == REFNET__ENVELOPE__BODY_MAIL && env->mail->to)
        snprintf(to, WIRE_MAX_IDENT + 1, "%s", env->mail->to);
    pbuf_destroy(&pb);
}

/* Outcome of one item read by the pump: packed, parked, not parked because the parking is
 * full (the pump ends before it), or a failed send. */
typedef enum { LINK_PUMP_SENT, LINK_PUMP_PARKED, LINK_PUMP_FULL, LINK_PUMP_STOP } link_pump_step_t;

/* Packs item `key` (record *rec, which passes on) for sending, or parks it unsent behind an
 * earlier item for the same recipient that waits for room: order per pair is kept, and the
 * window stays free for other recipients. */
static link_pump_step_t
link_pump_item(link_t *self, pbuf_t **rec, uint64_t key, uint64_t now)
{
    outslot_t slot;
    memset(&slot, 0, sizeof slot);
    slot.key = key;
    link_item_to((const Refnet__OutboxItem *)pbuf_msg(*rec), slot.to);
    if (self->parking.n > 0 && parking_holds(&self->parking, slot.to)) {
        const Refnet__OutboxItem *item = (const Refnet__OutboxItem *)pbuf_msg(*rec);
        if (item->msg_id.len == UID_MSGID_LEN)
            memcpy(slot.msg_id, item->msg_id.data, UID_MSGID_LEN);
        pbuf_destroy(rec);
        return parking_park(&self->parking, &slot, 0) ? LINK_PUMP_PARKED : LINK_PUMP_FULL;
    }
    return link_pack_item(self, rec, key, slot.to, now, LINK_FIRST) == 0 ? LINK_PUMP_SENT
                                                                         : LINK_PUMP_STOP;
}

void
link_pump(link_t *self, store_t *st, uint64_t now)
{
    MDB_txn *txn = NULL;
    if (!self->welcomed || self->nwindow >= NODE_OUTBOX_WINDOW)
        return;
    if (store_begin(st, true, &txn) != 0)
        return;
    uint64_t after = self->cursor;
    size_t room = NODE_OUTBOX_WINDOW - self->nwindow;
    bool sent_all = true;
    while (room > 0) {
        pbuf_t *pb = NULL;
        uint64_t key = 0;
        int rc = outbox_next(txn, st, after, &key, &pb);
        if (rc == REFNET_EDECODE) {
            log_error("outbox: item %llu is damaged and is skipped", (unsigned long long)key);
            after = key;
            continue;
        }
        if (rc != 0) /* the end of the outbox (or a read error: the next pump tries again) */
            break;
        link_pump_step_t step = link_pump_item(self, &pb, key, now);
        if (step == LINK_PUMP_FULL)
            break; /* what is packed still goes; the next pump reads this item again */
        if (step == LINK_PUMP_STOP) {
            sent_all = false;
            break;
        }
        after = key;
        if (step == LINK_PUMP_SENT)
            room--;
    }
    /* Everything read was sent, parked or skipped as damaged: the next pump starts after it. */
    if (sent_all && link_pack_flush(self, now, LINK_FIRST) == 0 && after > self->cursor)
        self->cursor = after;
    link_pack_clear(&self->pack);
    store_abort(&txn);
}

static int
link_slot_cmp(const void *a, const void *b)
{
    uint64_t ka = ((const outslot_t *)a)->key, kb = ((const outslot_t *)b)->key;
    return ka < kb ? -1 : ka > kb;
}

/* Sends again every window item whose answer is overdue, oldest first: after "queue full" the
 * broker stores a pair's messages only in the order it first refused them (pairhold.h), and
 * removals from the window shuffle its slots. Nothing is resent between sessions: a broker
 * that restarted has forgotten its holds, so a resend that reached it before the Welcome could
 * be stored ahead of older items; the Welcome restarts the window from the oldest instead. */
static void
link_resend_due(link_t *self, store_t *st, uint64_t now)
{
    MDB_txn *txn = NULL;
    int rc = 0;
    if (!self->welcomed)
        return;
    qsort(self->window, self->nwindow, sizeof self->window[0], link_slot_cmp);
    for (size_t i = 0; i < self->nwindow;) {
        outslot_t *slot = &self->window[i];
        pbuf_t *pb = NULL;
        if (slot->due > now) {
            i++;
            continue;
        }
        if (!txn && store_begin(st, true, &txn) != 0)
            break;
        rc = outbox_get(txn, st, slot->key, &pb);
        if (rc == REFNET_ENOTFOUND || rc == REFNET_EDECODE) {
            /* answered through another path, or unreadable: forget it */
            *slot = self->window[--self->nwindow];
            continue;
        }
        if (rc != 0 || (rc = link_pack_item(self, &pb, slot->key, slot->to, now, LINK_RESEND)) != 0)
            break;
        i++;
    }
    if (rc == 0)
        link_pack_flush(self, now, LINK_RESEND);
    link_pack_clear(&self->pack);
    store_abort(&txn);
}

/* Sends parked items again, in key order, while the window has room: per recipient, from its
 * oldest parked item once that one is due, and never one past an older item of the same
 * recipient that stays parked, so each pair's items reach the broker in order. The retried
 * items join the window; a new "queue full" parks them again. */
static void
link_retry_parked(link_t *self, store_t *st, uint64_t now)
{
    parking_iter_t it;
    MDB_txn *txn = NULL;
    int rc = 0;
    if (!self->welcomed || self->parking.n == 0)
        return;
    parking_iter_init(&it);
    while (self->nwindow + self->pack.n < NODE_OUTBOX_WINDOW) {
        outslot_t *slot = parking_next(&self->parking, &it, now);
        pbuf_t *pb = NULL;
        if (!slot)
            break;
        if (!txn && store_begin(st, true, &txn) != 0)
            break;
        rc = outbox_get(txn, st, slot->key, &pb);
        if (rc == REFNET_ENOTFOUND || rc == REFNET_EDECODE) {
            slot->gone = true; /* answered through another path, or unreadable */
            rc = 0;
            continue;
        }
        if (rc != 0 || (rc = link_pack_item(self, &pb, slot->key, slot->to, now, LINK_RETRY)) != 0)
            break;
    }
    if (rc == 0)
        link_pack_flush(self, now, LINK_RETRY);
    link_pack_clear(&self->pack);
    store_abort(&txn);
    parking_compact(&self->parking);
}

/* The broker's silence alone never ends the session. Its I/O thread answers the ZMTP
 * heartbeats (link_set_options) even while its loop is busy for seconds, and a broker that
 * is really gone loses the connection to those heartbeats: libzmq drops it, the monitor
 * reports it, and the reconnect says Hello (a new connection, which the broker serves from
 * the head of the window). Saying Hello again on a connection that is still up would only
 * make a busy broker busier. So a silent broker is logged, once per silence, and counted. */
static void
link_check_liveness(link_t *self, uint64_t now)
{
    uint64_t silence = (uint64_t)NODE_LIVENESS * (uint64_t)self->heartbeat_ms;
    if (!self->welcomed || now - self->last_heard <= silence ||
        self->slow_since == self->last_heard)
        return;
    self->slow_since = self->last_heard;
    self->stats.slow++;
    log_warn("link: no word from the broker for %llu ms, but the connection is up; waiting",
             (unsigned long long)(now - self->last_heard));
}

static void
link_send_ping(link_t *self, uint64_t now)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Ping ping = REFNET__PING__INIT;
    env.body_case = REFNET__ENVELOPE__BODY_PING;
    env.ping = &ping;
    link_send_env(self, &env);
    self->last_ping = now;
}

int
link_tick(link_t *self, store_t *st, uint64_t now, bool *need_sync)
{
    uint64_t hb = (uint64_t)self->heartbeat_ms;
    *need_sync = false;
    link_rebuild_due(self, now);
    link_check_liveness(self, now);
    if (!self->welcomed && now >= self->next_hello)
        link_send_hello(self, st, now);
    if (self->welcomed && now - self->last_ping >= hb)
        link_send_ping(self, now);
    if (self->syncing && now - self->sync_started > NODE_SYNC_TIMEOUT_MS) {
        log_warn("link: directory catch-up did not finish; asking again");
        self->syncing = false;
        *need_sync = self->welcomed;
    }
    link_resend_due(self, st, now);
    link_retry_parked(self, st, now);
    link_pump(self, st, now);
    if (!self->welcomed)
        return self->next_hello > now ? (int)(self->next_hello - now) : 0;
    uint64_t next_ping = self->last_ping + hb;
    return next_ping > now ? (int)(next_ping - now) : 0;
}

const link_stats_t *
link_stats(const link_t *self)
{
    return &self->stats;
}
