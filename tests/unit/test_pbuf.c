/* test_pbuf: bounded protobuf decoding.
 *
 * A decoder of outside bytes must refuse input over its size limit before decoding, and must
 * refuse input that would make it allocate more than its budget even when the bytes are a
 * perfectly valid message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pbuf.h"
#include "records.pb-c.h"
#include "refnet.pb-c.h"
#include "refnet_error.h"

static void
test_round_trip(void **state)
{
    (void)state;
    Refnet__AgencyRecord rec = REFNET__AGENCY_RECORD__INIT;
    rec.id = (char *)"harbor";
    rec.name = (char *)"Harbor House";
    rec.enrolled_at_ms = 1790000000000ULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    pbuf_pack(&rec.base, &buf, &len);
    assert_int_equal(len, protobuf_c_message_get_packed_size(&rec.base));

    pbuf_t *pb = NULL;
    assert_int_equal(pbuf_unpack(&pb, &refnet__agency_record__descriptor, buf, len, len), 0);
    const Refnet__AgencyRecord *got = (const Refnet__AgencyRecord *)pbuf_msg(pb);
    assert_string_equal(got->id, "harbor");
    assert_string_equal(got->name, "Harbor House");
    assert_int_equal(got->enrolled_at_ms, 1790000000000ULL);
    pbuf_destroy(&pb);
    assert_null(pb);
    pbuf_destroy(&pb); /* twice and NULL are fine */
    pbuf_destroy(NULL);
    free(buf);
}

static void
test_empty_message_packs(void **state)
{
    (void)state;
    Refnet__Ping ping = REFNET__PING__INIT;
    uint8_t *buf = NULL;
    size_t len = 99;
    pbuf_pack(&ping.base, &buf, &len);
    assert_non_null(buf);
    assert_int_equal(len, 0);
    pbuf_t *pb = NULL;
    assert_int_equal(pbuf_unpack(&pb, &refnet__ping__descriptor, buf, 0, 16), 0);
    assert_non_null(pbuf_msg(pb));
    pbuf_destroy(&pb);
    free(buf);
}

static void
test_too_large(void **state)
{
    (void)state;
    uint8_t buf[100] = { 0 };
    pbuf_t *pb = NULL;
    assert_int_equal(pbuf_unpack(&pb, &refnet__agency_record__descriptor, buf, 100, 99),
                     REFNET_ETOOLARGE);
    assert_null(pb);
}

static void
test_malformed(void **state)
{
    (void)state;
    pbuf_t *pb = NULL;
    const uint8_t truncated_string[] = { 0x0a, 0x10, 'a', 'b' }; /* claims 16 bytes, has 2 */
    const uint8_t bad_wire_type[] = { 0x0f, 0x00 };              /* wire type 7 */
    const uint8_t endless_varint[] = { 0x20, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    assert_int_equal(pbuf_unpack(&pb, &refnet__agency_record__descriptor, truncated_string,
                                 sizeof truncated_string, 1024),
                     REFNET_EDECODE);
    assert_int_equal(pbuf_unpack(&pb, &refnet__agency_record__descriptor, bad_wire_type,
                                 sizeof bad_wire_type, 1024),
                     REFNET_EDECODE);
    assert_int_equal(pbuf_unpack(&pb, &refnet__agency_record__descriptor, endless_varint,
                                 sizeof endless_varint, 1024),
                     REFNET_EDECODE);
    assert_null(pb);
}

/* An AdminReply of n empty AgencyInfo entries: 2 bytes each on the wire, but a whole struct
 * each once decoded. */
static uint8_t *
empty_agencies(size_t n, size_t *len)
{
    uint8_t *buf = malloc(2 * n);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = (3 << 3) | 2; /* field 3 (agencies), length-delimited */
        buf[2 * i + 1] = 0;
    }
    *len = 2 * n;
    return buf;
}

static void
test_budget(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *buf = empty_agencies(2000, &len);
    /* The bytes are valid: the unbounded decoder takes them. */
    ProtobufCMessage *plain =
        protobuf_c_message_unpack(&refnet__admin_reply__descriptor, NULL, len, buf);
    assert_non_null(plain);
    assert_int_equal(((Refnet__AdminReply *)plain)->n_agencies, 2000);
    protobuf_c_message_free_unpacked(plain, NULL);
    /* 2000 structs of ~80 bytes are far over 16 x 4000 + 4096 bytes of budget. */
    pbuf_t *pb = NULL;
    assert_int_equal(pbuf_unpack(&pb, &refnet__admin_reply__descriptor, buf, len, len),
                     REFNET_EDECODE);
    assert_null(pb);
    free(buf);

    /* A handful of them is well within the base allowance. */
    buf = empty_agencies(10, &len);
    assert_int_equal(pbuf_unpack(&pb, &refnet__admin_reply__descriptor, buf, len, len), 0);
    assert_int_equal(((const Refnet__AdminReply *)pbuf_msg(pb))->n_agencies, 10);
    pbuf_destroy(&pb);
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_empty_message_packs),
        cmocka_unit_test(test_too_large),  cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
