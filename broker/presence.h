/* presence: which agencies are connected, through which routing id, and what the broker has
 * sent each of them in the current session.
 *
 * A peer is an enrolled agency the broker has heard from. The latest frame from an agency's
 * key sets its routing id (with ROUTER_HANDOVER a reconnect replaces the old session), and a
 * new routing id starts a new session: nothing sent before counts as in flight any more. An
 * agency is online when a frame arrived within BROKER_OFFLINE_INTERVALS heartbeats.
 *
 * Per session the peer also carries its delivery cursor (the highest mailbox seq sent), the
 * number of deliveries in flight, and the state of a directory catch-up. All of it is memory
 * only: after a restart every session starts over and unacknowledged mail is sent again.
 *
 * presence_peer_t is a plain record owned by presence_t; pointers stay valid until
 * presence_destroy. Only the loop thread uses it. */
#ifndef REFNET_PRESENCE_H
#define REFNET_PRESENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker_limits.h"
#include "wire.h"

typedef struct presence presence_t;

typedef struct {
    char agency[WIRE_MAX_IDENT + 1];
    uint8_t rid[BROKER_MAX_RID]; /* routing id of the current session; rid_len 0 = none */
    size_t rid_len;
    uint64_t last_seen_ms;   /* wall clock of the last frame, 0 if never */
    uint64_t last_seen_mono; /* monotonic clock of the last frame */
    uint64_t cursor;         /* highest mailbox seq sent in this session */
    uint64_t sent_max;       /* highest mailbox seq ever sent in this run (counts resends) */
    uint32_t inflight;       /* deliveries sent and not yet acknowledged */
    uint64_t progress_mono;  /* last ack or (re)start of delivery; redelivery timer */
    bool pending;            /* delivery or catch-up work is waiting */
    bool syncing;            /* a directory catch-up is under way */
    uint64_t sync_after;     /* catch-up: next update sent has seq > sync_after */
    /* A catch-up served as a snapshot (dirhub.h): chunks of live services after snap_after,
     * then the end marker, then the log tail from snap_seq. Only meaningful while syncing. */
    bool snapshot;
    bool snap_begun;                     /* DirSnapshotBegin sent; snap_seq set */
    uint64_t snap_seq;                   /* the head the snapshot started at */
    char snap_after[WIRE_MAX_IDENT + 1]; /* last id sent in a chunk ("" = none yet) */
    uint64_t bad_frames;                 /* misbehaviour: bad frames from this agency */
    bool batches; /* its Hello said it takes Batch frames; reset by a new session */
} presence_peer_t;

/* Returns an empty table with heartbeat `heartbeat_ms`. */
presence_t *presence_new(uint32_t heartbeat_ms);
void presence_destroy(presence_t **self_p);

/* Records a frame from `agency` through routing id `rid` at wall time `now_ms` and monotonic
 * `mono`. Creates the peer if needed. A different routing id starts a new session (cursor,
 * in-flight count and catch-up are reset, and delivery is marked pending). Returns the peer
 * (borrowed). */
presence_peer_t *presence_touch(presence_t *self,
                                const char *agency,
                                const uint8_t *rid,
                                size_t rid_len,
                                uint64_t now_ms,
                                uint64_t mono);
/* Returns the peer of `agency` (borrowed) or NULL if the broker never heard from it. */
presence_peer_t *presence_get(presence_t *self, const char *agency);
/* Adds a peer that has not connected in this run, remembering when it was last seen. */
void presence_seed(presence_t *self, const char *agency, uint64_t last_seen_ms);

/* True when the peer has a session and was heard from within the offline limit. */
bool presence_online(const presence_t *self, const presence_peer_t *peer, uint64_t mono);
/* Forgets the session (the peer disconnected); it is offline until it sends again. */
void presence_gone(presence_peer_t *peer);
/* Starts delivery over from the head of the mailbox: on a new connection (presence_touch),
 * after a timeout or a failed commit. Not on a Hello through the same connection: what was
 * sent on it was not lost. Marks the peer pending. */
void presence_restart(presence_peer_t *peer, uint64_t mono);
/* Records `n` in-flight deliveries acknowledged. */
void presence_acked(presence_peer_t *peer, uint32_t n, uint64_t mono);

/* The number of sessions presence_touch has started (a new routing id for an agency). */
size_t presence_sessions(const presence_t *self);

/* Iteration in no particular order: the number of peers, and peer i (borrowed). */
size_t presence_size(const presence_t *self);
presence_peer_t *presence_at(presence_t *self, size_t i);

#endif
