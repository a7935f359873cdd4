/* test_refnet_error: error sentences and the local API's error names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "refnet_error.h"

static const int CODES[] = {
    REFNET_EINVAL,      REFNET_ENOTFOUND, REFNET_EEXIST,   REFNET_EFORBIDDEN,
    REFNET_ETRANSITION, REFNET_ECONSENT,  REFNET_ESTORAGE, REFNET_EFULL,
    REFNET_EQUEUEFULL,  REFNET_ETOOLARGE, REFNET_EDECODE,  REFNET_EVERSION,
    REFNET_ETIMEOUT,    REFNET_ECRYPTO,   REFNET_EUNAVAIL, REFNET_EIO,
};
#define N_CODES (sizeof CODES / sizeof CODES[0])

static void
test_strerror(void **state)
{
    (void)state;
    assert_string_equal(refnet_strerror(0), "success");
    for (size_t i = 0; i < N_CODES; i++) {
        const char *s = refnet_strerror(CODES[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 3);
        assert_string_not_equal(s, "unknown error");
        for (size_t j = 0; j < i; j++) /* each code has its own sentence */
            assert_string_not_equal(s, refnet_strerror(CODES[j]));
    }
    assert_string_equal(refnet_strerror(-ENOENT), strerror(ENOENT));
    assert_string_equal(refnet_strerror(-EACCES), strerror(EACCES));
    assert_string_equal(refnet_strerror(-999999), "unknown error");
    assert_string_equal(refnet_strerror(5), "unknown error");
}

/* The table of clients/lib/API.md, written out again. */
static void
test_api_names(void **state)
{
    (void)state;
    assert_string_equal(refnet_error_name(REFNET_EINVAL), "invalid");
    assert_string_equal(refnet_error_name(REFNET_ETOOLARGE), "invalid");
    assert_string_equal(refnet_error_name(REFNET_EDECODE), "invalid");
    assert_string_equal(refnet_error_name(REFNET_ENOTFOUND), "not-found");
    assert_string_equal(refnet_error_name(REFNET_EEXIST), "exists");
    assert_string_equal(refnet_error_name(REFNET_ECONSENT), "consent");
    assert_string_equal(refnet_error_name(REFNET_ETRANSITION), "transition");
    assert_string_equal(refnet_error_name(REFNET_EFORBIDDEN), "forbidden");
    assert_string_equal(refnet_error_name(REFNET_EQUEUEFULL), "queue-full");
    assert_string_equal(refnet_error_name(REFNET_EFULL), "storage-full");
    assert_string_equal(refnet_error_name(REFNET_EUNAVAIL), "unavailable");
    assert_string_equal(refnet_error_name(REFNET_ETIMEOUT), "unavailable");
    assert_string_equal(refnet_error_name(REFNET_ESTORAGE), "internal");
    assert_string_equal(refnet_error_name(-ENOENT), "internal");
    assert_string_equal(refnet_error_name(0), "internal");
}

static void
test_names_round_trip(void **state)
{
    (void)state;
    const char *names[] = { "invalid",   "not-found",  "exists",       "consent",     "transition",
                            "forbidden", "queue-full", "storage-full", "unavailable", "internal" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int code = refnet_error_from_name(names[i]);
        assert_true(code < 0);
        assert_string_equal(refnet_error_name(code), names[i]);
    }
    assert_int_equal(refnet_error_from_name("consent"), REFNET_ECONSENT);
    assert_int_equal(refnet_error_from_name("invalid"), REFNET_EINVAL);
    assert_int_equal(refnet_error_from_name("bogus"), REFNET_ESTORAGE);
    assert_int_equal(refnet_error_from_name(NULL), REFNET_ESTORAGE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_api_names),
        cmocka_unit_test(test_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
