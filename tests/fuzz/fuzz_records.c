/* fuzz_records: libFuzzer target for the bounded decoding of LMDB records (proto/records.proto).
 *
 * The daemons read their records back from disk with pbuf_unpack(), because a data file can be
 * corrupted or edited. The first input byte picks the record type; the rest is the value as
 * LMDB would return it, decoded with the same limit store_get_msg() uses (the value's size).
 * A decoded record is packed again, so the packer walks every pointer the decoder made, and the
 * bytes a record carries for the wire (a queued or outgoing Envelope, a received PersonPacket,
 * a directory Service) go through the same checks the daemons apply before using them.
 *
 * The same bytes also go through pbscan (the fields the broker reads without decoding).
 *
 * Two wire messages are here too, because they never cross the wire in clear: what a sealed
 * person packet and a sealed reason open to (PersonPacket, StepNote). crypto_box_open only
 * proves which agency sealed the bytes, not that they are well formed, so an enrolled agency
 * can send any bytes there; the receiving node decodes them with the same bounded decoder. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pbscan.h"
#include "pbuf.h"
#include "records.pb-c.h"
#include "refnet_error.h"
#include "validate.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Order matters: make_corpus.c writes seeds with the same index byte. */
static const ProtobufCMessageDescriptor *const FUZZ_RECORDS[] = {
    &refnet__agency_record__descriptor, &refnet__dir_record__descriptor,
    &refnet__handoff_meta__descriptor,  &refnet__queued_mail__descriptor,
    &refnet__person_record__descriptor, &refnet__consent_record__descriptor,
    &refnet__handoff_event__descriptor, &refnet__handoff_record__descriptor,
    &refnet__outbox_item__descriptor,   &refnet__revocation_notice__descriptor,
    &refnet__audit_entry__descriptor,   &refnet__step_note__descriptor,
    &refnet__person_packet__descriptor,
};

#define FUZZ_RECORDS_N (sizeof FUZZ_RECORDS / sizeof FUZZ_RECORDS[0])

static void
fuzz_envelope_bytes(const ProtobufCBinaryData *bytes)
{
    pbuf_t *pb = NULL;
    char why[WIRE_WHY_LEN];
    if (wire_decode(bytes->data, bytes->len, &pb, why) != 0 && pb)
        abort();
    pbuf_destroy(&pb);
}

/* The nested payloads of the records that hold them. */
static void
fuzz_nested(const ProtobufCMessage *msg)
{
    char why[WIRE_WHY_LEN];
    pbuf_t *pb = NULL;
    if (msg->descriptor == &refnet__queued_mail__descriptor) {
        fuzz_envelope_bytes(&((const Refnet__QueuedMail *)msg)->envelope);
    } else if (msg->descriptor == &refnet__outbox_item__descriptor) {
        fuzz_envelope_bytes(&((const Refnet__OutboxItem *)msg)->envelope);
    } else if (msg->descriptor == &refnet__dir_record__descriptor) {
        const Refnet__DirRecord *r = (const Refnet__DirRecord *)msg;
        if (r->service)
            (void)validate_service(r->service, why);
    } else if (msg->descriptor == &refnet__step_note__descriptor) {
        (void)validate_text(((const Refnet__StepNote *)msg)->reason, 1, WIRE_MAX_REASON);
    } else if (msg->descriptor == &refnet__person_packet__descriptor) {
        (void)validate_person_packet((const Refnet__PersonPacket *)msg, why);
    } else if (msg->descriptor == &refnet__handoff_record__descriptor) {
        const ProtobufCBinaryData *p = &((const Refnet__HandoffRecord *)msg)->person_packet;
        if (pbuf_unpack(&pb, &refnet__person_packet__descriptor, p->data, p->len,
                        WIRE_MAX_PERSON_PACKET) == 0)
            (void)validate_person_packet((const Refnet__PersonPacket *)pbuf_msg(pb), why);
        pbuf_destroy(&pb);
    }
}

/* The fields the broker reads from records without decoding them (pbscan.h): whatever the
 * bytes, a read stays inside them and a string comes back terminated. */
static void
fuzz_scan(const uint8_t *data, size_t size)
{
    char out[WIRE_MAX_IDENT + 1];
    uint64_t v;
    const uint8_t *p = NULL;
    size_t n = 0;
    for (uint32_t field = 1; field <= 5; field++) {
        int rc = pbscan_string(data, size, field, out, sizeof out);
        if (strlen(out) > WIRE_MAX_IDENT || (rc != 0 && out[0] != '\0'))
            abort();
        (void)pbscan_varint(data, size, field, &v);
        if (pbscan_bytes(data, size, field, &p, &n) == 0 && (p < data || p + n > data + size))
            abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fuzz_scan(data + 1, size - 1);
    const ProtobufCMessageDescriptor *desc = FUZZ_RECORDS[data[0] % FUZZ_RECORDS_N];
    pbuf_t *pb = NULL;
    int rc = pbuf_unpack(&pb, desc, data + 1, size - 1, size - 1);
    if (rc == 0) {
        uint8_t *packed = NULL;
        size_t len = 0;
        pbuf_pack(pbuf_msg(pb), &packed, &len);
        free(packed);
        fuzz_nested(pbuf_msg(pb));
    } else if (rc != REFNET_EDECODE || pb) {
        abort();
    }
    pbuf_destroy(&pb);
    return 0;
}
