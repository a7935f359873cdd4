/* refnet_admin: admin client of the broker (see admin.h).
 *
 * One DEALER socket, CURVE client with the admin keypair, one request in flight at a time.
 * Like the node client, it drops its socket after a timeout so a late reply to an old request
 * cannot be read as the reply to a new one. */
#include "admin.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "endpoint.h"
#include "enums.h"
#include "keys.h"
#include "refnet_error.h"
#include "uid.h"
#include "wire.h"
#include "xmalloc.h"

struct refnet_admin {
    void *ctx;
    void *sock; /* DEALER; NULL until the first request and after a timeout */
    char *broker_dir;
    char path[ENDPOINT_LEN];
    char endpoint[ENDPOINT_LEN];
    char public_key[KEYS_Z85_LEN];
    char secret_key[KEYS_Z85_LEN];
    char server_key[KEYS_Z85_LEN];
    int timeout_ms;
};

int
refnet_admin_status_code(Refnet__Status status)
{
    switch (status) {
    case REFNET__STATUS__STATUS_OK:
        return 0;
    case REFNET__STATUS__STATUS_BAD_REQUEST:
        return REFNET_EINVAL;
    case REFNET__STATUS__STATUS_VERSION:
        return REFNET_EVERSION;
    case REFNET__STATUS__STATUS_FORBIDDEN:
        return REFNET_EFORBIDDEN;
    case REFNET__STATUS__STATUS_INVALID_TRANSITION:
        return REFNET_ETRANSITION;
    case REFNET__STATUS__STATUS_NOT_FOUND:
    case REFNET__STATUS__STATUS_UNKNOWN_RECIPIENT:
        return REFNET_ENOTFOUND;
    case REFNET__STATUS__STATUS_QUEUE_FULL:
        return REFNET_EQUEUEFULL;
    case REFNET__STATUS__STATUS_TOO_LARGE:
        return REFNET_ETOOLARGE;
    case REFNET__STATUS__STATUS_STORAGE_FULL:
        return REFNET_EFULL;
    default:
        return REFNET_ESTORAGE;
    }
}

/* Reads the admin keypair and the broker's public key. The secret key stays in this struct
 * and is wiped on destroy. */
static int
admin_load_keys(refnet_admin_t *self, refnet_client_error_t *err)
{
    zcert_t *cert = NULL;
    int rc = keys_load(self->broker_dir, "admin", &cert);
    if (rc != 0)
        return refnet_client_error_set(err, rc, "cannot use the admin key %s/admin.cert_secret: %s",
                                       self->broker_dir, refnet_strerror(rc));
    snprintf(self->public_key, sizeof self->public_key, "%s", zcert_public_txt(cert));
    snprintf(self->secret_key, sizeof self->secret_key, "%s", zcert_secret_txt(cert));
    zcert_destroy(&cert);
    rc = keys_load_public(self->broker_dir, "broker", self->server_key);
    if (rc != 0)
        return refnet_client_error_set(err, rc, "cannot read the broker key %s/broker.cert: %s",
                                       self->broker_dir, refnet_strerror(rc));
    return 0;
}

static void
admin_close_socket(refnet_admin_t *self)
{
    if (self->sock)
        zmq_close(self->sock);
    self->sock = NULL;
}

static int
admin_connect(refnet_admin_t *self, refnet_client_error_t *err)
{
    int rc = endpoint_reach(self->path, "broker", self->broker_dir, "refnet-broker", err);
    if (rc != 0)
        return rc;
    self->sock = endpoint_socket(self->ctx, ZMQ_DEALER, WIRE_MAX_FRAME, self->timeout_ms, err);
    if (!self->sock)
        return REFNET_EIO;
    if (zmq_setsockopt(self->sock, ZMQ_CURVE_SERVERKEY, self->server_key, 40) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_CURVE_PUBLICKEY, self->public_key, 40) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_CURVE_SECRETKEY, self->secret_key, 40) != 0 ||
        zmq_connect(self->sock, self->endpoint) != 0) {
        rc = refnet_client_error_set(err, REFNET_EIO, "cannot connect to %s: %s", self->endpoint,
                                     zmq_strerror(zmq_errno()));
        admin_close_socket(self);
        return rc;
    }
    return 0;
}

int
refnet_admin_open(refnet_admin_t **out, const char *broker_dir, refnet_client_error_t *err)
{
    refnet_admin_t *self = NULL;
    int rc;
    *out = NULL;
    if (!broker_dir || !*broker_dir)
        return refnet_client_error_set(err, REFNET_EINVAL, "no broker data folder given");
    self = xcalloc(1, sizeof *self);
    self->broker_dir = xstrdup(broker_dir);
    self->timeout_ms = REFNET_ADMIN_TIMEOUT_MS;
    if (endpoint_ipc(broker_dir, "admin.sock", self->path, self->endpoint) != 0) {
        rc = refnet_client_error_set(
            err, REFNET_EINVAL, "the broker folder path %s is too long for a socket", broker_dir);
        goto fail;
    }
    if ((rc = admin_load_keys(self, err)) != 0 ||
        (rc = endpoint_reach(self->path, "broker", self->broker_dir, "refnet-broker", err)) != 0)
        goto fail;
    self->ctx = zmq_ctx_new();
    if (!self->ctx) {
        rc = refnet_client_error_set(err, REFNET_EIO, "cannot start ZeroMQ: %s",
                                     zmq_strerror(zmq_errno()));
        goto fail;
    }
    *out = self;
    return 0;
fail:
    refnet_admin_destroy(&self);
    return rc;
}

void
refnet_admin_destroy(refnet_admin_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    refnet_admin_t *self = *self_p;
    admin_close_socket(self);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    free(self->broker_dir);
    /* The admin secret key must not linger in freed heap memory. */
    memset(self->secret_key, 0, sizeof self->secret_key);
    free(self);
    *self_p = NULL;
}

void
refnet_admin_set_timeout(refnet_admin_t *self, int timeout_ms)
{
    if (!self || timeout_ms <= 0)
        return;
    self->timeout_ms = timeout_ms;
    if (self->sock) {
        zmq_setsockopt(self->sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
        zmq_setsockopt(self->sock, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms);
    }
}

static json_t *
admin_time_json(uint64_t ms)
{
    char iso[CLOCK_ISO_LEN];
    if (ms == 0)
        return json_null();
    clock_format_iso(ms, iso);
    return json_string(iso);
}

/* json_string refuses invalid UTF-8; the decoder already validated it, so this only guards
 * against a broken reply turning into a missing key. */
static json_t *
admin_string_json(const char *s)
{
    json_t *j = json_string(s ? s : "");
    return j ? j : json_string("");
}

static json_t *
admin_nodes_json(const Refnet__AdminReply *reply)
{
    json_t *list = json_array();
    for (size_t i = 0; i < reply->n_agencies; i++) {
        const Refnet__AgencyInfo *a = reply->agencies[i];
        json_t *row = json_pack("{s:o, s:o, s:b, s:o, s:I}", "id", admin_string_json(a->id), "name",
                                admin_string_json(a->name), "online", a->online, "last_seen",
                                admin_time_json(a->last_seen_ms), "queued", (json_int_t)a->queued);
        /* Frames the broker refused as malformed from this agency since it started. */
        json_object_set_new(row, "bad_frames", json_integer((json_int_t)a->bad_frames));
        /* Revoked by the administrator: its key is refused and no mail reaches it. */
        json_object_set_new(row, "revoked", json_boolean(a->revoked));
        json_array_append_new(list, row);
    }
    return json_pack("{s:o}", "agencies", list);
}

static json_t *
admin_seconds_json(uint64_t ms, int have_samples)
{
    if (!have_samples)
        return json_null();
    return json_real((double)ms / 1000.0);
}

static json_t *
admin_flow_json(const Refnet__AdminReply *reply)
{
    json_t *list = json_array();
    for (size_t i = 0; i < reply->n_flow; i++) {
        const Refnet__FlowRow *f = reply->flow[i];
        json_array_append_new(
            list, json_pack("{s:o, s:o, s:s, s:I}", "from", admin_string_json(f->from), "to",
                            admin_string_json(f->to), "status", enums_status_name(f->status),
                            "count", (json_int_t)f->count));
    }
    /* No accepted handoff means no median, which is not the same as a median of zero. The
     * first-contact median has no sample count of its own: zero there means none yet. */
    return json_pack(
        "{s:o, s:I, s:o, s:o, s:I}", "flow", list, "handoffs", (json_int_t)reply->handoffs,
        "median_accept_seconds",
        admin_seconds_json(reply->median_accept_ms, reply->accepted_samples > 0),
        "median_first_contact_seconds",
        admin_seconds_json(reply->median_first_contact_ms, reply->median_first_contact_ms > 0),
        "accepted_samples", (json_int_t)reply->accepted_samples);
}

static json_t *
admin_dead_json(const Refnet__AdminReply *reply)
{
    json_t *list = json_array();
    for (size_t i = 0; i < reply->n_dead_letters; i++) {
        const Refnet__DeadLetter *d = reply->dead_letters[i];
        char hex[2 * UID_MSGID_LEN + 1];
        uid_msgid_hex(d->msg_id.data, d->msg_id.len, hex);
        json_array_append_new(
            list, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "id", hex, "from",
                            admin_string_json(d->from), "to", admin_string_json(d->to), "stored_at",
                            admin_time_json(d->stored_at_ms), "expired_at",
                            admin_time_json(d->expired_at_ms), "handoff_id",
                            d->handoff_id[0] ? admin_string_json(d->handoff_id) : json_null()));
    }
    return json_pack("{s:o}", "dead_letters", list);
}

json_t *
refnet_admin_reply_json(const Refnet__AdminReply *reply, Refnet__AdminOp op)
{
    if (op == REFNET__ADMIN_OP__ADMIN_OP_FLOW)
        return admin_flow_json(reply);
    if (op == REFNET__ADMIN_OP__ADMIN_OP_DEAD_LETTERS)
        return admin_dead_json(reply);
    if (op == REFNET__ADMIN_OP__ADMIN_OP_REVOKE_AGENCY)
        return json_pack("{s:o}", "detail", admin_string_json(reply->detail));
    return admin_nodes_json(reply);
}

/* A failed send or receive leaves the socket's state unknown: drop it. */
static int
admin_io_failed(refnet_admin_t *self, refnet_client_error_t *err)
{
    int e = zmq_errno();
    admin_close_socket(self);
    if (e == EAGAIN)
        return refnet_client_error_set(err, REFNET_ETIMEOUT,
                                       "the broker at %s did not answer within %d ms",
                                       self->broker_dir, self->timeout_ms);
    return refnet_client_error_set(err, REFNET_EIO, "talking to the broker at %s failed: %s",
                                   self->broker_dir, zmq_strerror(e));
}

static int
admin_send(refnet_admin_t *self,
           Refnet__AdminOp op,
           const char *agency_id,
           refnet_client_error_t *err)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__AdminRequest req = REFNET__ADMIN_REQUEST__INIT;
    uint8_t msg_id[16];
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;
    req.op = op;
    req.agency_id = (char *)agency_id;
    wire_stamp(&env, msg_id);
    env.body_case = REFNET__ENVELOPE__BODY_ADMIN_REQUEST;
    env.admin_request = &req;
    rc = wire_encode(&env, &buf, &len);
    if (rc != 0)
        return refnet_client_error_set(err, rc, "cannot encode the admin request: %s",
                                       refnet_strerror(rc));
    if (zmq_send(self->sock, buf, len, 0) < 0)
        rc = admin_io_failed(self, err);
    free(buf);
    return rc;
}

/* Receives one message and keeps its last frame: the broker sends [envelope], and a
 * delimiter frame in front of it, should one appear, carries nothing. */
static int
admin_recv(refnet_admin_t *self, zmq_msg_t *frame, refnet_client_error_t *err)
{
    do {
        zmq_msg_close(frame);
        zmq_msg_init(frame);
        if (zmq_msg_recv(frame, self->sock, 0) < 0)
            return admin_io_failed(self, err);
    } while (zmq_msg_more(frame));
    return 0;
}

/* Checks the decoded envelope and converts it; a Result instead of an AdminReply is the
 * broker refusing the request. */
static int
admin_reply(const Refnet__Envelope *env,
            Refnet__AdminOp op,
            json_t **result,
            refnet_client_error_t *err)
{
    if (env->body_case == REFNET__ENVELOPE__BODY_RESULT) {
        int code = refnet_admin_status_code(env->result->status);
        return refnet_client_error_set(
            err, code ? code : REFNET_EDECODE, "the broker refused the request: %s",
            *env->result->detail ? env->result->detail : refnet_strerror(code));
    }
    if (env->body_case != REFNET__ENVELOPE__BODY_ADMIN_REPLY)
        return refnet_client_error_set(err, REFNET_EDECODE,
                                       "the broker answered with %s, not an admin reply",
                                       wire_body_name(env->body_case));
    const Refnet__AdminReply *reply = env->admin_reply;
    int code = refnet_admin_status_code(reply->status);
    if (code != 0)
        return refnet_client_error_set(err, code, "the broker refused the request: %s",
                                       *reply->detail ? reply->detail : refnet_strerror(code));
    *result = refnet_admin_reply_json(reply, op);
    return *result ? 0 : refnet_client_error_set(err, REFNET_EDECODE, "cannot convert the reply");
}

static int
admin_request(refnet_admin_t *self,
              Refnet__AdminOp op,
              const char *agency_id,
              json_t **result,
              refnet_client_error_t *err)
{
    zmq_msg_t frame;
    pbuf_t *decoded = NULL;
    char why[WIRE_WHY_LEN] = "";
    int rc;
    *result = NULL;
    zmq_msg_init(&frame);
    if (!self->sock && (rc = admin_connect(self, err)) != 0)
        goto out;
    if ((rc = admin_send(self, op, agency_id, err)) != 0 ||
        (rc = admin_recv(self, &frame, err)) != 0)
        goto out;
    rc = wire_decode(zmq_msg_data(&frame), zmq_msg_size(&frame), &decoded, why);
    if (rc != 0) {
        refnet_client_error_set(err, rc, "the broker's answer is not valid: %s", why);
        goto out;
    }
    rc = admin_reply((const Refnet__Envelope *)pbuf_msg(decoded), op, result, err);
out:
    pbuf_destroy(&decoded);
    zmq_msg_close(&frame);
    return rc;
}

int
refnet_admin_nodes(refnet_admin_t *self, json_t **result, refnet_client_error_t *err)
{
    return admin_request(self, REFNET__ADMIN_OP__ADMIN_OP_NODES, "", result, err);
}

int
refnet_admin_flow(refnet_admin_t *self, json_t **result, refnet_client_error_t *err)
{
    return admin_request(self, REFNET__ADMIN_OP__ADMIN_OP_FLOW, "", result, err);
}

int
refnet_admin_dead_letters(refnet_admin_t *self, json_t **result, refnet_client_error_t *err)
{
    return admin_request(self, REFNET__ADMIN_OP__ADMIN_OP_DEAD_LETTERS, "", result, err);
}

int
refnet_admin_revoke(refnet_admin_t *self,
                    const char *agency,
                    json_t **result,
                    refnet_client_error_t *err)
{
    return admin_request(self, REFNET__ADMIN_OP__ADMIN_OP_REVOKE_AGENCY, agency, result, err);
}
