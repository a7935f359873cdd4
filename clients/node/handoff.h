/* handoff: warm handoffs as this node sees them (db "handoffs", key = handoff id).
 *
 * The sending side starts a handoff only under a valid consent (consent.h): the person packet
 * it builds carries the person's name and only the categories that consent covers, and the
 * record and the outgoing mail are written in the caller's transaction, so a refusal writes
 * and queues nothing. Each later step, local or received, goes through the state machine
 * (proto/fsm.h) for the side that takes it, is recorded as an event with the acting agency,
 * and a local step is queued as mail to the other party through the outbox (outbox.h). Person
 * data leaves only sealed for the receiving agency (peerkeys.h): the person packet, and the
 * free-text reason of every later step (sealed_reason). Substance-use (42 CFR Part 2) data
 * travels with the regulation's notice prohibiting redisclosure (HANDOFF_PART2_NOTICE).
 *
 * All functions work inside a transaction owned by the caller. Errors that a user or peer
 * caused carry one sentence in `why` (HANDOFF_WHY_LEN bytes, may be NULL); it never holds
 * person data, so it can be logged. Returned pbuf_t are the caller's and hold a
 * Refnet__HandoffRecord. Single-threaded. */
#ifndef REFNET_HANDOFF_H
#define REFNET_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.pb-c.h"
#include "store.h"
#include "uid.h"
#include "wire_limits.h"

#define HANDOFF_WHY_LEN 256

/* The notice prohibiting redisclosure that must accompany every disclosure of substance-use
 * (Part 2) information made with the person's written consent. Source: 42 CFR 2.32(a)(1),
 * "Prohibition on re-disclosure", 83 FR 251 (Jan. 3, 2018) as amended at 85 FR 43037
 * (July 15, 2020), quoted as published in the eCFR. The sending node puts it in
 * PersonPacket.redisclosure_notice whenever the categories include substance-use; the
 * receiving node shows it with the handoff. */
#define HANDOFF_PART2_NOTICE                                                                       \
    "This record which has been disclosed to you is protected by federal confidentiality rules "   \
    "(42 CFR part 2). The federal rules prohibit you from making any further disclosure of this "  \
    "record unless further disclosure is expressly permitted by the written consent of the "       \
    "individual whose information is being disclosed in this record or, is otherwise permitted "   \
    "by 42 CFR part 2. A general authorization for the release of medical or other information "   \
    "is NOT sufficient for this purpose (see \u00a72.31). The federal rules restrict any use of "  \
    "the information to investigate or prosecute with regard to a crime any patient with a "       \
    "substance use disorder, except as provided at \u00a7\u00a72.12(c)(5) and 2.65."

/* What a peer supporter asks for when starting a handoff. Strings are borrowed; NULL or ""
 * means not given. */
typedef struct {
    const char *person_id;
    const char *service_id;
    const char *note;      /* CATEGORY_NOTES */
    const char *own_words; /* CATEGORY_OWN_WORDS */
    const char *needs;     /* CATEGORY_NEEDS */
    Refnet__ContactMode mode;
    bool accompany;
    bool substance_use;      /* the shared data includes substance-use (Part 2) information:
                              * the consent must name substance-use, and the 42 CFR 2.32
                              * notice travels with the packet */
    uint64_t proposed_at_ms; /* 0 if none */
    uint64_t ttl_ms;         /* 0 for NODE_TTL_DEFAULT_MS */
    const uint8_t *seal_sk;  /* this agency's sealing secret key (SEAL_KEY_LEN); required */
} handoff_start_t;

/* Starts a handoff from agency `self` (the sender). Looks the service up in the replica (its
 * agency is the receiver), refuses a person whose data came from a received handoff that is
 * now restricted (revoke.h: never sent onward), requires a valid consent for every category
 * sent (substance-use only when req->substance_use, and then named by the consent), then records
 * the handoff and queues Mail{REQUESTED} for the receiver, and appends a disclosure-sent entry
 * to the audit log (audit.h) with the mail's msg_id. On success writes the new id into
 * `id_out`. `to_out` receives the receiver's id as soon as it is known (also on
 * REFNET_ECONSENT). Returns 0 or:
 *   REFNET_ENOTFOUND   no such person, or no such service in the replica;
 *   REFNET_EINVAL      the service is this agency's own, or the packet breaks a wire limit;
 *   REFNET_ECONSENT    no valid consent covers it (nothing written or queued);
 *   REFNET_EFORBIDDEN  the receiver has no sealing key the broker vouched for, or req has no
 *                      seal_sk: the person packet cannot be sealed (nothing written or queued);
 *                      or the person's data is restricted (see above);
 *   REFNET_EQUEUEFULL  the outbox is full;
 *   store errors. */
int handoff_start(MDB_txn *txn,
                  const store_t *st,
                  const char *self,
                  const handoff_start_t *req,
                  uint64_t now,
                  char id_out[UID_STR_LEN],
                  char to_out[WIRE_MAX_IDENT + 1],
                  char *why);
/* Sets status `to` on handoff `id` from this node's side, records the event (with the reason
 * in clear: it is this node's own record) and queues the step for the other party. A reason is
 * free text about the person, so it travels only sealed for the other party (sealed_reason,
 * a StepNote sealed with `seal_sk` like the person packet). Returns 0, REFNET_ENOTFOUND,
 * REFNET_ETRANSITION (why names the state machine's rule), REFNET_EFORBIDDEN (a reason is
 * given but cannot be sealed: no seal_sk, or no verified key of the other party; nothing
 * written or queued), REFNET_EQUEUEFULL or a store error. */
int handoff_update(MDB_txn *txn,
                   const store_t *st,
                   const char *self,
                   const char *id,
                   Refnet__HandoffStatus to,
                   const char *reason,
                   Refnet__Outcome outcome,
                   const uint8_t *seal_sk,
                   uint64_t now,
                   char *why);
/* handoff_update without a sealing key: for steps that carry no reason. */
int handoff_set_status(MDB_txn *txn,
                       const store_t *st,
                       const char *self,
                       const char *id,
                       Refnet__HandoffStatus to,
                       const char *reason,
                       Refnet__Outcome outcome,
                       uint64_t now,
                       char *why);
/* Records milestone `m` (with contact mode `mode`, may be UNSPECIFIED) from this node's side
 * and queues it for the other party. Same returns as handoff_set_status. */
int handoff_milestone(MDB_txn *txn,
                      const store_t *st,
                      const char *self,
                      const char *id,
                      Refnet__Milestone m,
                      Refnet__ContactMode mode,
                      uint64_t now,
                      char *why);

/* Applies a handoff step delivered by the broker (`mail->from` is the acting agency, already
 * authenticated by the broker; `mail->handoff` is set). REQUESTED creates the receiver-side
 * record with the person packet; later steps are checked against the state machine for the
 * other party's side. Returns 0, or REFNET_EEXIST (a second REQUESTED), REFNET_ENOTFOUND
 * (unknown handoff), REFNET_EFORBIDDEN (the sender is not the other party),
 * REFNET_ETRANSITION, or a store error. The caller acknowledges the mail either way: the
 * broker has already enforced the rules, so a refusal here is logged, never retried. */
int handoff_apply_mail(MDB_txn *txn,
                       const store_t *st,
                       const char *self,
                       const Refnet__Mail *mail,
                       uint64_t now,
                       char *why);
/* What handoff_receive did with a sealed person packet. */
typedef enum {
    HANDOFF_PACKET_NONE = 0, /* the step carried no person packet */
    HANDOFF_PACKET_OPENED,   /* opened with the sender's verified key: the sender is proven */
    HANDOFF_PACKET_DROPPED,  /* could not be opened, or arrived unsealed: not kept (logged) */
} handoff_packet_t;

/* handoff_apply_mail for mail as the broker delivers it: a REQUESTED step's person packet is
 * first opened with this agency's secret key `seal_sk` and the sender's verified key
 * (peerkeys.h). A packet that is unsealed, does not open or is not a valid PersonPacket for
 * its categories is dropped with an error log, and the handoff is recorded without person
 * data. A packet that opened and was recorded also appends a data-received entry to the audit
 * log (actor "node") with the delivered message id `msg_id` (UID_MSGID_LEN bytes, may be
 * NULL). A later step's sealed_reason is opened the same way; one that does not open is
 * logged and the step is recorded without its reason. Sets *packet. Returns what
 * handoff_apply_mail returns. */
int handoff_receive(MDB_txn *txn,
                    const store_t *st,
                    const char *self,
                    const Refnet__Mail *mail,
                    const uint8_t *msg_id,
                    const uint8_t *seal_sk,
                    uint64_t now,
                    char *why,
                    handoff_packet_t *packet);
/* Records a delivery receipt: sets delivered_at on the sender-side record the first time. A
 * receipt without a delivery time means the broker gave up on the message (its TTL ran out):
 * that is recorded as an event by "network", and a request that never arrived gets the
 * outcome "expired". Returns 0 (also when the receipt names no handoff), REFNET_ENOTFOUND
 * or a store error. */
int handoff_apply_receipt(MDB_txn *txn, const store_t *st, const Refnet__Receipt *r, uint64_t now);
/* Records that the broker refused a step of handoff `id` for good (`detail` is its Result's
 * sentence, e.g. "too large" or a state-machine rule): an event by "network" whose reason says
 * so, so the refusal shows in the handoff's history and not only in the log. The local status
 * is left as it is. Returns 0, REFNET_ENOTFOUND or a store error. */
int
handoff_refused(MDB_txn *txn, const store_t *st, const char *id, const char *detail, uint64_t now);
/* Records that the broker stored the handoff's first message (stored_at, the first time).
 * Returns 0, REFNET_ENOTFOUND or a store error. */
int handoff_stored(MDB_txn *txn, const store_t *st, const char *id, uint64_t stored_at);

/* Reads handoff `id`. Returns 0 and *out, REFNET_ENOTFOUND, REFNET_EDECODE or a store error. */
int handoff_get(MDB_txn *txn, const store_t *st, const char *id, pbuf_t **out);
/* Calls `visit` with every handoff (record borrowed for the call) in id order; `visit`
 * returns 0 to go on or a negative code to stop with it. */
int handoff_each(MDB_txn *txn,
                 const store_t *st,
                 int (*visit)(void *ctx, const Refnet__HandoffRecord *h),
                 void *ctx);

#endif
