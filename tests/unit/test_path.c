/* test_path: folder creation and path joining on a real file system. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "path.h"
#include "refnet_error.h"

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
test_mkdir(void **state)
{
    (void)state;
    char dir[64] = "/tmp/refnet-test-path-XXXXXX";
    char sub[128], file[128], deep[160];
    struct stat st;
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof sub, "%s/data", dir);
    assert_false(path_exists(sub));
    assert_int_equal(path_mkdir(sub, 0700), 0);
    assert_true(path_exists(sub));
    assert_int_equal(stat(sub, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(path_mkdir(sub, 0700), 0); /* already there is fine */

    snprintf(file, sizeof file, "%s/plain", dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(path_mkdir(file, 0700), REFNET_EIO); /* a file is not a folder */

    snprintf(deep, sizeof deep, "%s/no/parent", dir);
    assert_int_equal(path_mkdir(deep, 0700), -ENOENT);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    assert_false(path_exists(dir));
}

/* flock locks belong to the open file description: a second open of the same file in this
 * process is refused like another process would be. */
static void
test_trylock(void **state)
{
    (void)state;
    char dir[64] = "/tmp/refnet-test-path-XXXXXX";
    char file[128];
    struct stat st;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(path_trylock(dir, "x.lock", false), -2); /* missing, not created */
    int fd = path_trylock(dir, "x.lock", true);
    assert_true(fd >= 0);
    snprintf(file, sizeof file, "%s/x.lock", dir);
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(path_trylock(dir, "x.lock", true), -1); /* held */
    close(fd);
    fd = path_trylock(dir, "x.lock", false); /* let go: free again */
    assert_true(fd >= 0);
    close(fd);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void
test_join(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(path_join(out, sizeof out, "/data", "db"), 0);
    assert_string_equal(out, "/data/db");
    assert_int_equal(path_join(out, sizeof out, "/data/broker", "db"), 0); /* 15 + NUL fits */
    assert_string_equal(out, "/data/broker/db");
    assert_int_equal(path_join(out, sizeof out, "/data/brokers", "db"), REFNET_ETOOLARGE);
}

static void
test_absolute(void **state)
{
    (void)state;
    char cwd[PATH_MAX], out[PATH_MAX_LEN], small[4];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(path_absolute(out, sizeof out, "."), 0);
    assert_string_equal(out, cwd);
    assert_int_equal(path_absolute(out, sizeof out, "/tmp/../tmp"), 0);
    assert_true(out[0] == '/');
    assert_null(strstr(out, ".."));
    assert_int_equal(path_absolute(out, sizeof out, "/no/such/folder/anywhere"), -ENOENT);
    assert_int_equal(path_absolute(small, sizeof small, "/tmp"), REFNET_ETOOLARGE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mkdir),
        cmocka_unit_test(test_trylock),
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_absolute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
