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

/* Why a call failed, as the node said it (or as the library found it). */
typedef struct {
    int code;                                /* a REFNET_E* code (base/refnet_error.h) */
    char name[32];                           /* the API's error code, e.g. "consent" */
    char message[REFNET_CLIENT_MESSAGE_LEN]; /* one sentence */
} refnet_client_error_t;

/* Opens a client for the node whose data folder is `node_dir`. Fails with REFNET_EUNAVAIL
 * (message says so) when DIR/api.sock does not exist. Returns 0 and sets *out (caller owns;
 * refnet_client_destroy). */
int refnet_client_open(refnet_client_t **out, const char *node_dir, refnet_client_error_t *err);
/* Closes the client. Accepts NULL and *self_p == NULL; nulls *self_p. */
void refnet_client_destroy(refnet_client_t **self_p);
/* Sets how long calls wait for an answer (ms, > 0). */
void refnet_client_set_timeout(refnet_client_t *self, int timeout_ms);

/* Calls operation `op` with `args` (a JSON object, reference stolen; NULL means {}).
 * Returns 0 and sets *result (caller owns) on success. On failure returns a REFNET_E* code:
 *   REFNET_EINVAL      "invalid" (bad arguments)
 *   REFNET_ENOTFOUND   "not-found"          REFNET_EEXIST      "exists"
 *   REFNET_ECONSENT    "consent"            REFNET_ETRANSITION "transition"
 *   REFNET_EFORBIDDEN  "forbidden"          REFNET_EQUEUEFULL  "queue-full"
 *   REFNET_EFULL       "storage-full"       REFNET_EUNAVAIL    "unavailable" / node not running
 *   REFNET_ETIMEOUT    no answer in time    REFNET_EDECODE     answer is not valid JSON
 *   REFNET_ESTORAGE    "internal"
 * and fills *err (may be NULL). After REFNET_ETIMEOUT the client reconnects on the next call. */
int refnet_client_call(refnet_client_t *self, const char *op, json_t *args, json_t **result,
                       refnet_client_error_t *err);

#endif
