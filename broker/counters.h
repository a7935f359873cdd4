/* counters: what the broker has done since it started, for logs and operators.
 *
 * A plain value type owned by broker_t and passed by pointer to the modules that count. Only
 * the loop thread touches it. Printed at INFO when the broker stops. */
#ifndef REFNET_COUNTERS_H
#define REFNET_COUNTERS_H

#include <stdint.h>

typedef struct {
    uint64_t frames;           /* frames received from agencies */
    uint64_t bad_frames;       /* undecodable, oversized, wrong version or invalid frames */
    uint64_t refused;          /* requests answered with a non-OK status */
    uint64_t forbidden;        /* of those, refused for identity or ownership */
    uint64_t stored;           /* mail committed to a mailbox (answered STORED) */
    uint64_t duplicates;       /* mail resent with a known msg_id, answered STORED again */
    uint64_t queue_full;       /* mail refused because the recipient's mailbox was full */
    uint64_t delivered;        /* deliveries sent (first sends and resends) */
    uint64_t redelivered;      /* of those, resends after a reconnect or a timeout */
    uint64_t acked;            /* messages acknowledged by their recipient */
    uint64_t stray_acks;       /* acks naming an unknown, finished or someone else's message */
    uint64_t receipts;         /* messages whose receipt was queued for their sender */
    uint64_t expired;          /* messages moved to the dead-letter list */
    uint64_t dir_changes;      /* directory changes sequenced */
    uint64_t dir_updates;      /* DirUpdate frames sent (fan-out and catch-up) */
    uint64_t commits;          /* group commits */
    uint64_t commit_failures;  /* group commits that failed (requests answered with an error) */
    uint64_t peer_busy;        /* sends deferred because a peer's pipe was full */
    uint64_t peer_gone;        /* sends to a peer that had disconnected */
    uint64_t admin_requests;   /* admin requests answered */
    uint64_t admin_refused;    /* admin frames refused (wrong key, bad frame) */
    uint64_t shuns;            /* agencies told Bye for too many bad frames */
    uint64_t shunned_frames;   /* frames dropped unanswered because their agency was shunned */
    uint64_t key_rotations;    /* agencies that replaced their keys (KeyRotate) */
    uint64_t revocations;      /* agencies revoked through the admin socket */
    uint64_t replays;          /* batches applied again one request at a time (broker.c) */
    uint64_t batches_in;       /* Batch frames received (each item also counts in `frames`) */
    uint64_t batches_out;      /* Batch frames sent (answers and deliveries packed together) */
    uint64_t early_deliveries; /* sent before their group commit: receipts (broker.c) */
} counters_t;

/* Logs every counter (two INFO lines). */
void counters_log(const counters_t *c);
/* Takes back what a failed group commit counted as done (stored, duplicates, acked, stray acks,
 * receipts, directory changes), restoring those counters from `before`, taken when the batch
 * began. */
void counters_undo_writes(counters_t *c, const counters_t *before);

#endif
