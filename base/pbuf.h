/* pbuf: bounded decoding of protobuf-c messages from outside bytes.
 *
 * Every decoder of bytes that come from the network, the disk or a file uses this module:
 * input over `max_len` is refused before decoding, and decoding allocates through an
 * allocator with a byte budget, so hostile input cannot make a daemon allocate without bound.
 * A pbuf_t owns the decoded message and everything it points to. */
#ifndef REFNET_PBUF_H
#define REFNET_PBUF_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

typedef struct pbuf pbuf_t;

/* Allocation budget per decoded byte of input, plus a fixed allowance: decoded structs are
 * larger than their encoding (pointers, counts, NUL-terminated strings, empty sub-messages). */
#define PBUF_BUDGET_FACTOR 16
#define PBUF_BUDGET_BASE   4096

/* Decodes `len` bytes of `data` as message type `desc`. Returns 0 and sets *out (caller owns;
 * pbuf_destroy), REFNET_ETOOLARGE when len > max_len, or REFNET_EDECODE when the bytes are not
 * a valid message or decoding would exceed the budget. */
int pbuf_unpack(pbuf_t **out,
                const ProtobufCMessageDescriptor *desc,
                const void *data,
                size_t len,
                size_t max_len);
/* The decoded message (borrowed from self). Cast it to the type of `desc`. */
ProtobufCMessage *pbuf_msg(const pbuf_t *self);
/* Frees the message and its memory. Accepts NULL and *self_p == NULL; nulls *self_p. */
void pbuf_destroy(pbuf_t **self_p);

/* Packs `msg` into a new heap buffer. Sets *out (caller frees with free()) and *out_len. */
void pbuf_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *out_len);

#endif
