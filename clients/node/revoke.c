/* revoke: consent revocation that reaches the agencies that received data (see revoke.h). */
#include "revoke.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "consent.h"
#include "handoff.h"
#include "log.h"
#include "node_limits.h"
#include "nodedb.h"
#include "outbox.h"
#include "refnet_error.h"
#include "validate.h"
#include "wire.h"
#include "xmalloc.h"

/* One handoff that disclosed data under the revoked consent (sender side). */
typedef struct {
    char *receiver;
    char *id;
} revoke_hit_t;

typedef struct {
    const char *consent_id;
    revoke_hit_t *hits;
    size_t n, cap;
} revoke_scan_t;

bool
revoke_is_restricted(const Refnet__HandoffRecord *h)
{
    return h->restricted_at_ms != 0;
}

static int
revoke_put_handoff(MDB_txn *txn, const store_t *st, const Refnet__HandoffRecord *h)
{
    return store_put_msg(txn, store_db(st, NODEDB_HANDOFFS), h->id, strlen(h->id), &h->base);
}

/* Appends an audit entry about handoff `id` as this node recorded it: the agencies, person,
 * categories and consent of the disclosure it names. A handoff that cannot be read is a
 * storage fault here: every caller has just found it. */
static int
revoke_audit(MDB_txn *txn,
             const store_t *st,
             Refnet__AuditEvent event,
             const char *id,
             const char *actor,
             const uint8_t *msg_id,
             uint64_t now)
{
    Refnet__AuditEntry e = REFNET__AUDIT_ENTRY__INIT;
    pbuf_t *pb = NULL;
    int rc = handoff_get(txn, st, id, &pb);
    if (rc != 0)
        return rc == REFNET_ENOTFOUND || rc == REFNET_EDECODE ? REFNET_ESTORAGE : rc;
    const Refnet__HandoffRecord *h = (const Refnet__HandoffRecord *)pbuf_msg(pb);
    e.at_ms = now;
    e.event = event;
    e.discloser = h->sender;
    e.recipient = h->receiver;
    e.person_id = h->person_id;
    e.categories = h->categories;
    e.n_categories = h->n_categories;
    e.purpose = (char *)NODE_PURPOSE_REFERRAL;
    e.consent_id = h->consent_id;
    e.handoff_id = h->id;
    e.actor = (char *)actor;
    if (msg_id) {
        e.msg_id.data = (uint8_t *)msg_id;
        e.msg_id.len = UID_MSGID_LEN;
    }
    rc = audit_append(txn, st, &e);
    pbuf_destroy(&pb);
    return rc;
}

/* Queues `mail` (to, content set) through the outbox after checking it against the wire
 * rules the broker and the recipient apply. */
static int
revoke_queue(MDB_txn *txn,
             const store_t *st,
             Refnet__Mail *mail,
             uint64_t now,
             uint8_t msg_id[UID_MSGID_LEN])
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    char why[WIRE_WHY_LEN] = "";
    /* A revocation must reach an agency that is offline for a while: the longest time to live
     * the protocol allows (the broker may cap it lower). */
    mail->ttl_ms = WIRE_MAX_TTL_MS;
    if (validate_mail(mail, why) != 0) {
        log_error("revoke: a revocation for %s breaks a wire rule: %s", mail->to, why);
        return REFNET_EINVAL;
    }
    env.body_case = REFNET__ENVELOPE__BODY_MAIL;
    env.mail = mail;
    return outbox_add(txn, st, &env, NULL, now, msg_id, NULL);
}

/* ---- sender: propagate ------------------------------------------------------------------- */

/* Collects the handoffs whose person packet went out under the consent. */
static int
revoke_scan_visit(void *ctx, const Refnet__HandoffRecord *h)
{
    revoke_scan_t *s = ctx;
    if (h->role != REFNET__HANDOFF_ROLE__HANDOFF_ROLE_SENDER || h->person_packet.len == 0 ||
        strcmp(h->consent_id, s->consent_id) != 0)
        return 0;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->hits = xrealloc(s->hits, s->cap * sizeof *s->hits);
    }
    s->hits[s->n].receiver = xstrdup(h->receiver);
    s->hits[s->n].id = xstrdup(h->id);
    s->n++;
    return 0;
}

static int
revoke_hit_cmp(const void *pa, const void *pb)
{
    const revoke_hit_t *a = pa, *b = pb;
    int c = strcmp(a->receiver, b->receiver);
    return c ? c : strcmp(a->id, b->id);
}

static void
revoke_scan_clear(revoke_scan_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->hits[i].receiver);
        free(s->hits[i].id);
    }
    free(s->hits);
    s->hits = NULL;
    s->n = s->cap = 0;
}

/* Queues one revocation to `hits[0].receiver` naming the n handoffs of `hits` (all to that
 * receiver), records the revocation-sent entries and fills `notice` (its strings point into
 * `hits`, its handoff_ids array is allocated: caller frees). */
static int
revoke_send_one(MDB_txn *txn,
                const store_t *st,
                const Refnet__ConsentRecord *c,
                const revoke_hit_t *hits,
                size_t n,
                const char *actor,
                uint64_t now,
                Refnet__RevocationNotice *notice,
                uint8_t msg_id[UID_MSGID_LEN])
{
    Refnet__Mail mail = REFNET__MAIL__INIT;
    Refnet__Revocation r = REFNET__REVOCATION__INIT;
    char **ids = xcalloc(n, sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = hits[i].id;
    r.consent_id = c->id;
    r.handoff_ids = ids;
    r.n_handoff_ids = n;
    r.revoked_at_ms = c->revoked_at_ms;
    mail.to = hits[0].receiver;
    mail.content_case = REFNET__MAIL__CONTENT_REVOCATION;
    mail.revocation = &r;
    int rc = revoke_queue(txn, st, &mail, now, msg_id);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = revoke_audit(txn, st, REFNET__AUDIT_EVENT__AUDIT_EVENT_REVOCATION_SENT, ids[i], actor,
                          msg_id, now);
    notice->recipient = hits[0].receiver;
    notice->handoff_ids = ids;
    notice->n_handoff_ids = n;
    notice->msg_id.data = msg_id;
    notice->msg_id.len = UID_MSGID_LEN;
    notice->sent_at_ms = now;
    return rc;
}

/* Groups the hits by receiver, at most WIRE_MAX_REVOKED_HANDOFFS per mail, sends each group
 * and writes the consent with its new notices. */
static int
revoke_send_all(MDB_txn *txn,
                const store_t *st,
                Refnet__ConsentRecord *c,
                revoke_scan_t *s,
                const char *actor,
                uint64_t now,
                size_t *agencies)
{
    size_t cap = c->n_notices + s->n, nn = c->n_notices;
    Refnet__RevocationNotice **all = xcalloc(cap, sizeof *all);
    Refnet__RevocationNotice *fresh = xcalloc(s->n, sizeof *fresh);
    uint8_t(*ids)[UID_MSGID_LEN] = xcalloc(s->n, UID_MSGID_LEN);
    size_t nfresh = 0;
    int rc = 0;
    *agencies = 0;
    if (c->n_notices)
        memcpy(all, c->notices, c->n_notices * sizeof *all);
    for (size_t i = 0; rc == 0 && i < s->n;) {
        size_t j = i + 1;
        while (j < s->n && j - i < WIRE_MAX_REVOKED_HANDOFFS &&
               strcmp(s->hits[j].receiver, s->hits[i].receiver) == 0)
            j++;
        if (i == 0 || strcmp(s->hits[i - 1].receiver, s->hits[i].receiver) != 0)
            (*agencies)++;
        refnet__revocation_notice__init(&fresh[nfresh]);
        rc = revoke_send_one(txn, st, c, &s->hits[i], j - i, actor, now, &fresh[nfresh],
                             ids[nfresh]);
        all[nn++] = &fresh[nfresh++];
        i = j;
    }
    if (rc == 0) {
        c->notices = all;
        c->n_notices = nn;
        rc = consent_put(txn, st, c);
    }
    for (size_t i = 0; i < nfresh; i++)
        free(fresh[i].handoff_ids);
    free(fresh);
    free(ids);
    free(all);
    return rc;
}

int
revoke_propagate(MDB_txn *txn,
                 const store_t *st,
                 const char *consent_id,
                 uint64_t now,
                 const char *actor,
                 size_t *recipients)
{
    pbuf_t *pb = NULL;
    revoke_scan_t s = { consent_id, NULL, 0, 0 };
    size_t told = 0;
    int rc = consent_get(txn, st, consent_id, &pb);
    if (rc == 0)
        rc = handoff_each(txn, st, revoke_scan_visit, &s);
    if (rc == 0 && s.n > 0) {
        qsort(s.hits, s.n, sizeof *s.hits, revoke_hit_cmp);
        /* The record is decoded from the store: its notices array belongs to pb, and
         * revoke_send_all only swaps the pointer for the duration of the write. */
        Refnet__ConsentRecord *c = (Refnet__ConsentRecord *)pbuf_msg(pb);
        Refnet__RevocationNotice **old = c->notices;
        size_t nold = c->n_notices;
        rc = revoke_send_all(txn, st, c, &s, actor, now, &told);
        c->notices = old;
        c->n_notices = nold;
    }
    if (rc == 0 && told > 0)
        log_info("revoke: consent %s revoked; %zu agenc%s told about %zu handoff(s)", consent_id,
                 told, told == 1 ? "y" : "ies", s.n);
    if (recipients)
        *recipients = rc == 0 ? told : 0;
    revoke_scan_clear(&s);
    pbuf_destroy(&pb);
    return rc;
}

/* ---- receiver: restrict ------------------------------------------------------------------ */

/* Restricts received handoff `id` if it is `from`'s disclosure under `consent_id`. Returns 1
 * when it is (now or already) restricted, 0 when it does not qualify (logged), or an error. */
static int
revoke_restrict_one(MDB_txn *txn,
                    const store_t *st,
                    const char *from,
                    const char *consent_id,
                    const char *id,
                    const uint8_t *msg_id,
                    uint64_t now)
{
    pbuf_t *pb = NULL;
    int wrc = 0;
    int rc = handoff_get(txn, st, id, &pb);
    if (rc == REFNET_ENOTFOUND || rc == REFNET_EDECODE) {
        log_warn("revoke: agency %s revoked consent for handoff %s, which is unknown here", from,
                 id);
        return 0;
    }
    if (rc != 0)
        return rc;
    Refnet__HandoffRecord *h = (Refnet__HandoffRecord *)pbuf_msg(pb);
    if (h->role != REFNET__HANDOFF_ROLE__HANDOFF_ROLE_RECEIVER || strcmp(h->sender, from) != 0 ||
        strcmp(h->consent_id, consent_id) != 0) {
        log_warn("revoke: agency %s named handoff %s, which it did not send here under consent "
                 "%s; ignored",
                 from, id, consent_id);
        rc = 0;
        goto out;
    }
    rc = 1;
    if (revoke_is_restricted(h))
        goto out; /* a resent revocation: acknowledge it again */
    h->restricted_at_ms = now;
    h->revocation_msg_id.data = (uint8_t *)msg_id;
    h->revocation_msg_id.len = msg_id ? UID_MSGID_LEN : 0;
    wrc = revoke_put_handoff(txn, st, h);
    h->revocation_msg_id.data = NULL; /* not the decoder's memory */
    h->revocation_msg_id.len = 0;
    if (wrc == 0)
        wrc = revoke_audit(txn, st, REFNET__AUDIT_EVENT__AUDIT_EVENT_DATA_RESTRICTED, id,
                           AUDIT_ACTOR_NODE, msg_id, now);
    if (wrc != 0)
        rc = wrc;
out:
    pbuf_destroy(&pb);
    return rc;
}

int
revoke_apply(MDB_txn *txn,
             const store_t *st,
             const Refnet__Mail *mail,
             const uint8_t *msg_id,
             uint64_t now,
             size_t *restricted)
{
    Refnet__Mail ack_mail = REFNET__MAIL__INIT;
    Refnet__RevocationAck ack = REFNET__REVOCATION_ACK__INIT;
    uint8_t ack_id[UID_MSGID_LEN];
    if (restricted)
        *restricted = 0;
    if (mail->content_case != REFNET__MAIL__CONTENT_REVOCATION || !mail->revocation)
        return REFNET_EINVAL;
    const Refnet__Revocation *r = mail->revocation;
    char **ids = xcalloc(r->n_handoff_ids ? r->n_handoff_ids : 1, sizeof *ids);
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->n_handoff_ids; i++) {
        int one =
            revoke_restrict_one(txn, st, mail->from, r->consent_id, r->handoff_ids[i], msg_id, now);
        if (one == 1)
            ids[n++] = r->handoff_ids[i];
        else
            rc = one;
    }
    if (rc == 0 && n > 0) {
        ack.consent_id = r->consent_id;
        ack.handoff_ids = ids;
        ack.n_handoff_ids = n;
        ack.restricted_at_ms = now;
        ack_mail.to = mail->from;
        ack_mail.content_case = REFNET__MAIL__CONTENT_REVOCATION_ACK;
        ack_mail.revocation_ack = &ack;
        rc = revoke_queue(txn, st, &ack_mail, now, ack_id);
    }
    if (rc == 0 && restricted)
        *restricted = n;
    free(ids);
    return rc;
}

/* ---- sender: acknowledgement ------------------------------------------------------------- */

static bool
revoke_notice_has(const Refnet__RevocationNotice *n, const char *id)
{
    for (size_t i = 0; i < n->n_handoff_ids; i++)
        if (strcmp(n->handoff_ids[i], id) == 0)
            return true;
    return false;
}

/* The notice sent to `from` that names every handoff of `a`, or NULL. */
static Refnet__RevocationNotice *
revoke_find_notice(const Refnet__ConsentRecord *c, const char *from, const Refnet__RevocationAck *a)
{
    for (size_t i = 0; i < c->n_notices; i++) {
        Refnet__RevocationNotice *n = c->notices[i];
        bool all = strcmp(n->recipient, from) == 0;
        for (size_t j = 0; all && j < a->n_handoff_ids; j++)
            all = revoke_notice_has(n, a->handoff_ids[j]);
        if (all)
            return n;
    }
    return NULL;
}

int
revoke_apply_ack(
    MDB_txn *txn, const store_t *st, const Refnet__Mail *mail, const uint8_t *msg_id, uint64_t now)
{
    pbuf_t *pb = NULL;
    if (mail->content_case != REFNET__MAIL__CONTENT_REVOCATION_ACK || !mail->revocation_ack)
        return REFNET_EINVAL;
    const Refnet__RevocationAck *a = mail->revocation_ack;
    int rc = consent_get(txn, st, a->consent_id, &pb);
    if (rc == REFNET_EDECODE)
        rc = REFNET_ENOTFOUND;
    if (rc != 0)
        return rc;
    Refnet__ConsentRecord *c = (Refnet__ConsentRecord *)pbuf_msg(pb);
    Refnet__RevocationNotice *n = revoke_find_notice(c, mail->from, a);
    if (!n) {
        rc = REFNET_ENOTFOUND;
        goto out;
    }
    if (n->acked_at_ms != 0)
        goto out; /* acknowledged already */
    n->acked_at_ms = now;
    n->restricted_at_ms = a->restricted_at_ms;
    rc = consent_put(txn, st, c);
    for (size_t i = 0; rc == 0 && i < a->n_handoff_ids; i++)
        rc = revoke_audit(txn, st, REFNET__AUDIT_EVENT__AUDIT_EVENT_REVOCATION_ACKED,
                          a->handoff_ids[i], AUDIT_ACTOR_NODE, msg_id, now);
out:
    pbuf_destroy(&pb);
    return rc;
}

/* ---- the onward rule --------------------------------------------------------------------- */

int
revoke_check_onward(MDB_txn *txn, const store_t *st, const Refnet__PersonRecord *p, char *why)
{
    pbuf_t *pb = NULL;
    if (!p->from_handoff || !p->from_handoff[0])
        return 0;
    int rc = handoff_get(txn, st, p->from_handoff, &pb);
    if (rc != 0 && rc != REFNET_ENOTFOUND && rc != REFNET_EDECODE)
        return rc;
    /* Without its source record nothing shows the data may travel: refuse. */
    bool restricted = rc != 0 || revoke_is_restricted((const Refnet__HandoffRecord *)pbuf_msg(pb));
    pbuf_destroy(&pb);
    if (!restricted)
        return 0;
    if (why)
        snprintf(why, HANDOFF_WHY_LEN,
                 "this person's data came from handoff %s, whose consent was revoked: it is "
                 "restricted and may not be sent onward",
                 p->from_handoff);
    return REFNET_EFORBIDDEN;
}
