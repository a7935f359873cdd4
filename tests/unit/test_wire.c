/* test_wire: the Envelope codec, round trips and hostile bytes.
 *
 * Round trips every body type (samples.h), then attacks wire_decode() with truncated frames,
 * random garbage, oversized frames, wrong versions, missing bodies, bad msg_ids, invalid UTF-8,
 * over-long strings and out-of-range enums, coordinates and times. Each refusal must come with
 * the right code and a sentence that names the field. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "refnet_error.h"
#include "samples.h"
#include "wire.h"

/* Encodes the sample and decodes it again; returns wire_decode's code and its sentence. */
static int
roundtrip(samples_t *s, char why[WIRE_WHY_LEN])
{
    uint8_t *buf = NULL;
    size_t len = 0;
    pbuf_t *pb = NULL;
    why[0] = '\0';
    assert_int_equal(wire_encode(&s->env, &buf, &len), 0);
    int rc = wire_decode(buf, len, &pb, why);
    if (rc == 0)
        assert_non_null(pb);
    else
        assert_null(pb);
    pbuf_destroy(&pb);
    free(buf);
    return rc;
}

static void
expect_refused(samples_t *s, int code, const char *needle)
{
    char why[WIRE_WHY_LEN];
    int rc = roundtrip(s, why);
    if (rc != code)
        fail_msg("expected %d, got %d (%s)", code, rc, why);
    if (needle && !strstr(why, needle))
        fail_msg("reason \"%s\" does not mention \"%s\"", why, needle);
}

static void
expect_ok(samples_t *s)
{
    char why[WIRE_WHY_LEN];
    int rc = roundtrip(s, why);
    if (rc != 0)
        fail_msg("refused a valid message: %d (%s)", rc, why);
}

/* Every body type survives encode -> decode -> encode byte for byte. */
static void
test_roundtrip_every_body(void **state)
{
    (void)state;
    for (int k = 0; k < SAMPLES_COUNT; k++) {
        samples_t s;
        samples_init(&s, (samples_kind_t)k);
        uint8_t *a = NULL, *b = NULL;
        size_t alen = 0, blen = 0;
        pbuf_t *pb = NULL;
        char why[WIRE_WHY_LEN] = "";
        assert_int_equal(wire_encode(&s.env, &a, &alen), 0);
        int rc = wire_decode(a, alen, &pb, why);
        if (rc != 0)
            fail_msg("sample %s refused: %s", samples_name((samples_kind_t)k), why);
        const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
        assert_int_equal(env->body_case, s.env.body_case);
        assert_int_equal(env->version, WIRE_VERSION);
        assert_int_equal(env->sent_at_ms, SAMPLES_TIME_MS);
        assert_memory_equal(env->msg_id.data, s.msg_id, 16);
        assert_int_equal(wire_encode(env, &b, &blen), 0);
        assert_int_equal(alen, blen);
        assert_memory_equal(a, b, alen);
        pbuf_destroy(&pb);
        assert_null(pb);
        free(a);
        free(b);
    }
}

/* Spot checks that decoded fields carry the values, not just the right shape. */
static void
test_roundtrip_fields(void **state)
{
    (void)state;
    samples_t s;
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    uint8_t *buf = NULL;
    size_t len = 0;
    pbuf_t *pb = NULL;
    assert_int_equal(wire_encode(&s.env, &buf, &len), 0);
    assert_int_equal(wire_decode(buf, len, &pb, NULL), 0);
    const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
    const Refnet__HandoffUpdate *h = env->mail->handoff;
    assert_int_equal(env->mail->content_case, REFNET__MAIL__CONTENT_HANDOFF);
    assert_string_equal(env->mail->to, SAMPLES_AGENCY);
    assert_string_equal(h->handoff_id, SAMPLES_HANDOFF_ID);
    assert_int_equal(h->status, REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED);
    assert_int_equal(h->n_categories, 3);
    assert_int_equal(h->categories[1], REFNET__CATEGORY__CATEGORY_OWN_WORDS);
    assert_int_equal(h->person_packet.len, s.handoff.person_packet.len);
    assert_memory_equal(h->person_packet.data, s.packet, h->person_packet.len);
    pbuf_destroy(&pb);
    free(buf);

    samples_init(&s, SAMPLES_UPDATE);
    assert_int_equal(wire_encode(&s.env, &buf, &len), 0);
    assert_int_equal(wire_decode(buf, len, &pb, NULL), 0);
    env = (const Refnet__Envelope *)pbuf_msg(pb);
    assert_int_equal(env->update->seq, 42);
    assert_string_equal(env->update->service->name, "Harbor House emergency beds");
    assert_true(fabs(env->update->service->lat - 47.6062) < 1e-9);
    assert_int_equal(env->update->service->capacity->available, 3);
    assert_string_equal(env->update->service->languages[1], "es");
    pbuf_destroy(&pb);
    free(buf);
}

static void
test_stamp(void **state)
{
    (void)state;
    Refnet__Envelope env;
    Refnet__Ping ping;
    uint8_t id1[16], id2[16];
    refnet__envelope__init(&env);
    refnet__ping__init(&ping);
    env.body_case = REFNET__ENVELOPE__BODY_PING;
    env.ping = &ping;
    uint64_t before = clock_now_ms();
    wire_stamp(&env, id1);
    assert_int_equal(env.version, WIRE_VERSION);
    assert_ptr_equal(env.msg_id.data, id1);
    assert_int_equal(env.msg_id.len, 16);
    assert_in_range(env.sent_at_ms, before, clock_now_ms());
    wire_stamp(&env, id2);
    assert_memory_not_equal(id1, id2, 16); /* 2^-128 chance of a false failure */

    uint8_t *buf = NULL;
    size_t len = 0;
    pbuf_t *pb = NULL;
    assert_int_equal(wire_encode(&env, &buf, &len), 0);
    assert_int_equal(wire_decode(buf, len, &pb, NULL), 0);
    pbuf_destroy(&pb);
    free(buf);
}

static void
test_encode_too_large(void **state)
{
    (void)state;
    samples_t s;
    samples_init(&s, SAMPLES_HELLO);
    char *big = malloc(WIRE_MAX_FRAME + 1);
    assert_non_null(big);
    memset(big, 'a', WIRE_MAX_FRAME);
    big[WIRE_MAX_FRAME] = '\0';
    s.hello.software = big;
    uint8_t *buf = (uint8_t *)"sentinel";
    size_t len = 99;
    assert_int_equal(wire_encode(&s.env, &buf, &len), REFNET_ETOOLARGE);
    assert_null(buf);
    assert_int_equal(len, 0);
    free(big);
}

/* Every proper prefix of a valid frame is refused: the body is the last field. */
static void
test_truncated(void **state)
{
    (void)state;
    for (int k = 0; k < SAMPLES_COUNT; k++) {
        samples_t s;
        samples_init(&s, (samples_kind_t)k);
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal(wire_encode(&s.env, &buf, &len), 0);
        for (size_t cut = 0; cut < len; cut++) {
            pbuf_t *pb = NULL;
            char why[WIRE_WHY_LEN] = "";
            int rc = wire_decode(buf, cut, &pb, why);
            if (rc == 0)
                fail_msg("%s cut at %zu of %zu accepted", samples_name((samples_kind_t)k), cut,
                         len);
            assert_null(pb);
            assert_true(why[0] != '\0');
        }
        free(buf);
    }
}

/* xorshift: a fixed, portable sequence so a failure reproduces. */
static uint32_t
next_rand(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void
test_random_garbage(void **state)
{
    (void)state;
    uint32_t seed = 0x12345678u;
    uint8_t buf[512];
    for (int i = 0; i < 5000; i++) {
        size_t len = next_rand(&seed) % sizeof buf;
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)next_rand(&seed);
        pbuf_t *pb = NULL;
        int rc = wire_decode(buf, len, &pb, NULL);
        assert_true(rc == REFNET_EDECODE || rc == REFNET_EVERSION || rc == REFNET_EINVAL);
        assert_null(pb);
    }
}

/* Single bit flips of a valid frame never crash and never leak: either refused, or decoded
 * into a message that passes validation (and so re-encodes). */
static void
test_bit_flips(void **state)
{
    (void)state;
    samples_t s;
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(wire_encode(&s.env, &buf, &len), 0);
    int accepted = 0, refused = 0;
    for (size_t i = 0; i < len * 8; i++) {
        buf[i / 8] ^= (uint8_t)(1u << (i % 8));
        pbuf_t *pb = NULL;
        if (wire_decode(buf, len, &pb, NULL) == 0) {
            uint8_t *again = NULL;
            size_t again_len = 0;
            assert_int_equal(
                wire_encode((const Refnet__Envelope *)pbuf_msg(pb), &again, &again_len), 0);
            free(again);
            accepted++;
        } else {
            refused++;
        }
        pbuf_destroy(&pb);
        buf[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    assert_true(refused > 0);
    assert_true(accepted > 0); /* flips inside free text keep the frame valid */
    free(buf);
}

static void
test_oversized_frame(void **state)
{
    (void)state;
    uint8_t *big = calloc(1, WIRE_MAX_FRAME + 1);
    assert_non_null(big);
    pbuf_t *pb = NULL;
    char why[WIRE_WHY_LEN] = "";
    assert_int_equal(wire_decode(big, WIRE_MAX_FRAME + 1, &pb, why), REFNET_ETOOLARGE);
    assert_null(pb);
    assert_non_null(strstr(why, "over the limit"));
    free(big);
}

static void
test_version(void **state)
{
    (void)state;
    samples_t s;
    samples_init(&s, SAMPLES_PING);
    s.env.version = 2;
    expect_refused(&s, REFNET_EVERSION, "version 2");
    s.env.version = 0;
    expect_refused(&s, REFNET_EVERSION, "version 0");
    /* An empty frame is an Envelope with every field at its default: version 0. */
    pbuf_t *pb = NULL;
    assert_int_equal(wire_decode("", 0, &pb, NULL), REFNET_EVERSION);
    assert_null(pb);
}

static void
test_missing_body(void **state)
{
    (void)state;
    samples_t s;
    samples_init(&s, SAMPLES_PING);
    s.env.body_case = REFNET__ENVELOPE__BODY__NOT_SET;
    s.env.ping = NULL;
    expect_refused(&s, REFNET_EINVAL, "envelope has no body");
}

static void
test_msg_id_length(void **state)
{
    (void)state;
    samples_t s;
    const size_t lens[] = { 0, 1, 15, 17 };
    for (size_t i = 0; i < 4; i++) {
        samples_init(&s, SAMPLES_PING);
        s.env.msg_id.len = lens[i];
        expect_refused(&s, REFNET_EINVAL, "envelope.msg_id");
    }
    samples_init(&s, SAMPLES_ACK);
    s.ack_bins[2].len = 15;
    expect_refused(&s, REFNET_EINVAL, "ack.msg_ids[2]");
}

static void
test_invalid_utf8(void **state)
{
    (void)state;
    samples_t s;
    samples_init(&s, SAMPLES_HELLO);
    s.hello.software = (char *)"node \xc3\x28";
    expect_refused(&s, REFNET_EINVAL, "hello.software is not valid UTF-8");
    samples_init(&s, SAMPLES_PUBLISH);
    s.service.name = (char *)"Harbor \xed\xa0\x80"; /* a UTF-16 surrogate */
    expect_refused(&s, REFNET_EINVAL, "publish.service.name is not valid UTF-8");
    samples_init(&s, SAMPLES_MAIL_STATUS);
    s.handoff.reason = (char *)"bell \x07";
    expect_refused(&s, REFNET_EINVAL, "mail.handoff.reason contains a control character");
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    s.person.own_words = (char *)"\xf8\x88\x80\x80\x80";
    samples_pack_person(&s);
    expect_refused(&s, REFNET_EINVAL, "mail.handoff.person_packet.own_words is not valid UTF-8");
}

static void
test_string_limits(void **state)
{
    (void)state;
    samples_t s;
    char name[WIRE_MAX_NAME + 2];
    memset(name, 'n', sizeof name);
    name[WIRE_MAX_NAME] = '\0';
    samples_init(&s, SAMPLES_PUBLISH);
    s.service.name = name;
    expect_ok(&s); /* exactly the limit */
    name[WIRE_MAX_NAME] = 'n';
    name[WIRE_MAX_NAME + 1] = '\0';
    expect_refused(&s, REFNET_EINVAL, "publish.service.name is longer than 200 bytes");
    s.service.name = (char *)"";
    expect_refused(&s, REFNET_EINVAL, "publish.service.name is empty");

    char ident[WIRE_MAX_IDENT + 2];
    memset(ident, 'x', sizeof ident);
    ident[WIRE_MAX_IDENT + 1] = '\0';
    samples_init(&s, SAMPLES_WITHDRAW);
    s.withdraw.service_id = ident;
    expect_refused(&s, REFNET_EINVAL, "withdraw.service_id is not an identifier");
    ident[WIRE_MAX_IDENT] = '\0';
    expect_ok(&s);
    s.withdraw.service_id = (char *)"bad id";
    expect_refused(&s, REFNET_EINVAL, "withdraw.service_id");

    char detail[WIRE_MAX_DETAIL + 2];
    memset(detail, 'd', sizeof detail);
    detail[WIRE_MAX_DETAIL + 1] = '\0';
    samples_init(&s, SAMPLES_RESULT);
    s.result.detail = detail;
    expect_refused(&s, REFNET_EINVAL, "result.detail is longer than 300 bytes");
}

static void
test_enum_ranges(void **state)
{
    (void)state;
    samples_t s;
    samples_init(&s, SAMPLES_MAIL_STATUS);
    s.handoff.status = (Refnet__HandoffStatus)9;
    expect_refused(&s, REFNET_EINVAL, "mail.handoff.status has the unknown value 9");
    s.handoff.status = (Refnet__HandoffStatus)-3;
    expect_refused(&s, REFNET_EINVAL, "mail.handoff.status");
    samples_init(&s, SAMPLES_MAIL_STATUS);
    s.handoff.milestone = (Refnet__Milestone)5;
    expect_refused(&s, REFNET_EINVAL, "mail.handoff.milestone");
    samples_init(&s, SAMPLES_MAIL_STATUS);
    s.handoff.outcome = (Refnet__Outcome)9;
    expect_refused(&s, REFNET_EINVAL, "mail.handoff.outcome");
    samples_init(&s, SAMPLES_MAIL_STATUS);
    s.handoff.mode = (Refnet__ContactMode)4;
    expect_refused(&s, REFNET_EINVAL, "mail.handoff.mode");
    samples_init(&s, SAMPLES_PUBLISH);
    s.intake.status = (Refnet__CapacityStatus)5;
    expect_refused(&s, REFNET_EINVAL, "publish.service.intake.status");
    samples_init(&s, SAMPLES_RESULT);
    s.result.status = (Refnet__Status)11;
    expect_refused(&s, REFNET_EINVAL, "result.status");
    samples_init(&s, SAMPLES_ADMIN_REQUEST);
    s.admin_request.op = (Refnet__AdminOp)5;
    expect_refused(&s, REFNET_EINVAL, "admin_request.op");
    samples_init(&s, SAMPLES_ADMIN_REPLY);
    s.flow_row.status = (Refnet__HandoffStatus)12;
    expect_refused(&s, REFNET_EINVAL, "admin_reply.flow[0].status");
}

static void
test_coordinates(void **state)
{
    (void)state;
    samples_t s;
    const double bad_lat[] = { 90.0001, -91.0, NAN, INFINITY };
    for (size_t i = 0; i < 4; i++) {
        samples_init(&s, SAMPLES_PUBLISH);
        s.service.lat = bad_lat[i];
        expect_refused(&s, REFNET_EINVAL, "publish.service.lat");
    }
    const double bad_lon[] = { 180.5, -180.0001, -INFINITY, NAN };
    for (size_t i = 0; i < 4; i++) {
        samples_init(&s, SAMPLES_UPDATE);
        s.service.lon = bad_lon[i];
        expect_refused(&s, REFNET_EINVAL, "update.service.lon");
    }
    samples_init(&s, SAMPLES_PUBLISH);
    s.service.lat = -90.0;
    s.service.lon = 180.0;
    expect_ok(&s);
}

static void
test_times(void **state)
{
    (void)state;
    samples_t s;
    samples_init(&s, SAMPLES_PING);
    s.env.sent_at_ms = 1;
    expect_refused(&s, REFNET_EINVAL, "envelope.sent_at_ms");
    s.env.sent_at_ms = WIRE_MAX_TIME_MS + 1;
    expect_refused(&s, REFNET_EINVAL, "envelope.sent_at_ms");
    s.env.sent_at_ms = 0; /* informational: absent is fine */
    expect_ok(&s);
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    s.handoff.proposed_at_ms = WIRE_MIN_TIME_MS - 1;
    expect_refused(&s, REFNET_EINVAL, "mail.handoff.proposed_at_ms");
    samples_init(&s, SAMPLES_MAIL_RECEIPT);
    s.receipt.delivered_at_ms = UINT64_MAX;
    expect_refused(&s, REFNET_EINVAL, "mail.receipt.delivered_at_ms");
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    s.mail.ttl_ms = WIRE_MAX_TTL_MS + 1;
    expect_refused(&s, REFNET_EINVAL, "mail.ttl_ms");
}

/* Fields this version does not know are skipped, so a newer peer can add fields. */
static void
test_unknown_fields_skipped(void **state)
{
    (void)state;
    samples_t s;
    samples_init(&s, SAMPLES_PONG);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(wire_encode(&s.env, &buf, &len), 0);
    uint8_t *longer = malloc(len + 3);
    assert_non_null(longer);
    memcpy(longer, buf, len);
    /* tag of field 99 as a varint ((99 << 3) | 0 = 0x318 -> 0x98 0x06), then the value 1 */
    longer[len] = 0x98;
    longer[len + 1] = 0x06;
    longer[len + 2] = 0x01;
    pbuf_t *pb = NULL;
    char why[WIRE_WHY_LEN] = "";
    assert_int_equal(wire_decode(longer, len + 3, &pb, why), 0);
    assert_int_equal(((const Refnet__Envelope *)pbuf_msg(pb))->pong->dir_seq, 42);
    pbuf_destroy(&pb);
    free(longer);
    free(buf);
}

/* Field number 0 is invalid; protobuf-c takes it only in an overlong form (0x80 0x00) and
 * then re-encodes it in a form it refuses, so wire_decode() must refuse it, nested or not. */
static void
test_field_number_zero(void **state)
{
    (void)state;
    samples_t s;
    samples_init(&s, SAMPLES_SYNC_DONE);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(wire_encode(&s.env, &buf, &len), 0);
    const uint8_t body[] = { 0xca, 0x01, 0x02, 0x08, 0x2a }; /* sync_done {seq: 42}, last */
    assert_true(len > sizeof body);
    assert_memory_equal(buf + len - sizeof body, body, sizeof body);

    uint8_t frame[128];
    size_t head = len - sizeof body;
    memcpy(frame, buf, head);
    /* at the top level: field 0, varint 1 */
    const uint8_t top[] = { 0xca, 0x01, 0x02, 0x08, 0x2a, 0x80, 0x00, 0x01 };
    memcpy(frame + head, top, sizeof top);
    pbuf_t *pb = NULL;
    char why[WIRE_WHY_LEN] = "";
    assert_int_equal(wire_decode(frame, head + sizeof top, &pb, why), REFNET_EDECODE);
    assert_null(pb);
    assert_non_null(strstr(why, "field number 0"));
    /* inside the body */
    const uint8_t nested[] = { 0xca, 0x01, 0x05, 0x08, 0x2a, 0x80, 0x00, 0x01 };
    memcpy(frame + head, nested, sizeof nested);
    assert_int_equal(wire_decode(frame, head + sizeof nested, &pb, why), REFNET_EDECODE);
    /* an unknown field with a real number is still fine there */
    const uint8_t other[] = { 0xca, 0x01, 0x05, 0x08, 0x2a, 0x98, 0x06, 0x01 };
    memcpy(frame + head, other, sizeof other);
    assert_int_equal(wire_decode(frame, head + sizeof other, &pb, why), 0);
    pbuf_destroy(&pb);
    free(buf);
}

static void
test_body_names(void **state)
{
    (void)state;
    assert_string_equal(wire_body_name(REFNET__ENVELOPE__BODY_MAIL), "mail");
    assert_string_equal(wire_body_name(REFNET__ENVELOPE__BODY_PUBLISH), "publish");
    assert_string_equal(wire_body_name(REFNET__ENVELOPE__BODY_SYNC_DONE), "sync_done");
    assert_string_equal(wire_body_name(REFNET__ENVELOPE__BODY__NOT_SET), "none");
    assert_string_equal(wire_body_name((Refnet__Envelope__BodyCase)77), "unknown");
    for (int k = 0; k < SAMPLES_COUNT; k++) {
        samples_t s;
        samples_init(&s, (samples_kind_t)k);
        const char *n = wire_body_name(s.env.body_case);
        assert_string_not_equal(n, "unknown");
        assert_string_not_equal(n, "none");
    }
}

/* ---- batches ------------------------------------------------------------------------------ */

/* Encodes sample `kind` with its first msg_id byte set to `tag`. */
static void
encode_sample(samples_kind_t kind, uint8_t tag, uint8_t **out, size_t *len)
{
    samples_t *s = calloc(1, sizeof *s);
    assert_non_null(s);
    samples_init(s, kind);
    s->msg_id[0] = tag;
    assert_int_equal(wire_encode(&s->env, out, len), 0);
    free(s);
}

/* Items packed by wire_batch_* come out of wire_decode + wire_decode_item byte for byte, in
 * order; a batch of one is the item itself. */
static void
test_batch_roundtrip(void **state)
{
    (void)state;
    static const samples_kind_t kinds[3] = { SAMPLES_MAIL_HANDOFF, SAMPLES_ACK, SAMPLES_PING };
    uint8_t *items[3], *frame = NULL;
    size_t lens[3], len = 0;
    wire_batch_t b;
    uid_pool_t ids;
    uid_pool_init(&ids);
    wire_batch_init(&b);
    for (int i = 0; i < 3; i++) {
        encode_sample(kinds[i], (uint8_t)(0xc0 + i), &items[i], &lens[i]);
        assert_true(wire_batch_fits(&b, lens[i], WIRE_MAX_FRAME));
        wire_batch_add(&b, items[i], lens[i]);
    }
    assert_int_equal(wire_batch_encode(&b, &ids, &frame, &len), 0);
    assert_int_equal(b.n, 0);
    pbuf_t *pb = NULL;
    char why[WIRE_WHY_LEN];
    assert_int_equal(wire_decode(frame, len, &pb, why), 0);
    const Refnet__Envelope *env = (const Refnet__Envelope *)pbuf_msg(pb);
    assert_int_equal(env->body_case, REFNET__ENVELOPE__BODY_BATCH);
    assert_int_equal(env->msg_id.len, UID_MSGID_LEN);
    assert_int_equal(env->batch->n_envelopes, 3);
    for (int i = 0; i < 3; i++) {
        const ProtobufCBinaryData *it = &env->batch->envelopes[i];
        assert_int_equal(it->len, lens[i]);
        assert_memory_equal(it->data, items[i], lens[i]);
        pbuf_t *one = NULL;
        assert_int_equal(wire_decode_item(it->data, it->len, &one, why), 0);
        const Refnet__Envelope *e = (const Refnet__Envelope *)pbuf_msg(one);
        assert_int_equal(e->msg_id.data[0], 0xc0 + i);
        pbuf_destroy(&one);
    }
    /* An item that is itself a batch is refused by name. */
    pbuf_t *nested = NULL;
    assert_int_equal(wire_decode_item(frame, len, &nested, why), REFNET_EINVAL);
    assert_null(nested);
    assert_non_null(strstr(why, "batch"));
    pbuf_destroy(&pb);
    free(frame);
    /* One item: the frame is the item's own bytes. */
    wire_batch_add(&b, items[1], lens[1]);
    assert_int_equal(wire_batch_encode(&b, &ids, &frame, &len), 0);
    assert_int_equal(len, lens[1]);
    assert_memory_equal(frame, items[1], len);
    free(frame);
    assert_int_equal(wire_batch_encode(&b, &ids, &frame, &len), REFNET_EINVAL);
    for (int i = 0; i < 3; i++)
        free(items[i]);
}

/* wire_batch_fits keeps a frame within WIRE_MAX_BATCH items and the byte limit, and the
 * encoding it allowed always fits that limit. */
static void
test_batch_limits(void **state)
{
    (void)state;
    uint8_t *item = NULL, *frame = NULL;
    size_t len = 0, flen = 0;
    encode_sample(SAMPLES_PING, 1, &item, &len);
    wire_batch_t b;
    wire_batch_init(&b);
    while (wire_batch_fits(&b, len, WIRE_MAX_FRAME))
        wire_batch_add(&b, item, len);
    assert_int_equal(b.n, WIRE_MAX_BATCH);
    assert_int_equal(wire_batch_encode(&b, NULL, &frame, &flen), 0);
    assert_true(flen <= WIRE_MAX_FRAME);
    pbuf_t *pb = NULL;
    char why[WIRE_WHY_LEN];
    assert_int_equal(wire_decode(frame, flen, &pb, why), 0);
    pbuf_destroy(&pb);
    free(frame);
    /* A byte limit: the frame stays under it, whatever the item sizes. */
    for (size_t max = 200; max <= 4000; max += 379) {
        wire_batch_init(&b);
        wire_batch_add(&b, item, len); /* an empty batch takes any item */
        while (wire_batch_fits(&b, len, max))
            wire_batch_add(&b, item, len);
        assert_int_equal(wire_batch_encode(&b, NULL, &frame, &flen), 0);
        assert_true(flen <= max || flen == len);
        free(frame);
    }
    free(item);
}

/* The validator refuses an empty batch and an empty item. */
static void
test_batch_refused(void **state)
{
    (void)state;
    samples_t *s = calloc(1, sizeof *s);
    assert_non_null(s);
    samples_init(s, SAMPLES_BATCH);
    expect_ok(s);
    s->batch.envelopes[1].len = 0;
    expect_refused(s, REFNET_EINVAL, "batch.envelopes[1]");
    samples_init(s, SAMPLES_BATCH);
    s->batch.n_envelopes = 0;
    expect_refused(s, REFNET_EINVAL, "batch");
    free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_body),
        cmocka_unit_test(test_roundtrip_fields),
        cmocka_unit_test(test_stamp),
        cmocka_unit_test(test_encode_too_large),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_random_garbage),
        cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_oversized_frame),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_missing_body),
        cmocka_unit_test(test_msg_id_length),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_string_limits),
        cmocka_unit_test(test_enum_ranges),
        cmocka_unit_test(test_coordinates),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_unknown_fields_skipped),
        cmocka_unit_test(test_field_number_zero),
        cmocka_unit_test(test_body_names),
        cmocka_unit_test(test_batch_roundtrip),
        cmocka_unit_test(test_batch_limits),
        cmocka_unit_test(test_batch_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
