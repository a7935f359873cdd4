/* broker: the refnet-broker daemon's context and its one event loop.
 *
 * broker_t owns everything the running broker holds: the LMDB store, the zauth actor, the
 * agency ROUTER (CURVE server, bound to the endpoint in meta "bind"), the admin socket, the
 * agency table, presence, and the counters. broker_run() is a single zmq_poll loop over the
 * agency socket, the admin socket and a timer:
 *
 *   - agency frames are drained up to BROKER_BATCH at a time, authenticated and decoded, and
 *     applied in ONE LMDB write transaction: mail, acks and pings straight in it, anything
 *     else in a child transaction of its own. A refused request leaves no trace: a refusal
 *     before a write needs no undoing, and a hot request that fails after writing makes the
 *     whole batch be applied again, a child transaction per request (broker.c). After the
 *     synced commit the replies, fan-out and deliveries queued meanwhile are sent (batch.h);
 *     only the receipts an Ack made may leave just before it (broker_early_receipts).
 *     If the commit fails, each request that needed it is answered STATUS_STORAGE_FULL or
 *     STATUS_INTERNAL instead;
 *   - the sender of a frame is the agency whose key zauth authenticated (the frame's
 *     "User-Id"); a frame from any other key is answered STATUS_FORBIDDEN and goes no further;
 *   - every half second it picks up enrolments made by `refnet-broker enroll`, and every tick
 *     it expires messages and restarts stalled deliveries.
 *
 * The loop stops when *cfg->stop becomes non-zero (main's SIGINT/SIGTERM handler sets it; the
 * loop wakes within BROKER_TICK_MS) and then persists last-seen times. broker_destroy()
 * closes the sockets (removing the admin socket file) and the LMDB environment.
 *
 * Threads: broker_open, broker_run and broker_destroy may run on different threads one after
 * the other, never at the same time; the zauth actor has its own thread (czmq). */
#ifndef REFNET_BROKER_H
#define REFNET_BROKER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"

typedef struct broker broker_t;

typedef struct {
    uint32_t heartbeat_ms;           /* BROKER_HEARTBEAT_MS_DEFAULT */
    size_t map_size_mb;              /* BROKER_MAP_SIZE_MB_DEFAULT */
    const char *bind;                /* NULL: meta "bind"; otherwise overrides it (tests bind :*) */
    const atomic_int *stop;          /* the loop stops when it reads non-zero; NULL: never */
    uint64_t max_queue;              /* BROKER_MAX_QUEUE */
    uint32_t window;                 /* BROKER_WINDOW */
    uint64_t default_ttl_ms;         /* BROKER_DEFAULT_TTL_MS */
    uint64_t redeliver_ms;           /* BROKER_REDELIVER_MS */
    size_t max_frame;                /* WIRE_MAX_FRAME; a larger request is answered TOO_LARGE */
    uint64_t max_ttl_ms;             /* 0, or a cap on every message's time to live */
    uint64_t tombstone_retention_ms; /* BROKER_TOMBSTONE_RETENTION_S_DEFAULT, in ms */
} broker_config_t;

/* Fills `cfg` with the defaults of broker_limits.h. */
void broker_config_defaults(broker_config_t *cfg);

/* Opens the broker in folder `dir` (made by setup_init): takes the folder's lock, loads the
 * keys, opens LMDB, writes zauth's certificates, starts zauth and binds both sockets.
 * Returns 0 and sets *out (caller owns; broker_destroy), or:
 *   REFNET_ENOTFOUND  `dir` is not a broker folder;
 *   REFNET_EEXIST     another broker runs on `dir`;
 *   REFNET_EIO        a socket could not be set up or bound (logged);
 *   a key or store error. */
int broker_open(broker_t **out, const char *dir, const broker_config_t *cfg);
/* Runs the loop until cfg->stop is set. Returns 0, or REFNET_EIO when polling fails. */
int broker_run(broker_t *self);
/* Stops and frees everything. Accepts NULL; nulls *self_p. */
void broker_destroy(broker_t **self_p);

/* The endpoint the agency socket is bound to, with a wildcard port resolved (borrowed). */
const char *broker_endpoint(const broker_t *self);
/* The broker's counters (borrowed). */
const counters_t *broker_counters(const broker_t *self);

#endif
