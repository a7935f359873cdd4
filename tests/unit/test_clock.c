/* test_clock: millisecond clocks, ISO 8601 formatting and consent expiry dates.
 *
 * The expected values were computed independently (date -u). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"
#include "refnet_error.h"

static void
test_now(void **state)
{
    (void)state;
    uint64_t before = (uint64_t)time(NULL) * 1000u;
    uint64_t now = clock_now_ms();
    uint64_t after = (uint64_t)time(NULL) * 1000u + 1000u;
    assert_in_range(now, before, after);

    uint64_t m1 = clock_mono_ms();
    struct timespec nap = { 0, 20 * 1000 * 1000 };
    nanosleep(&nap, NULL);
    uint64_t m2 = clock_mono_ms();
    assert_true(m2 >= m1 + 15);
    assert_true(m2 < m1 + 5000);
}

static void
test_format_iso(void **state)
{
    (void)state;
    char out[CLOCK_ISO_LEN];
    clock_format_iso(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    clock_format_iso(1790000000123ULL, out);
    assert_string_equal(out, "2026-09-21T14:13:20.123Z");
    clock_format_iso(1709251200000ULL - 1, out); /* the last ms of a leap day */
    assert_string_equal(out, "2024-02-29T23:59:59.999Z");
    clock_format_iso(4102444800000ULL, out);
    assert_string_equal(out, "2100-01-01T00:00:00.000Z");
}

static void
expect_date(const char *text, uint64_t end_s)
{
    uint64_t ms = 0;
    assert_int_equal(clock_parse_date_end(text, &ms), 0);
    assert_int_equal(ms, end_s * 1000u);
}

static void
test_parse_date_end(void **state)
{
    (void)state;
    expect_date("2026-11-22", 1795392000); /* valid until 2026-11-23T00:00Z */
    expect_date("2026-12-31", 1798761600); /* across a year */
    expect_date("2024-02-29", 1709251200); /* leap day */
    expect_date("2000-01-01", 946771200);  /* first accepted year */
}

static void
test_parse_date_refused(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "2026-11-2",
        "2026-1-22",
        "20261122",
        "2026/11/22",
        "2026-13-01",
        "2026-00-10",
        "2026-11-31",
        "2023-02-29",
        "2026-11-00",
        "1999-12-31",
        "2100-01-01",
        "2026-11-22x",
        " 2026-11-22",
        "+026-11-22",
        "2026-11-22T00:00:00Z",
        "yyyy-mm-dd",
        "2026-+1-22",
        "2026- 1-22",
        "2026-11-+1",
        " 2026-1-22",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t ms = 42;
        if (clock_parse_date_end(bad[i], &ms) != REFNET_EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(ms, 42); /* untouched on failure */
    }
    uint64_t ms = 0;
    assert_int_equal(clock_parse_date_end(NULL, &ms), REFNET_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_now),
        cmocka_unit_test(test_format_iso),
        cmocka_unit_test(test_parse_date_end),
        cmocka_unit_test(test_parse_date_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
