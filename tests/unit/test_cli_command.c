/* Unit tests of cli_command: argv -> request args by a command description, and the usage
 * and help texts generated from the same description. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_command.h"
#include "refnet_error.h"
#include "xmalloc.h"

static const cli_opt_t OPTS[] = {
    { .flag = "name",
      .kind = CLI_OPT_STRING,
      .key = "name",
      .meta = "NAME",
      .help = "a name",
      .required = true },
    { .flag = "count",
      .kind = CLI_OPT_INT,
      .key = "count",
      .meta = "N",
      .help = "a count",
      .min = 0,
      .max = 10 },
    { .flag = "radius",
      .kind = CLI_OPT_NUMBER,
      .key = "radius_km",
      .meta = "R",
      .help = "km",
      .max = 100 },
    { .flag = "tag",
      .kind = CLI_OPT_LIST,
      .key = "tags",
      .meta = "T,...",
      .help = "tags",
      .max = 3 },
    { .flag = "flag", .kind = CLI_OPT_FLAG, .key = "flag", .help = "a flag" },
    { .flag = "accepting",
      .kind = CLI_OPT_YESNO,
      .key = "accepting",
      .meta = "yes|no",
      .help = "yes or no" },
    { .flag = "near", .kind = CLI_OPT_LATLON, .key = "near", .meta = "LAT,LON", .help = "where" },
    { .flag = "inbox", .kind = CLI_OPT_CONST, .key = "box", .help = "in", .value = "inbox" },
    { .flag = "outbox", .kind = CLI_OPT_CONST, .key = "box", .help = "out", .value = "outbox" },
    { .flag = "mode",
      .kind = CLI_OPT_CHOICE,
      .key = "mode",
      .meta = "M",
      .help = "mode",
      .choices = "in-person|phone|video" },
    { .flag = "dir",
      .kind = CLI_OPT_STRING,
      .key = "dir",
      .meta = "DIR",
      .help = "local",
      .local = true },
};

static const cli_pos_t POS[] = {
    { .key = "id", .meta = "ID", .help = "the id", .required = true },
    { .key = "text", .meta = "TEXT", .help = "words", .rest = true },
};

static int
check_count_needs_flag(const json_t *args, char *why)
{
    if (json_integer_value(json_object_get(args, "count")) == 7 && !json_object_get(args, "flag")) {
        snprintf(why, CLI_COMMAND_WHY_LEN, "seven needs --flag");
        return REFNET_EINVAL;
    }
    return 0;
}

static void
print_nothing(FILE *out, const json_t *result)
{
    (void)out;
    (void)result;
}

static const cli_command_t CMD = {
    .name = "thing",
    .sub = "do",
    .summary = "does a thing",
    .help = "Does a thing with a name.",
    .op = "thing.do",
    .fixed_key = "action",
    .fixed_value = "do",
    .opts = OPTS,
    .n_opts = sizeof OPTS / sizeof OPTS[0],
    .pos = POS,
    .n_pos = sizeof POS / sizeof POS[0],
    .check = check_count_needs_flag,
    .print = print_nothing,
};

/* Parses a NULL-terminated word list (copied, since getopt permutes argv). */
static int
parse(cli_parsed_t *out, char *why, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, why);
    for (const char *w = va_arg(ap, const char *); w && argc < 31; w = va_arg(ap, const char *))
        argv[argc++] = xstrdup(w);
    va_end(ap);
    argv[argc] = NULL;
    int rc = cli_command_parse(&CMD, argc, argv, out, why);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return rc;
}

static void
test_parse_builds_typed_args(void **state)
{
    (void)state;
    cli_parsed_t p;
    char why[CLI_COMMAND_WHY_LEN];
    int rc =
        parse(&p, why, "do", "ID-1", "--name", "Harbor", "--count", "3", "--radius", "2.5", "--tag",
              "a,b", "--tag", "c", "--flag", "--accepting", "no", "--near", "45.5,-122.6",
              "--inbox", "--mode", "phone", "--dir", "/tmp/x", "--json", "more", "words", NULL);
    assert_int_equal(rc, 0);
    assert_false(p.help);
    assert_true(p.json);
    assert_string_equal(json_string_value(json_object_get(p.args, "id")), "ID-1");
    assert_string_equal(json_string_value(json_object_get(p.args, "text")), "more words");
    assert_string_equal(json_string_value(json_object_get(p.args, "name")), "Harbor");
    assert_int_equal(json_integer_value(json_object_get(p.args, "count")), 3);
    assert_true(json_is_real(json_object_get(p.args, "radius_km")));
    assert_int_equal(json_array_size(json_object_get(p.args, "tags")), 3);
    assert_true(json_is_true(json_object_get(p.args, "flag")));
    assert_true(json_is_false(json_object_get(p.args, "accepting")));
    assert_true(json_is_real(json_object_get(json_object_get(p.args, "near"), "lat")));
    assert_true(json_is_real(json_object_get(json_object_get(p.args, "near"), "lon")));
    assert_string_equal(json_string_value(json_object_get(p.args, "box")), "inbox");
    assert_string_equal(json_string_value(json_object_get(p.args, "mode")), "phone");
    assert_string_equal(json_string_value(json_object_get(p.args, "action")), "do");
    /* Local options stay out of the request. */
    assert_null(json_object_get(p.args, "dir"));
    assert_string_equal(json_string_value(json_object_get(p.local, "dir")), "/tmp/x");
    cli_parsed_clear(&p);
    assert_null(p.args);
}

static void
test_parse_restarts_between_calls(void **state)
{
    (void)state;
    cli_parsed_t p;
    char why[CLI_COMMAND_WHY_LEN];
    /* getopt keeps state between calls; each parse must start from scratch. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(parse(&p, why, "do", "X", "--name", "n", NULL), 0);
        assert_string_equal(json_string_value(json_object_get(p.args, "id")), "X");
        assert_null(json_object_get(p.args, "text"));
        assert_false(p.json);
        cli_parsed_clear(&p);
    }
}

static void
expect_usage_error(const char *needle, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, needle);
    for (const char *w = va_arg(ap, const char *); w && argc < 31; w = va_arg(ap, const char *))
        argv[argc++] = xstrdup(w);
    va_end(ap);
    argv[argc] = NULL;
    cli_parsed_t p;
    char why[CLI_COMMAND_WHY_LEN];
    int rc = cli_command_parse(&CMD, argc, argv, &p, why);
    cli_parsed_clear(&p);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    assert_int_equal(rc, REFNET_EINVAL);
    if (!strstr(why, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, why);
}

static void
test_parse_refuses_bad_lines(void **state)
{
    (void)state;
    expect_usage_error("needs --name NAME", "do", "ID", NULL);
    expect_usage_error("needs ID", "do", "--name", "n", NULL);
    expect_usage_error("unknown option --bogus", "do", "ID", "--name", "n", "--bogus", NULL);
    expect_usage_error("--count needs a value", "do", "ID", "--name", "n", "--count", NULL);
    expect_usage_error("between 0 and 10", "do", "ID", "--name", "n", "--count", "11", NULL);
    expect_usage_error("whole number", "do", "ID", "--name", "n", "--count", "3x", NULL);
    expect_usage_error("at most 3", "do", "ID", "--name", "n", "--tag", "a,b", "--tag", "c,d",
                       NULL);
    expect_usage_error("cannot be combined", "do", "ID", "--name", "n", "--inbox", "--outbox",
                       NULL);
    expect_usage_error("in-person|phone|video", "do", "ID", "--name", "n", "--mode", "fax", NULL);
    expect_usage_error("yes or no", "do", "ID", "--name", "n", "--accepting", "sometimes", NULL);
    expect_usage_error("latitude", "do", "ID", "--name", "n", "--near", "95,1", NULL);
    expect_usage_error("seven needs --flag", "do", "ID", "--name", "n", "--count", "7", NULL);
    expect_usage_error("UTF-8", "do", "ID", "--name", "\xc3\x28", NULL);
}

static void
test_help_skips_required_checks(void **state)
{
    (void)state;
    cli_parsed_t p;
    char why[CLI_COMMAND_WHY_LEN];
    assert_int_equal(parse(&p, why, "do", "--help", NULL), 0);
    assert_true(p.help);
    cli_parsed_clear(&p);
    assert_int_equal(parse(&p, why, "do", "-h", NULL), 0);
    assert_true(p.help);
    cli_parsed_clear(&p);
}

/* Captures what `fn` writes for CMD. */
static char *
capture(void (*fn)(const cli_command_t *, FILE *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(&CMD, f);
    fclose(f);
    return buf;
}

static void
test_usage_and_help_come_from_the_description(void **state)
{
    (void)state;
    char *usage = capture(cli_command_usage);
    assert_non_null(strstr(usage, "refnet [--node DIR] thing do ID [TEXT...] --name NAME"));
    assert_non_null(strstr(usage, "[--count N]"));
    assert_non_null(strstr(usage, "[--flag]"));
    assert_non_null(strstr(usage, "[--json]"));
    /* Wrapped to 80 columns. */
    for (char *line = usage; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        assert_true(n <= 80);
        line = nl ? nl + 1 : NULL;
    }
    free(usage);

    char *help = capture(cli_command_help);
    assert_non_null(strstr(help, "usage: refnet"));
    assert_non_null(strstr(help, "Does a thing with a name."));
    for (size_t i = 0; i < CMD.n_opts; i++) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", OPTS[i].flag);
        assert_non_null(strstr(help, flag));
        assert_non_null(strstr(help, OPTS[i].help));
    }
    assert_non_null(strstr(help, "--json"));
    free(help);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_builds_typed_args),
        cmocka_unit_test(test_parse_restarts_between_calls),
        cmocka_unit_test(test_parse_refuses_bad_lines),
        cmocka_unit_test(test_help_skips_required_checks),
        cmocka_unit_test(test_usage_and_help_come_from_the_description),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
