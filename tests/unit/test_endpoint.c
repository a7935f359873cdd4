/* Unit tests of clients/lib/endpoint: ipc path building within the Unix socket address limit
 * (107 characters plus NUL on Linux), and the probe telling a missing socket, a stale socket
 * file and a live listener apart. Each test works in its own mkdtemp() folder. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "endpoint.h"
#include "refnet_error.h"

/* The longest path a Unix socket address holds on Linux. */
#define MAX_SOCK_PATH 107

typedef struct {
    char dir[64];
    char path[ENDPOINT_LEN];
} ep_t;

static int
setup(void **state)
{
    ep_t *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    snprintf(t->dir, sizeof t->dir, "/tmp/refnet-endpoint-test-XXXXXX");
    if (!mkdtemp(t->dir)) {
        free(t);
        return -1;
    }
    snprintf(t->path, sizeof t->path, "%s/api.sock", t->dir);
    *state = t;
    return 0;
}

static int
teardown(void **state)
{
    ep_t *t = *state;
    unlink(t->path);
    rmdir(t->dir);
    free(t);
    return 0;
}

/* Binds a Unix stream socket at `path`; listens when `listen_too`. Returns the fd or -1. */
static int
bind_unix(const char *path, bool listen_too)
{
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (const struct sockaddr *)&addr, sizeof addr) != 0 ||
        (listen_too && listen(fd, 4) != 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
test_ipc_builds_path_and_endpoint(void **state)
{
    (void)state;
    char path[ENDPOINT_LEN], ep[ENDPOINT_LEN];
    assert_int_equal(endpoint_ipc("/var/lib/refnet", "api.sock", path, ep), 0);
    assert_string_equal(path, "/var/lib/refnet/api.sock");
    assert_string_equal(ep, "ipc:///var/lib/refnet/api.sock");
    assert_int_equal(endpoint_ipc("rel", "admin.sock", path, ep), 0);
    assert_string_equal(path, "rel/admin.sock");
    assert_string_equal(ep, "ipc://rel/admin.sock");
}

static void
test_ipc_path_limit(void **state)
{
    (void)state;
    char dir[MAX_SOCK_PATH + 8], path[ENDPOINT_LEN], ep[ENDPOINT_LEN];
    const char *file = "api.sock"; /* 8 characters, plus the '/' */
    size_t dlen = MAX_SOCK_PATH - strlen(file) - 1;
    memset(dir, 'd', dlen);
    dir[0] = '/';
    dir[dlen] = '\0';
    /* Exactly 107 characters: fits. */
    assert_int_equal(endpoint_ipc(dir, file, path, ep), 0);
    assert_int_equal(strlen(path), MAX_SOCK_PATH);
    assert_int_equal(strncmp(ep, "ipc://", 6), 0);
    assert_string_equal(ep + 6, path);
    /* One more character: refused. */
    dir[dlen] = 'd';
    dir[dlen + 1] = '\0';
    assert_int_equal(endpoint_ipc(dir, file, path, ep), REFNET_EINVAL);
}

static void
test_probe_missing_socket(void **state)
{
    ep_t *t = *state;
    assert_int_equal(endpoint_probe(t->path), -ENOENT);
}

static void
test_probe_stale_socket_file(void **state)
{
    ep_t *t = *state;
    int fd = bind_unix(t->path, false);
    assert_true(fd >= 0);
    close(fd); /* the file stays, nobody listens */
    struct stat st;
    assert_int_equal(stat(t->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(endpoint_probe(t->path), -ECONNREFUSED);
}

static void
test_probe_live_listener(void **state)
{
    ep_t *t = *state;
    int fd = bind_unix(t->path, true);
    assert_true(fd >= 0);
    assert_int_equal(endpoint_probe(t->path), 0);
    close(fd);
    assert_int_equal(endpoint_probe(t->path), -ECONNREFUSED);
}

static void
test_probe_live_zeromq_socket(void **state)
{
    ep_t *t = *state;
    char path[ENDPOINT_LEN], ep[ENDPOINT_LEN];
    assert_int_equal(endpoint_ipc(t->dir, "api.sock", path, ep), 0);
    assert_string_equal(path, t->path);
    void *ctx = zmq_ctx_new();
    assert_non_null(ctx);
    void *sock = zmq_socket(ctx, ZMQ_ROUTER);
    assert_non_null(sock);
    int linger = 0;
    assert_int_equal(zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger), 0);
    assert_int_equal(zmq_bind(sock, ep), 0);
    assert_int_equal(endpoint_probe(path), 0);
    assert_int_equal(zmq_close(sock), 0);
    assert_int_equal(zmq_ctx_term(ctx), 0);
    /* Closed: nobody listens any more, whether or not libzmq left its socket file behind. */
    int rc = endpoint_probe(path);
    assert_true(rc == -ECONNREFUSED || rc == -ENOENT);
}

static void
test_probe_too_long_path(void **state)
{
    (void)state;
    char path[MAX_SOCK_PATH + 2];
    memset(path, 'p', sizeof path - 1);
    path[0] = '/';
    path[sizeof path - 1] = '\0';
    assert_int_equal(endpoint_probe(path), -ENAMETOOLONG);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipc_builds_path_and_endpoint),
        cmocka_unit_test(test_ipc_path_limit),
        cmocka_unit_test_setup_teardown(test_probe_missing_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_stale_socket_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_live_listener, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_live_zeromq_socket, setup, teardown),
        cmocka_unit_test(test_probe_too_long_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
