/* presence: sessions and liveness of agencies (see presence.h). */
#include "presence.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

struct presence {
    uint32_t heartbeat_ms;
    zhashx_t *by_agency; /* agency id -> index + 1 into peers (borrowed keys) */
    presence_peer_t **peers;
    size_t n;
    size_t cap;
    size_t sessions; /* sessions started by presence_touch */
};

presence_t *
presence_new(uint32_t heartbeat_ms)
{
    presence_t *self = xcalloc(1, sizeof *self);
    self->heartbeat_ms = heartbeat_ms;
    self->by_agency = zhashx_new();
    self->cap = 16;
    self->peers = xcalloc(self->cap, sizeof *self->peers);
    return self;
}

void
presence_destroy(presence_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    presence_t *self = *self_p;
    zhashx_destroy(&self->by_agency);
    for (size_t i = 0; i < self->n; i++)
        free(self->peers[i]);
    free(self->peers);
    free(self);
    *self_p = NULL;
}

presence_peer_t *
presence_get(presence_t *self, const char *agency)
{
    return zhashx_lookup(self->by_agency, agency);
}

static presence_peer_t *
presence_add(presence_t *self, const char *agency)
{
    presence_peer_t *peer = presence_get(self, agency);
    if (peer)
        return peer;
    if (self->n == self->cap) {
        self->cap *= 2;
        self->peers = xrealloc(self->peers, self->cap * sizeof *self->peers);
    }
    peer = xcalloc(1, sizeof *peer);
    snprintf(peer->agency, sizeof peer->agency, "%s", agency);
    self->peers[self->n++] = peer;
    zhashx_insert(self->by_agency, peer->agency, peer);
    return peer;
}

void
presence_seed(presence_t *self, const char *agency, uint64_t last_seen_ms)
{
    presence_peer_t *peer = presence_add(self, agency);
    if (last_seen_ms > peer->last_seen_ms)
        peer->last_seen_ms = last_seen_ms;
}

presence_peer_t *
presence_touch(presence_t *self,
               const char *agency,
               const uint8_t *rid,
               size_t rid_len,
               uint64_t now_ms,
               uint64_t mono)
{
    presence_peer_t *peer = presence_add(self, agency);
    if (rid_len > sizeof peer->rid)
        rid_len = sizeof peer->rid;
    if (peer->rid_len != rid_len || memcmp(peer->rid, rid, rid_len) != 0) {
        memcpy(peer->rid, rid, rid_len);
        peer->rid_len = rid_len;
        peer->batches = false; /* until this session's Hello says otherwise */
        peer->syncing = false;
        peer->snapshot = false;
        presence_restart(peer, mono);
        self->sessions++;
    }
    peer->last_seen_ms = now_ms;
    peer->last_seen_mono = mono;
    return peer;
}

bool
presence_online(const presence_t *self, const presence_peer_t *peer, uint64_t mono)
{
    uint64_t limit = (uint64_t)self->heartbeat_ms * BROKER_OFFLINE_INTERVALS;
    return peer->rid_len > 0 && mono - peer->last_seen_mono <= limit;
}

void
presence_gone(presence_peer_t *peer)
{
    peer->rid_len = 0;
    peer->syncing = false;
    peer->snapshot = false;
    peer->pending = false;
    peer->cursor = 0;
    peer->inflight = 0;
}

void
presence_restart(presence_peer_t *peer, uint64_t mono)
{
    peer->cursor = 0;
    peer->inflight = 0;
    peer->progress_mono = mono;
    peer->pending = true;
}

void
presence_acked(presence_peer_t *peer, uint32_t n, uint64_t mono)
{
    peer->inflight = n >= peer->inflight ? 0 : peer->inflight - n;
    peer->progress_mono = mono;
    peer->pending = true;
}

size_t
presence_sessions(const presence_t *self)
{
    return self->sessions;
}

size_t
presence_size(const presence_t *self)
{
    return self->n;
}

presence_peer_t *
presence_at(presence_t *self, size_t i)
{
    return i < self->n ? self->peers[i] : NULL;
}
