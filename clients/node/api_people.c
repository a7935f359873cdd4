/* api_people: the local API's person and consent operations (see api_people.h). */
#include "api_people.h"

#include <string.h>

#include "audit.h"
#include "clock.h"
#include "consent.h"
#include "enums.h"
#include "handoff.h"
#include "jsonout.h"
#include "node_limits.h"
#include "persons.h"
#include "refnet_error.h"
#include "revoke.h"
#include "validate.h"

/* Who is recorded as intermediary on every consent: the network the node belongs to. */
#define API_PEOPLE_INTERMEDIARY "refnet network"

/* Reads an optional enum-valued string argument with `parse`. */
static int
api_people_enum(apicall_t *c,
                json_t *args,
                const char *key,
                int (*parse)(const char *, int *),
                const char *choices,
                int *out)
{
    const char *s = NULL;
    int rc = apicall_text(c, args, key, false, 1, 64, &s);
    if (rc != 0)
        return rc;
    if (parse(s, out) != 0)
        return apicall_fail(c, REFNET_EINVAL, "argument %s must be one of %s", key, choices);
    return 0;
}

static int
api_people_parse_mode(const char *s, int *out)
{
    Refnet__ContactMode m;
    int rc = enums_mode_parse(s, &m);
    *out = (int)m;
    return rc;
}

static int
api_people_parse_method(const char *s, int *out)
{
    if (strcmp(s, "signed") == 0)
        *out = REFNET__CONSENT_METHOD__CONSENT_METHOD_SIGNED;
    else if (strcmp(s, "verbal-witnessed") == 0)
        *out = REFNET__CONSENT_METHOD__CONSENT_METHOD_VERBAL_WITNESSED;
    else
        return REFNET_EINVAL;
    return 0;
}

/* Takes the person of received handoff `hid` into this agency's own persons: the data as the
 * handoff disclosed it, remembered as coming from it (the onward rule, revoke.h). Refused
 * when that data is restricted. */
static int
api_people_person_from(apicall_t *c, const char *hid)
{
    Refnet__PersonRecord p = REFNET__PERSON_RECORD__INIT;
    pbuf_t *h = NULL, *pkt = NULL;
    char id[UID_STR_LEN];
    int rc = handoff_get(c->txn, c->st, hid, &h);
    if (rc == REFNET_ENOTFOUND)
        return apicall_fail(c, rc, "there is no handoff with this id");
    if (rc != 0)
        return apicall_fail(c, rc, "cannot read the handoff: %s", refnet_strerror(rc));
    const Refnet__HandoffRecord *rec = (const Refnet__HandoffRecord *)pbuf_msg(h);
    if (revoke_is_restricted(rec))
        rc = apicall_fail(c, REFNET_EFORBIDDEN,
                          "the person's consent for handoff %s was revoked: the data is "
                          "restricted and may not be used or sent onward",
                          hid);
    else if (rec->role != REFNET__HANDOFF_ROLE__HANDOFF_ROLE_RECEIVER ||
             rec->person_packet.len == 0 ||
             pbuf_unpack(&pkt, &refnet__person_packet__descriptor, rec->person_packet.data,
                         rec->person_packet.len, WIRE_MAX_PERSON_PACKET) != 0)
        rc = apicall_fail(c, REFNET_EINVAL, "handoff %s holds no received person data", hid);
    if (rc == 0) {
        const Refnet__PersonPacket *pp = (const Refnet__PersonPacket *)pbuf_msg(pkt);
        p.name = pp->name;
        p.contact = pp->contact;
        p.preferred_contact = pp->preferred_contact;
        p.language = pp->language;
        p.from_handoff = rec->id;
        rc = persons_add(c->txn, c->st, &p, c->now, id);
        if (rc != 0)
            rc = apicall_fail(c, rc, "cannot store the person: %s", refnet_strerror(rc));
    }
    if (rc == 0)
        c->result = json_pack("{s:s}", "id", id);
    pbuf_destroy(&pkt);
    pbuf_destroy(&h);
    return rc;
}

int
api_people_person_add(apicall_t *c, json_t *args)
{
    Refnet__PersonRecord p = REFNET__PERSON_RECORD__INIT;
    const char *name = NULL, *contact = "", *language = "", *from = NULL;
    int mode = 0;
    char id[UID_STR_LEN];
    int rc = apicall_uuid(c, args, "from_handoff", false, &from);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return api_people_person_from(c, from);
    rc = apicall_text(c, args, "name", true, 1, WIRE_MAX_NAME, &name);
    if (rc >= 0)
        rc = apicall_text(c, args, "contact", false, 0, WIRE_MAX_CONTACT, &contact);
    if (rc >= 0)
        rc = api_people_enum(c, args, "preferred_contact", api_people_parse_mode,
                             "in-person, phone, video", &mode);
    if (rc >= 0)
        rc = apicall_text(c, args, "language", false, 0, WIRE_MAX_LANGUAGE, &language);
    if (rc < 0)
        return rc;
    if (language[0] && !apicall_language_ok(language))
        return apicall_fail(c, REFNET_EINVAL, "argument language must be a language code");
    p.name = (char *)name;
    p.contact = (char *)contact;
    p.preferred_contact = (Refnet__ContactMode)mode;
    p.language = (char *)language;
    rc = persons_add(c->txn, c->st, &p, c->now, id);
    if (rc != 0)
        return apicall_fail(c, rc, "cannot store the person: %s", refnet_strerror(rc));
    c->result = json_pack("{s:s}", "id", id);
    return 0;
}

typedef struct {
    apicall_t *c;
    json_t *list;
} api_people_persons_t;

/* A person taken from a received handoff whose data is now restricted is listed as a stub. */
static int
api_people_person_visit(void *ctx, const Refnet__PersonRecord *p)
{
    api_people_persons_t *l = ctx;
    json_t *row = jsonout_person(p);
    int rc = 0;
    if (p->from_handoff[0]) {
        rc = revoke_check_onward(l->c->txn, l->c->st, p, NULL);
        json_object_set_new(row, "from_handoff", jsonout_str(p->from_handoff));
        json_object_set_new(row, "restricted", json_boolean(rc == REFNET_EFORBIDDEN));
    }
    if (rc == REFNET_EFORBIDDEN) {
        json_object_set_new(row, "name", json_string(REVOKE_REDACTED_NAME));
        json_object_set_new(row, "contact", json_null());
        json_object_set_new(row, "preferred_contact", json_null());
        json_object_set_new(row, "language", json_null());
        rc = 0;
    }
    json_array_append_new(l->list, row);
    return rc;
}

int
api_people_person_list(apicall_t *c, json_t *args)
{
    json_t *list = json_array();
    api_people_persons_t l = { c, list };
    (void)args;
    int rc = persons_each(c->txn, c->st, NODE_LIST_MAX, api_people_person_visit, &l);
    if (rc != 0) {
        json_decref(list);
        return apicall_fail(c, rc, "cannot list persons: %s", refnet_strerror(rc));
    }
    c->result = json_object();
    json_object_set_new(c->result, "persons", list);
    return 0;
}

/* Reads "share": a list of category names, each at most once. */
static int
api_people_read_share(apicall_t *c, json_t *args, Refnet__Category *cats, size_t *n)
{
    json_t *v = json_object_get(args, "share"), *item = NULL;
    size_t i = 0;
    if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > WIRE_MAX_CATEGORIES)
        return apicall_fail(c, REFNET_EINVAL,
                            "argument share must list 1 to %d categories: contact, needs, "
                            "own-words, notes, substance-use",
                            WIRE_MAX_CATEGORIES);
    *n = 0;
    json_array_foreach(v, i, item)
    {
        Refnet__Category cat;
        if (!json_is_string(item) || enums_category_parse(json_string_value(item), &cat) != 0)
            return apicall_fail(c, REFNET_EINVAL, "share[%zu] is not a category name", i);
        for (size_t j = 0; j < *n; j++)
            if (cats[j] == cat)
                return apicall_fail(c, REFNET_EINVAL, "share lists %s twice",
                                    enums_category_name(cat));
        cats[(*n)++] = cat;
    }
    return 0;
}

/* Reads when the consent ends: a date, an event, or both; at least one. */
static int
api_people_read_expiry(apicall_t *c, json_t *args, Refnet__ConsentRecord *rec)
{
    const char *date = NULL, *event = "";
    int has_date = apicall_text(c, args, "expires", false, 1, 10, &date);
    if (has_date < 0)
        return has_date;
    int has_event = apicall_text(c, args, "expires_on_event", false, 1, WIRE_MAX_NAME, &event);
    if (has_event < 0)
        return has_event;
    if (has_date != 0 && has_event != 0)
        return apicall_fail(c, REFNET_EINVAL,
                            "a consent needs an end: give expires (YYYY-MM-DD) or "
                            "expires_on_event");
    if (has_date == 0 && clock_parse_date_end(date, &rec->expires_at_ms) != 0)
        return apicall_fail(c, REFNET_EINVAL, "argument expires must be a date YYYY-MM-DD");
    /* A consent that is already over would be recorded and never valid: refuse it so the peer
     * supporter notices the typing mistake while the person is still there. */
    if (has_date == 0 && rec->expires_at_ms <= clock_now_ms())
        return apicall_fail(c, REFNET_EINVAL, "argument expires is a date already past");
    rec->expires_on_event = (char *)event;
    return 0;
}

/* Reads the arguments of consent.grant into `rec` (strings borrowed from args). */
static int
api_people_read_grant(apicall_t *c,
                      json_t *args,
                      Refnet__ConsentRecord *rec,
                      Refnet__Category *cats)
{
    const char *person = NULL, *to = NULL, *purpose = NULL, *by = "";
    int method = 0;
    int rc = apicall_uuid(c, args, "person", true, &person);
    if (rc == 0)
        rc = apicall_text(c, args, "to", true, 1, WIRE_MAX_IDENT, &to);
    if (rc == 0 && strcmp(to, CONSENT_ANY_RECIPIENT) != 0 && !validate_ident(to))
        rc = apicall_fail(c, REFNET_EINVAL, "argument to must be an agency id or \"*\"");
    if (rc == 0)
        rc = apicall_ident(c, args, "purpose", true, &purpose);
    if (rc == 0)
        rc = api_people_read_share(c, args, cats, &rec->n_categories);
    if (rc == 0)
        rc = api_people_read_expiry(c, args, rec);
    if (rc == 0)
        rc = api_people_enum(c, args, "obtained", api_people_parse_method,
                             "signed, verbal-witnessed", &method);
    if (rc >= 0)
        rc = apicall_text(c, args, "recorded_by", false, 0, WIRE_MAX_NAME, &by);
    if (rc < 0)
        return rc;
    rec->person_id = (char *)person;
    rec->recipient = (char *)to;
    rec->purpose = (char *)purpose;
    rec->categories = cats;
    rec->method = (Refnet__ConsentMethod)method;
    rec->recorded_by = (char *)by;
    return 0;
}

/* Records a consent event in the audit log, in the call's transaction. */
static int
api_people_audit(apicall_t *c,
                 const Refnet__ConsentRecord *rec,
                 const char *id,
                 Refnet__AuditEvent event)
{
    Refnet__AuditEntry e = REFNET__AUDIT_ENTRY__INIT;
    char actor[AUDIT_ACTOR_LEN];
    audit_actor(actor);
    e.at_ms = c->now;
    e.event = event;
    e.discloser = rec->discloser;
    e.recipient = rec->recipient;
    e.person_id = rec->person_id;
    e.categories = rec->categories;
    e.n_categories = rec->n_categories;
    e.purpose = rec->purpose;
    e.consent_id = (char *)id;
    e.actor = actor;
    return audit_append(c->txn, c->st, &e);
}

int
api_people_consent_grant(apicall_t *c, json_t *args)
{
    Refnet__ConsentRecord rec = REFNET__CONSENT_RECORD__INIT;
    Refnet__Category cats[WIRE_MAX_CATEGORIES];
    char id[UID_STR_LEN];
    pbuf_t *person = NULL;
    int rc = api_people_read_grant(c, args, &rec, cats);
    if (rc != 0)
        return rc;
    rc = persons_get(c->txn, c->st, rec.person_id, &person);
    pbuf_destroy(&person);
    if (rc == REFNET_ENOTFOUND)
        return apicall_fail(c, rc, "there is no person with this id");
    if (rc != 0)
        return apicall_fail(c, rc, "cannot read the person: %s", refnet_strerror(rc));
    rec.discloser = (char *)c->agency;
    rec.intermediary = (char *)API_PEOPLE_INTERMEDIARY;
    rec.effective_at_ms = c->now;
    rc = consent_add(c->txn, c->st, &rec, c->now, id);
    if (rc == 0)
        rc = api_people_audit(c, &rec, id, REFNET__AUDIT_EVENT__AUDIT_EVENT_CONSENT_GRANTED);
    if (rc != 0)
        return apicall_fail(c, rc, "cannot store the consent: %s", refnet_strerror(rc));
    c->result = json_pack("{s:s}", "id", id);
    return 0;
}

/* Records a revocation in the audit log with the consent's own terms. */
static int
api_people_audit_revoke(apicall_t *c, const char *id)
{
    pbuf_t *pb = NULL;
    int rc = consent_get(c->txn, c->st, id, &pb);
    if (rc == 0)
        rc = api_people_audit(c, (const Refnet__ConsentRecord *)pbuf_msg(pb), id,
                              REFNET__AUDIT_EVENT__AUDIT_EVENT_CONSENT_REVOKED);
    pbuf_destroy(&pb);
    /* The consent was just read by consent_revoke: not finding it now is a storage fault. */
    return rc == REFNET_ENOTFOUND ? REFNET_ESTORAGE : rc;
}

int
api_people_consent_revoke(apicall_t *c, json_t *args)
{
    const char *id = NULL;
    int rc = apicall_uuid(c, args, "id", true, &id);
    if (rc != 0)
        return rc;
    char actor[AUDIT_ACTOR_LEN];
    size_t told = 0;
    audit_actor(actor);
    rc = consent_revoke(c->txn, c->st, id, c->now);
    if (rc == 0)
        rc = api_people_audit_revoke(c, id);
    if (rc == REFNET_ENOTFOUND)
        return apicall_fail(c, rc, "there is no consent with this id");
    if (rc == REFNET_EINVAL)
        return apicall_fail(c, rc, "the consent is already revoked");
    if (rc == 0)
        rc = revoke_propagate(c->txn, c->st, id, c->now, actor, &told);
    /* The revocation and the mails that carry it commit together: a person's revocation is
     * never recorded here without reaching the agencies that hold their data. */
    if (rc == REFNET_EQUEUEFULL)
        return apicall_fail(c, rc,
                            "the outbox is full, so the agencies that received data cannot be "
                            "told; nothing was revoked: try again when the broker is back");
    if (rc != 0)
        return apicall_fail(c, rc, "cannot revoke the consent: %s", refnet_strerror(rc));
    c->result = json_object();
    json_object_set_new(c->result, "id", json_string(id));
    json_object_set_new(c->result, "revoked_at", jsonout_time(c->now));
    json_object_set_new(c->result, "revocations_sent", json_integer((json_int_t)told));
    return 0;
}

typedef struct {
    json_t *list;
    uint64_t now;
} api_people_consents_t;

static int
api_people_consent_visit(void *ctx, const Refnet__ConsentRecord *rec)
{
    api_people_consents_t *l = ctx;
    json_array_append_new(l->list, jsonout_consent(rec, l->now, false));
    return 0;
}

int
api_people_consent_list(apicall_t *c, json_t *args)
{
    const char *person = NULL;
    api_people_consents_t l = { NULL, c->now };
    int rc = apicall_uuid(c, args, "person", false, &person);
    if (rc < 0)
        return rc;
    l.list = json_array();
    rc = consent_each(c->txn, c->st, person, NODE_LIST_MAX, api_people_consent_visit, &l);
    if (rc != 0) {
        json_decref(l.list);
        return apicall_fail(c, rc, "cannot list consents: %s", refnet_strerror(rc));
    }
    c->result = json_object();
    json_object_set_new(c->result, "consents", l.list);
    return 0;
}

/* The revocations sent for a consent: to whom, which handoffs, and whether acknowledged. */
static json_t *
api_people_notices(const Refnet__ConsentRecord *rec)
{
    json_t *list = json_array();
    for (size_t i = 0; i < rec->n_notices; i++) {
        const Refnet__RevocationNotice *n = rec->notices[i];
        json_t *o = json_object(), *ids = json_array();
        for (size_t j = 0; j < n->n_handoff_ids; j++)
            json_array_append_new(ids, jsonout_str(n->handoff_ids[j]));
        json_object_set_new(o, "agency", jsonout_str(n->recipient));
        json_object_set_new(o, "handoffs", ids);
        json_object_set_new(o, "sent_at", jsonout_time(n->sent_at_ms));
        json_object_set_new(o, "acknowledged", json_boolean(n->acked_at_ms != 0));
        json_object_set_new(o, "acknowledged_at", jsonout_time(n->acked_at_ms));
        json_object_set_new(o, "restricted_at", jsonout_time(n->restricted_at_ms));
        json_array_append_new(list, o);
    }
    return list;
}

int
api_people_consent_show(apicall_t *c, json_t *args)
{
    const char *id = NULL;
    pbuf_t *pb = NULL;
    int rc = apicall_uuid(c, args, "id", true, &id);
    if (rc != 0)
        return rc;
    rc = consent_get(c->txn, c->st, id, &pb);
    if (rc == REFNET_ENOTFOUND)
        return apicall_fail(c, rc, "there is no consent with this id");
    if (rc != 0)
        return apicall_fail(c, rc, "cannot read the consent: %s", refnet_strerror(rc));
    const Refnet__ConsentRecord *rec = (const Refnet__ConsentRecord *)pbuf_msg(pb);
    c->result = jsonout_consent(rec, c->now, true);
    json_object_set_new(c->result, "expiry_noted_at", jsonout_time(rec->expiry_noted_at_ms));
    json_object_set_new(c->result, "revocations", api_people_notices(rec));
    pbuf_destroy(&pb);
    return 0;
}
