/* flow: the broker's view of each handoff, enforcing the state machine and counting the flow.
 *
 * db "handoffs" maps a handoff id to its HandoffMeta: sender, receiver, service, current status
 * and the times the statistics need. No person data, no reason text.
 *
 * Every Mail carrying a HandoffUpdate passes flow_apply() before it is queued. The first
 * update of a handoff must be REQUESTED; its sender becomes the handoff's `sender`, Mail.to its
 * `receiver`, and the service must be a live service of the receiver. Later updates take their
 * side (sender or receiver) from the authenticated agency, never from the message, must be
 * addressed to the other party, and their status change and milestone go through fsm.h's
 * tables: the broker refuses exactly what both nodes refuse.
 *
 * Stateless; works in the caller's transaction, which the caller aborts on a non-zero return. */
#ifndef REFNET_FLOW_H
#define REFNET_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "refnet.pb-c.h"
#include "store.h"
#include "wire.h"

/* One (from, to, status) count for the admin. */
typedef struct {
    char from[WIRE_MAX_IDENT + 1];
    char to[WIRE_MAX_IDENT + 1];
    Refnet__HandoffStatus status;
    uint64_t count;
} flow_row_t;

typedef struct {
    flow_row_t *rows; /* sorted by from, to, status; owned (flow_stats_clear) */
    size_t nrows;
    uint64_t handoffs;                /* handoffs seen */
    uint64_t accepted_samples;        /* handoffs that reached accepted */
    uint64_t median_accept_ms;        /* median requested -> accepted; 0 without samples */
    uint64_t first_contact_samples;   /* handoffs with first contact confirmed */
    uint64_t median_first_contact_ms; /* median requested -> first-contact-confirmed */
} flow_stats_t;

/* Checks and records handoff update `up`, sent by the authenticated `agency` to agency `to`
 * at broker time `now_ms`. Returns 0, or:
 *   REFNET_ETRANSITION  the state machine refuses it (*why names the rule);
 *   REFNET_EFORBIDDEN   agency is not a party, or `to` is not the other party, or the service
 *                       is not the recipient's;
 *   REFNET_ENOTFOUND    an update for an unknown handoff, or an unknown or withdrawn service;
 *   a store error. *why is a static sentence on refusal. */
int flow_apply(store_t *store,
               MDB_txn *txn,
               const char *agency,
               const char *to,
               const Refnet__HandoffUpdate *up,
               uint64_t now_ms,
               const char **why);

/* Computes the statistics over every handoff. Returns 0 and fills *out (clear it with
 * flow_stats_clear), or a store error. */
int flow_stats(store_t *store, MDB_txn *txn, flow_stats_t *out);
void flow_stats_clear(flow_stats_t *stats);

/* The median of `n` values (sorts them in place); 0 when n is 0. The mean of the two middle
 * values for an even count. */
uint64_t flow_median(uint64_t *values, size_t n);

#endif
