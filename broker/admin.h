/* admin: the broker's administration socket.
 *
 * A ROUTER bound to ipc://DATA/admin.sock (mode 0600), a CURVE server with the broker's
 * keypair behind the same zauth as the agency socket. Only the admin key (DATA/admin.cert,
 * made by `refnet-broker init`) is served: any other authenticated key gets
 * STATUS_FORBIDDEN. Requests are Envelope{admin_request}; answers Envelope{admin_reply}:
 *
 *   ADMIN_OP_NODES  every enrolled agency: id, name, online, last_seen, mailbox depth
 *   ADMIN_OP_FLOW   handoff counts by (from, to, current status) and the median times from
 *                   requested to accepted and to first-contact-confirmed
 *   ADMIN_OP_DEAD_LETTERS
 *                   messages that expired undelivered: msg_id, from, to, stored_at,
 *                   expired_at, handoff id (addressing only, never the content)
 *   ADMIN_OP_REVOKE_AGENCY
 *                   revokes AdminRequest.agency_id (agencies_revoke) in its own write
 *                   transaction, then has the broker act on it at once (view->revoked) before
 *                   answering OK
 *
 * None carries person data: the broker has none to give. The reports are reads (read
 * transactions).
 * admin_t owns its socket; loop thread. */
#ifndef REFNET_ADMIN_H
#define REFNET_ADMIN_H

#include <czmq.h>
#include <stdint.h>

#include "agencies.h"
#include "counters.h"
#include "mailbox.h"
#include "presence.h"
#include "store.h"

typedef struct admin admin_t;

/* What the admin socket reports on (all borrowed). */
typedef struct {
    store_t *store;
    agencies_t *agencies;
    presence_t *presence;
    mailbox_t *mailbox;
    counters_t *counters;
    /* ADMIN_OP_REVOKE_AGENCY: the broker's signing secret key (SEAL_SIGN_SECRET_LEN bytes),
     * and what the broker does once a revocation is committed: reload its table and zauth,
     * say Bye to the agency's connection, fan out the signed revocation. NULL: revocation is
     * refused (sign_sk) / the periodic enrolment check catches up (revoked). */
    const uint8_t *sign_sk;
    void (*revoked)(void *arg, const char *agency);
    void *revoked_arg;
} admin_view_t;

/* Binds the admin socket at `endpoint` with server keypair `cert` (borrowed), serving only
 * the client key `admin_key` (Z85). For an ipc endpoint the socket file is made mode 0600.
 * Returns 0 and sets *out (caller owns; admin_destroy), REFNET_EIO or REFNET_EINVAL. */
int admin_open(admin_t **out,
               const char *endpoint,
               zcert_t *cert,
               const char *admin_key,
               uint32_t heartbeat_ms);
/* Closes the socket and removes its ipc file. Accepts NULL; nulls *self_p. */
void admin_destroy(admin_t **self_p);
/* The libzmq socket handle, for zmq_poll. */
void *admin_socket(admin_t *self);
/* Answers up to BROKER_ADMIN_BATCH waiting requests. */
void admin_serve(admin_t *self, const admin_view_t *view, uint64_t mono);

#endif
