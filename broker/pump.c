/* pump: deliveries, directory catch-ups and fan-out (see pump.h). */
#include "pump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bsock.h"
#include "dirhub.h"
#include "log.h"
#include "refnet_error.h"
#include "wire.h"
#include "xmalloc.h"

/* Outcome of one send, for the callers' loops. */
typedef enum { PUMP_SENT, PUMP_BUSY, PUMP_GONE } pump_sent_t;

static pump_sent_t
pump_send(const pump_ctx_t *ctx, presence_peer_t *peer, const uint8_t *frame, size_t len)
{
    int rc = bsock_send(ctx->router, peer->rid, peer->rid_len, frame, len);
    if (rc == 0)
        return PUMP_SENT;
    if (rc == BSOCK_BUSY) {
        ctx->counters->peer_busy++;
        peer->pending = true;
        return PUMP_BUSY;
    }
    ctx->counters->peer_gone++;
    log_info("session: %s disconnected", peer->agency);
    presence_gone(peer);
    return PUMP_GONE;
}

/* ---- directory catch-up ------------------------------------------------------------------- */

static pump_sent_t
pump_sync_done(const pump_ctx_t *ctx, presence_peer_t *peer, MDB_txn *txn)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__DirSyncDone done = REFNET__DIR_SYNC_DONE__INIT;
    uint8_t msg_id[UID_MSGID_LEN], *frame = NULL;
    size_t len = 0;
    if (dirhub_head(ctx->store, txn, &done.seq) != 0)
        return PUMP_BUSY; /* try again on the next iteration */
    wire_stamp(&env, msg_id);
    env.body_case = REFNET__ENVELOPE__BODY_SYNC_DONE;
    env.sync_done = &done;
    if (wire_encode(&env, &frame, &len) != 0)
        return PUMP_BUSY;
    pump_sent_t sent = pump_send(ctx, peer, frame, len);
    free(frame);
    if (sent == PUMP_SENT)
        peer->syncing = false;
    return sent;
}

/* Sends the snapshot's begin marker once, then up to BROKER_SNAPSHOT_STEP chunks, then its end
 * marker, after which the catch-up goes on from the log as usual (the tail above snap_seq). */
static pump_sent_t
pump_snapshot_step(const pump_ctx_t *ctx, presence_peer_t *peer, MDB_txn *txn)
{
    uint8_t *frame = NULL;
    size_t len = 0;
    char last[WIRE_MAX_IDENT + 1];
    if (!peer->snap_begun) {
        if (dirhub_snapshot_begin_frame(ctx->store, txn, &peer->snap_seq, &frame, &len) != 0)
            return PUMP_BUSY;
        pump_sent_t sent = pump_send(ctx, peer, frame, len);
        free(frame);
        if (sent != PUMP_SENT)
            return sent;
        peer->snap_begun = true;
        log_info("pump: %s is sent a directory snapshot as of %llu", peer->agency,
                 (unsigned long long)peer->snap_seq);
    }
    for (int i = 0; i < BROKER_SNAPSHOT_STEP; i++) {
        last[0] = '\0'; /* stays empty when the end marker is sent */
        int rc = dirhub_snapshot_chunk(ctx->store, txn, peer->snap_seq, peer->snap_after,
                                       WIRE_MAX_FRAME, BROKER_SNAPSHOT_CHUNK, &frame, &len, last);
        if (rc == REFNET_ENOTFOUND)
            rc = dirhub_snapshot_end_frame(peer->snap_seq, peer->snap_after, &frame, &len);
        if (rc) {
            log_error("pump: directory snapshot for %s failed: %s", peer->agency,
                      refnet_strerror(rc));
            return PUMP_BUSY;
        }
        bool end = last[0] == '\0';
        pump_sent_t sent = pump_send(ctx, peer, frame, len);
        free(frame);
        if (sent != PUMP_SENT)
            return sent;
        ctx->counters->dir_updates++;
        if (end) {
            peer->snapshot = false;
            peer->sync_after = peer->snap_seq;
            return PUMP_SENT;
        }
        snprintf(peer->snap_after, sizeof peer->snap_after, "%s", last);
    }
    return PUMP_SENT;
}

/* Sends up to BROKER_SYNC_STEP updates after peer->sync_after, and DirSyncDone at the end. */
static pump_sent_t
pump_sync_step(const pump_ctx_t *ctx, presence_peer_t *peer, MDB_txn *txn)
{
    if (peer->snapshot)
        return pump_snapshot_step(ctx, peer, txn);
    for (int i = 0; i < BROKER_SYNC_STEP; i++) {
        uint64_t seq = 0;
        uint8_t *frame = NULL;
        size_t len = 0;
        int rc = dirhub_next(ctx->store, txn, peer->sync_after, &seq);
        if (rc == REFNET_ENOTFOUND)
            return pump_sync_done(ctx, peer, txn);
        if (!rc)
            rc = dirhub_update_frame(ctx->store, txn, seq, &frame, &len);
        if (rc) {
            log_error("pump: directory catch-up for %s failed: %s", peer->agency,
                      refnet_strerror(rc));
            return PUMP_BUSY;
        }
        pump_sent_t sent = pump_send(ctx, peer, frame, len);
        free(frame);
        if (sent != PUMP_SENT)
            return sent;
        ctx->counters->dir_updates++;
        peer->sync_after = seq;
    }
    return PUMP_SENT;
}

/* ---- mailbox delivery --------------------------------------------------------------------- */

/* A peer that takes Batch frames gets its deliveries packed: copied here as mailbox_scan hands
 * them out (each is valid during its callback only), sent as one frame when the next would
 * not fit and at the end of the run. */
struct pump_pack {
    wire_batch_t batch;
    uint64_t qseq[WIRE_MAX_BATCH]; /* mailbox seq of each item */
    uint8_t arena[WIRE_MAX_FRAME]; /* the items' copies */
    size_t used;
};

pump_pack_t *
pump_pack_new(void)
{
    return xcalloc(1, sizeof(pump_pack_t));
}

void
pump_pack_destroy(pump_pack_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

typedef struct {
    const pump_ctx_t *ctx;
    presence_peer_t *peer;
    uint64_t mono;
    pump_sent_t last;
    pump_pack_t *pack; /* NULL: one frame per delivery */
} pump_delivery_t;

/* Records the delivery of mailbox seq `qseq` as sent. */
static void
pump_delivered(pump_delivery_t *d, uint64_t qseq)
{
    presence_peer_t *peer = d->peer;
    /* The redelivery timer runs from the first send nothing acknowledged yet. */
    if (peer->inflight == 0)
        peer->progress_mono = d->mono;
    d->ctx->counters->delivered++;
    if (qseq <= peer->sent_max)
        d->ctx->counters->redelivered++;
    else
        peer->sent_max = qseq;
    peer->cursor = qseq;
    peer->inflight++;
}

/* Sends the pack as one frame; its deliveries count as sent only when the frame went out. */
static bool
pump_pack_send(pump_delivery_t *d)
{
    pump_pack_t *p = d->pack;
    size_t n = p->batch.n;
    uint8_t *frame = NULL;
    size_t len = 0;
    if (n == 0)
        return true;
    p->used = 0;
    if (wire_batch_encode(&p->batch, NULL, &frame, &len) != 0) {
        d->last = PUMP_BUSY; /* cannot happen: the items were sized to fit */
        return false;
    }
    d->last = pump_send(d->ctx, d->peer, frame, len);
    free(frame);
    if (d->last != PUMP_SENT)
        return false;
    if (n > 1)
        d->ctx->counters->batches_out++;
    for (size_t i = 0; i < n; i++)
        pump_delivered(d, p->qseq[i]);
    return true;
}

static bool
pump_deliver_one(void *arg, uint64_t qseq, const uint8_t *frame, size_t len)
{
    pump_delivery_t *d = arg;
    pump_pack_t *p = d->pack;
    if (!p) {
        d->last = pump_send(d->ctx, d->peer, frame, len);
        if (d->last != PUMP_SENT)
            return false;
        pump_delivered(d, qseq);
        return d->peer->inflight < d->ctx->window;
    }
    if (!wire_batch_fits(&p->batch, len, WIRE_MAX_FRAME) && !pump_pack_send(d))
        return false;
    memcpy(p->arena + p->used, frame, len);
    wire_batch_add(&p->batch, p->arena + p->used, len);
    p->qseq[p->batch.n - 1] = qseq;
    p->used += len;
    return d->peer->inflight + p->batch.n < d->ctx->window;
}

static pump_sent_t
pump_deliver(
    const pump_ctx_t *ctx, presence_peer_t *peer, MDB_txn *txn, uint64_t now_ms, uint64_t mono)
{
    pump_delivery_t d = { ctx, peer, mono, PUMP_SENT, NULL };
    if (peer->inflight >= ctx->window)
        return PUMP_SENT; /* an ack will kick the peer again */
    if (peer->batches && ctx->pack) {
        d.pack = ctx->pack;
        wire_batch_init(&d.pack->batch);
        d.pack->used = 0;
    }
    int rc =
        mailbox_scan(ctx->mailbox, txn, peer->agency, peer->cursor, now_ms, pump_deliver_one, &d);
    if (rc == 0 && d.pack && d.last == PUMP_SENT)
        (void)pump_pack_send(&d);
    if (rc) {
        log_error("pump: reading %s's mailbox failed: %s", peer->agency, refnet_strerror(rc));
        return PUMP_BUSY;
    }
    return d.last;
}

void
pump_peer(const pump_ctx_t *ctx, presence_peer_t *peer, uint64_t now_ms, uint64_t mono)
{
    MDB_txn *txn = NULL;
    peer->pending = false;
    if (peer->rid_len == 0)
        return;
    if (store_begin(ctx->store, true, &txn) != 0) {
        peer->pending = true;
        return;
    }
    pump_sent_t sent = PUMP_SENT;
    if (peer->syncing)
        sent = pump_sync_step(ctx, peer, txn);
    if (sent != PUMP_GONE)
        sent = pump_deliver(ctx, peer, txn, now_ms, mono);
    store_abort(&txn);
    if (sent == PUMP_BUSY || peer->syncing)
        peer->pending = peer->rid_len > 0;
}

size_t
pump_peer_in(
    const pump_ctx_t *ctx, presence_peer_t *peer, MDB_txn *txn, uint64_t now_ms, uint64_t mono)
{
    uint64_t before = ctx->counters->delivered;
    if (peer->rid_len == 0 || peer->syncing)
        return 0;
    (void)pump_deliver(ctx, peer, txn, now_ms, mono);
    return (size_t)(ctx->counters->delivered - before);
}

bool
pump_all(const pump_ctx_t *ctx, uint64_t now_ms, uint64_t mono)
{
    bool more = false;
    for (size_t i = 0; i < presence_size(ctx->presence); i++) {
        presence_peer_t *peer = presence_at(ctx->presence, i);
        if (peer->pending)
            pump_peer(ctx, peer, now_ms, mono);
        more = more || peer->pending;
    }
    return more;
}

size_t
pump_horizon_raised(const pump_ctx_t *ctx, uint64_t horizon)
{
    size_t restarted = 0;
    for (size_t i = 0; i < presence_size(ctx->presence); i++) {
        presence_peer_t *peer = presence_at(ctx->presence, i);
        bool below = peer->snapshot ? peer->snap_begun && peer->snap_seq < horizon
                                    : peer->sync_after < horizon;
        if (peer->rid_len == 0 || !peer->syncing || !below)
            continue;
        log_info("pump: %s's directory catch-up needs what compaction forgot; it starts over "
                 "as a snapshot",
                 peer->agency);
        peer->snapshot = true;
        peer->snap_begun = false;
        peer->snap_after[0] = '\0';
        peer->pending = true;
        restarted++;
    }
    return restarted;
}

void
pump_fanout(const pump_ctx_t *ctx, const uint8_t *frame, size_t len, uint64_t seq)
{
    for (size_t i = 0; i < presence_size(ctx->presence); i++) {
        presence_peer_t *peer = presence_at(ctx->presence, i);
        if (peer->rid_len == 0 || peer->syncing)
            continue; /* a catch-up under way reads the log live and will include it */
        pump_sent_t sent = pump_send(ctx, peer, frame, len);
        if (sent == PUMP_SENT) {
            ctx->counters->dir_updates++;
        } else if (sent == PUMP_BUSY) {
            peer->syncing = true;
            peer->snapshot = false;
            peer->sync_after = seq - 1;
        }
    }
}

void
pump_timeouts(const pump_ctx_t *ctx, uint64_t mono, uint64_t redeliver_ms)
{
    for (size_t i = 0; i < presence_size(ctx->presence); i++) {
        presence_peer_t *peer = presence_at(ctx->presence, i);
        if (peer->rid_len == 0 || peer->inflight == 0 || mono - peer->progress_mono < redeliver_ms)
            continue;
        log_warn("session: %s acknowledged nothing for %llu ms; resending its mailbox",
                 peer->agency, (unsigned long long)redeliver_ms);
        presence_restart(peer, mono);
    }
}
