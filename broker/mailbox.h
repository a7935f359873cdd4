/* mailbox: the broker's durable per-agency mail queues (store, deliver, acknowledge).
 *
 * Databases (all written inside the caller's transaction; see bstore.h):
 *   queue   recipient id, NUL, u64 BE seq -> QueuedMail. One FIFO per recipient; the
 *           QueuedMail holds the Envelope exactly as it will be delivered (mail.from and
 *           stored_at_ms already stamped), so a delivery is a plain send.
 *   qstate  recipient id -> 16 bytes: next seq (u64 BE) and depth (u64 BE).
 *   msgids  msg_id -> state byte ('q' queued, 'd' done, 'x' expired), u64 BE time of its
 *           expiry entry, and the queue key while queued. A msg_id seen before is answered
 *           STORED again without re-queueing (the sender's STORED answer may have been lost).
 *   expiry  u64 BE time, msg_id -> 1 byte. While a message is queued its entry is its
 *           expiry time; once done or dead, the time its msg_id is forgotten.
 *   dead    msg_id -> QueuedMail of a message whose TTL ran out before an ack. It is kept as
 *           long as a finished msg_id (done_retention_ms), then pruned with it.
 *
 * On ack the message leaves its queue and its msg_id becomes done; the caller then queues one
 * broker-made Mail{receipts} per original sender for all the messages one Ack settled
 * (mailbox_receipts; broker-made mail has no sender and gets no receipt). The msg_id of a
 * broker-made mail is forgotten at once on ack instead of being kept as done: no node can
 * resend it, so a done entry would only cost a write now and a delete in a month. When a
 * message expires, it moves to "dead" and its sender is sent a Mail{receipt} with
 * delivered_at_ms = 0, meaning "expired undelivered". Broker-made msg_ids are time-ordered
 * (uid_msgid_ordered), so their index entries land at its end.
 *
 * mailbox_t holds only configuration; every function works in the caller's transaction and
 * the caller aborts it (or its child) on a non-zero return. One thread. */
#ifndef REFNET_MAILBOX_H
#define REFNET_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbuf.h"
#include "records.pb-c.h"
#include "store.h"
#include "uid.h"
#include "wire.h"

typedef struct mailbox mailbox_t;

typedef struct {
    uint64_t max_queue;         /* messages per recipient (BROKER_MAX_QUEUE) */
    uint64_t default_ttl_ms;    /* when the sender gives none (BROKER_DEFAULT_TTL_MS) */
    uint64_t done_retention_ms; /* how long finished msg_ids are remembered */
    uint64_t max_ttl_ms;        /* 0, or a cap on every message's time to live */
} mailbox_config_t;

typedef enum {
    MAILBOX_UNKNOWN = 0,
    MAILBOX_QUEUED = 'q',
    MAILBOX_DONE = 'd',
    MAILBOX_DEAD = 'x',
} mailbox_state_t;

/* One message to queue. `frame` is the complete Envelope to deliver. */
typedef struct {
    const char *to;        /* recipient agency */
    const char *sender;    /* agency to send the receipt to; "" for broker-made mail */
    const uint8_t *msg_id; /* UID_MSGID_LEN bytes */
    const uint8_t *frame;
    size_t len;
    uint64_t ttl_ms;        /* 0: the default */
    const char *handoff_id; /* "" if none */
    bool over_limit_ok;     /* receipts: never refused for a full queue */
} mailbox_item_t;

/* What an ack did. */
typedef struct {
    uint64_t qseq;                       /* queue seq of the acknowledged message */
    char receipt_to[WIRE_MAX_IDENT + 1]; /* its sender, owed a receipt; "" for broker-made mail */
    char handoff_id[WIRE_MAX_IDENT + 1]; /* the handoff it belonged to, "" if none */
} mailbox_ack_t;

/* One message of a Mail{receipts}. */
typedef struct {
    uint8_t msg_id[UID_MSGID_LEN];
    char handoff_id[WIRE_MAX_IDENT + 1];
} mailbox_receipt_t;

/* Called by mailbox_sweep for each expired message, with the agency a receipt was queued
 * for ("" when none). */
typedef void(mailbox_expired_fn)(void *arg, const char *receipt_to);
/* Called by mailbox_scan for each deliverable message; return false to stop. `frame` is valid
 * during the call only. */
typedef bool(mailbox_deliver_fn)(void *arg, uint64_t qseq, const uint8_t *frame, size_t len);

mailbox_t *mailbox_new(store_t *store, const mailbox_config_t *cfg);
void mailbox_destroy(mailbox_t **self_p);

/* Reads the state of `msg_id` (UID_MSGID_LEN bytes). Returns 0 or a store error. */
int mailbox_state(mailbox_t *self, MDB_txn *txn, const uint8_t *msg_id, mailbox_state_t *out);
/* Returns 0 when `to`'s mailbox has room, REFNET_EQUEUEFULL when not, or a store error. */
int mailbox_room(mailbox_t *self, MDB_txn *txn, const char *to);
/* mailbox_room for a message from `sender`, keeping each (sender, to) pair first-in-first-out
 * while `to` is full (pairhold.h): a message refused earlier must be stored before a later
 * one of the same pair. Returns 0, REFNET_EQUEUEFULL (the message is remembered as refused)
 * or a store error. */
int mailbox_admit(mailbox_t *self,
                  MDB_txn *txn,
                  const char *sender,
                  const char *to,
                  const uint8_t *msg_id,
                  uint64_t now_ms);
/* Queues `item` at the tail of its recipient's mailbox. Sets *qseq. Returns 0,
 * REFNET_EQUEUEFULL, REFNET_EEXIST (msg_id already known), REFNET_EINVAL or a store error. */
int mailbox_enqueue(
    mailbox_t *self, MDB_txn *txn, const mailbox_item_t *item, uint64_t now_ms, uint64_t *qseq);
/* Records that `acker` committed `msg_id`: removes it from acker's queue and says in *out
 * which sender is owed a receipt (queued by the caller with mailbox_receipts). Returns 0,
 * REFNET_ENOTFOUND when the id is unknown, already finished or not in acker's mailbox (nothing
 * changes then), or a store error. */
int mailbox_ack(mailbox_t *self,
                MDB_txn *txn,
                const char *acker,
                const uint8_t *msg_id,
                uint64_t now_ms,
                mailbox_ack_t *out);
/* Queues for `sender` one broker-made Mail{receipts} saying that `recipient` committed the
 * `n` messages of `items` (1 to WIRE_MAX_ACK_IDS) at `now_ms`. It is never refused for a full
 * mailbox. Returns 0, REFNET_EINVAL for a bad count, or a store error. */
int mailbox_receipts(mailbox_t *self,
                     MDB_txn *txn,
                     const char *sender,
                     const char *recipient,
                     const mailbox_receipt_t *items,
                     size_t n,
                     uint64_t now_ms);
/* Calls `fn` for each unexpired message of `agency` with a seq above `after`, in FIFO order,
 * until it returns false. Returns 0 or a store error. */
int mailbox_scan(mailbox_t *self,
                 MDB_txn *txn,
                 const char *agency,
                 uint64_t after,
                 uint64_t now_ms,
                 mailbox_deliver_fn *fn,
                 void *arg);
/* Reads the number of messages in `agency`'s mailbox. */
int mailbox_depth(mailbox_t *self, MDB_txn *txn, const char *agency, uint64_t *out);
/* Processes up to `max` expiry entries due at `now_ms`: expires queued messages (calling
 * `fn`, which may be NULL) and forgets old finished msg_ids. Sets *expired to the number of
 * messages expired. Returns 0 or a store error. */
int mailbox_sweep(mailbox_t *self,
                  MDB_txn *txn,
                  uint64_t now_ms,
                  size_t max,
                  mailbox_expired_fn *fn,
                  void *arg,
                  size_t *expired);

/* The commit that stored mail `msg_id` from `sender` to `to` failed (storage full): the
 * sender will retry it, so the pair is held with it first in line, like after a "queue full"
 * answer (pairhold.h). Call it for a failed batch's mails newest first. */
void mailbox_unstored(
    mailbox_t *self, const char *sender, const char *to, const uint8_t *msg_id, uint64_t now_ms);

/* Called by mailbox_dead_scan for each dead letter; both pointers are valid during the call
 * only. */
typedef void(mailbox_dead_fn)(void *arg, const uint8_t *msg_id, const Refnet__QueuedMail *qm);
/* Calls `fn` for up to `max` dead letters (messages that expired undelivered), in msg_id
 * order. Damaged records are skipped. Returns 0 or a store error. */
int mailbox_dead_scan(mailbox_t *self, MDB_txn *txn, size_t max, mailbox_dead_fn *fn, void *arg);

#endif
