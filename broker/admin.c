/* admin: the administration socket and its three reports (see admin.h). */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bsock.h"
#include "clock.h"
#include "flow.h"
#include "keys.h"
#include "log.h"
#include "path.h"
#include "refnet_error.h"
#include "wire.h"
#include "xmalloc.h"

struct admin {
    zsock_t *sock;
    char admin_key[KEYS_Z85_LEN];
    char ipc_path[PATH_MAX_LEN]; /* socket file to remove at close; "" when none */
};

/* ipc://PATH -> PATH, or NULL for other transports. */
static const char *
admin_ipc_path(const char *endpoint)
{
    return strncmp(endpoint, "ipc://", 6) == 0 ? endpoint + 6 : NULL;
}

int
admin_open(admin_t **out,
           const char *endpoint,
           zcert_t *cert,
           const char *admin_key,
           uint32_t heartbeat_ms)
{
    admin_t *self = xcalloc(1, sizeof *self);
    const char *path = admin_ipc_path(endpoint);
    int rc = REFNET_EIO;
    if (!keys_z85_valid(admin_key)) {
        rc = REFNET_EINVAL;
        goto err;
    }
    snprintf(self->admin_key, sizeof self->admin_key, "%s", admin_key);
    self->sock = zsock_new(ZMQ_ROUTER);
    if (!self->sock || bsock_setup_router(self->sock, cert, heartbeat_ms) != 0)
        goto err;
    if (zsock_bind(self->sock, "%s", endpoint) < 0) {
        log_error("admin: cannot bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
        goto err;
    }
    if (path) {
        snprintf(self->ipc_path, sizeof self->ipc_path, "%s", path);
        if (chmod(path, 0600) != 0) {
            log_error("admin: cannot make %s private", path);
            goto err;
        }
    }
    *out = self;
    return 0;
err:
    admin_destroy(&self);
    return rc;
}

void
admin_destroy(admin_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    admin_t *self = *self_p;
    zsock_destroy(&self->sock);
    /* libzmq leaves the socket file behind; a stale one would confuse clients. */
    if (self->ipc_path[0])
        unlink(self->ipc_path);
    free(self);
    *self_p = NULL;
}

void *
admin_socket(admin_t *self)
{
    return zsock_resolve(self->sock);
}

/* ---- replies ------------------------------------------------------------------------------ */

/* Encodes and sends `reply`. A reply over the frame limit loses rows from the end until it
 * fits, and says so. */
static void
admin_send(admin_t *self, const zmq_msg_t *rid, Refnet__AdminReply *reply)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    uint8_t msg_id[UID_MSGID_LEN], *frame = NULL;
    size_t len = 0;
    wire_stamp(&env, msg_id);
    env.body_case = REFNET__ENVELOPE__BODY_ADMIN_REPLY;
    env.admin_reply = reply;
    while (wire_encode(&env, &frame, &len) == REFNET_ETOOLARGE) {
        reply->n_agencies /= 2;
        reply->n_flow /= 2;
        reply->n_dead_letters /= 2;
        reply->detail = (char *)"the report was cut to fit in one frame";
    }
    int rc = bsock_send(zsock_resolve(self->sock), zmq_msg_data((zmq_msg_t *)rid),
                        zmq_msg_size((zmq_msg_t *)rid), frame, len);
    if (rc)
        log_warn("admin: reply not sent: %s", refnet_strerror(rc));
    free(frame);
}

/* A reply that is only a status and its sentence: a refusal, or a revocation's outcome. */
static void
admin_status(admin_t *self, const zmq_msg_t *rid, Refnet__Status status, const char *detail)
{
    Refnet__AdminReply reply = REFNET__ADMIN_REPLY__INIT;
    reply.status = status;
    reply.detail = (char *)detail;
    admin_send(self, rid, &reply);
}

/* One report under construction: the reply and the arrays it points into. */
typedef struct {
    Refnet__AdminReply reply;
    Refnet__AgencyInfo *infos;
    Refnet__FlowRow *rows;
    flow_stats_t stats;
    Refnet__DeadLetter *dead; /* rows of dead_letters; their strings and ids are copies */
    size_t ndead;             /* rows filled (admin_send may send fewer) */
} admin_report_t;

static void
admin_report_clear(admin_report_t *r)
{
    free(r->reply.agencies);
    free(r->reply.flow);
    free(r->infos);
    free(r->rows);
    flow_stats_clear(&r->stats);
    for (size_t i = 0; i < r->ndead; i++) {
        free(r->dead[i].msg_id.data);
        free(r->dead[i].from);
        free(r->dead[i].to);
        free(r->dead[i].handoff_id);
    }
    free(r->dead);
    free(r->reply.dead_letters);
}

static int
admin_nodes(const admin_view_t *view, MDB_txn *txn, admin_report_t *r, uint64_t mono)
{
    size_t n = agencies_count(view->agencies);
    r->reply.agencies = xcalloc(n ? n : 1, sizeof *r->reply.agencies);
    r->infos = xcalloc(n ? n : 1, sizeof *r->infos);
    for (size_t i = 0; i < n; i++) {
        const agencies_entry_t *e = agencies_at(view->agencies, i);
        const presence_peer_t *peer = presence_get(view->presence, e->id);
        Refnet__AgencyInfo *info = &r->infos[i];
        refnet__agency_info__init(info);
        info->id = (char *)e->id;
        info->name = (char *)e->name;
        info->revoked = e->revoked_at_ms != 0;
        info->online = !info->revoked && peer && presence_online(view->presence, peer, mono);
        info->last_seen_ms = peer && peer->last_seen_ms ? peer->last_seen_ms : e->last_seen_ms;
        info->bad_frames = peer ? peer->bad_frames : 0;
        int rc = mailbox_depth(view->mailbox, txn, e->id, &info->queued);
        if (rc)
            return rc;
        r->reply.agencies[i] = info;
    }
    r->reply.n_agencies = n;
    return 0;
}

static int
admin_flow(const admin_view_t *view, MDB_txn *txn, admin_report_t *r)
{
    const flow_stats_t *st = &r->stats;
    int rc = flow_stats(view->store, txn, &r->stats);
    if (rc)
        return rc;
    size_t n = st->nrows < WIRE_MAX_ADMIN_ROWS ? st->nrows : WIRE_MAX_ADMIN_ROWS;
    r->reply.flow = xcalloc(n ? n : 1, sizeof *r->reply.flow);
    r->rows = xcalloc(n ? n : 1, sizeof *r->rows);
    for (size_t i = 0; i < n; i++) {
        Refnet__FlowRow *row = &r->rows[i];
        refnet__flow_row__init(row);
        row->from = (char *)st->rows[i].from;
        row->to = (char *)st->rows[i].to;
        row->status = st->rows[i].status;
        row->count = st->rows[i].count;
        r->reply.flow[i] = row;
    }
    r->reply.n_flow = n;
    r->reply.handoffs = st->handoffs;
    r->reply.accepted_samples = st->accepted_samples;
    r->reply.median_accept_ms = st->median_accept_ms;
    r->reply.median_first_contact_ms = st->median_first_contact_ms;
    return 0;
}

/* Adds one dead letter to the report: who sent it to whom, when, and which handoff, read
 * from the stored envelope's addressing; its content is never decoded further. */
static void
admin_dead_one(void *arg, const uint8_t *msg_id, const Refnet__QueuedMail *qm)
{
    admin_report_t *r = arg;
    char why[WIRE_WHY_LEN];
    pbuf_t *pb = NULL;
    const char *from = qm->sender, *to = "";
    if (wire_decode(qm->envelope.data, qm->envelope.len, &pb, why) == 0) {
        const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
        if (env->body_case == REFNET__ENVELOPE__BODY_MAIL) {
            to = env->mail->to;
            from = env->mail->from[0] ? env->mail->from : from;
        }
    }
    Refnet__DeadLetter *d = &r->dead[r->ndead];
    refnet__dead_letter__init(d);
    d->msg_id.data = xmalloc(UID_MSGID_LEN);
    memcpy(d->msg_id.data, msg_id, UID_MSGID_LEN);
    d->msg_id.len = UID_MSGID_LEN;
    d->from = xstrdup(from);
    d->to = xstrdup(to);
    d->handoff_id = xstrdup(qm->handoff_id);
    d->stored_at_ms = qm->stored_at_ms;
    d->expired_at_ms = qm->expires_at_ms;
    r->reply.dead_letters[r->ndead++] = d;
    r->reply.n_dead_letters = r->ndead;
    pbuf_destroy(&pb);
}

static int
admin_dead(const admin_view_t *view, MDB_txn *txn, admin_report_t *r)
{
    r->dead = xcalloc(WIRE_MAX_ADMIN_ROWS, sizeof *r->dead);
    r->reply.dead_letters = xcalloc(WIRE_MAX_ADMIN_ROWS, sizeof *r->reply.dead_letters);
    return mailbox_dead_scan(view->mailbox, txn, WIRE_MAX_ADMIN_ROWS, admin_dead_one, r);
}

static int
admin_report(
    const admin_view_t *view, MDB_txn *txn, admin_report_t *r, Refnet__AdminOp op, uint64_t mono)
{
    switch (op) {
    case REFNET__ADMIN_OP__ADMIN_OP_NODES:
        return admin_nodes(view, txn, r, mono);
    case REFNET__ADMIN_OP__ADMIN_OP_DEAD_LETTERS:
        return admin_dead(view, txn, r);
    default:
        return admin_flow(view, txn, r);
    }
}

static void
admin_answer(admin_t *self,
             const admin_view_t *view,
             const zmq_msg_t *rid,
             Refnet__AdminOp op,
             uint64_t mono)
{
    admin_report_t r = { .reply = REFNET__ADMIN_REPLY__INIT };
    MDB_txn *txn = NULL;
    int rc = store_begin(view->store, true, &txn);
    if (!rc)
        rc = admin_report(view, txn, &r, op, mono);
    if (rc) {
        log_error("admin: cannot read the broker's state: %s", refnet_strerror(rc));
        r.reply.status = REFNET__STATUS__STATUS_INTERNAL;
        r.reply.detail = (char *)"the broker could not read its state";
        r.reply.n_agencies = r.reply.n_flow = 0;
        admin_report_clear(&r);
        r = (admin_report_t){ .reply = REFNET__ADMIN_REPLY__INIT };
        r.reply.status = REFNET__STATUS__STATUS_INTERNAL;
        r.reply.detail = (char *)"the broker could not read its state";
    }
    admin_send(self, rid, &r.reply);
    store_abort(&txn);
    admin_report_clear(&r);
    view->counters->admin_requests++;
}

/* ---- revocation --------------------------------------------------------------------------- */

static void
admin_revoke(admin_t *self, const admin_view_t *view, const zmq_msg_t *rid, const char *id)
{
    char why[WIRE_WHY_LEN] = "", detail[WIRE_WHY_LEN];
    MDB_txn *txn = NULL;
    bool already = false;
    int rc = view->sign_sk ? store_begin(view->store, false, &txn) : REFNET_EUNAVAIL;
    if (!rc)
        rc = agencies_revoke(view->store, txn, id, clock_now_ms(), view->sign_sk, &already, why);
    if (!rc)
        rc = store_commit(&txn);
    store_abort(&txn);
    view->counters->admin_requests++;
    if (rc) {
        log_warn("admin: revoking agency %s failed: %s", id, why[0] ? why : refnet_strerror(rc));
        admin_status(self, rid,
                     rc == REFNET_ENOTFOUND ? REFNET__STATUS__STATUS_NOT_FOUND
                                            : REFNET__STATUS__STATUS_INTERNAL,
                     why[0] ? why : "the broker could not store the revocation");
        return;
    }
    if (!already) {
        log_info("admin: agency %s revoked", id);
        if (view->revoked)
            view->revoked(view->revoked_arg, id);
    }
    snprintf(detail, sizeof detail, "agency %s %s revoked", id, already ? "was already" : "is");
    admin_status(self, rid, REFNET__STATUS__STATUS_OK, detail);
}

/* ---- requests ----------------------------------------------------------------------------- */

static void
admin_one(admin_t *self, const admin_view_t *view, bsock_msg_t *m, uint64_t mono)
{
    pbuf_t *pb = NULL;
    char why[WIRE_WHY_LEN];
    if (strcmp(m->user_id, self->admin_key) != 0) {
        view->counters->admin_refused++;
        log_warn("admin: refused a request from a key that is not the admin key");
        admin_status(self, &m->rid, REFNET__STATUS__STATUS_FORBIDDEN,
                     "only the admin key may use the admin socket");
        return;
    }
    int rc = m->well_formed ? wire_decode(zmq_msg_data(&m->body), zmq_msg_size(&m->body), &pb, why)
                            : REFNET_EDECODE;
    const Refnet__Envelope *env = rc ? NULL : (const Refnet__Envelope *)pbuf_msg(pb);
    if (!env || env->body_case != REFNET__ENVELOPE__BODY_ADMIN_REQUEST) {
        view->counters->admin_refused++;
        admin_status(self, &m->rid, REFNET__STATUS__STATUS_BAD_REQUEST,
                     env ? "the admin socket answers admin requests only"
                         : (m->well_formed ? why : "one frame per request"));
    } else if (env->admin_request->op == REFNET__ADMIN_OP__ADMIN_OP_REVOKE_AGENCY) {
        admin_revoke(self, view, &m->rid, env->admin_request->agency_id);
    } else {
        admin_answer(self, view, &m->rid, env->admin_request->op, mono);
    }
    pbuf_destroy(&pb);
}

void
admin_serve(admin_t *self, const admin_view_t *view, uint64_t mono)
{
    for (int i = 0; i < BROKER_ADMIN_BATCH; i++) {
        bsock_msg_t m;
        int rc = bsock_recv(zsock_resolve(self->sock), &m);
        if (rc == 0 && zmq_msg_size(&m.rid) > 0 && zmq_msg_more(&m.rid))
            admin_one(self, view, &m, mono);
        bsock_msg_close(&m);
        if (rc)
            break;
    }
}
