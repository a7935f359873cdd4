/* hsds: the node's own HSDS records: import batches and storage (see hsds.h). */
#include "hsds.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hsds_schema.h"
#include "nodedb.h"
#include "refnet_error.h"
#include "validate.h"
#include "xmalloc.h"

/* "TABLE/ID": the longest table name is 22 bytes, ids are at most WIRE_MAX_IDENT. */
#define HSDS_KEY_LEN 96

struct hsds_batch {
    char *organization_id;
    json_t *tables;  /* table -> {id -> row} */
    json_t *refused; /* [{"table","id","organization_id"}] */
    json_t *known;   /* "TABLE/ID" -> where the row came from, or null for a refused one */
    size_t n;
};

hsds_batch_t *
hsds_batch_new(const char *organization_id)
{
    hsds_batch_t *self = xcalloc(1, sizeof *self);
    self->organization_id = xstrdup(organization_id);
    self->tables = json_object();
    self->refused = json_array();
    self->known = json_object();
    return self;
}

void
hsds_batch_destroy(hsds_batch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hsds_batch_t *self = *self_p;
    free(self->organization_id);
    json_decref(self->tables);
    json_decref(self->refused);
    json_decref(self->known);
    free(self);
    *self_p = NULL;
}

static int
hsds_key(char out[HSDS_KEY_LEN], const char *table, const char *id)
{
    int n = snprintf(out, HSDS_KEY_LEN, "%s/%s", table, id);
    return n < 0 || n >= HSDS_KEY_LEN ? REFNET_EINVAL : 0;
}

static int hsds_fail(char *why, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
hsds_fail(char *why, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, HSDS_WHY_LEN, fmt, ap);
    va_end(ap);
    return code;
}

/* Checks one field's value against the table's schema. */
static int
hsds_check_field(const hsds_table_t *t, const char *key, json_t *v, const char *where, char *why)
{
    const hsds_field_t *f = hsds_schema_field(t, key);
    if (!f)
        return hsds_fail(why, REFNET_EINVAL, "%s field %s: HSDS %s %s has no such field", where,
                         key, t->since ? t->since : "3.0", t->name);
    if (f->type == HSDS_NUMBER) {
        if (!json_is_number(v) || !isfinite(json_number_value(v)))
            return hsds_fail(why, REFNET_EINVAL, "%s field %s: must be a number", where, key);
        return 0;
    }
    if (!json_is_string(v))
        return hsds_fail(why, REFNET_EINVAL, "%s field %s: must be a string", where, key);
    if (!validate_text(json_string_value(v), 0, HSDS_MAX_VALUE))
        return hsds_fail(why, REFNET_EINVAL,
                         "%s field %s: must be UTF-8 text of at most %d bytes without control "
                         "characters",
                         where, key, HSDS_MAX_VALUE);
    return 0;
}

/* ---- times ----------------------------------------------------------------------------- */

/* Reads exactly `n` digits at *p, moving past them; -1 when they are not all digits. */
static int
hsds_digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

/* `sep` then `n` digits; -1 when either is missing. */
static int
hsds_field(const char **p, char sep, int n)
{
    if (**p != sep)
        return -1;
    (*p)++;
    return hsds_digits(p, n);
}

/* The zone after a time: "Z", "+HH[:MM]", "-HH[:MM]", or nothing (taken as UTC). */
static bool
hsds_parse_zone(const char *p, long *offset)
{
    if (*p == '\0' || ((*p == 'Z' || *p == 'z') && p[1] == '\0'))
        return true;
    if (*p != '+' && *p != '-')
        return false;
    long sign = *p++ == '-' ? -1 : 1;
    int oh = hsds_digits(&p, 2), om = 0;
    if (*p == ':')
        p++;
    if (*p != '\0')
        om = hsds_digits(&p, 2);
    *offset = sign * (oh * 3600L + om * 60L);
    return *p == '\0' && oh >= 0 && oh <= 14 && om >= 0 && om <= 59;
}

/* "HH:MM[:SS[.fff...]]" and a zone: the seconds after midnight, the milliseconds, and the
 * zone's offset in seconds. */
static bool
hsds_parse_clock(const char *p, long *secs, int *ms, long *offset)
{
    int h = hsds_digits(&p, 2), m = hsds_field(&p, ':', 2), sec = 0;
    if (h < 0 || h > 23 || m < 0 || m > 59)
        return false;
    if (*p == ':' && (sec = hsds_field(&p, ':', 2)) < 0)
        return false;
    if (sec > 60) /* 60: a leap second */
        return false;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        for (int scale = 100; *p >= '0' && *p <= '9'; p++, scale /= 10)
            *ms += (*p - '0') * scale;
    }
    *secs = h * 3600L + m * 60L + sec;
    return hsds_parse_zone(p, offset);
}

int
hsds_parse_time(const char *text, uint64_t *out_ms)
{
    const char *p = text;
    long secs = 0, offset = 0;
    int ms = 0;
    int y = hsds_digits(&p, 4), mo = hsds_field(&p, '-', 2), d = hsds_field(&p, '-', 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return REFNET_EINVAL;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        if (!hsds_parse_clock(p + 1, &secs, &ms, &offset))
            return REFNET_EINVAL;
    } else if (*p != '\0') {
        return REFNET_EINVAL;
    }
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d };
    time_t t = timegm(&tm);
    /* timegm carries 31 February into March; a date that moved is not a date. */
    if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
        return REFNET_EINVAL;
    long long total = (long long)t + secs - offset;
    if (total < 0)
        return REFNET_EINVAL;
    *out_ms = (uint64_t)total * 1000u + (uint64_t)ms;
    return 0;
}

/* ---- checks ------------------------------------------------------------------------------ */

/* A capacity count: HSDS 3.1 says a number; the directory counts whole places. */
static int
hsds_check_count(json_t *v, const char *where, const char *key, char *why)
{
    double d = json_number_value(v);
    if (!json_is_integer(v) && !(json_is_real(v) && d == floor(d)))
        return hsds_fail(why, REFNET_EINVAL, "%s field %s: must be a whole number", where, key);
    if (d < 0 || d > WIRE_MAX_CAPACITY)
        return hsds_fail(why, REFNET_EINVAL, "%s field %s: must be between 0 and %d", where, key,
                         WIRE_MAX_CAPACITY);
    return 0;
}

/* What the directory needs of a service_capacity or unit row beyond the types: counts that
 * are whole and in range, no more available than the maximum, an updated time it can read,
 * and a unit name that fits the wire. */
static int
hsds_check_capacity(const hsds_table_t *t, json_t *row, const char *where, char *why)
{
    uint64_t ms = 0;
    if (strcmp(t->name, "unit") == 0) {
        const char *name = json_string_value(json_object_get(row, "name"));
        if (!name || !name[0] || strlen(name) > WIRE_MAX_UNIT)
            return hsds_fail(why, REFNET_EINVAL, "%s field name: must be 1 to %d bytes", where,
                             WIRE_MAX_UNIT);
        return 0;
    }
    if (strcmp(t->name, "service_capacity") != 0)
        return 0;
    json_t *avail = json_object_get(row, "available"), *max = json_object_get(row, "maximum");
    const char *updated = json_string_value(json_object_get(row, "updated"));
    if (!avail)
        return hsds_fail(why, REFNET_EINVAL, "%s field available: is required", where);
    int rc = hsds_check_count(avail, where, "available", why);
    if (rc == 0 && max)
        rc = hsds_check_count(max, where, "maximum", why);
    if (rc == 0 && max && json_number_value(avail) > json_number_value(max))
        rc = hsds_fail(why, REFNET_EINVAL, "%s field available: %g is more than the maximum %g",
                       where, json_number_value(avail), json_number_value(max));
    if (rc == 0 && updated && (hsds_parse_time(updated, &ms) != 0 || !validate_time(ms, false)))
        rc = hsds_fail(why, REFNET_EINVAL,
                       "%s field updated: must be an ISO 8601 time (2026-11-22T07:01:02Z) "
                       "between 2000 and 2100",
                       where);
    return rc;
}

/* Copies the row's non-null scalars into a new object, checking each. */
static int
hsds_copy_row(const hsds_table_t *t, json_t *row, const char *where, json_t **out, char *why)
{
    const char *key;
    json_t *v;
    json_t *copy = json_object();
    json_object_foreach(row, key, v)
    {
        if (json_is_null(v))
            continue;
        int rc = hsds_check_field(t, key, v, where, why);
        if (rc != 0) {
            json_decref(copy);
            return rc;
        }
        json_object_set(copy, key, v);
    }
    int rc = hsds_check_capacity(t, copy, where, why);
    if (rc != 0) {
        json_decref(copy);
        return rc;
    }
    *out = copy;
    return 0;
}

/* A record must fit the store's record limit once encoded. */
static int
hsds_check_size(json_t *row, const char *where, char *why)
{
    char *text = json_dumps(row, JSON_COMPACT);
    size_t len = text ? strlen(text) : 0;
    free(text);
    if (len > HSDS_MAX_RECORD)
        return hsds_fail(why, REFNET_EINVAL, "%s: the record is over %d bytes", where,
                         HSDS_MAX_RECORD);
    return 0;
}

/* True when the row names another organization than ours. */
static bool
hsds_foreign(const hsds_batch_t *self, const char *table, json_t *row, const char **org)
{
    const char *field = strcmp(table, "organization") == 0 ? "id" : "organization_id";
    *org = json_string_value(json_object_get(row, field));
    return *org && (*org)[0] && strcmp(*org, self->organization_id) != 0;
}

static void
hsds_refuse(hsds_batch_t *self, const char *table, const char *id, const char *org)
{
    char key[HSDS_KEY_LEN];
    if (hsds_key(key, table, id) == 0 && !json_object_get(self->known, key))
        json_object_set_new(self->known, key, json_null());
    json_t *r = json_object();
    json_object_set_new(r, "table", json_string(table));
    json_object_set_new(r, "id", json_string(id));
    json_object_set_new(r, "organization_id", json_string(org));
    json_array_append_new(self->refused, r);
}

/* Stores `copy` (reference stolen) under its id, merging with an earlier row of that id;
 * `where` is remembered for the reference check's errors. */
static int
hsds_batch_put(hsds_batch_t *self,
               const char *table,
               const char *id,
               json_t *copy,
               const char *where,
               char *why)
{
    char key[HSDS_KEY_LEN];
    if (hsds_key(key, table, id) != 0) {
        json_decref(copy);
        return hsds_fail(why, REFNET_EINVAL, "%s field id: too long", where);
    }
    json_t *rows = json_object_get(self->tables, table);
    if (!rows) {
        rows = json_object();
        json_object_set_new(self->tables, table, rows);
    }
    json_t *old = json_object_get(rows, id);
    if (old) {
        /* A later row of the same id fills in or overrides fields; the merged row must pass
         * what each row passed alone (a later `available` against an earlier `maximum`), and
         * when it does not, the earlier row stays as it was. */
        json_t *merged = json_copy(old);
        json_object_update(merged, copy);
        json_decref(copy);
        int rc = hsds_check_capacity(hsds_schema_table(table), merged, where, why);
        if (rc == 0)
            rc = hsds_check_size(merged, where, why);
        if (rc != 0) {
            json_decref(merged);
            return rc;
        }
        json_object_set_new(rows, id, merged);
    }
    /* nocheck: `where` may hold a file name that is not UTF-8; it is never dumped. */
    json_object_set_new(self->known, key, json_string_nocheck(where));
    if (old)
        return 0;
    if (self->n >= HSDS_MAX_RECORDS) {
        json_decref(copy);
        return hsds_fail(why, REFNET_ETOOLARGE, "an import holds at most %d records",
                         HSDS_MAX_RECORDS);
    }
    json_object_set_new(rows, id, copy);
    self->n++;
    return 0;
}

int
hsds_batch_add_row(hsds_batch_t *self, const char *table, json_t *row, const char *where, char *why)
{
    json_t *copy = NULL;
    const char *org = NULL;
    const hsds_table_t *t = hsds_schema_table(table);
    if (!t)
        return hsds_fail(why, REFNET_EINVAL, "%s: HSDS 3.0 has no table %s", where, table);
    if (!json_is_object(row))
        return hsds_fail(why, REFNET_EINVAL, "%s: a %s must be a JSON object", where, table);
    const char *id = json_string_value(json_object_get(row, "id"));
    if (!id || !uid_is_uuid(id))
        return hsds_fail(why, REFNET_EINVAL, "%s field id: must be a UUID", where);
    int rc = hsds_copy_row(t, row, where, &copy, why);
    if (rc == 0)
        rc = hsds_check_size(copy, where, why);
    if (rc != 0) {
        json_decref(copy);
        return rc;
    }
    if (hsds_foreign(self, table, copy, &org)) {
        hsds_refuse(self, table, id, org);
        json_decref(copy);
        return 0;
    }
    return hsds_batch_put(self, table, id, copy, where, why);
}

static int hsds_flatten(hsds_batch_t *self,
                        const char *table,
                        json_t *obj,
                        const char *fk,
                        const char *fk_value,
                        const char *where,
                        int depth,
                        char *why);

/* Adds the rows nested under key `key` of `parent` (id `pid`, flat form `flat`). */
static int
hsds_flatten_rel(hsds_batch_t *self,
                 const hsds_rel_t *rel,
                 json_t *v,
                 json_t *flat,
                 const char *pid,
                 const char *where,
                 int depth,
                 char *why)
{
    char sub[HSDS_WHY_LEN / 2];
    if (rel->ref) {
        const char *cid = json_string_value(json_object_get(v, "id"));
        if (!json_is_object(v) || !cid)
            return hsds_fail(why, REFNET_EINVAL, "%s.%s: must be an object with an id", where,
                             rel->key);
        if (!json_object_get(flat, rel->fk))
            json_object_set_new(flat, rel->fk, json_string(cid));
        snprintf(sub, sizeof sub, "%s.%s", where, rel->key);
        return hsds_flatten(self, rel->child, v, NULL, NULL, sub, depth + 1, why);
    }
    if (!json_is_array(v))
        return hsds_fail(why, REFNET_EINVAL, "%s.%s: must be a list", where, rel->key);
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        snprintf(sub, sizeof sub, "%s.%s[%zu]", where, rel->key, i);
        int rc = hsds_flatten(self, rel->child, item, rel->fk, pid, sub, depth + 1, why);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Splits `obj` into its flat row (plus `fk` = `fk_value` when it has no such field) and the
 * rows nested in it. */
static int
hsds_flatten(hsds_batch_t *self,
             const char *table,
             json_t *obj,
             const char *fk,
             const char *fk_value,
             const char *where,
             int depth,
             char *why)
{
    const char *key;
    json_t *v;
    if (depth > HSDS_MAX_DEPTH)
        return hsds_fail(why, REFNET_EINVAL, "%s: nested more than %d levels deep", where,
                         HSDS_MAX_DEPTH);
    if (!json_is_object(obj))
        return hsds_fail(why, REFNET_EINVAL, "%s: a %s must be a JSON object", where, table);
    const char *id = json_string_value(json_object_get(obj, "id"));
    if (!id || !uid_is_uuid(id))
        return hsds_fail(why, REFNET_EINVAL, "%s field id: must be a UUID", where);
    json_t *flat = json_object();
    int rc = 0;
    json_object_foreach(obj, key, v)
    {
        if (!json_is_object(v) && !json_is_array(v))
            json_object_set(flat, key, v);
    }
    if (fk && !json_object_get(flat, fk))
        json_object_set_new(flat, fk, json_string(fk_value));
    json_object_foreach(obj, key, v)
    {
        if (rc != 0 || (!json_is_object(v) && !json_is_array(v)))
            continue;
        const hsds_rel_t *rel = hsds_schema_rel(table, key);
        rc = rel ? hsds_flatten_rel(self, rel, v, flat, id, where, depth, why)
                 : hsds_fail(why, REFNET_EINVAL, "%s field %s: HSDS 3.0 %s has no such list", where,
                             key, table);
    }
    if (rc == 0)
        rc = hsds_batch_add_row(self, table, flat, where, why);
    json_decref(flat);
    return rc;
}

int
hsds_batch_add_nested(
    hsds_batch_t *self, const char *table, json_t *obj, const char *where, char *why)
{
    return hsds_flatten(self, table, obj, NULL, NULL, where, 0, why);
}

size_t
hsds_batch_count(const hsds_batch_t *self, const char *table)
{
    return json_object_size(json_object_get(self->tables, table));
}

json_t *
hsds_batch_rows(const hsds_batch_t *self, const char *table)
{
    return json_object_get(self->tables, table);
}

json_t *
hsds_batch_summary(const hsds_batch_t *self)
{
    const char *table;
    json_t *rows;
    json_t *counts = json_object();
    json_object_foreach(self->tables, table, rows)
        json_object_set_new(counts, table, json_integer((json_int_t)json_object_size(rows)));
    json_t *doc = json_object();
    json_object_set_new(doc, "records", counts);
    json_object_set(doc, "refused", self->refused);
    return doc;
}

int
hsds_batch_store(const hsds_batch_t *self, MDB_txn *txn, store_t *st)
{
    const char *table, *id;
    json_t *rows, *row;
    char key[HSDS_KEY_LEN];
    json_object_foreach(self->tables, table, rows)
    {
        json_object_foreach(rows, id, row)
        {
            char *text = json_dumps(row, JSON_COMPACT);
            int rc = text ? hsds_key(key, table, id) : -ENOMEM;
            if (rc == 0)
                rc = store_put(txn, store_db(st, NODEDB_HSDS), key, strlen(key), text, strlen(text),
                               0);
            free(text);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* ---- organization id ------------------------------------------------------------------- */

int
hsds_org_get(MDB_txn *txn, store_t *st, char out[UID_STR_LEN])
{
    char *v = NULL;
    int rc = store_get_str(txn, store_db(st, NODEDB_META), "organization_id", &v);
    if (rc == 0 && !uid_is_uuid(v))
        rc = REFNET_EDECODE;
    if (rc == 0)
        snprintf(out, UID_STR_LEN, "%s", v);
    free(v);
    return rc;
}

int
hsds_org_set(MDB_txn *txn, store_t *st, const char *organization_id)
{
    if (!uid_is_uuid(organization_id))
        return REFNET_EINVAL;
    return store_put_str(txn, store_db(st, NODEDB_META), "organization_id", organization_id);
}

int
hsds_org_ensure(MDB_txn *txn, store_t *st, char out[UID_STR_LEN])
{
    int rc = hsds_org_get(txn, st, out);
    if (rc != REFNET_ENOTFOUND)
        return rc;
    uid_new(out);
    return hsds_org_set(txn, st, out);
}

/* ---- reading --------------------------------------------------------------------------- */

static int
hsds_decode(const MDB_val *v, json_t **out)
{
    json_t *doc = json_loadb(v->mv_data, v->mv_size, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return REFNET_EDECODE;
    }
    *out = doc;
    return 0;
}

int
hsds_get(MDB_txn *txn, store_t *st, const char *table, const char *id, json_t **out)
{
    char key[HSDS_KEY_LEN];
    MDB_val v;
    int rc = hsds_key(key, table, id);
    if (rc == 0)
        rc = store_get(txn, store_db(st, NODEDB_HSDS), key, strlen(key), &v);
    return rc == 0 ? hsds_decode(&v, out) : rc;
}

int
hsds_list(MDB_txn *txn, store_t *st, const char *table, json_t **out)
{
    MDB_cursor *cur = NULL;
    char prefix[HSDS_KEY_LEN];
    int n = snprintf(prefix, sizeof prefix, "%s/", table);
    size_t plen = (size_t)n;
    MDB_val k = { plen, prefix }, v;
    int rc = store_err(mdb_cursor_open(txn, store_db(st, NODEDB_HSDS), &cur));
    json_t *list = json_array();
    int mrc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : MDB_NOTFOUND;
    while (rc == 0 && mrc == 0 && k.mv_size > plen && memcmp(k.mv_data, prefix, plen) == 0) {
        json_t *row = NULL;
        rc = hsds_decode(&v, &row);
        if (rc == 0)
            json_array_append_new(list, row);
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = store_err(mrc);
    if (cur)
        mdb_cursor_close(cur);
    if (rc != 0) {
        json_decref(list);
        return rc;
    }
    *out = list;
    return 0;
}

int
hsds_init(const char *db, size_t map_size, const char *organization_id, char out[UID_STR_LEN])
{
    store_t *st = NULL;
    MDB_txn *txn = NULL;
    if (organization_id && !uid_is_uuid(organization_id))
        return REFNET_EINVAL;
    if (organization_id)
        snprintf(out, UID_STR_LEN, "%s", organization_id);
    else
        uid_new(out);
    int rc = nodedb_open(&st, db, map_size);
    if (rc == 0)
        rc = store_begin(st, false, &txn);
    if (rc == 0)
        rc = hsds_org_set(txn, st, out);
    if (rc == 0)
        rc = store_commit(&txn);
    store_abort(&txn);
    store_destroy(&st);
    return rc;
}

/* ---- references ------------------------------------------------------------------------ */

/* The table an attribute's link_id names: its link_entity, when that is an HSDS table. */
static const char *
hsds_link_target(json_t *row)
{
    const char *entity = json_string_value(json_object_get(row, "link_entity"));
    const hsds_table_t *t = entity ? hsds_schema_table(entity) : NULL;
    return t ? t->name : NULL;
}

/* Sets *found when record `table`/`id` is in the batch (kept or refused as another
 * organization's: it exists, only not here), is the agency's own organization, or is stored. */
static int
hsds_ref_known(const hsds_batch_t *self,
               MDB_txn *txn,
               store_t *st,
               const char *table,
               const char *id,
               bool *found)
{
    char key[HSDS_KEY_LEN];
    MDB_val v;
    *found = strcmp(table, "organization") == 0 && strcmp(id, self->organization_id) == 0;
    if (*found || hsds_key(key, table, id) != 0)
        return 0;
    *found = json_object_get(self->known, key) != NULL;
    if (*found)
        return 0;
    int rc = store_get(txn, store_db(st, NODEDB_HSDS), key, strlen(key), &v);
    *found = rc == 0;
    return rc == REFNET_ENOTFOUND ? 0 : rc;
}

/* Checks every reference of one row. */
static int
hsds_check_row_refs(const hsds_batch_t *self,
                    MDB_txn *txn,
                    store_t *st,
                    const char *table,
                    const char *id,
                    json_t *row,
                    char *why)
{
    size_t n;
    const hsds_ref_t *refs = hsds_schema_refs(&n);
    char key[HSDS_KEY_LEN];
    for (size_t i = 0; i < n; i++) {
        if (strcmp(refs[i].table, table) != 0)
            continue;
        const char *value = json_string_value(json_object_get(row, refs[i].field));
        const char *target = refs[i].target ? refs[i].target : hsds_link_target(row);
        bool found = false;
        if (!value || !value[0] || !target)
            continue;
        int rc = hsds_ref_known(self, txn, st, target, value, &found);
        if (rc != 0)
            return hsds_fail(why, rc, "cannot read the stored records: %s", refnet_strerror(rc));
        if (found)
            continue;
        const char *where = hsds_key(key, table, id) == 0
                                ? json_string_value(json_object_get(self->known, key))
                                : NULL;
        return hsds_fail(why, REFNET_EINVAL,
                         "%s field %s: refers to %s %.64s, which is neither in the import nor "
                         "stored",
                         where ? where : table, refs[i].field, target, value);
    }
    return 0;
}

int
hsds_batch_check_refs(const hsds_batch_t *self, MDB_txn *txn, store_t *st, char *why)
{
    const char *table, *id;
    json_t *rows, *row;
    json_object_foreach(self->tables, table, rows)
    {
        json_object_foreach(rows, id, row)
        {
            int rc = hsds_check_row_refs(self, txn, st, table, id, row, why);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}
