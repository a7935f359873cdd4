/* bench_agent: one sending agency of the delivery benchmark, speaking the node protocol.
 *
 * A bench agent is what a refnet-node's link is, without the node's own storage: a DEALER, a
 * CURVE client with the keypairs of a node folder made by `refnet-node init` (enrolled at the
 * broker): its CURVE key and its sealing key (DIR/seal.key). It says Hello with its box public
 * key, as a node does, so the broker vouches for it to the receiving nodes; it learns the
 * targets' box keys from the AgencyKey messages the broker sends after its Welcome, accepting
 * only those signed by the signing key that Welcome named. Then it keeps up to `window` handoff
 * requests in flight. Each one is an Envelope{Mail{to, handoff{REQUESTED, a new UUID v4 or v7
 * handoff_id, the target's service_id, category NEEDS, a person packet sealed for the target
 * exactly as refnet-node seals one}}}, addressed to the targets in turn, so the receiving node
 * opens it. The broker answers each with Result{ref, OK} ("STORED", after its synced commit),
 * delivers it to the recipient's node, which commits and acknowledges, and only then sends this
 * agency a Mail{receipt}. A message counts as delivered when its receipt arrives; the agent
 * acknowledges every receipt, as a node does, so the broker can retire it.
 *
 * Batches: the Hello asks for Batch frames (unless cfg.no_batch); the agent expands every
 * Batch it receives, and when the Welcome says the broker takes them, it packs the mails it
 * sends in one go into Batch frames (up to WIRE_MAX_FRAME bytes and WIRE_MAX_BATCH items).
 *
 * Lean per message: ids and nonces come from a uid_pool_t, the shared key of each target is
 * computed once (crypto_box_beforenm) and every packet is sealed with it, envelopes are packed
 * into one reusable buffer; no system call, allocation or formatting per message other than
 * libzmq's own.
 *
 * Message ids carry the sender's run nonce, its index and the message's sequence number, so a
 * receipt finds its message without a lookup structure and a receipt left over from an earlier
 * run is recognised (acknowledged, not counted). Latencies from send to STORED and from send
 * to receipt go into the bench_stats_t collections given at open (skipping `warmup` messages).
 *
 * Ownership: the agent owns its socket, per-message arrays and keys (the secret ones wiped at
 * destroy); the config's strings, targets and the stats collections are borrowed and must
 * outlive it. Single-threaded: the caller polls bench_agent_socket() and calls
 * bench_agent_drain() when it is readable. */
#ifndef REFNET_BENCH_AGENT_H
#define REFNET_BENCH_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench_stats.h"

typedef struct bench_agent bench_agent_t;

/* A receiving agency and the service of it that handoffs ask for. */
typedef struct {
    const char *agency;
    const char *service;
} bench_target_t;

typedef struct {
    const char *dir;        /* node folder holding agency.cert_secret */
    const char *endpoint;   /* the broker's agency endpoint */
    const char *server_key; /* the broker's Z85 public key */
    uint32_t index;         /* this agent's number, unique in the run */
    uint32_t nonce;         /* the run's random number, the same for every agent */
    uint64_t count;         /* messages to send */
    uint32_t window;        /* messages sent and not yet receipted, at most */
    size_t size;            /* encoded size each Mail envelope is padded to (about) */
    uint64_t warmup;        /* the first `warmup` messages' latencies are not recorded */
    bool ordered_handoffs;  /* time-ordered (v7) handoff ids instead of random (v4) ones */
    bool no_batch;          /* one envelope per frame both ways, whatever the broker takes */
    const bench_target_t *targets;
    size_t ntargets;
} bench_agent_config_t;

/* What an agent has seen. A message ends either receipted or refused. */
typedef struct {
    uint64_t sent;            /* Mail envelopes sent */
    uint64_t stored;          /* STORED answers (Result OK) */
    uint64_t receipts;        /* receipts for messages of this run, counted once each */
    uint64_t refused;         /* Results with another status (each one logged) */
    uint64_t duplicates;      /* a second STORED or receipt for the same message */
    uint64_t stale;           /* receipts of an earlier run (acknowledged, not counted) */
    uint64_t other;           /* frames of no interest here (directory updates, pongs) */
    uint64_t bad_frames;      /* frames (or batch items) wire_decode refused */
    uint64_t frames_out;      /* frames sent (a batch is one) */
    uint64_t batches_in;      /* Batch frames received */
    uint64_t keys;            /* AgencyKeys accepted (signature verified) */
    uint64_t keys_refused;    /* AgencyKeys whose signature did not verify */
    uint64_t last_receipt_us; /* bench_stats_now_us() of the latest receipt */
} bench_agent_counts_t;

/* Loads the keypairs, builds the person packet and connects (Hello follows in bench_agent_tick).
 * Returns 0 and sets *out (caller owns; bench_agent_destroy), or a negative REFNET_E* code
 * (logged). */
int bench_agent_open(bench_agent_t **out,
                     const bench_agent_config_t *cfg,
                     bench_stats_t *receipt_lat,
                     bench_stats_t *stored_lat);
/* Closes the socket (after up to `linger_ms` for the last acks) and frees the agent. Accepts
 * NULL; nulls *self_p. */
void bench_agent_destroy(bench_agent_t **self_p, int linger_ms);

/* The libzmq socket to poll for input (borrowed). */
void *bench_agent_socket(bench_agent_t *self);
/* Sends Hello until a Welcome comes, then a Ping every second, so the broker keeps the agency
 * online through quiet moments. Call it every loop iteration. */
void bench_agent_tick(bench_agent_t *self, uint64_t now_us);
/* Sends new messages while fewer than `window` are in flight and fewer than `count` were sent.
 * Does nothing before the Welcome. Returns 0, or a negative code when a frame cannot be built. */
int bench_agent_fill(bench_agent_t *self, uint64_t now_us);
/* Reads and handles up to `max` waiting frames, then acknowledges the receipts among them. */
void bench_agent_drain(bench_agent_t *self, size_t max);

/* True once the broker's Welcome has come and the verified sealing key of every target is
 * known: the agent can send. */
bool bench_agent_welcomed(const bench_agent_t *self);
/* True when every message has been receipted or refused. */
bool bench_agent_done(const bench_agent_t *self);
/* True when the Welcome said the broker takes Batch frames and cfg.no_batch is false. */
bool bench_agent_batching(const bench_agent_t *self);
/* The agent's counters (borrowed). */
const bench_agent_counts_t *bench_agent_counts(const bench_agent_t *self);

#endif
