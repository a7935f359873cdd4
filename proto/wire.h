/* wire: encoding and decoding of refnet Envelopes (proto/refnet.proto).
 *
 * wire_decode() is the only way bytes from a socket become an Envelope: it refuses frames over
 * WIRE_MAX_FRAME, decodes with the bounded allocator (base/pbuf.h) and validates every field
 * (validate.h) before the caller sees the message. Stateless; thread-safe. */
#ifndef REFNET_WIRE_H
#define REFNET_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "pbuf.h"
#include "refnet.pb-c.h"
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

/* Short name of the body case for logs and counters, e.g. "mail", "publish". Never NULL. */
const char *wire_body_name(Refnet__Envelope__BodyCase body);

#endif
