/* wire: encoding and decoding of refnet Envelopes (proto/refnet.proto).
 *
 * wire_decode() is the only way bytes from a socket become an Envelope: it refuses frames over
 * WIRE_MAX_FRAME, decodes with the bounded allocator (base/pbuf.h) and validates every field
 * (validate.h) before the caller sees the message. Stateless; thread-safe. */
#ifndef REFNET_WIRE_H
#define REFNET_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "pbuf.h"
#include "refnet.pb-c.h"
#include "uid.h"
#include "wire_limits.h"

#define WIRE_VERSION 1

/* Length of a reason sentence written by the decoders and validators. */
#define WIRE_WHY_LEN 256

/* Decodes and validates one frame. Returns 0 and sets *out (caller owns; pbuf_destroy; the
 * Envelope is (Refnet__Envelope *) pbuf_msg(*out)), or:
 *   REFNET_ETOOLARGE  frame over WIRE_MAX_FRAME;
 *   REFNET_EDECODE    not a valid protobuf Envelope;
 *   REFNET_EVERSION   version != WIRE_VERSION;
 *   REFNET_EINVAL     a field breaks a rule of validate.h.
 * On failure `why` (may be NULL) holds one sentence naming the field. */
int wire_decode(const void *data, size_t len, pbuf_t **out, char why[WIRE_WHY_LEN]);

/* Fills the header of `env` (already initialised with refnet__envelope__init): version, a new
 * random msg_id written into `msg_id_buf` (which must outlive env), and sent_at_ms = now. */
void wire_stamp(Refnet__Envelope *env, uint8_t msg_id_buf[16]);

/* Packs `env` into a new heap buffer (caller frees). Returns 0, or REFNET_ETOOLARGE when the
 * encoding exceeds WIRE_MAX_FRAME (nothing is allocated then). */
int wire_encode(const Refnet__Envelope *env, uint8_t **out, size_t *out_len);

/* Decodes one item of a Batch (Batch.envelopes[i]) as wire_decode() does, and also refuses an
 * item that is itself a Batch (REFNET_EINVAL). */
int wire_decode_item(const void *data, size_t len, pbuf_t **out, char why[WIRE_WHY_LEN]);

/* Packs already encoded envelopes into one frame (see Batch in refnet.proto). The items are
 * borrowed: they must stay valid until wire_batch_encode(). Usage:
 *
 *     wire_batch_t b;
 *     wire_batch_init(&b);
 *     while (more && wire_batch_fits(&b, len, max_frame))
 *         wire_batch_add(&b, frame, len);
 *     rc = wire_batch_encode(&b, ids, &out, &out_len);
 */
typedef struct {
    ProtobufCBinaryData items[WIRE_MAX_BATCH];
    size_t n;
    size_t bytes; /* encoded size of the items so far, field tags and lengths included */
} wire_batch_t;

void wire_batch_init(wire_batch_t *b);
/* True when an item of `len` bytes can join without the frame passing WIRE_MAX_BATCH items or
 * `max` bytes (at most WIRE_MAX_FRAME). An empty batch takes any item: alone, it is sent as
 * itself. */
bool wire_batch_fits(const wire_batch_t *b, size_t len, size_t max);
void wire_batch_add(wire_batch_t *b, const uint8_t *frame, size_t len);
/* The frame to send (caller frees): a copy of the item itself when the batch holds one, an
 * Envelope{batch} stamped with a new msg_id (from `ids`, or unpooled when NULL) when it holds
 * more. Empties `b`. Returns 0, REFNET_EINVAL for an empty batch, or REFNET_ETOOLARGE. */
int wire_batch_encode(wire_batch_t *b, uid_pool_t *ids, uint8_t **out, size_t *out_len);

/* Short name of the body case for logs and counters, e.g. "mail", "publish". Never NULL. */
const char *wire_body_name(Refnet__Envelope__BodyCase body);

#endif
