/* test_seal: sealing person data and signing agency keys.
 *
 * Round trips with real libsodium keys, then every way an opening or a verification must
 * fail: the wrong recipient key, the wrong sender key, one flipped bit, a truncated packet, a
 * forged or re-pointed signature. Key files live in a mkdtemp() folder. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sodium.h>
#include <zmq.h>

#include "refnet_error.h"
#include "seal.h"

typedef struct {
    char dir[64];
    char path[128];
} fixture_t;

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int
setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/refnet-test-seal-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/seal.key", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *f = *state;
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

typedef struct {
    uint8_t pk[SEAL_KEY_LEN], sk[SEAL_KEY_LEN];
} pair_t;

static void
pair_new(pair_t *p)
{
    assert_int_equal(seal_init(), 0);
    crypto_box_keypair(p->pk, p->sk);
}

/* True when `needle` occurs in the first `len` bytes of `hay`. */
static bool
contains(const uint8_t *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return true;
    return false;
}

static const char msg[] = "Dana Canary-7f3a: prefers mornings";

static void
test_round_trip(void **state)
{
    (void)state;
    pair_t a, b;
    pair_new(&a);
    pair_new(&b);
    uint8_t *sealed = NULL, *opened = NULL;
    size_t slen = 0, olen = 0;
    assert_int_equal(seal_box((const uint8_t *)msg, sizeof msg, b.pk, a.sk, &sealed, &slen), 0);
    assert_int_equal(slen, sizeof msg + SEAL_OVERHEAD);
    assert_false(contains(sealed, slen, "Canary")); /* no clear text inside */
    assert_true(contains((const uint8_t *)msg, sizeof msg, "Canary"));
    assert_int_equal(seal_open(sealed, slen, a.pk, b.sk, &opened, &olen), 0);
    assert_int_equal(olen, sizeof msg);
    assert_memory_equal(opened, msg, sizeof msg);
    free(opened);
    /* Two seals of the same text differ: a fresh nonce each time. */
    uint8_t *again = NULL;
    size_t alen = 0;
    assert_int_equal(seal_box((const uint8_t *)msg, sizeof msg, b.pk, a.sk, &again, &alen), 0);
    assert_memory_not_equal(again, sealed, slen);
    free(again);
    free(sealed);
}

/* Precomputed sealing is byte-compatible both ways: a shared-key seal opens with seal_open,
 * a seal_box packet opens with the shared key, and with the same nonce both make the same
 * bytes. The shared key is symmetric: the recipient computes the same one. */
static void
test_shared_key(void **state)
{
    (void)state;
    pair_t a, b, c;
    pair_new(&a);
    pair_new(&b);
    pair_new(&c);
    uint8_t ab[SEAL_SHARED_LEN], ba[SEAL_SHARED_LEN], cb[SEAL_SHARED_LEN];
    uint8_t out[sizeof msg + SEAL_OVERHEAD], back[sizeof msg];
    assert_int_equal(seal_precompute(b.pk, a.sk, ab), 0);
    assert_int_equal(seal_precompute(a.pk, b.sk, ba), 0);
    assert_int_equal(seal_precompute(c.pk, b.sk, cb), 0);
    assert_memory_equal(ab, ba, SEAL_SHARED_LEN);
    assert_memory_not_equal(ab, cb, SEAL_SHARED_LEN);
    uint8_t nonce[SEAL_NONCE_LEN];
    randombytes_buf(nonce, sizeof nonce);
    assert_int_equal(seal_box_shared((const uint8_t *)msg, sizeof msg, ab, nonce, out), 0);
    assert_false(contains(out, sizeof out, "Canary"));
    uint8_t *opened = NULL, *sealed = NULL;
    size_t olen = 0, slen = 0;
    assert_int_equal(seal_open(out, sizeof out, a.pk, b.sk, &opened, &olen), 0);
    assert_int_equal(olen, sizeof msg);
    assert_memory_equal(opened, msg, sizeof msg);
    free(opened);
    /* The same bytes as crypto_box_easy with that nonce, i.e. what seal_box makes. */
    uint8_t ref[sizeof msg + SEAL_OVERHEAD];
    memcpy(ref, nonce, SEAL_NONCE_LEN);
    assert_int_equal(
        crypto_box_easy(ref + SEAL_NONCE_LEN, (const uint8_t *)msg, sizeof msg, nonce, b.pk, a.sk),
        0);
    assert_memory_equal(ref, out, sizeof out);
    /* seal_box's packets open with the shared key; another pair's key or a flipped bit fail. */
    assert_int_equal(seal_box((const uint8_t *)msg, sizeof msg, b.pk, a.sk, &sealed, &slen), 0);
    assert_int_equal(seal_open_shared(sealed, slen, ba, back), 0);
    assert_memory_equal(back, msg, sizeof msg);
    assert_int_equal(seal_open_shared(sealed, slen, cb, back), REFNET_ECRYPTO);
    sealed[slen - 1] ^= 1;
    assert_int_equal(seal_open_shared(sealed, slen, ba, back), REFNET_ECRYPTO);
    assert_int_equal(seal_open_shared(sealed, SEAL_OVERHEAD - 1, ba, back), REFNET_ECRYPTO);
    free(sealed);
    /* A weak (all-zero) peer key is refused and leaves no key behind. */
    uint8_t zero[SEAL_KEY_LEN] = { 0 }, k[SEAL_SHARED_LEN];
    memset(k, 0xa5, sizeof k);
    assert_int_equal(seal_precompute(zero, a.sk, k), REFNET_ECRYPTO);
    assert_memory_equal(k, zero, SEAL_SHARED_LEN);
}

static void
test_wrong_keys(void **state)
{
    (void)state;
    pair_t a, b, c;
    pair_new(&a);
    pair_new(&b);
    pair_new(&c);
    uint8_t *sealed = NULL, *opened = NULL;
    size_t slen = 0, olen = 0;
    assert_int_equal(seal_box((const uint8_t *)msg, sizeof msg, b.pk, a.sk, &sealed, &slen), 0);
    /* Another recipient cannot open it. */
    assert_int_equal(seal_open(sealed, slen, a.pk, c.sk, &opened, &olen), REFNET_ECRYPTO);
    assert_null(opened);
    /* The right recipient refuses it when told another agency sealed it. */
    assert_int_equal(seal_open(sealed, slen, c.pk, b.sk, &opened, &olen), REFNET_ECRYPTO);
    assert_null(opened);
    free(sealed);
}

static void
test_tampered(void **state)
{
    (void)state;
    pair_t a, b;
    pair_new(&a);
    pair_new(&b);
    uint8_t *sealed = NULL, *opened = NULL;
    size_t slen = 0, olen = 0;
    assert_int_equal(seal_box((const uint8_t *)msg, sizeof msg, b.pk, a.sk, &sealed, &slen), 0);
    for (size_t i = 0; i < slen; i += 7) {
        sealed[i] ^= 0x01;
        assert_int_equal(seal_open(sealed, slen, a.pk, b.sk, &opened, &olen), REFNET_ECRYPTO);
        sealed[i] ^= 0x01;
    }
    assert_int_equal(seal_open(sealed, slen - 1, a.pk, b.sk, &opened, &olen), REFNET_ECRYPTO);
    assert_int_equal(seal_open(sealed, SEAL_OVERHEAD - 1, a.pk, b.sk, &opened, &olen),
                     REFNET_ECRYPTO);
    assert_int_equal(seal_open(sealed, slen, a.pk, b.sk, &opened, &olen), 0);
    free(opened);
    free(sealed);
}

static void
test_signature(void **state)
{
    fixture_t *f = *state;
    uint8_t pk[SEAL_KEY_LEN], pk2[SEAL_KEY_LEN], sk[SEAL_SIGN_SECRET_LEN];
    uint8_t sig[SEAL_SIGNATURE_LEN];
    pair_t a, other;
    pair_new(&a);
    pair_new(&other);
    assert_int_equal(seal_sign_create(f->path, pk), 0);
    assert_int_equal(seal_sign_load(f->path, pk2, sk), 0);
    assert_memory_equal(pk, pk2, SEAL_KEY_LEN);
    seal_sign_agency_key("harbor", a.pk, 1700000000000ULL, sk, sig);
    assert_true(seal_verify_agency_key("harbor", a.pk, 1700000000000ULL, sig, pk));
    /* The same signature does not vouch for another agency, key or time. */
    assert_false(seal_verify_agency_key("harbour", a.pk, 1700000000000ULL, sig, pk));
    assert_false(seal_verify_agency_key("harbor", other.pk, 1700000000000ULL, sig, pk));
    assert_false(seal_verify_agency_key("harbor", a.pk, 1700000000001ULL, sig, pk));
    /* A forged signature, and a signature by another broker key, fail. */
    uint8_t forged[SEAL_SIGNATURE_LEN];
    memcpy(forged, sig, sizeof forged);
    forged[5] ^= 0x80;
    assert_false(seal_verify_agency_key("harbor", a.pk, 1700000000000ULL, forged, pk));
    uint8_t rogue_pk[SEAL_KEY_LEN], rogue_sk[SEAL_SIGN_SECRET_LEN];
    crypto_sign_keypair(rogue_pk, rogue_sk);
    seal_sign_agency_key("harbor", other.pk, 1700000000000ULL, rogue_sk, forged);
    assert_false(seal_verify_agency_key("harbor", other.pk, 1700000000000ULL, forged, pk));
    assert_true(seal_verify_agency_key("harbor", other.pk, 1700000000000ULL, forged, rogue_pk));

    /* A revocation is signed under its own domain: it covers its time, and neither it nor a
     * binding passes for the other. */
    uint8_t rsig[SEAL_SIGNATURE_LEN];
    seal_sign_agency_revoked("harbor", a.pk, 1700000000000ULL, 1800000000000ULL, sk, rsig);
    assert_true(
        seal_verify_agency_revoked("harbor", a.pk, 1700000000000ULL, 1800000000000ULL, rsig, pk));
    assert_false(
        seal_verify_agency_revoked("harbor", a.pk, 1700000000000ULL, 1800000000001ULL, rsig, pk));
    assert_false(
        seal_verify_agency_revoked("harbour", a.pk, 1700000000000ULL, 1800000000000ULL, rsig, pk));
    assert_false(seal_verify_agency_key("harbor", a.pk, 1700000000000ULL, rsig, pk));
    assert_false(
        seal_verify_agency_revoked("harbor", a.pk, 1700000000000ULL, 1800000000000ULL, sig, pk));
}

static void
test_key_files(void **state)
{
    fixture_t *f = *state;
    uint8_t pk[SEAL_KEY_LEN], pk2[SEAL_KEY_LEN], sk[SEAL_KEY_LEN];
    struct stat st;
    assert_int_equal(seal_box_load(f->path, pk2, sk), REFNET_ENOTFOUND);
    assert_int_equal(seal_box_create(f->path, pk), 0);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(seal_box_create(f->path, pk2), REFNET_EEXIST);
    assert_int_equal(seal_box_load(f->path, pk2, sk), 0);
    assert_memory_equal(pk, pk2, SEAL_KEY_LEN);
    assert_int_equal(chmod(f->path, 0644), 0);
    assert_int_equal(seal_box_load(f->path, pk2, sk), REFNET_ECRYPTO);
}

static void
test_key_text(void **state)
{
    (void)state;
    uint8_t key[SEAL_KEY_LEN], back[SEAL_KEY_LEN];
    char hex[SEAL_HEX_LEN], z85[41];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    seal_key_hex(key, hex);
    assert_int_equal(strlen(hex), 64);
    assert_int_equal(seal_key_parse(hex, back), 0);
    assert_memory_equal(key, back, sizeof key);
    assert_non_null(zmq_z85_encode(z85, key, sizeof key));
    memset(back, 0, sizeof back);
    assert_int_equal(seal_key_parse(z85, back), 0);
    assert_memory_equal(key, back, sizeof key);
    hex[3] = 'g';
    assert_int_equal(seal_key_parse(hex, back), REFNET_EINVAL);
    assert_int_equal(seal_key_parse("abc", back), REFNET_EINVAL);
    assert_int_equal(seal_key_parse(NULL, back), REFNET_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_shared_key),
        cmocka_unit_test(test_wrong_keys),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test_setup_teardown(test_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_files, setup, teardown),
        cmocka_unit_test(test_key_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
