/* test_dirdigest: the order-independent directory digest (proto/dirdigest.h).
 *
 * The hash of one service is checked against the documented input, hashed here with
 * libsodium's one-shot BLAKE2b; the digest against its algebra: any order gives the same sum,
 * removing undoes adding, a service counted twice does not cancel out (a sum, not XOR), and
 * the stored and hex forms round-trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "dirdigest.h"
#include "refnet_error.h"

static void
service_init(Refnet__Service *svc, const char *id, const char *name)
{
    refnet__service__init(svc);
    svc->id = (char *)id;
    svc->agency = (char *)"harbor";
    svc->name = (char *)name;
}

/* The documented input: id, NUL, seq as 8 bytes big-endian, agency, NUL, encoded Service;
 * the four words are the BLAKE2b-256 bytes read little-endian. */
static void
test_hash_matches_documented_input(void **state)
{
    (void)state;
    Refnet__Service svc;
    uint8_t buf[512], out[32];
    uint64_t h[4];
    service_init(&svc, "harbor-detox", "Harbor House detox beds");
    size_t n = 0;
    memcpy(buf, "harbor-detox", 12);
    n = 12;
    buf[n++] = 0;
    const uint8_t seq[8] = { 0, 0, 0, 0, 0, 0, 0x01, 0x02 };
    memcpy(buf + n, seq, 8);
    n += 8;
    memcpy(buf + n, "harbor", 6);
    n += 6;
    buf[n++] = 0;
    n += refnet__service__pack(&svc, buf + n);
    assert_int_equal(crypto_generichash(out, sizeof out, buf, n, NULL, 0), 0);

    assert_int_equal(dirdigest_hash("harbor-detox", 0x0102, "harbor", &svc, h), 0);
    for (int w = 0; w < 4; w++) {
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
            v = (v << 8) | out[8 * w + i];
        assert_true(h[w] == v);
    }
    uint64_t other[4];
    assert_int_equal(dirdigest_hash("harbor-detox", 0x0103, "harbor", &svc, other), 0);
    assert_memory_not_equal(h, other, sizeof h); /* the seq is part of the hash */
}

static void
test_sum_algebra(void **state)
{
    (void)state;
    Refnet__Service a, b, c;
    service_init(&a, "a", "A");
    service_init(&b, "b", "B");
    service_init(&c, "c", "C");
    dirdigest_t abc = { { 0 }, 0 }, cba = { { 0 }, 0 }, empty = { { 0 }, 0 };
    assert_int_equal(dirdigest_apply(&abc, 1, "a", 1, "harbor", &a), 0);
    assert_int_equal(dirdigest_apply(&abc, 1, "b", 2, "harbor", &b), 0);
    assert_int_equal(dirdigest_apply(&abc, 1, "c", 3, "harbor", &c), 0);
    assert_int_equal(dirdigest_apply(&cba, 1, "c", 3, "harbor", &c), 0);
    assert_int_equal(dirdigest_apply(&cba, 1, "b", 2, "harbor", &b), 0);
    assert_int_equal(dirdigest_apply(&cba, 1, "a", 1, "harbor", &a), 0);
    assert_true(dirdigest_equal(&abc, &cba));
    assert_int_equal(abc.count, 3);

    /* Removing undoes adding; a changed service (new seq) differs. */
    assert_int_equal(dirdigest_apply(&cba, -1, "b", 2, "harbor", &b), 0);
    assert_false(dirdigest_equal(&abc, &cba));
    assert_int_equal(dirdigest_apply(&cba, 1, "b", 4, "harbor", &b), 0);
    assert_false(dirdigest_equal(&abc, &cba));
    assert_int_equal(dirdigest_apply(&cba, -1, "b", 4, "harbor", &b), 0);
    assert_int_equal(dirdigest_apply(&cba, 1, "b", 2, "harbor", &b), 0);
    assert_true(dirdigest_equal(&abc, &cba));

    /* Counted twice does not cancel, unlike XOR: the digest is not the empty one. */
    dirdigest_t twice = { { 0 }, 0 };
    assert_int_equal(dirdigest_apply(&twice, 1, "a", 1, "harbor", &a), 0);
    assert_int_equal(dirdigest_apply(&twice, 1, "a", 1, "harbor", &a), 0);
    twice.count = 0;
    assert_false(dirdigest_equal(&twice, &empty));
}

static void
test_stored_and_hex_forms(void **state)
{
    (void)state;
    Refnet__Service a;
    service_init(&a, "a", "A");
    dirdigest_t d = { { 0 }, 0 }, back;
    uint8_t stored[DIRDIGEST_STORED_LEN], bytes[WIRE_DIGEST_LEN];
    char hex[2 * WIRE_DIGEST_LEN + 1];
    assert_int_equal(dirdigest_apply(&d, 1, "a", 7, "harbor", &a), 0);
    dirdigest_store(&d, stored);
    memset(&back, 0xff, sizeof back);
    assert_int_equal(dirdigest_load(&back, stored, sizeof stored), 0);
    assert_true(dirdigest_equal(&d, &back));
    assert_int_equal(back.count, 1);
    assert_int_equal(dirdigest_load(&back, stored, sizeof stored - 1), REFNET_EDECODE);

    dirdigest_bytes(&d, bytes);
    dirdigest_hex(&d, hex);
    assert_int_equal(strlen(hex), 2 * WIRE_DIGEST_LEN);
    for (int i = 0; i < WIRE_DIGEST_LEN; i++) {
        char two[3];
        snprintf(two, sizeof two, "%02x", bytes[i]);
        assert_memory_equal(hex + 2 * i, two, 2);
    }
}

int
main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_matches_documented_input),
        cmocka_unit_test(test_sum_algebra),
        cmocka_unit_test(test_stored_and_hex_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
