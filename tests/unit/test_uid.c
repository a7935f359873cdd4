/* test_uid: UUID v4 and v7 and message ids (random and time-ordered).
 *
 * Checks the canonical form, the version and variant bits, that ids do not repeat, and the
 * edge cases of uid_is_uuid(), which validates handoff ids arriving from the network. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "uid.h"

static void
test_new_is_canonical_v4(void **state)
{
    (void)state;
    for (int i = 0; i < 200; i++) {
        char id[UID_STR_LEN];
        uid_new(id);
        assert_int_equal(strlen(id), 36);
        assert_true(uid_is_uuid(id));
        assert_int_equal(id[14], '4');           /* version 4 */
        assert_non_null(strchr("89ab", id[19])); /* RFC 4122 variant */
        for (size_t j = 0; j < 36; j++)
            assert_false(isupper((unsigned char)id[j])); /* lower case */
    }
}

static void
test_new_does_not_repeat(void **state)
{
    (void)state;
    enum { N = 500 };
    static char ids[N][UID_STR_LEN];
    for (int i = 0; i < N; i++)
        uid_new(ids[i]);
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            assert_string_not_equal(ids[i], ids[j]);
}

static void
test_is_uuid(void **state)
{
    (void)state;
    assert_true(uid_is_uuid("6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b"));
    assert_true(uid_is_uuid("6F1C2A9E-3B4D-4E5F-8A6B-7C8D9E0F1A2B")); /* either case */
    assert_true(uid_is_uuid("00000000-0000-0000-0000-000000000000")); /* any version */
    const char *bad[] = {
        "",
        "6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2",   /* one short */
        "6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b0", /* one long */
        "6f1c2a9e3b4d-4e5f-8a6b-7c8d9e0f1a2b-",  /* dash moved */
        "6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2g",  /* not hex */
        "{6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a}",  /* braces */
        "6f1c2a9e 3b4d 4e5f 8a6b 7c8d9e0f1a2b",  /* spaces */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(uid_is_uuid(bad[i]));
    assert_false(uid_is_uuid(NULL));
}

static void
test_derive_is_stable_v8(void **state)
{
    (void)state;
    char a[UID_STR_LEN], b[UID_STR_LEN], c[UID_STR_LEN];
    uid_derive("service_capacity/harbor-detox", a);
    uid_derive("service_capacity/harbor-detox", b);
    uid_derive("service_capacity/harbor-shelter", c);
    assert_true(uid_is_uuid(a));
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(a[14], '8');
    assert_non_null(strchr("89ab", a[19]));
}

static void
test_msgid(void **state)
{
    (void)state;
    uint8_t a[UID_MSGID_LEN], b[UID_MSGID_LEN];
    uid_msgid(a);
    uid_msgid(b);
    assert_memory_not_equal(a, b, UID_MSGID_LEN);

    const uint8_t known[UID_MSGID_LEN] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff,
                                           0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90 };
    char hex[2 * UID_MSGID_LEN + 1];
    uid_msgid_hex(known, sizeof known, hex);
    assert_string_equal(hex, "00017f80abcdefff1020304050607090");
    uid_msgid_hex(known, 3, hex); /* a short id prints what it has */
    assert_string_equal(hex, "00017f");
    uid_msgid_hex(known, 40, hex); /* a long one is cut at 16 bytes */
    assert_int_equal(strlen(hex), 32);
}

/* Time-ordered ids: later ids sort after earlier ones (within a millisecond the random part
 * decides, so the check waits for the clock to move), the time is the first 6 bytes, ids do
 * not repeat, and a pool hands out fresh bytes across its refills. */
static void
test_msgid_ordered(void **state)
{
    (void)state;
    uid_pool_t pool;
    uint8_t first[UID_MSGID_LEN], a[UID_MSGID_LEN], b[UID_MSGID_LEN];
    uid_pool_init(&pool);
    uid_msgid_ordered(&pool, first);
    memcpy(a, first, sizeof a);
    /* Over a thousand ids: the 4 KiB pool is refilled a few times. */
    for (int i = 0; i < 1200; i++) {
        uid_msgid_ordered(i % 2 ? &pool : NULL, b);
        assert_memory_not_equal(a, b, UID_MSGID_LEN);
        assert_true(memcmp(a, b, 6) <= 0); /* the time never goes back */
        memcpy(a, b, sizeof a);
    }
    struct timespec ts = { 0, 3 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    uid_msgid_ordered(&pool, b);
    assert_true(memcmp(first, b, UID_MSGID_LEN) < 0);
    assert_true(memcmp(first + 6, b + 6, 10) != 0);
}

static void
test_new_ordered_is_v7(void **state)
{
    (void)state;
    char a[UID_STR_LEN], b[UID_STR_LEN];
    uid_new_ordered(a);
    struct timespec ts = { 0, 3 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    uid_new_ordered(b);
    assert_true(uid_is_uuid(a));
    assert_int_equal(a[14], '7');
    assert_true(strchr("89ab", a[19]) != NULL);
    assert_true(strcmp(a, b) < 0);
}

/* Pooled UUIDs: canonical, of their version, distinct across pool refills (1200 ids of 10 or
 * 16 pooled bytes each refill the 4 KiB pool several times), v7 ones in time order. */
static void
test_pooled_uuids(void **state)
{
    (void)state;
    uid_pool_t pool;
    char prev7[UID_STR_LEN] = "", prev4[UID_STR_LEN] = "", a[UID_STR_LEN], b[UID_STR_LEN];
    uid_pool_init(&pool);
    for (int i = 0; i < 1200; i++) {
        uid_new_ordered_pool(&pool, a);
        uid_new_pool(&pool, b);
        assert_true(uid_is_uuid(a));
        assert_true(uid_is_uuid(b));
        assert_int_equal(a[14], '7');
        assert_int_equal(b[14], '4');
        assert_true(strchr("89ab", a[19]) != NULL);
        assert_true(strchr("89ab", b[19]) != NULL);
        for (size_t k = 0; k < UID_STR_LEN - 1; k++)
            assert_false(isupper((unsigned char)a[k]) || isupper((unsigned char)b[k]));
        assert_string_not_equal(a, prev7);
        assert_string_not_equal(b, prev4);
        assert_true(memcmp(a, prev7, 13) >= 0 || prev7[0] == '\0'); /* time part never goes back */
        memcpy(prev7, a, sizeof a);
        memcpy(prev4, b, sizeof b);
    }
    uid_new_ordered_pool(NULL, a);
    assert_true(uid_is_uuid(a));
    assert_int_equal(a[14], '7');
}

/* Pool bytes: handed out once (the pool slot is wiped), fresh after a refill, and requests
 * larger than the pool are served directly. */
static void
test_pool_bytes(void **state)
{
    (void)state;
    uid_pool_t pool;
    uint8_t x[24], y[24], zero[24] = { 0 };
    uint8_t big[UID_POOL_BYTES + 8];
    uid_pool_init(&pool);
    uid_pool_bytes(&pool, x, sizeof x);
    assert_int_equal(pool.used, sizeof x);
    assert_memory_equal(pool.buf, zero, sizeof zero);
    uid_pool_bytes(&pool, y, sizeof y);
    assert_memory_not_equal(x, y, sizeof x);
    memset(big, 0, sizeof big);
    uid_pool_bytes(&pool, big, sizeof big);
    assert_int_equal(pool.used, 2 * sizeof x); /* not drawn from the pool */
    assert_memory_not_equal(big + sizeof big - 24, zero, 24);
    for (int i = 0; i < 400; i++) /* 9600 bytes: refills twice */
        uid_pool_bytes(&pool, x, sizeof x);
    assert_true(pool.used <= UID_POOL_BYTES);
    uid_pool_bytes(NULL, y, sizeof y);
    assert_memory_not_equal(x, y, sizeof x);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_is_canonical_v4),
        cmocka_unit_test(test_new_does_not_repeat),
        cmocka_unit_test(test_is_uuid),
        cmocka_unit_test(test_derive_is_stable_v8),
        cmocka_unit_test(test_msgid),
        cmocka_unit_test(test_msgid_ordered),
        cmocka_unit_test(test_new_ordered_is_v7),
        cmocka_unit_test(test_pooled_uuids),
        cmocka_unit_test(test_pool_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
