/* rekey: the broker's side of KeyRotate, an agency replacing its own keys.
 *
 * An agency asks over its current authenticated connection (so the old key vouches for the new
 * one): Envelope{key_rotate{curve_public_key, box_public_key}}. In the request's transaction
 * the broker makes the new CURVE key the agency's only key (agencies_rotate), records and
 * signs the new sealing key (sealkeys_announce), queues Result OK and fans the new AgencyKey
 * out to every online node. After the commit the broker reloads its table and zauth's folder
 * before sending the OK (broker.c watches counters.key_rotations), so the node's reconnection
 * with the new key is accepted and the old key is refused from then on. Mail waits in
 * mailboxes keyed by agency id, so rotation loses none.
 *
 * A resent request for the keys already in place is answered OK again: a node that did not
 * see the first answer finishes its rotation. Stateless; loop thread. */
#ifndef REFNET_REKEY_H
#define REFNET_REKEY_H

#include "dispatch.h"

/* The dispatch handler of key_rotate (dispatch.h's contract: a non-OK status with a static
 * sentence in *why, and the caller undoes the request). FORBIDDEN when the key is another
 * agency's; BAD_REQUEST for a key that is not one. */
Refnet__Status rekey_handle(const dispatch_ctx_t *ctx, const dispatch_req_t *req, const char **why);

#endif
