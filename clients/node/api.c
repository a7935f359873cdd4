/* api: the node's local API: request checks, the operation table, answers (see api.h). */
#include "api.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api_audit.h"
#include "api_dir.h"
#include "api_handoff.h"
#include "api_hsds.h"
#include "api_people.h"
#include "apicall.h"
#include "clock.h"
#include "log.h"
#include "node_limits.h"
#include "refnet_error.h"
#include "rotate.h"
#include "xmalloc.h"

#define API_VERSION 1

struct api {
    store_t *st;
    char *agency, *name, *broker;
    api_stats_t stats;
    uint8_t seal_sk[SEAL_KEY_LEN]; /* this agency's sealing secret key, when has_seal_sk */
    bool has_seal_sk;
    uint64_t stale_after_ms;  /* search staleness (api_set_stale_after) */
    const link_stats_t *link; /* shown by status (api_set_link_stats), or NULL */
};

typedef int (*api_fn)(apicall_t *c, json_t *args);

/* Every operation of API.md: its name, handler, and whether it writes. */
static const struct {
    const char *op;
    api_fn fn;
    bool writes;
} api_ops[] = {
    { "status", api_dir_status, false },
    { "service.publish", api_dir_publish, true },
    { "service.availability", api_dir_availability, true },
    { "service.withdraw", api_dir_withdraw, true },
    { "search", api_dir_search, false },
    { "directory.verify", api_dir_verify, true },
    { "directory.import", api_hsds_import, true },
    { "directory.export", api_hsds_export, false },
    { "person.add", api_people_person_add, true },
    { "person.list", api_people_person_list, false },
    { "consent.grant", api_people_consent_grant, true },
    { "consent.revoke", api_people_consent_revoke, true },
    { "consent.list", api_people_consent_list, false },
    { "consent.show", api_people_consent_show, false },
    { "handoff.start", api_handoff_start, true },
    { "handoff.update", api_handoff_update, true },
    { "handoff.milestone", api_handoff_milestone, true },
    { "handoff.list", api_handoff_list, false },
    { "handoff.show", api_handoff_show, false },
    { "audit.list", api_audit_list, false },
    { "audit.verify", api_audit_verify, false },
    { "key.rotate", rotate_api, true },
};

api_t *
api_new(store_t *st, const char *agency, const char *name, const char *broker)
{
    api_t *self = xcalloc(1, sizeof *self);
    self->st = st;
    self->agency = xstrdup(agency);
    self->name = xstrdup(name);
    self->broker = xstrdup(broker);
    self->stale_after_ms = NODE_STALE_AFTER_DEFAULT_S * 1000ULL;
    return self;
}

void
api_set_link_stats(api_t *self, const link_stats_t *stats)
{
    self->link = stats;
}

void
api_set_stale_after(api_t *self, uint64_t ms)
{
    self->stale_after_ms = ms;
}

void
api_set_seal_key(api_t *self, const uint8_t sk[SEAL_KEY_LEN])
{
    memcpy(self->seal_sk, sk, SEAL_KEY_LEN);
    self->has_seal_sk = true;
}

void
api_destroy(api_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    api_t *self = *self_p;
    free(self->agency);
    free(self->name);
    free(self->broker);
    sodium_memzero(self->seal_sk, sizeof self->seal_sk);
    free(self);
    *self_p = NULL;
}

const api_stats_t *
api_stats(const api_t *self)
{
    return &self->stats;
}

/* Encodes `doc` (reference stolen) as the answer. */
static char *
api_encode(json_t *doc, size_t *len)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text) /* only on out of memory: the one answer that cannot be built */
        text = xstrdup("{\"ok\":false,\"error\":{\"code\":\"internal\",\"message\":\"out of "
                       "memory\"}}");
    *len = strlen(text);
    return text;
}

static char *
api_error_doc(int code, const char *message, size_t *len)
{
    json_t *err = json_object();
    json_object_set_new(err, "code", json_string(refnet_error_name(code)));
    json_t *msg = json_string(message && message[0] ? message : refnet_strerror(code));
    json_object_set_new(err, "message", msg ? msg : json_string(refnet_strerror(code)));
    json_t *doc = json_object();
    json_object_set_new(doc, "ok", json_false());
    json_object_set_new(doc, "error", err);
    return api_encode(doc, len);
}

static char *
api_ok_doc(json_t *result, size_t *len)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "ok", json_true());
    json_object_set_new(doc, "result", result ? result : json_object());
    return api_encode(doc, len);
}

/* Checks the request's envelope; sets *op and *args (borrowed from doc). */
static int
api_parse(apicall_t *c, json_t *doc, const char **op, json_t **args)
{
    json_t *v = json_object_get(doc, "v");
    if (v && !(json_is_integer(v) && json_integer_value(v) == API_VERSION))
        return apicall_fail(c, REFNET_EINVAL, "this node speaks API version %d", API_VERSION);
    json_t *o = json_object_get(doc, "op");
    if (!json_is_string(o))
        return apicall_fail(c, REFNET_EINVAL, "the request has no string \"op\"");
    *op = json_string_value(o);
    *args = json_object_get(doc, "args");
    if (*args && json_is_null(*args))
        *args = NULL;
    if (*args && !json_is_object(*args))
        return apicall_fail(c, REFNET_EINVAL, "\"args\" must be an object");
    return 0;
}

static int
api_find(const char *op)
{
    for (size_t i = 0; i < sizeof api_ops / sizeof api_ops[0]; i++)
        if (strcmp(api_ops[i].op, op) == 0)
            return (int)i;
    return -1;
}

/* Runs operation `i` in its own transaction. */
static int
api_run(api_t *self, apicall_t *c, int i, json_t *args)
{
    json_t *empty = NULL;
    int rc = store_begin(self->st, !api_ops[i].writes, &c->txn);
    if (rc != 0)
        return apicall_fail(c, rc, "the node's storage is unavailable: %s", refnet_strerror(rc));
    if (!args)
        args = empty = json_object();
    rc = api_ops[i].fn(c, args);
    json_decref(empty);
    if (rc == 0 && api_ops[i].writes)
        rc = store_commit(&c->txn);
    store_abort(&c->txn);
    if (rc != 0 && !c->message[0])
        apicall_fail(c, rc, "%s", refnet_strerror(rc));
    if (rc != 0) {
        json_decref(c->result);
        c->result = NULL;
        c->pending = false;
    }
    return rc;
}

static void
api_count(api_t *self, int rc)
{
    if (rc == 0)
        return;
    if (rc == REFNET_EINVAL)
        self->stats.invalid++;
    else if (rc == REFNET_ECONSENT || rc == REFNET_ETRANSITION || rc == REFNET_EFORBIDDEN ||
             rc == REFNET_ENOTFOUND || rc == REFNET_EEXIST)
        self->stats.refused++;
    else
        self->stats.failed++;
}

static int
api_dispatch(api_t *self, apicall_t *c, const void *data, size_t len)
{
    json_error_t jerr;
    const char *op = NULL;
    json_t *args = NULL;
    if (len > NODE_API_MAX_REQUEST)
        return apicall_fail(c, REFNET_EINVAL, "the request is larger than %d bytes",
                            NODE_API_MAX_REQUEST);
    json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return apicall_fail(c, REFNET_EINVAL, "the request is not JSON: %s", jerr.text);
    int rc = json_is_object(doc)
                 ? api_parse(c, doc, &op, &args)
                 : apicall_fail(c, REFNET_EINVAL, "the request is not a JSON object");
    int i = rc == 0 ? api_find(op) : -1;
    if (rc == 0 && i < 0)
        rc = apicall_fail(c, REFNET_EINVAL, "unknown operation \"%.64s\"", op);
    if (rc == 0) {
        rc = api_run(self, c, i, args);
        log_debug("api: %s -> %s", api_ops[i].op, rc == 0 ? "ok" : refnet_error_name(rc));
    }
    json_decref(doc);
    return rc;
}

void
api_handle(api_t *self, const void *data, size_t len, bool connected, api_outcome_t *out)
{
    apicall_t c = { .st = self->st,
                    .agency = self->agency,
                    .name = self->name,
                    .broker = self->broker,
                    .connected = connected,
                    .link = self->link,
                    .seal_sk = self->has_seal_sk ? self->seal_sk : NULL,
                    .now = clock_now_ms(),
                    .stale_after_ms = self->stale_after_ms };
    memset(out, 0, sizeof *out);
    self->stats.requests++;
    int rc = api_dispatch(self, &c, data, len);
    api_count(self, rc);
    if (rc != 0) {
        out->reply = api_error_doc(rc, c.message, &out->reply_len);
        return;
    }
    if (c.pending) {
        json_decref(c.result);
        out->pending = true;
        memcpy(out->msg_id, c.msg_id, sizeof out->msg_id);
        memcpy(out->subject, c.subject, sizeof out->subject);
        return;
    }
    out->reply = api_ok_doc(c.result, &out->reply_len);
}

/* The API error for a broker's refusal. */
static int
api_status_code(Refnet__Status status)
{
    switch (status) {
    case REFNET__STATUS__STATUS_FORBIDDEN:
        return REFNET_EFORBIDDEN;
    case REFNET__STATUS__STATUS_NOT_FOUND:
    case REFNET__STATUS__STATUS_UNKNOWN_RECIPIENT:
        return REFNET_ENOTFOUND;
    case REFNET__STATUS__STATUS_INVALID_TRANSITION:
        return REFNET_ETRANSITION;
    case REFNET__STATUS__STATUS_QUEUE_FULL:
        return REFNET_EQUEUEFULL;
    case REFNET__STATUS__STATUS_STORAGE_FULL:
        return REFNET_EFULL;
    case REFNET__STATUS__STATUS_BAD_REQUEST:
    case REFNET__STATUS__STATUS_TOO_LARGE:
    case REFNET__STATUS__STATUS_VERSION:
        return REFNET_EINVAL;
    default:
        return REFNET_ESTORAGE;
    }
}

char *
api_broker_answer(const char *subject,
                  bool answered,
                  Refnet__Status status,
                  uint64_t seq,
                  const char *detail,
                  size_t *len)
{
    if (answered && status != REFNET__STATUS__STATUS_OK) {
        char message[APICALL_MESSAGE_LEN];
        snprintf(message, sizeof message, "the broker refused the change to %s: %s", subject,
                 detail && detail[0] ? detail : "no reason given");
        return api_error_doc(api_status_code(status), message, len);
    }
    json_t *result = json_object();
    json_object_set_new(result, "id", json_string(subject));
    if (answered)
        json_object_set_new(result, "seq", json_integer((json_int_t)seq));
    json_object_set_new(result, "queued", json_boolean(!answered));
    return api_ok_doc(result, len);
}
