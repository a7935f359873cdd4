/* test_pair_fixture: two nodes' stores that hand off to each other, for the tests that carry
 * mail by hand between them (test_handoff, test_revoke).
 *
 * Node A is agency harbor (the sender, holding one person, "Sam Doe"); node B is agency
 * lighthouse, owner of service beds-1, which both replicas hold at seq 1. Each node has a
 * sealing keypair, and each holds the other's public key signed by a test broker key, the way
 * a node learns it. Header only (static functions), after test_node_fixture.h and cmocka.h. */
#ifndef REFNET_TEST_PAIR_FIXTURE_H
#define REFNET_TEST_PAIR_FIXTURE_H

#include <sodium.h>

#include "peerkeys.h"
#include "seal.h"

typedef struct {
    nfx_t *a; /* sender: agency harbor */
    nfx_t *b; /* receiver: agency lighthouse, owner of service beds-1 */
    char person[UID_STR_LEN];
    char consent[UID_STR_LEN]; /* for the tests that grant one in their setup */
    uint64_t last_a, last_b;   /* outbox keys already carried */
    uint8_t a_pk[SEAL_KEY_LEN], a_sk[SEAL_KEY_LEN], b_pk[SEAL_KEY_LEN], b_sk[SEAL_KEY_LEN];
    uint8_t sign_pk[SEAL_KEY_LEN], sign_sk[SEAL_SIGN_SECRET_LEN]; /* the broker's */
} pair_t;

/* Stores `agency`'s sealing key in `fx` the way a node learns it: signed by the broker. */
static void
pair_vouch(pair_t *p, nfx_t *fx, const char *agency, const uint8_t pk[SEAL_KEY_LEN])
{
    Refnet__AgencyKey k = REFNET__AGENCY_KEY__INIT;
    uint8_t sig[SEAL_SIGNATURE_LEN];
    seal_sign_agency_key(agency, pk, 1700000000000ULL, p->sign_sk, sig);
    k.agency_id = (char *)agency;
    k.box_public_key.data = (uint8_t *)pk;
    k.box_public_key.len = SEAL_KEY_LEN;
    k.issued_at_ms = 1700000000000ULL;
    k.signature.data = sig;
    k.signature.len = sizeof sig;
    MDB_txn *txn = nfx_begin(fx, false);
    assert_int_equal(peerkeys_pin_broker(txn, fx->st, p->sign_pk, SEAL_KEY_LEN), 0);
    assert_int_equal(peerkeys_accept(txn, fx->st, &k), 0);
    assert_int_equal(store_commit(&txn), 0);
}

/* The two stores as described above; `extra` (may be NULL) is one more service both replicas
 * hold, at seq 2. */
static pair_t *
pair_new(const nfx_service_t *extra)
{
    pair_t *p = xcalloc(1, sizeof *p);
    p->a = nfx_new();
    p->b = nfx_new();
    assert_non_null(p->a);
    assert_non_null(p->b);
    nfx_service_t s = { .id = "beds-1",
                        .agency = "lighthouse",
                        .name = "Crisis beds",
                        .ntax = 1,
                        .available = 3,
                        .accepting = true };
    s.taxonomy[0] = "housing-shelter";
    nfx_t *both[] = { p->a, p->b };
    for (int i = 0; i < 2; i++) {
        MDB_txn *txn = nfx_begin(both[i], false);
        assert_int_equal(nfx_apply_service(txn, both[i]->st, 1, &s, NULL), 0);
        if (extra)
            assert_int_equal(nfx_apply_service(txn, both[i]->st, 2, extra, NULL), 0);
        if (i == 0)
            assert_int_equal(nfx_add_person(txn, both[i]->st, "Sam Doe", "555-0100", p->person), 0);
        assert_int_equal(store_commit(&txn), 0);
    }
    assert_int_equal(seal_init(), 0);
    crypto_box_keypair(p->a_pk, p->a_sk);
    crypto_box_keypair(p->b_pk, p->b_sk);
    crypto_sign_keypair(p->sign_pk, p->sign_sk);
    pair_vouch(p, p->a, "lighthouse", p->b_pk);
    pair_vouch(p, p->b, "harbor", p->a_pk);
    return p;
}

/* cmocka teardown: frees the pair in *state. */
static int
pair_teardown(void **state)
{
    pair_t *p = *state;
    nfx_destroy(&p->a);
    nfx_destroy(&p->b);
    free(p);
    return 0;
}

#endif
