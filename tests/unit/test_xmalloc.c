/* test_xmalloc: the allocation wrapper, including its refusal of an overflowing size.
 *
 * Out of memory aborts by design; the overflow case is run in a child process so the abort
 * can be observed. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "xmalloc.h"

static void
test_alloc(void **state)
{
    (void)state;
    char *p = xmalloc(0); /* at least one byte, never NULL */
    assert_non_null(p);
    free(p);
    unsigned char *z = xcalloc(64, 4);
    for (size_t i = 0; i < 256; i++)
        assert_int_equal(z[i], 0);
    z = xrealloc(z, 1024);
    assert_int_equal(z[255], 0); /* the old contents survive */
    free(z);
}

static void
test_strings(void **state)
{
    (void)state;
    assert_null(xstrdup(NULL));
    char *s = xstrdup("harbor");
    assert_string_equal(s, "harbor");
    free(s);
    s = xstrndup("harbor house", 6);
    assert_string_equal(s, "harbor");
    free(s);
    s = xstrndup("ab", 10); /* n beyond the string stops at its end */
    assert_string_equal(s, "ab");
    free(s);
}

static void
test_overflow_aborts(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* stderr of the child would only repeat the expected message */
        if (!freopen("/dev/null", "w", stderr))
            _exit(3);
        void *p = xcalloc(SIZE_MAX / 2, 4);
        free(p);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_overflow_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
