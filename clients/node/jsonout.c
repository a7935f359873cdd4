/* jsonout: the JSON forms of the node's records (see jsonout.h). */
#include "jsonout.h"

#include <math.h>

#include "clock.h"
#include "consent.h"
#include "enums.h"

json_t *
jsonout_time(uint64_t ms)
{
    char iso[CLOCK_ISO_LEN];
    if (ms == 0)
        return json_null();
    clock_format_iso(ms, iso);
    return json_string(iso);
}

json_t *
jsonout_str(const char *s)
{
    json_t *v = json_string(s ? s : "");
    return v ? v : json_null();
}

/* An integer, or null when negative (the protocol's "unknown"). */
static json_t *
jsonout_count(int64_t v)
{
    return v < 0 ? json_null() : json_integer(v);
}

static json_t *
jsonout_strings(char **items, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, jsonout_str(items[i]));
    return a;
}

static json_t *
jsonout_categories(const Refnet__Category *cats, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(enums_category_name(cats[i])));
    return a;
}

/* An enum name, or null when unspecified (value 0). */
static json_t *
jsonout_enum(int value, const char *name)
{
    return value == 0 ? json_null() : json_string(name);
}

static void
jsonout_capacity(json_t *o, const Refnet__Service *s)
{
    const Refnet__Capacity *cap = s->capacity;
    const Refnet__Intake *in = s->intake;
    json_object_set_new(o, "available", cap ? jsonout_count(cap->available) : json_null());
    json_object_set_new(o, "capacity", cap ? jsonout_count(cap->maximum) : json_null());
    json_object_set_new(o, "unit", cap && cap->unit[0] ? jsonout_str(cap->unit) : json_null());
    json_object_set_new(o, "accepting", json_boolean(in && in->accepting));
    json_object_set_new(o, "waitlist", in ? json_integer(in->waitlist) : json_null());
    json_object_set_new(o, "capacity_status",
                        in ? jsonout_enum((int)in->status, enums_capacity_status_name(in->status))
                           : json_null());
}

json_t *
jsonout_service(const Refnet__DirRecord *rec, bool has_distance, double distance_km)
{
    const Refnet__Service *s = rec->service;
    json_t *o = json_object();
    json_object_set_new(o, "id", jsonout_str(s->id));
    json_object_set_new(o, "name", jsonout_str(s->name));
    json_object_set_new(o, "agency", jsonout_str(rec->agency[0] ? rec->agency : s->agency));
    json_object_set_new(o, "description", jsonout_str(s->description));
    json_object_set_new(o, "taxonomy", jsonout_strings(s->taxonomy, s->n_taxonomy));
    json_object_set_new(o, "languages", jsonout_strings(s->languages, s->n_languages));
    json_object_set_new(o, "lat", s->has_location ? json_real(s->lat) : json_null());
    json_object_set_new(o, "lon", s->has_location ? json_real(s->lon) : json_null());
    jsonout_capacity(o, s);
    json_object_set_new(o, "updated_at", jsonout_time(s->updated_at_ms));
    json_object_set_new(o, "seq", json_integer((json_int_t)rec->seq));
    if (has_distance)
        json_object_set_new(o, "distance_km", json_real(round(distance_km * 1000.0) / 1000.0));
    return o;
}

json_t *
jsonout_person(const Refnet__PersonRecord *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", jsonout_str(p->id));
    json_object_set_new(o, "name", jsonout_str(p->name));
    json_object_set_new(o, "contact", jsonout_str(p->contact));
    json_object_set_new(
        o, "preferred_contact",
        jsonout_enum((int)p->preferred_contact, enums_mode_name(p->preferred_contact)));
    json_object_set_new(o, "language", jsonout_str(p->language));
    json_object_set_new(o, "created_at", jsonout_time(p->created_at_ms));
    return o;
}

static const char *
jsonout_method_name(Refnet__ConsentMethod m)
{
    switch (m) {
    case REFNET__CONSENT_METHOD__CONSENT_METHOD_SIGNED:
        return "signed";
    case REFNET__CONSENT_METHOD__CONSENT_METHOD_VERBAL_WITNESSED:
        return "verbal-witnessed";
    default:
        return "unknown";
    }
}

json_t *
jsonout_consent(const Refnet__ConsentRecord *c, uint64_t now, bool full)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", jsonout_str(c->id));
    json_object_set_new(o, "person", jsonout_str(c->person_id));
    json_object_set_new(o, "to", jsonout_str(c->recipient));
    json_object_set_new(o, "purpose", jsonout_str(c->purpose));
    json_object_set_new(o, "share", jsonout_categories(c->categories, c->n_categories));
    json_object_set_new(o, "effective_at", jsonout_time(c->effective_at_ms));
    json_object_set_new(o, "expires_at", jsonout_time(c->expires_at_ms));
    json_object_set_new(o, "expires_on_event",
                        c->expires_on_event[0] ? jsonout_str(c->expires_on_event) : json_null());
    json_object_set_new(o, "obtained",
                        jsonout_enum((int)c->method, jsonout_method_name(c->method)));
    json_object_set_new(o, "recorded_by", jsonout_str(c->recorded_by));
    json_object_set_new(o, "revoked_at", jsonout_time(c->revoked_at_ms));
    json_object_set_new(o, "created_at", jsonout_time(c->created_at_ms));
    json_object_set_new(o, "valid", json_boolean(consent_in_force(c, now)));
    if (full) {
        json_object_set_new(o, "discloser", jsonout_str(c->discloser));
        json_object_set_new(o, "intermediary", jsonout_str(c->intermediary));
    }
    return o;
}

json_t *
jsonout_packet(const Refnet__PersonPacket *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", jsonout_str(p->name));
    json_object_set_new(o, "contact", p->contact[0] ? jsonout_str(p->contact) : json_null());
    json_object_set_new(
        o, "preferred_contact",
        jsonout_enum((int)p->preferred_contact, enums_mode_name(p->preferred_contact)));
    json_object_set_new(o, "language", p->language[0] ? jsonout_str(p->language) : json_null());
    json_object_set_new(o, "own_words", p->own_words[0] ? jsonout_str(p->own_words) : json_null());
    json_object_set_new(o, "needs", p->needs[0] ? jsonout_str(p->needs) : json_null());
    json_object_set_new(o, "notes", p->notes[0] ? jsonout_str(p->notes) : json_null());
    return o;
}

static bool
jsonout_is_inbox(const Refnet__HandoffRecord *h)
{
    return h->role == REFNET__HANDOFF_ROLE__HANDOFF_ROLE_RECEIVER;
}

json_t *
jsonout_handoff_row(const Refnet__HandoffRecord *h)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", jsonout_str(h->id));
    json_object_set_new(o, "status", json_string(enums_status_name(h->status)));
    json_object_set_new(o, "from", jsonout_str(h->sender));
    json_object_set_new(o, "to", jsonout_str(h->receiver));
    json_object_set_new(o, "service", jsonout_str(h->service_id));
    json_object_set_new(o, "service_name", jsonout_str(h->service_name));
    json_object_set_new(o, "direction", json_string(jsonout_is_inbox(h) ? "inbox" : "outbox"));
    json_object_set_new(o, "updated_at", jsonout_time(h->updated_at_ms));
    json_object_set_new(o, "outcome",
                        jsonout_enum((int)h->outcome, enums_outcome_name(h->outcome)));
    return o;
}

static json_t *
jsonout_event(const Refnet__HandoffEvent *e)
{
    json_t *o = json_object();
    if (e->status)
        json_object_set_new(o, "status", json_string(enums_status_name(e->status)));
    if (e->milestone)
        json_object_set_new(o, "milestone", json_string(enums_milestone_name(e->milestone)));
    json_object_set_new(o, "at", jsonout_time(e->at_ms));
    json_object_set_new(o, "by", jsonout_str(e->by));
    if (e->reason[0])
        json_object_set_new(o, "reason", jsonout_str(e->reason));
    if (e->outcome)
        json_object_set_new(o, "outcome", json_string(enums_outcome_name(e->outcome)));
    if (e->mode)
        json_object_set_new(o, "mode", json_string(enums_mode_name(e->mode)));
    return o;
}

static void
jsonout_handoff_times(json_t *o, const Refnet__HandoffRecord *h)
{
    json_object_set_new(o, "proposed_at", jsonout_time(h->proposed_at_ms));
    json_object_set_new(o, "created_at", jsonout_time(h->created_at_ms));
    json_object_set_new(o, "sent_at", jsonout_time(h->sent_at_ms));
    json_object_set_new(o, "stored_at", jsonout_time(h->stored_at_ms));
    json_object_set_new(o, "delivered_at", jsonout_time(h->delivered_at_ms));
}

json_t *
jsonout_handoff(const Refnet__HandoffRecord *h, json_t *person)
{
    json_t *o = jsonout_handoff_row(h);
    json_t *events = json_array();
    json_object_set_new(o, "reason", h->reason[0] ? jsonout_str(h->reason) : json_null());
    json_object_set_new(o, "mode", jsonout_enum((int)h->mode, enums_mode_name(h->mode)));
    json_object_set_new(o, "accompany", json_boolean(h->accompany));
    jsonout_handoff_times(o, h);
    json_object_set_new(o, "consent", h->consent_id[0] ? jsonout_str(h->consent_id) : json_null());
    json_object_set_new(o, "categories", jsonout_categories(h->categories, h->n_categories));
    json_object_set_new(o, "person", person ? person : json_null());
    for (size_t i = 0; i < h->n_events; i++)
        json_array_append_new(events, jsonout_event(h->events[i]));
    json_object_set_new(o, "events", events);
    return o;
}
