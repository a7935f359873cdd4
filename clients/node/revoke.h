/* revoke: consent revocation that reaches every agency that received data under the consent.
 *
 * 42 CFR Part 2 and HIPAA let a person revoke a consent at any time. Locally that is
 * consent_revoke() (consent.h): no new disclosure may rely on it. This module carries it to
 * the agencies that already received data:
 *
 *   sender    revoke_propagate(): in the revoking transaction, one Mail{revocation} per
 *             recipient through the outbox, naming the handoffs whose person packet was sent to
 *             it under that consent; a RevocationNotice per mail on the consent record
 *             (consent show: pending / acknowledged), and a revocation-sent audit entry per
 *             handoff.
 *   receiver  revoke_apply(): marks the person data of those handoffs restricted
 *             (HandoffRecord.restricted_at_ms), appends a data-restricted audit entry per
 *             handoff and answers Mail{revocation_ack} through the outbox. Restricted data is
 *             kept for the record but never shown (lists and handoff show give a redacted stub)
 *             and never sent onward (revoke_check_onward). The handoff itself, its status,
 *             events and ids, stays as it was.
 *   sender    revoke_apply_ack(): marks the notice acknowledged and appends a
 *             revocation-acknowledged audit entry per handoff.
 *
 * The broker routes both mails only between the two parties of every listed handoff.
 * Functions work inside a transaction owned by the caller, which commits or aborts the change
 * and its audit entries together. Single-threaded. */
#ifndef REFNET_REVOKE_H
#define REFNET_REVOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.pb-c.h"
#include "store.h"
#include "uid.h"

/* What lists and handoff show give instead of a restricted person's name. */
#define REVOKE_REDACTED_NAME "[restricted]"

/* Sender side: consent `consent_id` was revoked at `now` in this transaction. Queues the
 * revocations as above; `actor` is the acting user for the audit log. *recipients (may be
 * NULL) receives the number of agencies told (0 when no data was sent under the consent);
 * an agency named in more than WIRE_MAX_REVOKED_HANDOFFS handoffs gets several mails.
 * Returns 0, REFNET_ENOTFOUND (no such consent), REFNET_EQUEUEFULL (the outbox is full: the
 * caller aborts, the revocation is not recorded) or a store error. */
int revoke_propagate(MDB_txn *txn,
                     const store_t *st,
                     const char *consent_id,
                     uint64_t now,
                     const char *actor,
                     size_t *recipients);

/* Receiver side: applies Mail{revocation} delivered from `mail->from` with message id
 * `msg_id` (UID_MSGID_LEN bytes). Only handoffs this agency received from that sender under
 * that consent are restricted; other ids are logged and left out of the acknowledgement. Sets
 * *restricted (may be NULL) to the number of handoffs acknowledged. Returns 0 (also when
 * nothing matched: nothing is acknowledged then), REFNET_EINVAL (not a revocation),
 * REFNET_EQUEUEFULL or a store error. */
int revoke_apply(MDB_txn *txn,
                 const store_t *st,
                 const Refnet__Mail *mail,
                 const uint8_t *msg_id,
                 uint64_t now,
                 size_t *restricted);

/* Sender side: applies Mail{revocation_ack} from `mail->from`. Returns 0, REFNET_EINVAL (not
 * an acknowledgement), REFNET_ENOTFOUND (no such consent, or no revocation sent to that agency
 * for those handoffs: logged by the caller, nothing written) or a store error. */
int revoke_apply_ack(
    MDB_txn *txn, const store_t *st, const Refnet__Mail *mail, const uint8_t *msg_id, uint64_t now);

/* True when received handoff `h` has its person data restricted. */
bool revoke_is_restricted(const Refnet__HandoffRecord *h);

/* The onward rule: person `p` may be disclosed unless it was taken from a received handoff
 * (PersonRecord.from_handoff) whose data is now restricted. Returns 0, REFNET_EFORBIDDEN with
 * one sentence in `why` (HANDOFF_WHY_LEN bytes, may be NULL), or a store error. */
int revoke_check_onward(MDB_txn *txn, const store_t *st, const Refnet__PersonRecord *p, char *why);

#endif
