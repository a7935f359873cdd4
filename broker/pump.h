/* pump: what the broker sends on its own initiative, after a commit or on a timer.
 *
 * For each peer with work pending it runs one step of a directory catch-up (DirUpdate frames
 * from the peer's sync position, then DirSyncDone{head}; for a snapshot, first the begin
 * marker, BROKER_SNAPSHOT_STEP chunks per step and the end marker, then the log from the
 * snapshot's seq) and sends mailbox deliveries from the
 * peer's cursor until BROKER_WINDOW are in flight. It also fans a new DirUpdate out to every
 * connected peer and restarts deliveries that stayed unacknowledged for BROKER_REDELIVER_MS.
 *
 * Sends never block: a full pipe (BSOCK_BUSY) leaves the work pending for a later iteration;
 * a peer that missed a fan-out for that reason is given a catch-up from that seq instead, so
 * it never sees a gap it cannot close. A vanished peer loses its session.
 *
 * Reads LMDB in its own read transactions, so it must not run while the loop holds a write
 * transaction open with changes it has not committed. Stateless; loop thread. */
#ifndef REFNET_PUMP_H
#define REFNET_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "mailbox.h"
#include "presence.h"
#include "store.h"

/* Room for packing one peer's deliveries into Batch frames (about 70 KiB), made once by the
 * broker and reused by every run of the pump. */
typedef struct pump_pack pump_pack_t;

pump_pack_t *pump_pack_new(void);
void pump_pack_destroy(pump_pack_t **self_p);

typedef struct {
    store_t *store;
    mailbox_t *mailbox;
    presence_t *presence;
    void *router; /* libzmq handle of the agency ROUTER */
    counters_t *counters;
    uint32_t window;   /* in-flight deliveries per peer */
    pump_pack_t *pack; /* for peers that take Batch frames; NULL: one frame per delivery */
} pump_ctx_t;

/* Runs the pending work of `peer` at wall time `now_ms` (for TTLs) and monotonic time `mono`
 * (for the redelivery timer); clears peer->pending when nothing is left to send. */
void pump_peer(const pump_ctx_t *ctx, presence_peer_t *peer, uint64_t now_ms, uint64_t mono);
/* Delivers what `peer`'s mailbox holds after its cursor as `txn` (a write transaction not yet
 * committed) sees it, within its window; nothing while it is catching up on the directory.
 * Returns the number of deliveries sent. broker.c sends receipts this way before their commit
 * (see broker_early_receipts). */
size_t pump_peer_in(
    const pump_ctx_t *ctx, presence_peer_t *peer, MDB_txn *txn, uint64_t now_ms, uint64_t mono);
/* Runs pump_peer for every peer with pending work. Returns true when some work is still
 * pending afterwards (a pipe was full, or a catch-up continues). */
bool pump_all(const pump_ctx_t *ctx, uint64_t now_ms, uint64_t mono);
/* Compaction raised the horizon to `horizon` (dirhub.h): a catch-up under way that still needs
 * the log from below it (a log catch-up after a lower seq, or a snapshot whose tail starts
 * lower) may miss a forgotten withdrawal, so it starts over as a snapshot of the directory as
 * it is now, as dispatch's DirSync does for a new one. Returns how many were restarted. */
size_t pump_horizon_raised(const pump_ctx_t *ctx, uint64_t horizon);
/* Sends the DirUpdate `frame` (change `seq`) to every connected peer not in a catch-up. */
void pump_fanout(const pump_ctx_t *ctx, const uint8_t *frame, size_t len, uint64_t seq);
/* Restarts delivery from the head of the mailbox for peers that have deliveries in flight
 * and sent no ack for `redeliver_ms`. */
void pump_timeouts(const pump_ctx_t *ctx, uint64_t mono, uint64_t redeliver_ms);

#endif
