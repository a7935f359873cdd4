/* bsock: the broker's ROUTER sockets at the libzmq level.
 *
 * Sets the options every broker socket needs (CURVE server, ZAP domain enforcement, frame
 * size limit, heartbeats, non-blocking mandatory routing) and moves [routing-id, envelope]
 * messages in and out, reading the ZAP-authenticated "User-Id" that identifies the sender.
 * libzmq errors are translated here. A socket belongs to the thread that runs the loop. */
#ifndef REFNET_BSOCK_H
#define REFNET_BSOCK_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker_limits.h"

/* ZAP domain of both broker sockets; zauth answers for every domain, and with domain
 * enforcement on, a connection without a ZAP verdict is refused. */
#define BSOCK_ZAP_DOMAIN "refnet"

/* Returned by bsock_send when the peer's pipe is full: keep the frame and try later. */
#define BSOCK_BUSY (-EAGAIN)

/* One received message. `user_id` points into `body` (valid until bsock_msg_close). */
typedef struct {
    zmq_msg_t rid;
    zmq_msg_t body;
    const char *user_id; /* Z85 key of the CURVE client, "" when absent */
    bool well_formed;    /* exactly [routing-id, one frame] */
} bsock_msg_t;

/* Makes `sock` (a ROUTER, not yet bound) a CURVE server with `cert` and applies the broker's
 * options, with libzmq heartbeats every `heartbeat_ms`. Returns 0, or REFNET_EIO when libzmq
 * refuses an option (logged). */
int bsock_setup_router(zsock_t *sock, zcert_t *cert, uint32_t heartbeat_ms);

/* Sends [rid, data] without blocking. Returns 0, BSOCK_BUSY when the peer's pipe is full,
 * REFNET_EUNAVAIL when no peer has that routing id any more, or REFNET_EIO. */
int bsock_send(void *sock, const uint8_t *rid, size_t rid_len, const void *data, size_t len);

/* Receives one message without blocking into *m (which the caller closes with
 * bsock_msg_close whatever this returns). Extra frames are read and dropped, and the message
 * is marked not well formed. Returns 0, BSOCK_BUSY when nothing is waiting, or REFNET_EIO. */
int bsock_recv(void *sock, bsock_msg_t *m);
void bsock_msg_close(bsock_msg_t *m);

#endif
