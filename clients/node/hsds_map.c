/* hsds_map: nested HSDS objects and directory Services from stored records (see hsds_map.h). */
#include "hsds_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hsds.h"
#include "hsds_schema.h"
#include "refnet_error.h"
#include "uid.h"
#include "validate.h"
#include "wire.h"
#include "xmalloc.h"

/* ---- nesting --------------------------------------------------------------------------- */

typedef struct {
    MDB_txn *txn;
    store_t *st;
    const char *path[HSDS_MAX_DEPTH + 1]; /* tables from the root to here */
    int depth;
} hsds_map_walk_t;

static int hsds_map_nest_row(hsds_map_walk_t *w, const char *table, json_t *row, json_t **out);

static bool
hsds_map_on_path(const hsds_map_walk_t *w, const char *table)
{
    for (int i = 0; i <= w->depth; i++)
        if (strcmp(w->path[i], table) == 0)
            return true;
    return false;
}

/* The rows of `table` whose field `fk` is `value` (caller owns the array). */
static int
hsds_map_children(
    MDB_txn *txn, store_t *st, const char *table, const char *fk, const char *value, json_t **out)
{
    json_t *all = NULL;
    int rc = hsds_list(txn, st, table, &all);
    if (rc != 0)
        return rc;
    json_t *list = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(all, i, row)
    {
        const char *v = json_string_value(json_object_get(row, fk));
        if (v && strcmp(v, value) == 0)
            json_array_append(list, row);
    }
    json_decref(all);
    *out = list;
    return 0;
}

/* Sets key rel->key of `out`, the nested form of `row`'s relation `rel`. */
static int
hsds_map_nest_rel(hsds_map_walk_t *w, const hsds_rel_t *rel, json_t *row, json_t *out)
{
    json_t *kids = NULL, *nested = NULL;
    const char *id = json_string_value(json_object_get(row, "id"));
    int rc = 0;
    if (rel->ref) {
        const char *cid = json_string_value(json_object_get(row, rel->fk));
        json_t *child = NULL;
        rc = cid ? hsds_get(w->txn, w->st, rel->child, cid, &child) : REFNET_ENOTFOUND;
        if (rc == 0)
            rc = hsds_map_nest_row(w, rel->child, child, &nested);
        json_decref(child);
        if (rc == 0)
            json_object_set_new(out, rel->key, nested);
        return rc == REFNET_ENOTFOUND ? 0 : rc;
    }
    rc = hsds_map_children(w->txn, w->st, rel->child, rel->fk, id, &kids);
    json_t *list = json_array();
    size_t i;
    json_t *kid;
    json_array_foreach(kids, i, kid)
    {
        if (rc == 0)
            rc = hsds_map_nest_row(w, rel->child, kid, &nested);
        if (rc == 0)
            json_array_append_new(list, nested);
    }
    json_decref(kids);
    if (rc == 0 && json_array_size(list) > 0)
        json_object_set(out, rel->key, list);
    json_decref(list);
    return rc;
}

static int
hsds_map_nest_row(hsds_map_walk_t *w, const char *table, json_t *row, json_t **out)
{
    const char *key;
    json_t *v;
    size_t n;
    if (w->depth + 1 >= HSDS_MAX_DEPTH)
        return REFNET_EINVAL;
    json_t *obj = json_object();
    json_object_foreach(row, key, v)
    {
        if (!hsds_schema_is_link(table, key))
            json_object_set(obj, key, v);
    }
    w->path[++w->depth] = table;
    const hsds_rel_t *rels = hsds_schema_rels(&n);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (strcmp(rels[i].parent, table) == 0 && !hsds_map_on_path(w, rels[i].child))
            rc = hsds_map_nest_rel(w, &rels[i], row, obj);
    w->depth--;
    if (rc != 0) {
        json_decref(obj);
        return rc;
    }
    *out = obj;
    return 0;
}

int
hsds_map_nest(MDB_txn *txn, store_t *st, const char *table, const char *id, json_t **out)
{
    /* The root's table goes on the path first, so a service's organization does not list the
     * services again, and an organization's services do not repeat the organization. */
    hsds_map_walk_t w = { .txn = txn, .st = st, .depth = -1 };
    json_t *row = NULL;
    int rc = hsds_get(txn, st, table, id, &row);
    if (rc != 0)
        return rc;
    rc = hsds_map_nest_row(&w, table, row, out);
    json_decref(row);
    return rc;
}

/* ---- directory Service ------------------------------------------------------------------ */

static int
hsds_map_fail(char *why, const char *id, const char *text)
{
    snprintf(why, HSDS_WHY_LEN, "service %s: %s", id, text);
    return REFNET_EINVAL;
}

static bool
hsds_map_has(char **items, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i], s) == 0)
            return true;
    return false;
}

static bool
hsds_map_language_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < WIRE_MIN_LANGUAGE || n > WIRE_MAX_LANGUAGE)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
    }
    return true;
}

/* Taxonomy codes: each attribute linked to the service names a taxonomy term; its code is
 * used when it is an identifier, else the term's id. */
static int
hsds_map_taxonomy(MDB_txn *txn, store_t *st, const char *id, hsds_map_service_t *s)
{
    json_t *attrs = NULL;
    int rc = hsds_map_children(txn, st, "attribute", "link_id", id, &attrs);
    size_t i;
    json_t *a;
    json_array_foreach(attrs, i, a)
    {
        const char *tid = json_string_value(json_object_get(a, "taxonomy_term_id"));
        json_t *term = NULL;
        if (rc != 0 || !tid || s->svc.n_taxonomy >= WIRE_MAX_TAXONOMY)
            continue;
        rc = hsds_get(txn, st, "taxonomy_term", tid, &term);
        if (rc == REFNET_ENOTFOUND) {
            rc = 0;
            continue;
        }
        const char *code = rc == 0 ? json_string_value(json_object_get(term, "code")) : NULL;
        if (rc == 0 && !(code && validate_ident(code)))
            code = tid;
        if (rc == 0 && !hsds_map_has(s->taxonomy, s->svc.n_taxonomy, code))
            s->taxonomy[s->svc.n_taxonomy++] = xstrdup(code);
        json_decref(term);
    }
    json_decref(attrs);
    return rc;
}

static int
hsds_map_languages(MDB_txn *txn, store_t *st, const char *id, hsds_map_service_t *s)
{
    json_t *langs = NULL;
    int rc = hsds_map_children(txn, st, "language", "service_id", id, &langs);
    size_t i;
    json_t *l;
    json_array_foreach(langs, i, l)
    {
        const char *code = json_string_value(json_object_get(l, "code"));
        if (code && hsds_map_language_ok(code) && s->svc.n_languages < WIRE_MAX_LANGUAGES &&
            !hsds_map_has(s->languages, s->svc.n_languages, code))
            s->languages[s->svc.n_languages++] = xstrdup(code);
    }
    json_decref(langs);
    return rc;
}

/* lat/lon of the location of the service's first service_at_location, when in range. */
static int
hsds_map_location(MDB_txn *txn, store_t *st, const char *id, hsds_map_service_t *s)
{
    json_t *sals = NULL, *loc = NULL;
    int rc = hsds_map_children(txn, st, "service_at_location", "service_id", id, &sals);
    const char *lid = json_string_value(json_object_get(json_array_get(sals, 0), "location_id"));
    if (rc == 0 && lid)
        rc = hsds_get(txn, st, "location", lid, &loc);
    if (rc == 0 && loc) {
        json_t *lat = json_object_get(loc, "latitude"), *lon = json_object_get(loc, "longitude");
        double la = json_number_value(lat), lo = json_number_value(lon);
        if (json_is_number(lat) && json_is_number(lon) && la >= -90.0 && la <= 90.0 &&
            lo >= -180.0 && lo <= 180.0) {
            s->svc.has_location = true;
            s->svc.lat = la;
            s->svc.lon = lo;
        }
    }
    json_decref(sals);
    json_decref(loc);
    return rc == REFNET_ENOTFOUND ? 0 : rc;
}

/* Whole years from an HSDS age field; false when absent or out of range. */
static bool
hsds_map_age(json_t *row, const char *key, uint32_t *out)
{
    json_t *v = json_object_get(row, key);
    double d = json_number_value(v);
    if (!json_is_number(v) || !(d >= 0.0 && d <= WIRE_MAX_AGE))
        return false;
    *out = (uint32_t)d;
    return true;
}

/* minimum_age and maximum_age; a pair out of order is left out rather than guessed at. */
static void
hsds_map_ages(json_t *row, hsds_map_service_t *s)
{
    uint32_t lo = 0, hi = 0;
    bool has_lo = hsds_map_age(row, "minimum_age", &lo),
         has_hi = hsds_map_age(row, "maximum_age", &hi);
    if (has_lo && has_hi && hi > 0 && lo > hi)
        return;
    s->svc.minimum_age = has_lo ? lo : 0;
    s->svc.maximum_age = has_hi ? hi : 0;
}

/* "HH:MM" or "HH:MM:SS" as minutes after midnight (24:00 allowed for a closing time). */
static bool
hsds_map_clock(const char *t, uint32_t *out)
{
    unsigned h = 0, m = 0, sec = 0;
    char tail = '\0';
    int n = t ? sscanf(t, "%2u:%2u:%2u%c", &h, &m, &sec, &tail) : 0;
    if (n < 2 || n > 3 || m > 59 || sec > 59 || h * 60 + m > WIRE_DAY_MINUTES)
        return false;
    *out = h * 60 + m;
    return true;
}

/* "MO,TU,..." as weekday bits (bit 0 Monday); 0 when a day is not understood. */
static uint32_t
hsds_map_byday(const char *byday)
{
    static const char *const days[] = { "MO", "TU", "WE", "TH", "FR", "SA", "SU" };
    uint32_t mask = 0;
    const char *p = byday;
    while (p && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        uint32_t bit = 0;
        for (size_t d = 0; d < 7; d++)
            if (n == 2 && strncmp(p, days[d], 2) == 0)
                bit = 1u << d;
        if (bit == 0)
            return 0;
        mask |= bit;
        p += n;
    }
    return mask;
}

/* One HSDS schedule row as a weekly period, when it is one. */
static void
hsds_map_schedule_row(json_t *row, hsds_map_service_t *s)
{
    const char *freq = json_string_value(json_object_get(row, "freq"));
    const char *byday = json_string_value(json_object_get(row, "byday"));
    Refnet__Schedule init = REFNET__SCHEDULE__INIT, sc = init;
    bool daily = freq && strcmp(freq, "DAILY") == 0;
    if (s->svc.n_schedules >= WIRE_MAX_SCHEDULES ||
        (freq && freq[0] && !daily && strcmp(freq, "WEEKLY") != 0))
        return;
    sc.weekdays = (byday && byday[0]) ? hsds_map_byday(byday) : daily ? 127u : 0u;
    if (sc.weekdays == 0 ||
        !hsds_map_clock(json_string_value(json_object_get(row, "opens_at")), &sc.opens_at) ||
        !hsds_map_clock(json_string_value(json_object_get(row, "closes_at")), &sc.closes_at) ||
        sc.opens_at >= WIRE_DAY_MINUTES || sc.closes_at == 0 || sc.opens_at == sc.closes_at)
        return;
    s->schedule[s->svc.n_schedules] = sc;
    s->schedules[s->svc.n_schedules] = &s->schedule[s->svc.n_schedules];
    s->svc.n_schedules++;
}

static void
hsds_map_schedule_rows(json_t *rows, hsds_map_service_t *s)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        hsds_map_schedule_row(row, s);
    }
}

/* Schedules of the service itself and of each of its service_at_locations. */
static int
hsds_map_schedules(MDB_txn *txn, store_t *st, const char *id, hsds_map_service_t *s)
{
    json_t *rows = NULL, *sals = NULL;
    size_t i;
    json_t *sal;
    s->svc.schedules = s->schedules;
    int rc = hsds_map_children(txn, st, "schedule", "service_id", id, &rows);
    if (rc == 0) {
        hsds_map_schedule_rows(rows, s);
        rc = hsds_map_children(txn, st, "service_at_location", "service_id", id, &sals);
    }
    json_array_foreach(sals, i, sal)
    {
        const char *sid = json_string_value(json_object_get(sal, "id"));
        json_t *more = NULL;
        if (rc != 0 || !sid)
            continue;
        rc = hsds_map_children(txn, st, "schedule", "service_at_location_id", sid, &more);
        if (rc == 0)
            hsds_map_schedule_rows(more, s);
        json_decref(more);
    }
    json_decref(rows);
    json_decref(sals);
    return rc;
}

int
hsds_map_capacity_index(MDB_txn *txn, store_t *st, json_t **out)
{
    json_t *all = NULL, *row;
    size_t i;
    int rc = hsds_list(txn, st, "service_capacity", &all);
    if (rc != 0)
        return rc;
    json_t *index = json_object();
    json_array_foreach(all, i, row)
    {
        const char *sid = json_string_value(json_object_get(row, "service_id"));
        if (sid && !json_object_get(index, sid))
            json_object_set(index, sid, row);
    }
    json_decref(all);
    *out = index;
    return 0;
}

/* The service's first stored service_capacity row (in id order), from `index` or else by a
 * scan, as its published capacity; its updated time, or `now` when it has none. Nothing when
 * there is no such row. */
static int
hsds_map_capacity_in(MDB_txn *txn,
                     store_t *st,
                     const char *id,
                     uint64_t now,
                     const json_t *index,
                     hsds_map_service_t *s)
{
    json_t *rows = NULL, *unit = NULL;
    Refnet__Capacity init = REFNET__CAPACITY__INIT;
    int rc = index ? 0 : hsds_map_children(txn, st, "service_capacity", "service_id", id, &rows);
    json_t *cap = index ? json_object_get(index, id) : json_array_get(rows, 0);
    const char *unit_id = json_string_value(json_object_get(cap, "unit_id"));
    if (rc == 0 && unit_id)
        rc = hsds_get(txn, st, "unit", unit_id, &unit);
    if (rc == REFNET_ENOTFOUND)
        rc = 0;
    if (rc == 0 && cap) {
        json_t *max = json_object_get(cap, "maximum");
        const char *updated = json_string_value(json_object_get(cap, "updated"));
        const char *name = json_string_value(json_object_get(unit, "name"));
        s->capacity = init;
        s->capacity.available = (int32_t)json_number_value(json_object_get(cap, "available"));
        s->capacity.maximum = max ? (int32_t)json_number_value(max) : -1;
        s->unit = xstrdup(name ? name : "");
        s->capacity.unit = s->unit;
        if (!updated || hsds_parse_time(updated, &s->capacity.updated_at_ms) != 0)
            s->capacity.updated_at_ms = now;
        s->svc.capacity = &s->capacity;
    }
    json_decref(unit);
    json_decref(rows);
    return rc;
}

/* A copy of `text` cut to at most `max` bytes without splitting a UTF-8 character. */
static char *
hsds_map_cut(const char *text, size_t max)
{
    size_t n = strlen(text);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    }
    char *out = xmalloc(n + 1);
    memcpy(out, text, n);
    out[n] = '\0';
    return out;
}

int
hsds_map_service(MDB_txn *txn,
                 store_t *st,
                 const char *id,
                 const char *agency,
                 uint64_t now,
                 const json_t *caps,
                 hsds_map_service_t *out,
                 char *why)
{
    Refnet__Service init = REFNET__SERVICE__INIT;
    Refnet__Intake intake = REFNET__INTAKE__INIT;
    json_t *row = NULL;
    memset(out, 0, sizeof *out);
    out->svc = init;
    out->intake = intake;
    int rc = hsds_get(txn, st, "service", id, &row);
    if (rc != 0)
        return rc;
    out->hold = row;
    const char *name = json_string_value(json_object_get(row, "name"));
    const char *desc = json_string_value(json_object_get(row, "description"));
    if (!name || !validate_text(name, 1, WIRE_MAX_NAME))
        return hsds_map_fail(why, id, "its name must be 1 to 200 bytes of text");
    out->description = hsds_map_cut(desc ? desc : "", WIRE_MAX_DESCRIPTION);
    out->svc.id = (char *)json_string_value(json_object_get(row, "id"));
    out->svc.agency = (char *)agency;
    out->svc.name = (char *)name;
    out->svc.description = out->description;
    out->svc.taxonomy = out->taxonomy;
    out->svc.languages = out->languages;
    out->svc.updated_at_ms = now;
    out->intake.accepting = true;
    out->svc.intake = &out->intake;
    rc = hsds_map_taxonomy(txn, st, id, out);
    if (rc == 0)
        rc = hsds_map_languages(txn, st, id, out);
    if (rc == 0)
        rc = hsds_map_location(txn, st, id, out);
    if (rc == 0)
        rc = hsds_map_schedules(txn, st, id, out);
    if (rc == 0)
        rc = hsds_map_capacity_in(txn, st, id, now, caps, out);
    if (rc != 0)
        return rc;
    hsds_map_ages(row, out);
    if (out->svc.n_taxonomy == 0)
        return hsds_map_fail(why, id,
                             "no attribute links it to a taxonomy term, and the network "
                             "directory needs at least one");
    char vwhy[WIRE_WHY_LEN] = "";
    if (validate_service(&out->svc, vwhy) != 0)
        return hsds_map_fail(why, id, vwhy);
    return 0;
}

void
hsds_map_service_clear(hsds_map_service_t *s)
{
    for (size_t i = 0; i < s->svc.n_taxonomy; i++)
        free(s->taxonomy[i]);
    for (size_t i = 0; i < s->svc.n_languages; i++)
        free(s->languages[i]);
    free(s->description);
    free(s->unit);
    json_decref(s->hold);
    memset(s, 0, sizeof *s);
}

json_t *
hsds_map_from_service(const Refnet__Service *svc)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(svc->id));
    json_object_set_new(o, "name", json_string(svc->name));
    json_object_set_new(o, "description", json_string(svc->description ? svc->description : ""));
    json_object_set_new(o, "status", json_string("active"));
    return o;
}

/* ---- capacity --------------------------------------------------------------------------- */

/* True when the directory's capacity should be exported instead of the stored row `base`:
 * it is known, and no older than the row (a row without a readable time is older). */
static bool
hsds_map_live_wins(const Refnet__Service *live, json_t *base)
{
    uint64_t ms = 0;
    const char *updated = json_string_value(json_object_get(base, "updated"));
    if (!live || !live->capacity || live->capacity->available < 0)
        return false;
    if (!base || !updated || hsds_parse_time(updated, &ms) != 0)
        return true;
    return live->capacity->updated_at_ms >= ms;
}

/* The unit row for unit name `name`: `base_unit` when it has that name (its id and other
 * fields kept), else {id, name} with the id derived from the name, so every export and every
 * node gives the same one. Caller owns. */
static json_t *
hsds_map_unit_row(const char *name, json_t *base_unit)
{
    char key[WIRE_MAX_UNIT + 8], id[UID_STR_LEN];
    const char *base_name = json_string_value(json_object_get(base_unit, "name"));
    if (base_name && strcmp(base_name, name) == 0)
        return json_deep_copy(base_unit);
    snprintf(key, sizeof key, "unit/%s", name);
    uid_derive(key, id);
    return json_pack("{s:s, s:s}", "id", id, "name", name);
}

/* A flat service_capacity row carrying the directory's numbers: `base` (a stored row, or
 * NULL) keeps its id and description; without one the id is derived from the service id. */
static json_t *
hsds_map_live_row(const char *service_id, const Refnet__Capacity *cap, json_t *base, json_t *unit)
{
    char key[WIRE_MAX_IDENT + 32], id[UID_STR_LEN], updated[CLOCK_ISO_LEN];
    json_t *row = base ? json_deep_copy(base) : json_object();
    if (!base) {
        snprintf(key, sizeof key, "service_capacity/%s", service_id);
        uid_derive(key, id);
        json_object_set_new(row, "id", json_string(id));
    }
    json_object_set_new(row, "service_id", json_string(service_id));
    json_object_set(row, "unit_id", json_object_get(unit, "id"));
    json_object_set_new(row, "available", json_integer(cap->available));
    if (cap->maximum >= 0)
        json_object_set_new(row, "maximum", json_integer(cap->maximum));
    else
        json_object_del(row, "maximum");
    if (cap->updated_at_ms) {
        clock_format_iso(cap->updated_at_ms, updated);
        json_object_set_new(row, "updated", json_string(updated));
    } else {
        json_object_del(row, "updated");
    }
    return row;
}

void
hsds_map_capacity_rows(const char *service_id,
                       json_t *stored,
                       json_t *units,
                       const Refnet__Service *live,
                       json_t *caps_out,
                       json_t *units_out)
{
    size_t i;
    json_t *row;
    json_array_foreach(stored, i, row)
    {
        const char *unit_id = json_string_value(json_object_get(row, "unit_id"));
        json_t *unit = unit_id ? json_object_get(units, unit_id) : NULL;
        if (i == 0 && hsds_map_live_wins(live, row)) {
            const char *name =
                live->capacity->unit && live->capacity->unit[0] ? live->capacity->unit : "place";
            unit = hsds_map_unit_row(name, unit);
            json_array_append_new(caps_out,
                                  hsds_map_live_row(service_id, live->capacity, row, unit));
            json_object_set_new(units_out, json_string_value(json_object_get(unit, "id")), unit);
            continue;
        }
        json_array_append(caps_out, row);
        if (unit)
            json_object_set(units_out, unit_id, unit);
    }
    if (json_array_size(stored) == 0 && hsds_map_live_wins(live, NULL)) {
        const char *name =
            live->capacity->unit && live->capacity->unit[0] ? live->capacity->unit : "place";
        json_t *unit = hsds_map_unit_row(name, NULL);
        json_array_append_new(caps_out, hsds_map_live_row(service_id, live->capacity, NULL, unit));
        json_object_set_new(units_out, json_string_value(json_object_get(unit, "id")), unit);
    }
}

int
hsds_map_capacity_stored(
    MDB_txn *txn, store_t *st, const char *service_id, json_t **stored, json_t **units)
{
    json_t *rows = NULL, *row;
    size_t i;
    int rc = hsds_map_children(txn, st, "service_capacity", "service_id", service_id, &rows);
    if (rc != 0)
        return rc;
    json_t *found = json_object();
    json_array_foreach(rows, i, row)
    {
        const char *unit_id = json_string_value(json_object_get(row, "unit_id"));
        json_t *unit = NULL;
        if (rc != 0 || !unit_id || json_object_get(found, unit_id))
            continue;
        rc = hsds_get(txn, st, "unit", unit_id, &unit);
        if (rc == 0)
            json_object_set_new(found, unit_id, unit);
        if (rc == REFNET_ENOTFOUND)
            rc = 0;
    }
    if (rc != 0) {
        json_decref(rows);
        json_decref(found);
        return rc;
    }
    *stored = rows;
    *units = found;
    return 0;
}

void
hsds_map_capacity_nest(json_t *doc, json_t *caps, json_t *units)
{
    size_t i;
    json_t *row;
    if (json_array_size(caps) == 0) {
        json_object_del(doc, "capacities");
        return;
    }
    json_t *list = json_array();
    json_array_foreach(caps, i, row)
    {
        json_t *c = json_deep_copy(row);
        const char *unit_id = json_string_value(json_object_get(c, "unit_id"));
        json_t *unit = unit_id ? json_object_get(units, unit_id) : NULL;
        if (unit) {
            json_object_set_new(c, "unit", json_deep_copy(unit));
            json_object_del(c, "unit_id");
        }
        json_array_append_new(list, c);
    }
    json_object_set_new(doc, "capacities", list);
}

void
hsds_map_capacity(json_t *doc, const Refnet__Service *svc)
{
    json_t *caps = json_array(), *units = json_object();
    hsds_map_capacity_rows(svc->id, NULL, NULL, svc, caps, units);
    if (json_array_size(caps) > 0)
        hsds_map_capacity_nest(doc, caps, units);
    json_decref(caps);
    json_decref(units);
}
