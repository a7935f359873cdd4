/* packer: the answers of one group commit, packed into Batch frames per peer.
 *
 * After a commit the broker sends every reply the batch queued. A peer whose Hello asked for
 * batches (presence_peer_t.batches) gets its replies packed: consecutive replies to it share
 * Batch frames of up to WIRE_MAX_FRAME bytes and WIRE_MAX_BATCH items (wire.h), in the order
 * they were queued. Every other peer gets one envelope per frame, as before. Packing changes no
 * outcome: each item is a reply that would otherwise have had its own frame.
 *
 * Usage per flush: packer_allow() for each peer that takes batches, packer_add() for each
 * reply (false: send it alone), packer_flush() at the end, which also forgets the peers.
 * Frames given to packer_add are borrowed until the pack holding them is sent (at the latest
 * by packer_flush). Only the loop thread uses a packer. */
#ifndef REFNET_PACKER_H
#define REFNET_PACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Peers packed per flush; replies to further peers go one per frame. */
#define PACKER_PEERS 64

typedef struct packer packer_t;

/* Sends one frame (a Batch, or a lone reply) holding `items` replies to `rid`. */
typedef void(packer_send_fn)(
    void *arg, const uint8_t *rid, size_t rid_len, const uint8_t *frame, size_t len, size_t items);

packer_t *packer_new(void);
void packer_destroy(packer_t **self_p);
/* Notes that routing id `rid` takes Batch frames in this flush (ignored beyond PACKER_PEERS
 * peers and for a rid already noted). */
void packer_allow(packer_t *self, const uint8_t *rid, size_t rid_len);
/* Queues `frame` (borrowed) for `rid` when that peer was allowed, first sending its pack
 * through `fn` when the frame would not fit in it. Returns false, queuing nothing, when the
 * peer takes no batches: the caller sends the frame alone. */
bool packer_add(packer_t *self,
                const uint8_t *rid,
                size_t rid_len,
                const uint8_t *frame,
                size_t len,
                packer_send_fn *fn,
                void *arg);
/* Sends every pack still holding replies through `fn`, then forgets the allowed peers. */
void packer_flush(packer_t *self, packer_send_fn *fn, void *arg);

#endif
