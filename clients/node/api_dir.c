/* api_dir: the local API's directory operations (see api_dir.h). */
#include "api_dir.h"

#include <string.h>
#include <time.h>

#include "dirsync.h"
#include "jsonout.h"
#include "node_limits.h"
#include "outbox.h"
#include "peerkeys.h"
#include "refnet_error.h"
#include "replica.h"
#include "validate.h"
#include "wire.h"

/* The link's counters since the node started: frames and envelopes each way (a Batch frame
 * carries several), sessions and what ended them. */
static json_t *
api_dir_link(const link_stats_t *l)
{
    json_t *o = json_object();
    json_object_set_new(o, "frames_in", json_integer((json_int_t)l->frames_in));
    json_object_set_new(o, "batches_in", json_integer((json_int_t)l->batches_in));
    json_object_set_new(o, "envelopes_in", json_integer((json_int_t)l->envelopes_in));
    json_object_set_new(o, "bad_frames", json_integer((json_int_t)(l->bad_frames + l->bad_items)));
    json_object_set_new(o, "frames_out", json_integer((json_int_t)l->frames_out));
    json_object_set_new(o, "batches_out", json_integer((json_int_t)l->batches_out));
    json_object_set_new(o, "envelopes_out", json_integer((json_int_t)l->envelopes_out));
    json_object_set_new(o, "resent", json_integer((json_int_t)l->resent));
    json_object_set_new(o, "sessions", json_integer((json_int_t)l->welcomes));
    json_object_set_new(o, "connections_lost", json_integer((json_int_t)l->lost));
    return o;
}

int
api_dir_status(apicall_t *c, json_t *args)
{
    uint64_t head = 0;
    size_t outbox = 0, services = 0;
    (void)args;
    int rc = replica_head(c->txn, c->st, &head);
    if (rc == 0)
        rc = outbox_count(c->txn, c->st, &outbox);
    if (rc == 0)
        rc = replica_count(c->txn, c->st, &services);
    if (rc != 0)
        return apicall_fail(c, rc, "cannot read the node's state: %s", refnet_strerror(rc));
    c->result = json_object();
    json_object_set_new(c->result, "agency", jsonout_str(c->agency));
    json_object_set_new(c->result, "name", jsonout_str(c->name));
    json_object_set_new(c->result, "connected", json_boolean(c->connected));
    json_object_set_new(c->result, "directory_seq", json_integer((json_int_t)head));
    json_object_set_new(c->result, "broker", jsonout_str(c->broker));
    json_object_set_new(c->result, "outbox", json_integer((json_int_t)outbox));
    json_object_set_new(c->result, "services", json_integer((json_int_t)services));
    if (c->link)
        json_object_set_new(c->result, "link", api_dir_link(c->link));
    return 0;
}

/* Queues `env` for the broker and leaves the call waiting for its answer about `id`. */
static int
api_dir_queue(apicall_t *c, Refnet__Envelope *env, const char *id)
{
    int rc = outbox_add(c->txn, c->st, env, NULL, c->now, c->msg_id, NULL);
    if (rc == REFNET_EQUEUEFULL)
        return apicall_fail(c, rc, "the outbox holds %d messages; try again later",
                            NODE_OUTBOX_MAX);
    if (rc != 0)
        return apicall_fail(c, rc, "cannot queue the change: %s", refnet_strerror(rc));
    c->pending = true;
    snprintf(c->subject, sizeof c->subject, "%s", id);
    return 0;
}

/* Reads the availability numbers both publish and availability take. */
typedef struct {
    json_int_t capacity, available, waitlist;
    bool accepting;
    const char *unit;
    int has_capacity, has_available, has_waitlist, has_accepting, has_unit; /* getter codes */
} api_dir_avail_t;

static int
api_dir_read_avail(apicall_t *c, json_t *args, bool available_required, api_dir_avail_t *a)
{
    a->has_available =
        apicall_int(c, args, "available", available_required, 0, WIRE_MAX_CAPACITY, &a->available);
    if (a->has_available < 0)
        return a->has_available;
    a->has_capacity = apicall_int(c, args, "capacity", false, 0, WIRE_MAX_CAPACITY, &a->capacity);
    if (a->has_capacity < 0)
        return a->has_capacity;
    a->has_waitlist = apicall_int(c, args, "waitlist", false, 0, WIRE_MAX_CAPACITY, &a->waitlist);
    if (a->has_waitlist < 0)
        return a->has_waitlist;
    a->has_accepting = apicall_bool(c, args, "accepting", false, &a->accepting);
    if (a->has_accepting < 0)
        return a->has_accepting;
    a->has_unit = apicall_text(c, args, "unit", false, 0, WIRE_MAX_UNIT, &a->unit);
    return a->has_unit < 0 ? a->has_unit : 0;
}

/* Reads "lat" and "lon": both or neither. */
static int
api_dir_read_location(apicall_t *c, json_t *args, Refnet__Service *svc)
{
    int has_lat = apicall_number(c, args, "lat", false, -90.0, 90.0, &svc->lat);
    if (has_lat < 0)
        return has_lat;
    int has_lon = apicall_number(c, args, "lon", false, -180.0, 180.0, &svc->lon);
    if (has_lon < 0)
        return has_lon;
    if (has_lat != has_lon)
        return apicall_fail(c, REFNET_EINVAL, "arguments lat and lon go together");
    svc->has_location = has_lat == 0;
    return 0;
}

static int
api_dir_read_service(
    apicall_t *c, json_t *args, Refnet__Service *svc, const char **tax, const char **langs)
{
    const char *desc = "";
    size_t ntax = 0, nlang = 0;
    int rc = apicall_ident(c, args, "id", true, (const char **)&svc->id);
    if (rc == 0)
        rc = apicall_text(c, args, "name", true, 1, WIRE_MAX_NAME, (const char **)&svc->name);
    if (rc == 0)
        rc = apicall_ident_list(c, args, "taxonomy", true, 1, WIRE_MAX_TAXONOMY, tax, &ntax);
    if (rc >= 0)
        rc = apicall_text(c, args, "description", false, 0, WIRE_MAX_DESCRIPTION, &desc);
    if (rc >= 0)
        rc = apicall_ident_list(c, args, "languages", false, 0, WIRE_MAX_LANGUAGES, langs, &nlang);
    if (rc < 0)
        return rc;
    svc->description = (char *)desc;
    svc->taxonomy = (char **)tax;
    svc->n_taxonomy = ntax;
    svc->languages = (char **)langs;
    svc->n_languages = nlang;
    return api_dir_read_location(c, args, svc);
}

int
api_dir_publish(apicall_t *c, json_t *args)
{
    Refnet__Service svc = REFNET__SERVICE__INIT;
    Refnet__Capacity cap = REFNET__CAPACITY__INIT;
    Refnet__Intake in = REFNET__INTAKE__INIT;
    Refnet__DirPublish pub = REFNET__DIR_PUBLISH__INIT;
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    const char *tax[WIRE_MAX_TAXONOMY], *langs[WIRE_MAX_LANGUAGES];
    api_dir_avail_t a = { 0 };
    char why[WIRE_WHY_LEN] = "";

    int rc = api_dir_read_service(c, args, &svc, tax, langs);
    if (rc == 0)
        rc = api_dir_read_avail(c, args, false, &a);
    if (rc != 0)
        return rc;
    svc.agency = (char *)c->agency;
    svc.updated_at_ms = c->now;
    if (a.has_capacity == 0 || a.has_available == 0 || a.has_unit == 0) {
        cap.available = a.has_available == 0 ? (int32_t)a.available : -1;
        cap.maximum = a.has_capacity == 0 ? (int32_t)a.capacity : -1;
        cap.unit = (char *)(a.has_unit == 0 ? a.unit : "");
        cap.updated_at_ms = c->now;
        svc.capacity = &cap;
    }
    in.accepting = a.has_accepting == 0 ? a.accepting : true;
    in.waitlist = a.has_waitlist == 0 ? (uint32_t)a.waitlist : 0;
    svc.intake = &in;
    if (validate_service(&svc, why) != 0)
        return apicall_fail(c, REFNET_EINVAL, "%s", why);
    pub.service = &svc;
    env.body_case = REFNET__ENVELOPE__BODY_PUBLISH;
    env.publish = &pub;
    return api_dir_queue(c, &env, svc.id);
}

/* Loads service `id` from the replica and checks that this agency owns it. */
static int
api_dir_own_service(apicall_t *c, const char *id, pbuf_t **out)
{
    int rc = replica_get(c->txn, c->st, id, out);
    if (rc == REFNET_ENOTFOUND)
        return apicall_fail(c, rc, "the directory has no service %s", id);
    if (rc != 0)
        return apicall_fail(c, rc, "cannot read service %s: %s", id, refnet_strerror(rc));
    const Refnet__DirRecord *rec = (const Refnet__DirRecord *)pbuf_msg(*out);
    if (strcmp(rec->agency, c->agency) != 0)
        return apicall_fail(c, REFNET_EFORBIDDEN, "service %s belongs to agency %s", id,
                            rec->agency);
    return 0;
}

/* Builds the new capacity and intake from the current ones and the arguments given. */
static void
api_dir_merge_avail(const Refnet__Service *cur,
                    const api_dir_avail_t *a,
                    uint64_t now,
                    Refnet__Capacity *cap,
                    Refnet__Intake *in)
{
    cap->available = -1;
    cap->maximum = -1;
    if (cur->capacity) {
        cap->available = cur->capacity->available;
        cap->maximum = cur->capacity->maximum;
        cap->unit = cur->capacity->unit;
    }
    if (cur->intake)
        *in = *cur->intake;
    cap->available = (int32_t)a->available;
    if (a->has_capacity == 0)
        cap->maximum = (int32_t)a->capacity;
    if (a->has_unit == 0)
        cap->unit = (char *)a->unit;
    cap->updated_at_ms = now;
    if (a->has_waitlist == 0)
        in->waitlist = (uint32_t)a->waitlist;
    if (a->has_accepting == 0)
        in->accepting = a->accepting;
}

int
api_dir_availability(apicall_t *c, json_t *args)
{
    Refnet__Capacity cap = REFNET__CAPACITY__INIT;
    Refnet__Intake in = REFNET__INTAKE__INIT;
    Refnet__DirAvailability av = REFNET__DIR_AVAILABILITY__INIT;
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    api_dir_avail_t a = { 0 };
    const char *id = NULL;
    char why[WIRE_WHY_LEN] = "";
    pbuf_t *pb = NULL;

    int rc = apicall_ident(c, args, "id", true, &id);
    if (rc == 0)
        rc = api_dir_read_avail(c, args, true, &a);
    if (rc == 0)
        rc = api_dir_own_service(c, id, &pb);
    if (rc != 0)
        goto out;
    api_dir_merge_avail(((const Refnet__DirRecord *)pbuf_msg(pb))->service, &a, c->now, &cap, &in);
    if (validate_capacity(&cap, why) != 0 || validate_intake(&in, why) != 0) {
        rc = apicall_fail(c, REFNET_EINVAL, "%s", why);
        goto out;
    }
    av.service_id = (char *)id;
    av.capacity = &cap;
    av.intake = &in;
    env.body_case = REFNET__ENVELOPE__BODY_AVAILABILITY;
    env.availability = &av;
    rc = api_dir_queue(c, &env, id);
out:
    pbuf_destroy(&pb);
    return rc;
}

int
api_dir_withdraw(apicall_t *c, json_t *args)
{
    Refnet__DirWithdraw wd = REFNET__DIR_WITHDRAW__INIT;
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    const char *id = NULL;
    int rc = apicall_ident(c, args, "id", true, &id);
    if (rc != 0)
        return rc;
    /* Ownership is the broker's to judge (it refuses another agency's id), so a withdrawal
     * of a service this replica has not seen yet still reaches it. */
    wd.service_id = (char *)id;
    env.body_case = REFNET__ENVELOPE__BODY_WITHDRAW;
    env.withdraw = &wd;
    return api_dir_queue(c, &env, id);
}

/* Reads "near": {"lat", "lon"} and "radius_km". */
static int
api_dir_read_near(apicall_t *c, json_t *args, replica_query_t *q)
{
    json_t *near = json_object_get(args, "near");
    int rc;
    if (near && !json_is_null(near)) {
        if (!json_is_object(near))
            return apicall_fail(c, REFNET_EINVAL, "argument near must be {\"lat\", \"lon\"}");
        rc = apicall_number(c, near, "lat", true, -90.0, 90.0, &q->lat);
        if (rc == 0)
            rc = apicall_number(c, near, "lon", true, -180.0, 180.0, &q->lon);
        if (rc != 0)
            return rc;
        q->has_near = true;
    }
    rc = apicall_number(c, args, "radius_km", false, 0.0, NODE_SEARCH_RADIUS_MAX_KM, &q->radius_km);
    if (rc < 0)
        return rc;
    if (rc == 0 && !q->has_near)
        return apicall_fail(c, REFNET_EINVAL, "argument radius_km needs near");
    return 0;
}

/* The orders of --sort, by their API names. */
static const char *const API_DIR_SORTS[] = {
    [REPLICA_SORT_DEFAULT] = "default",     [REPLICA_SORT_DISTANCE] = "distance",
    [REPLICA_SORT_NAME] = "name",           [REPLICA_SORT_UPDATED] = "updated",
    [REPLICA_SORT_AVAILABLE] = "available",
};

static int
api_dir_read_sort(apicall_t *c, json_t *args, replica_query_t *q)
{
    const char *sort = NULL;
    int rc = apicall_text(c, args, "sort", false, 1, 16, &sort);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    for (size_t i = 0; i < sizeof API_DIR_SORTS / sizeof API_DIR_SORTS[0]; i++)
        if (strcmp(sort, API_DIR_SORTS[i]) == 0) {
            q->sort = (replica_sort_t)i;
            return 0;
        }
    return apicall_fail(c, REFNET_EINVAL,
                        "argument sort must be default, distance, name, updated or available");
}

/* "open_now" at "at_ms" (default: now), in the node's local time zone: schedules are kept in
 * the local time of the place, and a node serves its own area. */
static int
api_dir_read_open(apicall_t *c, json_t *args, replica_query_t *q)
{
    json_int_t at = (json_int_t)c->now;
    struct tm tm;
    int rc = apicall_bool(c, args, "open_now", false, &q->open_now);
    if (rc >= 0)
        rc = apicall_int(c, args, "at_ms", false, (json_int_t)WIRE_MIN_TIME_MS,
                         (json_int_t)WIRE_MAX_TIME_MS, &at);
    if (rc < 0)
        return rc;
    time_t t = (time_t)(at / 1000);
    if (!localtime_r(&t, &tm))
        return apicall_fail(c, REFNET_EINVAL, "argument at_ms is not a usable time");
    q->weekday = (unsigned)(tm.tm_wday + 6) % 7;
    q->minute = (unsigned)(tm.tm_hour * 60 + tm.tm_min);
    return 0;
}

static int
api_dir_read_filters(apicall_t *c, json_t *args, replica_query_t *q)
{
    json_int_t age = 0;
    int rc = apicall_text(c, args, "text", false, 0, WIRE_MAX_NAME, &q->text);
    if (rc >= 0)
        rc = apicall_ident(c, args, "taxonomy", false, &q->taxonomy);
    if (rc >= 0)
        rc = apicall_text(c, args, "language", false, WIRE_MIN_LANGUAGE, WIRE_MAX_LANGUAGE,
                          &q->language);
    if (rc >= 0)
        rc = apicall_bool(c, args, "available", false, &q->available);
    if (rc >= 0)
        rc = apicall_bool(c, args, "accepting", false, &q->accepting);
    if (rc >= 0) {
        rc = apicall_int(c, args, "age", false, 0, WIRE_MAX_AGE, &age);
        q->has_age = rc == 0;
        q->age = (unsigned)age;
    }
    return rc < 0 ? rc : 0;
}

static int
api_dir_read_query(apicall_t *c, json_t *args, replica_query_t *q)
{
    json_int_t limit = NODE_SEARCH_LIMIT_DEFAULT, page = 1;
    int rc = api_dir_read_filters(c, args, q);
    if (rc >= 0)
        rc = apicall_int(c, args, "limit", false, 1, NODE_SEARCH_LIMIT_MAX, &limit);
    if (rc >= 0)
        rc = apicall_int(c, args, "page", false, 1, NODE_SEARCH_PAGE_MAX, &page);
    if (rc >= 0)
        rc = api_dir_read_near(c, args, q);
    if (rc >= 0)
        rc = api_dir_read_sort(c, args, q);
    if (rc >= 0)
        rc = api_dir_read_open(c, args, q);
    q->limit = (size_t)limit;
    q->page = (size_t)page;
    q->now_ms = c->now;
    q->stale_after_ms = c->stale_after_ms;
    return rc < 0 ? rc : 0;
}

static json_t *
api_dir_schedules(const Refnet__Service *s)
{
    json_t *list = json_array();
    for (size_t i = 0; i < s->n_schedules; i++) {
        const Refnet__Schedule *sc = s->schedules[i];
        json_t *o = json_object();
        json_object_set_new(o, "weekdays", json_integer(sc->weekdays));
        json_object_set_new(o, "opens_at", json_integer(sc->opens_at));
        json_object_set_new(o, "closes_at", json_integer(sc->closes_at));
        json_array_append_new(list, o);
    }
    return list;
}

/* One search hit (API.md "search"): everything said about a result is built here. */
static json_t *
api_dir_hit_json(const replica_hit_t *hit)
{
    const Refnet__DirRecord *rec = (const Refnet__DirRecord *)pbuf_msg(hit->rec);
    const Refnet__Service *s = rec->service;
    json_t *o = jsonout_service(rec, hit->has_distance, hit->distance_km);
    json_object_set_new(o, "stale", json_boolean(hit->stale));
    json_object_set_new(o, "minimum_age",
                        s->minimum_age ? json_integer(s->minimum_age) : json_null());
    json_object_set_new(o, "maximum_age",
                        s->maximum_age ? json_integer(s->maximum_age) : json_null());
    json_object_set_new(o, "schedules", api_dir_schedules(s));
    return o;
}

/* The HSDS API Page wrapper around one page of hits. */
static json_t *
api_dir_page(const replica_query_t *q, const replica_result_t *r)
{
    json_t *page = json_object(), *list = json_array();
    size_t pages = r->total / q->limit + (r->total % q->limit != 0);
    for (size_t i = 0; i < r->n; i++)
        json_array_append_new(list, api_dir_hit_json(&r->hits[i]));
    json_object_set_new(page, "total_items", json_integer((json_int_t)r->total));
    json_object_set_new(page, "total_pages", json_integer((json_int_t)pages));
    json_object_set_new(page, "page_number", json_integer((json_int_t)q->page));
    json_object_set_new(page, "size", json_integer((json_int_t)r->n));
    json_object_set_new(page, "first_page", json_boolean(q->page == 1));
    json_object_set_new(page, "last_page", json_boolean(q->page >= pages));
    json_object_set_new(page, "empty", json_boolean(r->total == 0));
    json_object_set(page, "contents", list);
    /* The same list under its earlier name, for scripts written against it. */
    json_object_set_new(page, "services", list);
    return page;
}

/* Marks each hit whose agency the network revoked ("agency_revoked"), from the signed
 * revocations peerkeys.h holds: its services stay listed, but no handoff can go to it. */
static int
api_dir_mark_revoked(apicall_t *c, json_t *page)
{
    size_t i;
    json_t *hit;
    json_array_foreach(json_object_get(page, "contents"), i, hit)
    {
        uint64_t at = 0;
        const char *agency = json_string_value(json_object_get(hit, "agency"));
        int rc = agency ? peerkeys_revoked(c->txn, c->st, agency, &at) : 0;
        if (rc != 0)
            return rc;
        json_object_set_new(hit, "agency_revoked", json_boolean(at != 0));
    }
    return 0;
}

int
api_dir_search(apicall_t *c, json_t *args)
{
    replica_query_t q = { 0 };
    replica_result_t r = { 0 };
    int rc = api_dir_read_query(c, args, &q);
    if (rc != 0)
        return rc;
    rc = replica_search(c->txn, c->st, &q, &r);
    if (rc != 0)
        return apicall_fail(c, rc, "cannot search the directory: %s", refnet_strerror(rc));
    c->result = api_dir_page(&q, &r);
    replica_result_clear(&r);
    rc = api_dir_mark_revoked(c, c->result);
    if (rc != 0)
        return apicall_fail(c, rc, "cannot read agency revocations: %s", refnet_strerror(rc));
    return 0;
}

int
api_dir_verify(apicall_t *c, json_t *args)
{
    (void)args;
    if (!c->connected)
        return apicall_fail(c, REFNET_EUNAVAIL,
                            "the node is not connected to the broker; cannot compare digests");
    int rc = dirsync_verify_request(c->txn, c->st, c->now, c->msg_id);
    if (rc != 0)
        return apicall_fail(c, rc, "cannot ask the broker for its digest: %s", refnet_strerror(rc));
    c->pending = true;
    snprintf(c->subject, sizeof c->subject, "%s", DIRSYNC_VERIFY_SUBJECT);
    return 0;
}
