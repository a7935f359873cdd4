/* api_handoff: the local API's handoff operations (see api_handoff.h). */
#include "api_handoff.h"

#include <stdlib.h>
#include <string.h>

#include "enums.h"
#include "handoff.h"
#include "jsonout.h"
#include "node_limits.h"
#include "persons.h"
#include "refnet_error.h"
#include "revoke.h"
#include "wire.h"
#include "xmalloc.h"

/* Longest TTL a caller may ask for, in hours (WIRE_MAX_TTL_MS). */
#define API_HANDOFF_MAX_TTL_HOURS ((json_int_t)(WIRE_MAX_TTL_MS / 3600000ULL))

static const struct {
    const char *action;
    Refnet__HandoffStatus status;
} api_handoff_actions[] = {
    { "accept", REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ACCEPTED },
    { "decline", REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REJECTED },
    { "begin", REFNET__HANDOFF_STATUS__HANDOFF_STATUS_IN_PROGRESS },
    { "hold", REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ON_HOLD },
    { "complete", REFNET__HANDOFF_STATUS__HANDOFF_STATUS_COMPLETED },
    { "fail", REFNET__HANDOFF_STATUS__HANDOFF_STATUS_FAILED },
    { "cancel", REFNET__HANDOFF_STATUS__HANDOFF_STATUS_CANCELLED },
};

int
api_handoff_action(const char *action, Refnet__HandoffStatus *out)
{
    for (size_t i = 0; i < sizeof api_handoff_actions / sizeof api_handoff_actions[0]; i++) {
        if (strcmp(api_handoff_actions[i].action, action) == 0) {
            *out = api_handoff_actions[i].status;
            return 0;
        }
    }
    return REFNET_EINVAL;
}

/* Reads an optional contact mode. */
static int
api_handoff_mode(apicall_t *c, json_t *args, Refnet__ContactMode *out)
{
    const char *s = NULL;
    int rc = apicall_text(c, args, "mode", false, 1, 32, &s);
    if (rc != 0)
        return rc;
    if (enums_mode_parse(s, out) != 0)
        return apicall_fail(c, REFNET_EINVAL, "argument mode must be in-person, phone or video");
    return 0;
}

/* A handoff error as the API reports it: the module's sentence, or the code's. */
static int
api_handoff_fail(apicall_t *c, int rc, const char *why)
{
    return apicall_fail(c, rc, "%s", why[0] ? why : refnet_strerror(rc));
}

static int
api_handoff_read_start(apicall_t *c, json_t *args, handoff_start_t *req)
{
    json_int_t ttl_hours = 0;
    int rc = apicall_uuid(c, args, "person", true, &req->person_id);
    if (rc == 0)
        rc = apicall_ident(c, args, "service", true, &req->service_id);
    if (rc == 0)
        rc = apicall_text(c, args, "note", false, 0, WIRE_MAX_LONG_TEXT, &req->note);
    if (rc >= 0)
        rc = apicall_text(c, args, "own_words", false, 0, WIRE_MAX_LONG_TEXT, &req->own_words);
    if (rc >= 0)
        rc = apicall_text(c, args, "needs", false, 0, WIRE_MAX_NEEDS, &req->needs);
    if (rc >= 0)
        rc = api_handoff_mode(c, args, &req->mode);
    if (rc >= 0)
        rc = apicall_bool(c, args, "accompany", false, &req->accompany);
    if (rc >= 0)
        rc = apicall_bool(c, args, "substance_use", false, &req->substance_use);
    if (rc >= 0)
        rc = apicall_time(c, args, "proposed_at", false, &req->proposed_at_ms);
    if (rc >= 0)
        rc = apicall_int(c, args, "ttl_hours", false, 1, API_HANDOFF_MAX_TTL_HOURS, &ttl_hours);
    if (rc < 0)
        return rc;
    req->ttl_ms = (uint64_t)ttl_hours * 3600000ULL;
    return 0;
}

int
api_handoff_start(apicall_t *c, json_t *args)
{
    handoff_start_t req = { 0 };
    char id[UID_STR_LEN], to[WIRE_MAX_IDENT + 1], why[HANDOFF_WHY_LEN] = "";
    int rc = api_handoff_read_start(c, args, &req);
    if (rc != 0)
        return rc;
    req.seal_sk = c->seal_sk;
    rc = handoff_start(c->txn, c->st, c->agency, &req, c->now, id, to, why);
    if (rc != 0)
        return api_handoff_fail(c, rc, why);
    c->result = json_pack("{s:s, s:s, s:s}", "id", id, "to", to, "status", "requested");
    return 0;
}

int
api_handoff_update(apicall_t *c, json_t *args)
{
    const char *id = NULL, *action = NULL, *reason = "", *outcome_name = NULL;
    Refnet__HandoffStatus status = REFNET__HANDOFF_STATUS__HANDOFF_STATUS_UNSPECIFIED;
    Refnet__Outcome outcome = REFNET__OUTCOME__OUTCOME_UNSPECIFIED;
    char why[HANDOFF_WHY_LEN] = "";
    int rc = apicall_uuid(c, args, "id", true, &id);
    if (rc == 0)
        rc = apicall_text(c, args, "action", true, 1, 32, &action);
    if (rc == 0 && api_handoff_action(action, &status) != 0)
        rc = apicall_fail(c, REFNET_EINVAL,
                          "argument action must be accept, decline, begin, hold, complete, "
                          "fail or cancel");
    if (rc == 0)
        rc = apicall_text(c, args, "reason", false, 0, WIRE_MAX_REASON, &reason);
    if (rc >= 0)
        rc = apicall_text(c, args, "outcome", false, 1, 32, &outcome_name);
    if (rc == 0 && enums_outcome_parse(outcome_name, &outcome) != 0)
        rc = apicall_fail(c, REFNET_EINVAL, "argument outcome is not an outcome code");
    if (rc < 0)
        return rc;
    rc = handoff_update(c->txn, c->st, c->agency, id, status, reason, outcome, c->seal_sk, c->now,
                        why);
    if (rc != 0)
        return api_handoff_fail(c, rc, why);
    c->result = json_pack("{s:s, s:s}", "id", id, "status", enums_status_name(status));
    return 0;
}

int
api_handoff_milestone(apicall_t *c, json_t *args)
{
    const char *id = NULL, *name = NULL;
    Refnet__Milestone m = REFNET__MILESTONE__MILESTONE_UNSPECIFIED;
    Refnet__ContactMode mode = REFNET__CONTACT_MODE__CONTACT_MODE_UNSPECIFIED;
    char why[HANDOFF_WHY_LEN] = "";
    int rc = apicall_uuid(c, args, "id", true, &id);
    if (rc == 0)
        rc = apicall_text(c, args, "milestone", true, 1, 32, &name);
    if (rc == 0 && enums_milestone_parse(name, &m) != 0)
        rc = apicall_fail(c, REFNET_EINVAL,
                          "argument milestone must be introduced, first-contact-confirmed, "
                          "follow-up-due or follow-up-done");
    if (rc == 0)
        rc = api_handoff_mode(c, args, &mode);
    if (rc < 0)
        return rc;
    rc = handoff_milestone(c->txn, c->st, c->agency, id, m, mode, c->now, why);
    if (rc != 0)
        return api_handoff_fail(c, rc, why);
    c->result = json_pack("{s:s, s:s}", "id", id, "milestone", enums_milestone_name(m));
    return 0;
}

/* handoff.list: collects matching rows with their time, then sorts newest first. */
typedef struct {
    json_t *row;
    uint64_t updated_at;
} api_handoff_row_t;

typedef struct {
    int box; /* 0 all, 1 inbox, 2 outbox */
    bool has_status;
    Refnet__HandoffStatus status;
    api_handoff_row_t *rows;
    size_t n, cap;
} api_handoff_rows_t;

static int
api_handoff_list_visit(void *ctx, const Refnet__HandoffRecord *h)
{
    api_handoff_rows_t *l = ctx;
    bool inbox = h->role == REFNET__HANDOFF_ROLE__HANDOFF_ROLE_RECEIVER;
    if ((l->box == 1 && !inbox) || (l->box == 2 && inbox))
        return 0;
    if (l->has_status && h->status != l->status)
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->rows = xrealloc(l->rows, l->cap * sizeof *l->rows);
    }
    l->rows[l->n].row = jsonout_handoff_row(h);
    json_object_set_new(l->rows[l->n].row, "restricted", json_boolean(revoke_is_restricted(h)));
    l->rows[l->n].updated_at = h->updated_at_ms;
    l->n++;
    return 0;
}

static int
api_handoff_newest_first(const void *pa, const void *pb)
{
    const api_handoff_row_t *a = pa, *b = pb;
    if (a->updated_at != b->updated_at)
        return a->updated_at > b->updated_at ? -1 : 1;
    return 0;
}

static int
api_handoff_read_list(apicall_t *c, json_t *args, api_handoff_rows_t *l)
{
    const char *box = NULL, *status = NULL;
    int rc = apicall_text(c, args, "box", false, 1, 16, &box);
    if (rc == 0) {
        if (strcmp(box, "inbox") == 0)
            l->box = 1;
        else if (strcmp(box, "outbox") == 0)
            l->box = 2;
        else if (strcmp(box, "all") != 0)
            return apicall_fail(c, REFNET_EINVAL, "argument box must be inbox, outbox or all");
    }
    if (rc < 0)
        return rc;
    rc = apicall_text(c, args, "status", false, 1, 32, &status);
    if (rc == 0 && enums_status_parse(status, &l->status) != 0)
        return apicall_fail(c, REFNET_EINVAL, "argument status is not a handoff status");
    l->has_status = rc == 0;
    return rc < 0 ? rc : 0;
}

int
api_handoff_list(apicall_t *c, json_t *args)
{
    api_handoff_rows_t l = { 0 };
    int rc = api_handoff_read_list(c, args, &l);
    if (rc != 0)
        return rc;
    rc = handoff_each(c->txn, c->st, api_handoff_list_visit, &l);
    if (l.n > 1)
        qsort(l.rows, l.n, sizeof *l.rows, api_handoff_newest_first);
    json_t *list = json_array();
    for (size_t i = 0; i < l.n; i++) {
        if (i < NODE_LIST_MAX && rc == 0)
            json_array_append_new(list, l.rows[i].row);
        else
            json_decref(l.rows[i].row);
    }
    free(l.rows);
    if (rc != 0) {
        json_decref(list);
        return apicall_fail(c, rc, "cannot list handoffs: %s", refnet_strerror(rc));
    }
    c->result = json_object();
    json_object_set_new(c->result, "handoffs", list);
    return 0;
}

/* The person as the handoff disclosed them: the packet it carried (both sides keep it). Data
 * restricted by a revocation shows as a stub with no person field. The Part 2 notice, if the
 * packet carried one, goes into *notice (caller owns; null when none). */
static json_t *
api_handoff_person(const Refnet__HandoffRecord *h, bool restricted, json_t **notice)
{
    pbuf_t *pb = NULL;
    *notice = json_null();
    if (h->person_packet.len == 0 ||
        pbuf_unpack(&pb, &refnet__person_packet__descriptor, h->person_packet.data,
                    h->person_packet.len, WIRE_MAX_PERSON_PACKET) != 0)
        return NULL;
    const Refnet__PersonPacket *p = (const Refnet__PersonPacket *)pbuf_msg(pb);
    json_t *person = NULL;
    if (p->redisclosure_notice[0]) {
        json_decref(*notice);
        *notice = jsonout_str(p->redisclosure_notice);
    }
    if (restricted)
        person = json_pack("{s:s, s:b}", "name", REVOKE_REDACTED_NAME, "restricted", 1);
    else
        person = jsonout_packet(p);
    pbuf_destroy(&pb);
    return person;
}

/* Whether the person data of `h` is restricted: received data under a revoked consent, or a
 * handoff this agency sent onward about a person taken from such data. */
static int
api_handoff_restricted(apicall_t *c, const Refnet__HandoffRecord *h, bool *out)
{
    pbuf_t *person = NULL;
    *out = revoke_is_restricted(h);
    if (*out || h->role != REFNET__HANDOFF_ROLE__HANDOFF_ROLE_SENDER || !h->person_id[0])
        return 0;
    int rc = persons_get(c->txn, c->st, h->person_id, &person);
    if (rc == 0)
        rc = revoke_check_onward(c->txn, c->st, (const Refnet__PersonRecord *)pbuf_msg(person),
                                 NULL);
    pbuf_destroy(&person);
    if (rc == REFNET_EFORBIDDEN)
        *out = true;
    return rc == REFNET_EFORBIDDEN || rc == REFNET_ENOTFOUND || rc == REFNET_EDECODE ? 0 : rc;
}

int
api_handoff_show(apicall_t *c, json_t *args)
{
    const char *id = NULL;
    pbuf_t *pb = NULL;
    int rc = apicall_uuid(c, args, "id", true, &id);
    if (rc != 0)
        return rc;
    rc = handoff_get(c->txn, c->st, id, &pb);
    if (rc == REFNET_ENOTFOUND)
        return apicall_fail(c, rc, "there is no handoff with this id");
    if (rc != 0)
        return apicall_fail(c, rc, "cannot read the handoff: %s", refnet_strerror(rc));
    const Refnet__HandoffRecord *h = (const Refnet__HandoffRecord *)pbuf_msg(pb);
    bool restricted = false;
    rc = api_handoff_restricted(c, h, &restricted);
    if (rc != 0) {
        pbuf_destroy(&pb);
        return apicall_fail(c, rc, "cannot read the handoff's person: %s", refnet_strerror(rc));
    }
    json_t *notice = NULL;
    json_t *person = api_handoff_person(h, restricted, &notice);
    c->result = jsonout_handoff(h, person);
    json_object_set_new(c->result, "restricted", json_boolean(restricted));
    json_object_set_new(c->result, "restricted_at", jsonout_time(h->restricted_at_ms));
    json_object_set_new(c->result, "redisclosure_notice", notice);
    pbuf_destroy(&pb);
    return 0;
}
