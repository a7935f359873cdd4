/* endpoint: the ipc endpoints of refnet's local sockets, and a check that someone listens.
 *
 * The node's API (DIR/api.sock) and the broker's admin socket (DIR/admin.sock) are Unix
 * sockets inside a data folder. ZeroMQ connects to them lazily and retries forever, so a client
 * whose daemon is not running would only notice when its receive timeout runs out. These helpers
 * let librefnet tell "not running" apart at once, before it sends anything. Stateless. */
#ifndef REFNET_ENDPOINT_H
#define REFNET_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "refnet.h"

/* Room for "ipc://" plus the longest Unix socket path (sun_path is 108 bytes on Linux). */
#define ENDPOINT_LEN 128

/* Writes DIR/FILE into `path` (ENDPOINT_LEN bytes) and "ipc://DIR/FILE" into `endpoint`
 * (ENDPOINT_LEN bytes). Returns 0, or REFNET_EINVAL when the path does not fit in a Unix
 * socket address. */
int endpoint_ipc(const char *dir, const char *file, char *path, char *endpoint);

/* Connects a plain Unix stream socket to `path` and closes it again. Returns 0 when a process
 * listens there, -ENOENT when the file does not exist, -ECONNREFUSED when it is a stale socket
 * that nobody listens on, or another -errno (e.g. -EACCES). */
int endpoint_probe(const char *path);

/* Probes `path` and turns a failure into the caller's error: REFNET_EUNAVAIL with "cannot
 * reach the WHAT at DIR (is DAEMON running?)" when nothing listens, or naming the errno
 * otherwise. Returns 0 when someone listens. */
int endpoint_reach(const char *path,
                   const char *what,
                   const char *dir,
                   const char *daemon,
                   refnet_client_error_t *err);

/* Makes a ZeroMQ socket of `type` in `ctx` with the clients' common options: a short linger,
 * ZMQ_MAXMSGSIZE `max_msg`, and send and receive timeouts of `timeout_ms`. Returns the socket
 * (caller closes with zmq_close), or NULL with *err set to REFNET_EIO. */
void *
endpoint_socket(void *ctx, int type, int64_t max_msg, int timeout_ms, refnet_client_error_t *err);

#endif
