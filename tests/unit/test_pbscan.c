/* test_pbscan: reading one field of an encoded record without decoding it (base/pbscan.c).
 *
 * Every field pbscan reads from records protobuf-c encoded is compared with what protobuf-c
 * decodes (absent fields, the last of repeated occurrences, strings at the size limit); every
 * truncation of a valid record and random bytes are refused or read within bounds, never
 * past the end (ASan would say). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pbscan.h"
#include "records.pb-c.h"
#include "refnet_error.h"

static size_t
pack_queued(const char *sender, const char *handoff, uint8_t *buf)
{
    Refnet__QueuedMail qm = REFNET__QUEUED_MAIL__INIT;
    static uint8_t envelope[300];
    memset(envelope, 0xa5, sizeof envelope);
    qm.envelope.data = envelope;
    qm.envelope.len = sizeof envelope;
    qm.sender = (char *)sender;
    qm.stored_at_ms = 1790000000000ULL;
    qm.expires_at_ms = 1790600000000ULL;
    qm.handoff_id = (char *)handoff;
    return refnet__queued_mail__pack(&qm, buf);
}

/* The strings read are the ones protobuf-c decodes; an empty (so absent) one reads as "". */
static void
test_reads_what_protobuf_decodes(void **state)
{
    (void)state;
    static const char *const senders[] = { "harbor", "", "a-very-long-agency-id.with:dots_" };
    uint8_t buf[1024];
    char out[65];
    for (size_t i = 0; i < 3; i++) {
        size_t len = pack_queued(senders[i], "0b7f3d1e-8a55-4c2e-9d7f-1a2b3c4d5e6f", buf);
        Refnet__QueuedMail *qm = refnet__queued_mail__unpack(NULL, len, buf);
        assert_non_null(qm);
        assert_int_equal(pbscan_string(buf, len, 2, out, sizeof out), 0);
        assert_string_equal(out, qm->sender);
        assert_int_equal(pbscan_string(buf, len, 5, out, sizeof out), 0);
        assert_string_equal(out, qm->handoff_id);
        uint64_t v = 0;
        assert_int_equal(pbscan_varint(buf, len, 3, &v), 0);
        assert_true(v == qm->stored_at_ms);
        const uint8_t *env = NULL;
        size_t env_len = 0;
        assert_int_equal(pbscan_bytes(buf, len, 1, &env, &env_len), 0);
        assert_int_equal(env_len, qm->envelope.len);
        assert_memory_equal(env, qm->envelope.data, env_len);
        /* An absent field, and a field of another wire type. */
        assert_int_equal(pbscan_bytes(buf, len, 9, &env, &env_len), REFNET_ENOTFOUND);
        assert_int_equal(pbscan_varint(buf, len, 5, &v), REFNET_EDECODE);
        refnet__queued_mail__free_unpacked(qm, NULL);
    }
    /* Too long for the caller's buffer: refused, not cut. */
    size_t len = pack_queued("harbor", "x", buf);
    assert_int_equal(pbscan_string(buf, len, 2, out, 6), REFNET_ETOOLARGE);
    assert_string_equal(out, "");
    assert_int_equal(pbscan_string(buf, len, 2, out, 7), 0);
    assert_string_equal(out, "harbor");
}

/* A DirRecord's owner and tombstone flag, and the last occurrence winning. */
static void
test_dir_record_and_last_occurrence(void **state)
{
    (void)state;
    Refnet__DirRecord rec = REFNET__DIR_RECORD__INIT;
    uint8_t buf[256];
    char out[65];
    uint64_t v = 7;
    rec.seq = 42;
    rec.agency = (char *)"harbor";
    size_t len = refnet__dir_record__pack(&rec, buf);
    assert_int_equal(pbscan_string(buf, len, 2, out, sizeof out), 0);
    assert_string_equal(out, "harbor");
    assert_int_equal(pbscan_varint(buf, len, 3, &v), REFNET_ENOTFOUND);
    rec.withdrawn = true;
    len = refnet__dir_record__pack(&rec, buf);
    assert_int_equal(pbscan_varint(buf, len, 3, &v), 0);
    assert_int_equal(v, 1);
    /* Appending an encoding of agency = "other" overrides it, as protobuf merges. */
    Refnet__DirRecord more = REFNET__DIR_RECORD__INIT;
    more.agency = (char *)"other";
    len += refnet__dir_record__pack(&more, buf + len);
    assert_int_equal(pbscan_string(buf, len, 2, out, sizeof out), 0);
    assert_string_equal(out, "other");
}

/* Every truncation of a valid record and random bytes: refused or read within bounds. */
static void
test_truncated_and_random_bytes(void **state)
{
    (void)state;
    uint8_t buf[1024];
    char out[65];
    size_t len = pack_queued("harbor", "0b7f3d1e-8a55-4c2e-9d7f-1a2b3c4d5e6f", buf);
    for (size_t cut = 1; cut < len; cut++) {
        uint8_t *copy = malloc(cut); /* exactly `cut` bytes: ASan catches a read past them */
        assert_non_null(copy);
        memcpy(copy, buf, cut);
        int rc = pbscan_string(copy, cut, 5, out, sizeof out);
        assert_true(rc == 0 || rc == REFNET_EDECODE);
        free(copy);
    }
    srand(7);
    for (int i = 0; i < 2000; i++) {
        size_t n = (size_t)(rand() % 64) + 1;
        uint8_t *r = malloc(n);
        assert_non_null(r);
        for (size_t j = 0; j < n; j++)
            r[j] = (uint8_t)rand();
        const uint8_t *p = NULL;
        size_t plen = 0;
        int rc = pbscan_bytes(r, n, (uint32_t)(rand() % 6) + 1, &p, &plen);
        assert_true(rc == 0 || rc == REFNET_ENOTFOUND || rc == REFNET_EDECODE);
        if (rc == 0)
            assert_true(p >= r && p + plen <= r + n);
        free(r);
    }
    /* Field number 0 and a group are malformed. */
    const uint8_t zero[] = { 0x02, 0x00 }, group[] = { 0x0b, 0x0c };
    uint64_t v;
    assert_int_equal(pbscan_varint(zero, sizeof zero, 1, &v), REFNET_EDECODE);
    assert_int_equal(pbscan_varint(group, sizeof group, 1, &v), REFNET_EDECODE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_what_protobuf_decodes),
        cmocka_unit_test(test_dir_record_and_last_occurrence),
        cmocka_unit_test(test_truncated_and_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
