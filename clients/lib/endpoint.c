/* endpoint: ipc endpoint names and the listener probe (see endpoint.h). */
#include "endpoint.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

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

/* Clients close with at most this much unsent: a dead daemon must not hold the CLI open. */
#define ENDPOINT_LINGER_MS 100

int
endpoint_reach(const char *path,
               const char *what,
               const char *dir,
               const char *daemon,
               refnet_client_error_t *err)
{
    int rc = endpoint_probe(path);
    if (rc == 0)
        return 0;
    if (rc == -ENOENT || rc == -ECONNREFUSED || rc == -ENOTDIR)
        return refnet_client_error_set(
            err, REFNET_EUNAVAIL, "cannot reach the %s at %s (is %s running?)", what, dir, daemon);
    return refnet_client_error_set(err, REFNET_EUNAVAIL, "cannot reach the %s at %s: %s: %s", what,
                                   dir, path, strerror(-rc));
}

void *
endpoint_socket(void *ctx, int type, int64_t max_msg, int timeout_ms, refnet_client_error_t *err)
{
    int linger = ENDPOINT_LINGER_MS;
    void *sock = zmq_socket(ctx, type);
    if (!sock) {
        refnet_client_error_set(err, REFNET_EIO, "cannot make a socket: %s",
                                zmq_strerror(zmq_errno()));
        return NULL;
    }
    if (zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max_msg, sizeof max_msg) != 0 ||
        zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms) != 0 ||
        zmq_setsockopt(sock, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms) != 0) {
        refnet_client_error_set(err, REFNET_EIO, "cannot set socket options: %s",
                                zmq_strerror(zmq_errno()));
        zmq_close(sock);
        return NULL;
    }
    return sock;
}
