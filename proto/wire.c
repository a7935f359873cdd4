/* wire: encoding and decoding of refnet Envelopes (see wire.h).
 *
 * The one door from socket bytes to a decoded Envelope, used by the broker, the node and the
 * admin client alike. Decoding is three gates in order: size (before any work), bounded
 * protobuf decoding (base/pbuf.h) that also refuses what protobuf-c cannot re-encode, then the
 * version and every field rule (validate.h). A frame that fails a gate is freed here; the
 * caller only ever holds a valid message, and re-encoding it gives a frame that decodes to the
 * same message (tests/fuzz/fuzz_envelope.c checks this).
 *
 * Stateless and thread-safe. The decoded Envelope is owned by the returned pbuf_t. */
#include "wire.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "refnet_error.h"
#include "uid.h"
#include "validate.h"
#include "xmalloc.h"

/* Reads a value of `size` bytes at `offset` in a message, whatever its alignment. */
static void
wire_field(const ProtobufCMessage *m, unsigned offset, void *out, size_t size)
{
    memcpy(out, (const char *)m + offset, size);
}

/* True when `m` or a message inside it keeps an unknown field with field number 0.
 *
 * protobuf-c refuses a field number 0 written canonically (0x00) but accepts one written as an
 * overlong varint (0x80 0x00) and keeps it as an unknown field, which it then re-encodes
 * canonically. A frame that carried one would pass here and become undecodable once re-encoded,
 * and the broker re-encodes every Mail it stores: the recipient could never decode, nor
 * acknowledge, that delivery. Field number 0 is invalid in protobuf, so such frames are refused.
 * The schema has no recursive messages, so the depth is bounded by the schema. */
static bool
wire_has_field_zero(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < m->n_unknown_fields; i++)
        if (m->unknown_fields[i].tag == 0)
            return true;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = 0;
            ProtobufCMessage **items = NULL;
            wire_field(m, f->quantifier_offset, &n, sizeof n);
            wire_field(m, f->offset, &items, sizeof items);
            for (size_t j = 0; j < n; j++)
                if (items[j] && wire_has_field_zero(items[j]))
                    return true;
            continue;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t active = 0;
            wire_field(m, f->quantifier_offset, &active, sizeof active);
            if (active != f->id)
                continue; /* the slot belongs to another member of the oneof */
        }
        ProtobufCMessage *sub = NULL;
        wire_field(m, f->offset, &sub, sizeof sub);
        if (sub && wire_has_field_zero(sub))
            return true;
    }
    return false;
}

static void
wire_why(char *why, const char *sentence)
{
    if (why)
        snprintf(why, WIRE_WHY_LEN, "%s", sentence);
}

int
wire_decode(const void *data, size_t len, pbuf_t **out, char why[WIRE_WHY_LEN])
{
    pbuf_t *pb = NULL;
    const Refnet__Envelope *env = NULL;
    int rc;
    *out = NULL;
    if (len > WIRE_MAX_FRAME) {
        if (why)
            snprintf(why, WIRE_WHY_LEN, "frame of %zu bytes is over the limit of %d bytes", len,
                     WIRE_MAX_FRAME);
        return REFNET_ETOOLARGE;
    }
    rc = pbuf_unpack(&pb, &refnet__envelope__descriptor, data, len, WIRE_MAX_FRAME);
    if (rc != 0) {
        wire_why(why, rc == REFNET_ETOOLARGE ? "frame is over the size limit"
                                             : "frame is not a valid refnet Envelope");
        goto err;
    }
    env = (const Refnet__Envelope *)pbuf_msg(pb);
    if (wire_has_field_zero(&env->base)) {
        wire_why(why, "frame uses field number 0, which protobuf does not allow");
        rc = REFNET_EDECODE;
        goto err;
    }
    if (env->version != WIRE_VERSION) {
        if (why)
            snprintf(why, WIRE_WHY_LEN, "protocol version %u is not supported (this is %d)",
                     env->version, WIRE_VERSION);
        rc = REFNET_EVERSION;
        goto err;
    }
    rc = validate_envelope(env, why);
    if (rc != 0)
        goto err;
    *out = pb;
    return 0;
err:
    pbuf_destroy(&pb);
    return rc;
}

void
wire_stamp(Refnet__Envelope *env, uint8_t msg_id_buf[16])
{
    uid_msgid(msg_id_buf);
    env->version = WIRE_VERSION;
    env->msg_id.data = msg_id_buf;
    env->msg_id.len = UID_MSGID_LEN;
    env->sent_at_ms = clock_now_ms();
}

int
wire_encode(const Refnet__Envelope *env, uint8_t **out, size_t *out_len)
{
    size_t len = refnet__envelope__get_packed_size(env);
    *out = NULL;
    *out_len = 0;
    if (len > WIRE_MAX_FRAME)
        return REFNET_ETOOLARGE;
    uint8_t *buf = xmalloc(len);
    size_t packed = refnet__envelope__pack(env, buf);
    /* get_packed_size and pack walk the same struct, so they always agree. */
    assert(packed == len);
    (void)packed;
    *out = buf;
    *out_len = len;
    return 0;
}

int
wire_decode_item(const void *data, size_t len, pbuf_t **out, char why[WIRE_WHY_LEN])
{
    int rc = wire_decode(data, len, out, why);
    if (rc == 0 &&
        ((const Refnet__Envelope *)pbuf_msg(*out))->body_case == REFNET__ENVELOPE__BODY_BATCH) {
        wire_why(why, "a batch item is itself a batch");
        pbuf_destroy(out);
        rc = REFNET_EINVAL;
    }
    return rc;
}

/* ---- batches ------------------------------------------------------------------------------ */

/* Upper bound of an Envelope{batch}'s own bytes: version, msg_id, sent_at_ms and the batch
 * field's tag and length. */
#define WIRE_BATCH_HEAD 48

static size_t
wire_varint_len(size_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

void
wire_batch_init(wire_batch_t *b)
{
    b->n = 0;
    b->bytes = 0;
}

bool
wire_batch_fits(const wire_batch_t *b, size_t len, size_t max)
{
    if (b->n == 0)
        return true;
    if (max > WIRE_MAX_FRAME)
        max = WIRE_MAX_FRAME;
    size_t item = 1 + wire_varint_len(len) + len;
    return b->n < WIRE_MAX_BATCH && WIRE_BATCH_HEAD + b->bytes + item <= max;
}

void
wire_batch_add(wire_batch_t *b, const uint8_t *frame, size_t len)
{
    assert(b->n < WIRE_MAX_BATCH);
    b->items[b->n].data = (uint8_t *)frame;
    b->items[b->n].len = len;
    b->n++;
    b->bytes += 1 + wire_varint_len(len) + len;
}

int
wire_batch_encode(wire_batch_t *b, uid_pool_t *ids, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (b->n == 0)
        return REFNET_EINVAL;
    if (b->n == 1) {
        *out = xmalloc(b->items[0].len);
        memcpy(*out, b->items[0].data, b->items[0].len);
        *out_len = b->items[0].len;
        wire_batch_init(b);
        return 0;
    }
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Batch batch = REFNET__BATCH__INIT;
    uint8_t id[UID_MSGID_LEN];
    env.version = WIRE_VERSION;
    uid_msgid_ordered(ids, id);
    env.msg_id.data = id;
    env.msg_id.len = UID_MSGID_LEN;
    env.sent_at_ms = clock_now_ms();
    batch.n_envelopes = b->n;
    batch.envelopes = b->items;
    env.body_case = REFNET__ENVELOPE__BODY_BATCH;
    env.batch = &batch;
    int rc = wire_encode(&env, out, out_len);
    wire_batch_init(b);
    return rc;
}

const char *
wire_body_name(Refnet__Envelope__BodyCase body)
{
    switch (body) {
    case REFNET__ENVELOPE__BODY__NOT_SET:
        return "none";
    case REFNET__ENVELOPE__BODY_HELLO:
        return "hello";
    case REFNET__ENVELOPE__BODY_WELCOME:
        return "welcome";
    case REFNET__ENVELOPE__BODY_PING:
        return "ping";
    case REFNET__ENVELOPE__BODY_PONG:
        return "pong";
    case REFNET__ENVELOPE__BODY_PUBLISH:
        return "publish";
    case REFNET__ENVELOPE__BODY_AVAILABILITY:
        return "availability";
    case REFNET__ENVELOPE__BODY_WITHDRAW:
        return "withdraw";
    case REFNET__ENVELOPE__BODY_SYNC:
        return "sync";
    case REFNET__ENVELOPE__BODY_UPDATE:
        return "update";
    case REFNET__ENVELOPE__BODY_SYNC_DONE:
        return "sync_done";
    case REFNET__ENVELOPE__BODY_AGENCY_KEY:
        return "agency_key";
    case REFNET__ENVELOPE__BODY_KEY_ROTATE:
        return "key_rotate";
    case REFNET__ENVELOPE__BODY_BYE:
        return "bye";
    case REFNET__ENVELOPE__BODY_BATCH:
        return "batch";
    case REFNET__ENVELOPE__BODY_MAIL:
        return "mail";
    case REFNET__ENVELOPE__BODY_ACK:
        return "ack";
    case REFNET__ENVELOPE__BODY_RESULT:
        return "result";
    case REFNET__ENVELOPE__BODY_ADMIN_REQUEST:
        return "admin_request";
    case REFNET__ENVELOPE__BODY_ADMIN_REPLY:
        return "admin_reply";
    case REFNET__ENVELOPE__BODY_SNAPSHOT_BEGIN:
        return "snapshot_begin";
    case REFNET__ENVELOPE__BODY_SNAPSHOT_CHUNK:
        return "snapshot_chunk";
    case REFNET__ENVELOPE__BODY_SNAPSHOT_END:
        return "snapshot_end";
    case REFNET__ENVELOPE__BODY_DIGEST_REQUEST:
        return "digest_request";
    case REFNET__ENVELOPE__BODY_DIGEST:
        return "digest";
    default:
        break;
    }
    return "unknown";
}
