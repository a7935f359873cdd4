/* hsds: the node's own HSDS records: import batches and storage (see hsds.h). */
#include "hsds.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
    size_t n;
};

hsds_batch_t *
hsds_batch_new(const char *organization_id)
{
    hsds_batch_t *self = xcalloc(1, sizeof *self);
    self->organization_id = xstrdup(organization_id);
    self->tables = json_object();
    self->refused = json_array();
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
    free(self);
    *self_p = NULL;
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
        return hsds_fail(why, REFNET_EINVAL, "%s field %s: HSDS 3.0 %s has no such field", where,
                         key, t->name);
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
    *out = copy;
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
    json_t *r = json_object();
    json_object_set_new(r, "table", json_string(table));
    json_object_set_new(r, "id", json_string(id));
    json_object_set_new(r, "organization_id", json_string(org));
    json_array_append_new(self->refused, r);
}

/* Stores `copy` (reference stolen) under its id, merging with an earlier row of that id. */
static int
hsds_batch_put(hsds_batch_t *self, const char *table, const char *id, json_t *copy, char *why)
{
    json_t *rows = json_object_get(self->tables, table);
    if (!rows) {
        rows = json_object();
        json_object_set_new(self->tables, table, rows);
    }
    json_t *old = json_object_get(rows, id);
    if (old) {
        json_object_update(old, copy);
        json_decref(copy);
        return 0;
    }
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
    if (rc != 0)
        return rc;
    char *text = json_dumps(copy, JSON_COMPACT);
    size_t len = text ? strlen(text) : 0;
    free(text);
    if (len > HSDS_MAX_RECORD) {
        json_decref(copy);
        return hsds_fail(why, REFNET_EINVAL, "%s: the record is over %d bytes", where,
                         HSDS_MAX_RECORD);
    }
    if (hsds_foreign(self, table, copy, &org)) {
        hsds_refuse(self, table, id, org);
        json_decref(copy);
        return 0;
    }
    return hsds_batch_put(self, table, id, copy, why);
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

static int
hsds_key(char out[HSDS_KEY_LEN], const char *table, const char *id)
{
    int n = snprintf(out, HSDS_KEY_LEN, "%s/%s", table, id);
    return n < 0 || n >= HSDS_KEY_LEN ? REFNET_EINVAL : 0;
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
