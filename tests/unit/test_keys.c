/* test_keys: CURVE keypairs on disk.
 *
 * Real files in a mkdtemp() folder: the secret file must be 0600 and refused when it is not,
 * keys are never overwritten, and public-only certificates load back with the same key. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "keys.h"
#include "refnet_error.h"

typedef struct {
    char dir[64];
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
    snprintf(f->dir, sizeof f->dir, "/tmp/refnet-test-keys-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
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

static mode_t
mode_of(const char *dir, const char *file)
{
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (stat(path, &st) != 0)
        return (mode_t)-1;
    return st.st_mode & 0777;
}

static void
test_create_and_load(void **state)
{
    fixture_t *f = *state;
    char pub[KEYS_Z85_LEN], again[KEYS_Z85_LEN];
    assert_int_equal(keys_create(f->dir, "agency", pub), 0);
    assert_int_equal(strlen(pub), 40);
    assert_true(keys_z85_valid(pub));
    assert_int_equal(mode_of(f->dir, "agency.cert_secret"), 0600);
    assert_int_equal(mode_of(f->dir, "agency.cert"), 0644);

    zcert_t *cert = NULL;
    assert_int_equal(keys_load(f->dir, "agency", &cert), 0);
    assert_non_null(cert);
    assert_string_equal(zcert_public_txt(cert), pub);
    assert_string_not_equal(zcert_secret_txt(cert), "0000000000000000000000000000000000000000");
    zcert_destroy(&cert);

    assert_int_equal(keys_load_public(f->dir, "agency", again), 0);
    assert_string_equal(again, pub);
}

static void
test_never_overwrites(void **state)
{
    fixture_t *f = *state;
    char first[KEYS_Z85_LEN], second[KEYS_Z85_LEN], now[KEYS_Z85_LEN];
    assert_int_equal(keys_create(f->dir, "broker", first), 0);
    assert_int_equal(keys_create(f->dir, "broker", second), REFNET_EEXIST);
    assert_int_equal(keys_load_public(f->dir, "broker", now), 0);
    assert_string_equal(now, first);
    /* two keypairs differ */
    assert_int_equal(keys_create(f->dir, "admin", second), 0);
    assert_string_not_equal(first, second);
}

static void
test_secret_mode_enforced(void **state)
{
    fixture_t *f = *state;
    char pub[KEYS_Z85_LEN], path[256];
    zcert_t *cert = NULL;
    assert_int_equal(keys_create(f->dir, "agency", pub), 0);
    snprintf(path, sizeof path, "%s/agency.cert_secret", f->dir);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(keys_load(f->dir, "agency", &cert), REFNET_ECRYPTO);
    assert_null(cert);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(keys_load(f->dir, "agency", &cert), 0);
    zcert_destroy(&cert);
}

static void
test_missing(void **state)
{
    fixture_t *f = *state;
    char pub[KEYS_Z85_LEN];
    zcert_t *cert = NULL;
    assert_int_equal(keys_load(f->dir, "nobody", &cert), REFNET_ENOTFOUND);
    assert_null(cert);
    assert_int_equal(keys_load_public(f->dir, "nobody", pub), REFNET_ENOTFOUND);
}

static void
test_z85_valid(void **state)
{
    (void)state;
    assert_true(keys_z85_valid("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"));
    assert_false(keys_z85_valid("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf"));   /* 39 */
    assert_false(keys_z85_valid("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf77")); /* 41 */
    assert_false(keys_z85_valid(""));
    assert_false(keys_z85_valid(NULL));
    assert_false(keys_z85_valid("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]y~7")); /* '~' */
}

static void
test_write_public(void **state)
{
    fixture_t *f = *state;
    char pub[KEYS_Z85_LEN], certs[128];
    assert_int_equal(keys_create(f->dir, "agency", pub), 0);
    snprintf(certs, sizeof certs, "%s/certs", f->dir);
    assert_int_equal(mkdir(certs, 0700), 0);
    assert_int_equal(keys_write_public(certs, "harbor.cert", pub, "harbor"), 0);
    assert_int_equal(mode_of(certs, "harbor.cert"), 0644);
    assert_int_equal(mode_of(certs, "harbor.cert_secret"), (mode_t)-1); /* no secret written */

    char path[256];
    snprintf(path, sizeof path, "%s/harbor.cert", certs);
    zcert_t *cert = zcert_load(path);
    assert_non_null(cert);
    assert_string_equal(zcert_public_txt(cert), pub);
    assert_string_equal(zcert_meta(cert, "name"), "harbor");
    zcert_destroy(&cert);

    assert_int_equal(keys_write_public(certs, "bad.cert", "not a key", "x"), REFNET_EINVAL);
    assert_int_equal(mode_of(certs, "bad.cert"), (mode_t)-1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_overwrites, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_mode_enforced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
        cmocka_unit_test(test_z85_valid),
        cmocka_unit_test_setup_teardown(test_write_public, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
