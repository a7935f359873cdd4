/* parking: the outbox items a node keeps back for a full recipient (see parking.h).
 *
 * The slots stay in key order: parking_park inserts in place, parking_compact keeps the order,
 * and parking_next walks them oldest first. That order is what keeps each pair's items FIFO:
 * the broker (pairhold.h) stores a pair's refused items only in the order it refused them. */
#include "parking.h"

#include <string.h>

_Static_assert(NODE_OUTBOX_PARKED > 0, "items refused for a full recipient need a parking");

void
parking_clear(parking_t *p)
{
    p->n = 0;
}

outslot_t *
parking_find(parking_t *p, const uint8_t *msg_id, size_t len)
{
    if (len != UID_MSGID_LEN)
        return NULL;
    for (size_t i = 0; i < p->n; i++)
        if (memcmp(p->slot[i].msg_id, msg_id, UID_MSGID_LEN) == 0)
            return &p->slot[i];
    return NULL;
}

bool
parking_holds(const parking_t *p, const char *to)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->slot[i].to, to) == 0)
            return true;
    return false;
}

bool
parking_park(parking_t *p, const outslot_t *slot, uint64_t due)
{
    size_t i = 0;
    while (i < p->n && p->slot[i].key < slot->key)
        i++;
    if (i < p->n && p->slot[i].key == slot->key) {
        p->slot[i].due = due;
        return true;
    }
    if (p->n >= NODE_OUTBOX_PARKED)
        return false;
    memmove(&p->slot[i + 1], &p->slot[i], (p->n - i) * sizeof p->slot[0]);
    p->slot[i] = *slot;
    p->slot[i].due = due;
    p->slot[i].gone = false;
    p->n++;
    return true;
}

bool
parking_answered(parking_t *p, const uint8_t *msg_id, size_t len)
{
    outslot_t *slot = parking_find(p, msg_id, len);
    if (!slot)
        return false;
    slot->gone = true;
    parking_compact(p);
    return true;
}

void
parking_postpone(parking_t *p, const uint8_t *msg_id, size_t len, uint64_t due)
{
    outslot_t *slot = parking_find(p, msg_id, len);
    if (slot && slot->due)
        slot->due = due;
}

void
parking_took(parking_t *p, uint64_t key, uint64_t *first, uint64_t *again)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->slot[i].key == key) {
            p->slot[i].gone = true;
            if (p->slot[i].due == 0)
                (*first)++;
            else
                (*again)++;
        }
    }
}

void
parking_compact(parking_t *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        if (!p->slot[i].gone)
            p->slot[n++] = p->slot[i];
    p->n = n;
}

void
parking_iter_init(parking_iter_t *it)
{
    it->next = 0;
    it->nstopped = 0;
}

/* True when `to` is among the recipients the walk has stopped for. */
static bool
parking_stopped(const parking_iter_t *it, const char *to)
{
    for (size_t i = 0; i < it->nstopped; i++)
        if (strcmp(it->stopped[i], to) == 0)
            return true;
    return false;
}

outslot_t *
parking_next(parking_t *p, parking_iter_t *it, uint64_t now)
{
    while (it->next < p->n) {
        outslot_t *slot = &p->slot[it->next++];
        if (parking_stopped(it, slot->to))
            continue;
        if (slot->due > now) {
            it->stopped[it->nstopped++] = slot->to;
            continue;
        }
        return slot;
    }
    return NULL;
}
