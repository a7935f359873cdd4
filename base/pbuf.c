/* pbuf: protobuf-c decoding with a size limit and an allocation budget (see pbuf.h).
 *
 * Each allocation made by protobuf-c during unpacking carries a small header recording its
 * size, so that the budget is returned on free and the allocator stays exact. */
#include "pbuf.h"

#include <stdint.h>
#include <stdlib.h>

#include "refnet_error.h"
#include "xmalloc.h"

struct pbuf {
    ProtobufCAllocator allocator; /* handed to protobuf-c; allocator_data points at self */
    size_t used;                  /* bytes handed out, headers included */
    size_t budget;                /* most bytes this message may use */
    ProtobufCMessage *msg;        /* the decoded message, or NULL */
};

typedef union {
    size_t size;
    max_align_t align; /* keeps the block after the header aligned for any type */
} pbuf_header_t;

static void *
pbuf_alloc(void *data, size_t size)
{
    pbuf_t *self = data;
    size_t total = size + sizeof(pbuf_header_t);
    if (total < size || total > self->budget - self->used)
        return NULL; /* over budget: protobuf-c reports a failed unpack */
    pbuf_header_t *h = xmalloc(total);
    h->size = total;
    self->used += total;
    return h + 1;
}

static void
pbuf_free_block(void *data, void *ptr)
{
    pbuf_t *self = data;
    if (!ptr)
        return;
    pbuf_header_t *h = (pbuf_header_t *)ptr - 1;
    self->used -= h->size;
    free(h);
}

int
pbuf_unpack(pbuf_t **out,
            const ProtobufCMessageDescriptor *desc,
            const void *data,
            size_t len,
            size_t max_len)
{
    if (len > max_len)
        return REFNET_ETOOLARGE;
    pbuf_t *self = xcalloc(1, sizeof *self);
    self->allocator.alloc = pbuf_alloc;
    self->allocator.free = pbuf_free_block;
    self->allocator.allocator_data = self;
    self->budget = len * PBUF_BUDGET_FACTOR + PBUF_BUDGET_BASE;
    self->msg = protobuf_c_message_unpack(desc, &self->allocator, len, data);
    if (!self->msg) {
        pbuf_destroy(&self);
        return REFNET_EDECODE;
    }
    *out = self;
    return 0;
}

ProtobufCMessage *
pbuf_msg(const pbuf_t *self)
{
    return self->msg;
}

void
pbuf_destroy(pbuf_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pbuf_t *self = *self_p;
    if (self->msg)
        protobuf_c_message_free_unpacked(self->msg, &self->allocator);
    free(self);
    *self_p = NULL;
}

void
pbuf_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *out_len)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = xmalloc(len);
    protobuf_c_message_pack(msg, buf);
    *out = buf;
    *out_len = len;
}
