/* pairhold: per-pair FIFO while a mailbox is full (see pairhold.h). */
#include "pairhold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "xmalloc.h"

typedef struct {
    char sender[WIRE_MAX_IDENT + 1];
    char to[WIRE_MAX_IDENT + 1];
    uint8_t (*ids)[UID_MSGID_LEN]; /* refused, oldest first */
    size_t nids;
    uint64_t touched_ms; /* last refusal or store of one of its ids */
} pairhold_pair_t;

struct pairhold {
    pairhold_pair_t *pairs;
    size_t npairs;
    uint64_t idle_ms;
};

pairhold_t *
pairhold_new(uint64_t idle_ms)
{
    pairhold_t *self = xcalloc(1, sizeof *self);
    self->pairs = xcalloc(PAIRHOLD_MAX_PAIRS, sizeof *self->pairs);
    self->idle_ms = idle_ms;
    return self;
}

void
pairhold_destroy(pairhold_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pairhold_t *self = *self_p;
    for (size_t i = 0; i < self->npairs; i++)
        free(self->pairs[i].ids);
    free(self->pairs);
    free(self);
    *self_p = NULL;
}

static void
pairhold_drop(pairhold_t *self, pairhold_pair_t *p)
{
    free(p->ids);
    *p = self->pairs[--self->npairs];
    memset(&self->pairs[self->npairs], 0, sizeof self->pairs[0]);
}

/* The pair's hold, or NULL. A hold idle for too long is dropped on the way. */
static pairhold_pair_t *
pairhold_find(pairhold_t *self, const char *sender, const char *to, uint64_t now_ms)
{
    for (size_t i = 0; i < self->npairs; i++) {
        pairhold_pair_t *p = &self->pairs[i];
        if (strcmp(p->sender, sender) != 0 || strcmp(p->to, to) != 0)
            continue;
        if (now_ms > p->touched_ms + self->idle_ms) {
            pairhold_drop(self, p);
            return NULL;
        }
        return p;
    }
    return NULL;
}

static size_t
pairhold_index(const pairhold_pair_t *p, const uint8_t *msg_id)
{
    for (size_t i = 0; i < p->nids; i++)
        if (memcmp(p->ids[i], msg_id, UID_MSGID_LEN) == 0)
            return i;
    return p->nids;
}

bool
pairhold_may_pass(
    pairhold_t *self, const char *sender, const char *to, const uint8_t *msg_id, uint64_t now_ms)
{
    pairhold_pair_t *p = pairhold_find(self, sender, to, now_ms);
    return !p || p->nids == 0 || memcmp(p->ids[0], msg_id, UID_MSGID_LEN) == 0;
}

/* The pair's hold, made when there is none; NULL when the table is full. */
static pairhold_pair_t *
pairhold_hold(pairhold_t *self, const char *sender, const char *to, uint64_t now_ms)
{
    if (strlen(sender) > WIRE_MAX_IDENT || strlen(to) > WIRE_MAX_IDENT)
        return NULL;
    pairhold_pair_t *p = pairhold_find(self, sender, to, now_ms);
    if (!p) {
        if (self->npairs >= PAIRHOLD_MAX_PAIRS)
            return NULL;
        p = &self->pairs[self->npairs++];
        snprintf(p->sender, sizeof p->sender, "%s", sender);
        snprintf(p->to, sizeof p->to, "%s", to);
        p->ids = xcalloc(PAIRHOLD_MAX_IDS, sizeof *p->ids);
    }
    p->touched_ms = now_ms;
    return p;
}

void
pairhold_refused(
    pairhold_t *self, const char *sender, const char *to, const uint8_t *msg_id, uint64_t now_ms)
{
    pairhold_pair_t *p = pairhold_hold(self, sender, to, now_ms);
    if (p && pairhold_index(p, msg_id) == p->nids && p->nids < PAIRHOLD_MAX_IDS)
        memcpy(p->ids[p->nids++], msg_id, UID_MSGID_LEN);
}

void
pairhold_unstored(
    pairhold_t *self, const char *sender, const char *to, const uint8_t *msg_id, uint64_t now_ms)
{
    pairhold_pair_t *p = pairhold_hold(self, sender, to, now_ms);
    if (!p)
        return;
    size_t at = pairhold_index(p, msg_id);
    if (at == p->nids && p->nids == PAIRHOLD_MAX_IDS)
        at = --p->nids; /* the newest is forgotten: it can only lose its place in line */
    memmove(p->ids[1], p->ids[0], at * sizeof p->ids[0]);
    memcpy(p->ids[0], msg_id, UID_MSGID_LEN);
    if (at == p->nids)
        p->nids++;
}

void
pairhold_stored(pairhold_t *self, const char *sender, const char *to, const uint8_t *msg_id)
{
    for (size_t i = 0; i < self->npairs; i++) {
        pairhold_pair_t *p = &self->pairs[i];
        if (strcmp(p->sender, sender) != 0 || strcmp(p->to, to) != 0)
            continue;
        size_t at = pairhold_index(p, msg_id);
        if (at < p->nids) {
            memmove(p->ids[at], p->ids[at + 1], (p->nids - at - 1) * sizeof p->ids[0]);
            p->nids--;
        }
        if (p->nids == 0)
            pairhold_drop(self, p);
        return;
    }
}

size_t
pairhold_count(const pairhold_t *self)
{
    return self->npairs;
}
