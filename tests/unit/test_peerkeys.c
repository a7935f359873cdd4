/* Unit tests of clients/node/peerkeys: the node's own sealing keypair, pinning the broker's
 * signing key, accepting only agency keys the pinned broker key signed, lookups, sealing
 * between two agencies through the verified keys, signed revocations, and opening what was
 * sealed before either side rotated its keys. Real LMDB store in a mkdtemp() folder. */
#include "test_node_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sodium.h>

#include "peerkeys.h"
#include "refnet_error.h"

/* Issue times the wire accepts (2000..2100). */
#define T0 UINT64_C(1700000000000)

typedef struct {
    nfx_t *fx;
    uint8_t sign_pk[SEAL_KEY_LEN];
    uint8_t sign_sk[SEAL_SIGN_SECRET_LEN];
    uint8_t rogue_pk[SEAL_KEY_LEN];
    uint8_t rogue_sk[SEAL_SIGN_SECRET_LEN];
} pk_t;

static int
make_signer(const char *dir, const char *file, uint8_t pk[SEAL_KEY_LEN], uint8_t *sk)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int rc = seal_sign_create(path, pk);
    return rc ? rc : seal_sign_load(path, pk, sk);
}

static int
setup(void **state)
{
    pk_t *t = xcalloc(1, sizeof *t);
    t->fx = nfx_new();
    if (make_signer(t->fx->dir, "broker.sign", t->sign_pk, t->sign_sk) != 0 ||
        make_signer(t->fx->dir, "rogue.sign", t->rogue_pk, t->rogue_sk) != 0)
        return -1;
    *state = t;
    return 0;
}

static int
teardown(void **state)
{
    pk_t *t = *state;
    nfx_destroy(&t->fx);
    free(t);
    return 0;
}

/* Fills an AgencyKey for `id` and `box_pk`, signed with `sk`; `sig` holds the signature. */
static Refnet__AgencyKey
signed_key(const char *id,
           uint8_t box_pk[SEAL_KEY_LEN],
           const uint8_t *sk,
           uint8_t sig[SEAL_SIGNATURE_LEN])
{
    Refnet__AgencyKey k = REFNET__AGENCY_KEY__INIT;
    seal_sign_agency_key(id, box_pk, T0, sk, sig);
    k.agency_id = (char *)id;
    k.box_public_key.data = box_pk;
    k.box_public_key.len = SEAL_KEY_LEN;
    k.issued_at_ms = T0;
    k.signature.data = sig;
    k.signature.len = SEAL_SIGNATURE_LEN;
    return k;
}

static void
test_own_keypair_is_created_once_and_private(void **state)
{
    pk_t *t = *state;
    uint8_t pk[SEAL_KEY_LEN], sk[SEAL_KEY_LEN], pk2[SEAL_KEY_LEN], sk2[SEAL_KEY_LEN];
    char path[128];
    struct stat st;
    assert_int_equal(peerkeys_own(t->fx->dir, pk, sk), 0);
    snprintf(path, sizeof path, "%s/%s", t->fx->dir, PEERKEYS_FILE);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* The second call loads the same keypair instead of making a new one. */
    assert_int_equal(peerkeys_own(t->fx->dir, pk2, sk2), 0);
    assert_memory_equal(pk, pk2, SEAL_KEY_LEN);
    assert_memory_equal(sk, sk2, SEAL_KEY_LEN);
    /* A key file others may read is refused. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(peerkeys_own(t->fx->dir, pk2, sk2), REFNET_ECRYPTO);
}

static void
test_pin_broker_once(void **state)
{
    pk_t *t = *state;
    uint8_t got[SEAL_KEY_LEN];
    MDB_txn *txn = nfx_begin(t->fx, false);
    assert_non_null(txn);
    assert_int_equal(peerkeys_broker(txn, t->fx->st, got), REFNET_ENOTFOUND);
    assert_int_equal(peerkeys_pin_broker(txn, t->fx->st, t->sign_pk, SEAL_KEY_LEN - 1),
                     REFNET_EINVAL);
    assert_int_equal(peerkeys_pin_broker(txn, t->fx->st, t->sign_pk, SEAL_KEY_LEN), 0);
    assert_int_equal(peerkeys_pin_broker(txn, t->fx->st, t->sign_pk, SEAL_KEY_LEN), 0);
    /* Another key afterwards is refused and does not replace the pinned one. */
    assert_int_equal(peerkeys_pin_broker(txn, t->fx->st, t->rogue_pk, SEAL_KEY_LEN),
                     REFNET_ECRYPTO);
    assert_int_equal(store_commit(&txn), 0);
    txn = nfx_begin(t->fx, true);
    assert_non_null(txn);
    assert_int_equal(peerkeys_broker(txn, t->fx->st, got), 0);
    assert_memory_equal(got, t->sign_pk, SEAL_KEY_LEN);
    store_abort(&txn);
}

static void
test_accept_only_keys_the_pinned_broker_signed(void **state)
{
    pk_t *t = *state;
    uint8_t box[SEAL_KEY_LEN], got[SEAL_KEY_LEN], sig[SEAL_SIGNATURE_LEN];
    for (size_t i = 0; i < SEAL_KEY_LEN; i++)
        box[i] = (uint8_t)(i * 3 + 1);
    MDB_txn *txn = nfx_begin(t->fx, false);
    assert_non_null(txn);
    Refnet__AgencyKey k = signed_key("alpha", box, t->sign_sk, sig);
    /* Nothing can be verified before a broker key is pinned. */
    assert_int_equal(peerkeys_accept(txn, t->fx->st, &k), REFNET_ENOTFOUND);
    assert_int_equal(peerkeys_pin_broker(txn, t->fx->st, t->sign_pk, SEAL_KEY_LEN), 0);

    /* Signed by another key: refused, nothing stored. */
    Refnet__AgencyKey forged = signed_key("mallory", box, t->rogue_sk, sig);
    assert_int_equal(peerkeys_accept(txn, t->fx->st, &forged), REFNET_ECRYPTO);
    assert_int_equal(peerkeys_get(txn, t->fx->st, "mallory", got), REFNET_ENOTFOUND);

    /* A genuine signature on another agency's binding does not cover a renamed copy. */
    char renamed[] = "alphb";
    k = signed_key("alpha", box, t->sign_sk, sig);
    k.agency_id = renamed;
    assert_int_equal(peerkeys_accept(txn, t->fx->st, &k), REFNET_ECRYPTO);
    assert_int_equal(peerkeys_get(txn, t->fx->st, "alphb", got), REFNET_ENOTFOUND);

    /* A swapped key under a genuine signature is refused. */
    k = signed_key("alpha", box, t->sign_sk, sig);
    box[0] ^= 0x80;
    assert_int_equal(peerkeys_accept(txn, t->fx->st, &k), REFNET_ECRYPTO);
    box[0] ^= 0x80;
    /* Wrong lengths are refused before verifying. */
    k.signature.len = SEAL_SIGNATURE_LEN - 1;
    assert_int_equal(peerkeys_accept(txn, t->fx->st, &k), REFNET_ECRYPTO);
    k.signature.len = SEAL_SIGNATURE_LEN;
    k.box_public_key.len = SEAL_KEY_LEN + 1;
    assert_int_equal(peerkeys_accept(txn, t->fx->st, &k), REFNET_ECRYPTO);
    k.box_public_key.len = SEAL_KEY_LEN;
    assert_int_equal(peerkeys_get(txn, t->fx->st, "alpha", got), REFNET_ENOTFOUND);

    /* The genuine binding is accepted and found. */
    assert_int_equal(peerkeys_accept(txn, t->fx->st, &k), 0);
    assert_int_equal(store_commit(&txn), 0);
    txn = nfx_begin(t->fx, true);
    assert_non_null(txn);
    assert_int_equal(peerkeys_get(txn, t->fx->st, "alpha", got), 0);
    assert_memory_equal(got, box, SEAL_KEY_LEN);
    assert_int_equal(peerkeys_get(txn, t->fx->st, "beta", got), REFNET_ENOTFOUND);
    store_abort(&txn);
}

static void
seal_and_open_through_verified_keys(pk_t *t)
{
    uint8_t a_pk[SEAL_KEY_LEN], a_sk[SEAL_KEY_LEN], b_pk[SEAL_KEY_LEN], b_sk[SEAL_KEY_LEN];
    uint8_t sig_a[SEAL_SIGNATURE_LEN], sig_b[SEAL_SIGNATURE_LEN];
    char bdir[128];
    const char *why = NULL;
    snprintf(bdir, sizeof bdir, "%s/b", t->fx->dir);
    assert_int_equal(mkdir(bdir, 0700), 0);
    assert_int_equal(peerkeys_own(t->fx->dir, a_pk, a_sk), 0);
    assert_int_equal(peerkeys_own(bdir, b_pk, b_sk), 0);
    assert_memory_not_equal(a_pk, b_pk, SEAL_KEY_LEN);

    MDB_txn *txn = nfx_begin(t->fx, false);
    assert_non_null(txn);
    assert_int_equal(peerkeys_pin_broker(txn, t->fx->st, t->sign_pk, SEAL_KEY_LEN), 0);
    uint8_t text[] = "person packet";
    ProtobufCBinaryData clear = { sizeof text, text }, sealed = { 0, NULL }, opened = { 0, NULL };
    /* No verified key of "b" yet: nothing may be sealed for it. */
    assert_int_equal(peerkeys_seal(txn, t->fx->st, "b", a_sk, &clear, &sealed), REFNET_EFORBIDDEN);
    Refnet__AgencyKey ka = signed_key("a", a_pk, t->sign_sk, sig_a);
    Refnet__AgencyKey kb = signed_key("b", b_pk, t->sign_sk, sig_b);
    assert_int_equal(peerkeys_accept(txn, t->fx->st, &ka), 0);
    assert_int_equal(peerkeys_accept(txn, t->fx->st, &kb), 0);

    /* "a" seals for "b"; "b" opens it as coming from "a". */
    assert_int_equal(peerkeys_seal(txn, t->fx->st, "b", a_sk, &clear, &sealed), 0);
    assert_int_equal(sealed.len, sizeof text + SEAL_OVERHEAD);
    assert_memory_not_equal(sealed.data + SEAL_NONCE_LEN, text, sizeof text);
    /* Each seal has its own nonce, so the same text never seals to the same bytes. */
    ProtobufCBinaryData again = { 0, NULL };
    assert_int_equal(peerkeys_seal(txn, t->fx->st, "b", a_sk, &clear, &again), 0);
    assert_memory_not_equal(again.data, sealed.data, SEAL_NONCE_LEN);
    assert_int_equal(peerkeys_open(txn, t->fx->st, "a", b_sk, &again, &opened, &why), 0);
    free(opened.data);
    free(again.data);
    assert_int_equal(peerkeys_open(txn, t->fx->st, "a", b_sk, &sealed, &opened, &why), 0);
    assert_int_equal(opened.len, sizeof text);
    assert_memory_equal(opened.data, text, sizeof text);
    free(opened.data);
    opened.data = NULL;
    /* Claimed to come from "b" itself, or from an agency without a verified key: refused. */
    assert_int_equal(peerkeys_open(txn, t->fx->st, "b", b_sk, &sealed, &opened, &why),
                     REFNET_ECRYPTO);
    why = NULL;
    assert_int_equal(peerkeys_open(txn, t->fx->st, "c", b_sk, &sealed, &opened, &why),
                     REFNET_ECRYPTO);
    assert_non_null(why);
    /* Tampered bytes do not open. */
    sealed.data[sealed.len - 1] ^= 1;
    assert_int_equal(peerkeys_open(txn, t->fx->st, "a", b_sk, &sealed, &opened, &why),
                     REFNET_ECRYPTO);
    free(sealed.data);
    store_abort(&txn);
}

static void
test_seal_and_open_through_verified_keys(void **state)
{
    seal_and_open_through_verified_keys(*state);
}

/* The same with a shared-key cache attached: same outcomes, and the cache is used (one
 * computed key per pair: a seal a->b and an open from a by b share it). */
static void
test_seal_and_open_cached(void **state)
{
    pk_t *t = *state;
    peerkeys_cache_stats_t cs;
    peerkeys_cache_start(t->fx->st);
    assert_non_null(peerkeys_cache_of(t->fx->st));
    seal_and_open_through_verified_keys(t);
    peerkeys_cache_stats(peerkeys_cache_of(t->fx->st), &cs);
    assert_true(cs.misses >= 1);
    assert_true(cs.hits >= 1);
    assert_true(cs.live >= 1 && cs.live <= PEERKEYS_CACHE_SLOTS);
    peerkeys_cache_stop(t->fx->st);
    assert_null(peerkeys_cache_of(t->fx->st));
    peerkeys_cache_stop(t->fx->st); /* twice is harmless */
}

/* Cached and computed shared keys are identical; a changed key (the peer's or ours) misses;
 * the cache never holds more than PEERKEYS_CACHE_SLOTS and evicts the least recently used. */
static void
test_cache_is_exact_and_bounded(void **state)
{
    (void)state;
    enum { PEERS = PEERKEYS_CACHE_SLOTS + 6 };
    static uint8_t pk[PEERS][SEAL_KEY_LEN], sk[PEERS][SEAL_KEY_LEN];
    uint8_t my_pk[SEAL_KEY_LEN], my_sk[SEAL_KEY_LEN], other_sk[SEAL_KEY_LEN];
    uint8_t got[SEAL_SHARED_LEN], want[SEAL_SHARED_LEN];
    peerkeys_cache_stats_t cs;
    peerkeys_cache_t *c = peerkeys_cache_new();
    assert_int_equal(seal_init(), 0);
    crypto_box_keypair(my_pk, my_sk);
    crypto_box_keypair(pk[0], other_sk);
    for (size_t i = 0; i < PEERS; i++)
        crypto_box_keypair(pk[i], sk[i]);
    for (size_t i = 0; i < PEERS; i++) {
        assert_int_equal(peerkeys_cache_shared(c, pk[i], my_sk, got), 0);
        assert_int_equal(seal_precompute(pk[i], my_sk, want), 0);
        assert_memory_equal(got, want, SEAL_SHARED_LEN);
        assert_int_equal(peerkeys_cache_shared(NULL, pk[i], my_sk, got), 0);
        assert_memory_equal(got, want, SEAL_SHARED_LEN);
    }
    peerkeys_cache_stats(c, &cs);
    assert_int_equal(cs.misses, PEERS);
    assert_int_equal(cs.hits, 0);
    assert_int_equal(cs.live, PEERKEYS_CACHE_SLOTS);
    assert_int_equal(cs.evictions, PEERS - PEERKEYS_CACHE_SLOTS);
    /* The latest are held (hits, same key); the first were evicted (misses, recomputed). */
    assert_int_equal(peerkeys_cache_shared(c, pk[PEERS - 1], my_sk, got), 0);
    assert_int_equal(seal_precompute(pk[PEERS - 1], my_sk, want), 0);
    assert_memory_equal(got, want, SEAL_SHARED_LEN);
    peerkeys_cache_stats(c, &cs);
    assert_int_equal(cs.hits, 1);
    assert_int_equal(peerkeys_cache_shared(c, pk[0], my_sk, got), 0);
    peerkeys_cache_stats(c, &cs);
    assert_int_equal(cs.misses, PEERS + 1);
    /* Our own key changed: a miss, and the key of the new pair. */
    assert_int_equal(peerkeys_cache_shared(c, pk[PEERS - 1], other_sk, got), 0);
    assert_int_equal(seal_precompute(pk[PEERS - 1], other_sk, want), 0);
    assert_memory_equal(got, want, SEAL_SHARED_LEN);
    peerkeys_cache_stats(c, &cs);
    assert_int_equal(cs.misses, PEERS + 2);
    assert_int_equal(cs.live, PEERKEYS_CACHE_SLOTS);
    /* A weak key fails and is not kept. */
    uint8_t zero[SEAL_KEY_LEN] = { 0 };
    assert_int_equal(peerkeys_cache_shared(c, zero, my_sk, got), REFNET_ECRYPTO);
    peerkeys_cache_stats(c, &cs);
    assert_int_equal(cs.misses, PEERS + 2);
    peerkeys_cache_destroy(&c);
    assert_null(c);
    peerkeys_cache_destroy(&c);
}

/* Fills a signed revocation of `id`'s key `box_pk` (issued T0), revoked at `at`. */
static Refnet__AgencyKey
revoked_key(const char *id,
            uint8_t box_pk[SEAL_KEY_LEN],
            uint64_t at,
            const uint8_t *sk,
            uint8_t sig[SEAL_SIGNATURE_LEN])
{
    Refnet__AgencyKey k = signed_key(id, box_pk, sk, sig);
    seal_sign_agency_revoked(id, box_pk, T0, at, sk, sig);
    k.revoked = true;
    k.revoked_at_ms = at;
    return k;
}

static void
test_revocation_marks_the_agency(void **state)
{
    pk_t *t = *state;
    uint8_t box[SEAL_KEY_LEN], sig[SEAL_SIGNATURE_LEN], sig2[SEAL_SIGNATURE_LEN], my_sk[32] = { 1 };
    uint64_t at = 1;
    char why[256] = "";
    for (size_t i = 0; i < SEAL_KEY_LEN; i++)
        box[i] = (uint8_t)(i * 5 + 2);
    MDB_txn *txn = nfx_begin(t->fx, false);
    assert_non_null(txn);
    assert_int_equal(peerkeys_pin_broker(txn, t->fx->st, t->sign_pk, SEAL_KEY_LEN), 0);
    Refnet__AgencyKey k = signed_key("alpha", box, t->sign_sk, sig);
    assert_int_equal(peerkeys_accept(txn, t->fx->st, &k), 0);
    assert_int_equal(peerkeys_revoked(txn, t->fx->st, "alpha", &at), 0);
    assert_int_equal(at, 0);
    assert_int_equal(peerkeys_refuse_revoked(txn, t->fx->st, "alpha", why, sizeof why), 0);

    /* The mark needs the broker's signature over the revocation and its time. */
    Refnet__AgencyKey r = revoked_key("alpha", box, T0 + 100, t->rogue_sk, sig2);
    assert_int_equal(peerkeys_accept(txn, t->fx->st, &r), REFNET_ECRYPTO);
    r = signed_key("alpha", box, t->sign_sk, sig2); /* a binding's signature, marked revoked */
    r.revoked = true;
    r.revoked_at_ms = T0 + 100;
    assert_int_equal(peerkeys_accept(txn, t->fx->st, &r), REFNET_ECRYPTO);
    r = revoked_key("alpha", box, T0 + 100, t->sign_sk, sig2);
    r.revoked_at_ms = T0 + 101;
    assert_int_equal(peerkeys_accept(txn, t->fx->st, &r), REFNET_ECRYPTO);
    assert_int_equal(peerkeys_revoked(txn, t->fx->st, "alpha", &at), 0);
    assert_int_equal(at, 0);

    r = revoked_key("alpha", box, T0 + 100, t->sign_sk, sig2);
    assert_int_equal(peerkeys_accept(txn, t->fx->st, &r), 0);
    assert_int_equal(peerkeys_revoked(txn, t->fx->st, "alpha", &at), 0);
    assert_int_equal(at, T0 + 100);
    assert_int_equal(peerkeys_refuse_revoked(txn, t->fx->st, "alpha", why, sizeof why),
                     REFNET_EFORBIDDEN);
    assert_non_null(strstr(why, "alpha was revoked"));
    uint8_t text[] = "x";
    ProtobufCBinaryData clear = { sizeof text, text }, sealed = { 0, NULL };
    assert_int_equal(peerkeys_seal(txn, t->fx->st, "alpha", my_sk, &clear, &sealed),
                     REFNET_EFORBIDDEN);
    /* Its key stays known, so what it sent before stays readable. */
    uint8_t got[SEAL_KEY_LEN];
    assert_int_equal(peerkeys_get(txn, t->fx->st, "alpha", got), 0);
    assert_memory_equal(got, box, SEAL_KEY_LEN);

    /* The old binding replayed does not lift the mark; a binding made after it does. */
    assert_int_equal(peerkeys_accept(txn, t->fx->st, &k), 0);
    assert_int_equal(peerkeys_revoked(txn, t->fx->st, "alpha", &at), 0);
    assert_int_equal(at, T0 + 100);
    seal_sign_agency_key("alpha", box, T0 + 200, t->sign_sk, sig);
    k.issued_at_ms = T0 + 200;
    assert_int_equal(peerkeys_accept(txn, t->fx->st, &k), 0);
    assert_int_equal(peerkeys_revoked(txn, t->fx->st, "alpha", &at), 0);
    assert_int_equal(at, 0);
    assert_int_equal(peerkeys_revoked(txn, t->fx->st, "nobody", &at), 0);
    assert_int_equal(at, 0);
    store_abort(&txn);
}

/* Seals `text` from `from_sk` for `to_pk` into *out (caller frees). */
static void
seal_text(const char *text, const uint8_t *to_pk, const uint8_t *from_sk, ProtobufCBinaryData *out)
{
    assert_int_equal(
        seal_box((const uint8_t *)text, strlen(text), to_pk, from_sk, &out->data, &out->len), 0);
}

static void
assert_opens(store_t *st,
             MDB_txn *txn,
             const uint8_t *my_sk,
             const ProtobufCBinaryData *sealed,
             const char *text)
{
    ProtobufCBinaryData opened = { 0, NULL };
    const char *why = NULL;
    assert_int_equal(peerkeys_open(txn, st, "a", my_sk, sealed, &opened, &why), 0);
    assert_int_equal(opened.len, strlen(text));
    assert_memory_equal(opened.data, text, opened.len);
    free(opened.data);
}

static void
packets_sealed_before_a_rotation_still_open(pk_t *t, bool cached)
{
    char adir[128], ndir[128], db[160], key[160], prev[160];
    uint8_t a_old[SEAL_KEY_LEN], a_old_sk[SEAL_KEY_LEN], a_new[SEAL_KEY_LEN], a_new_sk[32];
    uint8_t b_old[SEAL_KEY_LEN], b_old_sk[SEAL_KEY_LEN], b_new[SEAL_KEY_LEN], b_new_sk[32];
    uint8_t sig[SEAL_SIGNATURE_LEN];
    store_t *st = NULL;
    ProtobufCBinaryData p1 = { 0, NULL }, p2 = { 0, NULL }, opened = { 0, NULL };
    const char *why = NULL;
    snprintf(adir, sizeof adir, "%s/a", t->fx->dir);
    snprintf(ndir, sizeof ndir, "%s/b", t->fx->dir);
    snprintf(db, sizeof db, "%s/db", ndir);
    snprintf(key, sizeof key, "%s/" PEERKEYS_FILE, ndir);
    snprintf(prev, sizeof prev, "%s/" PEERKEYS_FILE_PREV, ndir);
    assert_int_equal(mkdir(adir, 0700), 0);
    assert_int_equal(mkdir(ndir, 0700), 0);
    assert_int_equal(mkdir(db, 0700), 0);
    assert_int_equal(nodedb_open(&st, db, NFX_MAP_BYTES), 0);
    char found[128];
    assert_int_equal(peerkeys_node_dir(st, found, sizeof found), 0);
    assert_string_equal(found, ndir);
    if (cached)
        peerkeys_cache_start(st);
    assert_int_equal(peerkeys_own(adir, a_old, a_old_sk), 0);
    assert_int_equal(peerkeys_own(ndir, b_old, b_old_sk), 0);

    MDB_txn *txn = NULL;
    assert_int_equal(store_begin(st, false, &txn), 0);
    assert_int_equal(peerkeys_pin_broker(txn, st, t->sign_pk, SEAL_KEY_LEN), 0);
    Refnet__AgencyKey k = signed_key("a", a_old, t->sign_sk, sig);
    assert_int_equal(peerkeys_accept(txn, st, &k), 0);
    seal_text("first", b_old, a_old_sk, &p1);

    /* "a" rotates: "b" learns its new key, and still opens what "a" sealed before. */
    snprintf(adir, sizeof adir, "%s/a2", t->fx->dir);
    assert_int_equal(mkdir(adir, 0700), 0);
    assert_int_equal(peerkeys_own(adir, a_new, a_new_sk), 0);
    k = signed_key("a", a_new, t->sign_sk, sig);
    assert_int_equal(peerkeys_accept(txn, st, &k), 0);
    assert_opens(st, txn, b_old_sk, &p1, "first");

    /* "b" rotates too (rotate.h keeps its old secret as seal.key.prev); "a" still seals for
     * b's old key, not having heard of the new one. */
    assert_int_equal(rename(key, prev), 0);
    assert_int_equal(peerkeys_own(ndir, b_new, b_new_sk), 0);
    assert_memory_not_equal(b_new, b_old, SEAL_KEY_LEN);
    seal_text("second", b_old, a_new_sk, &p2);
    assert_opens(st, txn, b_new_sk, &p2, "second");
    assert_opens(st, txn, b_new_sk, &p1, "first");
    /* Without the previous secret it does not open. */
    assert_int_equal(unlink(prev), 0);
    assert_int_equal(peerkeys_open(txn, st, "a", b_new_sk, &p2, &opened, &why), REFNET_ECRYPTO);
    free(p1.data);
    free(p2.data);
    store_abort(&txn);
    if (cached) {
        peerkeys_cache_stats_t cs;
        peerkeys_cache_stats(peerkeys_cache_of(st), &cs);
        assert_true(cs.hits >= 1); /* p1 opened twice with (a_old, b_old_sk) */
        assert_true(cs.misses >= 3);
    }
    peerkeys_cache_stop(st);
    store_destroy(&st);
}

static void
test_packets_sealed_before_a_rotation_still_open(void **state)
{
    packets_sealed_before_a_rotation_still_open(*state, false);
}

static void
test_rotation_with_cache(void **state)
{
    packets_sealed_before_a_rotation_still_open(*state, true);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_own_keypair_is_created_once_and_private, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pin_broker_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accept_only_keys_the_pinned_broker_signed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_seal_and_open_through_verified_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revocation_marks_the_agency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_packets_sealed_before_a_rotation_still_open, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_seal_and_open_cached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_with_cache, setup, teardown),
        cmocka_unit_test(test_cache_is_exact_and_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
