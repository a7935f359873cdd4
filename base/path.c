/* path: folder creation and path joining (see path.h). */
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

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

int
path_trylock(const char *dir, const char *name, bool create)
{
    char path[PATH_MAX_LEN];
    if (path_join(path, sizeof path, dir, name) != 0)
        return -2;
    int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
    if (fd < 0)
        return -2;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return fd;
    int err = errno;
    close(fd);
    return err == EWOULDBLOCK ? -1 : -2;
}
