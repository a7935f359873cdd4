/* link: the node's session with the broker.
 *
 * One ZeroMQ DEALER, a CURVE client with the agency's keypair and the broker's public key,
 * carries every frame to and from the broker. A frame is one Envelope or a Batch of them
 * (refnet.proto): every Hello says the node takes batches, and link_recv hands out a received
 * Batch's items one at a time, each decoded and checked as a lone frame would be; the outbox
 * items of one pump or resend share frames only while the session's Welcome said the broker
 * takes batches (one envelope a frame otherwise, for an older broker). The link says Hello as
 * soon as a connection completes its handshake (a socket monitor reports it) and again while
 * no Welcome has come; it Pings every heartbeat; it is `connected` from a Welcome until the
 * connection is lost. A broker silent for NODE_LIVENESS heartbeats is only logged: libzmq's
 * ZMTP heartbeats, answered by the broker's I/O thread even while its loop is busy, drop a
 * connection whose broker is really gone, and only a new connection says Hello again. It pumps the outbox (outbox.h): items
 * are sent in key order, at most NODE_OUTBOX_WINDOW unanswered, resent when unanswered for
 * NODE_RESEND_MS, and everything unanswered is sent again after the first Welcome of each
 * connection (the broker drops duplicates, so resending is always safe). Items the broker
 * answered "queue full" leave the window for a parking (NODE_OUTBOX_PARKED), with the later
 * items for the same recipient, and are retried per recipient, oldest first, after
 * NODE_RETRY_MS: a full recipient holds up no other. The window counts items, never frames.
 *
 * It also tracks the directory catch-up (DirSync) state, which belongs to the session.
 *
 * Ownership: link_t owns its sockets and a received Batch until its last item is handed out;
 * the zcert passed to link_open is borrowed. The store is borrowed by each call that reads the
 * outbox. Single-threaded: one zmq_poll loop (node.h) polls link_socket() and
 * link_monitor_socket(), and reads on without waiting while link_backlog() says so. */
#ifndef REFNET_LINK_H
#define REFNET_LINK_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "refnet.pb-c.h"
#include "store.h"
#include "wire.h"

typedef struct link link_t;

/* What the link has counted since it opened. */
typedef struct {
    uint64_t frames_in;     /* frames received from the broker */
    uint64_t batches_in;    /* of which Batch frames */
    uint64_t envelopes_in;  /* envelopes received: one a lone frame, one each batch item */
    uint64_t bad_frames;    /* received frames that failed wire_decode */
    uint64_t bad_items;     /* batch items that failed wire_decode_item (the rest still count) */
    uint64_t frames_out;    /* frames sent to the broker */
    uint64_t batches_out;   /* of which Batch frames */
    uint64_t envelopes_out; /* envelopes sent, each batch item counted */
    uint64_t sent;          /* outbox items sent (first tries) */
    uint64_t resent;        /* outbox items sent again */
    uint64_t welcomes;      /* sessions begun */
    uint64_t lost;          /* sessions ended by a lost connection */
    uint64_t slow;          /* broker silences of NODE_LIVENESS heartbeats, connection up */
    uint64_t refused;       /* handshakes refused by the broker (not enrolled?) */
    uint64_t byes;          /* sessions the broker ended with Bye */
} link_stats_t;

/* Creates the DEALER for `endpoint` with CURVE client keys from `cert` and the broker's Z85
 * `server_key`, the monitor, and starts connecting. `agency` (borrowed, must outlive the
 * link) is checked against the broker's Welcome. `heartbeat_ms` is the Ping interval until a
 * Welcome names the broker's. Returns 0 and sets *out (caller owns; link_destroy), or
 * REFNET_EINVAL (endpoint or key refused by libzmq) / REFNET_EIO. */
int link_open(link_t **out,
              const char *endpoint,
              const char *server_key,
              zcert_t *cert,
              const char *agency,
              int heartbeat_ms);
/* Closes the sockets. Accepts NULL and *self_p == NULL; nulls *self_p. */
void link_destroy(link_t **self_p);
/* Sets the sealing public key every Hello announces (peerkeys.h); without one, Hello
 * announces none. */
void link_set_box_key(link_t *self, const uint8_t pk[WIRE_SEAL_KEY_LEN]);

/* Replaces the CURVE keypair (borrowed, like link_open's; the old one may be freed once this
 * returns) and reconnects with it at once: the session ends, the sockets are rebuilt, and the
 * new connection says Hello. Used after a key rotation (rotate.h). */
void link_set_cert(link_t *self, zcert_t *cert, uint64_t now);

/* libzmq handles for zmq_poll (borrowed). They change when link_tick rebuilds the sockets
 * after a refused handshake, so fetch them again after every link_tick. */
void *link_socket(link_t *self);
void *link_monitor_socket(link_t *self);

/* Reads the pending socket-monitor events: a completed handshake sends Hello at once, a
 * refused one is logged (the usual cause is a key the broker has not enrolled). */
void link_on_monitor(link_t *self, store_t *st, uint64_t now);

/* Receives one envelope without blocking: the next item of a Batch frame received earlier
 * (decoded with wire_decode_item()) while one is held, else a frame (wire_decode()); a Batch
 * frame is held and its first item returned. Returns 0 and sets *out (caller owns;
 * pbuf_destroy), 1 when nothing is waiting, or a decode error with `why` set (the frame or
 * item was consumed, logged and counted; a batch's other items still come). Any frame or item
 * counts as liveness. A Bye is handled here and never returned: the link logs its reason,
 * disconnects, drops the rest of a held batch, ends the session and returns 1 until it
 * reconnects, no sooner than the Bye's retry_after_ms (NODE_RECONNECT_IVL_MAX_MS when it
 * gives 0). */
int link_recv(link_t *self, uint64_t now, pbuf_t **out, char why[WIRE_WHY_LEN]);
/* True while a received batch still has items for link_recv: the socket may have nothing
 * more, so the caller must not wait on it before reading them. */
bool link_backlog(const link_t *self);

/* Session events, from the frames the node dispatches. link_on_welcome takes the broker's
 * heartbeat and whether it takes Batch frames; the first Welcome after a (re)connection
 * starts a session, and the whole unanswered outbox is sent again. A later Welcome on the
 * same connection (an answer to a repeated Hello) sends nothing again. */
void link_on_welcome(link_t *self, const Refnet__Welcome *w, uint64_t now);
/* Marks the item with msg_id `ref` answered (removed from the window). Returns true when it
 * was in the window. */
bool link_on_answer(link_t *self, const ProtobufCBinaryData *ref);
/* Keeps the item with msg_id `ref` for another try after NODE_RETRY_MS (queue or storage
 * full at the broker): it leaves the window for the parking (or, the parking full, waits in
 * the window), and later items for its recipient are parked behind it unsent. */
void link_retry_later(link_t *self, const ProtobufCBinaryData *ref, uint64_t now);
/* Forgets the window and the parking so that every outbox item is sent again (after a
 * failed commit). */
void link_restart_window(link_t *self);

/* True from a Welcome until the connection is lost (or the broker says Bye). */
bool link_connected(const link_t *self);
/* Effective heartbeat interval in ms. */
int link_heartbeat_ms(const link_t *self);

/* Directory catch-up: sends DirSync{since_seq} and marks a catch-up in progress (until
 * link_sync_finished or NODE_SYNC_TIMEOUT_MS). Returns 0 or REFNET_EUNAVAIL (not sent). */
int link_request_sync(link_t *self, uint64_t since_seq, uint64_t now);
bool link_syncing(const link_t *self);
void link_sync_finished(link_t *self);

/* Sends Ack{msg_ids} for `n` ids of 16 bytes each (split into frames of WIRE_MAX_ACK_IDS).
 * Unsent acks are harmless: the broker delivers again and the node drops the duplicate. */
void link_send_acks(link_t *self, const uint8_t (*ids)[16], size_t n);

/* Timers: liveness, Hello while no session, Ping, catch-up timeout, resends, and the outbox
 * pump. Sets *need_sync when a catch-up timed out. Returns the ms until the next timer. */
int link_tick(link_t *self, store_t *st, uint64_t now, bool *need_sync);
/* Sends outbox items while the window has room (call after queueing new items), packed into
 * Batch frames when the broker takes them. An item counts as sent only when its frame was. */
void link_pump(link_t *self, store_t *st, uint64_t now);

const link_stats_t *link_stats(const link_t *self);

#endif
