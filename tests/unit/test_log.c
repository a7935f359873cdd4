/* test_log: level parsing, the threshold and the shape of a log line.
 *
 * stderr is redirected into a temporary file for the duration of each check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "refnet_error.h"

static void
test_level_parse(void **state)
{
    (void)state;
    const char *names[] = { "error", "warn", "info", "debug" };
    for (int i = 0; i < 4; i++) {
        log_level_t l = LOG_LEVEL_ERROR;
        assert_int_equal(log_level_parse(names[i], &l), 0);
        assert_int_equal(l, i);
    }
    log_level_t l = LOG_LEVEL_INFO;
    assert_int_equal(log_level_parse("verbose", &l), REFNET_EINVAL);
    assert_int_equal(log_level_parse("", &l), REFNET_EINVAL);
    assert_int_equal(log_level_parse(NULL, &l), REFNET_EINVAL);
    assert_int_equal(l, LOG_LEVEL_INFO);
}

/* Runs the logging calls with stderr going to a file; returns what was written (caller
 * frees). */
static char *
capture(void (*fn)(void))
{
    char path[] = "/tmp/refnet-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    fn();
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    char *buf = calloc(1, 4096);
    assert_non_null(buf);
    assert_true(lseek(fd, 0, SEEK_SET) == 0);
    ssize_t n = read(fd, buf, 4095);
    assert_true(n >= 0);
    close(fd);
    unlink(path);
    return buf;
}

static void
log_some(void)
{
    log_init("test-prog", LOG_LEVEL_WARN);
    log_debug("hidden %d", 1);
    log_info("hidden %d", 2);
    log_warn("shown %d", 3);
    log_error("also shown %s", "4");
}

static void
test_threshold_and_format(void **state)
{
    (void)state;
    char *out = capture(log_some);
    assert_null(strstr(out, "hidden"));
    char *warn = strstr(out, " test-prog WARN shown 3\n");
    char *err = strstr(out, " test-prog ERROR also shown 4\n");
    assert_non_null(warn);
    assert_non_null(err);
    assert_true(warn < err);
    /* each line starts with an ISO 8601 UTC time: "2026-11-22T07:01:02.123Z" */
    assert_true(strlen(out) > 24);
    assert_int_equal(out[4], '-');
    assert_int_equal(out[10], 'T');
    assert_int_equal(out[23], 'Z');
    assert_ptr_equal(warn, out + 24);
    free(out);
}

static void
log_long(void)
{
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    log_init("test-prog", LOG_LEVEL_DEBUG);
    log_debug("%s", big);
}

static void
test_long_line_truncated(void **state)
{
    (void)state;
    char *out = capture(log_long);
    size_t len = strlen(out);
    assert_true(len > 1000);
    assert_true(len < 1200); /* cut at the line buffer, still one whole line */
    assert_int_equal(out[len - 1], '\n');
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test(test_threshold_and_format),
        cmocka_unit_test(test_long_line_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
