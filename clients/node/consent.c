/* consent: a person's consents and the disclosure check (see consent.h). */
#include "consent.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "nodedb.h"
#include "refnet_error.h"
#include "xmalloc.h"

/* A consent record is a few bounded strings and numbers, plus one revocation notice per
 * recipient told (each at most WIRE_MAX_REVOKED_HANDOFFS ids of 36 bytes, about 10 KiB): 1 MiB
 * leaves room for a consent "to any agency" revoked at a hundred of them. */
#define CONSENT_MAX_RECORD (1024 * 1024)

/* The rules in the order they are checked; a failing rule's index ranks how close a
 * candidate came, so the caller hears the most useful reason. */
enum {
    CONSENT_RULE_PERSON = 0,
    CONSENT_RULE_RECIPIENT,
    CONSENT_RULE_PURPOSE,
    CONSENT_RULE_REVOKED,
    CONSENT_RULE_EFFECTIVE,
    CONSENT_RULE_EXPIRED,
    CONSENT_RULE_CATEGORY,
    CONSENT_RULE_OK
};

static const char *const consent_rule_why[] = {
    [CONSENT_RULE_PERSON] = "the consent is for another person",
    [CONSENT_RULE_RECIPIENT] = "the consent does not name this recipient",
    [CONSENT_RULE_PURPOSE] = "the consent is for another purpose",
    [CONSENT_RULE_REVOKED] = "the consent has been revoked",
    [CONSENT_RULE_EFFECTIVE] = "the consent is not yet effective",
    [CONSENT_RULE_EXPIRED] = "the consent has expired",
    [CONSENT_RULE_CATEGORY] = "the consent does not cover every category being shared",
};

static bool
consent_covers(const Refnet__ConsentRecord *c, Refnet__Category cat)
{
    for (size_t i = 0; i < c->n_categories; i++)
        if (c->categories[i] == cat)
            return true;
    return false;
}

/* Returns the first rule `c` breaks, or CONSENT_RULE_OK. */
static int
consent_first_broken(const Refnet__ConsentRecord *c,
                     const char *person,
                     const char *recipient,
                     const char *purpose,
                     const Refnet__Category *categories,
                     size_t n,
                     uint64_t now)
{
    if (strcmp(c->person_id, person) != 0)
        return CONSENT_RULE_PERSON;
    if (strcmp(c->recipient, recipient) != 0 && strcmp(c->recipient, CONSENT_ANY_RECIPIENT) != 0)
        return CONSENT_RULE_RECIPIENT;
    if (strcmp(c->purpose, purpose) != 0)
        return CONSENT_RULE_PURPOSE;
    if (c->revoked_at_ms != 0)
        return CONSENT_RULE_REVOKED;
    if (c->effective_at_ms > now)
        return CONSENT_RULE_EFFECTIVE;
    if (c->expires_at_ms != 0 && now >= c->expires_at_ms)
        return CONSENT_RULE_EXPIRED;
    for (size_t i = 0; i < n; i++)
        if (!consent_covers(c, categories[i]))
            return CONSENT_RULE_CATEGORY;
    return CONSENT_RULE_OK;
}

int
consent_check(const Refnet__ConsentRecord *c,
              const char *person,
              const char *recipient,
              const char *purpose,
              const Refnet__Category *categories,
              size_t n,
              uint64_t now,
              const char **why)
{
    int rule = consent_first_broken(c, person, recipient, purpose, categories, n, now);
    if (rule == CONSENT_RULE_OK)
        return 0;
    if (why)
        *why = consent_rule_why[rule];
    return REFNET_ECONSENT;
}

bool
consent_in_force(const Refnet__ConsentRecord *c, uint64_t now)
{
    return c->revoked_at_ms == 0 && c->effective_at_ms <= now &&
           (c->expires_at_ms == 0 || now < c->expires_at_ms);
}

int
consent_add(MDB_txn *txn,
            const store_t *st,
            const Refnet__ConsentRecord *rec,
            uint64_t now,
            char id_out[UID_STR_LEN])
{
    Refnet__ConsentRecord copy = *rec;
    char id[UID_STR_LEN];
    uid_new(id);
    copy.id = id;
    copy.created_at_ms = now;
    int rc = store_put_msg(txn, store_db(st, NODEDB_CONSENTS), id, strlen(id), &copy.base);
    if (rc == 0)
        memcpy(id_out, id, UID_STR_LEN);
    return rc;
}

int
consent_get(MDB_txn *txn, const store_t *st, const char *id, pbuf_t **out)
{
    return store_get_msg(txn, store_db(st, NODEDB_CONSENTS), id, strlen(id),
                         &refnet__consent_record__descriptor, out);
}

int
consent_put(MDB_txn *txn, const store_t *st, const Refnet__ConsentRecord *rec)
{
    return store_put_msg(txn, store_db(st, NODEDB_CONSENTS), rec->id, strlen(rec->id), &rec->base);
}

int
consent_revoke(MDB_txn *txn, const store_t *st, const char *id, uint64_t now)
{
    pbuf_t *pb = NULL;
    int rc = consent_get(txn, st, id, &pb);
    if (rc != 0)
        return rc;
    Refnet__ConsentRecord *c = (Refnet__ConsentRecord *)pbuf_msg(pb);
    if (c->revoked_at_ms != 0) {
        rc = REFNET_EINVAL;
        goto out;
    }
    c->revoked_at_ms = now;
    rc = store_put_msg(txn, store_db(st, NODEDB_CONSENTS), id, strlen(id), &c->base);
out:
    pbuf_destroy(&pb);
    return rc;
}

/* Walks the consents db, decoding each record; undecodable records are skipped. */
static int
consent_walk(MDB_txn *txn, const store_t *st, int (*visit)(void *ctx, pbuf_t **pb), void *ctx)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, store_db(st, NODEDB_CONSENTS), &cur);
    if (rc != 0)
        return store_err(rc);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        pbuf_t *pb = NULL;
        if (pbuf_unpack(&pb, &refnet__consent_record__descriptor, v.mv_data, v.mv_size,
                        CONSENT_MAX_RECORD) != 0)
            continue;
        int vrc = visit(ctx, &pb);
        pbuf_destroy(&pb);
        if (vrc != 0) {
            mdb_cursor_close(cur);
            return vrc;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

typedef struct {
    const char *person, *recipient, *purpose;
    const Refnet__Category *categories;
    size_t n;
    uint64_t now;
    int best_rule;
    pbuf_t *found;
} consent_search_t;

/* Stops the walk (returns 1) at the first consent that passes every rule. */
static int
consent_find_visit(void *ctx, pbuf_t **pb)
{
    consent_search_t *s = ctx;
    const Refnet__ConsentRecord *c = (const Refnet__ConsentRecord *)pbuf_msg(*pb);
    int rule =
        consent_first_broken(c, s->person, s->recipient, s->purpose, s->categories, s->n, s->now);
    if (rule > s->best_rule)
        s->best_rule = rule;
    if (rule != CONSENT_RULE_OK)
        return 0;
    s->found = *pb;
    *pb = NULL;
    return 1;
}

int
consent_find_valid(MDB_txn *txn,
                   const store_t *st,
                   const char *person,
                   const char *recipient,
                   const char *purpose,
                   const Refnet__Category *categories,
                   size_t n,
                   uint64_t now,
                   pbuf_t **out,
                   const char **why)
{
    consent_search_t s = { person, recipient, purpose, categories, n, now, -1, NULL };
    int rc = consent_walk(txn, st, consent_find_visit, &s);
    if (rc < 0)
        return rc;
    if (s.found) {
        *out = s.found;
        return 0;
    }
    if (why)
        *why = s.best_rule <= CONSENT_RULE_PERSON ? "the person has no consent on record"
                                                  : consent_rule_why[s.best_rule];
    return REFNET_ECONSENT;
}

typedef struct {
    const char *person;
    size_t max, seen;
    int (*visit)(void *ctx, const Refnet__ConsentRecord *c);
    void *ctx;
} consent_list_t;

static int
consent_each_visit(void *ctx, pbuf_t **pb)
{
    consent_list_t *l = ctx;
    const Refnet__ConsentRecord *c = (const Refnet__ConsentRecord *)pbuf_msg(*pb);
    if (l->person && strcmp(c->person_id, l->person) != 0)
        return 0;
    if (l->seen >= l->max)
        return 1;
    l->seen++;
    return l->visit(l->ctx, c);
}

int
consent_each(MDB_txn *txn,
             const store_t *st,
             const char *person,
             size_t max,
             int (*visit)(void *ctx, const Refnet__ConsentRecord *c),
             void *ctx)
{
    consent_list_t l = { person, max, 0, visit, ctx };
    int rc = consent_walk(txn, st, consent_each_visit, &l);
    return rc == 1 ? 0 : rc;
}

/* ---- expiry ------------------------------------------------------------------------------- */

typedef struct {
    uint64_t now;
    size_t max, n;
    char **ids;
} consent_expired_t;

static int
consent_expired_visit(void *ctx, pbuf_t **pb)
{
    consent_expired_t *x = ctx;
    const Refnet__ConsentRecord *c = (const Refnet__ConsentRecord *)pbuf_msg(*pb);
    if (c->revoked_at_ms != 0 || c->expires_at_ms == 0 || c->expires_at_ms > x->now ||
        c->expiry_noted_at_ms != 0)
        return 0;
    if (x->n >= x->max)
        return 1;
    x->ids[x->n++] = xstrdup(c->id);
    return 0;
}

/* Notes the expiry of consent `id` and appends its audit entry. */
static int
consent_note_one(MDB_txn *txn, const store_t *st, const char *id, uint64_t now)
{
    pbuf_t *pb = NULL;
    Refnet__AuditEntry e = REFNET__AUDIT_ENTRY__INIT;
    int rc = consent_get(txn, st, id, &pb);
    if (rc != 0)
        return rc;
    Refnet__ConsentRecord *c = (Refnet__ConsentRecord *)pbuf_msg(pb);
    c->expiry_noted_at_ms = now;
    rc = consent_put(txn, st, c);
    e.at_ms = now;
    e.event = REFNET__AUDIT_EVENT__AUDIT_EVENT_CONSENT_EXPIRED;
    e.discloser = c->discloser;
    e.recipient = c->recipient;
    e.person_id = c->person_id;
    e.categories = c->categories;
    e.n_categories = c->n_categories;
    e.purpose = c->purpose;
    e.consent_id = c->id;
    e.actor = (char *)AUDIT_ACTOR_NODE;
    if (rc == 0)
        rc = audit_append(txn, st, &e);
    pbuf_destroy(&pb);
    return rc;
}

int
consent_note_expired(MDB_txn *txn, const store_t *st, uint64_t now, size_t max, size_t *noted)
{
    /* Ids first, writes after: the walk's cursor is not disturbed by the updates. */
    consent_expired_t x = { now, max, 0, xcalloc(max ? max : 1, sizeof(char *)) };
    int rc = consent_walk(txn, st, consent_expired_visit, &x);
    if (rc == 1)
        rc = 0;
    for (size_t i = 0; rc == 0 && i < x.n; i++)
        rc = consent_note_one(txn, st, x.ids[i], now);
    for (size_t i = 0; i < x.n; i++)
        free(x.ids[i]);
    free(x.ids);
    if (noted)
        *noted = rc == 0 ? x.n : 0;
    return rc;
}
