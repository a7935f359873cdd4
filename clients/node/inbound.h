/* inbound: applies a batch of broker frames inside one LMDB write transaction.
 *
 * The node's loop (node.h) reads up to NODE_BATCH envelopes (the items of a Batch frame count
 * one each: link.h hands them out one by one), hands each to inbound_envelope() with the
 * same transaction, commits once (synced), and only then acts on what the batch collected:
 * Acks for the mail it applied, answers for local API requests waiting on the broker, and a
 * directory catch-up when a gap was seen. That ordering is the "Titanic" rule: nothing is
 * acknowledged before it is on disk.
 *
 * The handlers are one table from Envelope body to function. Session frames (Welcome, Pong)
 * update the link; directory frames update the replica; Mail is applied exactly once (seen.h)
 * and always acknowledged (a consent revocation restricts the data it names and is answered,
 * revoke.h); Results settle outbox items. A Welcome's broker signing key is
 * pinned if none is (peerkeys.h); an AgencyKey is stored once its signature verifies; a
 * handoff's sealed person packet is opened with the sender's verified key (handoff_receive).
 *
 * Ownership: the batch borrows the store, transaction and link for its lifetime. A batch is
 * large (it holds NODE_BATCH acks and answers): allocate it once. Single-threaded. */
#ifndef REFNET_INBOUND_H
#define REFNET_INBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "node_limits.h"
#include "refnet.pb-c.h"
#include "store.h"
#include "uid.h"

/* The broker's final answer to a directory request, for the API request waiting on it. */
typedef struct {
    uint8_t msg_id[UID_MSGID_LEN];
    Refnet__Status status;
    uint64_t seq;
    char detail[WIRE_MAX_DETAIL + 1];
} inbound_answer_t;

/* What the node's inbound handling has counted since start. */
typedef struct {
    uint64_t mail_applied;    /* handoff steps applied */
    uint64_t mail_duplicate;  /* mail dropped as already applied (still acknowledged) */
    uint64_t mail_refused;    /* handoff steps refused here (logged, acknowledged) */
    uint64_t receipts;        /* delivery receipts applied */
    uint64_t dir_updates;     /* directory updates that changed the replica */
    uint64_t stored;          /* outbox items the broker answered OK */
    uint64_t refused;         /* outbox items the broker refused for good */
    uint64_t retried;         /* answers "queue full" / "storage full" / "internal" */
    uint64_t unexpected;      /* frames the broker should not send a node */
    uint64_t packets_opened;  /* sealed person packets opened (sender proven) */
    uint64_t packets_dropped; /* person packets that did not open or came unsealed (logged) */
    uint64_t keys_accepted;   /* agency sealing keys verified and stored */
    uint64_t keys_refused;    /* agency keys or broker signing keys refused (logged) */
    uint64_t revocations;     /* consent revocations applied (received data restricted) */
    uint64_t revocation_acks; /* acknowledgements of this agency's revocations */
} inbound_stats_t;

typedef struct {
    /* Set by inbound_begin. */
    store_t *st;
    MDB_txn *txn;
    link_t *link;
    const char *self;       /* this agency's id */
    const uint8_t *seal_sk; /* its sealing secret key, or NULL; set by the caller after
                             * inbound_begin (which leaves it alone) */
    uint64_t now;           /* wall clock, ms */
    uint64_t now_mono;      /* monotonic clock, ms */
    inbound_stats_t *stats;
    /* Collected by inbound_envelope, acted on after the commit. */
    uint8_t acks[NODE_BATCH][UID_MSGID_LEN];
    size_t nacks;
    inbound_answer_t answers[NODE_BATCH];
    size_t nanswers;
    bool need_sync;
    int failed; /* first storage error: the transaction must be aborted, nothing acted on */
} inbound_batch_t;

/* Starts a batch over `txn`. All pointers are borrowed. */
void inbound_begin(inbound_batch_t *b,
                   store_t *st,
                   MDB_txn *txn,
                   link_t *link,
                   const char *self,
                   inbound_stats_t *stats,
                   uint64_t now,
                   uint64_t now_mono);
/* Applies one envelope from the broker. Never fails as such: refusals are logged and counted;
 * a storage error sets b->failed. At most NODE_BATCH envelopes per batch. */
void inbound_envelope(inbound_batch_t *b, const Refnet__Envelope *env);

#endif
