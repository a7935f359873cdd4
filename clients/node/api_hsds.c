/* api_hsds: directory.import and directory.export of HSDS 3.0 (see api_hsds.h). */
#include "api_hsds.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "hsds.h"
#include "hsds_csv.h"
#include "hsds_map.h"
#include "hsds_schema.h"
#include "log.h"
#include "node_limits.h"
#include "nodedb.h"
#include "outbox.h"
#include "path.h"
#include "records.pb-c.h"
#include "refnet_error.h"
#include "replica.h"

/* Reads argument `key`: an absolute path (the node does not share the caller's folder). */
static int
api_hsds_path(apicall_t *c, json_t *args, const char *key, const char **out)
{
    int rc = apicall_text(c, args, key, true, 1, PATH_MAX_LEN - 64, out);
    if (rc != 0)
        return rc;
    if ((*out)[0] != '/')
        return apicall_fail(c, REFNET_EINVAL,
                            "argument %s must be an absolute path: the node does not run in "
                            "the caller's folder",
                            key);
    return 0;
}

/* "service" when the object looks like an HSDS service (status is required of a service,
 * and a service names its organization), else "organization". */
static const char *
api_hsds_root_table(json_t *obj)
{
    if (json_object_get(obj, "status") || json_object_get(obj, "organization") ||
        json_object_get(obj, "organization_id") || json_object_get(obj, "service_at_locations"))
        return "service";
    return "organization";
}

/* Loads an HSDS JSON file: one object, a list of them, or a Page with "contents". */
static int
api_hsds_read_json(hsds_batch_t *batch, const char *path, char *why)
{
    struct stat sb;
    json_error_t jerr;
    if (stat(path, &sb) != 0) {
        snprintf(why, HSDS_WHY_LEN, "cannot read %.300s: %s", path, strerror(errno));
        return REFNET_EIO;
    }
    if (sb.st_size > HSDS_CSV_MAX_FILE) {
        snprintf(why, HSDS_WHY_LEN, "%.300s is larger than %d bytes", path, HSDS_CSV_MAX_FILE);
        return REFNET_ETOOLARGE;
    }
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        snprintf(why, HSDS_WHY_LEN, "%.300s line %d: not JSON: %s", path, jerr.line, jerr.text);
        return REFNET_EINVAL;
    }
    json_t *items = json_object_get(doc, "contents");
    if (!items)
        items = doc;
    int rc = 0;
    char where[HSDS_WHY_LEN / 2];
    if (json_is_object(items)) {
        rc = hsds_batch_add_nested(batch, api_hsds_root_table(items), items, path, why);
    } else if (json_is_array(items)) {
        size_t i;
        json_t *item;
        json_array_foreach(items, i, item)
        {
            snprintf(where, sizeof where, "%.200s item %zu", path, i + 1);
            if (rc == 0)
                rc = hsds_batch_add_nested(batch, api_hsds_root_table(item), item, where, why);
        }
    } else {
        snprintf(why, HSDS_WHY_LEN, "%.300s: not an HSDS object, list or page", path);
        rc = REFNET_EINVAL;
    }
    json_decref(doc);
    return rc;
}

/* This agency's live directory record of service `id` (caller destroys), or NULL. */
static pbuf_t *
api_hsds_live(apicall_t *c, const char *id)
{
    pbuf_t *pb = NULL;
    if (replica_get(c->txn, c->st, id, &pb) != 0)
        return NULL;
    const Refnet__DirRecord *rec = (const Refnet__DirRecord *)pbuf_msg(pb);
    if (!rec->service || strcmp(rec->agency, c->agency) != 0)
        pbuf_destroy(&pb);
    return pb;
}

/* A re-import must not put back numbers older than the directory's: `refnet service
 * availability` changes capacity there, not in the HSDS rows. The directory's capacity is
 * kept when the import has none or an older one. */
static void
api_hsds_keep_live(const pbuf_t *live, hsds_map_service_t *s)
{
    const Refnet__Service *svc = live ? ((const Refnet__DirRecord *)pbuf_msg(live))->service : NULL;
    const Refnet__Capacity *cap = svc ? svc->capacity : NULL;
    if (cap && (!s->svc.capacity || cap->updated_at_ms > s->svc.capacity->updated_at_ms))
        s->svc.capacity = (Refnet__Capacity *)cap;
}

/* Queues a DirPublish for service `id` when it maps onto a directory Service (`caps`: the
 * capacity index), else lists it in `unpublished` with the reason. */
static int
api_hsds_publish_one(
    apicall_t *c, const char *id, const json_t *caps, json_t *unpublished, size_t *published)
{
    hsds_map_service_t s;
    char why[HSDS_WHY_LEN];
    Refnet__DirPublish pub = REFNET__DIR_PUBLISH__INIT;
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    pbuf_t *live = api_hsds_live(c, id);
    int rc = hsds_map_service(c->txn, c->st, id, c->agency, c->now, caps, &s, why);
    if (rc == 0)
        api_hsds_keep_live(live, &s);
    if (rc == REFNET_EINVAL)
        json_array_append_new(unpublished, json_pack("{s:s, s:s}", "id", id, "reason", why));
    if (rc == 0) {
        pub.service = &s.svc;
        env.body_case = REFNET__ENVELOPE__BODY_PUBLISH;
        env.publish = &pub;
        rc = outbox_add(c->txn, c->st, &env, NULL, c->now, NULL, NULL);
        *published += rc == 0;
    }
    hsds_map_service_clear(&s);
    pbuf_destroy(&live);
    if (rc == REFNET_EQUEUEFULL)
        return apicall_fail(c, rc, "the outbox holds %d messages; nothing was imported",
                            NODE_OUTBOX_MAX);
    if (rc != 0 && rc != REFNET_EINVAL)
        return apicall_fail(c, rc, "cannot queue service %s: %s", id, refnet_strerror(rc));
    return 0;
}

/* Queues a DirPublish for every imported service that maps onto a directory Service; lists
 * the others in `unpublished` with the reason. The capacity rows are indexed once, so the
 * import stays linear in its size. */
static int
api_hsds_publish(apicall_t *c, hsds_batch_t *batch, json_t *unpublished, size_t *published)
{
    const char *id;
    json_t *row, *caps = NULL;
    int rc = hsds_map_capacity_index(c->txn, c->st, &caps);
    if (rc != 0)
        return apicall_fail(c, rc, "cannot read the capacity rows: %s", refnet_strerror(rc));
    json_object_foreach(hsds_batch_rows(batch, "service"), id, row)
    {
        rc = api_hsds_publish_one(c, id, caps, unpublished, published);
        if (rc != 0)
            break;
    }
    json_decref(caps);
    return rc;
}

int
api_hsds_import(apicall_t *c, json_t *args)
{
    const char *path = NULL;
    char org[UID_STR_LEN], why[HSDS_WHY_LEN] = "";
    struct stat sb;
    hsds_batch_t *batch = NULL;
    size_t published = 0;
    int rc = api_hsds_path(c, args, "path", &path);
    if (rc != 0)
        return rc;
    rc = hsds_org_ensure(c->txn, c->st, org);
    if (rc != 0)
        return apicall_fail(c, rc, "cannot read the organization id: %s", refnet_strerror(rc));
    batch = hsds_batch_new(org);
    if (stat(path, &sb) != 0)
        rc = apicall_fail(c, REFNET_ENOTFOUND, "cannot read %.300s: %s", path, strerror(errno));
    else if (S_ISDIR(sb.st_mode))
        rc = hsds_csv_read_dir(batch, path, why);
    else
        rc = api_hsds_read_json(batch, path, why);
    if (rc == 0)
        rc = hsds_batch_check_refs(batch, c->txn, c->st, why);
    if (rc != 0 && why[0]) {
        log_warn("hsds: import of %s refused: %s", path, why);
        rc = apicall_fail(c, rc, "%s; nothing was imported", why);
    }
    if (rc == 0)
        rc = hsds_batch_store(batch, c->txn, c->st);
    json_t *unpublished = json_array();
    if (rc == 0)
        rc = api_hsds_publish(c, batch, unpublished, &published);
    if (rc == 0) {
        c->result = hsds_batch_summary(batch);
        json_object_set_new(c->result, "organization_id", json_string(org));
        json_object_set_new(c->result, "published", json_integer((json_int_t)published));
        json_object_set(c->result, "unpublished", unpublished);
        log_info("hsds: imported %s (%zu services, %zu published)", path,
                 hsds_batch_count(batch, "service"), published);
    }
    json_decref(unpublished);
    hsds_batch_destroy(&batch);
    return rc;
}

/* ---- export ---------------------------------------------------------------------------- */

/* True when this node holds an HSDS service `id` of its own (already exported in full). */
static bool
api_hsds_have(apicall_t *c, const char *id)
{
    json_t *row = NULL;
    int rc = hsds_get(c->txn, c->st, "service", id, &row);
    json_decref(row);
    return rc == 0;
}

/* Every live service of the replica that is neither this agency's nor one of its own HSDS
 * services, passed to `fn`. */
static int
api_hsds_replica_each(apicall_t *c, int (*fn)(void *ctx, const Refnet__Service *svc), void *ctx)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc = store_err(mdb_cursor_open(c->txn, store_db(c->st, NODEDB_SERVICES), &cur));
    int mrc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : MDB_NOTFOUND;
    while (rc == 0 && mrc == 0) {
        pbuf_t *pb = NULL;
        rc = pbuf_unpack(&pb, &refnet__dir_record__descriptor, v.mv_data, v.mv_size, v.mv_size);
        const Refnet__DirRecord *rec = rc == 0 ? (const Refnet__DirRecord *)pbuf_msg(pb) : NULL;
        if (rec && !rec->withdrawn && rec->service && strcmp(rec->agency, c->agency) != 0 &&
            !api_hsds_have(c, rec->service->id))
            rc = fn(ctx, rec->service);
        pbuf_destroy(&pb);
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (cur)
        mdb_cursor_close(cur);
    return rc;
}

/* Writes `doc` as DIR/SUB/ID.json. */
static int
api_hsds_write_json(const char *dir, const char *sub, const char *id, json_t *doc)
{
    char folder[PATH_MAX_LEN], name[WIRE_MAX_IDENT + 8], path[PATH_MAX_LEN];
    snprintf(name, sizeof name, "%s.json", id);
    int rc = path_join(folder, sizeof folder, dir, sub);
    if (rc == 0)
        rc = path_mkdir(folder, 0755);
    if (rc == 0)
        rc = path_join(path, sizeof path, folder, name);
    if (rc == 0 && json_dump_file(doc, path, JSON_INDENT(4)) != 0)
        rc = REFNET_EIO;
    return rc;
}

typedef struct {
    const char *dir;
    json_t *rows;  /* hsds-csv: the services table being built */
    json_t *caps;  /* hsds-csv: the service_capacity table being built */
    json_t *units; /* hsds-csv: the unit table being built, id -> row */
    size_t services, files;
} api_hsds_export_t;

static int
api_hsds_other_json(void *ctx, const Refnet__Service *svc)
{
    api_hsds_export_t *x = ctx;
    json_t *doc = hsds_map_from_service(svc);
    hsds_map_capacity(doc, svc);
    int rc = api_hsds_write_json(x->dir, "services", svc->id, doc);
    json_decref(doc);
    x->services++;
    x->files++;
    return rc;
}

static int
api_hsds_other_csv(void *ctx, const Refnet__Service *svc)
{
    api_hsds_export_t *x = ctx;
    json_array_append_new(x->rows, hsds_map_from_service(svc));
    hsds_map_capacity_rows(svc->id, NULL, NULL, svc, x->caps, x->units);
    x->services++;
    return 0;
}

/* An own service's capacity: its stored HSDS 3.1 rows, with the directory's numbers when
 * those are fresher (hsds_map_capacity_rows). */
static int
api_hsds_own_capacity(apicall_t *c, const char *id, json_t *doc)
{
    json_t *stored = NULL, *units = NULL;
    int rc = hsds_map_capacity_stored(c->txn, c->st, id, &stored, &units);
    if (rc != 0)
        return rc;
    pbuf_t *live = api_hsds_live(c, id);
    json_t *caps = json_array(), *caps_units = json_object();
    hsds_map_capacity_rows(id, stored, units,
                           live ? ((const Refnet__DirRecord *)pbuf_msg(live))->service : NULL, caps,
                           caps_units);
    hsds_map_capacity_nest(doc, caps, caps_units);
    pbuf_destroy(&live);
    json_decref(caps);
    json_decref(caps_units);
    json_decref(stored);
    json_decref(units);
    return 0;
}

/* The services nested in an organization object get the same capacity as their own files. */
static int
api_hsds_org_capacity(apicall_t *c, json_t *org)
{
    size_t i;
    json_t *svc;
    int rc = 0;
    json_array_foreach(json_object_get(org, "services"), i, svc)
    {
        const char *id = json_string_value(json_object_get(svc, "id"));
        if (rc == 0 && id)
            rc = api_hsds_own_capacity(c, id, svc);
    }
    return rc;
}

/* hsds-json: one nested object per organization and per service. */
static int
api_hsds_export_json(apicall_t *c, bool own, api_hsds_export_t *x)
{
    static const char *const roots[][2] = { { "organization", "organizations" },
                                            { "service", "services" } };
    int rc = 0;
    for (size_t r = 0; rc == 0 && r < 2; r++) {
        json_t *list = NULL, *row, *doc = NULL;
        size_t i;
        rc = hsds_list(c->txn, c->st, roots[r][0], &list);
        json_array_foreach(list, i, row)
        {
            const char *id = json_string_value(json_object_get(row, "id"));
            if (rc == 0)
                rc = hsds_map_nest(c->txn, c->st, roots[r][0], id, &doc);
            if (rc == 0)
                rc = r == 1 ? api_hsds_own_capacity(c, id, doc) : api_hsds_org_capacity(c, doc);
            if (rc == 0)
                rc = api_hsds_write_json(x->dir, roots[r][1], id, doc);
            json_decref(doc);
            doc = NULL;
            x->files += rc == 0;
            x->services += rc == 0 && r == 1;
        }
        json_decref(list);
    }
    if (rc == 0 && !own)
        rc = api_hsds_replica_each(c, api_hsds_other_json, x);
    return rc;
}

static int
api_hsds_write_table(const char *dir, const hsds_table_t *t, const json_t *rows)
{
    char path[PATH_MAX_LEN];
    int rc = path_join(path, sizeof path, dir, t->path);
    FILE *f = rc == 0 ? fopen(path, "w") : NULL;
    if (!f)
        return rc != 0 ? rc : REFNET_EIO;
    rc = hsds_csv_write(f, t, rows);
    if (fclose(f) != 0)
        rc = REFNET_EIO;
    return rc;
}

/* The stored service_capacity rows grouped by service id: service id -> array (caller
 * owns), in one pass. */
static int
api_hsds_caps_by_service(apicall_t *c, json_t **out)
{
    json_t *all = NULL, *row;
    size_t i;
    int rc = hsds_list(c->txn, c->st, "service_capacity", &all);
    if (rc != 0)
        return rc;
    json_t *by = json_object();
    json_array_foreach(all, i, row)
    {
        const char *sid = json_string_value(json_object_get(row, "service_id"));
        json_t *list = sid ? json_object_get(by, sid) : NULL;
        if (sid && !list) {
            list = json_array();
            json_object_set_new(by, sid, list);
        }
        if (list)
            json_array_append(list, row);
    }
    json_decref(all);
    *out = by;
    return 0;
}

/* The capacity tables of an hsds-csv export for the agency's own services (`services`, their
 * stored rows): every stored unit, and per service its stored capacity rows with the
 * directory's numbers when fresher (hsds_map_capacity_rows). Rows of services not stored go
 * out as they are. Other agencies' services add theirs in api_hsds_other_csv. */
static int
api_hsds_csv_capacity(apicall_t *c, json_t *services, api_hsds_export_t *x)
{
    json_t *by = NULL, *units = NULL, *row;
    const char *key;
    size_t i;
    int rc = api_hsds_caps_by_service(c, &by);
    if (rc == 0)
        rc = hsds_list(c->txn, c->st, "unit", &units);
    json_t *stored_units = json_object();
    json_array_foreach(units, i, row)
    {
        const char *id = json_string_value(json_object_get(row, "id"));
        if (!id)
            continue;
        json_object_set(stored_units, id, row);
        json_object_set(x->units, id, row);
    }
    json_array_foreach(rc == 0 ? services : NULL, i, row)
    {
        const char *id = json_string_value(json_object_get(row, "id"));
        pbuf_t *live = api_hsds_live(c, id);
        hsds_map_capacity_rows(id, json_object_get(by, id), stored_units,
                               live ? ((const Refnet__DirRecord *)pbuf_msg(live))->service : NULL,
                               x->caps, x->units);
        json_object_del(by, id);
        pbuf_destroy(&live);
    }
    json_object_foreach(by, key, row) json_array_extend(x->caps, row);
    json_decref(by);
    json_decref(units);
    json_decref(stored_units);
    return rc;
}

/* The rows of a table for an hsds-csv export (caller owns): the capacity tables built by
 * api_hsds_csv_capacity, the rest as stored. */
static int
api_hsds_csv_rows(apicall_t *c, const hsds_table_t *t, api_hsds_export_t *x, json_t **out)
{
    const char *id;
    json_t *row;
    if (strcmp(t->name, "service_capacity") == 0) {
        *out = json_incref(x->caps);
        return 0;
    }
    if (strcmp(t->name, "unit") != 0)
        return hsds_list(c->txn, c->st, t->name, out);
    *out = json_array();
    json_object_foreach(x->units, id, row) json_array_append(*out, row);
    return 0;
}

/* hsds-csv: one file per table and datapackage.json. */
static int
api_hsds_export_csv(apicall_t *c, bool own, api_hsds_export_t *x)
{
    size_t n;
    char path[PATH_MAX_LEN];
    const hsds_table_t *tables = hsds_schema_tables(&n);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *rows = NULL;
        bool services = strcmp(tables[i].name, "service") == 0;
        rc = api_hsds_csv_rows(c, &tables[i], x, &rows);
        if (rc == 0 && services) {
            rc = api_hsds_csv_capacity(c, rows, x);
            x->services += json_array_size(rows);
            x->rows = rows;
            if (rc == 0 && !own)
                rc = api_hsds_replica_each(c, api_hsds_other_csv, x);
        }
        if (rc == 0)
            rc = api_hsds_write_table(x->dir, &tables[i], rows);
        x->files += rc == 0;
        json_decref(rows);
    }
    json_t *pkg = hsds_csv_package();
    if (rc == 0)
        rc = path_join(path, sizeof path, x->dir, "datapackage.json");
    if (rc == 0 && json_dump_file(pkg, path, JSON_INDENT(4)) != 0)
        rc = REFNET_EIO;
    x->files += rc == 0;
    json_decref(pkg);
    return rc;
}

int
api_hsds_export(apicall_t *c, json_t *args)
{
    const char *format = NULL, *dir = NULL;
    bool own = false;
    api_hsds_export_t x = { 0 };
    int rc = apicall_text(c, args, "format", true, 1, 16, &format);
    if (rc == 0 && strcmp(format, "hsds-json") != 0 && strcmp(format, "hsds-csv") != 0)
        rc = apicall_fail(c, REFNET_EINVAL, "argument format must be hsds-json or hsds-csv");
    if (rc == 0)
        rc = api_hsds_path(c, args, "dir", &dir);
    if (rc == 0 && apicall_bool(c, args, "own", false, &own) < 0)
        rc = REFNET_EINVAL;
    if (rc != 0)
        return rc;
    x.dir = dir;
    x.caps = json_array();
    x.units = json_object();
    rc = path_mkdir(dir, 0755);
    if (rc == 0)
        rc = format[5] == 'j' ? api_hsds_export_json(c, own, &x) : api_hsds_export_csv(c, own, &x);
    json_decref(x.caps);
    json_decref(x.units);
    if (rc != 0)
        return apicall_fail(c, rc, "cannot export to %s: %s", dir, refnet_strerror(rc));
    c->result = json_pack("{s:s, s:s, s:b, s:I, s:I}", "dir", dir, "format", format, "own", own,
                          "files", (json_int_t)x.files, "services", (json_int_t)x.services);
    return 0;
}
