/* Unit tests of apicall: typed argument getters and the time parser. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "apicall.h"
#include "refnet_error.h"

static void
test_getters(void **state)
{
    (void)state;
    apicall_t c = { 0 };
    json_t *args = json_loads("{\"s\":\"hello\",\"n\":5,\"b\":true,\"r\":1.5,\"nul\":null,"
                              "\"id\":\"svc-1\",\"bad\":\"a b\",\"l\":[\"x\",\"y\"],"
                              "\"u\":\"00000000-0000-4000-8000-000000000000\"}",
                              0, NULL);
    const char *s = NULL;
    json_int_t n = 0;
    bool b = false;
    double d = 0;
    const char *items[4];
    size_t count = 0;
    assert_int_equal(apicall_text(&c, args, "s", true, 1, 10, &s), 0);
    assert_string_equal(s, "hello");
    assert_int_equal(apicall_text(&c, args, "s", true, 1, 3, &s), REFNET_EINVAL);
    assert_non_null(strstr(c.message, "s must be 1 to 3 bytes"));
    assert_int_equal(apicall_text(&c, args, "missing", false, 1, 3, &s), 1);
    assert_int_equal(apicall_text(&c, args, "nul", false, 1, 3, &s), 1);
    assert_int_equal(apicall_text(&c, args, "missing", true, 1, 3, &s), REFNET_EINVAL);
    assert_string_equal(c.message, "argument missing is required");
    assert_int_equal(apicall_text(&c, args, "n", true, 1, 3, &s), REFNET_EINVAL);
    assert_int_equal(apicall_int(&c, args, "n", true, 0, 10, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(apicall_int(&c, args, "n", true, 6, 10, &n), REFNET_EINVAL);
    assert_int_equal(apicall_int(&c, args, "r", true, 0, 10, &n), REFNET_EINVAL);
    assert_int_equal(apicall_number(&c, args, "r", true, 0, 2, &d), 0);
    assert_true(d == 1.5);
    assert_int_equal(apicall_number(&c, args, "n", true, 0, 10, &d), 0);
    assert_int_equal(apicall_bool(&c, args, "b", true, &b), 0);
    assert_true(b);
    assert_int_equal(apicall_bool(&c, args, "n", true, &b), REFNET_EINVAL);
    assert_int_equal(apicall_ident(&c, args, "id", true, &s), 0);
    assert_int_equal(apicall_ident(&c, args, "bad", true, &s), REFNET_EINVAL);
    assert_int_equal(apicall_uuid(&c, args, "u", true, &s), 0);
    assert_int_equal(apicall_uuid(&c, args, "id", true, &s), REFNET_EINVAL);
    assert_int_equal(apicall_ident_list(&c, args, "l", true, 1, 4, items, &count), 0);
    assert_int_equal(count, 2);
    assert_string_equal(items[1], "y");
    assert_int_equal(apicall_ident_list(&c, args, "l", true, 3, 4, items, &count), REFNET_EINVAL);
    json_decref(args);
}

static void
test_text_refuses_nul_and_bad_utf8(void **state)
{
    (void)state;
    apicall_t c = { 0 };
    const char *s = NULL;
    json_t *args = json_object();
    json_object_set_new(args, "nul", json_stringn("a\0b", 3));
    json_object_set_new(args, "ctl",
                        json_string("a\x01"
                                    "b"));
    assert_int_equal(apicall_text(&c, args, "nul", true, 0, 10, &s), REFNET_EINVAL);
    assert_int_equal(apicall_text(&c, args, "ctl", true, 0, 10, &s), REFNET_EINVAL);
    json_decref(args);
}

static void
test_times(void **state)
{
    (void)state;
    uint64_t t = 0;
    assert_int_equal(apicall_parse_time("2030-05-01T14:30Z", &t), 0);
    assert_int_equal(t, 1903876200000ULL);
    assert_int_equal(apicall_parse_time("2030-05-01T14:30:15.250Z", &t), 0);
    assert_int_equal(t, 1903876215250ULL);
    assert_int_equal(apicall_parse_time("2030-05-01", &t), 0);
    assert_int_equal(t, 1903824000000ULL);
    assert_int_equal(apicall_parse_time("2030-02-31", &t), REFNET_EINVAL);
    assert_int_equal(apicall_parse_time("2030-05-01T25:00Z", &t), REFNET_EINVAL);
    assert_int_equal(apicall_parse_time("1999-12-31", &t), REFNET_EINVAL);
    assert_int_equal(apicall_parse_time("2030-05-01T14:30+02:00", &t), REFNET_EINVAL);
    assert_int_equal(apicall_parse_time("tomorrow", &t), REFNET_EINVAL);
    assert_int_equal(apicall_parse_time("", &t), REFNET_EINVAL);
    assert_true(apicall_language_ok("pt-BR"));
    assert_false(apicall_language_ok("e"));
    assert_false(apicall_language_ok("en_US"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_text_refuses_nul_and_bad_utf8),
        cmocka_unit_test(test_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
