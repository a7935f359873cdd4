/* jsonout: the JSON forms of the node's records, as the local API answers with them
 * (clients/lib/API.md).
 *
 * Every function returns a new jansson value (caller owns one reference). Times are ISO 8601
 * UTC strings, or null when 0; numbers that are unknown are null. Person data appears only in
 * jsonout_packet (handoff.show) and jsonout_person. Stateless. */
#ifndef REFNET_JSONOUT_H
#define REFNET_JSONOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "records.pb-c.h"

/* An ISO 8601 string for `ms`, or null for 0. */
json_t *jsonout_time(uint64_t ms);
/* A string, or null when `s` is not valid UTF-8 (only damaged records can hold that). */
json_t *jsonout_str(const char *s);
/* A directory record as a search result; `distance_km` is added when `has_distance`. */
json_t *jsonout_service(const Refnet__DirRecord *rec, bool has_distance, double distance_km);
json_t *jsonout_person(const Refnet__PersonRecord *p);
/* A consent; `full` adds "discloser" and "intermediary" (consent.show). `valid` says whether
 * it is in force at `now`. */
json_t *jsonout_consent(const Refnet__ConsentRecord *c, uint64_t now, bool full);
/* The person packet a handoff carried. */
json_t *jsonout_packet(const Refnet__PersonPacket *p);
/* A handoff's summary row (handoff.list): no person data. */
json_t *jsonout_handoff_row(const Refnet__HandoffRecord *h);
/* The whole handoff (handoff.show); `person` (stolen, may be NULL for null) is its person
 * object. */
json_t *jsonout_handoff(const Refnet__HandoffRecord *h, json_t *person);

#endif
