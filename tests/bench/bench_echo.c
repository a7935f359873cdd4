/* bench_echo: bench_hop's echo server, bare, with CURVE, or with a group commit (see
 * bench_echo.h). */
#include "bench_echo.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "refnet_error.h"
#include "store.h"
#include "xmalloc.h"

/* Poll timeout: how often the loop looks at its stop flag. */
#define ECHO_WAKE_MS 100
/* The store's map: a run of a few million 200-byte records fits with room to spare. */
#define ECHO_MAP_SIZE (4096ULL * 1024 * 1024)

struct bench_echo {
    void *sock;
    store_t *store; /* NULL: no storage */
    uint64_t next_key;
    zmq_msg_t ids[BENCH_ECHO_BATCH];
    zmq_msg_t bodies[BENCH_ECHO_BATCH];
};

static int
echo_bind(bench_echo_t *self, void *ctx, const char *curve_secret, char ep[BENCH_ECHO_EP_LEN])
{
    int linger = 0, one = 1, unlimited = 0;
    size_t ep_len = BENCH_ECHO_EP_LEN;
    self->sock = zmq_socket(ctx, ZMQ_ROUTER);
    if (!self->sock)
        return -1;
    zmq_setsockopt(self->sock, ZMQ_ROUTING_ID, BENCH_ECHO_ID, strlen(BENCH_ECHO_ID));
    zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger);
    /* A ROUTER drops what does not fit a peer's pipe; the clients' windows bound the queues. */
    zmq_setsockopt(self->sock, ZMQ_SNDHWM, &unlimited, sizeof unlimited);
    zmq_setsockopt(self->sock, ZMQ_RCVHWM, &unlimited, sizeof unlimited);
    if (curve_secret &&
        (zmq_setsockopt(self->sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
         zmq_setsockopt(self->sock, ZMQ_CURVE_SECRETKEY, curve_secret, strlen(curve_secret)) != 0))
        return -1;
    if (zmq_bind(self->sock, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(self->sock, ZMQ_LAST_ENDPOINT, ep, &ep_len) != 0)
        return -1;
    return 0;
}

int
bench_echo_open(bench_echo_t **out,
                void *ctx,
                const bench_echo_config_t *cfg,
                char ep[BENCH_ECHO_EP_LEN])
{
    static const char *const dbs[] = { "echo" };
    bench_echo_t *self = xcalloc(1, sizeof *self);
    self->next_key = 1;
    if (echo_bind(self, ctx, cfg->curve_secret, ep) != 0) {
        fprintf(stderr, "bench_echo: cannot bind: %s\n", zmq_strerror(zmq_errno()));
        goto err;
    }
    if (cfg->commit_dir) {
        int rc = store_open(&self->store, cfg->commit_dir, ECHO_MAP_SIZE, dbs, 1);
        if (rc) {
            fprintf(stderr, "bench_echo: %s: %s\n", cfg->commit_dir, refnet_strerror(rc));
            goto err;
        }
    }
    *out = self;
    return 0;
err:
    bench_echo_destroy(&self);
    return -1;
}

void
bench_echo_destroy(bench_echo_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bench_echo_t *self = *self_p;
    if (self->sock)
        zmq_close(self->sock);
    store_destroy(&self->store);
    free(self);
    *self_p = NULL;
}

/* Reads up to BENCH_ECHO_BATCH waiting [id, body] messages. Returns how many. */
static size_t
echo_read(bench_echo_t *self)
{
    size_t n = 0;
    for (; n < BENCH_ECHO_BATCH; n++) {
        zmq_msg_init(&self->ids[n]);
        zmq_msg_init(&self->bodies[n]);
        if (zmq_msg_recv(&self->ids[n], self->sock, ZMQ_DONTWAIT) < 0 ||
            !zmq_msg_more(&self->ids[n]) || zmq_msg_recv(&self->bodies[n], self->sock, 0) < 0) {
            zmq_msg_close(&self->ids[n]);
            zmq_msg_close(&self->bodies[n]);
            break;
        }
    }
    return n;
}

/* Writes the `n` bodies under increasing keys in one transaction, and commits it (synced). */
static int
echo_commit(bench_echo_t *self, size_t n)
{
    MDB_txn *txn = NULL;
    int rc = store_begin(self->store, false, &txn);
    for (size_t i = 0; !rc && i < n; i++) {
        uint8_t key[8];
        store_u64_key(key, self->next_key++);
        rc = store_put(txn, store_db(self->store, 0), key, sizeof key,
                       zmq_msg_data(&self->bodies[i]), zmq_msg_size(&self->bodies[i]), 0);
    }
    if (!rc)
        rc = store_commit(&txn);
    store_abort(&txn);
    if (rc)
        fprintf(stderr, "bench_echo: commit failed: %s\n", refnet_strerror(rc));
    return rc;
}

/* Sends the `n` messages back (when `send`) and releases them. */
static void
echo_reply(bench_echo_t *self, size_t n, bool send)
{
    for (size_t i = 0; i < n; i++) {
        if (send && zmq_msg_send(&self->ids[i], self->sock, ZMQ_SNDMORE) >= 0)
            zmq_msg_send(&self->bodies[i], self->sock, 0);
        zmq_msg_close(&self->ids[i]);
        zmq_msg_close(&self->bodies[i]);
    }
}

int
bench_echo_run(bench_echo_t *self, const atomic_int *stop, int stop_fd)
{
    zmq_pollitem_t items[2] = { { self->sock, 0, ZMQ_POLLIN, 0 },
                                { NULL, stop_fd, ZMQ_POLLIN, 0 } };
    int nitems = stop_fd >= 0 ? 2 : 1;
    while (!(stop && atomic_load(stop))) {
        if (zmq_poll(items, nitems, ECHO_WAKE_MS) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            fprintf(stderr, "bench_echo: poll failed: %s\n", zmq_strerror(zmq_errno()));
            return -1;
        }
        if (nitems == 2 && items[1].revents)
            break;
        if (!(items[0].revents & ZMQ_POLLIN))
            continue;
        size_t n = echo_read(self);
        int rc = self->store && n ? echo_commit(self, n) : 0;
        echo_reply(self, n, rc == 0);
        if (rc)
            return -1;
    }
    return 0;
}
