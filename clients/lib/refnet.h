/* librefnet: the C client library of a refnet node's local API.
 *
 * The local API (clients/lib/API.md) is JSON over a ZeroMQ ipc socket inside the node's data
 * folder. This library opens that socket, sends one request at a time and returns the node's
 * answer as a jansson document. The refnet CLI is built on it; an agency's own systems can link
 * it too.
 *
 * Ownership: a refnet_client_t belongs to the thread that opened it. Results returned through
 * `json_t **` are the caller's (json_decref). Error messages are copied into caller buffers. */
#ifndef REFNET_CLIENT_H
#define REFNET_CLIENT_H

#include <jansson.h>
#include <stddef.h>

typedef struct refnet_client refnet_client_t;

/* Default time to wait for the node's answer. Directory changes wait for the broker for up to
 * 5 s inside the node, so the client waits longer than that. */
#define REFNET_CLIENT_TIMEOUT_MS 10000
/* Longest error sentence kept from an answer. */
#define REFNET_CLIENT_MESSAGE_LEN 512
/* Largest request the node accepts (API.md); a bigger one is refused here as REFNET_EINVAL
 * without being sent. */
#define REFNET_CLIENT_MAX_REQUEST (256 * 1024)
/* Largest answer the client accepts (ZMQ_MAXMSGSIZE on its socket). A search may return up to
 * 1000 services of at most about 5 KiB of JSON each; 16 MiB leaves room for that and bounds
 * what a broken node can make the client buffer. */
#define REFNET_CLIENT_MAX_REPLY (16 * 1024 * 1024)

/* Why a call failed, as the node said it (or as the library found it). */
typedef struct {
    int code;                                /* a REFNET_E* code (base/refnet_error.h) */
    char name[32];                           /* the API's error code, e.g. "consent" */
    char message[REFNET_CLIENT_MESSAGE_LEN]; /* one sentence */
} refnet_client_error_t;

/* Fills *err (NULL is allowed) with `code`, its API name and a printf-style sentence, and
 * returns `code`, so a failure path can be `return refnet_client_error_set(err, ...)`. */
int refnet_client_error_set(refnet_client_error_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Opens a client for the node whose data folder is `node_dir`. Fails with REFNET_EUNAVAIL
 * (message "cannot reach the node at DIR (is refnet-node running?)") when DIR/api.sock does not
 * exist or nothing listens on it, and with REFNET_EINVAL when the path is too long for a Unix
 * socket. Returns 0 and sets *out (caller owns; refnet_client_destroy). */
int refnet_client_open(refnet_client_t **out, const char *node_dir, refnet_client_error_t *err);
/* Closes the client. Accepts NULL and *self_p == NULL; nulls *self_p. */
void refnet_client_destroy(refnet_client_t **self_p);
/* Sets how long calls wait for an answer (ms, > 0; other values are ignored). */
void refnet_client_set_timeout(refnet_client_t *self, int timeout_ms);

/* Calls operation `op` with `args` (a JSON object, reference stolen; NULL means {}).
 * Returns 0 and sets *result (caller owns) on success. On failure returns a REFNET_E* code:
 *   REFNET_EINVAL      "invalid" (bad arguments)
 *   REFNET_ENOTFOUND   "not-found"          REFNET_EEXIST      "exists"
 *   REFNET_ECONSENT    "consent"            REFNET_ETRANSITION "transition"
 *   REFNET_EFORBIDDEN  "forbidden"          REFNET_EQUEUEFULL  "queue-full"
 *   REFNET_EFULL       "storage-full"       REFNET_EUNAVAIL    "unavailable" / node not running
 *   REFNET_ETIMEOUT    no answer in time    REFNET_EDECODE     answer is not valid JSON
 *   REFNET_ESTORAGE    "internal" or any error name this library does not know
 * and fills *err (may be NULL): err->name is the node's error code, or for failures found here
 * the API name of the code (refnet_error_name). `result` may be NULL when the caller does not
 * need the answer. After REFNET_ETIMEOUT the client drops its socket and reconnects on the next
 * call, so a late answer to an old request is never taken for the answer to a new one. */
int refnet_client_call(refnet_client_t *self,
                       const char *op,
                       json_t *args,
                       json_t **result,
                       refnet_client_error_t *err);

#endif
