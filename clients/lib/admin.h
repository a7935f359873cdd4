/* refnet_admin: the client of the broker's admin socket, for the network administrator.
 *
 * The broker serves its admin socket on ipc://DIR/admin.sock (DIR is the broker's data folder)
 * with CURVE: the broker is the server with DIR/broker.cert, and only the admin keypair in
 * DIR/admin.cert_secret is allowed in. This module speaks the wire protocol there (one
 * Envelope{admin_request} out, one Envelope{admin_reply} back, on a DEALER socket) and turns the
 * AdminReply into the JSON that `refnet admin ... --json` prints. Nothing it returns is person
 * data: the broker holds none.
 *
 * Ownership: a refnet_admin_t belongs to the thread that opened it. Returned json_t documents
 * are the caller's (json_decref). */
#ifndef REFNET_ADMIN_H
#define REFNET_ADMIN_H

#include <jansson.h>

#include "refnet.h"
#include "refnet.pb-c.h"

typedef struct refnet_admin refnet_admin_t;

/* The broker answers admin requests from memory; 5 s is plenty even on a loaded host. */
#define REFNET_ADMIN_TIMEOUT_MS 5000

/* Opens an admin client on the broker whose data folder is `broker_dir`. Fails with
 * REFNET_ECRYPTO / REFNET_ENOTFOUND when the admin or broker keys cannot be read (err says which
 * file), REFNET_EUNAVAIL when no broker listens on DIR/admin.sock, REFNET_EINVAL when the path is
 * too long for a socket. Returns 0 and sets *out (caller owns; refnet_admin_destroy). */
int refnet_admin_open(refnet_admin_t **out, const char *broker_dir, refnet_client_error_t *err);
/* Closes the client. Accepts NULL and *self_p == NULL; nulls *self_p. */
void refnet_admin_destroy(refnet_admin_t **self_p);
/* Sets how long requests wait for the broker (ms, > 0; other values are ignored). */
void refnet_admin_set_timeout(refnet_admin_t *self, int timeout_ms);

/* Asks the broker for the enrolled agencies and their presence. Returns 0 and sets *result to
 * {"agencies":[{"id","name","online","last_seen","queued","bad_frames","revoked"}]} (caller
 * owns; last_seen is an ISO time or null). On failure returns REFNET_ETIMEOUT (no answer in time; the next request uses a
 * new socket), REFNET_EDECODE / REFNET_EINVAL (the answer is not a valid reply), or the code of
 * the broker's refusal, and fills *err (may be NULL). */
int refnet_admin_nodes(refnet_admin_t *self, json_t **result, refnet_client_error_t *err);
/* Asks the broker for the handoff flow. Returns 0 and sets *result to
 * {"flow":[{"from","to","status","count"}],"handoffs":N,"median_accept_seconds":x|null,
 *  "median_first_contact_seconds":x|null,"accepted_samples":N} (caller owns). Failures as for
 * refnet_admin_nodes. */
int refnet_admin_flow(refnet_admin_t *self, json_t **result, refnet_client_error_t *err);
/* Asks the broker for the dead letters: messages whose time to live ran out before delivery.
 * Returns 0 and sets *result to {"dead_letters":[{"id" (msg_id, hex),"from","to","stored_at",
 * "expired_at","handoff_id"|null}]} (caller owns; times ISO), never any content. Failures as
 * for refnet_admin_nodes. */
int refnet_admin_dead_letters(refnet_admin_t *self, json_t **result, refnet_client_error_t *err);

/* Revokes agency `agency` now (ADMIN_OP_REVOKE_AGENCY): the broker stores the revocation,
 * refuses the agency's key, says Bye to its connection and tells every node, then answers.
 * Returns 0 and sets *result to {"detail": "agency ID is revoked" | "... was already revoked"}
 * (caller owns), REFNET_ENOTFOUND for an agency that is not enrolled, or a failure as for
 * refnet_admin_nodes. */
int refnet_admin_revoke(refnet_admin_t *self,
                        const char *agency,
                        json_t **result,
                        refnet_client_error_t *err);

/* Converts a decoded AdminReply for request `op` into the JSON documented above (a new
 * document, caller owns). Exposed so the conversion can be tested without a broker. */
json_t *refnet_admin_reply_json(const Refnet__AdminReply *reply, Refnet__AdminOp op);
/* Maps a wire Status to a REFNET_E* code (STATUS_OK gives 0). */
int refnet_admin_status_code(Refnet__Status status);

#endif
