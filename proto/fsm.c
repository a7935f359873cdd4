/* fsm: the handoff state machine (see fsm.h and BRIEF.md section 6).
 *
 * The whole machine is the two tables below. FSM_STATUS_RULES has one row per target status:
 * the set of statuses it is reachable from, the sides that may set it and whether a reason is
 * required, plus the sentence that names each rule when it refuses a change. Read across, a row
 * is the column of the (from x to) transition matrix for that target. FSM_MILESTONE_RULES does
 * the same for the warm-handoff milestones. fsm_check() and fsm_check_milestone() only look
 * rows up; no rule lives in an `if`.
 *
 * Stateless; the tables are const. */
#include "fsm.h"

#include <stddef.h>

#include "refnet_error.h"

#define S_UNSPECIFIED REFNET__HANDOFF_STATUS__HANDOFF_STATUS_UNSPECIFIED
#define S_REQUESTED   REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED
#define S_ACCEPTED    REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ACCEPTED
#define S_REJECTED    REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REJECTED
#define S_IN_PROGRESS REFNET__HANDOFF_STATUS__HANDOFF_STATUS_IN_PROGRESS
#define S_ON_HOLD     REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ON_HOLD
#define S_COMPLETED   REFNET__HANDOFF_STATUS__HANDOFF_STATUS_COMPLETED
#define S_FAILED      REFNET__HANDOFF_STATUS__HANDOFF_STATUS_FAILED
#define S_CANCELLED   REFNET__HANDOFF_STATUS__HANDOFF_STATUS_CANCELLED
#define S_COUNT       (S_CANCELLED + 1)

/* A set of statuses as a bit mask. */
#define FSM_BIT(s) (1u << (s))
/* Sides as a bit mask: fsm_side_t values are 1 and 2, so they are their own bits. */
#define FSM_SENDER   ((unsigned)FSM_SIDE_SENDER)
#define FSM_RECEIVER ((unsigned)FSM_SIDE_RECEIVER)
#define FSM_EITHER   (FSM_SENDER | FSM_RECEIVER)

#define FSM_FINAL                                                                                  \
    (FSM_BIT(S_REJECTED) | FSM_BIT(S_COMPLETED) | FSM_BIT(S_FAILED) | FSM_BIT(S_CANCELLED))
/* Statuses of a handoff that is still open. */
#define FSM_OPEN                                                                                   \
    (FSM_BIT(S_REQUESTED) | FSM_BIT(S_ACCEPTED) | FSM_BIT(S_IN_PROGRESS) | FSM_BIT(S_ON_HOLD))

typedef struct {
    unsigned from;           /* statuses this one is reachable from (0: not a target) */
    unsigned sides;          /* sides allowed to set it */
    bool reason;             /* a reason must accompany it */
    const char *from_rule;   /* sentence when `from` is not in the set */
    const char *side_rule;   /* sentence when the side may not set it */
    const char *reason_rule; /* sentence when the reason is missing */
} fsm_status_rule_t;

static const fsm_status_rule_t FSM_STATUS_RULES[S_COUNT] = {
    [S_REQUESTED] = { FSM_BIT(S_UNSPECIFIED), FSM_SENDER, false,
                      "requested is only the first status of a new handoff",
                      "only the sender may set requested", NULL },
    [S_ACCEPTED] = { FSM_BIT(S_REQUESTED), FSM_RECEIVER, false,
                     "accepted is reachable only from requested",
                     "only the receiver may set accepted", NULL },
    [S_REJECTED] = { FSM_BIT(S_REQUESTED), FSM_RECEIVER, true,
                     "rejected is reachable only from requested",
                     "only the receiver may set rejected", "rejected requires a reason" },
    [S_IN_PROGRESS] = { FSM_BIT(S_ACCEPTED) | FSM_BIT(S_ON_HOLD), FSM_RECEIVER, false,
                        "in-progress is reachable only from accepted or on-hold",
                        "only the receiver may set in-progress", NULL },
    [S_ON_HOLD] = { FSM_BIT(S_ACCEPTED) | FSM_BIT(S_IN_PROGRESS), FSM_RECEIVER, true,
                    "on-hold is reachable only from accepted or in-progress",
                    "only the receiver may set on-hold", "on-hold requires a reason" },
    [S_COMPLETED] = { FSM_BIT(S_ACCEPTED) | FSM_BIT(S_IN_PROGRESS), FSM_RECEIVER, false,
                      "completed is reachable only from accepted or in-progress",
                      "only the receiver may set completed", NULL },
    [S_FAILED] = { FSM_BIT(S_ACCEPTED) | FSM_BIT(S_IN_PROGRESS) | FSM_BIT(S_ON_HOLD), FSM_RECEIVER,
                   true, "failed is reachable only from accepted, in-progress or on-hold",
                   "only the receiver may set failed", "failed requires a reason" },
    [S_CANCELLED] = { FSM_OPEN, FSM_EITHER, true,
                      "cancelled is reachable only from requested, accepted, in-progress or "
                      "on-hold",
                      "either side may set cancelled", "cancelled requires a reason" },
};

typedef struct {
    unsigned sides;        /* the side that records it */
    unsigned during;       /* statuses of the handoff it may be recorded in */
    const char *side_rule; /* sentence when the other side tries */
    const char *when_rule; /* sentence when the handoff's status does not allow it */
} fsm_milestone_rule_t;

#define M_COUNT (REFNET__MILESTONE__MILESTONE_FOLLOW_UP_DONE + 1)

/* Follow-ups are the peer supporter's check-ins with the person, which go on after the
 * receiving agency has finished (completed) or could not help (failed). */
static const fsm_milestone_rule_t FSM_MILESTONE_RULES[M_COUNT] = {
    [REFNET__MILESTONE__MILESTONE_INTRODUCED] = { FSM_SENDER, FSM_OPEN,
                                                  "only the sender may record introduced",
                                                  "introduced may be recorded only while the "
                                                  "handoff is open" },
    [REFNET__MILESTONE__MILESTONE_FIRST_CONTACT_CONFIRMED] = { FSM_RECEIVER, FSM_OPEN,
                                                               "only the receiver may record "
                                                               "first-contact-confirmed",
                                                               "first-contact-confirmed may be "
                                                               "recorded only while the handoff is "
                                                               "open" },
    [REFNET__MILESTONE__MILESTONE_FOLLOW_UP_DUE] = { FSM_SENDER,
                                                     FSM_OPEN | FSM_BIT(S_COMPLETED) |
                                                         FSM_BIT(S_FAILED),
                                                     "only the sender may record follow-up-due",
                                                     "follow-up-due may not be recorded on a "
                                                     "rejected or cancelled handoff" },
    [REFNET__MILESTONE__MILESTONE_FOLLOW_UP_DONE] = { FSM_SENDER,
                                                      FSM_OPEN | FSM_BIT(S_COMPLETED) |
                                                          FSM_BIT(S_FAILED),
                                                      "only the sender may record follow-up-done",
                                                      "follow-up-done may not be recorded on a "
                                                      "rejected or cancelled handoff" },
};

static int
fsm_refuse(const char **rule, const char *sentence)
{
    if (rule)
        *rule = sentence;
    return REFNET_ETRANSITION;
}

static bool
fsm_status_known(int s)
{
    return s >= S_UNSPECIFIED && s < S_COUNT;
}

static bool
fsm_side_known(fsm_side_t side)
{
    return side == FSM_SIDE_SENDER || side == FSM_SIDE_RECEIVER;
}

int
fsm_check(Refnet__HandoffStatus from,
          Refnet__HandoffStatus to,
          fsm_side_t side,
          bool has_reason,
          const char **rule)
{
    if (!fsm_status_known((int)to) || to == S_UNSPECIFIED)
        return fsm_refuse(rule, "the new status is not a known handoff status");
    if (!fsm_status_known((int)from))
        return fsm_refuse(rule, "the current status is not a known handoff status");
    if (!fsm_side_known(side))
        return fsm_refuse(rule, "the acting side is neither the sender nor the receiver");
    const fsm_status_rule_t *r = &FSM_STATUS_RULES[to];
    if (!(r->from & FSM_BIT(from)))
        return fsm_refuse(rule, r->from_rule);
    if (!(r->sides & (unsigned)side))
        return fsm_refuse(rule, r->side_rule);
    if (r->reason && !has_reason)
        return fsm_refuse(rule, r->reason_rule);
    if (rule)
        *rule = NULL;
    return 0;
}

int
fsm_check_milestone(Refnet__HandoffStatus current,
                    Refnet__Milestone m,
                    fsm_side_t side,
                    const char **rule)
{
    if ((int)m <= REFNET__MILESTONE__MILESTONE_UNSPECIFIED || (int)m >= M_COUNT)
        return fsm_refuse(rule, "the milestone is not a known milestone");
    if (!fsm_status_known((int)current))
        return fsm_refuse(rule, "the current status is not a known handoff status");
    if (!fsm_side_known(side))
        return fsm_refuse(rule, "the acting side is neither the sender nor the receiver");
    const fsm_milestone_rule_t *r = &FSM_MILESTONE_RULES[m];
    if (!(r->sides & (unsigned)side))
        return fsm_refuse(rule, r->side_rule);
    if (!(r->during & FSM_BIT(current)))
        return fsm_refuse(rule, r->when_rule);
    if (rule)
        *rule = NULL;
    return 0;
}

bool
fsm_is_final(Refnet__HandoffStatus s)
{
    return fsm_status_known((int)s) && (FSM_FINAL & FSM_BIT(s)) != 0;
}
