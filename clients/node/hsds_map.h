/* hsds_map: the agency's stored HSDS records (hsds.h) seen two other ways: as the nested
 * objects of the HSDS API (for the JSON export), and as the network directory's Service
 * record (for publishing an imported service). Capacity goes both ways: a stored HSDS 3.1
 * service_capacity row becomes the published capacity, and an export writes the directory's
 * current numbers, which `refnet service availability` keeps fresher than the stored rows.
 *
 * Both read inside the caller's transaction. Child rows are found by scanning their table,
 * which is fine for one agency's own records (thousands at most). Returned JSON trees are
 * the caller's; hsds_map_service_t owns its strings until hsds_map_service_clear.
 * Single-threaded. */
#ifndef REFNET_HSDS_MAP_H
#define REFNET_HSDS_MAP_H

#include <jansson.h>
#include <stdint.h>

#include "hsds.h"
#include "refnet.pb-c.h"
#include "store.h"
#include "wire_limits.h"

/* The nested HSDS JSON object for record `table`/`id` (an "organization" or a "service",
 * shaped like the HSDS examples organization_full.json and service_full.json): every relation
 * of hsds_schema.h expanded, except into a table already on the path from the root, and the
 * linking fields left out (nesting expresses them). Returns 0 and *out (caller owns),
 * REFNET_ENOTFOUND, REFNET_EDECODE or a storage code. */
int hsds_map_nest(MDB_txn *txn, store_t *st, const char *table, const char *id, json_t **out);

/* A directory Service built from an HSDS service, with the storage its strings need. */
typedef struct {
    Refnet__Service svc;
    Refnet__Intake intake;
    Refnet__Schedule schedule[WIRE_MAX_SCHEDULES];
    Refnet__Schedule *schedules[WIRE_MAX_SCHEDULES];
    char *taxonomy[WIRE_MAX_TAXONOMY];
    char *languages[WIRE_MAX_LANGUAGES];
    char *description;
    Refnet__Capacity capacity;
    char *unit;
    json_t *hold; /* keeps the borrowed strings alive */
} hsds_map_service_t;

/* Maps stored HSDS service `id` onto a Service of agency `agency` (the README's HSDS
 * mapping): name; description cut at WIRE_MAX_DESCRIPTION bytes on a character boundary;
 * taxonomy codes of the taxonomy terms its attributes link to; the language codes of its
 * languages; lat/lon of the location of its first service_at_location (when both are in
 * range); minimum_age / maximum_age (whole years, when 0..WIRE_MAX_AGE and in order);
 * weekly schedules linked to the service or to one of its service_at_locations (byday,
 * opens_at, closes_at; freq WEEKLY or empty, or DAILY without byday; others are skipped, up to
 * WIRE_MAX_SCHEDULES); capacity from its first stored service_capacity row in id order
 * (available; maximum or -1; the name of its unit, or none; updated, or `now` when the row has
 * no time), looked up in `caps` (hsds_map_capacity_index) or, when it is NULL, by scanning the
 * table; accepting referrals. Returns 0 (release *out with hsds_map_service_clear),
 * REFNET_EINVAL with a sentence in `why` (HSDS_WHY_LEN bytes) when the result is not a
 * publishable Service (e.g. no taxonomy term), or the codes of hsds_get. */
int hsds_map_service(MDB_txn *txn,
                     store_t *st,
                     const char *id,
                     const char *agency,
                     uint64_t now,
                     const json_t *caps,
                     hsds_map_service_t *out,
                     char *why);
/* Every service's first stored service_capacity row (in id order), in one pass over the
 * table: an object service id -> row (caller owns), for hsds_map_service's `caps` when many
 * services are mapped at once (an import), so each needs no scan of its own. Returns 0 or a
 * storage code. */
int hsds_map_capacity_index(MDB_txn *txn, store_t *st, json_t **out);
/* Releases what hsds_map_service filled in; accepts a zeroed struct. */
void hsds_map_service_clear(hsds_map_service_t *s);

/* A minimal HSDS service object (id, name, description, status) for a directory Service of
 * another agency, for a whole-replica export (caller owns). */
json_t *hsds_map_from_service(const Refnet__Service *svc);
/* Adds the service's capacity to HSDS service object `doc` as HSDS 3.1 `capacities`: one
 * service_capacity {id, service_id, unit {id, name}, available, maximum, updated}, with ids
 * derived from the service id and unit name (uid_derive) so every export gives the same ones,
 * and unit name "place" when the owner named none. Nothing is added when `svc` has no capacity
 * or its available count is unknown. For services with no stored HSDS rows. */
void hsds_map_capacity(json_t *doc, const Refnet__Service *svc);

/* The capacity of service `service_id` for an export, as flat HSDS 3.1 rows. `stored` is its
 * stored service_capacity rows in id order (an array, or NULL), `units` the stored unit rows
 * they name (object id -> row, or NULL), `live` its directory Service (or NULL). The first
 * stored row carries the directory's numbers (available, maximum, unit name, updated) when
 * those are known and no older than the row's `updated`, keeping its id and description; its
 * unit is kept when the name is the same, else it is {id derived from the name, name}. With
 * no stored row, the directory's capacity becomes a row as in hsds_map_capacity. Other rows go
 * out as stored. Appends the rows to array `caps_out` and sets their units in object
 * `units_out` (id -> row); both stay the caller's. */
void hsds_map_capacity_rows(const char *service_id,
                            json_t *stored,
                            json_t *units,
                            const Refnet__Service *live,
                            json_t *caps_out,
                            json_t *units_out);
/* Reads service `service_id`'s stored service_capacity rows (array, id order) and the unit
 * rows they name (object id -> row) for hsds_map_capacity_rows. Returns 0 (caller owns both)
 * or a storage code. */
int hsds_map_capacity_stored(
    MDB_txn *txn, store_t *st, const char *service_id, json_t **stored, json_t **units);
/* Sets `doc`'s `capacities` to the nested form of flat rows `caps`: each row with its unit_id
 * replaced by the unit object from `units`. Removes `capacities` when `caps` is empty. */
void hsds_map_capacity_nest(json_t *doc, json_t *caps, json_t *units);

#endif
