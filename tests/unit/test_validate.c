/* test_validate: the field rules, one function at a time.
 *
 * The primitive checks (identifiers, UTF-8 text, times) are tested against hand-picked edge
 * cases; the message validators are called directly on structs built by samples.h with one
 * field broken at a time, and must name that field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "refnet_error.h"
#include "samples.h"
#include "validate.h"
#include "wire.h"
#include "wire_limits.h"

static void
expect_why(int rc, const char *why, const char *needle)
{
    assert_int_equal(rc, REFNET_EINVAL);
    if (!strstr(why, needle))
        fail_msg("reason \"%s\" does not mention \"%s\"", why, needle);
}

static void
test_ident(void **state)
{
    (void)state;
    const char *good[] = { "a", "harbor", "Harbor.House_2:east-wing",
                           "6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(validate_ident(good[i]));
    const char *bad[] = { "", "harbor house", "harbor/beds", "é", "a\tb", "a;b", "*" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(validate_ident(bad[i]));
    assert_false(validate_ident(NULL));

    char s[WIRE_MAX_IDENT + 2];
    memset(s, 'a', sizeof s);
    s[WIRE_MAX_IDENT] = '\0';
    assert_true(validate_ident(s));
    s[WIRE_MAX_IDENT] = 'a';
    s[WIRE_MAX_IDENT + 1] = '\0';
    assert_false(validate_ident(s));
}

static void
test_text_utf8(void **state)
{
    (void)state;
    const char *good[] = {
        "",
        "plain ASCII",
        "tab\tnewline\ncarriage\r",
        "caf\xc3\xa9",      /* é, 2 bytes */
        "\xe2\x82\xac",     /* €, 3 bytes */
        "\xf0\x9f\x98\x80", /* 😀, 4 bytes */
        "\xf4\x8f\xbf\xbf", /* U+10FFFF, the last scalar */
        "\xef\xbf\xbd",     /* U+FFFD */
        "\xed\x9f\xbf",     /* U+D7FF, just below the surrogates */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!validate_text(good[i], 0, 100))
            fail_msg("good text %zu refused", i);
    const char *bad[] = {
        "\x80",             /* lone continuation byte */
        "\xc3",             /* truncated 2-byte sequence */
        "\xe2\x82",         /* truncated 3-byte sequence */
        "\xc0\xaf",         /* overlong '/' */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong 3-byte */
        "\xf0\x80\x80\xaf", /* overlong 4-byte */
        "\xed\xa0\x80",     /* U+D800, a surrogate */
        "\xed\xbf\xbf",     /* U+DFFF */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80", /* lead byte beyond F4 */
        "\xff",             /* never valid */
        "ok\xc3(",          /* bad continuation */
        "bell\x07",         /* C0 control */
        "esc\x1b[0m",       /* terminal escape */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (validate_text(bad[i], 0, 100))
            fail_msg("bad text %zu accepted", i);
}

static void
test_text_lengths(void **state)
{
    (void)state;
    assert_true(validate_text("abc", 3, 3));
    assert_false(validate_text("abcd", 0, 3));
    assert_false(validate_text("ab", 3, 10));
    assert_false(validate_text("", 1, 10));
    assert_true(validate_text(NULL, 0, 10)); /* absent reads as empty */
    assert_false(validate_text(NULL, 1, 10));
    /* limits count bytes, not characters: "€€" is 6 bytes */
    assert_false(validate_text("\xe2\x82\xac\xe2\x82\xac", 0, 5));
    assert_true(validate_text("\xe2\x82\xac\xe2\x82\xac", 0, 6));
}

static void
test_time(void **state)
{
    (void)state;
    assert_true(validate_time(0, true));
    assert_false(validate_time(0, false));
    assert_true(validate_time(WIRE_MIN_TIME_MS, false));
    assert_true(validate_time(WIRE_MAX_TIME_MS, false));
    assert_false(validate_time(WIRE_MIN_TIME_MS - 1, true));
    assert_false(validate_time(WIRE_MAX_TIME_MS + 1, true));
    assert_false(validate_time(UINT64_MAX, true));
    assert_true(validate_time(SAMPLES_TIME_MS, false));
}

static void
test_every_sample_valid(void **state)
{
    (void)state;
    for (int k = 0; k < SAMPLES_COUNT; k++) {
        samples_t s;
        char why[WIRE_WHY_LEN] = "";
        samples_init(&s, (samples_kind_t)k);
        if (validate_envelope(&s.env, why) != 0)
            fail_msg("sample %s refused: %s", samples_name((samples_kind_t)k), why);
        assert_int_equal(validate_envelope(&s.env, NULL), 0);
    }
}

static void
test_service(void **state)
{
    (void)state;
    samples_t s;
    char why[WIRE_WHY_LEN];
    samples_init(&s, SAMPLES_PUBLISH);
    assert_int_equal(validate_service(&s.service, why), 0);

    s.service.n_taxonomy = 0;
    expect_why(validate_service(&s.service, why), why, "service.taxonomy needs at least 1");
    char *many[WIRE_MAX_TAXONOMY + 1];
    for (size_t i = 0; i <= WIRE_MAX_TAXONOMY; i++)
        many[i] = (char *)"food";
    s.service.taxonomy = many;
    s.service.n_taxonomy = WIRE_MAX_TAXONOMY;
    assert_int_equal(validate_service(&s.service, why), 0);
    s.service.n_taxonomy = WIRE_MAX_TAXONOMY + 1;
    expect_why(validate_service(&s.service, why), why, "service.taxonomy has more than 16");
    many[3] = (char *)"not a code";
    s.service.n_taxonomy = 4;
    expect_why(validate_service(&s.service, why), why, "service.taxonomy[3]");

    samples_init(&s, SAMPLES_PUBLISH);
    s.languages[1] = (char *)"e";
    expect_why(validate_service(&s.service, why), why, "service.languages[1]");
    s.languages[1] = (char *)"pt-BR";
    assert_int_equal(validate_service(&s.service, why), 0);
    s.languages[1] = (char *)"toolong-x";
    expect_why(validate_service(&s.service, why), why, "service.languages[1]");

    samples_init(&s, SAMPLES_PUBLISH);
    s.service.agency = (char *)"someone else!";
    expect_why(validate_service(&s.service, why), why, "service.agency");
    s.service.agency = (char *)"";
    assert_int_equal(validate_service(&s.service, why), 0);

    char desc[WIRE_MAX_DESCRIPTION + 2];
    memset(desc, 'd', sizeof desc);
    desc[WIRE_MAX_DESCRIPTION + 1] = '\0';
    s.service.description = desc;
    expect_why(validate_service(&s.service, why), why, "service.description is longer than 2000");

    samples_init(&s, SAMPLES_PUBLISH);
    s.service.capacity = NULL;
    s.service.intake = NULL;
    assert_int_equal(validate_service(&s.service, why), 0); /* both are optional */
}

static void
test_capacity_and_intake(void **state)
{
    (void)state;
    samples_t s;
    char why[WIRE_WHY_LEN];
    samples_init(&s, SAMPLES_AVAILABILITY);
    s.capacity.available = -1;
    s.capacity.maximum = -1;
    assert_int_equal(validate_capacity(&s.capacity, why), 0);
    s.capacity.available = -2;
    expect_why(validate_capacity(&s.capacity, why), why, "capacity.available");
    s.capacity.available = WIRE_MAX_CAPACITY;
    assert_int_equal(validate_capacity(&s.capacity, why), 0);
    s.capacity.maximum = WIRE_MAX_CAPACITY + 1;
    expect_why(validate_capacity(&s.capacity, why), why, "capacity.maximum");
    s.capacity.maximum = 3;
    expect_why(validate_capacity(&s.capacity, why), why, "is more than capacity.maximum");
    s.capacity.available = 3;
    assert_int_equal(validate_capacity(&s.capacity, why), 0);
    s.capacity.unit = (char *)"a unit name that is far too long to be a unit";
    expect_why(validate_capacity(&s.capacity, why), why, "capacity.unit is longer than 32");

    s.intake.waitlist = WIRE_MAX_CAPACITY + 1;
    expect_why(validate_intake(&s.intake, why), why, "intake.waitlist");
    s.intake.waitlist = 0;
    s.intake.status = (Refnet__CapacityStatus)-1;
    expect_why(validate_intake(&s.intake, why), why, "intake.status");

    samples_init(&s, SAMPLES_AVAILABILITY);
    s.capacity.updated_at_ms = 5;
    expect_why(validate_envelope(&s.env, why), why, "availability.capacity.updated_at_ms");
    samples_init(&s, SAMPLES_AVAILABILITY);
    s.availability.service_id = (char *)"";
    expect_why(validate_envelope(&s.env, why), why, "availability.service_id is empty");
}

static void
test_update(void **state)
{
    (void)state;
    samples_t s;
    char why[WIRE_WHY_LEN];
    samples_init(&s, SAMPLES_UPDATE);
    s.update.seq = 0;
    expect_why(validate_envelope(&s.env, why), why, "update.seq");
    samples_init(&s, SAMPLES_UPDATE);
    s.update.service = NULL;
    expect_why(validate_envelope(&s.env, why), why, "update.service is missing");
    samples_init(&s, SAMPLES_UPDATE);
    s.service.id = (char *)"other-service";
    expect_why(validate_envelope(&s.env, why), why, "update.service.id differs");
    samples_init(&s, SAMPLES_UPDATE);
    s.service.agency = (char *)"peerlink";
    expect_why(validate_envelope(&s.env, why), why, "update.service.agency differs");
    samples_init(&s, SAMPLES_UPDATE_WITHDRAWN);
    s.update.service = &s.service;
    expect_why(validate_envelope(&s.env, why), why, "withdrawal");
    samples_init(&s, SAMPLES_UPDATE_WITHDRAWN);
    s.update.agency = (char *)"";
    expect_why(validate_envelope(&s.env, why), why, "update.agency is empty");
}

static void
test_mail(void **state)
{
    (void)state;
    samples_t s;
    char why[WIRE_WHY_LEN];
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    assert_int_equal(validate_mail(&s.mail, why), 0);
    s.mail.from = (char *)"peerlink";
    assert_int_equal(validate_mail(&s.mail, why), 0);
    s.mail.from = (char *)"peer link";
    expect_why(validate_mail(&s.mail, why), why, "mail.from");
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    s.mail.to = (char *)"";
    expect_why(validate_mail(&s.mail, why), why, "mail.to is empty");
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    s.mail.content_case = REFNET__MAIL__CONTENT__NOT_SET;
    s.mail.handoff = NULL;
    expect_why(validate_mail(&s.mail, why), why, "mail has no content");
    samples_init(&s, SAMPLES_MAIL_RECEIPT);
    s.receipt.msg_id.len = 8;
    expect_why(validate_mail(&s.mail, why), why, "mail.receipt.msg_id is 8 bytes");
    samples_init(&s, SAMPLES_MAIL_RECEIPT);
    s.receipt.handoff_id = (char *)"not-a-uuid";
    expect_why(validate_mail(&s.mail, why), why, "mail.receipt.handoff_id is not a UUID");
    s.receipt.handoff_id = (char *)"";
    assert_int_equal(validate_mail(&s.mail, why), 0);
}

static void
test_handoff_fields(void **state)
{
    (void)state;
    samples_t s;
    char why[WIRE_WHY_LEN];
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    assert_int_equal(validate_handoff_update(&s.handoff, why), 0);
    s.handoff.handoff_id = (char *)"6f1c2a9e3b4d4e5f8a6b7c8d9e0f1a2b";
    expect_why(validate_handoff_update(&s.handoff, why), why, "handoff.handoff_id is not a UUID");

    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    s.handoff.service_id = (char *)"";
    expect_why(validate_handoff_update(&s.handoff, why), why, "handoff.service_id is empty");
    samples_init(&s, SAMPLES_MAIL_STATUS); /* later steps may leave service_id out */
    assert_int_equal(validate_handoff_update(&s.handoff, why), 0);

    s.handoff.status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_UNSPECIFIED;
    s.handoff.milestone = REFNET__MILESTONE__MILESTONE_UNSPECIFIED;
    expect_why(validate_handoff_update(&s.handoff, why), why, "neither a status nor a milestone");
    s.handoff.milestone = REFNET__MILESTONE__MILESTONE_FOLLOW_UP_DONE;
    assert_int_equal(validate_handoff_update(&s.handoff, why), 0);

    /* reasons are the state machine's business: a missing one is not a field error */
    samples_init(&s, SAMPLES_MAIL_STATUS);
    s.handoff.reason = (char *)"";
    assert_int_equal(validate_handoff_update(&s.handoff, why), 0);
    char reason[WIRE_MAX_REASON + 2];
    memset(reason, 'r', sizeof reason);
    reason[WIRE_MAX_REASON + 1] = '\0';
    s.handoff.reason = reason;
    expect_why(validate_handoff_update(&s.handoff, why), why, "handoff.reason is longer than 500");

    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    s.handoff.consent_id = (char *)"consent id";
    expect_why(validate_handoff_update(&s.handoff, why), why, "handoff.consent_id");
}

static void
test_handoff_categories(void **state)
{
    (void)state;
    samples_t s;
    char why[WIRE_WHY_LEN];
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    s.categories[2] = REFNET__CATEGORY__CATEGORY_CONTACT;
    expect_why(validate_handoff_update(&s.handoff, why), why, "handoff.categories[2] repeats");
    s.categories[2] = REFNET__CATEGORY__CATEGORY_UNSPECIFIED;
    expect_why(validate_handoff_update(&s.handoff, why), why,
               "handoff.categories[2] has the unknown");
    s.categories[2] = (Refnet__Category)6;
    expect_why(validate_handoff_update(&s.handoff, why), why, "handoff.categories[2]");

    Refnet__Category six[6] = { 1, 2, 3, 4, 5, 1 };
    s.handoff.categories = six;
    s.handoff.n_categories = 6;
    expect_why(validate_handoff_update(&s.handoff, why), why, "handoff.categories has more than 5");
    s.handoff.n_categories = 5;
    assert_int_equal(validate_handoff_update(&s.handoff, why), 0);

    /* the packet may carry only what the categories list */
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    s.handoff.n_categories = 2; /* contact, own-words: no needs */
    assert_int_equal(validate_handoff_update(&s.handoff, why), 0);
    s.person.needs = (char *)"housing";
    samples_pack_person(&s);
    expect_why(validate_handoff_update(&s.handoff, why), why,
               "handoff.person_packet.needs is present but the categories do not list needs");
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    s.person.contact = (char *)"";
    s.handoff.categories = &s.categories[1];
    s.handoff.n_categories = 2; /* own-words, needs: no contact */
    samples_pack_person(&s);
    expect_why(validate_handoff_update(&s.handoff, why), why,
               "handoff.person_packet.preferred_contact is present");
    s.person.preferred_contact = REFNET__CONTACT_MODE__CONTACT_MODE_UNSPECIFIED;
    samples_pack_person(&s);
    assert_int_equal(validate_handoff_update(&s.handoff, why), 0);
}

static void
test_person_packet_bytes(void **state)
{
    (void)state;
    samples_t s;
    char why[WIRE_WHY_LEN];
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    static uint8_t garbage[] = { 0x0a, 0xff, 0x01 }; /* string field claiming 255 bytes */
    s.handoff.person_packet.data = garbage;
    s.handoff.person_packet.len = sizeof garbage;
    expect_why(validate_handoff_update(&s.handoff, why), why,
               "handoff.person_packet is not a valid PersonPacket");

    static uint8_t big[WIRE_MAX_PERSON_PACKET + 1];
    s.handoff.person_packet.data = big;
    s.handoff.person_packet.len = sizeof big;
    expect_why(validate_handoff_update(&s.handoff, why), why,
               "handoff.person_packet is longer than 16384");

    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    s.person.name = (char *)"";
    samples_pack_person(&s);
    expect_why(validate_handoff_update(&s.handoff, why), why,
               "handoff.person_packet.name is empty");

    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    s.handoff.person_packet.len = 0; /* a step without a packet */
    assert_int_equal(validate_handoff_update(&s.handoff, why), 0);
}

/* A sealed packet is opaque: only its size and the seal version are checked on the way; the
 * receiver checks the opened bytes with validate_opened_packet. */
static void
test_sealed_packet(void **state)
{
    (void)state;
    samples_t s;
    char why[WIRE_WHY_LEN];
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    ProtobufCBinaryData clear = s.handoff.person_packet;
    static uint8_t opaque[WIRE_MAX_SEALED_PACKET + 1];
    memset(opaque, 0xff, sizeof opaque); /* not a PersonPacket at all */
    s.handoff.seal_version = 1;
    s.handoff.person_packet.data = opaque;
    s.handoff.person_packet.len = 200;
    assert_int_equal(validate_handoff_update(&s.handoff, why), 0);
    s.handoff.person_packet.len = WIRE_MAX_SEALED_PACKET;
    assert_int_equal(validate_handoff_update(&s.handoff, why), 0);
    s.handoff.person_packet.len = WIRE_MAX_SEALED_PACKET + 1;
    expect_why(validate_handoff_update(&s.handoff, why), why,
               "handoff.person_packet is longer than 16424");
    s.handoff.person_packet.len = 200;
    s.handoff.seal_version = 2;
    expect_why(validate_handoff_update(&s.handoff, why), why, "handoff.seal_version 2");
    /* The opened bytes get the clear packet's checks, categories included. */
    s.handoff.seal_version = 1;
    assert_int_equal(validate_opened_packet(&s.handoff, clear.data, clear.len, why), 0);
    expect_why(validate_opened_packet(&s.handoff, opaque, 3, why), why,
               "handoff.person_packet is not a valid PersonPacket");
    s.handoff.n_categories = 0;
    expect_why(validate_opened_packet(&s.handoff, clear.data, clear.len, why), why,
               "the categories do not list");
}

static void
test_person_packet_struct(void **state)
{
    (void)state;
    samples_t s;
    char why[WIRE_WHY_LEN];
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    assert_int_equal(validate_person_packet(&s.person, why), 0);
    s.person.language = (char *)"e n";
    expect_why(validate_person_packet(&s.person, why), why, "person_packet.language");
    s.person.language = (char *)"";
    assert_int_equal(validate_person_packet(&s.person, why), 0);
    s.person.preferred_contact = (Refnet__ContactMode)7;
    expect_why(validate_person_packet(&s.person, why), why, "person_packet.preferred_contact");
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    char notes[WIRE_MAX_LONG_TEXT + 2];
    memset(notes, 'n', sizeof notes);
    notes[WIRE_MAX_LONG_TEXT + 1] = '\0';
    s.person.notes = notes;
    expect_why(validate_person_packet(&s.person, why), why,
               "person_packet.notes is longer than 4000");
    notes[WIRE_MAX_LONG_TEXT] = '\0';
    assert_int_equal(validate_person_packet(&s.person, why), 0);
}

static void
test_ack(void **state)
{
    (void)state;
    samples_t s;
    char why[WIRE_WHY_LEN];
    samples_init(&s, SAMPLES_ACK);
    s.ack.n_msg_ids = 0;
    expect_why(validate_envelope(&s.env, why), why, "ack.msg_ids needs at least 1");

    static uint8_t ids[WIRE_MAX_ACK_IDS + 1][16];
    static ProtobufCBinaryData bins[WIRE_MAX_ACK_IDS + 1];
    for (size_t i = 0; i <= WIRE_MAX_ACK_IDS; i++) {
        bins[i].data = ids[i];
        bins[i].len = 16;
    }
    s.ack.msg_ids = bins;
    s.ack.n_msg_ids = WIRE_MAX_ACK_IDS;
    assert_int_equal(validate_envelope(&s.env, why), 0);
    s.ack.n_msg_ids = WIRE_MAX_ACK_IDS + 1;
    expect_why(validate_envelope(&s.env, why), why, "ack.msg_ids has more than 256");
}

static void
test_session_and_admin(void **state)
{
    (void)state;
    samples_t s;
    char why[WIRE_WHY_LEN];
    samples_init(&s, SAMPLES_WELCOME);
    s.welcome.agency_id = (char *)"";
    expect_why(validate_envelope(&s.env, why), why, "welcome.agency_id is empty");
    samples_init(&s, SAMPLES_HELLO);
    s.hello.software = (char *)"refnet-node 0.1 with a very long build string that goes on and on";
    expect_why(validate_envelope(&s.env, why), why, "hello.software is longer than 64");
    samples_init(&s, SAMPLES_RESULT);
    s.result.ref.len = 0; /* answering a frame whose msg_id was unreadable */
    assert_int_equal(validate_envelope(&s.env, why), 0);
    s.result.ref.len = 4;
    expect_why(validate_envelope(&s.env, why), why, "result.ref");
    samples_init(&s, SAMPLES_ADMIN_REQUEST);
    s.admin_request.op = REFNET__ADMIN_OP__ADMIN_OP_UNSPECIFIED;
    expect_why(validate_envelope(&s.env, why), why, "admin_request.op");
    samples_init(&s, SAMPLES_ADMIN_REPLY);
    s.agency_info[1].id = (char *)"";
    expect_why(validate_envelope(&s.env, why), why, "admin_reply.agencies[1].id is empty");
    samples_init(&s, SAMPLES_ADMIN_REPLY);
    s.agency_info[0].last_seen_ms = 12;
    expect_why(validate_envelope(&s.env, why), why, "admin_reply.agencies[0].last_seen_ms");
}

/* `why` may be NULL everywhere; the code alone is returned. */
static void
test_null_why(void **state)
{
    (void)state;
    samples_t s;
    samples_init(&s, SAMPLES_PUBLISH);
    s.service.name = (char *)"";
    assert_int_equal(validate_envelope(&s.env, NULL), REFNET_EINVAL);
    assert_int_equal(validate_service(&s.service, NULL), REFNET_EINVAL);
    samples_init(&s, SAMPLES_MAIL_HANDOFF);
    s.mail.to = (char *)"";
    assert_int_equal(validate_mail(&s.mail, NULL), REFNET_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ident),
        cmocka_unit_test(test_text_utf8),
        cmocka_unit_test(test_text_lengths),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_every_sample_valid),
        cmocka_unit_test(test_service),
        cmocka_unit_test(test_capacity_and_intake),
        cmocka_unit_test(test_update),
        cmocka_unit_test(test_mail),
        cmocka_unit_test(test_handoff_fields),
        cmocka_unit_test(test_handoff_categories),
        cmocka_unit_test(test_person_packet_bytes),
        cmocka_unit_test(test_sealed_packet),
        cmocka_unit_test(test_person_packet_struct),
        cmocka_unit_test(test_ack),
        cmocka_unit_test(test_session_and_admin),
        cmocka_unit_test(test_null_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
