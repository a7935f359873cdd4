/* intake: the frames of one group commit, authenticated, decoded and expanded into the
 * slots (see broker_int.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_int.h"
#include "log.h"
#include "refnet_error.h"

/* Says Bye to the peer's session and stops hearing the agency for SHUN_COOLDOWN_MS. The Bye
 * goes out with the batch, after the refusal of the frame that went over. */
static void
broker_shun(broker_t *self, presence_peer_t *peer, uint64_t mono)
{
    char reason[WIRE_MAX_DETAIL + 1];
    uint8_t *frame = NULL;
    size_t len = 0;
    snprintf(reason, sizeof reason, "too many bad frames (over %d in %d s); not served for %d s",
             SHUN_BAD_FRAMES, SHUN_WINDOW_MS / 1000, SHUN_COOLDOWN_MS / 1000);
    shun_add(self->shun, peer->agency, mono + SHUN_COOLDOWN_MS);
    self->counters.shuns++;
    log_warn("agency %s sent too many bad frames (%llu so far); saying Bye and not serving it "
             "for %d s",
             peer->agency, (unsigned long long)peer->bad_frames, SHUN_COOLDOWN_MS / 1000);
    if (shun_bye_frame(reason, SHUN_COOLDOWN_MS, &frame, &len) == 0)
        batch_reply(self->batch, peer->rid, peer->rid_len, &frame, len, NULL, 0, false);
    free(frame);
    /* Offline from now on: nothing more is delivered to the session, and its mail waits. */
    presence_gone(peer);
}

/* Logs a bad frame from `who`: the first few one by one, then every BROKER_BAD_LOG_EVERY-th,
 * so a misbehaving node cannot flood the log. Past the threshold of shun.h the agency is told
 * Bye. */
static void
broker_bad_frame(broker_t *self, presence_peer_t *peer, const char *why, uint64_t mono)
{
    self->counters.bad_frames++;
    peer->bad_frames++;
    if (peer->bad_frames <= BROKER_BAD_LOG_FIRST || peer->bad_frames % BROKER_BAD_LOG_EVERY == 0)
        log_warn("bad frame from %s (%llu so far): %s", peer->agency,
                 (unsigned long long)peer->bad_frames, why);
    if (shun_offence(self->shun, peer->agency, mono))
        broker_shun(self, peer, mono);
}

static Refnet__Status
broker_decode_status(int rc)
{
    switch (rc) {
    case REFNET_ETOOLARGE:
        return REFNET__STATUS__STATUS_TOO_LARGE;
    case REFNET_EVERSION:
        return REFNET__STATUS__STATUS_VERSION;
    default:
        return REFNET__STATUS__STATUS_BAD_REQUEST;
    }
}

/* Checks a decoded request against the broker's frame limit and takes it into `slot` (which
 * then owns `pb`), or refuses it. */
static void
broker_take(broker_t *self,
            broker_slot_t *slot,
            presence_peer_t *peer,
            pbuf_t *pb,
            size_t len,
            uint64_t mono)
{
    const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
    char why[WIRE_WHY_LEN];
    log_debug("%s from %s", wire_body_name(env->body_case), peer->agency);
    if (len > self->cfg.max_frame) {
        /* Decoded first so that the answer names the request: the sender settles its outbox
         * item instead of resending it forever. */
        snprintf(why, sizeof why, "a frame of %zu bytes is over this broker's limit of %zu", len,
                 self->cfg.max_frame);
        broker_refuse(self, slot->rid, &env->msg_id, REFNET__STATUS__STATUS_TOO_LARGE, why);
        broker_bad_frame(self, peer, why, mono);
        pbuf_destroy(&pb);
        return;
    }
    snprintf(slot->agency, sizeof slot->agency, "%s", peer->agency);
    slot->pb = pb;
}

/* Takes the items of a Batch frame received in `carrier` into the slots from `carrier` on,
 * each decoded and checked as if it had come alone. A refused item takes no slot; an agency
 * shunned on the way loses the rest. Returns the number of slots used (0 when none). */
static size_t
broker_expand(broker_t *self,
              broker_slot_t *carrier,
              presence_peer_t *peer,
              const Refnet__Batch *batch,
              uint64_t mono)
{
    static const ProtobufCBinaryData no_ref = { 0, NULL };
    char why[WIRE_WHY_LEN];
    size_t used = 0;
    self->counters.batches_in++;
    self->counters.frames += batch->n_envelopes - 1; /* the carrier counted once already */
    for (size_t i = 0; i < batch->n_envelopes && !shun_active(self->shun, peer->agency, mono);
         i++) {
        const ProtobufCBinaryData *item = &batch->envelopes[i];
        pbuf_t *pb = NULL;
        int rc = wire_decode_item(item->data, item->len, &pb, why);
        if (rc) {
            broker_refuse(self, carrier->rid, &no_ref, broker_decode_status(rc), why);
            broker_bad_frame(self, peer, why, mono);
            continue;
        }
        broker_slot_t *slot = carrier + used;
        if (slot != carrier) {
            slot->open = false;
            slot->rid = carrier->rid;
            slot->pb = NULL;
        }
        broker_take(self, slot, peer, pb, item->len, mono);
        used += slot->pb != NULL;
    }
    return used;
}

/* Authenticates and decodes one received frame into `slot`, and a Batch's items into the
 * slots after it. A request that cannot be applied is answered (or dropped, for a shunned
 * agency) here and takes no slot. Returns the number of slots used. */
static size_t
broker_frame(broker_t *self, broker_slot_t *slot, uint64_t now_ms, uint64_t mono)
{
    static const ProtobufCBinaryData no_ref = { 0, NULL };
    bsock_msg_t *m = &slot->m;
    char why[WIRE_WHY_LEN];
    pbuf_t *pb = NULL;
    self->counters.frames++;
    const agencies_entry_t *agency = broker_sender(self, m->user_id, mono);
    if (!agency) {
        broker_refuse(self, slot->rid, &no_ref, REFNET__STATUS__STATUS_FORBIDDEN,
                      "this key is not enrolled as an agency");
        return 0;
    }
    if (shun_active(self->shun, agency->id, mono)) {
        /* Not even presence is updated: a shunned agency is offline to everyone. */
        self->counters.shunned_frames++;
        return 0;
    }
    presence_peer_t *peer = presence_touch(self->presence, agency->id, zmq_msg_data(&m->rid),
                                           zmq_msg_size(&m->rid), now_ms, mono);
    int rc = m->well_formed ? wire_decode(zmq_msg_data(&m->body), zmq_msg_size(&m->body), &pb, why)
                            : REFNET_EDECODE;
    if (rc) {
        if (!m->well_formed)
            snprintf(why, sizeof why, "a message must be exactly one envelope frame");
        broker_refuse(self, slot->rid, &no_ref, broker_decode_status(rc), why);
        broker_bad_frame(self, peer, why, mono);
        return 0;
    }
    const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
    if (env->body_case == REFNET__ENVELOPE__BODY_BATCH) {
        /* The frame is within WIRE_MAX_FRAME (wire_decode); max_frame applies to each item. */
        size_t used = broker_expand(self, slot, peer, env->batch, mono);
        pbuf_destroy(&pb);
        return used;
    }
    broker_take(self, slot, peer, pb, zmq_msg_size(&m->body), mono);
    return slot->pb != NULL;
}

/* Receives frames until BROKER_BATCH requests are in the slots (a Batch frame's items count
 * one each), authenticating and decoding each. Returns how many slots it filled. */
size_t
broker_receive(broker_t *self, uint64_t now_ms, uint64_t mono)
{
    void *sock = zsock_resolve(self->router);
    size_t n = 0;
    /* Refused frames take no slot but count here, so a flood of them cannot hold the loop. */
    for (size_t frames = 0; n < BROKER_BATCH && frames < BROKER_BATCH; frames++) {
        broker_slot_t *slot = &self->slots[n];
        slot->pb = NULL;
        slot->rid = &slot->m.rid;
        if (bsock_recv(sock, &slot->m) != 0) {
            bsock_msg_close(&slot->m);
            break;
        }
        slot->open = true;
        size_t used = zmq_msg_more(&slot->m.rid) ? broker_frame(self, slot, now_ms, mono) : 0;
        /* A refused frame's answer holds a copy of its routing id: the slot is free again. */
        n += used;
        if (!used) {
            bsock_msg_close(&slot->m);
            slot->open = false;
        }
    }
    return n;
}

void
broker_release(broker_t *self, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pbuf_destroy(&self->slots[i].pb);
        if (self->slots[i].open)
            bsock_msg_close(&self->slots[i].m);
        self->slots[i].open = false;
    }
}
