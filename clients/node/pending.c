/* pending: local API requests waiting for the broker's answer (see pending.h). */
#include "pending.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refnet_error.h"
#include "xmalloc.h"

struct pending {
    pending_item_t items[NODE_PENDING_MAX];
    size_t n;
};

pending_t *
pending_new(void)
{
    return xcalloc(1, sizeof(pending_t));
}

void
pending_destroy(pending_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

int
pending_add(pending_t *self,
            const pending_route_t *route,
            const uint8_t msg_id[UID_MSGID_LEN],
            const char *subject,
            uint64_t deadline)
{
    if (self->n >= NODE_PENDING_MAX)
        return REFNET_EQUEUEFULL;
    pending_item_t *it = &self->items[self->n++];
    it->route = *route;
    memcpy(it->msg_id, msg_id, UID_MSGID_LEN);
    snprintf(it->subject, sizeof it->subject, "%s", subject);
    it->deadline = deadline;
    return 0;
}

/* Moves entry i out, filling the hole with the last entry (order does not matter). */
static void
pending_remove(pending_t *self, size_t i, pending_item_t *out)
{
    *out = self->items[i];
    self->items[i] = self->items[--self->n];
}

bool
pending_take(pending_t *self, const uint8_t msg_id[UID_MSGID_LEN], pending_item_t *out)
{
    for (size_t i = 0; i < self->n; i++) {
        if (memcmp(self->items[i].msg_id, msg_id, UID_MSGID_LEN) == 0) {
            pending_remove(self, i, out);
            return true;
        }
    }
    return false;
}

bool
pending_take_expired(pending_t *self, uint64_t now, pending_item_t *out)
{
    for (size_t i = 0; i < self->n; i++) {
        if (self->items[i].deadline <= now) {
            pending_remove(self, i, out);
            return true;
        }
    }
    return false;
}

int
pending_timeout(const pending_t *self, uint64_t now)
{
    int best = -1;
    for (size_t i = 0; i < self->n; i++) {
        uint64_t d = self->items[i].deadline;
        int ms = d <= now ? 0 : (int)(d - now);
        if (best < 0 || ms < best)
            best = ms;
    }
    return best;
}

size_t
pending_count(const pending_t *self)
{
    return self->n;
}
