/* Unit tests of cli_fmt: cleaned values, widths, durations, tables and key: value lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_fmt.h"

static void
test_clean_removes_control_characters(void **state)
{
    (void)state;
    char out[64];
    cli_fmt_clean("a\x1b[2Jb\tc\x7f", false, out, sizeof out);
    assert_string_equal(out, "a [2Jb c ");
    cli_fmt_clean("line1\nline2", true, out, sizeof out);
    assert_string_equal(out, "line1\nline2");
    cli_fmt_clean("line1\nline2", false, out, sizeof out);
    assert_string_equal(out, "line1 line2");
    /* C1 control U+009B (CSI) is two bytes in UTF-8 and becomes one space. */
    cli_fmt_clean("x\xc2\x9by", false, out, sizeof out);
    assert_string_equal(out, "x y");
    /* Other UTF-8 passes unchanged. */
    cli_fmt_clean("Caf\xc3\xa9 \xe2\x82\xac", false, out, sizeof out);
    assert_string_equal(out, "Caf\xc3\xa9 \xe2\x82\xac");
}

static void
test_clean_never_cuts_a_character(void **state)
{
    (void)state;
    char out[5];
    /* "ab" + a 3-byte euro sign needs 6 bytes with NUL: the euro is dropped whole. */
    cli_fmt_clean("ab\xe2\x82\xac", false, out, sizeof out);
    assert_string_equal(out, "ab");
    cli_fmt_clean("abcdefgh", false, out, sizeof out);
    assert_string_equal(out, "abcd");
}

static void
test_width_counts_characters(void **state)
{
    (void)state;
    assert_int_equal(cli_fmt_width(""), 0);
    assert_int_equal(cli_fmt_width("abc"), 3);
    assert_int_equal(cli_fmt_width("Caf\xc3\xa9"), 4);
    assert_int_equal(cli_fmt_width("\xe2\x82\xac\xe2\x82\xac"), 2);
}

static void
test_value_and_short_time(void **state)
{
    (void)state;
    char buf[CLI_FMT_CELL_LEN];
    json_t *v = json_pack("[s, i, f, b, b, n, [s, s], []]", "x", 42, 2.5, 1, 0, "a", "b");
    const char *const want[] = { "x", "42", "2.5", "true", "false", "-", "a, b", "-" };
    for (size_t i = 0; i < 8; i++) {
        cli_fmt_value(json_array_get(v, i), buf, sizeof buf);
        assert_string_equal(buf, want[i]);
    }
    json_decref(v);
    v = json_string("2026-11-22T07:01:02.123Z");
    cli_fmt_short_time(v, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-22 07:01");
    json_decref(v);
    cli_fmt_short_time(NULL, buf, sizeof buf);
    assert_string_equal(buf, "-");
}

static void
test_until_names_the_last_valid_day(void **state)
{
    (void)state;
    char buf[64];
    static const char *const cases[][2] = {
        { "2027-07-01T00:00:00.000Z", "2027-06-30" },
        { "2027-03-01T00:00:00.000Z", "2027-02-28" },
        { "2028-03-01T00:00:00.000Z", "2028-02-29" },
        { "2027-01-01T00:00:00.000Z", "2026-12-31" },
        { "2027-07-01T10:30:00.000Z", "2027-07-01 10:30" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *v = json_string(cases[i][0]);
        cli_fmt_until(v, buf, sizeof buf);
        assert_string_equal(buf, cases[i][1]);
        json_decref(v);
    }
    cli_fmt_until(NULL, buf, sizeof buf);
    assert_string_equal(buf, "-");
}

static void
test_duration_in_human_units(void **state)
{
    (void)state;
    char buf[64];
    cli_fmt_duration(4.25, buf, sizeof buf);
    assert_string_equal(buf, "4.2 s");
    cli_fmt_duration(42, buf, sizeof buf);
    assert_string_equal(buf, "42 s");
    cli_fmt_duration(192, buf, sizeof buf);
    assert_string_equal(buf, "3 min 12 s");
    cli_fmt_duration(7500, buf, sizeof buf);
    assert_string_equal(buf, "2 h 5 min");
    cli_fmt_duration(97200, buf, sizeof buf);
    assert_string_equal(buf, "1 d 3 h");
    cli_fmt_duration(-1, buf, sizeof buf);
    assert_string_equal(buf, "-");
}

static char *
table_text(const cli_fmt_col_t *cols, size_t n, const char *rows_json)
{
    char *buf = NULL;
    size_t len = 0;
    json_t *rows = json_loads(rows_json, 0, NULL);
    FILE *f = open_memstream(&buf, &len);
    cli_fmt_table(f, cols, n, rows, "nothing here");
    fclose(f);
    json_decref(rows);
    return buf;
}

static void
cell_upper(const json_t *row, char *buf, size_t len)
{
    snprintf(buf, len, "<%s>", json_string_value(json_object_get(row, "id")));
}

static void
test_table_aligns_by_characters(void **state)
{
    (void)state;
    const cli_fmt_col_t cols[] = {
        { "ID", "id", NULL, 0 },
        { "NAME", "name", NULL, 8 },
        { "X", NULL, cell_upper, 0 },
    };
    char *t = table_text(cols, 3,
                         "[{\"id\":\"a\",\"name\":\"Caf\\u00e9\"},"
                         "{\"id\":\"bbb\",\"name\":\"A very long name\"}]");
    assert_string_equal(t, "ID   NAME      X\n"
                           "a    Caf\xc3\xa9      <a>\n"
                           "bbb  A ver...  <bbb>\n");
    free(t);
    t = table_text(cols, 3, "[]");
    assert_string_equal(t, "nothing here\n");
    free(t);
    /* A hostile name cannot break the row or reach the terminal raw. */
    t = table_text(cols, 1, "[{\"id\":\"x\\ny\\u001b[31m\"}]");
    assert_null(strchr(t, '\x1b'));
    assert_string_equal(t, "ID\nx y [31m\n");
    free(t);
}

static void
test_kv_aligns_and_nests(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    json_t *obj = json_pack("{s:s, s:b, s:i, s:{s:s}, s:s}", "agency", "harbor", "connected", 1,
                            "directory_seq", 42, "person", "name", "Ana", "words", "one\ntwo");
    FILE *f = open_memstream(&buf, &len);
    cli_fmt_kv(f, obj, 0);
    fclose(f);
    assert_string_equal(buf, "agency:        harbor\n"
                             "connected:     true\n"
                             "directory_seq: 42\n"
                             "person:\n"
                             "  name:      Ana\n"
                             "words:         one\n"
                             "               two\n");
    free(buf);
    json_decref(obj);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_removes_control_characters),
        cmocka_unit_test(test_clean_never_cuts_a_character),
        cmocka_unit_test(test_width_counts_characters),
        cmocka_unit_test(test_value_and_short_time),
        cmocka_unit_test(test_until_names_the_last_valid_day),
        cmocka_unit_test(test_duration_in_human_units),
        cmocka_unit_test(test_table_aligns_by_characters),
        cmocka_unit_test(test_kv_aligns_and_nests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
