/* dispatch: the table of agency requests and their handlers (see dispatch.h). */
#include "dispatch.h"

#include <stdlib.h>
#include <string.h>

#include "bstore.h"
#include "clock.h"
#include "dirhub.h"
#include "flow.h"
#include "log.h"
#include "refnet_error.h"
#include "rekey.h"
#include "sealkeys.h"
#include "wire.h"
#include "xmalloc.h"

typedef Refnet__Status(dispatch_fn)(const dispatch_ctx_t *ctx,
                                    const dispatch_req_t *req,
                                    const char **why);

/* ---- replies ------------------------------------------------------------------------------ */

void
dispatch_stamp_env(Refnet__Envelope *env, uint8_t msg_id[UID_MSGID_LEN], uid_pool_t *ids)
{
    uid_msgid_ordered(ids, msg_id);
    env->version = WIRE_VERSION;
    env->msg_id.data = msg_id;
    env->msg_id.len = UID_MSGID_LEN;
    env->sent_at_ms = clock_now_ms();
}

static void
dispatch_send(const dispatch_ctx_t *ctx,
              const dispatch_req_t *req,
              Refnet__Envelope *env,
              bool durable)
{
    uint8_t msg_id[UID_MSGID_LEN], *frame = NULL;
    size_t len = 0;
    dispatch_stamp_env(env, msg_id, batch_ids(ctx->batch));
    if (wire_encode(env, &frame, &len) != 0) {
        log_error("dispatch: a %s reply does not fit in a frame", wire_body_name(env->body_case));
        return;
    }
    batch_reply(ctx->batch, req->peer->rid, req->peer->rid_len, &frame, len, req->env->msg_id.data,
                req->env->msg_id.len, durable);
}

int
dispatch_result_frame(const ProtobufCBinaryData *ref,
                      Refnet__Status status,
                      const char *detail,
                      uint64_t seq,
                      uid_pool_t *ids,
                      uint8_t **frame,
                      size_t *len)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Result result = REFNET__RESULT__INIT;
    uint8_t msg_id[UID_MSGID_LEN];
    result.ref = *ref;
    result.status = status;
    result.detail = (char *)(detail ? detail : "");
    result.seq = seq;
    dispatch_stamp_env(&env, msg_id, ids);
    env.body_case = REFNET__ENVELOPE__BODY_RESULT;
    env.result = &result;
    return wire_encode(&env, frame, len);
}

void
dispatch_reply_result(batch_t *batch,
                      const uint8_t *rid,
                      size_t rid_len,
                      const ProtobufCBinaryData *ref,
                      Refnet__Status status,
                      const char *detail,
                      uint64_t seq,
                      bool durable)
{
    uint8_t *frame = NULL;
    size_t len = 0;
    if (dispatch_result_frame(ref, status, detail, seq, batch_ids(batch), &frame, &len) == 0)
        batch_reply(batch, rid, rid_len, &frame, len, ref->data, ref->len, durable);
}

/* Answers the request with OK after the commit. */
static void
dispatch_ok(const dispatch_ctx_t *ctx, const dispatch_req_t *req, uint64_t seq)
{
    dispatch_reply_result(ctx->batch, req->peer->rid, req->peer->rid_len, &req->env->msg_id,
                          REFNET__STATUS__STATUS_OK, "", seq, true);
}

Refnet__Status
dispatch_status(int rc, const char **why)
{
    switch (rc) {
    case 0:
        return REFNET__STATUS__STATUS_OK;
    case REFNET_EINVAL:
        return REFNET__STATUS__STATUS_BAD_REQUEST;
    case REFNET_EFORBIDDEN:
        return REFNET__STATUS__STATUS_FORBIDDEN;
    case REFNET_ETRANSITION:
        return REFNET__STATUS__STATUS_INVALID_TRANSITION;
    case REFNET_ENOTFOUND:
        return REFNET__STATUS__STATUS_NOT_FOUND;
    case REFNET_EQUEUEFULL:
        return REFNET__STATUS__STATUS_QUEUE_FULL;
    case REFNET_ETOOLARGE:
        return REFNET__STATUS__STATUS_TOO_LARGE;
    case REFNET_EFULL:
        *why = "the broker's storage is full; keep the message and retry later";
        return REFNET__STATUS__STATUS_STORAGE_FULL;
    default:
        *why = "the broker could not store the request; it was not applied";
        return REFNET__STATUS__STATUS_INTERNAL;
    }
}

/* ---- session ------------------------------------------------------------------------------ */

/* Records the sealing key a Hello announces; a new key goes to every online node. */
static int
dispatch_seal_announce(const dispatch_ctx_t *ctx, const dispatch_req_t *req, uint64_t head)
{
    const ProtobufCBinaryData *pk = &req->env->hello->box_public_key;
    uint8_t *frame = NULL;
    size_t len = 0;
    bool changed = false;
    if (!ctx->sign_sk || pk->len != SEAL_KEY_LEN)
        return 0;
    int rc = sealkeys_announce(ctx->store, req->txn, req->agency->id, pk->data, req->now_ms,
                               ctx->sign_sk, &changed);
    if (!rc && changed)
        rc = sealkeys_frame(ctx->store, req->txn, req->agency->id, &frame, &len);
    /* A peer too busy for it catches up from the directory head; it gets every key again
     * with its next Welcome. */
    if (!rc && changed)
        batch_fanout(ctx->batch, &frame, len, head + 1);
    return rc;
}

typedef struct {
    const dispatch_ctx_t *ctx;
    const dispatch_req_t *req;
} dispatch_keys_arg_t;

static void
dispatch_send_key(void *arg, uint8_t *frame, size_t len)
{
    const dispatch_keys_arg_t *a = arg;
    batch_reply(a->ctx->batch, a->req->peer->rid, a->req->peer->rid_len, &frame, len, NULL, 0,
                false);
}

static Refnet__Status
dispatch_hello(const dispatch_ctx_t *ctx, const dispatch_req_t *req, const char **why)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Welcome welcome = REFNET__WELCOME__INIT;
    uint64_t head = 0;
    int rc = dirhub_head(ctx->store, req->txn, &head);
    if (rc)
        return dispatch_status(rc, why);
    /* Delivery starts over only on a new connection, and presence_touch() has done that
     * already: nodes set no routing id, so every connection gets a new one. A Hello on the
     * same routing id is the same TCP connection, and what was sent on it is not lost (the
     * node applies deliveries whether or not its session has begun); restarting here would
     * send the whole unacknowledged window again each time a node says Hello twice. A
     * session's catch-up does start over: every Welcome is followed by the node's DirSync. */
    req->peer->syncing = false;
    req->peer->snapshot = false;
    req->peer->pending = true;
    req->peer->batches = req->env->hello->batches;
    welcome.batches = true; /* this broker takes Batch frames (broker_receive expands them) */
    welcome.agency_id = (char *)req->agency->id;
    welcome.agency_name = (char *)req->agency->name;
    welcome.dir_seq = head;
    welcome.heartbeat_ms = ctx->heartbeat_ms;
    if (ctx->sign_pk) {
        welcome.broker_sign_key.data = (uint8_t *)ctx->sign_pk;
        welcome.broker_sign_key.len = SEAL_KEY_LEN;
    }
    env.body_case = REFNET__ENVELOPE__BODY_WELCOME;
    env.welcome = &welcome;
    dispatch_send(ctx, req, &env, false);
    /* After the Welcome, which names the key that signs them. */
    if (ctx->sign_pk) {
        dispatch_keys_arg_t arg = { ctx, req };
        rc = dispatch_seal_announce(ctx, req, head);
        if (!rc)
            rc = sealkeys_each(ctx->store, req->txn, dispatch_send_key, &arg);
        if (rc)
            return dispatch_status(rc, why);
    }
    log_info("session: %s connected (directory at %llu, node at %llu)", req->agency->id,
             (unsigned long long)head, (unsigned long long)req->env->hello->dir_seq);
    return REFNET__STATUS__STATUS_OK;
}

static Refnet__Status
dispatch_ping(const dispatch_ctx_t *ctx, const dispatch_req_t *req, const char **why)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Pong pong = REFNET__PONG__INIT;
    int rc = dirhub_head(ctx->store, req->txn, &pong.dir_seq);
    if (rc)
        return dispatch_status(rc, why);
    env.body_case = REFNET__ENVELOPE__BODY_PONG;
    env.pong = &pong;
    dispatch_send(ctx, req, &env, false);
    return REFNET__STATUS__STATUS_OK;
}

/* ---- directory ---------------------------------------------------------------------------- */

/* Answers a directory change and queues its DirUpdate for every online node. */
static Refnet__Status
dispatch_dir_done(const dispatch_ctx_t *ctx,
                  const dispatch_req_t *req,
                  uint64_t seq,
                  bool changed,
                  const char **why)
{
    uint8_t *frame = NULL;
    size_t len = 0;
    if (changed) {
        int rc = dirhub_update_frame(ctx->store, req->txn, seq, &frame, &len);
        if (rc)
            return dispatch_status(rc, why);
        batch_fanout(ctx->batch, &frame, len, seq);
        ctx->counters->dir_changes++;
    }
    dispatch_ok(ctx, req, seq);
    return REFNET__STATUS__STATUS_OK;
}

static Refnet__Status
dispatch_publish(const dispatch_ctx_t *ctx, const dispatch_req_t *req, const char **why)
{
    uint64_t seq = 0;
    int rc = dirhub_publish(ctx->store, req->txn, req->agency->id, req->env->publish->service,
                            req->now_ms, &seq, why);
    if (rc)
        return dispatch_status(rc, why);
    return dispatch_dir_done(ctx, req, seq, true, why);
}

static Refnet__Status
dispatch_availability(const dispatch_ctx_t *ctx, const dispatch_req_t *req, const char **why)
{
    uint64_t seq = 0;
    int rc = dirhub_availability(ctx->store, req->txn, req->agency->id, req->env->availability,
                                 req->now_ms, &seq, why);
    if (rc)
        return dispatch_status(rc, why);
    return dispatch_dir_done(ctx, req, seq, true, why);
}

static Refnet__Status
dispatch_withdraw(const dispatch_ctx_t *ctx, const dispatch_req_t *req, const char **why)
{
    uint64_t seq = 0;
    bool changed = false;
    int rc = dirhub_withdraw(ctx->store, req->txn, req->agency->id, req->env->withdraw->service_id,
                             &seq, &changed, why);
    if (rc)
        return dispatch_status(rc, why);
    return dispatch_dir_done(ctx, req, seq, changed, why);
}

/* The catch-up itself is sent by the pump after the commit, in steps, so a large directory
 * neither overflows the peer's pipe nor stalls everyone else. A node new to the directory, or
 * behind the compaction horizon (its missing withdrawals may be forgotten), gets a snapshot. */
static Refnet__Status
dispatch_sync(const dispatch_ctx_t *ctx, const dispatch_req_t *req, const char **why)
{
    uint64_t since = req->env->sync->since_seq, horizon = 0, head = 0;
    int rc = dirhub_horizon(ctx->store, req->txn, &horizon);
    if (!rc)
        rc = dirhub_head(ctx->store, req->txn, &head);
    if (rc)
        return dispatch_status(rc, why);
    req->peer->syncing = true;
    req->peer->sync_after = since;
    req->peer->snapshot = since < head && (since == 0 || since < horizon);
    req->peer->snap_begun = false;
    req->peer->snap_after[0] = '\0';
    req->peer->pending = true;
    return REFNET__STATUS__STATUS_OK;
}

/* Answers with the digest of the directory at the head, then Result{OK, head}, both after
 * the commit (the head may include changes of this batch). */
static Refnet__Status
dispatch_digest(const dispatch_ctx_t *ctx, const dispatch_req_t *req, const char **why)
{
    uint8_t *frame = NULL;
    size_t len = 0;
    uint64_t head = 0;
    int rc = dirhub_digest_frame(ctx->store, req->txn, &req->env->msg_id, &frame, &len, &head);
    if (rc)
        return dispatch_status(rc, why);
    /* No ref: if the commit fails, the Result alone tells the node. */
    batch_reply(ctx->batch, req->peer->rid, req->peer->rid_len, &frame, len, NULL, 0, true);
    dispatch_ok(ctx, req, head);
    return REFNET__STATUS__STATUS_OK;
}

/* ---- mail --------------------------------------------------------------------------------- */

/* Person data crosses the broker only sealed for its recipient, so that the broker can never
 * store, log or leak it (README "Security and privacy"). A clear person packet
 * (seal_version 0) is refused, and so is a clear `reason`: it is free text about the person
 * ("declined: ..."), which refnet-node always sends as sealed_reason. Every node of protocol
 * version 1 seals both, so nothing honest is refused; a node that cannot seal for a recipient
 * (no verified key) refuses the step itself instead of falling back to clear. */
static bool
dispatch_sealed(const Refnet__HandoffUpdate *up, const char **why)
{
    if (up->person_packet.len > 0 && up->seal_version == 0) {
        *why = "person data must be sealed";
        return false;
    }
    if (up->reason && up->reason[0]) {
        *why = "a reason must be sealed (sealed_reason), never sent in clear";
        return false;
    }
    return true;
}

static bool
dispatch_is_revocation(const Refnet__Mail *mail)
{
    return mail->content_case == REFNET__MAIL__CONTENT_REVOCATION ||
           mail->content_case == REFNET__MAIL__CONTENT_REVOCATION_ACK;
}

/* A consent revocation goes from the sender of every handoff it names to that handoff's
 * receiver, and its acknowledgement back (db "handoffs"): no agency may restrict, or claim to
 * have restricted, data it was not party to. */
static Refnet__Status
dispatch_revocation_check(const dispatch_ctx_t *ctx, const dispatch_req_t *req, const char **why)
{
    const Refnet__Mail *mail = req->env->mail;
    bool forward = mail->content_case == REFNET__MAIL__CONTENT_REVOCATION;
    char *const *ids = forward ? mail->revocation->handoff_ids : mail->revocation_ack->handoff_ids;
    size_t n = forward ? mail->revocation->n_handoff_ids : mail->revocation_ack->n_handoff_ids;
    for (size_t i = 0; i < n; i++) {
        pbuf_t *pb = NULL;
        int rc = store_get_msg(req->txn, bstore_db(ctx->store, BSTORE_HANDOFFS), ids[i],
                               strlen(ids[i]), &refnet__handoff_meta__descriptor, &pb);
        if (rc && rc != REFNET_ENOTFOUND && rc != REFNET_EDECODE)
            return dispatch_status(rc, why);
        const Refnet__HandoffMeta *m = rc ? NULL : (const Refnet__HandoffMeta *)pbuf_msg(pb);
        bool ok = m && strcmp(forward ? m->sender : m->receiver, req->agency->id) == 0 &&
                  strcmp(forward ? m->receiver : m->sender, mail->to) == 0;
        pbuf_destroy(&pb);
        if (!ok) {
            *why = "a revocation may only go between the two parties of every handoff it names";
            return REFNET__STATUS__STATUS_FORBIDDEN;
        }
    }
    return REFNET__STATUS__STATUS_OK;
}

static Refnet__Status
dispatch_mail_check(const dispatch_ctx_t *ctx, const dispatch_req_t *req, const char **why)
{
    const Refnet__Mail *mail = req->env->mail;
    if (mail->content_case != REFNET__MAIL__CONTENT_HANDOFF && !dispatch_is_revocation(mail)) {
        *why = "only the broker sends receipts";
        return REFNET__STATUS__STATUS_FORBIDDEN;
    }
    if (mail->from[0] && strcmp(mail->from, req->agency->id) != 0) {
        *why = "message claims another sender";
        return REFNET__STATUS__STATUS_FORBIDDEN;
    }
    if (mail->content_case == REFNET__MAIL__CONTENT_HANDOFF && !dispatch_sealed(mail->handoff, why))
        return REFNET__STATUS__STATUS_BAD_REQUEST;
    if (agencies_is_revoked(ctx->agencies, mail->to)) {
        *why = "the recipient agency has been revoked by the network's administrator";
        return REFNET__STATUS__STATUS_UNKNOWN_RECIPIENT;
    }
    if (!agencies_by_id(ctx->agencies, mail->to)) {
        *why = "the recipient is not an enrolled agency";
        return REFNET__STATUS__STATUS_UNKNOWN_RECIPIENT;
    }
    if (strcmp(mail->to, req->agency->id) == 0) {
        *why = "mail cannot be addressed to its own sender";
        return REFNET__STATUS__STATUS_BAD_REQUEST;
    }
    if (dispatch_is_revocation(mail)) {
        Refnet__Status st = dispatch_revocation_check(ctx, req, why);
        if (st != REFNET__STATUS__STATUS_OK)
            return st;
    }
    int rc = mailbox_admit(ctx->mailbox, req->txn, req->agency->id, mail->to, req->env->msg_id.data,
                           req->now_ms);
    if (rc == REFNET_EQUEUEFULL) {
        ctx->counters->queue_full++;
        *why = "the recipient's mailbox is full, or an earlier message of this pair waits to be "
               "stored; keep the message and retry later";
    }
    return dispatch_status(rc, why);
}

/* Encodes the envelope as it will be delivered: stamped with the authenticated sender and the
 * broker's time. The decoded message is restored, since its memory belongs to the decoder. */
static int
dispatch_stamp(const dispatch_req_t *req, uint8_t **frame, size_t *len)
{
    Refnet__Mail *mail = req->env->mail;
    char *from = mail->from;
    uint64_t stored_at = mail->stored_at_ms;
    mail->from = (char *)req->agency->id;
    mail->stored_at_ms = req->now_ms;
    int rc = wire_encode(req->env, frame, len);
    mail->from = from;
    mail->stored_at_ms = stored_at;
    return rc;
}

static Refnet__Status
dispatch_mail_store(const dispatch_ctx_t *ctx, const dispatch_req_t *req, const char **why)
{
    const Refnet__Mail *mail = req->env->mail;
    uint8_t *frame = NULL;
    size_t len = 0;
    uint64_t qseq = 0;
    bool handoff = mail->content_case == REFNET__MAIL__CONTENT_HANDOFF;
    /* Revocations change no handoff: dispatch_mail_check tied them to its parties. */
    int rc = handoff ? flow_apply(ctx->store, req->txn, req->agency->id, mail->to, mail->handoff,
                                  req->now_ms, why)
                     : 0;
    if (!rc)
        rc = dispatch_stamp(req, &frame, &len);
    if (!rc) {
        mailbox_item_t item = { .to = mail->to,
                                .sender = req->agency->id,
                                .msg_id = req->env->msg_id.data,
                                .frame = frame,
                                .len = len,
                                .ttl_ms = mail->ttl_ms,
                                .handoff_id = handoff ? mail->handoff->handoff_id : "" };
        rc = mailbox_enqueue(ctx->mailbox, req->txn, &item, req->now_ms, &qseq);
    }
    free(frame);
    if (rc == REFNET_EFULL || rc == REFNET_ESTORAGE)
        /* It passed its pair's turn (mailbox_admit) but storage failed: the sender retries it,
         * and the pair's later mails must wait behind it. */
        mailbox_unstored(ctx->mailbox, req->agency->id, mail->to, req->env->msg_id.data,
                         req->now_ms);
    if (rc)
        return dispatch_status(rc, why);
    ctx->counters->stored++;
    dispatch_ok(ctx, req, 0);
    batch_kick(ctx->batch, mail->to, 0);
    batch_stored(ctx->batch, req->agency->id, mail->to, req->env->msg_id.data);
    return REFNET__STATUS__STATUS_OK;
}

static Refnet__Status
dispatch_mail(const dispatch_ctx_t *ctx, const dispatch_req_t *req, const char **why)
{
    mailbox_state_t state = MAILBOX_UNKNOWN;
    int rc = mailbox_state(ctx->mailbox, req->txn, req->env->msg_id.data, &state);
    if (rc)
        return dispatch_status(rc, why);
    if (state != MAILBOX_UNKNOWN) {
        /* A resend whose STORED answer was lost: it is stored already. */
        ctx->counters->duplicates++;
        dispatch_ok(ctx, req, 0);
        return REFNET__STATUS__STATUS_OK;
    }
    Refnet__Status st = dispatch_mail_check(ctx, req, why);
    if (st != REFNET__STATUS__STATUS_OK)
        return st; /* the checks only read: nothing to undo */
    if (req->wrote)
        *req->wrote = true;
    return dispatch_mail_store(ctx, req, why);
}

/* Queues one Mail{receipts} per sender for the messages of an Ack (`done`, n of them, ""
 * senders being broker-made mail), and kicks each sender's delivery. */
static int
dispatch_receipts(const dispatch_ctx_t *ctx,
                  const dispatch_req_t *req,
                  mailbox_ack_t *done,
                  size_t n,
                  mailbox_receipt_t *items)
{
    for (size_t i = 0; i < n; i++) {
        if (!done[i].receipt_to[0])
            continue;
        const char *sender = done[i].receipt_to;
        size_t k = 0;
        for (size_t j = i; j < n; j++) {
            if (strcmp(done[j].receipt_to, sender) != 0)
                continue;
            items[k] = (mailbox_receipt_t){ 0 };
            memcpy(items[k].msg_id, req->env->ack->msg_ids[j].data, UID_MSGID_LEN);
            memcpy(items[k].handoff_id, done[j].handoff_id, sizeof items[k].handoff_id);
            k++;
            if (j > i)
                done[j].receipt_to[0] = '\0'; /* grouped */
        }
        int rc = mailbox_receipts(ctx->mailbox, req->txn, sender, req->agency->id, items, k,
                                  req->now_ms);
        if (rc)
            return rc;
        ctx->counters->receipts += k;
        batch_kick_receipts(ctx->batch, sender);
    }
    return 0;
}

static Refnet__Status
dispatch_ack(const dispatch_ctx_t *ctx, const dispatch_req_t *req, const char **why)
{
    const Refnet__Ack *ack = req->env->ack;
    uint32_t inflight = 0;
    size_t n = ack->n_msg_ids <= WIRE_MAX_ACK_IDS ? ack->n_msg_ids : WIRE_MAX_ACK_IDS;
    mailbox_ack_t *done = xcalloc(n ? n : 1, sizeof *done);
    mailbox_receipt_t *items = xcalloc(n ? n : 1, sizeof *items);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        rc = mailbox_ack(ctx->mailbox, req->txn, req->agency->id, ack->msg_ids[i].data, req->now_ms,
                         &done[i]);
        if (rc == REFNET_ENOTFOUND) {
            ctx->counters->stray_acks++; /* a duplicate ack, or not this agency's message */
            done[i].receipt_to[0] = '\0';
            rc = 0;
            continue;
        }
        if (rc)
            break;
        ctx->counters->acked++;
        if (done[i].qseq <= req->peer->cursor)
            inflight++;
    }
    /* One receipt mail per sender and Ack, not one per message: a sender of many messages
     * gets them settled with one delivery, one commit of its own and one ack back. */
    if (!rc)
        rc = dispatch_receipts(ctx, req, done, n, items);
    free(items);
    free(done);
    if (rc)
        return dispatch_status(rc, why);
    batch_kick(ctx->batch, req->agency->id, inflight);
    return REFNET__STATUS__STATUS_OK;
}

/* ---- the table ---------------------------------------------------------------------------- */

static const struct {
    Refnet__Envelope__BodyCase body;
    dispatch_fn *fn;
} dispatch_table[] = {
    { REFNET__ENVELOPE__BODY_HELLO, dispatch_hello },
    { REFNET__ENVELOPE__BODY_PING, dispatch_ping },
    { REFNET__ENVELOPE__BODY_PUBLISH, dispatch_publish },
    { REFNET__ENVELOPE__BODY_AVAILABILITY, dispatch_availability },
    { REFNET__ENVELOPE__BODY_WITHDRAW, dispatch_withdraw },
    { REFNET__ENVELOPE__BODY_SYNC, dispatch_sync },
    { REFNET__ENVELOPE__BODY_DIGEST_REQUEST, dispatch_digest },
    { REFNET__ENVELOPE__BODY_MAIL, dispatch_mail },
    { REFNET__ENVELOPE__BODY_ACK, dispatch_ack },
    { REFNET__ENVELOPE__BODY_KEY_ROTATE, rekey_handle },
};

Refnet__Status
dispatch_handle(const dispatch_ctx_t *ctx, const dispatch_req_t *req, const char **why)
{
    Refnet__Envelope__BodyCase body = req->env->body_case;
    /* Mail says itself when it starts writing; a Ping only reads; anything else may write
     * from its first step. */
    if (req->wrote && body != REFNET__ENVELOPE__BODY_MAIL && body != REFNET__ENVELOPE__BODY_PING)
        *req->wrote = true;
    for (size_t i = 0; i < sizeof dispatch_table / sizeof dispatch_table[0]; i++) {
        if (dispatch_table[i].body == body)
            return dispatch_table[i].fn(ctx, req, why);
    }
    *why = "this message is not a request a node may send to the broker";
    return REFNET__STATUS__STATUS_BAD_REQUEST;
}
