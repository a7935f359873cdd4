/* Unit tests of cli_args: the strict parsers of the CLI's option values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "cli_args.h"
#include "refnet_error.h"

static void
test_int_accepts_whole_numbers_in_range(void **state)
{
    (void)state;
    char why[CLI_ARGS_WHY_LEN];
    long v = -1;
    assert_int_equal(cli_args_int("42", 0, 100, "--n", &v, why), 0);
    assert_int_equal(v, 42);
    assert_int_equal(cli_args_int("-5", -10, 10, "--n", &v, why), 0);
    assert_int_equal(v, -5);
    assert_int_equal(cli_args_int("0", 0, 0, "--n", &v, why), 0);
    assert_int_equal(v, 0);
    assert_int_equal(cli_args_int("100", 0, 100, "--n", &v, why), 0);
    assert_int_equal(v, 100);
}

static void
test_int_refuses_garbage_range_and_overflow(void **state)
{
    (void)state;
    static const char *const bad[] = { "",   " 5",  "5 ",   "5x",  "x5",
                                       "+5", "1.5", "0x10", "--1", "99999999999999999999999" };
    char why[CLI_ARGS_WHY_LEN];
    long v = 7;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        assert_int_equal(cli_args_int(bad[i], -1000, 1000, "--capacity", &v, why), REFNET_EINVAL);
        assert_non_null(strstr(why, "--capacity"));
        assert_int_equal(v, 7); /* untouched on failure */
    }
    assert_int_equal(cli_args_int("101", 0, 100, "--n", &v, why), REFNET_EINVAL);
    assert_non_null(strstr(why, "between 0 and 100"));
    assert_int_equal(cli_args_int("-1", 0, 100, "--n", &v, why), REFNET_EINVAL);
    assert_int_equal(cli_args_int(NULL, 0, 100, "--n", &v, why), REFNET_EINVAL);
}

static void
test_number_parses_finite_decimals_only(void **state)
{
    (void)state;
    char why[CLI_ARGS_WHY_LEN];
    double d = 0;
    assert_int_equal(cli_args_number("2.5", 0, 10, "--r", &d, why), 0);
    assert_true(d > 2.49 && d < 2.51);
    assert_int_equal(cli_args_number("-122.68", -180, 180, "--lon", &d, why), 0);
    assert_true(d < -122.67 && d > -122.69);
    assert_int_equal(cli_args_number("1e2", 0, 1000, "--r", &d, why), 0);
    assert_true(d > 99.9 && d < 100.1);
    static const char *const bad[] = { "",      "nan",   "NaN", "inf", "-inf", "infinity",
                                       "0x1p3", "2.5km", " 2",  "+2",  "1e999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cli_args_number(bad[i], -1e9, 1e9, "--r", &d, why), REFNET_EINVAL);
    assert_int_equal(cli_args_number("10.5", 0, 10, "--r", &d, why), REFNET_EINVAL);
    assert_non_null(strstr(why, "between"));
}

static void
test_latlon_pairs(void **state)
{
    (void)state;
    char why[CLI_ARGS_WHY_LEN];
    double lat = 0, lon = 0;
    assert_int_equal(cli_args_latlon("45.52,-122.68", "--near", &lat, &lon, why), 0);
    assert_true(lat > 45.51 && lat < 45.53);
    assert_true(lon < -122.67 && lon > -122.69);
    assert_int_equal(cli_args_latlon("-90,180", "--near", &lat, &lon, why), 0);
    assert_true(lat < -89.9 && lon > 179.9);

    static const char *const bad[] = { "45.5",    "45.5,", ",3",     "1,2,3",   "91,0", "0,181",
                                       "-90.1,0", "a,b",   "45.5;3", "45.5, 3", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        assert_int_equal(cli_args_latlon(bad[i], "--near", &lat, &lon, why), REFNET_EINVAL);
        assert_non_null(strstr(why, "--near"));
    }
    assert_int_equal(cli_args_latlon("91,0", "--near", &lat, &lon, why), REFNET_EINVAL);
    assert_non_null(strstr(why, "latitude"));
    assert_int_equal(cli_args_latlon("0,-181", "--near", &lat, &lon, why), REFNET_EINVAL);
    assert_non_null(strstr(why, "longitude"));
}

static void
test_yesno_and_choice(void **state)
{
    (void)state;
    char why[CLI_ARGS_WHY_LEN];
    bool b = false;
    assert_int_equal(cli_args_yesno("yes", "--accepting", &b, why), 0);
    assert_true(b);
    assert_int_equal(cli_args_yesno("no", "--accepting", &b, why), 0);
    assert_false(b);
    assert_int_equal(cli_args_yesno("maybe", "--accepting", &b, why), REFNET_EINVAL);
    assert_int_equal(cli_args_yesno("", "--accepting", &b, why), REFNET_EINVAL);

    assert_int_equal(cli_args_choice("phone", "in-person|phone|video", "--mode", why), 0);
    assert_int_equal(cli_args_choice("in-person", "in-person|phone|video", "--mode", why), 0);
    assert_int_equal(cli_args_choice("video", "in-person|phone|video", "--mode", why), 0);
    /* Prefixes, supersets and the empty word are not choices. */
    assert_int_equal(cli_args_choice("pho", "in-person|phone|video", "--mode", why), REFNET_EINVAL);
    assert_int_equal(cli_args_choice("phones", "in-person|phone|video", "--mode", why),
                     REFNET_EINVAL);
    assert_int_equal(cli_args_choice("", "in-person|phone|video", "--mode", why), REFNET_EINVAL);
    assert_int_equal(cli_args_choice("phone|video", "in-person|phone|video", "--mode", why),
                     REFNET_EINVAL);
    assert_non_null(strstr(why, "in-person|phone|video"));
}

static void
test_list_splits_and_checks_items(void **state)
{
    (void)state;
    char why[CLI_ARGS_WHY_LEN];
    json_t *list = json_array();
    assert_int_equal(cli_args_list("detox,peer-support", 16, NULL, "--taxonomy", list, why), 0);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_array_get(list, 0)), "detox");
    assert_string_equal(json_string_value(json_array_get(list, 1)), "peer-support");
    /* A repeated option appends to the same list. */
    assert_int_equal(cli_args_list("shelter", 16, NULL, "--taxonomy", list, why), 0);
    assert_int_equal(json_array_size(list), 3);
    json_decref(list);

    static const char *const bad[] = { "", ",", "a,", ",a", "a,,b" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        list = json_array();
        assert_int_equal(cli_args_list(bad[i], 16, NULL, "--taxonomy", list, why), REFNET_EINVAL);
        json_decref(list);
    }

    list = json_array();
    assert_int_equal(cli_args_list("a,b,c", 2, NULL, "--language", list, why), REFNET_EINVAL);
    assert_non_null(strstr(why, "at most 2"));
    json_decref(list);

    list = json_array();
    assert_int_equal(
        cli_args_list("contact,own-words", 5, "contact|needs|own-words", "--share", list, why), 0);
    assert_int_equal(cli_args_list("secrets", 5, "contact|needs|own-words", "--share", list, why),
                     REFNET_EINVAL);
    assert_non_null(strstr(why, "secrets"));
    json_decref(list);

    /* Invalid UTF-8 never reaches a request. */
    list = json_array();
    assert_int_equal(cli_args_list("ok,\xff\xfe", 5, NULL, "--taxonomy", list, why), REFNET_EINVAL);
    json_decref(list);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int_accepts_whole_numbers_in_range),
        cmocka_unit_test(test_int_refuses_garbage_range_and_overflow),
        cmocka_unit_test(test_number_parses_finite_decimals_only),
        cmocka_unit_test(test_latlon_pairs),
        cmocka_unit_test(test_yesno_and_choice),
        cmocka_unit_test(test_list_splits_and_checks_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
