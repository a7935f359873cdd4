/* Unit tests of broker/agencies: enrolment rules, lookups by key and id, re-enrolment with a
 * new key, the certificate folder kept in step with LMDB, picking up enrolments, revocation
 * (key refused, certificate removed, still listed) and key rotation. */
#include "test_broker_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "path.h"
#include "refnet_error.h"

typedef struct {
    fx_t *fx;
    char certs[PATH_MAX_LEN];
} ctx_t;

static int
setup(void **state)
{
    ctx_t *c = xcalloc(1, sizeof *c);
    c->fx = fx_new();
    if (!c->fx || path_join(c->certs, sizeof c->certs, c->fx->dir, "certs") != 0)
        return -1;
    *state = c;
    return 0;
}

static int
teardown(void **state)
{
    ctx_t *c = *state;
    fx_destroy(&c->fx);
    free(c);
    return 0;
}

static int
enroll(ctx_t *c, const char *id, const char *name, const char *key)
{
    MDB_txn *txn = NULL;
    char why[WIRE_WHY_LEN] = "";
    int rc = store_begin(c->fx->store, false, &txn);
    if (!rc)
        rc = agencies_enroll(c->fx->store, txn, id, name, key, clock_now_ms(), why);
    if (!rc)
        return store_commit(&txn);
    assert_true(why[0] != '\0'); /* every refusal says why */
    store_abort(&txn);
    return rc;
}

static bool
cert_exists(ctx_t *c, const char *file)
{
    char path[PATH_MAX_LEN];
    assert_int_equal(path_join(path, sizeof path, c->certs, file), 0);
    return path_exists(path);
}

static void
test_enroll_rules(void **state)
{
    ctx_t *c = *state;
    char k1[KEYS_Z85_LEN], k2[KEYS_Z85_LEN];
    fx_new_key(k1);
    fx_new_key(k2);
    assert_int_equal(enroll(c, "bad id", NULL, k1), REFNET_EINVAL);
    assert_int_equal(enroll(c, "admin", NULL, k1), REFNET_EINVAL);
    assert_int_equal(enroll(c, "broker", NULL, k1), REFNET_EINVAL);
    assert_int_equal(enroll(c, "a1", NULL, "not-a-key"), REFNET_EINVAL);
    assert_int_equal(enroll(c, "a1", "bad\001name", k1), REFNET_EINVAL);
    assert_int_equal(enroll(c, "a1", "Agency One", k1), 0);
    /* A key belongs to one agency. */
    assert_int_equal(enroll(c, "a2", NULL, k1), REFNET_EEXIST);
    assert_int_equal(enroll(c, "a2", NULL, k2), 0);
}

static void
test_lookup_and_certs(void **state)
{
    ctx_t *c = *state;
    agencies_t *ag = NULL;
    char k1[KEYS_Z85_LEN], k2[KEYS_Z85_LEN];
    fx_new_key(k1);
    fx_new_key(k2);
    assert_int_equal(enroll(c, "b", "Bee", k2), 0);
    assert_int_equal(enroll(c, "a", NULL, k1), 0);
    /* A stale certificate (no enrolment backs it) and admin.cert. */
    assert_int_equal(path_mkdir(c->certs, 0755), 0);
    assert_int_equal(keys_write_public(c->certs, "ghost.cert", k1, "ghost"), 0);
    assert_int_equal(keys_write_public(c->certs, "admin.cert", k2, "admin"), 0);

    assert_int_equal(agencies_open(&ag, c->fx->store, c->certs), 0);
    assert_int_equal(agencies_count(ag), 2);
    assert_string_equal(agencies_at(ag, 0)->id, "a"); /* sorted by id */
    assert_string_equal(agencies_at(ag, 0)->name, "a");
    assert_string_equal(agencies_at(ag, 1)->name, "Bee");
    assert_string_equal(agencies_by_key(ag, k1)->id, "a");
    assert_string_equal(agencies_by_id(ag, "b")->key, k2);
    assert_null(agencies_by_id(ag, "c"));
    assert_true(cert_exists(c, "a.cert"));
    assert_true(cert_exists(c, "b.cert"));
    assert_true(cert_exists(c, "admin.cert"));
    assert_false(cert_exists(c, "ghost.cert"));
    char onfile[KEYS_Z85_LEN];
    assert_int_equal(keys_load_public(c->certs, "a", onfile), 0);
    assert_string_equal(onfile, k1);
    agencies_destroy(&ag);
    assert_null(ag);
}

static void
test_reenroll_and_refresh(void **state)
{
    ctx_t *c = *state;
    agencies_t *ag = NULL;
    bool changed = true;
    char k1[KEYS_Z85_LEN], k2[KEYS_Z85_LEN], k3[KEYS_Z85_LEN], onfile[KEYS_Z85_LEN];
    fx_new_key(k1);
    fx_new_key(k2);
    fx_new_key(k3);
    assert_int_equal(enroll(c, "a", NULL, k1), 0);
    assert_int_equal(agencies_open(&ag, c->fx->store, c->certs), 0);
    assert_int_equal(agencies_refresh(ag, &changed), 0);
    assert_false(changed);

    /* Re-enrolment replaces the key: the old one stops working, and is free again. */
    assert_int_equal(enroll(c, "a", "Renamed", k2), 0);
    assert_int_equal(enroll(c, "n", NULL, k3), 0);
    assert_int_equal(agencies_refresh(ag, &changed), 0);
    assert_true(changed);
    assert_null(agencies_by_key(ag, k1));
    assert_string_equal(agencies_by_key(ag, k2)->id, "a");
    assert_string_equal(agencies_by_id(ag, "a")->name, "Renamed");
    assert_string_equal(agencies_by_key(ag, k3)->id, "n");
    assert_int_equal(keys_load_public(c->certs, "a", onfile), 0);
    assert_string_equal(onfile, k2);
    assert_true(cert_exists(c, "n.cert"));
    assert_int_equal(enroll(c, "z", NULL, k1), 0);
    agencies_destroy(&ag);
}

static void
test_last_seen_survives(void **state)
{
    ctx_t *c = *state;
    agencies_t *ag = NULL;
    MDB_txn *txn = NULL;
    char k1[KEYS_Z85_LEN];
    fx_new_key(k1);
    assert_int_equal(enroll(c, "a", NULL, k1), 0);
    assert_int_equal(store_begin(c->fx->store, false, &txn), 0);
    assert_int_equal(agencies_save_last_seen(c->fx->store, txn, "a", 1800000000000ULL), 0);
    assert_int_equal(agencies_save_last_seen(c->fx->store, txn, "x", 1), REFNET_ENOTFOUND);
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(agencies_open(&ag, c->fx->store, c->certs), 0);
    assert_int_equal(agencies_by_id(ag, "a")->last_seen_ms, 1800000000000ULL);
    agencies_destroy(&ag);
}

static int
revoke_one(ctx_t *c, const char *id, uint64_t at, const uint8_t *sign_sk, bool *already)
{
    MDB_txn *txn = NULL;
    char why[WIRE_WHY_LEN] = "";
    int rc = store_begin(c->fx->store, false, &txn);
    if (!rc)
        rc = agencies_revoke(c->fx->store, txn, id, at, sign_sk, already, why);
    if (!rc)
        return store_commit(&txn);
    assert_true(why[0] != '\0');
    store_abort(&txn);
    return rc;
}

static int
rotate_one(ctx_t *c, const char *id, const char *key, bool *changed)
{
    MDB_txn *txn = NULL;
    char why[WIRE_WHY_LEN] = "";
    int rc = store_begin(c->fx->store, false, &txn);
    if (!rc)
        rc = agencies_rotate(c->fx->store, txn, id, key, changed, why);
    if (!rc)
        return store_commit(&txn);
    store_abort(&txn);
    return rc;
}

static void
test_revoke(void **state)
{
    ctx_t *c = *state;
    agencies_t *ag = NULL;
    bool changed = false, already = true;
    char k1[KEYS_Z85_LEN], k2[KEYS_Z85_LEN];
    fx_new_key(k1);
    fx_new_key(k2);
    assert_int_equal(enroll(c, "a", NULL, k1), 0);
    assert_int_equal(enroll(c, "b", NULL, k2), 0);
    assert_int_equal(agencies_open(&ag, c->fx->store, c->certs), 0);
    assert_true(cert_exists(c, "a.cert"));

    assert_int_equal(revoke_one(c, "a", 1800000000000ULL, NULL, &already), 0);
    assert_false(already);
    assert_int_equal(revoke_one(c, "nobody", 1800000000000ULL, NULL, &already), REFNET_ENOTFOUND);
    assert_int_equal(agencies_refresh(ag, &changed), 0);
    assert_true(changed);
    /* Its key names no sender, it is no recipient, and zauth no longer has its certificate. */
    assert_null(agencies_by_key(ag, k1));
    assert_null(agencies_by_id(ag, "a"));
    assert_true(agencies_is_revoked(ag, "a"));
    assert_false(agencies_is_revoked(ag, "b"));
    assert_false(agencies_is_revoked(ag, "zz"));
    assert_false(cert_exists(c, "a.cert"));
    assert_true(cert_exists(c, "b.cert"));
    /* Still listed for the administrator, marked. */
    assert_int_equal(agencies_count(ag), 2);
    assert_string_equal(agencies_at(ag, 0)->id, "a");
    assert_int_equal(agencies_at(ag, 0)->revoked_at_ms, 1800000000000ULL);
    assert_int_equal(agencies_at(ag, 1)->revoked_at_ms, 0);

    /* A second revocation changes nothing; enrolling again lifts it. */
    assert_int_equal(revoke_one(c, "a", 1900000000000ULL, NULL, &already), 0);
    assert_true(already);
    assert_int_equal(enroll(c, "a", NULL, k1), 0);
    assert_int_equal(agencies_refresh(ag, &changed), 0);
    assert_string_equal(agencies_by_key(ag, k1)->id, "a");
    assert_false(agencies_is_revoked(ag, "a"));
    assert_true(cert_exists(c, "a.cert"));
    agencies_destroy(&ag);
}

static void
test_rotate(void **state)
{
    ctx_t *c = *state;
    agencies_t *ag = NULL;
    bool changed = false, already = false;
    char k1[KEYS_Z85_LEN], k2[KEYS_Z85_LEN], k3[KEYS_Z85_LEN], onfile[KEYS_Z85_LEN];
    fx_new_key(k1);
    fx_new_key(k2);
    fx_new_key(k3);
    assert_int_equal(enroll(c, "a", NULL, k1), 0);
    assert_int_equal(enroll(c, "b", NULL, k2), 0);
    assert_int_equal(agencies_open(&ag, c->fx->store, c->certs), 0);

    assert_int_equal(rotate_one(c, "a", "not-a-key", &changed), REFNET_EINVAL);
    assert_int_equal(rotate_one(c, "a", k2, &changed), REFNET_EEXIST); /* b's key */
    assert_int_equal(rotate_one(c, "a", k3, &changed), 0);
    assert_true(changed);
    assert_int_equal(rotate_one(c, "a", k3, &changed), 0); /* a resent request */
    assert_false(changed);
    assert_int_equal(agencies_refresh(ag, &changed), 0);
    assert_true(changed);
    assert_null(agencies_by_key(ag, k1));
    assert_string_equal(agencies_by_key(ag, k3)->id, "a");
    assert_int_equal(keys_load_public(c->certs, "a", onfile), 0);
    assert_string_equal(onfile, k3);
    /* The old key is free again; a revoked agency cannot rotate. */
    assert_int_equal(enroll(c, "z", NULL, k1), 0);
    assert_int_equal(revoke_one(c, "b", 1800000000000ULL, NULL, &already), 0);
    assert_int_equal(rotate_one(c, "b", k1, &changed), REFNET_EEXIST);
    char k4[KEYS_Z85_LEN];
    fx_new_key(k4);
    assert_int_equal(rotate_one(c, "b", k4, &changed), REFNET_ENOTFOUND);
    agencies_destroy(&ag);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enroll_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_and_certs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reenroll_and_refresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_seen_survives, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
