/* parking: the outbox items a node keeps back because their recipient's mailbox is full.
 *
 * The link (link.h) moves an item the broker answered "queue full" (or "storage full") from
 * its send window into the parking, and parks unsent behind it every later item for the same
 * recipient, so that a full recipient holds up no other and each pair's items still reach
 * the broker in key order. Slots are kept in key order, at most NODE_OUTBOX_PARKED of them.
 * A slot parked after a refusal carries the time it is due again; one parked behind another
 * carries due 0 (it has never been sent).
 *
 * Removal is two-step: a slot sent or dropped during a pass is marked `gone` and stays in
 * place (so pointers and iterators stay valid), and parking_compact drops the gone slots.
 *
 * Ownership: parking_t is a plain value owned by its user (the link embeds one); it holds no
 * heap memory and does no I/O. Single-threaded, like the link. */
#ifndef REFNET_PARKING_H
#define REFNET_PARKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node_limits.h"
#include "outslot.h"

typedef struct {
    outslot_t slot[NODE_OUTBOX_PARKED]; /* in key order */
    size_t n;
} parking_t;

/* Walks the slots due for a retry (parking_next). The recipients it holds point into the
 * parking's slots: the parking must not be compacted or parked into during the walk. */
typedef struct {
    size_t next;
    const char *stopped[NODE_OUTBOX_PARKED]; /* recipients whose oldest item is not due */
    size_t nstopped;
} parking_iter_t;

/* Empties the parking. */
void parking_clear(parking_t *p);

/* The parked slot whose msg_id is the `len` bytes at `msg_id`, or NULL (also when `len` is
 * not UID_MSGID_LEN). Slots marked gone are found too. */
outslot_t *parking_find(parking_t *p, const uint8_t *msg_id, size_t len);

/* True when an item for `to` is parked: a later item for it must wait behind. */
bool parking_holds(const parking_t *p, const char *to);

/* Parks `slot` (copied, not gone) at its place in key order, due at `due`. Returns false when
 * the parking is full; an item parked already only gets the new due time. */
bool parking_park(parking_t *p, const outslot_t *slot, uint64_t due);

/* An answer came for the item with this msg_id (an earlier copy of a parked item may be
 * answered after the copy that was refused): its slot is dropped. Returns true when it was
 * parked. */
bool parking_answered(parking_t *p, const uint8_t *msg_id, size_t len);

/* A parked item was refused again: it is due again at `due`. An item parked behind another
 * (due 0) or one not parked is left alone. */
void parking_postpone(parking_t *p, const uint8_t *msg_id, size_t len, uint64_t due);

/* The parked item with outbox key `key` went out again: its slot is marked gone. Adds 1 to
 * *first for each such slot never sent before (parked behind another, due 0), else to *again. */
void parking_took(parking_t *p, uint64_t key, uint64_t *first, uint64_t *again);

/* Drops the slots marked gone, keeping the others in key order. */
void parking_compact(parking_t *p);

/* Starts a walk over the slots due for a retry at `now`. */
void parking_iter_init(parking_iter_t *it);
/* The next slot to send again, in key order: per recipient, from its oldest parked slot once
 * that one is due at `now`, and never one past an older slot of the same recipient that is
 * not due, so each pair's items go in order. Returns NULL at the end. */
outslot_t *parking_next(parking_t *p, parking_iter_t *it, uint64_t now);

#endif
