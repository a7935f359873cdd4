/* shun: agencies the broker no longer serves, and their bad-frame counts (see shun.h).
 *
 * One entry per agency that has sent a bad frame or was shunned. Offences are kept as a ring
 * of the last SHUN_BAD_FRAMES + 1 bad-frame times, so "over the threshold within the window"
 * is exact: the ring is full and its oldest time is inside the window. The ring is allocated
 * on an agency's first offence only; honest agencies never get one. The table holds at most
 * one entry per enrolled agency (the callers pass authenticated ids), so it stays below
 * BROKER_MAX_AGENCIES entries. */
#include "shun.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_limits.h"
#include "uid.h"
#include "wire.h"
#include "xmalloc.h"

#define SHUN_RING (SHUN_BAD_FRAMES + 1)

typedef struct {
    char agency[WIRE_MAX_IDENT + 1];
    bool shunned;
    uint64_t until;  /* end of the shun (monotonic ms); 0 = until shun_clear */
    uint64_t *times; /* ring of the latest offence times, SHUN_RING slots, or NULL */
    size_t nseen;    /* offences in the ring, at most SHUN_RING */
    size_t next;     /* slot the next offence goes to */
} shun_entry_t;

struct shun {
    shun_entry_t *entries;
    size_t n, cap;
};

shun_t *
shun_new(void)
{
    return xcalloc(1, sizeof(shun_t));
}

void
shun_destroy(shun_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    shun_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        free(self->entries[i].times);
    free(self->entries);
    free(self);
    *self_p = NULL;
}

static shun_entry_t *
shun_find(shun_t *self, const char *agency)
{
    for (size_t i = 0; i < self->n; i++)
        if (strcmp(self->entries[i].agency, agency) == 0)
            return &self->entries[i];
    return NULL;
}

/* The agency's entry, made if needed. NULL for an id longer than an identifier may be: such
 * an id cannot belong to an enrolled agency, so it is never tracked. */
static shun_entry_t *
shun_get(shun_t *self, const char *agency)
{
    shun_entry_t *e = shun_find(self, agency);
    if (e || strlen(agency) > WIRE_MAX_IDENT)
        return e;
    if (self->n == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 8;
        self->entries = xrealloc(self->entries, self->cap * sizeof *self->entries);
    }
    e = &self->entries[self->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->agency, sizeof e->agency, "%s", agency);
    return e;
}

/* Removes an entry (order does not matter). */
static void
shun_forget(shun_t *self, shun_entry_t *e)
{
    free(e->times);
    *e = self->entries[--self->n];
}

void
shun_add(shun_t *self, const char *agency, uint64_t until_mono)
{
    shun_entry_t *e = shun_get(self, agency);
    if (!e)
        return;
    e->shunned = true;
    e->until = until_mono;
}

bool
shun_active(shun_t *self, const char *agency, uint64_t mono)
{
    shun_entry_t *e = shun_find(self, agency);
    if (!e || !e->shunned)
        return false;
    if (e->until == 0 || mono < e->until)
        return true;
    /* Served its time: the agency starts over with a clean record. */
    shun_forget(self, e);
    return false;
}

void
shun_clear(shun_t *self, const char *agency)
{
    shun_entry_t *e = shun_find(self, agency);
    if (e)
        shun_forget(self, e);
}

bool
shun_offence(shun_t *self, const char *agency, uint64_t mono)
{
    shun_entry_t *e = shun_get(self, agency);
    if (!e)
        return false;
    if (!e->times)
        e->times = xcalloc(SHUN_RING, sizeof *e->times);
    e->times[e->next] = mono;
    e->next = (e->next + 1) % SHUN_RING;
    if (e->nseen < SHUN_RING)
        e->nseen++;
    /* Full ring: the slot about to be overwritten holds the oldest of the last SHUN_RING. */
    return e->nseen == SHUN_RING && mono - e->times[e->next] <= SHUN_WINDOW_MS;
}

int
shun_bye_frame(const char *reason, uint64_t retry_after_ms, uint8_t **frame, size_t *len)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Bye bye = REFNET__BYE__INIT;
    uint8_t msg_id[UID_MSGID_LEN];
    char text[WIRE_MAX_DETAIL + 1];
    /* The broker writes its reasons in ASCII, so cutting at a byte keeps them valid UTF-8. */
    snprintf(text, sizeof text, "%s", reason ? reason : "");
    bye.reason = text;
    bye.retry_after_ms = retry_after_ms;
    wire_stamp(&env, msg_id);
    env.body_case = REFNET__ENVELOPE__BODY_BYE;
    env.bye = &bye;
    return wire_encode(&env, frame, len);
}
