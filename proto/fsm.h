/* fsm: the handoff state machine (BRIEF.md section 6), as one transition table.
 *
 * Both nodes and the broker dispatch every handoff status change through fsm_check(), so the
 * three always agree on which side may set which status, from which status, and whether a
 * reason is required. Milestones have their own table (fsm_check_milestone). Stateless. */
#ifndef REFNET_FSM_H
#define REFNET_FSM_H

#include <stdbool.h>

#include "refnet.pb-c.h"

typedef enum {
    FSM_SIDE_SENDER = 1,   /* the agency that started the handoff */
    FSM_SIDE_RECEIVER = 2, /* the agency whose service it was sent to */
} fsm_side_t;

/* Checks a status change. `from` is UNSPECIFIED for a new handoff (only REQUESTED by the
 * sender is allowed then). Returns 0, or REFNET_ETRANSITION with *rule (may be NULL) set to a
 * static sentence naming the rule that refuses it, e.g. "only the receiver may accept". */
int fsm_check(Refnet__HandoffStatus from,
              Refnet__HandoffStatus to,
              fsm_side_t side,
              bool has_reason,
              const char **rule);
/* Checks a milestone: introduced, follow-up-due and follow-up-done are the sender's;
 * first-contact-confirmed is the receiver's. None may be set on a handoff that is rejected,
 * cancelled or (except follow-ups) completed/failed. Same returns as fsm_check. */
int fsm_check_milestone(Refnet__HandoffStatus current,
                        Refnet__Milestone m,
                        fsm_side_t side,
                        const char **rule);
/* True for rejected, completed, failed and cancelled. */
bool fsm_is_final(Refnet__HandoffStatus s);

#endif
