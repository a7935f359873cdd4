/* handoff: warm handoffs as this node sees them (see handoff.h). */
#include "handoff.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "consent.h"
#include "fsm.h"
#include "log.h"
#include "node_limits.h"
#include "nodedb.h"
#include "outbox.h"
#include "peerkeys.h"
#include "persons.h"
#include "refnet_error.h"
#include "replica.h"
#include "revoke.h"
#include "validate.h"
#include "wire.h"
#include "xmalloc.h"

/* Who an event is recorded by when the network, not an agency, made it. */
#define HANDOFF_BY_NETWORK "network"

static int handoff_fail(char *why, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes one sentence into `why` (when given) and returns `rc`. */
static int
handoff_fail(char *why, int rc, const char *fmt, ...)
{
    if (why) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, HANDOFF_WHY_LEN, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static bool
handoff_given(const char *s)
{
    return s && s[0];
}

int
handoff_get(MDB_txn *txn, const store_t *st, const char *id, pbuf_t **out)
{
    return store_get_msg(txn, store_db(st, NODEDB_HANDOFFS), id, strlen(id),
                         &refnet__handoff_record__descriptor, out);
}

static int
handoff_put(MDB_txn *txn, const store_t *st, const Refnet__HandoffRecord *rec)
{
    return store_put_msg(txn, store_db(st, NODEDB_HANDOFFS), rec->id, strlen(rec->id), &rec->base);
}

/* Writes `cur` with the step `ev` applied: status, outcome and reason when the step sets
 * them, the event appended to the history (while there is room), and updated_at. */
static int
handoff_put_step(MDB_txn *txn,
                 const store_t *st,
                 const Refnet__HandoffRecord *cur,
                 const Refnet__HandoffEvent *ev,
                 uint64_t now)
{
    Refnet__HandoffRecord copy = *cur;
    Refnet__HandoffEvent **events = NULL;
    if (ev->status != REFNET__HANDOFF_STATUS__HANDOFF_STATUS_UNSPECIFIED)
        copy.status = ev->status;
    if (ev->outcome != REFNET__OUTCOME__OUTCOME_UNSPECIFIED)
        copy.outcome = ev->outcome;
    if (handoff_given(ev->reason))
        copy.reason = ev->reason;
    if (cur->n_events < NODE_HANDOFF_MAX_EVENTS) {
        events = xcalloc(cur->n_events + 1, sizeof *events);
        if (cur->n_events)
            memcpy(events, cur->events, cur->n_events * sizeof *events);
        events[cur->n_events] = (Refnet__HandoffEvent *)ev;
        copy.events = events;
        copy.n_events = cur->n_events + 1;
    }
    copy.updated_at_ms = now;
    int rc = handoff_put(txn, st, &copy);
    free(events);
    return rc;
}

/* Queues `up` as Mail{to, ttl} in the outbox, after checking it against the wire rules the
 * broker and the receiver will apply. */
static int
handoff_queue(MDB_txn *txn,
              const store_t *st,
              const char *to,
              uint64_t ttl,
              Refnet__HandoffUpdate *up,
              uint64_t now,
              uint8_t msg_id_out[UID_MSGID_LEN],
              char *why)
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__Mail mail = REFNET__MAIL__INIT;
    char wwhy[WIRE_WHY_LEN] = "";
    mail.to = (char *)to;
    mail.ttl_ms = ttl;
    mail.content_case = REFNET__MAIL__CONTENT_HANDOFF;
    mail.handoff = up;
    if (validate_mail(&mail, wwhy) != 0)
        return handoff_fail(why, REFNET_EINVAL, "%s", wwhy);
    env.body_case = REFNET__ENVELOPE__BODY_MAIL;
    env.mail = &mail;
    int rc = outbox_add(txn, st, &env, up->handoff_id, now, msg_id_out, NULL);
    if (rc == REFNET_EQUEUEFULL)
        return handoff_fail(why, rc, "the outbox is full; try again when the broker is back");
    if (rc == REFNET_ETOOLARGE)
        return handoff_fail(why, REFNET_EINVAL, "the handoff is larger than a wire frame");
    return rc;
}

/* The categories a handoff sends: contact when the person has contact details, and each
 * of needs, own words and notes when given. The name always travels and needs no category
 * of its own: a consented handoff is an introduction of someone by name. */
static size_t
handoff_categories(const Refnet__PersonRecord *p,
                   const handoff_start_t *req,
                   Refnet__Category out[WIRE_MAX_CATEGORIES])
{
    size_t n = 0;
    if (handoff_given(p->contact))
        out[n++] = REFNET__CATEGORY__CATEGORY_CONTACT;
    if (handoff_given(req->needs))
        out[n++] = REFNET__CATEGORY__CATEGORY_NEEDS;
    if (handoff_given(req->own_words))
        out[n++] = REFNET__CATEGORY__CATEGORY_OWN_WORDS;
    if (handoff_given(req->note))
        out[n++] = REFNET__CATEGORY__CATEGORY_NOTES;
    if (req->substance_use)
        out[n++] = REFNET__CATEGORY__CATEGORY_SUBSTANCE_USE;
    return n;
}

/* Encodes the person packet: only what the categories allow. */
static void
handoff_packet(const Refnet__PersonRecord *p,
               const handoff_start_t *req,
               uint8_t **out,
               size_t *len)
{
    Refnet__PersonPacket pkt = REFNET__PERSON_PACKET__INIT;
    pkt.name = p->name;
    if (handoff_given(p->contact)) {
        pkt.contact = p->contact;
        pkt.preferred_contact = p->preferred_contact;
        pkt.language = p->language;
    }
    if (handoff_given(req->own_words))
        pkt.own_words = (char *)req->own_words;
    if (handoff_given(req->needs))
        pkt.needs = (char *)req->needs;
    if (handoff_given(req->note))
        pkt.notes = (char *)req->note;
    /* Part 2 data may only travel with the regulation's notice prohibiting redisclosure. */
    if (req->substance_use)
        pkt.redisclosure_notice = (char *)HANDOFF_PART2_NOTICE;
    pbuf_pack(&pkt.base, out, len);
}

/* Everything handoff_start has gathered before it writes. */
typedef struct {
    char id[UID_STR_LEN];
    const char *receiver;
    const Refnet__Service *service;
    const Refnet__ConsentRecord *consent;
    Refnet__Category cats[WIRE_MAX_CATEGORIES];
    size_t ncats;
    ProtobufCBinaryData packet; /* clear: kept in the sender's own record */
    ProtobufCBinaryData sealed; /* what travels: only the receiver can open it */
    uint64_t ttl;
    uint8_t msg_id[UID_MSGID_LEN]; /* of the REQUESTED mail, for the audit log */
} handoff_new_t;

/* Records an audit entry for a disclosure sent (sender side) or person data received. */
static int
handoff_audit(MDB_txn *txn,
              const store_t *st,
              const Refnet__HandoffRecord *rec,
              Refnet__AuditEvent event,
              const char *actor,
              const uint8_t *msg_id,
              uint64_t now)
{
    Refnet__AuditEntry e = REFNET__AUDIT_ENTRY__INIT;
    e.at_ms = now;
    e.event = event;
    e.discloser = rec->sender;
    e.recipient = rec->receiver;
    e.person_id = rec->person_id ? rec->person_id : (char *)"";
    e.categories = rec->categories;
    e.n_categories = rec->n_categories;
    e.purpose = (char *)NODE_PURPOSE_REFERRAL;
    e.consent_id = rec->consent_id ? rec->consent_id : (char *)"";
    e.handoff_id = rec->id;
    e.actor = (char *)actor;
    if (msg_id) {
        e.msg_id.data = (uint8_t *)msg_id;
        e.msg_id.len = UID_MSGID_LEN;
    }
    return audit_append(txn, st, &e);
}

static int
handoff_queue_request(MDB_txn *txn,
                      const store_t *st,
                      const handoff_start_t *req,
                      handoff_new_t *h, /* fills h->msg_id */
                      uint64_t now,
                      char *why)
{
    Refnet__HandoffUpdate up = REFNET__HANDOFF_UPDATE__INIT;
    up.handoff_id = (char *)h->id;
    up.service_id = h->service->id;
    up.status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED;
    up.mode = req->mode;
    up.accompany = req->accompany;
    up.proposed_at_ms = req->proposed_at_ms;
    up.at_ms = now;
    up.categories = (Refnet__Category *)h->cats;
    up.n_categories = h->ncats;
    up.consent_id = h->consent->id;
    up.person_packet = h->sealed;
    up.seal_version = SEAL_VERSION;
    return handoff_queue(txn, st, h->receiver, h->ttl, &up, now, h->msg_id, why);
}

static int
handoff_record_request(MDB_txn *txn,
                       const store_t *st,
                       const char *self,
                       const handoff_start_t *req,
                       const handoff_new_t *h,
                       uint64_t now)
{
    Refnet__HandoffRecord rec = REFNET__HANDOFF_RECORD__INIT;
    Refnet__HandoffEvent ev = REFNET__HANDOFF_EVENT__INIT;
    Refnet__HandoffEvent *events[1] = { &ev };
    ev.at_ms = now;
    ev.by = (char *)self;
    ev.status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED;
    ev.mode = req->mode;
    rec.id = (char *)h->id;
    rec.role = REFNET__HANDOFF_ROLE__HANDOFF_ROLE_SENDER;
    rec.sender = (char *)self;
    rec.receiver = (char *)h->receiver;
    rec.service_id = h->service->id;
    rec.service_name = h->service->name;
    rec.person_id = (char *)req->person_id;
    rec.person_packet = h->packet; /* what was disclosed, for handoff.show and accounting */
    rec.categories = (Refnet__Category *)h->cats;
    rec.n_categories = h->ncats;
    rec.consent_id = h->consent->id;
    rec.mode = req->mode;
    rec.accompany = req->accompany;
    rec.proposed_at_ms = req->proposed_at_ms;
    rec.status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED;
    rec.events = events;
    rec.n_events = 1;
    rec.created_at_ms = rec.updated_at_ms = rec.sent_at_ms = now;
    rec.ttl_ms = h->ttl;
    char actor[AUDIT_ACTOR_LEN];
    audit_actor(actor);
    int rc = handoff_put(txn, st, &rec);
    if (rc == 0)
        rc = handoff_audit(txn, st, &rec, REFNET__AUDIT_EVENT__AUDIT_EVENT_DISCLOSURE_SENT, actor,
                           h->msg_id, now);
    return rc;
}

/* Looks up the person and the service; fills the receiver and `to_out`. */
static int
handoff_lookup(MDB_txn *txn,
               const store_t *st,
               const char *self,
               const handoff_start_t *req,
               pbuf_t **person,
               pbuf_t **svc,
               char to_out[WIRE_MAX_IDENT + 1],
               char *why)
{
    int rc = persons_get(txn, st, req->person_id, person);
    if (rc == REFNET_ENOTFOUND)
        return handoff_fail(why, rc, "there is no person with this id");
    if (rc != 0)
        return rc;
    rc = revoke_check_onward(txn, st, (const Refnet__PersonRecord *)pbuf_msg(*person), why);
    if (rc != 0)
        return rc;
    rc = replica_get(txn, st, req->service_id, svc);
    if (rc == REFNET_ENOTFOUND)
        return handoff_fail(why, rc, "the directory has no service %s", req->service_id);
    if (rc != 0)
        return rc;
    const Refnet__DirRecord *rec = (const Refnet__DirRecord *)pbuf_msg(*svc);
    const char *receiver = rec->agency[0] ? rec->agency : rec->service->agency;
    snprintf(to_out, WIRE_MAX_IDENT + 1, "%s", receiver);
    if (!validate_ident(receiver))
        return handoff_fail(why, REFNET_EINVAL, "service %s names no valid agency",
                            req->service_id);
    if (strcmp(receiver, self) == 0)
        return handoff_fail(why, REFNET_EINVAL, "service %s belongs to this agency",
                            req->service_id);
    return 0;
}

/* The steps of handoff_start after the lookups: consent, packet, outbox, record. */
static int
handoff_start_found(MDB_txn *txn,
                    const store_t *st,
                    const char *self,
                    const handoff_start_t *req,
                    const Refnet__PersonRecord *p,
                    handoff_new_t *h,
                    uint64_t now,
                    char *why)
{
    pbuf_t *consent = NULL;
    const char *cwhy = "no valid consent";
    size_t len = 0;
    h->ncats = handoff_categories(p, req, h->cats);
    int rc = peerkeys_refuse_revoked(txn, st, h->receiver, why, HANDOFF_WHY_LEN);
    if (rc != 0)
        return rc;
    rc = consent_find_valid(txn, st, req->person_id, h->receiver, NODE_PURPOSE_REFERRAL, h->cats,
                            h->ncats, now, &consent, &cwhy);
    if (rc == REFNET_ECONSENT)
        return handoff_fail(why, rc, "no valid consent covers agency %s for %s: %s", h->receiver,
                            NODE_PURPOSE_REFERRAL, cwhy);
    if (rc != 0)
        return rc;
    h->consent = (const Refnet__ConsentRecord *)pbuf_msg(consent);
    handoff_packet(p, req, &h->packet.data, &len);
    h->packet.len = len;
    rc = req->seal_sk ? peerkeys_seal(txn, st, h->receiver, req->seal_sk, &h->packet, &h->sealed)
                      : REFNET_EFORBIDDEN;
    if (rc == REFNET_EFORBIDDEN)
        rc = handoff_fail(why, rc,
                          "agency %s has no sealing key vouched for by the broker yet, so its "
                          "person data cannot be sealed; nothing was sent",
                          h->receiver);
    uid_new_ordered(h->id); /* time-ordered: appended to every handoff index, not scattered */
    if (rc == 0)
        rc = handoff_queue_request(txn, st, req, h, now, why);
    if (rc == 0)
        rc = handoff_record_request(txn, st, self, req, h, now);
    free(h->packet.data);
    free(h->sealed.data);
    pbuf_destroy(&consent);
    return rc;
}

int
handoff_start(MDB_txn *txn,
              const store_t *st,
              const char *self,
              const handoff_start_t *req,
              uint64_t now,
              char id_out[UID_STR_LEN],
              char to_out[WIRE_MAX_IDENT + 1],
              char *why)
{
    pbuf_t *person = NULL, *svc = NULL;
    handoff_new_t h = { .ttl = req->ttl_ms ? req->ttl_ms : NODE_TTL_DEFAULT_MS };
    to_out[0] = '\0';
    int rc = handoff_lookup(txn, st, self, req, &person, &svc, to_out, why);
    if (rc == 0) {
        h.receiver = to_out;
        h.service = ((const Refnet__DirRecord *)pbuf_msg(svc))->service;
        rc = handoff_start_found(txn, st, self, req, (const Refnet__PersonRecord *)pbuf_msg(person),
                                 &h, now, why);
    }
    if (rc == 0)
        memcpy(id_out, h.id, UID_STR_LEN);
    pbuf_destroy(&svc);
    pbuf_destroy(&person);
    return rc;
}

static fsm_side_t
handoff_my_side(const Refnet__HandoffRecord *rec)
{
    return rec->role == REFNET__HANDOFF_ROLE__HANDOFF_ROLE_SENDER ? FSM_SIDE_SENDER
                                                                  : FSM_SIDE_RECEIVER;
}

static const char *
handoff_other_party(const Refnet__HandoffRecord *rec)
{
    return rec->role == REFNET__HANDOFF_ROLE__HANDOFF_ROLE_SENDER ? rec->receiver : rec->sender;
}

/* Records the local step `ev` on handoff `rec` and queues `up` for the other party. */
static int
handoff_local_step(MDB_txn *txn,
                   const store_t *st,
                   const Refnet__HandoffRecord *rec,
                   const Refnet__HandoffEvent *ev,
                   Refnet__HandoffUpdate *up,
                   uint64_t now,
                   char *why)
{
    if (rec->n_events >= NODE_HANDOFF_MAX_EVENTS)
        return handoff_fail(why, REFNET_EINVAL, "the handoff has reached %d events",
                            NODE_HANDOFF_MAX_EVENTS);
    int rc = handoff_queue(txn, st, handoff_other_party(rec), 0, up, now, NULL, why);
    if (rc != 0)
        return rc;
    return handoff_put_step(txn, st, rec, ev, now);
}

/* Reads handoff `id` for a local step. */
static int
handoff_load(MDB_txn *txn, const store_t *st, const char *id, pbuf_t **out, char *why)
{
    int rc = handoff_get(txn, st, id, out);
    if (rc == REFNET_ENOTFOUND)
        return handoff_fail(why, rc, "there is no handoff with this id");
    return rc;
}

/* Seals `reason` for agency `to` as an encoded StepNote into *sealed (caller frees). */
static int
handoff_seal_reason(MDB_txn *txn,
                    const store_t *st,
                    const char *to,
                    const char *reason,
                    const uint8_t *seal_sk,
                    ProtobufCBinaryData *sealed,
                    char *why)
{
    Refnet__StepNote note = REFNET__STEP_NOTE__INIT;
    ProtobufCBinaryData clear = { 0, NULL };
    note.reason = (char *)reason;
    pbuf_pack(&note.base, &clear.data, &clear.len);
    int rc = seal_sk ? peerkeys_seal(txn, st, to, seal_sk, &clear, sealed) : REFNET_EFORBIDDEN;
    free(clear.data);
    if (rc == REFNET_EFORBIDDEN)
        return handoff_fail(why, rc,
                            "the reason cannot be sealed for agency %s (no sealing key vouched "
                            "for by the broker); nothing was sent",
                            to);
    return rc;
}

int
handoff_update(MDB_txn *txn,
               const store_t *st,
               const char *self,
               const char *id,
               Refnet__HandoffStatus to,
               const char *reason,
               Refnet__Outcome outcome,
               const uint8_t *seal_sk,
               uint64_t now,
               char *why)
{
    pbuf_t *pb = NULL;
    const char *rule = "refused";
    Refnet__HandoffEvent ev = REFNET__HANDOFF_EVENT__INIT;
    Refnet__HandoffUpdate up = REFNET__HANDOFF_UPDATE__INIT;
    int rc = handoff_load(txn, st, id, &pb, why);
    if (rc != 0)
        return rc;
    const Refnet__HandoffRecord *rec = (const Refnet__HandoffRecord *)pbuf_msg(pb);
    rc = fsm_check(rec->status, to, handoff_my_side(rec), handoff_given(reason), &rule);
    if (rc != 0) {
        rc = handoff_fail(why, REFNET_ETRANSITION, "%s", rule);
        goto out;
    }
    if (handoff_given(reason)) {
        rc = handoff_seal_reason(txn, st, handoff_other_party(rec), reason, seal_sk,
                                 &up.sealed_reason, why);
        if (rc != 0)
            goto out;
    }
    ev.at_ms = up.at_ms = now;
    ev.by = (char *)self;
    ev.status = up.status = to;
    ev.reason = (char *)(reason ? reason : ""); /* our own record keeps it in clear */
    ev.outcome = up.outcome = outcome;
    up.handoff_id = rec->id;
    rc = handoff_local_step(txn, st, rec, &ev, &up, now, why);
out:
    free(up.sealed_reason.data);
    pbuf_destroy(&pb);
    return rc;
}

int
handoff_set_status(MDB_txn *txn,
                   const store_t *st,
                   const char *self,
                   const char *id,
                   Refnet__HandoffStatus to,
                   const char *reason,
                   Refnet__Outcome outcome,
                   uint64_t now,
                   char *why)
{
    return handoff_update(txn, st, self, id, to, reason, outcome, NULL, now, why);
}

int
handoff_milestone(MDB_txn *txn,
                  const store_t *st,
                  const char *self,
                  const char *id,
                  Refnet__Milestone m,
                  Refnet__ContactMode mode,
                  uint64_t now,
                  char *why)
{
    pbuf_t *pb = NULL;
    const char *rule = "refused";
    Refnet__HandoffEvent ev = REFNET__HANDOFF_EVENT__INIT;
    Refnet__HandoffUpdate up = REFNET__HANDOFF_UPDATE__INIT;
    int rc = handoff_load(txn, st, id, &pb, why);
    if (rc != 0)
        return rc;
    const Refnet__HandoffRecord *rec = (const Refnet__HandoffRecord *)pbuf_msg(pb);
    rc = fsm_check_milestone(rec->status, m, handoff_my_side(rec), &rule);
    if (rc != 0) {
        rc = handoff_fail(why, REFNET_ETRANSITION, "%s", rule);
        goto out;
    }
    ev.at_ms = up.at_ms = now;
    ev.by = (char *)self;
    ev.milestone = up.milestone = m;
    ev.mode = up.mode = mode;
    up.handoff_id = rec->id;
    rc = handoff_local_step(txn, st, rec, &ev, &up, now, why);
out:
    pbuf_destroy(&pb);
    return rc;
}

/* Creates the receiver-side record of a new handoff. */
static int
handoff_receive_request(MDB_txn *txn,
                        const store_t *st,
                        const char *self,
                        const Refnet__Mail *mail,
                        uint64_t now,
                        char *why)
{
    const Refnet__HandoffUpdate *up = mail->handoff;
    Refnet__HandoffRecord rec = REFNET__HANDOFF_RECORD__INIT;
    Refnet__HandoffEvent ev = REFNET__HANDOFF_EVENT__INIT;
    Refnet__HandoffEvent *events[1] = { &ev };
    pbuf_t *old = NULL;
    char name[WIRE_MAX_NAME + 1];

    int rc = handoff_get(txn, st, up->handoff_id, &old);
    pbuf_destroy(&old);
    if (rc == 0)
        return handoff_fail(why, REFNET_EEXIST, "handoff %s was already requested", up->handoff_id);
    if (rc != REFNET_ENOTFOUND && rc != REFNET_EDECODE)
        return rc;
    /* The service's name as this node knows it; none when the service is not (or no longer)
     * in its directory. Copied: the record's bytes may move with the writes below. */
    if (replica_service_name(txn, st, up->service_id, name, sizeof name) == 0)
        rec.service_name = name;
    ev.at_ms = up->at_ms ? up->at_ms : now;
    ev.by = mail->from;
    ev.status = up->status;
    ev.mode = up->mode;
    rec.id = up->handoff_id;
    rec.role = REFNET__HANDOFF_ROLE__HANDOFF_ROLE_RECEIVER;
    rec.sender = mail->from;
    rec.receiver = (char *)self;
    rec.service_id = up->service_id;
    rec.person_packet = up->person_packet;
    rec.categories = up->categories;
    rec.n_categories = up->n_categories;
    rec.consent_id = up->consent_id;
    rec.mode = up->mode;
    rec.accompany = up->accompany;
    rec.proposed_at_ms = up->proposed_at_ms;
    rec.status = up->status;
    rec.events = events;
    rec.n_events = 1;
    rec.created_at_ms = rec.updated_at_ms = now;
    rec.stored_at_ms = mail->stored_at_ms;
    rec.ttl_ms = mail->ttl_ms;
    return handoff_put(txn, st, &rec);
}

/* Checks a received step against the state machine for the other party's side. */
static int
handoff_check_remote(const Refnet__HandoffRecord *rec, const Refnet__HandoffUpdate *up, char *why)
{
    fsm_side_t side = handoff_my_side(rec) == FSM_SIDE_SENDER ? FSM_SIDE_RECEIVER : FSM_SIDE_SENDER;
    Refnet__HandoffStatus status = rec->status;
    const char *rule = "refused";
    if (up->status != REFNET__HANDOFF_STATUS__HANDOFF_STATUS_UNSPECIFIED) {
        bool has_reason = handoff_given(up->reason) || up->sealed_reason.len > 0;
        if (fsm_check(status, up->status, side, has_reason, &rule) != 0)
            return handoff_fail(why, REFNET_ETRANSITION, "%s", rule);
        status = up->status;
    }
    if (up->milestone != REFNET__MILESTONE__MILESTONE_UNSPECIFIED &&
        fsm_check_milestone(status, up->milestone, side, &rule) != 0)
        return handoff_fail(why, REFNET_ETRANSITION, "%s", rule);
    return 0;
}

static int
handoff_receive_step(
    MDB_txn *txn, const store_t *st, const Refnet__Mail *mail, uint64_t now, char *why)
{
    const Refnet__HandoffUpdate *up = mail->handoff;
    Refnet__HandoffEvent ev = REFNET__HANDOFF_EVENT__INIT;
    pbuf_t *pb = NULL;
    int rc = handoff_get(txn, st, up->handoff_id, &pb);
    if (rc == REFNET_ENOTFOUND)
        return handoff_fail(why, rc, "handoff %s is unknown here", up->handoff_id);
    if (rc != 0)
        return rc;
    const Refnet__HandoffRecord *rec = (const Refnet__HandoffRecord *)pbuf_msg(pb);
    if (strcmp(mail->from, handoff_other_party(rec)) != 0) {
        rc = handoff_fail(why, REFNET_EFORBIDDEN, "agency %s is not a party to handoff %s",
                          mail->from, rec->id);
        goto out;
    }
    rc = handoff_check_remote(rec, up, why);
    if (rc != 0)
        goto out;
    ev.at_ms = up->at_ms ? up->at_ms : now;
    ev.by = mail->from;
    ev.status = up->status;
    ev.milestone = up->milestone;
    ev.reason = up->reason;
    ev.outcome = up->outcome;
    ev.mode = up->mode;
    rc = handoff_put_step(txn, st, rec, &ev, now);
out:
    pbuf_destroy(&pb);
    return rc;
}

int
handoff_apply_mail(MDB_txn *txn,
                   const store_t *st,
                   const char *self,
                   const Refnet__Mail *mail,
                   uint64_t now,
                   char *why)
{
    if (mail->content_case != REFNET__MAIL__CONTENT_HANDOFF || !mail->handoff)
        return handoff_fail(why, REFNET_EINVAL, "the mail carries no handoff step");
    if (!validate_ident(mail->from))
        return handoff_fail(why, REFNET_EFORBIDDEN, "the mail names no sender");
    if (mail->handoff->status == REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED)
        return handoff_receive_request(txn, st, self, mail, now, why);
    return handoff_receive_step(txn, st, mail, now, why);
}

/* Sets one of the sender-side delivery times the first time it is learnt. */
static int
handoff_set_time(MDB_txn *txn, const store_t *st, const char *id, uint64_t at, bool delivered)
{
    pbuf_t *pb = NULL;
    int rc = handoff_get(txn, st, id, &pb);
    if (rc != 0)
        return rc;
    Refnet__HandoffRecord *rec = (Refnet__HandoffRecord *)pbuf_msg(pb);
    uint64_t *slot = delivered ? &rec->delivered_at_ms : &rec->stored_at_ms;
    if (*slot == 0 && rec->role == REFNET__HANDOFF_ROLE__HANDOFF_ROLE_SENDER) {
        *slot = at;
        rc = handoff_put(txn, st, rec);
    }
    pbuf_destroy(&pb);
    return rc;
}

/* Records that a message of handoff `rec` expired undelivered (a receipt without a delivery
 * time). A request that never arrived ends the handoff's chances: its outcome is "expired". */
static int
handoff_expired(MDB_txn *txn,
                const store_t *st,
                const Refnet__HandoffRecord *rec,
                const Refnet__Receipt *r,
                uint64_t now)
{
    Refnet__HandoffEvent ev = REFNET__HANDOFF_EVENT__INIT;
    char reason[HANDOFF_WHY_LEN];
    snprintf(reason, sizeof reason, "a message to %s expired before it was delivered",
             r->recipient);
    ev.at_ms = now;
    ev.by = (char *)HANDOFF_BY_NETWORK;
    ev.reason = reason;
    if (rec->role == REFNET__HANDOFF_ROLE__HANDOFF_ROLE_SENDER &&
        rec->status == REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED)
        ev.outcome = REFNET__OUTCOME__OUTCOME_EXPIRED;
    return handoff_put_step(txn, st, rec, &ev, now);
}

int
handoff_apply_receipt(MDB_txn *txn, const store_t *st, const Refnet__Receipt *r, uint64_t now)
{
    pbuf_t *pb = NULL;
    if (!handoff_given(r->handoff_id))
        return 0;
    if (r->delivered_at_ms != 0)
        return handoff_set_time(txn, st, r->handoff_id, r->delivered_at_ms, true);
    int rc = handoff_get(txn, st, r->handoff_id, &pb);
    if (rc == 0)
        rc = handoff_expired(txn, st, (const Refnet__HandoffRecord *)pbuf_msg(pb), r, now);
    pbuf_destroy(&pb);
    return rc;
}

int
handoff_refused(MDB_txn *txn, const store_t *st, const char *id, const char *detail, uint64_t now)
{
    pbuf_t *pb = NULL;
    Refnet__HandoffEvent ev = REFNET__HANDOFF_EVENT__INIT;
    char reason[HANDOFF_WHY_LEN];
    snprintf(reason, sizeof reason, "the network refused a step: %s",
             detail && detail[0] ? detail : "no detail");
    ev.at_ms = now;
    ev.by = (char *)HANDOFF_BY_NETWORK;
    ev.reason = reason;
    int rc = handoff_get(txn, st, id, &pb);
    if (rc == 0)
        rc = handoff_put_step(txn, st, (const Refnet__HandoffRecord *)pbuf_msg(pb), &ev, now);
    pbuf_destroy(&pb);
    return rc;
}

int
handoff_stored(MDB_txn *txn, const store_t *st, const char *id, uint64_t stored_at)
{
    return handoff_set_time(txn, st, id, stored_at, false);
}

int
handoff_each(MDB_txn *txn,
             const store_t *st,
             int (*visit)(void *ctx, const Refnet__HandoffRecord *h),
             void *ctx)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, store_db(st, NODEDB_HANDOFFS), &cur);
    if (rc != 0)
        return store_err(rc);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        pbuf_t *pb = NULL;
        if (pbuf_unpack(&pb, &refnet__handoff_record__descriptor, v.mv_data, v.mv_size,
                        v.mv_size) != 0)
            continue;
        int vrc = visit(ctx, (const Refnet__HandoffRecord *)pbuf_msg(pb));
        pbuf_destroy(&pb);
        if (vrc != 0) {
            mdb_cursor_close(cur);
            return vrc;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

/* ---- sealed person packets ---------------------------------------------------------------- */

/* Opens the packet of a delivered REQUESTED step into *clear (caller frees). Returns 0,
 * REFNET_ECRYPTO / REFNET_EINVAL with *why (the packet is to be dropped) or a store error. */
static int
handoff_open_packet(MDB_txn *txn,
                    const store_t *st,
                    const Refnet__Mail *mail,
                    const uint8_t *seal_sk,
                    ProtobufCBinaryData *clear,
                    const char **why)
{
    char bad[WIRE_WHY_LEN];
    const Refnet__HandoffUpdate *up = mail->handoff;
    if (up->seal_version != SEAL_VERSION) {
        *why = "it arrived unsealed";
        return REFNET_ECRYPTO;
    }
    if (!seal_sk) {
        *why = "this node has no sealing key";
        return REFNET_ECRYPTO;
    }
    int rc = peerkeys_open(txn, st, mail->from, seal_sk, &up->person_packet, clear, why);
    if (rc == 0 && validate_opened_packet(up, clear->data, clear->len, bad) != 0) {
        *why = "its content is not a valid person packet for its categories";
        rc = REFNET_EINVAL;
    }
    return rc;
}

/* Opens a later step's sealed reason from `mail->from` into `out`. Returns 0 (out holds the
 * reason), REFNET_ECRYPTO with *why (logged by the caller) or a store error. */
static int
handoff_open_reason(MDB_txn *txn,
                    const store_t *st,
                    const Refnet__Mail *mail,
                    const uint8_t *seal_sk,
                    char out[WIRE_MAX_REASON + 1],
                    const char **why)
{
    ProtobufCBinaryData clear = { 0, NULL };
    pbuf_t *pb = NULL;
    if (!seal_sk) {
        *why = "this node has no sealing key";
        return REFNET_ECRYPTO;
    }
    int rc =
        peerkeys_open(txn, st, mail->from, seal_sk, &mail->handoff->sealed_reason, &clear, why);
    if (rc != 0)
        return rc;
    if (pbuf_unpack(&pb, &refnet__step_note__descriptor, clear.data, clear.len,
                    WIRE_MAX_SEALED_REASON) != 0 ||
        !validate_text(((const Refnet__StepNote *)pbuf_msg(pb))->reason, 1, WIRE_MAX_REASON)) {
        *why = "its content is not a valid step note";
        rc = REFNET_ECRYPTO;
    } else {
        snprintf(out, WIRE_MAX_REASON + 1, "%s", ((const Refnet__StepNote *)pbuf_msg(pb))->reason);
    }
    pbuf_destroy(&pb);
    free(clear.data);
    return rc;
}

/* handoff_apply_mail for a later step: its sealed reason, if any, is opened first. */
static int
handoff_receive_later(MDB_txn *txn,
                      const store_t *st,
                      const char *self,
                      const Refnet__Mail *mail,
                      const uint8_t *seal_sk,
                      uint64_t now,
                      char *why)
{
    char reason[WIRE_MAX_REASON + 1] = "";
    const char *cwhy = "";
    if (mail->content_case != REFNET__MAIL__CONTENT_HANDOFF || !mail->handoff ||
        mail->handoff->sealed_reason.len == 0)
        return handoff_apply_mail(txn, st, self, mail, now, why);
    int rc = handoff_open_reason(txn, st, mail, seal_sk, reason, &cwhy);
    if (rc != 0 && rc != REFNET_ECRYPTO)
        return rc;
    if (rc != 0)
        log_error("handoff: the sealed reason of a step of handoff %s from %s was dropped: %s",
                  mail->handoff->handoff_id, mail->from, cwhy);
    Refnet__Mail copy = *mail;
    Refnet__HandoffUpdate opened = *mail->handoff;
    opened.reason = reason; /* sealed_reason stays: the state machine sees a reason was given */
    copy.handoff = &opened;
    return handoff_apply_mail(txn, st, self, &copy, now, why);
}

int
handoff_receive(MDB_txn *txn,
                const store_t *st,
                const char *self,
                const Refnet__Mail *mail,
                const uint8_t *msg_id,
                const uint8_t *seal_sk,
                uint64_t now,
                char *why,
                handoff_packet_t *packet)
{
    const Refnet__HandoffUpdate *up = mail->handoff;
    *packet = HANDOFF_PACKET_NONE;
    if (mail->content_case != REFNET__MAIL__CONTENT_HANDOFF || !up ||
        up->status != REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED ||
        up->person_packet.len == 0)
        return handoff_receive_later(txn, st, self, mail, seal_sk, now, why);
    ProtobufCBinaryData clear = { 0, NULL };
    const char *cwhy = "";
    int rc = handoff_open_packet(txn, st, mail, seal_sk, &clear, &cwhy);
    if (rc != 0 && rc != REFNET_ECRYPTO && rc != REFNET_EINVAL)
        return rc;
    Refnet__Mail copy = *mail;
    Refnet__HandoffUpdate opened = *up;
    opened.person_packet = clear; /* empty when dropped: the handoff stays, the data does not */
    opened.seal_version = 0;
    copy.handoff = &opened;
    if (rc == 0) {
        *packet = HANDOFF_PACKET_OPENED;
    } else {
        *packet = HANDOFF_PACKET_DROPPED;
        free(clear.data);
        opened.person_packet.data = NULL;
        opened.person_packet.len = 0;
        log_error("handoff: the person data of handoff %s from %s was dropped: %s; the handoff "
                  "is kept without it",
                  up->handoff_id, mail->from, cwhy);
    }
    rc = handoff_apply_mail(txn, st, self, &copy, now, why);
    if (rc == 0 && *packet == HANDOFF_PACKET_OPENED) {
        Refnet__HandoffRecord rec = REFNET__HANDOFF_RECORD__INIT;
        rec.id = up->handoff_id;
        rec.sender = mail->from;
        rec.receiver = (char *)self;
        rec.categories = up->categories;
        rec.n_categories = up->n_categories;
        rec.consent_id = up->consent_id;
        rc = handoff_audit(txn, st, &rec, REFNET__AUDIT_EVENT__AUDIT_EVENT_DATA_RECEIVED,
                           AUDIT_ACTOR_NODE, msg_id, now);
    }
    free(opened.person_packet.data);
    return rc;
}
