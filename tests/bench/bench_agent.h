/* bench_agent: one sending agency of the delivery benchmark, speaking the node protocol.
 *
 * A bench agent is what a refnet-node's link is, without the node's own storage: a DEALER, a
 * CURVE client with the keypair of a node folder made by `refnet-node init` (enrolled at the
 * broker), that says Hello, then keeps up to `window` handoff requests in flight. Each one is an
 * Envelope{Mail{to, handoff{REQUESTED, a new UUID handoff_id, the target's service_id, a small
 * person packet}}} built with proto/wire.h, addressed to the targets in turn. The broker answers
 * each with Result{ref, OK} ("STORED", after its synced commit), delivers it to the recipient's
 * node, which commits and acknowledges, and only then sends this agency a Mail{receipt}. A
 * message counts as delivered when its receipt arrives; the agent acknowledges every receipt,
 * as a node does, so the broker can retire it.
 *
 * Message ids carry the sender's run nonce, its index and the message's sequence number, so a
 * receipt finds its message without a lookup structure and a receipt left over from an earlier
 * run is recognised (acknowledged, not counted). Latencies from send to STORED and from send
 * to receipt go into the bench_stats_t collections given at open (skipping `warmup` messages).
 *
 * Ownership: the agent owns its socket and per-message arrays; the config's strings, targets
 * and the stats collections are borrowed and must outlive it. Single-threaded: the caller polls
 * bench_agent_socket() and calls bench_agent_drain() when it is readable. */
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
    uint64_t bad_frames;      /* frames wire_decode refused */
    uint64_t last_receipt_us; /* bench_stats_now_us() of the latest receipt */
} bench_agent_counts_t;

/* Loads the keypair, builds the person packet and connects (Hello follows in bench_agent_tick).
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

/* True once the broker's Welcome has come. */
bool bench_agent_welcomed(const bench_agent_t *self);
/* True when every message has been receipted or refused. */
bool bench_agent_done(const bench_agent_t *self);
/* The agent's counters (borrowed). */
const bench_agent_counts_t *bench_agent_counts(const bench_agent_t *self);

#endif
