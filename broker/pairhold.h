/* pairhold: keeps each (sender, recipient) pair first-in-first-out while the recipient's
 * mailbox is full.
 *
 * When a mailbox is full the broker answers "queue full" and the sender keeps the message to
 * retry. Without more care, order per pair could break: message k is refused, an ack frees a
 * place, and k+1 (already on its way) is stored before k comes back. So once a message of a
 * pair is refused for a full mailbox, the pair is held: the refused msg_ids are remembered in
 * the order they arrived (a node sends its outbox in key order), and only the oldest of them
 * may be stored next; anything else of that pair is refused "queue full" and joins the list.
 * The hold ends when its list is empty, or when no message of the list has come back for
 * `idle_ms` (the sender gave up or went away; a sender that restarts resends in key order).
 *
 * Memory only: a broker restart forgets every hold, which is safe because nodes resend their
 * whole outbox, in key order, after each Welcome. Bounded: at most PAIRHOLD_MAX_PAIRS pairs
 * and PAIRHOLD_MAX_IDS ids per pair (a node has at most NODE_OUTBOX_WINDOW items in flight);
 * past either bound nothing more is recorded, which can only cost order, never a message.
 * One thread (the broker loop). */
#ifndef REFNET_PAIRHOLD_H
#define REFNET_PAIRHOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uid.h"

/* Pairs held at once: one per sending agency and full recipient in practice. */
#define PAIRHOLD_MAX_PAIRS 4096
/* Refused ids remembered per pair: four node windows. */
#define PAIRHOLD_MAX_IDS 256

typedef struct pairhold pairhold_t;

/* Returns an empty table whose holds lapse after `idle_ms` without a retry. */
pairhold_t *pairhold_new(uint64_t idle_ms);
/* Frees it. Accepts NULL and *self_p == NULL; nulls *self_p. */
void pairhold_destroy(pairhold_t **self_p);

/* True when message `msg_id` (UID_MSGID_LEN bytes) from `sender` to `to` may be stored now:
 * the pair is not held, or the message is the oldest refused one of the pair. */
bool pairhold_may_pass(
    pairhold_t *self, const char *sender, const char *to, const uint8_t *msg_id, uint64_t now_ms);
/* Records that the message was refused "queue full": the pair is held (if it was not) and
 * the id is added at the end of its list (if not there already). */
void pairhold_refused(
    pairhold_t *self, const char *sender, const char *to, const uint8_t *msg_id, uint64_t now_ms);
/* Records that a message stored by a commit that then failed is not stored after all: it goes
 * to the FRONT of its pair's list (the pair is held if it was not), since it was the oldest of
 * its pair when it passed. For several mails of one failed commit, call it newest first. */
void pairhold_unstored(
    pairhold_t *self, const char *sender, const char *to, const uint8_t *msg_id, uint64_t now_ms);
/* Records that the message was stored: it leaves its pair's list, and an empty list ends the
 * hold. */
void pairhold_stored(pairhold_t *self, const char *sender, const char *to, const uint8_t *msg_id);
/* Number of pairs held (for tests and counters). */
size_t pairhold_count(const pairhold_t *self);

#endif
