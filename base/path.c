/* path: folder creation and path joining (see path.h). */
#include "path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "refnet_error.h"

int
path_mkdir(const char *dir, mode_t mode)
{
    struct stat st;
    if (mkdir(dir, mode) != 0 && errno != EEXIST)
        return -errno;
    if (stat(dir, &st) != 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : REFNET_EIO;
}

int
path_join(char *out, size_t outlen, const char *a, const char *b)
{
    int n = snprintf(out, outlen, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= outlen)
        return REFNET_ETOOLARGE;
    return 0;
}

bool
path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int
path_absolute(char *out, size_t outlen, const char *path)
{
    char resolved[PATH_MAX];
    if (!realpath(path, resolved))
        return -errno;
    if (strlen(resolved) >= outlen)
        return REFNET_ETOOLARGE;
    memcpy(out, resolved, strlen(resolved) + 1);
    return 0;
}
