/* hsds: the node's own HSDS 3.0 records: checked import batches and their storage.
 *
 * The nested form and the Service mapping are in hsds_map.h.
 *
 * Storage (LMDB database "hsds", nodedb.h): one flat record per HSDS table row, keyed
 * "TABLE/ID" (e.g. "service/ac148810-..."), the value a compact JSON object with the row's
 * fields as HSDS names them (strings and numbers, no nesting; links between records are the
 * *_id fields of the CSV form). JSON keeps every HSDS field without a schema migration per
 * field, and one form serves both CSV and JSON interchange. The agency's HSDS organization id
 * is meta "organization_id" (a UUID).
 *
 * An import first gathers every record into an hsds_batch_t, which checks each one (known
 * table and fields, UUID id, UTF-8 text within limits, numbers where HSDS has numbers) and
 * judges ownership: a record that names another organization (an organization with another
 * id, or organization_id set to another id) is refused and listed, never stored. Only when
 * the whole batch is good is it written, in the caller's transaction, so a bad row leaves
 * nothing half-imported.
 *
 * Capacity rows (HSDS 3.1 service_capacity and unit, hsds_schema.h) get the checks the
 * directory needs: available (required) and maximum whole numbers from 0 to
 * WIRE_MAX_CAPACITY, available not above maximum, updated an ISO 8601 time, a unit name of
 * 1 to WIRE_MAX_UNIT bytes.
 *
 * Before storing, hsds_batch_check_refs checks every reference (hsds_schema_refs): the id it
 * names must be in the batch, already stored, or the agency's own organization. A record
 * refused as another organization's counts as present: it exists, only not on this node.
 *
 * Ownership: batches and JSON trees returned are the caller's. Single-threaded, like the
 * store; every function that takes a txn works inside the caller's transaction. */
#ifndef REFNET_HSDS_H
#define REFNET_HSDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "uid.h"
#include "wire_limits.h"

/* One field value: HSDS descriptions are paragraphs; 16 KiB is pages of text. */
#define HSDS_MAX_VALUE (16 * 1024)
/* One stored flat record, encoded: a row has at most 25 fields. */
#define HSDS_MAX_RECORD (64 * 1024)
/* Records in one import: an agency's own organization has a few thousand rows at most; the
 * bound keeps one import's memory and its single transaction small. */
#define HSDS_MAX_RECORDS 50000
/* Nesting depth of a JSON import: HSDS's deepest path (service, service_at_locations,
 * location, contacts, phones, languages) is 6 levels. */
#define HSDS_MAX_DEPTH 8
/* Size of an error sentence. */
#define HSDS_WHY_LEN 512

typedef struct hsds_batch hsds_batch_t;

/* A new empty batch for the organization `organization_id` (copied). */
hsds_batch_t *hsds_batch_new(const char *organization_id);
/* Frees it. Accepts NULL and *self_p == NULL; nulls *self_p. */
void hsds_batch_destroy(hsds_batch_t **self_p);

/* Adds one flat row of `table` (borrowed; its scalars are copied). `where` names the row in
 * errors ("services.csv row 3"). A row that names another organization is refused: listed in
 * the summary, not added, and 0 returned. A row whose id is already in the batch is merged
 * into it (its values win). Returns 0, or REFNET_EINVAL with a sentence in `why`
 * (HSDS_WHY_LEN bytes) naming `where` and the field; REFNET_ETOOLARGE over HSDS_MAX_RECORDS. */
int hsds_batch_add_row(
    hsds_batch_t *self, const char *table, json_t *row, const char *where, char *why);
/* Adds one nested HSDS JSON object of `table` ("service" or "organization") and everything
 * nested in it, as flat rows: nested lists and objects become rows of their own tables with
 * the linking field filled in (hsds_schema.h). Same returns as hsds_batch_add_row. */
int hsds_batch_add_nested(
    hsds_batch_t *self, const char *table, json_t *obj, const char *where, char *why);
/* Records in the batch of `table`. */
size_t hsds_batch_count(const hsds_batch_t *self, const char *table);
/* The batch's rows of `table`: an object id -> row (borrowed; NULL when none). */
json_t *hsds_batch_rows(const hsds_batch_t *self, const char *table);
/* {"records": {table: count, ...}, "refused": [{"table","id","organization_id"}]} (caller
 * owns). */
json_t *hsds_batch_summary(const hsds_batch_t *self);
/* Writes every record of the batch (replacing stored ones with the same id). Returns 0,
 * REFNET_EFULL or REFNET_ESTORAGE. */
int hsds_batch_store(const hsds_batch_t *self, MDB_txn *txn, store_t *st);

/* Checks every reference of every record in the batch against the batch and the stored
 * records (one hash lookup, then at most one LMDB lookup, per reference). Returns 0;
 * REFNET_EINVAL with a sentence in `why` naming the row (file and row, or JSON path), the
 * field and the missing id; or a storage code. */
int hsds_batch_check_refs(const hsds_batch_t *self, MDB_txn *txn, store_t *st, char *why);

/* Parses an ISO 8601 date ("2026-11-22", midnight UTC) or date and time
 * ("2026-11-22T07:01:02.123Z", "...T08:01+01:00", or without a zone: UTC) into ms since the
 * epoch. Returns 0 or REFNET_EINVAL. */
int hsds_parse_time(const char *text, uint64_t *out_ms);

/* Reads the agency's HSDS organization id into `out`. Returns 0, REFNET_ENOTFOUND or
 * REFNET_ESTORAGE. */
int hsds_org_get(MDB_txn *txn, store_t *st, char out[UID_STR_LEN]);
/* Stores `organization_id` (a UUID) as the agency's HSDS organization. Returns 0,
 * REFNET_EINVAL or a storage code. */
int hsds_org_set(MDB_txn *txn, store_t *st, const char *organization_id);
/* Reads the organization id, making and storing a new one when the node has none (a node
 * created before the setting existed). Needs a write transaction in that case. */
int hsds_org_ensure(MDB_txn *txn, store_t *st, char out[UID_STR_LEN]);

/* Reads record `table`/`id` into *out (caller owns). Returns 0, REFNET_ENOTFOUND,
 * REFNET_EDECODE or REFNET_ESTORAGE. */
int hsds_get(MDB_txn *txn, store_t *st, const char *table, const char *id, json_t **out);
/* Every stored record of `table`, in id order: an array (caller owns). Returns 0 or a
 * storage code. */
int hsds_list(MDB_txn *txn, store_t *st, const char *table, json_t **out);

/* For 'refnet-node init': opens the node store in folder `db` (map of `map_size` bytes) and
 * sets the organization id to `organization_id`, or to a new UUID when it is NULL; writes the
 * id used into `out`. Returns 0, REFNET_EINVAL (not a UUID) or a storage code. */
int hsds_init(const char *db, size_t map_size, const char *organization_id, char out[UID_STR_LEN]);

#endif
