/* broker: context, group-commit loop and housekeeping of refnet-broker (see broker.h). */
#include "broker.h"
#include "broker_int.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "admin.h"
#include "agencies.h"
#include "batch.h"
#include "broker_limits.h"
#include "bsock.h"
#include "bstore.h"
#include "clock.h"
#include "dirhub.h"
#include "dispatch.h"
#include "keys.h"
#include "log.h"
#include "mailbox.h"
#include "packer.h"
#include "path.h"
#include "presence.h"
#include "pump.h"
#include "refnet_error.h"
#include "sealkeys.h"
#include "setup.h"
#include "shun.h"
#include "store.h"
#include "wire.h"
#include "xmalloc.h"

void
broker_config_defaults(broker_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->heartbeat_ms = BROKER_HEARTBEAT_MS_DEFAULT;
    cfg->map_size_mb = BROKER_MAP_SIZE_MB_DEFAULT;
    cfg->max_queue = BROKER_MAX_QUEUE;
    cfg->window = BROKER_WINDOW;
    cfg->default_ttl_ms = BROKER_DEFAULT_TTL_MS;
    cfg->redeliver_ms = BROKER_REDELIVER_MS;
    cfg->max_frame = WIRE_MAX_FRAME;
    cfg->tombstone_retention_ms = BROKER_TOMBSTONE_RETENTION_S_DEFAULT * 1000;
}

/* ---- opening ------------------------------------------------------------------------------ */

/* One broker per folder: two would bind the same admin socket and race on the mailboxes. */
static int
broker_lock(broker_t *self)
{
    char path[PATH_MAX_LEN];
    int rc = path_join(path, sizeof path, self->dir, SETUP_LOCK_FILE);
    if (rc)
        return rc;
    self->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->lock_fd < 0)
        return -errno;
    if (flock(self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        log_error("another broker is already running on %s", self->dir);
        return REFNET_EEXIST;
    }
    return 0;
}

static int
broker_load_keys(broker_t *self, char admin_key[KEYS_Z85_LEN])
{
    int rc = keys_load(self->dir, SETUP_BROKER_KEY, &self->cert);
    if (!rc)
        rc = keys_load_public(self->dir, SETUP_ADMIN_KEY, admin_key);
    if (!rc)
        rc = setup_sign_key(self->dir, self->sign_pk, self->sign_sk);
    if (rc == REFNET_ENOTFOUND)
        log_error("%s is not a broker folder (run refnet-broker init)", self->dir);
    else if (rc)
        log_error("cannot load the broker's keys from %s: %s", self->dir, refnet_strerror(rc));
    return rc;
}

static int
broker_read_bind(broker_t *self, char **bind)
{
    MDB_txn *txn = NULL;
    int rc = store_begin(self->store, true, &txn);
    if (!rc)
        rc = store_get_str(txn, bstore_db(self->store, BSTORE_META), BSTORE_META_BIND, bind);
    store_abort(&txn);
    if (rc == REFNET_ENOTFOUND) {
        *bind = xstrdup(BROKER_DEFAULT_BIND);
        rc = 0;
    }
    return rc;
}

static int
broker_bind(broker_t *self)
{
    char *bind = NULL;
    int rc = self->cfg.bind ? 0 : broker_read_bind(self, &bind);
    const char *ep = self->cfg.bind ? self->cfg.bind : bind;
    if (!rc && !setup_endpoint_valid(ep)) {
        log_error("the bind endpoint '%s' is not valid", ep);
        rc = REFNET_EINVAL;
    }
    if (!rc && zsock_bind(self->router, "%s", ep) < 0) {
        log_error("cannot bind %s: %s", ep, zmq_strerror(zmq_errno()));
        rc = REFNET_EIO;
    }
    if (!rc) {
        char *last = zsock_last_endpoint(self->router);
        snprintf(self->endpoint, sizeof self->endpoint, "%s", last ? last : ep);
        free(last);
    }
    free(bind);
    return rc;
}

/* zauth reads the certificate folder; the CURVE command (re)loads it. */
static int
broker_start_auth(broker_t *self)
{
    self->auth = zactor_new(zauth, NULL);
    if (!self->auth)
        return REFNET_EIO;
    zstr_sendx(self->auth, "CURVE", self->certs_dir, NULL);
    return zsock_wait(self->auth) == 0 ? 0 : REFNET_EIO;
}

static int
broker_open_sockets(broker_t *self, const char *admin_key)
{
    char sock[PATH_MAX_LEN], ep[PATH_MAX_LEN + 8];
    int rc = broker_start_auth(self);
    if (rc)
        return rc;
    self->router = zsock_new(ZMQ_ROUTER);
    if (!self->router)
        return REFNET_EIO;
    rc = bsock_setup_router(self->router, self->cert, self->cfg.heartbeat_ms);
    if (!rc)
        rc = broker_bind(self);
    if (!rc)
        rc = path_join(sock, sizeof sock, self->dir, SETUP_ADMIN_SOCK);
    if (!rc) {
        snprintf(ep, sizeof ep, "ipc://%s", sock);
        rc = admin_open(&self->admin, ep, self->cert, admin_key, self->cfg.heartbeat_ms);
    }
    return rc;
}

static void
broker_seed_presence(broker_t *self)
{
    for (size_t i = 0; i < agencies_count(self->agencies); i++) {
        const agencies_entry_t *e = agencies_at(self->agencies, i);
        presence_seed(self->presence, e->id, e->last_seen_ms);
    }
}

static int
broker_open_state(broker_t *self)
{
    mailbox_config_t mc = { .max_queue = self->cfg.max_queue,
                            .default_ttl_ms = self->cfg.default_ttl_ms,
                            .done_retention_ms = BROKER_DONE_RETENTION_MS,
                            .max_ttl_ms = self->cfg.max_ttl_ms };
    int rc = bstore_open(&self->store, self->dir, self->cfg.map_size_mb);
    if (!rc)
        rc = path_join(self->certs_dir, sizeof self->certs_dir, self->dir, SETUP_CERTS_DIR);
    if (!rc)
        rc = agencies_open(&self->agencies, self->store, self->certs_dir);
    if (rc)
        return rc;
    self->presence = presence_new(self->cfg.heartbeat_ms);
    self->mailbox = mailbox_new(self->store, &mc);
    self->batch = batch_new();
    self->slots = xcalloc(BROKER_SLOTS, sizeof *self->slots);
    self->packer = packer_new();
    self->pump_pack = pump_pack_new();
    self->shun = shun_new();
    broker_seed_presence(self);
    return 0;
}

int
broker_open(broker_t **out, const char *dir, const broker_config_t *cfg)
{
    broker_t *self = xcalloc(1, sizeof *self);
    char admin_key[KEYS_Z85_LEN];
    self->cfg = *cfg;
    self->lock_fd = -1;
    int rc = path_absolute(self->dir, sizeof self->dir, dir);
    if (rc) {
        log_error("cannot use the broker folder %s: %s", dir, refnet_strerror(rc));
        rc = REFNET_ENOTFOUND;
        goto err;
    }
    rc = broker_load_keys(self, admin_key);
    if (!rc)
        rc = broker_lock(self);
    if (!rc)
        rc = broker_open_state(self);
    if (!rc)
        rc = broker_open_sockets(self, admin_key);
    if (rc)
        goto err;
    *out = self;
    return 0;
err:
    broker_destroy(&self);
    return rc;
}

void
broker_destroy(broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_t *self = *self_p;
    admin_destroy(&self->admin);
    zsock_destroy(&self->router);
    zactor_destroy(&self->auth);
    batch_destroy(&self->batch);
    packer_destroy(&self->packer);
    pump_pack_destroy(&self->pump_pack);
    free(self->slots);
    shun_destroy(&self->shun);
    mailbox_destroy(&self->mailbox);
    presence_destroy(&self->presence);
    agencies_destroy(&self->agencies);
    store_destroy(&self->store);
    zcert_destroy(&self->cert);
    if (self->lock_fd >= 0)
        close(self->lock_fd);
    free(self);
    *self_p = NULL;
}

const char *
broker_endpoint(const broker_t *self)
{
    return self->endpoint;
}

const counters_t *
broker_counters(const broker_t *self)
{
    return &self->counters;
}

/* ---- one frame ---------------------------------------------------------------------------- */

static dispatch_ctx_t
broker_dispatch_ctx(broker_t *self)
{
    dispatch_ctx_t ctx = { .store = self->store,
                           .agencies = self->agencies,
                           .presence = self->presence,
                           .mailbox = self->mailbox,
                           .batch = self->batch,
                           .counters = &self->counters,
                           .heartbeat_ms = self->cfg.heartbeat_ms,
                           .sign_pk = self->sign_pk,
                           .sign_sk = self->sign_sk };
    return ctx;
}

static pump_ctx_t
broker_pump_ctx(broker_t *self)
{
    pump_ctx_t ctx = { .store = self->store,
                       .mailbox = self->mailbox,
                       .presence = self->presence,
                       .router = zsock_resolve(self->router),
                       .counters = &self->counters,
                       .window = self->cfg.window,
                       .pack = self->pump_pack };
    return ctx;
}

void
broker_refuse(broker_t *self,
              const zmq_msg_t *rid,
              const ProtobufCBinaryData *ref,
              Refnet__Status status,
              const char *why)
{
    self->counters.refused++;
    if (status == REFNET__STATUS__STATUS_FORBIDDEN)
        self->counters.forbidden++;
    dispatch_reply_result(self->batch, zmq_msg_data((zmq_msg_t *)rid),
                          zmq_msg_size((zmq_msg_t *)rid), ref, status, why, 0, false);
}

/* A commit failed (the group commit, or one request's child commit): the mails the batch
 * entries from `from` on had stored are not stored after all. Each pair is held with the
 * first of them first in line, so the sender's retries are stored in their order. */
static void
broker_unstored(broker_t *self, size_t from)
{
    uint64_t now_ms = clock_now_ms();
    for (size_t i = batch_mark(self->batch); i-- > from;) {
        const batch_entry_t *e = batch_at(self->batch, i);
        if (e->kind == BATCH_STORED)
            mailbox_unstored(self->mailbox, e->agency, e->to, e->ref, now_ms);
    }
}

/* A request was refused with `st`: its replies and follow-up work since `mark` are dropped
 * (its writes are the caller's to undo) and the refusal is queued instead. */
static void
broker_refused(broker_t *self,
               const dispatch_req_t *req,
               const zmq_msg_t *rid,
               size_t mark,
               Refnet__Status st,
               const char *why)
{
    if (st == REFNET__STATUS__STATUS_STORAGE_FULL &&
        clock_mono_ms() - self->full_logged_mono >= BROKER_FULL_LOG_MS) {
        /* At most one line a second: a full map refuses every write until space is made. */
        self->full_logged_mono = clock_mono_ms();
        log_error("storage full: the LMDB map (--map-size-mb %zu) has no room for a request; "
                  "senders keep their messages and retry",
                  self->cfg.map_size_mb);
    }
    broker_unstored(self, mark);
    batch_rollback(self->batch, mark);
    broker_refuse(self, rid, &req->env->msg_id, st, why);
}

/* Runs one request in a child transaction of `txn`, so that a refusal (or a storage error)
 * undoes exactly this request's writes and replies. A Ping only reads: it is the most frequent
 * request (every node, every heartbeat) and the cheapest one a flooding peer can send, while a
 * child transaction allocates its dirty-page lists (about 2.5 MiB) each time, so it runs in
 * `txn` itself. */
static void
broker_apply(broker_t *self, MDB_txn *txn, dispatch_req_t *req, const zmq_msg_t *rid)
{
    const dispatch_ctx_t ctx = broker_dispatch_ctx(self);
    const char *why = NULL;
    MDB_txn *child = NULL;
    size_t mark = batch_mark(self->batch);
    Refnet__Status st;
    bool read_only = req->env->body_case == REFNET__ENVELOPE__BODY_PING;
    int rc = read_only ? 0 : store_err(mdb_txn_begin(store_env(self->store), txn, 0, &child));
    if (read_only) {
        req->txn = txn;
        st = dispatch_handle(&ctx, req, &why);
    } else if (rc) {
        st = dispatch_status(rc, &why);
    } else {
        req->txn = child;
        st = dispatch_handle(&ctx, req, &why);
        if (st == REFNET__STATUS__STATUS_OK)
            st = dispatch_status(store_commit(&child), &why);
        store_abort(&child);
    }
    if (st != REFNET__STATUS__STATUS_OK)
        broker_refused(self, req, rid, mark, st, why);
}

/* The requests of the hot path: mail, acks and pings. */
static bool
broker_hot(Refnet__Envelope__BodyCase body)
{
    return body == REFNET__ENVELOPE__BODY_MAIL || body == REFNET__ENVELOPE__BODY_ACK ||
           body == REFNET__ENVELOPE__BODY_PING;
}

/* Runs one hot request straight in the batch's transaction, without a child transaction.
 * A refusal before its first write (a check, a full mailbox) is handled as broker_apply would;
 * a failure after it (a refused step, a storage error) cannot be undone alone: returns false,
 * and the caller replays the batch (broker_batch). Other requests go through broker_apply. */
static bool
broker_apply_fast(broker_t *self, MDB_txn *txn, dispatch_req_t *req, const zmq_msg_t *rid)
{
    if (!broker_hot(req->env->body_case)) {
        broker_apply(self, txn, req, rid);
        return true;
    }
    const dispatch_ctx_t ctx = broker_dispatch_ctx(self);
    const char *why = NULL;
    bool wrote = false;
    size_t mark = batch_mark(self->batch);
    req->txn = txn;
    req->wrote = &wrote;
    Refnet__Status st = dispatch_handle(&ctx, req, &why);
    req->wrote = NULL;
    if (st == REFNET__STATUS__STATUS_OK)
        return true;
    if (wrote)
        return false;
    broker_refused(self, req, rid, mark, st, why);
    return true;
}

static void broker_check_enrolment(broker_t *self);

/* The sender of a frame, from its authenticated key. A key zauth accepted but the table does
 * not know was usually enrolled a moment ago: the table is checked against LMDB at once
 * (at most every BROKER_RETRY_MS, so an unknown key cannot make the broker reload in a loop). */
const agencies_entry_t *
broker_sender(broker_t *self, const char *key, uint64_t mono)
{
    const agencies_entry_t *agency = agencies_by_key(self->agencies, key);
    if (agency || mono - self->refreshed_mono < BROKER_RETRY_MS)
        return agency;
    broker_check_enrolment(self);
    return agencies_by_key(self->agencies, key);
}

/* Builds the request of a decoded slot. The sender and its presence entry are looked up again
 * by id: a later frame of the batch may have reloaded either table. Returns false (and
 * refuses the request) when the agency is gone. */
static bool
broker_request(broker_t *self, broker_slot_t *slot, uint64_t now_ms, dispatch_req_t *req)
{
    Refnet__Envelope *env = (Refnet__Envelope *)pbuf_msg(slot->pb);
    *req = (dispatch_req_t){ .agency = agencies_by_id(self->agencies, slot->agency),
                             .peer = presence_get(self->presence, slot->agency),
                             .env = env,
                             .now_ms = now_ms };
    if (req->agency && req->peer)
        return true;
    broker_refuse(self, slot->rid, &env->msg_id, REFNET__STATUS__STATUS_FORBIDDEN,
                  "this key is not enrolled as an agency");
    return false;
}

/* Applies every decoded slot in `txn`: on the fast path (broker_apply_fast) until one of them
 * needs the batch replayed, which returns false; otherwise each in its own child transaction.
 * Without a transaction, every request is answered with an error. */
static bool
broker_apply_all(broker_t *self, MDB_txn *txn, size_t n, uint64_t now_ms, bool fast)
{
    for (size_t i = 0; i < n; i++) {
        broker_slot_t *slot = &self->slots[i];
        dispatch_req_t req;
        if (!slot->pb || !broker_request(self, slot, now_ms, &req))
            continue;
        if (!txn)
            broker_refuse(self, slot->rid, &req.env->msg_id, REFNET__STATUS__STATUS_INTERNAL,
                          "the broker could not open its storage; the request was not applied");
        else if (!fast)
            broker_apply(self, txn, &req, slot->rid);
        else if (!broker_apply_fast(self, txn, &req, slot->rid))
            return false;
    }
    return true;
}

/* ---- group commit ------------------------------------------------------------------------- */

/* Sends one frame of replies (packer_send_fn). */
static void
broker_send_frame(
    void *arg, const uint8_t *rid, size_t rid_len, const uint8_t *frame, size_t len, size_t items)
{
    broker_t *self = arg;
    int rc = bsock_send(zsock_resolve(self->router), rid, rid_len, frame, len);
    if (rc == BSOCK_BUSY)
        self->counters.peer_busy++; /* the node resends what it got no answer for */
    else if (rc)
        self->counters.peer_gone++;
    else if (items > 1)
        self->counters.batches_out++;
}

static void
broker_send_reply(broker_t *self, const batch_entry_t *e)
{
    broker_send_frame(self, e->rid, e->rid_len, e->frame, e->len, 1);
}

/* The senders of the `n` requests in the slots whose session asked for Batch frames: their
 * answers are packed. */
static void
broker_allow_packing(broker_t *self, size_t n)
{
    const zmq_msg_t *last = NULL;
    for (size_t i = 0; i < n; i++) {
        const broker_slot_t *slot = &self->slots[i];
        if (!slot->pb || slot->rid == last)
            continue;
        last = slot->rid;
        const presence_peer_t *peer = presence_get(self->presence, slot->agency);
        size_t len = zmq_msg_size((zmq_msg_t *)slot->rid);
        /* Only the current session: a reply to an older routing id goes alone. */
        if (peer && peer->batches && peer->rid_len == len &&
            memcmp(peer->rid, zmq_msg_data((zmq_msg_t *)slot->rid), len) == 0)
            packer_allow(self->packer, peer->rid, peer->rid_len);
    }
}

/* Answers a durable reply's request with the commit's failure instead. */
static void
broker_send_failure(broker_t *self, const batch_entry_t *e, int commit_rc)
{
    const char *why = NULL;
    const ProtobufCBinaryData ref = { e->ref_len, (uint8_t *)e->ref };
    uint8_t *frame = NULL;
    size_t len = 0;
    Refnet__Status st = dispatch_status(commit_rc, &why);
    self->counters.refused++;
    if (dispatch_result_frame(&ref, st, why, 0, batch_ids(self->batch), &frame, &len) == 0)
        (void)bsock_send(zsock_resolve(self->router), e->rid, e->rid_len, frame, len);
    free(frame);
}

static void
broker_kick(broker_t *self, const batch_entry_t *e, uint64_t mono)
{
    presence_peer_t *peer = presence_get(self->presence, e->agency);
    if (!peer)
        return;
    if (e->acked)
        presence_acked(peer, e->acked, mono);
    peer->pending = true;
}

/* Sends what the batch queued: everything after a successful commit, each peer's replies
 * packed when it takes Batch frames; after a failed one, only the replies that did not depend
 * on it, and errors for those that did, one per frame. */
static void
broker_flush(broker_t *self, int commit_rc, uint64_t mono)
{
    const pump_ctx_t pctx = broker_pump_ctx(self);
    size_t n = batch_mark(self->batch);
    if (commit_rc != 0)
        broker_unstored(self, 0);
    for (size_t i = 0; i < n; i++) {
        batch_entry_t *e = batch_at(self->batch, i);
        if (e->kind == BATCH_REPLY && commit_rc == 0 &&
            packer_add(self->packer, e->rid, e->rid_len, e->frame, e->len, broker_send_frame, self))
            continue;
        if (e->kind == BATCH_REPLY && (commit_rc == 0 || !e->durable))
            broker_send_reply(self, e);
        else if (e->kind == BATCH_REPLY)
            broker_send_failure(self, e, commit_rc);
        else if (e->kind == BATCH_FANOUT && commit_rc == 0)
            pump_fanout(&pctx, e->frame, e->len, e->seq);
        else if (e->kind == BATCH_KICK && commit_rc == 0)
            broker_kick(self, e, mono);
    }
    packer_flush(self->packer, broker_send_frame, self);
    batch_clear(self->batch);
}

static MDB_txn *
broker_begin(broker_t *self)
{
    MDB_txn *txn = NULL;
    int rc = store_begin(self->store, false, &txn);
    if (rc)
        log_error("cannot begin a write transaction: %s", refnet_strerror(rc));
    return txn;
}

/* Applies the received requests in one write transaction. The fast path runs mail, acks and
 * pings without a child transaction each (whose dirty-page lists cost more than the request).
 * When one of them fails after writing, the transaction cannot take back just its writes: it
 * is aborted, everything the batch queued since `mark` is dropped (its stored mails are handed
 * back to their pairs' holds, newest first, as for a failed commit), the counters are restored,
 * and the batch is applied again from the start with a child transaction per request, which
 * gives every request exactly the outcome it always had. Returns the transaction to commit. */
static MDB_txn *
broker_apply_batch(broker_t *self, size_t n, uint64_t now_ms)
{
    const counters_t checked = self->counters;
    size_t mark = batch_mark(self->batch);
    MDB_txn *txn = broker_begin(self);
    if (broker_apply_all(self, txn, n, now_ms, txn != NULL))
        return txn;
    store_abort(&txn);
    broker_unstored(self, mark);
    batch_rollback(self->batch, mark);
    self->counters = checked;
    self->counters.replays++;
    txn = broker_begin(self);
    (void)broker_apply_all(self, txn, n, now_ms, false);
    return txn;
}

/* Whether the first `n` slots hold a Hello or a DirSync: requests whose answer must reach
 * their session before anything else is pumped to it. */
static bool
broker_group_opens_session(const broker_t *self, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const broker_slot_t *slot = &self->slots[i];
        if (!slot->pb)
            continue;
        Refnet__Envelope__BodyCase body = ((const Refnet__Envelope *)pbuf_msg(slot->pb))->body_case;
        if (body == REFNET__ENVELOPE__BODY_HELLO || body == REFNET__ENVELOPE__BODY_SYNC)
            return true;
    }
    return false;
}

/* The peers a group's receipts are for (at most BROKER_EARLY_PEERS, each once), and whether
 * the group also stored other mail for them. */
typedef struct {
    presence_peer_t *peer[BROKER_EARLY_PEERS];
    bool stored[BROKER_EARLY_PEERS];
    size_t n;
} broker_early_t;

static void
broker_early_collect(broker_t *self, broker_early_t *out)
{
    size_t entries = batch_mark(self->batch);
    out->n = 0;
    for (size_t i = 0; i < entries && out->n < BROKER_EARLY_PEERS; i++) {
        const batch_entry_t *e = batch_at(self->batch, i);
        presence_peer_t *peer =
            e->kind == BATCH_KICK && e->receipts ? presence_get(self->presence, e->agency) : NULL;
        bool seen = false;
        for (size_t j = 0; peer && j < out->n && !seen; j++)
            seen = out->peer[j] == peer;
        if (peer && !seen) {
            out->stored[out->n] = false;
            out->peer[out->n++] = peer;
        }
    }
    for (size_t i = 0; i < entries && out->n > 0; i++) {
        const batch_entry_t *e = batch_at(self->batch, i);
        for (size_t j = 0; e->kind == BATCH_STORED && j < out->n; j++)
            if (strcmp(out->peer[j]->agency, e->to) == 0)
                out->stored[j] = true;
    }
}

/* Sends the receipts the group made before its commit, as `txn` sees them. What a receipt
 * reports is true already: the recipient committed the message before acknowledging it. If
 * the commit is lost, the message is still queued, so the broker delivers it again, the
 * recipient drops the duplicate by its msg_id and acknowledges it again, and the sender gets a
 * second receipt for it, which changes nothing (a handoff's delivery time is set once); the
 * sender's ack of the lost receipt mail is a stray ack. This leaves two synced commits between
 * a message and its receipt: the broker storing it and the recipient applying it.
 * Only receipt mail leaves early: a peer for which the group stored other mail is left to the
 * pump (mail is delivered only once stored). Nothing leaves early in a group that opens a
 * session (a new connection, a Hello, a DirSync), so that a session's Welcome comes first.
 * `sessions` is presence_sessions() before the group was read. Returns whether any went. */
static bool
broker_early_receipts(
    broker_t *self, MDB_txn *txn, size_t n, size_t sessions, uint64_t now_ms, uint64_t mono)
{
    broker_early_t early;
    size_t sent = 0;
    if (presence_sessions(self->presence) != sessions || broker_group_opens_session(self, n))
        return false;
    broker_early_collect(self, &early);
    const pump_ctx_t pctx = broker_pump_ctx(self);
    for (size_t j = 0; j < early.n; j++)
        if (!early.stored[j])
            sent += pump_peer_in(&pctx, early.peer[j], txn, now_ms, mono);
    self->counters.early_deliveries += sent;
    return sent > 0;
}

/* The commit of a group whose receipts left early failed: their peers' deliveries start over
 * from what is stored (the receipts they got name an acknowledgement the broker lost; the
 * recipient acknowledges again when the message comes back). */
static void
broker_early_undo(broker_t *self, uint64_t mono)
{
    broker_early_t early;
    broker_early_collect(self, &early);
    for (size_t j = 0; j < early.n; j++)
        if (!early.stored[j] && early.peer[j]->rid_len)
            presence_restart(early.peer[j], mono);
}

/* Drains up to BROKER_BATCH frames into one write transaction, sends the receipts it made,
 * commits it (synced), then sends what depended on the commit. */
static void
broker_batch(broker_t *self)
{
    uint64_t now_ms = clock_now_ms(), mono = clock_mono_ms();
    const counters_t before = self->counters;
    size_t sessions = presence_sessions(self->presence);
    int rc = 0;
    size_t n = broker_receive(self, now_ms, mono);
    MDB_txn *txn = broker_apply_batch(self, n, now_ms);
    if (txn) {
        bool early = broker_early_receipts(self, txn, n, sessions, now_ms, mono);
        rc = store_commit(&txn);
        self->counters.commits++;
        if (rc && early)
            broker_early_undo(self, mono);
        if (rc) {
            counters_undo_writes(&self->counters, &before);
            self->counters.commit_failures++;
            log_error("group commit failed: %s; answering its requests with an error",
                      refnet_strerror(rc));
        }
    }
    /* A rotated key is in zauth's folder before its OK goes out, so the node's reconnection
     * with the new key is never refused; the old key names no agency from now on. */
    if (!rc && self->counters.key_rotations != before.key_rotations)
        broker_check_enrolment(self);
    if (!rc)
        broker_allow_packing(self, n);
    broker_flush(self, rc, mono);
    broker_release(self, n);
}

/* ---- housekeeping ------------------------------------------------------------------------- */

static void
broker_check_enrolment(broker_t *self)
{
    bool changed = false;
    self->refreshed_mono = clock_mono_ms();
    int rc = agencies_refresh(self->agencies, &changed);
    if (rc) {
        log_error("cannot reload the enrolled agencies: %s", refnet_strerror(rc));
        return;
    }
    if (!changed)
        return;
    broker_seed_presence(self);
    /* zauth rereads the folder when its contents change, but a replaced certificate of the
     * same size in the same second can slip past that check; reloading is cheap. */
    zstr_sendx(self->auth, "CURVE", self->certs_dir, NULL);
    zsock_wait(self->auth);
}

/* Sends the signed AgencyKey of `agency` (its revocation, or its new key) to every online
 * node, as dispatch does for a new key. */
static void
broker_fanout_key(broker_t *self, const char *agency)
{
    const pump_ctx_t pctx = broker_pump_ctx(self);
    MDB_txn *txn = NULL;
    uint8_t *frame = NULL;
    size_t len = 0;
    uint64_t head = 0;
    int rc = store_begin(self->store, true, &txn);
    if (!rc)
        rc = dirhub_head(self->store, txn, &head);
    if (!rc)
        rc = sealkeys_frame(self->store, txn, agency, &frame, &len);
    store_abort(&txn);
    if (!rc)
        pump_fanout(&pctx, frame, len, head + 1);
    else if (rc != REFNET_ENOTFOUND)
        log_warn("cannot send the key of agency %s: %s", agency, refnet_strerror(rc));
    free(frame);
}

/* Acts at once on a revocation the admin socket committed: zauth stops accepting the key, its
 * live session is told Bye (retry_after 0: do not come back) and goes offline, and every
 * other node gets the signed revocation. Later frames under its key name no agency and are
 * refused. */
static void
broker_on_revoked(void *arg, const char *agency)
{
    broker_t *self = arg;
    uint8_t *frame = NULL;
    size_t len = 0;
    self->counters.revocations++;
    broker_check_enrolment(self);
    presence_peer_t *peer = presence_get(self->presence, agency);
    if (peer && peer->rid_len &&
        shun_bye_frame("agency revoked by the network's administrator", 0, &frame, &len) == 0)
        (void)bsock_send(zsock_resolve(self->router), peer->rid, peer->rid_len, frame, len);
    free(frame);
    if (peer)
        presence_gone(peer);
    broker_fanout_key(self, agency);
}

static void
broker_expired(void *arg, const char *receipt_to)
{
    broker_t *self = arg;
    self->counters.expired++;
    if (receipt_to[0])
        batch_kick(self->batch, receipt_to, 0);
}

/* Moves expired messages to the dead-letter list and tells their senders. */
static void
broker_expire(broker_t *self, uint64_t mono)
{
    MDB_txn *txn = NULL;
    size_t expired = 0;
    int rc = store_begin(self->store, false, &txn);
    if (!rc)
        rc = mailbox_sweep(self->mailbox, txn, clock_now_ms(), BROKER_EXPIRE_STEP, broker_expired,
                           self, &expired);
    if (!rc)
        rc = store_commit(&txn);
    store_abort(&txn);
    if (rc) {
        log_error("expiring messages failed: %s", refnet_strerror(rc));
        batch_clear(self->batch);
        return;
    }
    if (expired)
        log_info("expired %zu undelivered message(s) into the dead-letter list", expired);
    broker_flush(self, 0, mono);
}

/* Forgets directory tombstones older than the retention (dirhub.h); catch-ups under way that
 * still needed them start over as snapshots (pump_horizon_raised). */
static void
broker_compact(broker_t *self)
{
    const pump_ctx_t pctx = broker_pump_ctx(self);
    MDB_txn *txn = NULL;
    size_t removed = 0;
    uint64_t horizon = 0;
    uint64_t now = clock_now_ms();
    uint64_t cutoff =
        now > self->cfg.tombstone_retention_ms ? now - self->cfg.tombstone_retention_ms : 0;
    int rc = store_begin(self->store, false, &txn);
    if (!rc)
        rc = dirhub_compact(self->store, txn, cutoff, BROKER_COMPACT_STEP, &removed);
    if (!rc && removed)
        rc = dirhub_horizon(self->store, txn, &horizon);
    if (!rc)
        rc = store_commit(&txn);
    store_abort(&txn);
    if (rc) {
        log_error("compacting the directory failed: %s", refnet_strerror(rc));
        return;
    }
    if (!removed)
        return;
    log_info("compaction forgot %zu directory tombstone(s) past retention", removed);
    (void)pump_horizon_raised(&pctx, horizon);
}

static void
broker_tick(broker_t *self, uint64_t mono)
{
    const pump_ctx_t pctx = broker_pump_ctx(self);
    pump_timeouts(&pctx, mono, self->cfg.redeliver_ms);
    broker_expire(self, mono);
    broker_compact(self);
}

/* Persists each agency's last-seen time, so `refnet admin nodes` shows it after a restart. */
static void
broker_save_last_seen(broker_t *self)
{
    MDB_txn *txn = NULL;
    int rc = store_begin(self->store, false, &txn);
    for (size_t i = 0; !rc && i < presence_size(self->presence); i++) {
        const presence_peer_t *peer = presence_at(self->presence, i);
        if (peer->last_seen_mono == 0)
            continue; /* not heard from in this run */
        rc = agencies_save_last_seen(self->store, txn, peer->agency, peer->last_seen_ms);
        if (rc == REFNET_ENOTFOUND)
            rc = 0;
    }
    if (!rc)
        rc = store_commit(&txn);
    store_abort(&txn);
    if (rc)
        log_warn("could not save last-seen times: %s", refnet_strerror(rc));
}

/* ---- the loop ----------------------------------------------------------------------------- */

static bool
broker_stopping(const broker_t *self)
{
    return self->cfg.stop && atomic_load(self->cfg.stop) != 0;
}

static long
broker_timeout(uint64_t mono, uint64_t next_tick, uint64_t next_enroll, bool pending)
{
    uint64_t next = next_tick < next_enroll ? next_tick : next_enroll;
    long ms = next > mono ? (long)(next - mono) : 0;
    if (pending && ms > BROKER_RETRY_MS)
        ms = BROKER_RETRY_MS;
    return ms;
}

int
broker_run(broker_t *self)
{
    const pump_ctx_t pctx = broker_pump_ctx(self);
    uint64_t mono = clock_mono_ms();
    uint64_t next_tick = mono + BROKER_TICK_MS, next_enroll = mono + BROKER_ENROLL_CHECK_MS;
    bool pending = false;
    zmq_pollitem_t items[2] = { { zsock_resolve(self->router), 0, ZMQ_POLLIN, 0 },
                                { admin_socket(self->admin), 0, ZMQ_POLLIN, 0 } };
    log_info("serving agencies on %s (heartbeat %u ms)", self->endpoint, self->cfg.heartbeat_ms);
    while (!broker_stopping(self)) {
        if (zmq_poll(items, 2, broker_timeout(mono, next_tick, next_enroll, pending)) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            log_error("poll failed: %s", zmq_strerror(zmq_errno()));
            return REFNET_EIO;
        }
        if (items[0].revents & ZMQ_POLLIN)
            broker_batch(self);
        mono = clock_mono_ms();
        if (items[1].revents & ZMQ_POLLIN)
            admin_serve(self->admin,
                        &(admin_view_t){ self->store, self->agencies, self->presence, self->mailbox,
                                         &self->counters, self->sign_sk, broker_on_revoked, self },
                        mono);
        if (mono >= next_enroll) {
            broker_check_enrolment(self);
            next_enroll = mono + BROKER_ENROLL_CHECK_MS;
        }
        if (mono >= next_tick) {
            broker_tick(self, mono);
            next_tick = mono + BROKER_TICK_MS;
        }
        pending = pump_all(&pctx, clock_now_ms(), clock_mono_ms());
    }
    log_info("stopping");
    broker_save_last_seen(self);
    return 0;
}
