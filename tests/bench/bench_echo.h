/* bench_echo: the echo server of bench_hop, the ceiling of the delivery benchmark.
 *
 * A ROUTER bound to tcp://127.0.0.1 on a port the kernel picks, with the routing id
 * BENCH_ECHO_ID, that sends every [id, body] message straight back. Two options put back, one
 * at a time, what refnet's broker does on top of a bare hop:
 *   curve   the socket is a CURVE server (with no ZAP handler: every client key is accepted),
 *           so each message is decrypted and encrypted again, as on the broker's socket;
 *   commit  every batch read (up to BENCH_ECHO_BATCH messages) is written to an LMDB store
 *           through base/store.h, one record per message, and committed (synced) before any
 *           of its echoes is sent: a group commit and nothing else.
 *
 * Ownership: the caller owns the ZeroMQ context and the bench_echo_t. Threads: the server may
 * be opened on one thread and run on another (thread creation orders the two); only one
 * thread uses it at a time. */
#ifndef REFNET_BENCH_ECHO_H
#define REFNET_BENCH_ECHO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define BENCH_ECHO_ID "hop-server"
/* Messages read per loop turn and committed together (the broker's BROKER_BATCH). */
#define BENCH_ECHO_BATCH 512
/* Length of an endpoint written by bench_echo_open. */
#define BENCH_ECHO_EP_LEN 256

typedef struct bench_echo bench_echo_t;

typedef struct {
    const char *curve_secret; /* Z85 secret key: be a CURVE server; NULL: no encryption */
    const char *commit_dir;   /* new LMDB store in this folder; NULL: no storage */
} bench_echo_config_t;

/* Creates and binds the server in `ctx` and opens its store. Writes the bound endpoint into
 * `ep`. Returns 0 and sets *out (caller owns; bench_echo_destroy), or -1 (printed). */
int bench_echo_open(bench_echo_t **out,
                    void *ctx,
                    const bench_echo_config_t *cfg,
                    char ep[BENCH_ECHO_EP_LEN]);
/* Echoes until `stop` (may be NULL) is set or `stop_fd` (may be -1) becomes readable. Returns
 * 0, or -1 when polling or a commit failed (printed). */
int bench_echo_run(bench_echo_t *self, const atomic_int *stop, int stop_fd);
/* Closes the socket and the store. Accepts NULL; nulls *self_p. */
void bench_echo_destroy(bench_echo_t **self_p);

#endif
