/* inbound: applies a batch of broker frames inside one transaction (see inbound.h). */
#include "inbound.h"

#include <stdio.h>
#include <string.h>

#include "dirsync.h"
#include "handoff.h"
#include "log.h"
#include "outbox.h"
#include "peerkeys.h"
#include "refnet_error.h"
#include "replica.h"
#include "revoke.h"
#include "seen.h"
#include "wire.h"

typedef void (*inbound_fn)(inbound_batch_t *b, const Refnet__Envelope *env);

void
inbound_begin(inbound_batch_t *b,
              store_t *st,
              MDB_txn *txn,
              link_t *link,
              const char *self,
              inbound_stats_t *stats,
              uint64_t now,
              uint64_t now_mono)
{
    b->st = st;
    b->txn = txn;
    b->link = link;
    b->self = self;
    b->stats = stats;
    b->now = now;
    b->now_mono = now_mono;
    b->nacks = 0;
    b->nanswers = 0;
    b->need_sync = false;
    b->failed = 0;
}

/* Storage errors poison the transaction (LMDB requires an abort after them); every other
 * error is a refusal of one message. */
static bool
inbound_is_storage_error(int rc)
{
    return rc == REFNET_ESTORAGE || rc == REFNET_EFULL;
}

static void
inbound_fail(inbound_batch_t *b, int rc, const char *what)
{
    if (!b->failed)
        log_error("inbound: %s: %s", what, refnet_strerror(rc));
    b->failed = rc;
}

/* Pins the broker's signing key from the first Welcome that names one; a different key later
 * is refused (the keys it signs will not verify either). */
static void
inbound_pin_broker(inbound_batch_t *b, const Refnet__Welcome *w)
{
    uint8_t pinned[SEAL_KEY_LEN];
    if (w->broker_sign_key.len == 0)
        return;
    if (peerkeys_broker(b->txn, b->st, pinned) == REFNET_ENOTFOUND)
        log_warn("inbound: pinning the broker's signing key from its Welcome (trust on first "
                 "use); pass --broker-sign-key to refnet-node init to check it instead");
    int rc = peerkeys_pin_broker(b->txn, b->st, w->broker_sign_key.data, w->broker_sign_key.len);
    if (inbound_is_storage_error(rc)) {
        inbound_fail(b, rc, "pinning the broker's signing key");
    } else if (rc != 0) {
        b->stats->keys_refused++;
        log_error("inbound: the broker's signing key is not the one this node pinned; agency "
                  "keys it signs are refused");
    }
}

static void
inbound_agency_key(inbound_batch_t *b, const Refnet__Envelope *env)
{
    const Refnet__AgencyKey *k = env->agency_key;
    int rc = peerkeys_accept(b->txn, b->st, k);
    if (inbound_is_storage_error(rc)) {
        inbound_fail(b, rc, "storing an agency's sealing key");
        return;
    }
    if (rc != 0) {
        b->stats->keys_refused++;
        log_error("inbound: the sealing key of agency %s is refused: %s", k->agency_id,
                  rc == REFNET_ENOTFOUND ? "no broker signing key is pinned"
                                         : "the broker's signature does not verify");
        return;
    }
    b->stats->keys_accepted++;
    log_debug("inbound: sealing key of agency %s verified", k->agency_id);
}

static void
inbound_welcome(inbound_batch_t *b, const Refnet__Envelope *env)
{
    inbound_pin_broker(b, env->welcome);
    link_on_welcome(b->link, env->welcome, b->now_mono);
    b->need_sync = true; /* every session starts with a catch-up from our head */
}

static void
inbound_pong(inbound_batch_t *b, const Refnet__Envelope *env)
{
    uint64_t head = 0;
    int rc = replica_head(b->txn, b->st, &head);
    if (rc != 0) {
        inbound_fail(b, rc, "reading the directory head");
        return;
    }
    if (env->pong->dir_seq > head && !link_syncing(b->link))
        b->need_sync = true;
}

static void
inbound_update(inbound_batch_t *b, const Refnet__Envelope *env)
{
    replica_apply_t res = { 0 };
    int rc = replica_apply(b->txn, b->st, env->update, &res);
    if (inbound_is_storage_error(rc)) {
        inbound_fail(b, rc, "applying a directory update");
        return;
    }
    if (rc != 0) {
        log_warn("inbound: directory update %llu for %s refused: %s",
                 (unsigned long long)env->update->seq, env->update->service_id,
                 refnet_strerror(rc));
        return;
    }
    if (res.changed)
        b->stats->dir_updates++;
    if (res.gap && !link_syncing(b->link))
        b->need_sync = true;
}

static void
inbound_sync_done(inbound_batch_t *b, const Refnet__Envelope *env)
{
    int rc = replica_sync_done(b->txn, b->st, env->sync_done->seq);
    if (rc != 0) {
        inbound_fail(b, rc, "ending a directory catch-up");
        return;
    }
    link_sync_finished(b->link);
    log_debug("inbound: directory caught up to %llu", (unsigned long long)env->sync_done->seq);
}

static void
inbound_ack(inbound_batch_t *b, const ProtobufCBinaryData *id)
{
    if (b->nacks < NODE_BATCH && id->len == UID_MSGID_LEN)
        memcpy(b->acks[b->nacks++], id->data, UID_MSGID_LEN);
}

/* Applies a revocation (receiver side) or its acknowledgement (sender side). */
static int
inbound_apply_revocation(inbound_batch_t *b, const Refnet__Mail *mail, const uint8_t *msg_id)
{
    size_t restricted = 0;
    int rc;
    if (mail->content_case == REFNET__MAIL__CONTENT_REVOCATION) {
        rc = revoke_apply(b->txn, b->st, mail, msg_id, b->now, &restricted);
        if (rc == 0) {
            b->stats->revocations++;
            log_info("inbound: agency %s revoked consent %s: %zu handoff(s) restricted", mail->from,
                     mail->revocation->consent_id, restricted);
        }
    } else {
        rc = revoke_apply_ack(b->txn, b->st, mail, msg_id, b->now);
        if (rc == 0) {
            b->stats->revocation_acks++;
            log_info("inbound: agency %s acknowledged the revocation of consent %s", mail->from,
                     mail->revocation_ack->consent_id);
        }
    }
    if (rc == 0 || inbound_is_storage_error(rc))
        return rc;
    b->stats->mail_refused++;
    log_warn("inbound: a revocation message from %s refused: %s", mail->from, refnet_strerror(rc));
    return 0;
}

/* Records one delivery receipt on its handoff. Returns 0 or a storage error. */
static int
inbound_receipt(inbound_batch_t *b, const Refnet__Receipt *r)
{
    int rc = handoff_apply_receipt(b->txn, b->st, r, b->now);
    if (rc == 0)
        b->stats->receipts++;
    else if (!inbound_is_storage_error(rc))
        log_debug("inbound: receipt for unknown handoff %s", r->handoff_id);
    return inbound_is_storage_error(rc) ? rc : 0;
}

/* Applies the content of a mail not seen before. Refusals are logged; storage errors
 * returned. */
static int
inbound_apply_mail(inbound_batch_t *b, const Refnet__Mail *mail, const uint8_t *msg_id)
{
    char why[HANDOFF_WHY_LEN] = "";
    int rc;
    if (mail->content_case == REFNET__MAIL__CONTENT_REVOCATION ||
        mail->content_case == REFNET__MAIL__CONTENT_REVOCATION_ACK)
        return inbound_apply_revocation(b, mail, msg_id);
    if (mail->content_case == REFNET__MAIL__CONTENT_RECEIPT)
        return inbound_receipt(b, mail->receipt);
    if (mail->content_case == REFNET__MAIL__CONTENT_RECEIPTS) {
        /* The receipts of one Ack at the broker: each is applied as a Mail{receipt} is. */
        rc = 0;
        for (size_t i = 0; rc == 0 && i < mail->receipts->n_receipts; i++)
            rc = inbound_receipt(b, mail->receipts->receipts[i]);
        return rc;
    }
    handoff_packet_t packet = HANDOFF_PACKET_NONE;
    rc = handoff_receive(b->txn, b->st, b->self, mail, msg_id, b->seal_sk, b->now, why, &packet);
    if (packet == HANDOFF_PACKET_OPENED)
        b->stats->packets_opened++;
    else if (packet == HANDOFF_PACKET_DROPPED)
        b->stats->packets_dropped++;
    if (rc == 0) {
        b->stats->mail_applied++;
        return 0;
    }
    if (inbound_is_storage_error(rc))
        return rc;
    b->stats->mail_refused++;
    log_warn("inbound: handoff step from %s refused: %s", mail->from, why);
    return 0;
}

static void
inbound_mail(inbound_batch_t *b, const Refnet__Envelope *env)
{
    const ProtobufCBinaryData *id = &env->msg_id;
    int rc = seen_has(b->txn, b->st, id->data, id->len);
    if (rc < 0) {
        inbound_fail(b, rc, "checking a delivered message id");
        return;
    }
    if (rc == 1) {
        b->stats->mail_duplicate++;
        inbound_ack(b, id);
        return;
    }
    rc = inbound_apply_mail(b, env->mail, id->len == UID_MSGID_LEN ? id->data : NULL);
    if (rc == 0)
        rc = seen_add(b->txn, b->st, id->data, id->len, b->now);
    if (rc != 0) {
        inbound_fail(b, rc, "applying delivered mail");
        return;
    }
    inbound_ack(b, id);
}

/* "Keep it and try again later" answers. */
static bool
inbound_is_retry(Refnet__Status s)
{
    return s == REFNET__STATUS__STATUS_QUEUE_FULL || s == REFNET__STATUS__STATUS_STORAGE_FULL ||
           s == REFNET__STATUS__STATUS_INTERNAL;
}

/* Records the final answer to outbox item `key` and removes it. */
static int
inbound_settle(inbound_batch_t *b, const Refnet__Result *r, uint64_t key)
{
    pbuf_t *pb = NULL;
    int rc = outbox_get(b->txn, b->st, key, &pb);
    if (rc != 0)
        return rc == REFNET_EDECODE ? outbox_remove(b->txn, b->st, key) : rc;
    const Refnet__OutboxItem *item = (const Refnet__OutboxItem *)pbuf_msg(pb);
    if (item->handoff_id[0] && r->status == REFNET__STATUS__STATUS_OK)
        rc = handoff_stored(b->txn, b->st, item->handoff_id, b->now);
    else if (item->handoff_id[0])
        rc = handoff_refused(b->txn, b->st, item->handoff_id, r->detail, b->now);
    if (rc == 0 || rc == REFNET_ENOTFOUND)
        rc = outbox_remove(b->txn, b->st, key);
    if (rc == 0 && r->status != REFNET__STATUS__STATUS_OK) {
        b->stats->refused++;
        const char *detail = r->detail[0] ? r->detail : "no detail";
        if (item->handoff_id[0])
            log_warn("inbound: the broker refused a step of handoff %s: %s", item->handoff_id,
                     detail);
        else
            log_warn("inbound: the broker refused a directory change or revocation: %s", detail);
    } else if (rc == 0) {
        b->stats->stored++;
    }
    pbuf_destroy(&pb);
    return rc;
}

static void
inbound_answer(inbound_batch_t *b, const Refnet__Result *r)
{
    if (b->nanswers >= NODE_BATCH || r->ref.len != UID_MSGID_LEN)
        return;
    inbound_answer_t *a = &b->answers[b->nanswers++];
    memcpy(a->msg_id, r->ref.data, UID_MSGID_LEN);
    a->status = r->status;
    a->seq = r->seq;
    snprintf(a->detail, sizeof a->detail, "%s", r->detail);
}

static void
inbound_result(inbound_batch_t *b, const Refnet__Envelope *env)
{
    const Refnet__Result *r = env->result;
    uint64_t key = 0;
    if (inbound_is_retry(r->status)) {
        b->stats->retried++;
        link_retry_later(b->link, &r->ref, b->now_mono);
        log_info("inbound: the broker asks to retry later: %s", r->detail);
        return;
    }
    link_on_answer(b->link, &r->ref);
    int rc = outbox_find(b->txn, b->st, r->ref.data, r->ref.len, &key);
    if (rc == REFNET_ENOTFOUND) {
        /* An answer to a session frame, or a second answer to a resent item. */
        if (r->status != REFNET__STATUS__STATUS_OK)
            log_warn("inbound: the broker answered %d: %s", (int)r->status, r->detail);
        return;
    }
    if (rc == 0)
        rc = inbound_settle(b, r, key);
    if (rc != 0) {
        inbound_fail(b, rc, "settling an outbox item");
        return;
    }
    inbound_answer(b, r);
}

static const struct {
    Refnet__Envelope__BodyCase body;
    inbound_fn fn;
} inbound_table[] = {
    { REFNET__ENVELOPE__BODY_WELCOME, inbound_welcome },
    { REFNET__ENVELOPE__BODY_PONG, inbound_pong },
    { REFNET__ENVELOPE__BODY_UPDATE, inbound_update },
    { REFNET__ENVELOPE__BODY_SYNC_DONE, inbound_sync_done },
    { REFNET__ENVELOPE__BODY_AGENCY_KEY, inbound_agency_key },
    { REFNET__ENVELOPE__BODY_MAIL, inbound_mail },
    { REFNET__ENVELOPE__BODY_RESULT, inbound_result },
    { REFNET__ENVELOPE__BODY_SNAPSHOT_BEGIN, dirsync_on_begin },
    { REFNET__ENVELOPE__BODY_SNAPSHOT_CHUNK, dirsync_on_chunk },
    { REFNET__ENVELOPE__BODY_SNAPSHOT_END, dirsync_on_end },
    { REFNET__ENVELOPE__BODY_DIGEST, dirsync_on_digest },
};

void
inbound_envelope(inbound_batch_t *b, const Refnet__Envelope *env)
{
    if (b->failed)
        return;
    for (size_t i = 0; i < sizeof inbound_table / sizeof inbound_table[0]; i++) {
        if (inbound_table[i].body == env->body_case) {
            inbound_table[i].fn(b, env);
            return;
        }
    }
    b->stats->unexpected++;
    log_warn("inbound: the broker sent an unexpected %s; ignored", wire_body_name(env->body_case));
}
