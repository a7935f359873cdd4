/* endpoint: ipc endpoint names and the listener probe (see endpoint.h). */
#include "endpoint.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "refnet_error.h"

int
endpoint_ipc(const char *dir, const char *file, char *path, char *endpoint)
{
    struct sockaddr_un addr;
    int n = snprintf(path, ENDPOINT_LEN, "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= sizeof addr.sun_path)
        return REFNET_EINVAL;
    n = snprintf(endpoint, ENDPOINT_LEN, "ipc://%s", path);
    if (n < 0 || n >= ENDPOINT_LEN)
        return REFNET_EINVAL;
    return 0;
}

int
endpoint_probe(const char *path)
{
    struct sockaddr_un addr;
    int rc = 0;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path)
        return -ENAMETOOLONG;
    memcpy(addr.sun_path, path, strlen(path) + 1);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* The listener sees a connection that closes before the ZMTP greeting; libzmq drops it
     * without side effects on the daemon. */
    if (connect(fd, (const struct sockaddr *)&addr, sizeof addr) != 0)
        rc = -errno;
    close(fd);
    return rc;
}
