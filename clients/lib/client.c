/* client: librefnet's client of the node's local API (see refnet.h and API.md).
 *
 * One REQ socket on ipc://DIR/api.sock carries one JSON request frame and one JSON answer
 * frame at a time. A REQ socket that missed an answer cannot send again, so after a timeout
 * the socket is closed and a fresh one is made on the next call (the "lazy pirate" pattern of
 * the ZeroMQ guide); the late answer then dies with the old socket.
 *
 * Ownership: the client owns its ZeroMQ context and socket; it belongs to one thread. */
#include "refnet.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "endpoint.h"
#include "refnet_error.h"
#include "xmalloc.h"

/* Short linger: a request that was never answered is not worth holding up the exit. */

struct refnet_client {
    void *ctx;
    void *sock; /* REQ; NULL until the first call and after a timeout */
    char *node_dir;
    char path[ENDPOINT_LEN];
    char endpoint[ENDPOINT_LEN];
    int timeout_ms;
};

int
refnet_client_error_set(refnet_client_error_t *err, int code, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return code;
    err->code = code;
    snprintf(err->name, sizeof err->name, "%s", refnet_error_name(code));
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}

static void
client_close_socket(refnet_client_t *self)
{
    if (self->sock)
        zmq_close(self->sock);
    self->sock = NULL;
}

static int
client_connect(refnet_client_t *self, refnet_client_error_t *err)
{
    int rc = endpoint_reach(self->path, "node", self->node_dir, "refnet-node", err);
    if (rc != 0)
        return rc;
    self->sock =
        endpoint_socket(self->ctx, ZMQ_REQ, REFNET_CLIENT_MAX_REPLY, self->timeout_ms, err);
    if (!self->sock)
        return REFNET_EIO;
    if (zmq_connect(self->sock, self->endpoint) != 0) {
        rc = refnet_client_error_set(err, REFNET_EIO, "cannot connect to %s: %s", self->endpoint,
                                     zmq_strerror(zmq_errno()));
        client_close_socket(self);
        return rc;
    }
    return 0;
}

int
refnet_client_open(refnet_client_t **out, const char *node_dir, refnet_client_error_t *err)
{
    refnet_client_t *self = NULL;
    int rc;
    *out = NULL;
    if (!node_dir || !*node_dir)
        return refnet_client_error_set(err, REFNET_EINVAL, "no node folder given");
    self = xcalloc(1, sizeof *self);
    self->node_dir = xstrdup(node_dir);
    self->timeout_ms = REFNET_CLIENT_TIMEOUT_MS;
    if (endpoint_ipc(node_dir, "api.sock", self->path, self->endpoint) != 0) {
        rc = refnet_client_error_set(err, REFNET_EINVAL,
                                     "the node folder path %s is too long for a socket", node_dir);
        goto fail;
    }
    rc = endpoint_reach(self->path, "node", self->node_dir, "refnet-node", err);
    if (rc != 0)
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
    refnet_client_destroy(&self);
    return rc;
}

void
refnet_client_destroy(refnet_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    refnet_client_t *self = *self_p;
    client_close_socket(self);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    free(self->node_dir);
    free(self);
    *self_p = NULL;
}

void
refnet_client_set_timeout(refnet_client_t *self, int timeout_ms)
{
    if (!self || timeout_ms <= 0)
        return;
    self->timeout_ms = timeout_ms;
    if (self->sock) {
        zmq_setsockopt(self->sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
        zmq_setsockopt(self->sock, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms);
    }
}

/* Reads the "error" member of a failed answer into the caller's error. */
static int
client_answer_error(const json_t *error, refnet_client_error_t *err)
{
    const char *name = json_string_value(json_object_get(error, "code"));
    const char *message = json_string_value(json_object_get(error, "message"));
    if (!json_is_object(error) || !name)
        return refnet_client_error_set(err, REFNET_EDECODE,
                                       "the node's error answer has no error code");
    int code = refnet_error_from_name(name);
    if (err) {
        err->code = code;
        snprintf(err->name, sizeof err->name, "%s", name);
        snprintf(err->message, sizeof err->message, "%s",
                 message && *message ? message : refnet_strerror(code));
    }
    return code;
}

/* Parses one answer frame: {"ok":true,"result":{...}} or {"ok":false,"error":{...}}. */
static int
client_parse_answer(const void *data, size_t len, json_t **result, refnet_client_error_t *err)
{
    json_error_t jerr;
    json_t *ok = NULL, *res = NULL;
    int rc = 0;
    json_t *answer = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(answer)) {
        rc = refnet_client_error_set(err, REFNET_EDECODE,
                                     "the node's answer is not a JSON object (%s)",
                                     answer ? "wrong type" : jerr.text);
        goto out;
    }
    ok = json_object_get(answer, "ok");
    if (!json_is_boolean(ok)) {
        rc = refnet_client_error_set(err, REFNET_EDECODE, "the node's answer has no \"ok\"");
        goto out;
    }
    if (!json_is_true(ok)) {
        rc = client_answer_error(json_object_get(answer, "error"), err);
        goto out;
    }
    res = json_object_get(answer, "result");
    if (result)
        *result = res ? json_incref(res) : json_object();
out:
    json_decref(answer);
    return rc;
}

/* Builds the request frame text (caller frees with free()); the reference to args is stolen. */
static int
client_request_text(const char *op, json_t *args, char **text, refnet_client_error_t *err)
{
    json_t *req = json_pack("{s:i, s:s, s:o}", "v", 1, "op", op, "args", args);
    *text = NULL;
    if (!req)
        return refnet_client_error_set(err, REFNET_EINVAL, "cannot build the request for %s", op);
    *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!*text)
        return refnet_client_error_set(err, REFNET_EINVAL, "cannot encode the request for %s", op);
    if (strlen(*text) > REFNET_CLIENT_MAX_REQUEST) {
        free(*text);
        *text = NULL;
        return refnet_client_error_set(err, REFNET_EINVAL, "the request is over %d KiB",
                                       REFNET_CLIENT_MAX_REQUEST / 1024);
    }
    return 0;
}

/* A send or receive that failed leaves the REQ socket unusable: drop it. */
static int
client_io_failed(refnet_client_t *self, refnet_client_error_t *err)
{
    int e = zmq_errno();
    client_close_socket(self);
    if (e == EAGAIN)
        return refnet_client_error_set(err, REFNET_ETIMEOUT,
                                       "the node at %s did not answer within %d ms", self->node_dir,
                                       self->timeout_ms);
    return refnet_client_error_set(err, REFNET_EIO, "talking to the node at %s failed: %s",
                                   self->node_dir, zmq_strerror(e));
}

/* The API answers with exactly one frame. Reads and drops the rest of a longer message so
 * the REQ socket can send again, and reports the answer as malformed. */
static int
client_drain(refnet_client_t *self, refnet_client_error_t *err)
{
    int more = 1;
    size_t more_len = sizeof more;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, self->sock, 0) < 0) {
            zmq_msg_close(&part);
            return client_io_failed(self, err);
        }
        zmq_getsockopt(self->sock, ZMQ_RCVMORE, &more, &more_len);
        zmq_msg_close(&part);
    }
    return refnet_client_error_set(err, REFNET_EDECODE,
                                   "the node answered with more than one frame");
}

int
refnet_client_call(refnet_client_t *self,
                   const char *op,
                   json_t *args,
                   json_t **result,
                   refnet_client_error_t *err)
{
    char *text = NULL;
    zmq_msg_t msg;
    int rc;
    if (result)
        *result = NULL;
    zmq_msg_init(&msg);
    if (!args)
        args = json_object();
    if (!self || !op || !*op) {
        json_decref(args);
        rc = refnet_client_error_set(err, REFNET_EINVAL, "no operation given");
        goto out;
    }
    rc = client_request_text(op, args, &text, err);
    if (rc != 0)
        goto out;
    if (!self->sock && (rc = client_connect(self, err)) != 0)
        goto out;
    if (zmq_send(self->sock, text, strlen(text), 0) < 0) {
        rc = client_io_failed(self, err);
        goto out;
    }
    if (zmq_msg_recv(&msg, self->sock, 0) < 0) {
        rc = client_io_failed(self, err);
        goto out;
    }
    if (zmq_msg_more(&msg)) {
        rc = client_drain(self, err);
        goto out;
    }
    rc = client_parse_answer(zmq_msg_data(&msg), zmq_msg_size(&msg), result, err);
out:
    zmq_msg_close(&msg);
    free(text);
    return rc;
}
