/* node: the refnet-node daemon's context and its one event loop.
 *
 * A node_t owns everything the daemon runs on: the LMDB store (nodedb.h), the agency's CURVE
 * keypair, the broker link (link.h), the local API's ROUTER on ipc://DIR/api.sock (mode
 * 0600) with its handler (api.h) and waiting requests (pending.h), and a lock file that keeps
 * a second daemon off the same folder. node_run() is a single zmq_poll loop over the broker
 * socket, its monitor and the API socket, plus timers. Broker frames are applied in batches,
 * one synced commit per batch, and only then acknowledged (inbound.h).
 *
 * Threads: one. The stop flag is written by main's signal handler and only read here. */
#ifndef REFNET_NODE_H
#define REFNET_NODE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

typedef struct node node_t;

typedef struct {
    const char *dir;  /* the node's data folder (borrowed) */
    int heartbeat_ms; /* Ping interval until the broker's Welcome names one */
    size_t map_size;  /* LMDB map size in bytes */
} node_config_t;

/* Creates a node's data folder: DIR (mode 0700) with the agency keypair and the LMDB meta
 * record. The caller has validated the arguments. Writes the agency's public key into
 * `public_z85`. Returns 0, REFNET_EEXIST (DIR already holds a node) or another REFNET_E*
 * code. */
int node_create(const char *dir,
                const char *agency,
                const char *name,
                const char *broker,
                const char *broker_key,
                size_t map_size,
                char public_z85[KEYS_Z85_LEN]);

/* Gives the node folder `dir` made by node_create its sealing keypair (DIR/seal.key, 0600)
 * and, when `broker_sign_key` (SEAL_KEY_LEN bytes) is not NULL, pins it as the broker's
 * signing key. Returns 0 or a REFNET_E* code. */
int node_create_seal(const char *dir, const uint8_t *broker_sign_key, size_t map_size);

/* Opens the node in cfg->dir: takes the folder's lock, opens LMDB, loads the identity and
 * keypair, connects to the broker and binds the API socket (removing a stale socket file).
 * Returns 0 and sets *out (caller owns; node_destroy), or REFNET_ENOTFOUND (not
 * initialised), REFNET_EEXIST (another node runs on DIR), REFNET_ECRYPTO, REFNET_EIO or a
 * store error. Each failure is logged. */
int node_open(node_t **out, const node_config_t *cfg);
/* Sets the age after which search reports availability as stale (ms; default
 * NODE_STALE_AFTER_DEFAULT_S). */
void node_set_stale_after(node_t *self, uint64_t ms);
/* Runs the loop until *stop becomes non-zero. Returns 0, or REFNET_EIO when polling fails. */
int node_run(node_t *self, volatile sig_atomic_t *stop);
/* Closes everything in reverse order, removes the API socket file and logs the counters.
 * Accepts NULL and *self_p == NULL; nulls *self_p. */
void node_destroy(node_t **self_p);

#endif
