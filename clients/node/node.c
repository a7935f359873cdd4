/* node: the refnet-node daemon's context and its one event loop (see node.h). */
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "clock.h"
#include "consent.h"
#include "dirsync.h"
#include "inbound.h"
#include "link.h"
#include "log.h"
#include "node_limits.h"
#include "nodedb.h"
#include "path.h"
#include "peerkeys.h"
#include "pending.h"
#include "refnet_error.h"
#include "replica.h"
#include "rotate.h"
#include "seen.h"
#include "xmalloc.h"

struct node {
    char dir[PATH_MAX_LEN];
    char api_path[PATH_MAX_LEN];
    char *agency, *name, *broker, *broker_key;
    int lock_fd;
    bool locked; /* this process holds DIR/node.lock, so DIR/api.sock is its own */
    store_t *st;
    zcert_t *cert;
    uint8_t seal_pk[SEAL_KEY_LEN], seal_sk[SEAL_KEY_LEN]; /* sealing keypair (peerkeys.h) */
    link_t *link;
    zsock_t *api_sock;
    api_t *api;
    pending_t *pending;
    inbound_batch_t *batch;
    inbound_stats_t stats;
    uint64_t next_prune; /* monotonic ms */
    /* A key rotation waiting for the broker (rotate.h): its KeyRotate's msg_id, and the link's
     * refused-handshake count last looked at. */
    bool rotating;
    uint8_t rotate_id[UID_MSGID_LEN];
    uint64_t refused_seen;
};

/* ---- creation ------------------------------------------------------------------------- */

static int
node_write_meta(
    store_t *st, const char *agency, const char *name, const char *broker, const char *broker_key)
{
    MDB_txn *txn = NULL;
    MDB_dbi meta = store_db(st, NODEDB_META);
    int rc = store_begin(st, false, &txn);
    if (rc == 0)
        rc = store_put_str(txn, meta, "agency", agency);
    if (rc == 0)
        rc = store_put_str(txn, meta, "name", name);
    if (rc == 0)
        rc = store_put_str(txn, meta, "broker", broker);
    if (rc == 0)
        rc = store_put_str(txn, meta, "broker_key", broker_key);
    if (rc == 0)
        rc = store_put_u64(txn, meta, "dir_seq", 0);
    if (rc == 0)
        rc = store_commit(&txn);
    store_abort(&txn);
    return rc;
}

int
node_create(const char *dir,
            const char *agency,
            const char *name,
            const char *broker,
            const char *broker_key,
            size_t map_size,
            char public_z85[KEYS_Z85_LEN])
{
    char db[PATH_MAX_LEN], cert[PATH_MAX_LEN];
    store_t *st = NULL;
    int rc = path_mkdir(dir, 0700);
    if (rc == 0)
        rc = path_join(db, sizeof db, dir, "db");
    if (rc == 0)
        rc = path_join(cert, sizeof cert, dir, "agency.cert");
    if (rc != 0)
        return rc;
    if (path_exists(db) || path_exists(cert))
        return REFNET_EEXIST;
    rc = keys_create(dir, "agency", public_z85);
    if (rc == 0)
        rc = nodedb_open(&st, db, map_size);
    if (rc == 0)
        rc = node_write_meta(st, agency, name, broker, broker_key);
    store_destroy(&st);
    return rc;
}

int
node_create_seal(const char *dir, const uint8_t *broker_sign_key, size_t map_size)
{
    uint8_t pk[SEAL_KEY_LEN], sk[SEAL_KEY_LEN];
    char db[PATH_MAX_LEN];
    store_t *st = NULL;
    MDB_txn *txn = NULL;
    int rc = peerkeys_own(dir, pk, sk);
    sodium_memzero(sk, sizeof sk);
    if (rc != 0 || !broker_sign_key)
        return rc;
    rc = path_join(db, sizeof db, dir, "db");
    if (rc == 0)
        rc = nodedb_open(&st, db, map_size);
    if (rc == 0)
        rc = store_begin(st, false, &txn);
    if (rc == 0)
        rc = peerkeys_pin_broker(txn, st, broker_sign_key, SEAL_KEY_LEN);
    if (rc == 0)
        rc = store_commit(&txn);
    store_abort(&txn);
    store_destroy(&st);
    return rc;
}

/* ---- opening -------------------------------------------------------------------------- */

/* Takes DIR/node.lock so that two daemons never serve one folder (and one never removes the
 * other's live socket). */
static int
node_lock(node_t *self)
{
    char path[PATH_MAX_LEN];
    int rc = path_join(path, sizeof path, self->dir, "node.lock");
    if (rc != 0)
        return rc;
    self->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->lock_fd < 0) {
        log_error("node: cannot open %s: %s", path, strerror(errno));
        return REFNET_EIO;
    }
    if (flock(self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        log_error("node: another refnet-node is running on %s", self->dir);
        return REFNET_EEXIST;
    }
    self->locked = true;
    return 0;
}

static int
node_load_identity(node_t *self)
{
    MDB_txn *txn = NULL;
    MDB_dbi meta = store_db(self->st, NODEDB_META);
    int rc = store_begin(self->st, true, &txn);
    if (rc == 0)
        rc = store_get_str(txn, meta, "agency", &self->agency);
    if (rc == 0)
        rc = store_get_str(txn, meta, "name", &self->name);
    if (rc == 0)
        rc = store_get_str(txn, meta, "broker", &self->broker);
    if (rc == 0)
        rc = store_get_str(txn, meta, "broker_key", &self->broker_key);
    store_abort(&txn);
    if (rc == REFNET_ENOTFOUND)
        log_error("node: %s is not initialised (run refnet-node init)", self->dir);
    else if (rc != 0)
        log_error("node: cannot read the node's identity: %s", refnet_strerror(rc));
    return rc;
}

static int
node_open_store(node_t *self, size_t map_size)
{
    char db[PATH_MAX_LEN];
    int rc = path_join(db, sizeof db, self->dir, "db");
    if (rc != 0)
        return rc;
    if (!path_exists(db)) {
        log_error("node: %s is not initialised (run refnet-node init)", self->dir);
        return REFNET_ENOTFOUND;
    }
    rc = nodedb_open(&self->st, db, map_size);
    if (rc == 0)
        peerkeys_cache_start(self->st); /* shared sealing keys: no scalar mult per packet */
    return rc != 0 ? rc : node_load_identity(self);
}

/* Binds the API ROUTER on ipc://DIR/api.sock, readable by this user only. */
static int
node_bind_api(node_t *self)
{
    struct sockaddr_un sun;
    int rc = path_join(self->api_path, sizeof self->api_path, self->dir, "api.sock");
    if (rc != 0 || strlen(self->api_path) >= sizeof sun.sun_path) {
        log_error("node: the path of %s/api.sock is too long for a Unix socket", self->dir);
        self->api_path[0] = '\0';
        return REFNET_EINVAL;
    }
    if (path_exists(self->api_path) && unlink(self->api_path) == 0)
        log_info("node: removed a stale %s", self->api_path);
    self->api_sock = zsock_new(ZMQ_ROUTER);
    if (!self->api_sock)
        return REFNET_EIO;
    zsock_set_maxmsgsize(self->api_sock, NODE_API_MAX_FRAME);
    zsock_set_linger(self->api_sock, 0);
    if (zsock_bind(self->api_sock, "ipc://%s", self->api_path) != 0) {
        log_error("node: cannot bind ipc://%s: %s", self->api_path, zmq_strerror(zmq_errno()));
        return REFNET_EIO;
    }
    if (chmod(self->api_path, 0600) != 0) {
        log_error("node: cannot make %s private: %s", self->api_path, strerror(errno));
        return REFNET_EIO;
    }
    return 0;
}

static int
node_open_parts(node_t *self, const node_config_t *cfg)
{
    int rc = node_lock(self);
    if (rc == 0)
        rc = node_open_store(self, cfg->map_size);
    if (rc != 0)
        return rc;
    rc = rotate_recover(self->dir);
    if (rc == 0)
        rc = keys_load(self->dir, "agency", &self->cert);
    if (rc != 0) {
        log_error("node: cannot load the agency keypair in %s: %s", self->dir, refnet_strerror(rc));
        return rc;
    }
    rc = peerkeys_own(self->dir, self->seal_pk, self->seal_sk);
    if (rc != 0) {
        log_error("node: cannot load the sealing keypair in %s: %s", self->dir,
                  refnet_strerror(rc));
        return rc;
    }
    rc = link_open(&self->link, self->broker, self->broker_key, self->cert, self->agency,
                   cfg->heartbeat_ms);
    if (rc == 0)
        rc = node_bind_api(self);
    if (rc != 0)
        return rc;
    link_set_box_key(self->link, self->seal_pk);
    self->api = api_new(self->st, self->agency, self->name, self->broker);
    api_set_seal_key(self->api, self->seal_sk);
    api_set_link_stats(self->api, link_stats(self->link));
    self->pending = pending_new();
    self->batch = xcalloc(1, sizeof *self->batch);
    self->rotating = rotate_pending(self->dir, self->rotate_id);
    return 0;
}

int
node_open(node_t **out, const node_config_t *cfg)
{
    node_t *self = xcalloc(1, sizeof *self);
    self->lock_fd = -1;
    int rc = path_absolute(self->dir, sizeof self->dir, cfg->dir);
    if (rc != 0) {
        log_error("node: data folder %s: %s", cfg->dir, refnet_strerror(rc));
        goto err;
    }
    rc = node_open_parts(self, cfg);
    if (rc != 0)
        goto err;
    log_info("node: agency %s (%s) serving ipc://%s; broker %s", self->agency, self->name,
             self->api_path, self->broker);
    *out = self;
    return 0;
err:
    node_destroy(&self);
    return rc;
}

static void
node_log_stats(const node_t *self)
{
    const inbound_stats_t *d = &self->stats;
    if (self->link) {
        const link_stats_t *l = link_stats(self->link);
        log_info("node: link: in %llu frames (%llu batches) carrying %llu envelopes, %llu bad "
                 "frames, %llu bad batch items; out %llu frames (%llu batches) carrying %llu "
                 "envelopes",
                 (unsigned long long)l->frames_in, (unsigned long long)l->batches_in,
                 (unsigned long long)l->envelopes_in, (unsigned long long)l->bad_frames,
                 (unsigned long long)l->bad_items, (unsigned long long)l->frames_out,
                 (unsigned long long)l->batches_out, (unsigned long long)l->envelopes_out);
        log_info("node: link: %llu sent, %llu resent, %llu sessions, %llu connections lost, "
                 "%llu broker silences, %llu ended by Bye, %llu handshakes refused",
                 (unsigned long long)l->sent, (unsigned long long)l->resent,
                 (unsigned long long)l->welcomes, (unsigned long long)l->lost,
                 (unsigned long long)l->slow, (unsigned long long)l->byes,
                 (unsigned long long)l->refused);
    }
    log_info("node: mail %llu applied, %llu duplicate, %llu refused, %llu receipts; %llu "
             "directory updates; outbox %llu stored, %llu refused, %llu retried; %llu unexpected",
             (unsigned long long)d->mail_applied, (unsigned long long)d->mail_duplicate,
             (unsigned long long)d->mail_refused, (unsigned long long)d->receipts,
             (unsigned long long)d->dir_updates, (unsigned long long)d->stored,
             (unsigned long long)d->refused, (unsigned long long)d->retried,
             (unsigned long long)d->unexpected);
    if (self->api) {
        const api_stats_t *a = api_stats(self->api);
        log_info("node: api: %llu requests, %llu invalid, %llu refused, %llu failed",
                 (unsigned long long)a->requests, (unsigned long long)a->invalid,
                 (unsigned long long)a->refused, (unsigned long long)a->failed);
    }
}

void
node_destroy(node_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_t *self = *self_p;
    if (self->api)
        node_log_stats(self);
    free(self->batch);
    pending_destroy(&self->pending);
    api_destroy(&self->api);
    zsock_destroy(&self->api_sock);
    if (self->api_path[0] && self->locked)
        unlink(self->api_path);
    link_destroy(&self->link);
    zcert_destroy(&self->cert);
    peerkeys_cache_stop(self->st);
    store_destroy(&self->st);
    if (self->lock_fd >= 0)
        close(self->lock_fd);
    free(self->agency);
    free(self->name);
    free(self->broker);
    free(self->broker_key);
    sodium_memzero(self->seal_sk, sizeof self->seal_sk);
    free(self);
    *self_p = NULL;
}

/* ---- the loop ------------------------------------------------------------------------- */

/* Asks the broker for every directory change after this replica's head. */
static void
node_sync(node_t *self, uint64_t now)
{
    MDB_txn *txn = NULL;
    uint64_t head = 0;
    if (store_begin(self->st, true, &txn) != 0)
        return;
    int rc = replica_head(txn, self->st, &head);
    store_abort(&txn);
    if (rc == 0 && link_connected(self->link))
        link_request_sync(self->link, head, now);
}

/* Sends an answer to the API client addressed by `route`. A client that has gone away just
 * misses it. */
static void
node_api_send(node_t *self, const pending_route_t *route, const char *reply, size_t len)
{
    void *sock = zsock_resolve(self->api_sock);
    for (size_t i = 0; i < route->n; i++)
        if (zmq_send(sock, route->frame[i], route->len[i], ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
            return;
    if (zmq_send(sock, reply, len, ZMQ_DONTWAIT) < 0)
        log_debug("node: an API answer could not be sent: %s", zmq_strerror(zmq_errno()));
}

/* Answers `directory.verify`, or asks the broker again while the node's head differs from the
 * broker's seq (dirsync.h), within the request's deadline. */
static void
node_answer_verify(node_t *self, const pending_item_t *it, bool answered, const inbound_answer_t *a)
{
    uint64_t now = clock_mono_ms();
    uint8_t msg_id[UID_MSGID_LEN];
    bool again = false;
    size_t len = 0;
    Refnet__Status status = a ? a->status : REFNET__STATUS__STATUS_OK;
    char *reply =
        dirsync_verify_answer(self->st, answered, status, now >= it->deadline, &again, &len);
    if (again && dirsync_verify_again(self->st, clock_now_ms(), msg_id) == 0 &&
        pending_add(self->pending, &it->route, msg_id, it->subject, it->deadline) == 0) {
        link_pump(self->link, self->st, now);
        return;
    }
    if (again)
        reply = dirsync_verify_answer(self->st, answered, status, true, &again, &len);
    if (reply)
        node_api_send(self, &it->route, reply, len);
    free(reply);
}

static void
node_answer_pending(node_t *self,
                    const pending_item_t *it,
                    bool answered,
                    const inbound_answer_t *a)
{
    size_t len = 0;
    if (dirsync_is_verify(it->subject)) {
        node_answer_verify(self, it, answered, a);
        return;
    }
    char *reply = api_broker_answer(it->subject, answered, a ? a->status : 0, a ? a->seq : 0,
                                    a ? a->detail : "", &len);
    node_api_send(self, &it->route, reply, len);
    free(reply);
}

/* ---- key rotation (rotate.h) ------------------------------------------------------------ */

/* Loads the keys a rotation put in place and reconnects with them. */
static void
node_rekey(node_t *self, uint64_t now)
{
    zcert_t *cert = NULL;
    int rc = keys_load(self->dir, "agency", &cert);
    if (rc == 0)
        rc = peerkeys_own(self->dir, self->seal_pk, self->seal_sk);
    self->rotating = false;
    if (rc != 0) {
        log_error("node: cannot load the rotated keys: %s; restart the node", refnet_strerror(rc));
        zcert_destroy(&cert);
        return;
    }
    link_set_box_key(self->link, self->seal_pk);
    api_set_seal_key(self->api, self->seal_sk);
    link_set_cert(self->link, cert, now);
    zcert_destroy(&self->cert);
    self->cert = cert;
    log_info("node: key rotation done; agency %s now uses its new keys", self->agency);
}

/* The broker's final answer to the KeyRotate: promote the new keys, or drop them. */
static void
node_rotate_answer(node_t *self, const inbound_answer_t *a, uint64_t now)
{
    if (!self->rotating || memcmp(a->msg_id, self->rotate_id, UID_MSGID_LEN) != 0)
        return;
    if (a->status != REFNET__STATUS__STATUS_OK) {
        log_error("node: the broker refused the key rotation: %s; the old keys stay",
                  a->detail[0] ? a->detail : "no reason given");
        rotate_abandon(self->dir);
        self->rotating = false;
        return;
    }
    if (rotate_commit(self->dir) == 0)
        node_rekey(self, now);
}

/* A handshake refused while a rotation waits means the broker committed the new key and the
 * answer was lost (the node stopped, or the connection broke): the new keys are the agency's. */
static void
node_rotate_refused(node_t *self, uint64_t now)
{
    uint64_t refused = link_stats(self->link)->refused;
    bool fresh = refused != self->refused_seen;
    self->refused_seen = refused;
    if (!self->rotating || !fresh)
        return;
    log_warn("node: the broker refuses the old key during a key rotation; taking the new keys");
    if (rotate_commit(self->dir) == 0)
        node_rekey(self, now);
}

/* After a committed batch: acknowledge, answer waiting API requests, catch up, pump. */
static void
node_after_commit(node_t *self, uint64_t now)
{
    inbound_batch_t *b = self->batch;
    pending_item_t it;
    if (b->nacks)
        link_send_acks(self->link, (const uint8_t(*)[16])b->acks, b->nacks);
    for (size_t i = 0; i < b->nanswers; i++) {
        node_rotate_answer(self, &b->answers[i], now); /* done before rotate-key hears of it */
        if (pending_take(self->pending, b->answers[i].msg_id, &it))
            node_answer_pending(self, &it, true, &b->answers[i]);
    }
    if (b->need_sync)
        node_sync(self, now);
    link_pump(self->link, self->st, now);
}

/* Reads up to NODE_BATCH broker envelopes (a Batch frame's items count one each, and a batch
 * may run on into the next transaction), applies them in one transaction and commits. */
static void
node_broker_batch(node_t *self)
{
    MDB_txn *txn = NULL;
    char why[WIRE_WHY_LEN];
    uint64_t now = clock_mono_ms();
    if (store_begin(self->st, false, &txn) != 0)
        return;
    inbound_begin(self->batch, self->st, txn, self->link, self->agency, &self->stats,
                  clock_now_ms(), now);
    self->batch->seal_sk = self->seal_sk;
    for (int i = 0; i < NODE_BATCH; i++) {
        pbuf_t *pb = NULL;
        /* The clock of each envelope, not of the batch: applying a batch of snapshot chunks
         * takes seconds, which must not read as broker silence. */
        int rc = link_recv(self->link, clock_mono_ms(), &pb, why);
        if (rc == 1)
            break;
        if (rc == 0)
            inbound_envelope(self->batch, (const Refnet__Envelope *)pbuf_msg(pb));
        pbuf_destroy(&pb);
    }
    int rc = self->batch->failed ? self->batch->failed : store_commit(&txn);
    store_abort(&txn);
    if (rc != 0) {
        /* Nothing of the batch happened: the broker delivers again, unanswered outbox items
         * are sent again. */
        log_error("node: a batch of broker messages was not applied: %s", refnet_strerror(rc));
        link_restart_window(self->link);
        return;
    }
    node_after_commit(self, now);
}

/* Receives one API request: route frames into *route, body into *body. Returns 0, 1 when
 * none waits, or REFNET_EINVAL for a request with a malformed envelope (dropped). */
static int
node_api_recv(node_t *self, pending_route_t *route, zmq_msg_t *body)
{
    void *sock = zsock_resolve(self->api_sock);
    int rc = 0;
    route->n = 0;
    if (zmq_msg_recv(body, sock, ZMQ_DONTWAIT) < 0)
        return 1;
    while (zmq_msg_more(body)) {
        if (route->n < NODE_API_MAX_ENVELOPE_FRAMES && zmq_msg_size(body) <= PENDING_FRAME_MAX) {
            memcpy(route->frame[route->n], zmq_msg_data(body), zmq_msg_size(body));
            route->len[route->n++] = zmq_msg_size(body);
        } else {
            rc = REFNET_EINVAL;
        }
        zmq_msg_close(body);
        zmq_msg_init(body);
        if (zmq_msg_recv(body, sock, ZMQ_DONTWAIT) < 0)
            return REFNET_EINVAL;
    }
    if (route->n == 0)
        rc = REFNET_EINVAL; /* a ROUTER always prepends the routing id */
    return rc;
}

static void
node_api_one(node_t *self, const pending_route_t *route, zmq_msg_t *body, uint64_t now)
{
    api_outcome_t out;
    api_handle(self->api, zmq_msg_data(body), zmq_msg_size(body), link_connected(self->link), &out);
    if (out.pending && strcmp(out.subject, ROTATE_SUBJECT) == 0) {
        self->rotating = true;
        memcpy(self->rotate_id, out.msg_id, UID_MSGID_LEN);
    }
    if (!out.pending) {
        node_api_send(self, route, out.reply, out.reply_len);
        free(out.reply);
        return;
    }
    if (pending_add(self->pending, route, out.msg_id, out.subject, now + NODE_DIR_WAIT_MS) != 0) {
        pending_item_t it = { .route = *route };
        snprintf(it.subject, sizeof it.subject, "%s", out.subject);
        node_answer_pending(self, &it, false, NULL);
    }
}

/* Serves up to NODE_API_BATCH requests, then sends what they queued in the outbox: together,
 * so that the items share frames when the broker takes batches. */
static void
node_api_batch(node_t *self)
{
    pending_route_t route;
    uint64_t now = clock_mono_ms();
    for (int i = 0; i < NODE_API_BATCH; i++) {
        zmq_msg_t body;
        zmq_msg_init(&body);
        int rc = node_api_recv(self, &route, &body);
        if (rc == 0)
            node_api_one(self, &route, &body, now);
        else if (rc < 0)
            log_warn("node: dropped an API request with a malformed envelope");
        zmq_msg_close(&body);
        if (rc == 1)
            break;
    }
    link_pump(self->link, self->st, now);
}

/* Records consents that passed their expiry date in the audit log (consent.h). */
static void
node_note_expired(node_t *self, uint64_t wall)
{
    MDB_txn *txn = NULL;
    size_t noted = 0;
    if (store_begin(self->st, false, &txn) == 0 &&
        consent_note_expired(txn, self->st, wall, NODE_CONSENT_EXPIRY_MAX, &noted) == 0 &&
        store_commit(&txn) == 0 && noted)
        log_info("node: %zu consent(s) expired; recorded in the audit log", noted);
    store_abort(&txn);
}

/* Timers: the link's, waiting API requests past their deadline, seen-id pruning and consent
 * expiry. Returns the poll timeout in ms. */
static int
node_timers(node_t *self)
{
    uint64_t now = clock_mono_ms();
    bool need_sync = false;
    pending_item_t it;
    int timeout = link_tick(self->link, self->st, now, &need_sync);
    if (need_sync)
        node_sync(self, now);
    while (pending_take_expired(self->pending, now, &it))
        node_answer_pending(self, &it, false, NULL);
    int p = pending_timeout(self->pending, now);
    if (p >= 0 && p < timeout)
        timeout = p;
    if (now >= self->next_prune) {
        MDB_txn *txn = NULL;
        size_t removed = 0;
        uint64_t wall = clock_now_ms();
        self->next_prune = now + NODE_SEEN_PRUNE_INTERVAL_MS;
        if (store_begin(self->st, false, &txn) == 0 && wall > NODE_SEEN_RETENTION_MS &&
            seen_prune(txn, self->st, wall - NODE_SEEN_RETENTION_MS, NODE_SEEN_PRUNE_MAX,
                       &removed) == 0 &&
            store_commit(&txn) == 0 && removed)
            log_info("node: forgot %zu delivered message ids past retention", removed);
        store_abort(&txn);
        node_note_expired(self, wall);
    }
    return timeout < 1 ? 1 : timeout;
}

void
node_set_stale_after(node_t *self, uint64_t ms)
{
    api_set_stale_after(self->api, ms);
}

int
node_run(node_t *self, volatile sig_atomic_t *stop)
{
    while (!*stop) {
        int timeout = node_timers(self);
        /* The rest of a received batch is ready now, whatever the socket says. */
        bool backlog = link_backlog(self->link);
        if (backlog)
            timeout = 0;
        /* Built each turn: the link replaces its sockets after a refused handshake. */
        zmq_pollitem_t items[] = {
            { link_monitor_socket(self->link), 0, ZMQ_POLLIN, 0 },
            { link_socket(self->link), 0, ZMQ_POLLIN, 0 },
            { zsock_resolve(self->api_sock), 0, ZMQ_POLLIN, 0 },
        };
        if (zmq_poll(items, 3, timeout) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            log_error("node: poll failed: %s", zmq_strerror(zmq_errno()));
            return REFNET_EIO;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            link_on_monitor(self->link, self->st, clock_mono_ms());
            node_rotate_refused(self, clock_mono_ms());
        }
        if ((items[1].revents & ZMQ_POLLIN) || (backlog && link_backlog(self->link)))
            node_broker_batch(self);
        if (items[2].revents & ZMQ_POLLIN)
            node_api_batch(self);
    }
    log_info("node: stopping");
    return 0;
}
