/* batch: replies and follow-up work of one group commit (see batch.h). */
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* Initial room: a full batch of BROKER_BATCH requests mostly makes one reply each. */
#define BATCH_INITIAL (BROKER_BATCH * 2)

struct batch {
    batch_entry_t *entries;
    size_t n;
    size_t cap;
    uid_pool_t ids;
};

batch_t *
batch_new(void)
{
    batch_t *self = xcalloc(1, sizeof *self);
    self->cap = BATCH_INITIAL;
    self->entries = xcalloc(self->cap, sizeof *self->entries);
    uid_pool_init(&self->ids);
    return self;
}

void
batch_destroy(batch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    batch_t *self = *self_p;
    batch_clear(self);
    free(self->entries);
    free(self);
    *self_p = NULL;
}

static batch_entry_t *
batch_push(batch_t *self, batch_kind_t kind)
{
    if (self->n == self->cap) {
        self->cap *= 2;
        self->entries = xrealloc(self->entries, self->cap * sizeof *self->entries);
    }
    batch_entry_t *e = &self->entries[self->n++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    return e;
}

void
batch_reply(batch_t *self,
            const uint8_t *rid,
            size_t rid_len,
            uint8_t **frame,
            size_t len,
            const uint8_t *ref,
            size_t ref_len,
            bool durable)
{
    batch_entry_t *e = batch_push(self, BATCH_REPLY);
    e->rid_len = rid_len <= sizeof e->rid ? rid_len : sizeof e->rid;
    memcpy(e->rid, rid, e->rid_len);
    e->frame = *frame;
    *frame = NULL;
    e->len = len;
    e->ref_len = ref_len <= sizeof e->ref ? ref_len : 0;
    if (e->ref_len)
        memcpy(e->ref, ref, e->ref_len);
    e->durable = durable;
}

void
batch_fanout(batch_t *self, uint8_t **frame, size_t len, uint64_t seq)
{
    batch_entry_t *e = batch_push(self, BATCH_FANOUT);
    e->frame = *frame;
    *frame = NULL;
    e->len = len;
    e->seq = seq;
}

void
batch_kick(batch_t *self, const char *agency, uint32_t acked)
{
    batch_entry_t *e = batch_push(self, BATCH_KICK);
    snprintf(e->agency, sizeof e->agency, "%s", agency);
    e->acked = acked;
}

void
batch_kick_receipts(batch_t *self, const char *agency)
{
    batch_entry_t *e = batch_push(self, BATCH_KICK);
    snprintf(e->agency, sizeof e->agency, "%s", agency);
    e->receipts = true;
}

void
batch_stored(batch_t *self, const char *sender, const char *to, const uint8_t *msg_id)
{
    batch_entry_t *e = batch_push(self, BATCH_STORED);
    snprintf(e->agency, sizeof e->agency, "%s", sender);
    snprintf(e->to, sizeof e->to, "%s", to);
    memcpy(e->ref, msg_id, UID_MSGID_LEN);
    e->ref_len = UID_MSGID_LEN;
}

uid_pool_t *
batch_ids(batch_t *self)
{
    return &self->ids;
}

size_t
batch_mark(const batch_t *self)
{
    return self->n;
}

void
batch_rollback(batch_t *self, size_t mark)
{
    while (self->n > mark) {
        self->n--;
        free(self->entries[self->n].frame);
        self->entries[self->n].frame = NULL;
    }
}

batch_entry_t *
batch_at(batch_t *self, size_t i)
{
    return i < self->n ? &self->entries[i] : NULL;
}

void
batch_clear(batch_t *self)
{
    batch_rollback(self, 0);
}
