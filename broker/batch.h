/* batch: what one group commit will send once it is on disk.
 *
 * The broker applies a batch of requests in one LMDB write transaction and may tell nobody
 * anything until that transaction has committed: a STORED answer before the commit would be a
 * lie. Handlers therefore append their replies and follow-up work here; broker.c sends it all
 * after the commit, or, when the commit fails, answers each durable reply's request with an
 * error instead and drops the rest. A request whose own handling fails is cut out with
 * batch_mark()/batch_rollback(), so its half-made replies never leave.
 *
 * Entries:
 *   BATCH_REPLY   a frame for one peer (by routing id); `durable` when it reports a write
 *   BATCH_FANOUT  a DirUpdate frame for every online agency
 *   BATCH_KICK    an agency has new mail (or a freed window): run its delivery pump; for
 *                 new receipts, `receipts` is set and they may leave before the commit
 *                 (broker.c, broker_early_receipts)
 *   BATCH_STORED  a mail of the pair (sender `agency`, recipient `to`) was stored: if the
 *                 commit fails it was not, and the pair must be held in order (pairhold.h)
 *
 * Frames are owned by the batch once added. One batch belongs to the loop thread. */
#ifndef REFNET_BATCH_H
#define REFNET_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker_limits.h"
#include "uid.h"
#include "wire.h"

typedef struct batch batch_t;

typedef enum { BATCH_REPLY = 1, BATCH_FANOUT, BATCH_KICK, BATCH_STORED } batch_kind_t;

typedef struct {
    batch_kind_t kind;
    uint8_t rid[BROKER_MAX_RID]; /* REPLY: routing id of the peer */
    size_t rid_len;
    uint8_t *frame; /* REPLY, FANOUT: encoded Envelope (owned) */
    size_t len;
    bool durable;               /* REPLY: only true once the commit is on disk */
    uint8_t ref[UID_MSGID_LEN]; /* REPLY: msg_id of the request it answers */
    size_t ref_len;
    uint64_t seq;                    /* FANOUT: directory sequence number */
    char agency[WIRE_MAX_IDENT + 1]; /* KICK: agency to pump; STORED: the sender */
    uint32_t acked;                  /* KICK: in-flight deliveries the commit acknowledged */
    bool receipts;                   /* KICK: for receipts queued by an acknowledgement */
    char to[WIRE_MAX_IDENT + 1];     /* STORED: the recipient (the msg_id is in `ref`) */
} batch_entry_t;

/* Returns a new empty batch; aborts on out of memory only. */
batch_t *batch_new(void);
/* Frees the batch and every frame it holds. Accepts NULL; nulls *self_p. */
void batch_destroy(batch_t **self_p);

/* Appends a reply to the peer `rid`. Takes ownership of *frame (nulls it). `ref` (ref_len
 * bytes, at most UID_MSGID_LEN, may be 0) names the request, so a failed commit can be
 * answered. */
void batch_reply(batch_t *self,
                 const uint8_t *rid,
                 size_t rid_len,
                 uint8_t **frame,
                 size_t len,
                 const uint8_t *ref,
                 size_t ref_len,
                 bool durable);
/* Appends a DirUpdate frame for every online agency. Takes ownership of *frame. */
void batch_fanout(batch_t *self, uint8_t **frame, size_t len, uint64_t seq);
/* Appends a delivery kick for `agency`, counting `acked` freed window slots. */
void batch_kick(batch_t *self, const char *agency, uint32_t acked);
/* Appends a delivery kick for `agency`, which has new receipts. */
void batch_kick_receipts(batch_t *self, const char *agency);

/* Appends a note that mail `msg_id` (UID_MSGID_LEN bytes) from `sender` to `to` was stored. */
void batch_stored(batch_t *self, const char *sender, const char *to, const uint8_t *msg_id);

/* The batch's pool of random bytes for the msg_ids of the frames it sends (uid.h): one
 * system call per few hundred replies instead of one each. */
uid_pool_t *batch_ids(batch_t *self);

/* The number of entries; a mark to roll back to. */
size_t batch_mark(const batch_t *self);
/* Drops every entry added after `mark` (frees their frames). */
void batch_rollback(batch_t *self, size_t mark);
/* Entry `i` (< batch_mark); borrowed, valid until the next change to the batch. */
batch_entry_t *batch_at(batch_t *self, size_t i);
/* Drops every entry. */
void batch_clear(batch_t *self);

#endif
