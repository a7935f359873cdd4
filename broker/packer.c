/* packer: replies packed into Batch frames per peer (see packer.h). */
#include "packer.h"

#include <stdlib.h>
#include <string.h>

#include "broker_limits.h"
#include "log.h"
#include "refnet_error.h"
#include "uid.h"
#include "wire.h"
#include "xmalloc.h"

typedef struct {
    uint8_t rid[BROKER_MAX_RID];
    size_t rid_len;
    wire_batch_t batch; /* the replies queued for this peer, not sent yet */
} packer_peer_t;

struct packer {
    packer_peer_t *peers; /* PACKER_PEERS of them; the first n are in use */
    size_t n;
    uid_pool_t ids; /* msg_ids of the Batch envelopes */
};

packer_t *
packer_new(void)
{
    packer_t *self = xcalloc(1, sizeof *self);
    self->peers = xcalloc(PACKER_PEERS, sizeof *self->peers);
    uid_pool_init(&self->ids);
    return self;
}

void
packer_destroy(packer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->peers);
    free(*self_p);
    *self_p = NULL;
}

static packer_peer_t *
packer_find(packer_t *self, const uint8_t *rid, size_t rid_len)
{
    for (size_t i = 0; i < self->n; i++) {
        packer_peer_t *p = &self->peers[i];
        if (p->rid_len == rid_len && memcmp(p->rid, rid, rid_len) == 0)
            return p;
    }
    return NULL;
}

void
packer_allow(packer_t *self, const uint8_t *rid, size_t rid_len)
{
    if (self->n == PACKER_PEERS || rid_len == 0 || rid_len > BROKER_MAX_RID ||
        packer_find(self, rid, rid_len))
        return;
    packer_peer_t *p = &self->peers[self->n++];
    memcpy(p->rid, rid, rid_len);
    p->rid_len = rid_len;
    wire_batch_init(&p->batch);
}

/* Encodes the peer's pack and sends it; the pack is empty afterwards. */
static void
packer_send(packer_t *self, packer_peer_t *p, packer_send_fn *fn, void *arg)
{
    uint8_t *frame = NULL;
    size_t len = 0, items = p->batch.n;
    if (items == 0)
        return;
    int rc = wire_batch_encode(&p->batch, &self->ids, &frame, &len);
    if (rc == 0)
        fn(arg, p->rid, p->rid_len, frame, len, items);
    else
        log_error("packer: %zu replies could not be packed: %s", items, refnet_strerror(rc));
    free(frame);
}

bool
packer_add(packer_t *self,
           const uint8_t *rid,
           size_t rid_len,
           const uint8_t *frame,
           size_t len,
           packer_send_fn *fn,
           void *arg)
{
    packer_peer_t *p = packer_find(self, rid, rid_len);
    if (!p)
        return false;
    if (!wire_batch_fits(&p->batch, len, WIRE_MAX_FRAME))
        packer_send(self, p, fn, arg);
    wire_batch_add(&p->batch, frame, len);
    return true;
}

void
packer_flush(packer_t *self, packer_send_fn *fn, void *arg)
{
    for (size_t i = 0; i < self->n; i++)
        packer_send(self, &self->peers[i], fn, arg);
    self->n = 0;
}
