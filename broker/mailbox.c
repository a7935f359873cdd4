/* mailbox: durable mail queues, msg-id index, receipts and expiry (see mailbox.h). */
#include "mailbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_limits.h"
#include "bstore.h"
#include "clock.h"
#include "fields.h"
#include "log.h"
#include "pairhold.h"
#include "pbscan.h"
#include "records.pb-c.h"
#include "refnet_error.h"
#include "wire.h"
#include "xmalloc.h"

/* A QueuedMail is one Envelope plus a few short fields. */
#define MAILBOX_MAX_RECORD (WIRE_MAX_FRAME + 1024)
/* Queue key: agency id, NUL, u64 BE seq. */
#define MAILBOX_QKEY_MAX (WIRE_MAX_IDENT + 1 + 8)
/* msgids value: state byte, u64 BE time, queue key. */
#define MAILBOX_REC_HEAD 9
/* expiry key: u64 BE time, msg_id. */
#define MAILBOX_EKEY_LEN (8 + UID_MSGID_LEN)

struct mailbox {
    store_t *store; /* borrowed */
    mailbox_config_t cfg;
    pairhold_t *holds; /* pairs kept in order while their recipient is full */
    uid_pool_t ids;    /* randomness of the broker-made msg_ids */
};

/* One msgids entry, decoded. */
typedef struct {
    mailbox_state_t state;
    uint64_t when; /* time of its expiry entry */
    uint8_t qkey[MAILBOX_QKEY_MAX];
    size_t qkey_len;
} mailbox_rec_t;

mailbox_t *
mailbox_new(store_t *store, const mailbox_config_t *cfg)
{
    mailbox_t *self = xcalloc(1, sizeof *self);
    self->store = store;
    self->cfg = *cfg;
    self->holds = pairhold_new(BROKER_HOLD_IDLE_MS);
    uid_pool_init(&self->ids);
    return self;
}

void
mailbox_destroy(mailbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pairhold_destroy(&(*self_p)->holds);
    free(*self_p);
    *self_p = NULL;
}

static MDB_dbi
mailbox_db(const mailbox_t *self, bstore_db_t db)
{
    return bstore_db(self->store, db);
}

/* ---- keys and small records --------------------------------------------------------------- */

static size_t
mailbox_qkey(uint8_t out[MAILBOX_QKEY_MAX], const char *agency, uint64_t seq)
{
    size_t n = strnlen(agency, WIRE_MAX_IDENT);
    memcpy(out, agency, n);
    out[n] = '\0';
    store_u64_key(out + n + 1, seq);
    return n + 1 + 8;
}

/* Splits a queue key into its agency (copied) and seq. Returns false for a malformed key. */
static bool
mailbox_qkey_split(const uint8_t *key, size_t len, char agency[WIRE_MAX_IDENT + 1], uint64_t *seq)
{
    if (len < 10 || len > MAILBOX_QKEY_MAX || key[len - 9] != '\0')
        return false;
    memcpy(agency, key, len - 9);
    agency[len - 9] = '\0';
    *seq = store_key_u64(key + len - 8);
    return true;
}

static int
mailbox_qstate_get(
    mailbox_t *self, MDB_txn *txn, const char *agency, uint64_t *next, uint64_t *depth)
{
    MDB_val val;
    int rc = store_get(txn, mailbox_db(self, BSTORE_QSTATE), agency, strlen(agency), &val);
    *next = 1;
    *depth = 0;
    if (rc == REFNET_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (val.mv_size != 16)
        return REFNET_EDECODE;
    *next = store_key_u64(val.mv_data);
    *depth = store_key_u64((const uint8_t *)val.mv_data + 8);
    return 0;
}

static int
mailbox_qstate_put(mailbox_t *self, MDB_txn *txn, const char *agency, uint64_t next, uint64_t depth)
{
    uint8_t v[16];
    store_u64_key(v, next);
    store_u64_key(v + 8, depth);
    return store_put(txn, mailbox_db(self, BSTORE_QSTATE), agency, strlen(agency), v, sizeof v, 0);
}

static int
mailbox_rec_get(mailbox_t *self, MDB_txn *txn, const uint8_t *msg_id, mailbox_rec_t *out)
{
    MDB_val val;
    int rc = store_get(txn, mailbox_db(self, BSTORE_MSGIDS), msg_id, UID_MSGID_LEN, &val);
    if (rc)
        return rc;
    const uint8_t *v = val.mv_data;
    if (val.mv_size < MAILBOX_REC_HEAD || val.mv_size > MAILBOX_REC_HEAD + MAILBOX_QKEY_MAX)
        return REFNET_EDECODE;
    out->state = (mailbox_state_t)v[0];
    out->when = store_key_u64(v + 1);
    out->qkey_len = val.mv_size - MAILBOX_REC_HEAD;
    memcpy(out->qkey, v + MAILBOX_REC_HEAD, out->qkey_len);
    return 0;
}

static int
mailbox_rec_put(mailbox_t *self, MDB_txn *txn, const uint8_t *msg_id, const mailbox_rec_t *rec)
{
    uint8_t v[MAILBOX_REC_HEAD + MAILBOX_QKEY_MAX];
    v[0] = (uint8_t)rec->state;
    store_u64_key(v + 1, rec->when);
    memcpy(v + MAILBOX_REC_HEAD, rec->qkey, rec->qkey_len);
    return store_put(txn, mailbox_db(self, BSTORE_MSGIDS), msg_id, UID_MSGID_LEN, v,
                     MAILBOX_REC_HEAD + rec->qkey_len, 0);
}

static void
mailbox_ekey(uint8_t out[MAILBOX_EKEY_LEN], uint64_t when, const uint8_t *msg_id)
{
    store_u64_key(out, when);
    memcpy(out + 8, msg_id, UID_MSGID_LEN);
}

static int
mailbox_expiry_put(mailbox_t *self, MDB_txn *txn, uint64_t when, const uint8_t *msg_id)
{
    uint8_t k[MAILBOX_EKEY_LEN];
    mailbox_ekey(k, when, msg_id);
    return store_put(txn, mailbox_db(self, BSTORE_EXPIRY), k, sizeof k, "e", 1, 0);
}

static int
mailbox_expiry_del(mailbox_t *self, MDB_txn *txn, uint64_t when, const uint8_t *msg_id)
{
    uint8_t k[MAILBOX_EKEY_LEN];
    mailbox_ekey(k, when, msg_id);
    int rc = store_del(txn, mailbox_db(self, BSTORE_EXPIRY), k, sizeof k);
    return rc == REFNET_ENOTFOUND ? 0 : rc;
}

/* ---- queueing ----------------------------------------------------------------------------- */

int
mailbox_state(mailbox_t *self, MDB_txn *txn, const uint8_t *msg_id, mailbox_state_t *out)
{
    mailbox_rec_t rec;
    int rc = mailbox_rec_get(self, txn, msg_id, &rec);
    *out = rc == 0 ? rec.state : MAILBOX_UNKNOWN;
    return rc == REFNET_ENOTFOUND ? 0 : rc;
}

int
mailbox_room(mailbox_t *self, MDB_txn *txn, const char *to)
{
    uint64_t next, depth;
    int rc = mailbox_qstate_get(self, txn, to, &next, &depth);
    if (!rc && depth >= self->cfg.max_queue)
        rc = REFNET_EQUEUEFULL;
    return rc;
}

int
mailbox_admit(mailbox_t *self,
              MDB_txn *txn,
              const char *sender,
              const char *to,
              const uint8_t *msg_id,
              uint64_t now_ms)
{
    int rc = mailbox_room(self, txn, to);
    if (rc == 0 && !pairhold_may_pass(self->holds, sender, to, msg_id, now_ms))
        rc = REFNET_EQUEUEFULL;
    if (rc == REFNET_EQUEUEFULL)
        pairhold_refused(self->holds, sender, to, msg_id, now_ms);
    else if (rc == 0)
        /* Its turn has come: it leaves the list now, so that a refusal for another reason
         * (a state-machine rule) cannot hold the pair until the hold lapses. */
        pairhold_stored(self->holds, sender, to, msg_id);
    return rc;
}

void
mailbox_unstored(
    mailbox_t *self, const char *sender, const char *to, const uint8_t *msg_id, uint64_t now_ms)
{
    pairhold_unstored(self->holds, sender, to, msg_id, now_ms);
}

static int
mailbox_put_item(mailbox_t *self,
                 MDB_txn *txn,
                 const mailbox_item_t *item,
                 uint64_t now_ms,
                 const uint8_t *qkey,
                 size_t qkey_len)
{
    Refnet__QueuedMail qm = REFNET__QUEUED_MAIL__INIT;
    uint64_t ttl = item->ttl_ms ? item->ttl_ms : self->cfg.default_ttl_ms;
    if (self->cfg.max_ttl_ms && ttl > self->cfg.max_ttl_ms)
        ttl = self->cfg.max_ttl_ms;
    mailbox_rec_t rec = { .state = MAILBOX_QUEUED, .when = now_ms + ttl, .qkey_len = qkey_len };
    memcpy(rec.qkey, qkey, qkey_len);
    qm.envelope.data = (uint8_t *)item->frame;
    qm.envelope.len = item->len;
    qm.sender = (char *)item->sender;
    qm.stored_at_ms = now_ms;
    qm.expires_at_ms = rec.when;
    qm.handoff_id = (char *)(item->handoff_id ? item->handoff_id : "");
    int rc = store_put_msg(txn, mailbox_db(self, BSTORE_QUEUE), qkey, qkey_len, &qm.base);
    if (!rc)
        rc = mailbox_rec_put(self, txn, item->msg_id, &rec);
    if (!rc)
        rc = mailbox_expiry_put(self, txn, rec.when, item->msg_id);
    return rc;
}

int
mailbox_enqueue(
    mailbox_t *self, MDB_txn *txn, const mailbox_item_t *item, uint64_t now_ms, uint64_t *qseq)
{
    uint8_t qkey[MAILBOX_QKEY_MAX];
    uint64_t next, depth;
    mailbox_state_t state;
    if (item->len > WIRE_MAX_FRAME || item->ttl_ms > WIRE_MAX_TTL_MS)
        return REFNET_EINVAL;
    int rc = mailbox_state(self, txn, item->msg_id, &state);
    if (!rc && state != MAILBOX_UNKNOWN)
        rc = REFNET_EEXIST;
    if (!rc)
        rc = mailbox_qstate_get(self, txn, item->to, &next, &depth);
    if (!rc && depth >= self->cfg.max_queue && !item->over_limit_ok)
        rc = REFNET_EQUEUEFULL;
    if (rc)
        return rc;
    size_t qlen = mailbox_qkey(qkey, item->to, next);
    rc = mailbox_put_item(self, txn, item, now_ms, qkey, qlen);
    if (!rc)
        rc = mailbox_qstate_put(self, txn, item->to, next + 1, depth + 1);
    if (!rc)
        *qseq = next;
    if (!rc && item->sender[0])
        pairhold_stored(self->holds, item->sender, item->to, item->msg_id);
    return rc;
}

/* ---- receipts and finishing --------------------------------------------------------------- */

/* Queues `mail` (its `to` set) as broker-made mail under a new time-ordered msg_id. */
static int
mailbox_broker_mail(
    mailbox_t *self, MDB_txn *txn, Refnet__Mail *mail, const char *handoff_id, uint64_t now_ms)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    uint8_t id[UID_MSGID_LEN], *frame = NULL;
    size_t len = 0;
    uint64_t qseq;
    /* As wire_stamp(), with a time-ordered id from the pool (no system call per receipt). */
    uid_msgid_ordered(&self->ids, id);
    env.version = WIRE_VERSION;
    env.msg_id.data = id;
    env.msg_id.len = UID_MSGID_LEN;
    env.sent_at_ms = clock_now_ms();
    mail->stored_at_ms = now_ms;
    env.body_case = REFNET__ENVELOPE__BODY_MAIL;
    env.mail = mail;
    int rc = wire_encode(&env, &frame, &len);
    if (rc)
        return rc;
    mailbox_item_t item = { .to = mail->to,
                            .sender = "",
                            .msg_id = id,
                            .frame = frame,
                            .len = len,
                            .handoff_id = handoff_id,
                            .over_limit_ok = true };
    rc = mailbox_enqueue(self, txn, &item, now_ms, &qseq);
    free(frame);
    return rc;
}

/* Queues a broker-made Mail{receipt} for `qm`'s sender about message `msg_id`;
 * delivered_at_ms 0 means it expired undelivered. */
static int
mailbox_receipt(mailbox_t *self,
                MDB_txn *txn,
                const Refnet__QueuedMail *qm,
                const uint8_t *msg_id,
                const char *recipient,
                uint64_t delivered_at,
                uint64_t now_ms)
{
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__Receipt receipt = REFNET__RECEIPT__INIT;
    receipt.msg_id.data = (uint8_t *)msg_id;
    receipt.msg_id.len = UID_MSGID_LEN;
    receipt.recipient = (char *)recipient;
    receipt.delivered_at_ms = delivered_at;
    receipt.handoff_id = qm->handoff_id;
    mail.to = qm->sender;
    mail.content_case = REFNET__MAIL__CONTENT_RECEIPT;
    mail.receipt = &receipt;
    return mailbox_broker_mail(self, txn, &mail, qm->handoff_id, now_ms);
}

int
mailbox_receipts(mailbox_t *self,
                 MDB_txn *txn,
                 const char *sender,
                 const char *recipient,
                 const mailbox_receipt_t *items,
                 size_t n,
                 uint64_t now_ms)
{
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__Receipts batch = REFNET__RECEIPTS__INIT;
    if (n == 0 || n > WIRE_MAX_ACK_IDS)
        return REFNET_EINVAL;
    Refnet__Receipt *receipts = xcalloc(n, sizeof *receipts);
    Refnet__Receipt **ptrs = xcalloc(n, sizeof *ptrs);
    for (size_t i = 0; i < n; i++) {
        refnet__receipt__init(&receipts[i]);
        receipts[i].msg_id.data = (uint8_t *)items[i].msg_id;
        receipts[i].msg_id.len = UID_MSGID_LEN;
        receipts[i].recipient = (char *)recipient;
        receipts[i].delivered_at_ms = now_ms;
        receipts[i].handoff_id = (char *)items[i].handoff_id;
        ptrs[i] = &receipts[i];
    }
    batch.n_receipts = n;
    batch.receipts = ptrs;
    mail.to = (char *)sender;
    mail.content_case = REFNET__MAIL__CONTENT_RECEIPTS;
    mail.receipts = &batch;
    int rc = mailbox_broker_mail(self, txn, &mail, "", now_ms);
    free(ptrs);
    free(receipts);
    return rc;
}

/* Takes a queued message out of its queue and marks its msg_id `state` until the retention
 * time; with state MAILBOX_UNKNOWN, forgets the msg_id at once. */
static int
mailbox_finish(mailbox_t *self,
               MDB_txn *txn,
               const uint8_t *msg_id,
               mailbox_rec_t *rec,
               mailbox_state_t state,
               uint64_t now_ms)
{
    char agency[WIRE_MAX_IDENT + 1];
    uint64_t seq, next, depth;
    if (!mailbox_qkey_split(rec->qkey, rec->qkey_len, agency, &seq))
        return REFNET_EDECODE;
    int rc = store_del(txn, mailbox_db(self, BSTORE_QUEUE), rec->qkey, rec->qkey_len);
    if (!rc)
        rc = mailbox_qstate_get(self, txn, agency, &next, &depth);
    if (!rc)
        rc = mailbox_qstate_put(self, txn, agency, next, depth ? depth - 1 : 0);
    if (!rc)
        rc = mailbox_expiry_del(self, txn, rec->when, msg_id);
    if (state == MAILBOX_UNKNOWN)
        return rc ? rc : store_del(txn, mailbox_db(self, BSTORE_MSGIDS), msg_id, UID_MSGID_LEN);
    rec->state = state;
    rec->when = now_ms + self->cfg.done_retention_ms;
    if (!rc)
        rc = mailbox_rec_put(self, txn, msg_id, rec);
    if (!rc)
        rc = mailbox_expiry_put(self, txn, rec->when, msg_id);
    return rc;
}

static int
mailbox_load(mailbox_t *self, MDB_txn *txn, const mailbox_rec_t *rec, pbuf_t **out)
{
    return store_get_msg(txn, mailbox_db(self, BSTORE_QUEUE), rec->qkey, rec->qkey_len,
                         &refnet__queued_mail__descriptor, out);
}

static bool
mailbox_owned_by(const mailbox_rec_t *rec, const char *agency)
{
    size_t n = strlen(agency);
    return rec->qkey_len == n + 9 && memcmp(rec->qkey, agency, n) == 0 && rec->qkey[n] == '\0';
}

int
mailbox_ack(mailbox_t *self,
            MDB_txn *txn,
            const char *acker,
            const uint8_t *msg_id,
            uint64_t now_ms,
            mailbox_ack_t *out)
{
    mailbox_rec_t rec;
    MDB_val val;
    char agency[WIRE_MAX_IDENT + 1];
    out->receipt_to[0] = '\0';
    out->handoff_id[0] = '\0';
    int rc = mailbox_rec_get(self, txn, msg_id, &rec);
    if (rc)
        return rc;
    if (rec.state != MAILBOX_QUEUED || !mailbox_owned_by(&rec, acker))
        return REFNET_ENOTFOUND;
    if (!mailbox_qkey_split(rec.qkey, rec.qkey_len, agency, &out->qseq))
        return REFNET_EDECODE;
    /* Only the sender and the handoff id are needed, not the envelope: read, not decoded. */
    rc = store_get(txn, mailbox_db(self, BSTORE_QUEUE), rec.qkey, rec.qkey_len, &val);
    if (!rc)
        rc = pbscan_string(val.mv_data, val.mv_size, FIELDS_QUEUED_MAIL_SENDER, out->receipt_to,
                           sizeof out->receipt_to);
    if (!rc)
        rc = pbscan_string(val.mv_data, val.mv_size, FIELDS_QUEUED_MAIL_HANDOFF_ID, out->handoff_id,
                           sizeof out->handoff_id);
    if (rc == REFNET_ETOOLARGE)
        rc = REFNET_EDECODE;
    /* Broker-made mail (a receipt) has no sender: nobody can resend it, nothing is owed. */
    if (!rc)
        rc = mailbox_finish(self, txn, msg_id, &rec,
                            out->receipt_to[0] ? MAILBOX_DONE : MAILBOX_UNKNOWN, now_ms);
    if (rc) {
        out->receipt_to[0] = '\0';
        out->handoff_id[0] = '\0';
    }
    return rc;
}

/* ---- delivery ----------------------------------------------------------------------------- */

static int
mailbox_scan_one(const MDB_val *val,
                 uint64_t seq,
                 uint64_t now_ms,
                 mailbox_deliver_fn *fn,
                 void *arg,
                 bool *more)
{
    pbuf_t *pb = NULL;
    int rc = pbuf_unpack(&pb, &refnet__queued_mail__descriptor, val->mv_data, val->mv_size,
                         MAILBOX_MAX_RECORD);
    if (rc) {
        /* A corrupt record must not block the queue behind it; it stays for an operator. */
        log_error("mailbox: skipping an unreadable queued message (seq %llu)",
                  (unsigned long long)seq);
        return 0;
    }
    const Refnet__QueuedMail *qm = (const Refnet__QueuedMail *)pbuf_msg(pb);
    if (qm->expires_at_ms > now_ms)
        *more = fn(arg, seq, qm->envelope.data, qm->envelope.len);
    pbuf_destroy(&pb);
    return 0;
}

int
mailbox_scan(mailbox_t *self,
             MDB_txn *txn,
             const char *agency,
             uint64_t after,
             uint64_t now_ms,
             mailbox_deliver_fn *fn,
             void *arg)
{
    MDB_cursor *cur = NULL;
    uint8_t k[MAILBOX_QKEY_MAX];
    char who[WIRE_MAX_IDENT + 1];
    uint64_t seq;
    bool more = true;
    MDB_val key = { mailbox_qkey(k, agency, after + 1), k }, val;
    int rc = store_err(mdb_cursor_open(txn, mailbox_db(self, BSTORE_QUEUE), &cur));
    if (rc)
        return rc;
    int mrc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    while (mrc == 0 && more && !rc) {
        if (!mailbox_qkey_split(key.mv_data, key.mv_size, who, &seq) || strcmp(who, agency) != 0)
            break;
        rc = mailbox_scan_one(&val, seq, now_ms, fn, arg, &more);
        mrc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (!rc && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = store_err(mrc);
    return rc;
}

int
mailbox_depth(mailbox_t *self, MDB_txn *txn, const char *agency, uint64_t *out)
{
    uint64_t next;
    return mailbox_qstate_get(self, txn, agency, &next, out);
}

/* ---- expiry ------------------------------------------------------------------------------- */

static int
mailbox_expire_one(mailbox_t *self,
                   MDB_txn *txn,
                   const uint8_t *msg_id,
                   mailbox_rec_t *rec,
                   uint64_t now_ms,
                   char receipt_to[WIRE_MAX_IDENT + 1])
{
    pbuf_t *pb = NULL;
    char recipient[WIRE_MAX_IDENT + 1];
    uint64_t seq;
    receipt_to[0] = '\0';
    if (!mailbox_qkey_split(rec->qkey, rec->qkey_len, recipient, &seq))
        return REFNET_EDECODE;
    int rc = mailbox_load(self, txn, rec, &pb);
    if (rc)
        return rc;
    const Refnet__QueuedMail *qm = (const Refnet__QueuedMail *)pbuf_msg(pb);
    rc = store_put_msg(txn, mailbox_db(self, BSTORE_DEAD), msg_id, UID_MSGID_LEN, &qm->base);
    if (!rc)
        rc = mailbox_finish(self, txn, msg_id, rec, MAILBOX_DEAD, now_ms);
    if (!rc && qm->sender[0]) {
        rc = mailbox_receipt(self, txn, qm, msg_id, recipient, 0, now_ms);
        if (!rc)
            snprintf(receipt_to, WIRE_MAX_IDENT + 1, "%s", qm->sender);
    }
    pbuf_destroy(&pb);
    return rc;
}

/* The retention of a finished msg_id ended: it is forgotten, and a dead letter with it, so the
 * dead-letter list keeps each expired message for the same retention and no longer. */
static int
mailbox_forget(mailbox_t *self, MDB_txn *txn, const uint8_t *msg_id, mailbox_state_t state)
{
    int rc = store_del(txn, mailbox_db(self, BSTORE_MSGIDS), msg_id, UID_MSGID_LEN);
    if (rc == 0 && state == MAILBOX_DEAD) {
        rc = store_del(txn, mailbox_db(self, BSTORE_DEAD), msg_id, UID_MSGID_LEN);
        if (rc == REFNET_ENOTFOUND)
            rc = 0;
    }
    return rc;
}

/* Handles one due expiry entry (already removed from the index). */
static int
mailbox_due(mailbox_t *self,
            MDB_txn *txn,
            const uint8_t *ekey,
            uint64_t now_ms,
            mailbox_expired_fn *fn,
            void *arg,
            size_t *expired)
{
    mailbox_rec_t rec;
    char receipt_to[WIRE_MAX_IDENT + 1];
    const uint8_t *msg_id = ekey + 8;
    int rc = mailbox_rec_get(self, txn, msg_id, &rec);
    if (rc == REFNET_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (rec.when != store_key_u64(ekey))
        return 0; /* a stale entry; the message has a newer one */
    if (rec.state != MAILBOX_QUEUED)
        return mailbox_forget(self, txn, msg_id, rec.state);
    rc = mailbox_expire_one(self, txn, msg_id, &rec, now_ms, receipt_to);
    if (!rc) {
        (*expired)++;
        if (fn)
            fn(arg, receipt_to);
    }
    return rc;
}

/* Copies up to `max` due expiry keys, so the index can be changed while they are handled. */
static int
mailbox_due_keys(
    mailbox_t *self, MDB_txn *txn, uint64_t now_ms, size_t max, uint8_t *keys, size_t *n)
{
    MDB_cursor *cur = NULL;
    MDB_val key, val;
    *n = 0;
    int rc = store_err(mdb_cursor_open(txn, mailbox_db(self, BSTORE_EXPIRY), &cur));
    if (rc)
        return rc;
    int mrc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    while (mrc == 0 && *n < max) {
        if (key.mv_size == MAILBOX_EKEY_LEN) {
            if (store_key_u64(key.mv_data) > now_ms)
                break;
            memcpy(keys + *n * MAILBOX_EKEY_LEN, key.mv_data, MAILBOX_EKEY_LEN);
            (*n)++;
        }
        mrc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return mrc == 0 || mrc == MDB_NOTFOUND ? 0 : store_err(mrc);
}

int
mailbox_sweep(mailbox_t *self,
              MDB_txn *txn,
              uint64_t now_ms,
              size_t max,
              mailbox_expired_fn *fn,
              void *arg,
              size_t *expired)
{
    size_t n = 0;
    *expired = 0;
    if (max == 0)
        return 0;
    uint8_t *keys = xmalloc(max * MAILBOX_EKEY_LEN);
    int rc = mailbox_due_keys(self, txn, now_ms, max, keys, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        const uint8_t *k = keys + i * MAILBOX_EKEY_LEN;
        rc = store_del(txn, mailbox_db(self, BSTORE_EXPIRY), k, MAILBOX_EKEY_LEN);
        if (!rc)
            rc = mailbox_due(self, txn, k, now_ms, fn, arg, expired);
    }
    free(keys);
    return rc;
}

/* ---- dead letters ------------------------------------------------------------------------- */

int
mailbox_dead_scan(mailbox_t *self, MDB_txn *txn, size_t max, mailbox_dead_fn *fn, void *arg)
{
    MDB_cursor *cur = NULL;
    MDB_val key, val;
    int rc = store_err(mdb_cursor_open(txn, mailbox_db(self, BSTORE_DEAD), &cur));
    if (rc)
        return rc;
    int mrc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    for (size_t n = 0; mrc == 0 && n < max; mrc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        pbuf_t *pb = NULL;
        if (key.mv_size != UID_MSGID_LEN)
            continue;
        /* A damaged record is skipped, not fatal: the list is a report. */
        if (pbuf_unpack(&pb, &refnet__queued_mail__descriptor, val.mv_data, val.mv_size,
                        MAILBOX_MAX_RECORD) != 0)
            continue;
        fn(arg, key.mv_data, (const Refnet__QueuedMail *)pbuf_msg(pb));
        pbuf_destroy(&pb);
        n++;
    }
    mdb_cursor_close(cur);
    return mrc == 0 || mrc == MDB_NOTFOUND ? 0 : store_err(mrc);
}
