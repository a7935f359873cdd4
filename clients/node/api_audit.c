/* api_audit: audit.list and audit.verify (see api_audit.h). */
#include "api_audit.h"

#include <sodium.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "enums.h"
#include "jsonout.h"
#include "node_limits.h"
#include "refnet_error.h"

#define API_AUDIT_DAY_MS (24ULL * 60 * 60 * 1000)

typedef struct {
    const char *person; /* NULL for every person */
    uint64_t since;     /* at_ms lower bound */
    json_t *list;
    bool truncated;
} api_audit_list_t;

static json_t *
api_audit_hex(const ProtobufCBinaryData *b)
{
    char hex[2 * AUDIT_HASH_LEN + 1];
    if (b->len == 0 || b->len > AUDIT_HASH_LEN)
        return json_null();
    sodium_bin2hex(hex, sizeof hex, b->data, b->len);
    return json_string(hex);
}

/* A string, or null when empty (an entry that has no handoff, person or consent). */
static json_t *
api_audit_opt(const char *s)
{
    return s && *s ? jsonout_str(s) : json_null();
}

static json_t *
api_audit_entry(const Refnet__AuditEntry *e)
{
    json_t *o = json_object(), *cats = json_array();
    for (size_t i = 0; i < e->n_categories; i++)
        json_array_append_new(cats, json_string(enums_category_name(e->categories[i])));
    json_object_set_new(o, "seq", json_integer((json_int_t)e->seq));
    json_object_set_new(o, "at", jsonout_time(e->at_ms));
    json_object_set_new(o, "event", json_string(audit_event_name(e->event)));
    json_object_set_new(o, "discloser", jsonout_str(e->discloser));
    json_object_set_new(o, "recipient", jsonout_str(e->recipient));
    json_object_set_new(o, "person", api_audit_opt(e->person_id));
    json_object_set_new(o, "categories", cats);
    json_object_set_new(o, "purpose", jsonout_str(e->purpose));
    json_object_set_new(o, "consent", api_audit_opt(e->consent_id));
    json_object_set_new(o, "handoff", api_audit_opt(e->handoff_id));
    json_object_set_new(o, "actor", jsonout_str(e->actor));
    json_object_set_new(o, "msg_id", api_audit_hex(&e->msg_id));
    json_object_set_new(o, "hash", api_audit_hex(&e->hash));
    return o;
}

static int
api_audit_visit(void *ctx, const Refnet__AuditEntry *e)
{
    api_audit_list_t *l = ctx;
    if (e->at_ms < l->since || (l->person && strcmp(e->person_id, l->person) != 0))
        return 0;
    if (json_array_size(l->list) >= NODE_LIST_MAX) {
        l->truncated = true;
        return 1;
    }
    json_array_append_new(l->list, api_audit_entry(e));
    return 0;
}

int
api_audit_list(apicall_t *c, json_t *args)
{
    const char *since = NULL;
    uint64_t end = 0;
    api_audit_list_t l = { NULL, 0, NULL, false };
    int rc = apicall_uuid(c, args, "person", false, &l.person);
    if (rc >= 0)
        rc = apicall_text(c, args, "since", false, 10, 10, &since);
    if (rc < 0)
        return rc;
    if (since) {
        if (clock_parse_date_end(since, &end) != 0)
            return apicall_fail(c, REFNET_EINVAL, "argument since must be a date YYYY-MM-DD");
        l.since = end - API_AUDIT_DAY_MS;
    }
    l.list = json_array();
    rc = audit_each(c->txn, c->st, api_audit_visit, &l);
    if (rc < 0) {
        json_decref(l.list);
        return apicall_fail(c, rc, "cannot read the audit log: %s", refnet_strerror(rc));
    }
    c->result = json_object();
    json_object_set_new(c->result, "entries", l.list);
    json_object_set_new(c->result, "truncated", json_boolean(l.truncated));
    return 0;
}

static const char *
api_audit_why(audit_fault_t f)
{
    switch (f) {
    case AUDIT_ALTERED:
        return "was altered: it does not match its hash";
    case AUDIT_REMOVED:
        return "was removed";
    case AUDIT_REORDERED:
        return "was moved: another entry sits in its place";
    default:
        return "breaks the chain: the entry before it was replaced";
    }
}

int
api_audit_verify(apicall_t *c, json_t *args)
{
    audit_check_t chk;
    (void)args;
    int rc = audit_verify(c->txn, c->st, &chk);
    if (rc != 0)
        return apicall_fail(c, rc, "cannot read the audit log: %s", refnet_strerror(rc));
    /* A broken chain is an error, so that scripts and the CLI exit non-zero. */
    if (chk.fault != AUDIT_OK)
        return apicall_fail(c, REFNET_ESTORAGE, "audit entry %llu %s",
                            (unsigned long long)chk.first_bad, api_audit_why(chk.fault));
    c->result = json_object();
    json_object_set_new(c->result, "valid", json_true());
    json_object_set_new(c->result, "entries", json_integer((json_int_t)chk.entries));
    return 0;
}
