/* hsds_schema: the tables and fields of Open Referral HSDS 3.0 and how they nest.
 *
 * The node stores HSDS records flat, one object per table row, exactly as the CSV
 * datapackage has them (hsds.h). This module is the data that drives everything else: the
 * tables with their CSV file names and field lists (taken from the HSDS 3.0 datapackage.json,
 * in its order, so an export writes the same columns in the same order), and the relations
 * that turn flat rows into the nested JSON objects of the HSDS API and back.
 *
 * A relation is one key of a nested JSON object. Either the child rows point at the parent
 * (service.phones: phone.service_id = service.id) or, for a "ref" relation, the parent
 * points at one child (service.organization: service.organization_id = organization.id).
 * Two tables come from HSDS 3.1, service_capacity and unit (its `since` says so): refnet
 * publishes capacity, and HSDS 3.0 has no table for it, so without them a CSV round trip
 * would lose it. Their relations (service.capacities, service_capacity.unit) are 3.1's too.
 *
 * A reference (hsds_ref_t) is a field whose value must be the id of a record of another
 * table; an import checks each one (hsds.h).
 *
 * All of it is const static data; thread-safe. */
#ifndef REFNET_HSDS_SCHEMA_H
#define REFNET_HSDS_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

/* HSDS 3.0 fields are strings or numbers (dates and times travel as strings). */
typedef enum { HSDS_STRING, HSDS_NUMBER } hsds_type_t;

typedef struct {
    const char *name;
    hsds_type_t type;
} hsds_field_t;

typedef struct {
    const char *name; /* table name, singular as in the datapackage: "service" */
    const char *path; /* its CSV file: "services.csv" */
    const hsds_field_t *fields;
    size_t n_fields;
    const char *since; /* "3.1" for a table HSDS 3.0 lacks; NULL for 3.0's own */
} hsds_table_t;

typedef struct {
    const char *parent; /* table of the nested object */
    const char *key;    /* its JSON key: "phones" */
    const char *child;  /* table of the nested rows */
    const char *fk;     /* the linking field */
    bool ref;           /* fk is on the parent (one child); else on each child (a list) */
} hsds_rel_t;

typedef struct {
    const char *table;  /* table of the referring row */
    const char *field;  /* its field holding the id */
    const char *target; /* table the id must be in; NULL: the row's link_entity names it */
} hsds_ref_t;

/* All tables, in datapackage order, HSDS 3.1's two last (borrowed, static). */
const hsds_table_t *hsds_schema_tables(size_t *n);
/* The table called `name`, or NULL. */
const hsds_table_t *hsds_schema_table(const char *name);
/* The table whose CSV file is `path` ("services.csv"), or NULL. */
const hsds_table_t *hsds_schema_table_by_path(const char *path);
/* Field `name` of `t`, or NULL when HSDS 3.0 has no such field. */
const hsds_field_t *hsds_schema_field(const hsds_table_t *t, const char *name);
/* All relations (borrowed, static). */
const hsds_rel_t *hsds_schema_rels(size_t *n);
/* The relation for key `key` of a `parent` object, or NULL. */
const hsds_rel_t *hsds_schema_rel(const char *parent, const char *key);
/* All references an import checks (borrowed, static). */
const hsds_ref_t *hsds_schema_refs(size_t *n);
/* True when `field` of `table` is the linking field of some relation (a foreign key that the
 * nested JSON form expresses by nesting instead). */
bool hsds_schema_is_link(const char *table, const char *field);

#endif
