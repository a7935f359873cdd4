/* hsds_schema: HSDS 3.0 tables, fields and relations as data (see hsds_schema.h).
 *
 * The field lists follow the HSDS 3.0 datapackage.json (and HSDS 3.1's for the two capacity
 * tables) ("Human Services Data Specification:
 * an Open Referral resource", https://openreferral.org/, CC BY-SA 4.0). */
#include "hsds_schema.h"

#include <string.h>

#define HSDS_N(a) (sizeof(a) / sizeof((a)[0]))

static const hsds_field_t F_ORGANIZATION[] = {
    { "id", HSDS_STRING },
    { "name", HSDS_STRING },
    { "alternate_name", HSDS_STRING },
    { "description", HSDS_STRING },
    { "email", HSDS_STRING },
    { "website", HSDS_STRING },
    { "tax_status", HSDS_STRING },
    { "tax_id", HSDS_STRING },
    { "year_incorporated", HSDS_NUMBER },
    { "legal_status", HSDS_STRING },
    { "logo", HSDS_STRING },
    { "uri", HSDS_STRING },
    { "parent_organization_id", HSDS_STRING },
};
static const hsds_field_t F_PROGRAM[] = {
    { "id", HSDS_STRING },          { "organization_id", HSDS_STRING },
    { "name", HSDS_STRING },        { "alternate_name", HSDS_STRING },
    { "description", HSDS_STRING },
};
static const hsds_field_t F_SERVICE[] = {
    { "id", HSDS_STRING },
    { "organization_id", HSDS_STRING },
    { "program_id", HSDS_STRING },
    { "name", HSDS_STRING },
    { "alternate_name", HSDS_STRING },
    { "description", HSDS_STRING },
    { "url", HSDS_STRING },
    { "email", HSDS_STRING },
    { "status", HSDS_STRING },
    { "interpretation_services", HSDS_STRING },
    { "application_process", HSDS_STRING },
    { "fees_description", HSDS_STRING },
    { "wait_time", HSDS_STRING },
    { "fees", HSDS_STRING },
    { "accreditations", HSDS_STRING },
    { "eligibility_description", HSDS_STRING },
    { "minimum_age", HSDS_NUMBER },
    { "maximum_age", HSDS_NUMBER },
    { "assured_date", HSDS_STRING },
    { "assurer_email", HSDS_STRING },
    { "licenses", HSDS_STRING },
    { "alert", HSDS_STRING },
    { "last_modified", HSDS_STRING },
};
static const hsds_field_t F_ATTRIBUTE[] = {
    { "id", HSDS_STRING },
    { "link_id", HSDS_STRING },
    { "taxonomy_term_id", HSDS_STRING },
    { "link_type", HSDS_STRING },
    { "link_entity", HSDS_STRING },
    { "value", HSDS_STRING },
};
static const hsds_field_t F_SERVICE_AT_LOCATION[] = {
    { "id", HSDS_STRING },
    { "service_id", HSDS_STRING },
    { "location_id", HSDS_STRING },
    { "description", HSDS_STRING },
};
static const hsds_field_t F_LOCATION[] = {
    { "id", HSDS_STRING },
    { "location_type", HSDS_STRING },
    { "url", HSDS_STRING },
    { "organization_id", HSDS_STRING },
    { "name", HSDS_STRING },
    { "alternate_name", HSDS_STRING },
    { "description", HSDS_STRING },
    { "transportation", HSDS_STRING },
    { "latitude", HSDS_NUMBER },
    { "longitude", HSDS_NUMBER },
    { "external_identifier", HSDS_STRING },
    { "external_identifier_type", HSDS_STRING },
};
static const hsds_field_t F_PHONE[] = {
    { "id", HSDS_STRING },         { "location_id", HSDS_STRING },
    { "service_id", HSDS_STRING }, { "organization_id", HSDS_STRING },
    { "contact_id", HSDS_STRING }, { "service_at_location_id", HSDS_STRING },
    { "number", HSDS_STRING },     { "extension", HSDS_NUMBER },
    { "type", HSDS_STRING },       { "description", HSDS_STRING },
};
static const hsds_field_t F_CONTACT[] = {
    { "id", HSDS_STRING },          { "organization_id", HSDS_STRING },
    { "service_id", HSDS_STRING },  { "service_at_location_id", HSDS_STRING },
    { "location_id", HSDS_STRING }, { "name", HSDS_STRING },
    { "title", HSDS_STRING },       { "department", HSDS_STRING },
    { "email", HSDS_STRING },
};
static const hsds_field_t F_ADDRESS[] = {
    { "id", HSDS_STRING },        { "location_id", HSDS_STRING },    { "attention", HSDS_STRING },
    { "address_1", HSDS_STRING }, { "address_2", HSDS_STRING },      { "city", HSDS_STRING },
    { "region", HSDS_STRING },    { "state_province", HSDS_STRING }, { "postal_code", HSDS_STRING },
    { "country", HSDS_STRING },   { "address_type", HSDS_STRING },
};
static const hsds_field_t F_SCHEDULE[] = {
    { "id", HSDS_STRING },
    { "service_id", HSDS_STRING },
    { "location_id", HSDS_STRING },
    { "service_at_location_id", HSDS_STRING },
    { "valid_from", HSDS_STRING },
    { "valid_to", HSDS_STRING },
    { "dtstart", HSDS_STRING },
    { "timezone", HSDS_NUMBER },
    { "until", HSDS_STRING },
    { "count", HSDS_NUMBER },
    { "wkst", HSDS_STRING },
    { "freq", HSDS_STRING },
    { "interval", HSDS_NUMBER },
    { "byday", HSDS_STRING },
    { "byweekno", HSDS_STRING },
    { "bymonthday", HSDS_STRING },
    { "byyearday", HSDS_STRING },
    { "description", HSDS_STRING },
    { "opens_at", HSDS_STRING },
    { "closes_at", HSDS_STRING },
    { "schedule_link", HSDS_STRING },
    { "attending_type", HSDS_STRING },
    { "notes", HSDS_STRING },
};
static const hsds_field_t F_FUNDING[] = {
    { "id", HSDS_STRING },
    { "organization_id", HSDS_STRING },
    { "service_id", HSDS_STRING },
    { "source", HSDS_STRING },
};
static const hsds_field_t F_SERVICE_AREA[] = {
    { "id", HSDS_STRING },          { "service_id", HSDS_STRING }, { "name", HSDS_STRING },
    { "description", HSDS_STRING }, { "extent", HSDS_STRING },     { "extent_type", HSDS_STRING },
    { "uri", HSDS_STRING },
};
static const hsds_field_t F_REQUIRED_DOCUMENT[] = {
    { "id", HSDS_STRING },
    { "service_id", HSDS_STRING },
    { "document", HSDS_STRING },
    { "uri", HSDS_STRING },
};
static const hsds_field_t F_LANGUAGE[] = {
    { "id", HSDS_STRING },       { "service_id", HSDS_STRING }, { "location_id", HSDS_STRING },
    { "phone_id", HSDS_STRING }, { "name", HSDS_STRING },       { "code", HSDS_STRING },
    { "note", HSDS_STRING },
};
static const hsds_field_t F_ACCESSIBILITY[] = {
    { "id", HSDS_STRING },      { "location_id", HSDS_STRING }, { "description", HSDS_STRING },
    { "details", HSDS_STRING }, { "url", HSDS_STRING },
};
static const hsds_field_t F_TAXONOMY_TERM[] = {
    { "id", HSDS_STRING },          { "code", HSDS_STRING },        { "name", HSDS_STRING },
    { "description", HSDS_STRING }, { "parent_id", HSDS_STRING },   { "taxonomy", HSDS_STRING },
    { "language", HSDS_STRING },    { "taxonomy_id", HSDS_STRING }, { "term_uri", HSDS_STRING },
};
static const hsds_field_t F_METADATA[] = {
    { "id", HSDS_STRING },
    { "resource_id", HSDS_STRING },
    { "resource_type", HSDS_STRING },
    { "last_action_date", HSDS_STRING },
    { "last_action_type", HSDS_STRING },
    { "field_name", HSDS_STRING },
    { "previous_value", HSDS_STRING },
    { "replacement_value", HSDS_STRING },
    { "updated_by", HSDS_STRING },
};
static const hsds_field_t F_META_TABLE_DESCRIPTION[] = {
    { "id", HSDS_STRING },
    { "name", HSDS_STRING },
    { "language", HSDS_STRING },
    { "character_set", HSDS_STRING },
};
static const hsds_field_t F_COST_OPTION[] = {
    { "id", HSDS_STRING },         { "service_id", HSDS_STRING },
    { "valid_from", HSDS_STRING }, { "valid_to", HSDS_STRING },
    { "option", HSDS_STRING },     { "currency", HSDS_STRING },
    { "amount", HSDS_NUMBER },     { "amount_description", HSDS_STRING },
};
static const hsds_field_t F_ORGANIZATION_IDENTIFIER[] = {
    { "id", HSDS_STRING },
    { "organization_id", HSDS_STRING },
    { "identifier_scheme", HSDS_STRING },
    { "identifier_type", HSDS_STRING },
    { "identifier", HSDS_STRING },
};
static const hsds_field_t F_TAXONOMY[] = {
    { "id", HSDS_STRING },  { "name", HSDS_STRING },    { "description", HSDS_STRING },
    { "uri", HSDS_STRING }, { "version", HSDS_STRING },
};

/* HSDS 3.1's capacity tables: refnet publishes capacity, and a CSV round trip must keep it.
 * 3.0 readers ignore files their datapackage does not list. */
static const hsds_field_t F_SERVICE_CAPACITY[] = {
    { "id", HSDS_STRING },        { "service_id", HSDS_STRING }, { "unit_id", HSDS_STRING },
    { "available", HSDS_NUMBER }, { "maximum", HSDS_NUMBER },    { "description", HSDS_STRING },
    { "updated", HSDS_STRING },
};
static const hsds_field_t F_UNIT[] = {
    { "id", HSDS_STRING },         { "name", HSDS_STRING }, { "scheme", HSDS_STRING },
    { "identifier", HSDS_STRING }, { "uri", HSDS_STRING },
};

static const hsds_table_t hsds_schema_list[] = {
    { "organization", "organizations.csv", F_ORGANIZATION, HSDS_N(F_ORGANIZATION), NULL },
    { "program", "programs.csv", F_PROGRAM, HSDS_N(F_PROGRAM), NULL },
    { "service", "services.csv", F_SERVICE, HSDS_N(F_SERVICE), NULL },
    { "attribute", "attributes.csv", F_ATTRIBUTE, HSDS_N(F_ATTRIBUTE), NULL },
    { "service_at_location", "service_at_location.csv", F_SERVICE_AT_LOCATION,
      HSDS_N(F_SERVICE_AT_LOCATION), NULL },
    { "location", "locations.csv", F_LOCATION, HSDS_N(F_LOCATION), NULL },
    { "phone", "phones.csv", F_PHONE, HSDS_N(F_PHONE), NULL },
    { "contact", "contacts.csv", F_CONTACT, HSDS_N(F_CONTACT), NULL },
    { "address", "addresses.csv", F_ADDRESS, HSDS_N(F_ADDRESS), NULL },
    { "schedule", "schedules.csv", F_SCHEDULE, HSDS_N(F_SCHEDULE), NULL },
    { "funding", "funding.csv", F_FUNDING, HSDS_N(F_FUNDING), NULL },
    { "service_area", "service_areas.csv", F_SERVICE_AREA, HSDS_N(F_SERVICE_AREA), NULL },
    { "required_document", "required_documents.csv", F_REQUIRED_DOCUMENT,
      HSDS_N(F_REQUIRED_DOCUMENT), NULL },
    { "language", "languages.csv", F_LANGUAGE, HSDS_N(F_LANGUAGE), NULL },
    { "accessibility", "accessibility.csv", F_ACCESSIBILITY, HSDS_N(F_ACCESSIBILITY), NULL },
    { "taxonomy_term", "taxonomy_terms.csv", F_TAXONOMY_TERM, HSDS_N(F_TAXONOMY_TERM), NULL },
    { "metadata", "metadata.csv", F_METADATA, HSDS_N(F_METADATA), NULL },
    { "meta_table_description", "meta_table_descriptions.csv", F_META_TABLE_DESCRIPTION,
      HSDS_N(F_META_TABLE_DESCRIPTION), NULL },
    { "cost_option", "cost_options.csv", F_COST_OPTION, HSDS_N(F_COST_OPTION), NULL },
    { "organization_identifier", "organization_identifiers.csv", F_ORGANIZATION_IDENTIFIER,
      HSDS_N(F_ORGANIZATION_IDENTIFIER), NULL },
    { "taxonomy", "taxonomies.csv", F_TAXONOMY, HSDS_N(F_TAXONOMY), NULL },
    { "service_capacity", "service_capacity.csv", F_SERVICE_CAPACITY, HSDS_N(F_SERVICE_CAPACITY),
      "3.1" },
    { "unit", "unit.csv", F_UNIT, HSDS_N(F_UNIT), "3.1" },
};

static const hsds_rel_t hsds_schema_rel_list[] = {
    { "organization", "funding", "funding", "organization_id", false },
    { "organization", "contacts", "contact", "organization_id", false },
    { "organization", "phones", "phone", "organization_id", false },
    { "organization", "locations", "location", "organization_id", false },
    { "organization", "programs", "program", "organization_id", false },
    { "organization", "organization_identifiers", "organization_identifier", "organization_id",
      false },
    { "organization", "services", "service", "organization_id", false },
    { "service", "phones", "phone", "service_id", false },
    { "service", "schedules", "schedule", "service_id", false },
    { "service", "service_areas", "service_area", "service_id", false },
    { "service", "service_at_locations", "service_at_location", "service_id", false },
    { "service", "languages", "language", "service_id", false },
    { "service", "organization", "organization", "organization_id", true },
    { "service", "funding", "funding", "service_id", false },
    { "service", "cost_options", "cost_option", "service_id", false },
    { "service", "program", "program", "program_id", true },
    { "service", "required_documents", "required_document", "service_id", false },
    { "service", "contacts", "contact", "service_id", false },
    { "service", "attributes", "attribute", "link_id", false },
    { "service", "metadata", "metadata", "resource_id", false },
    { "service_at_location", "contacts", "contact", "service_at_location_id", false },
    { "service_at_location", "phones", "phone", "service_at_location_id", false },
    { "service_at_location", "schedules", "schedule", "service_at_location_id", false },
    { "service_at_location", "location", "location", "location_id", true },
    { "location", "languages", "language", "location_id", false },
    { "location", "addresses", "address", "location_id", false },
    { "location", "contacts", "contact", "location_id", false },
    { "location", "accessibility", "accessibility", "location_id", false },
    { "location", "phones", "phone", "location_id", false },
    { "location", "schedules", "schedule", "location_id", false },
    { "contact", "phones", "phone", "contact_id", false },
    { "phone", "languages", "language", "phone_id", false },
    { "attribute", "taxonomy_term", "taxonomy_term", "taxonomy_term_id", true },
    { "taxonomy_term", "taxonomy_detail", "taxonomy", "taxonomy_id", true },
    { "service", "capacities", "service_capacity", "service_id", false },
    { "service_capacity", "unit", "unit", "unit_id", true },
};

/* The references an import checks. Every linking field of the relations above, except:
 * metadata.resource_id (a change log may speak of records since deleted) and
 * taxonomy_term.taxonomy_id (terms come from shared vocabularies whose taxonomy record an
 * agency seldom holds; the official HSDS example names one it does not include).
 * attribute.link_id names a record of the table its link_entity gives (target NULL). */
static const hsds_ref_t hsds_schema_ref_list[] = {
    { "program", "organization_id", "organization" },
    { "service", "organization_id", "organization" },
    { "service", "program_id", "program" },
    { "attribute", "link_id", NULL },
    { "attribute", "taxonomy_term_id", "taxonomy_term" },
    { "service_at_location", "service_id", "service" },
    { "service_at_location", "location_id", "location" },
    { "location", "organization_id", "organization" },
    { "phone", "location_id", "location" },
    { "phone", "service_id", "service" },
    { "phone", "organization_id", "organization" },
    { "phone", "contact_id", "contact" },
    { "phone", "service_at_location_id", "service_at_location" },
    { "contact", "organization_id", "organization" },
    { "contact", "service_id", "service" },
    { "contact", "service_at_location_id", "service_at_location" },
    { "contact", "location_id", "location" },
    { "address", "location_id", "location" },
    { "schedule", "service_id", "service" },
    { "schedule", "location_id", "location" },
    { "schedule", "service_at_location_id", "service_at_location" },
    { "funding", "organization_id", "organization" },
    { "funding", "service_id", "service" },
    { "service_area", "service_id", "service" },
    { "required_document", "service_id", "service" },
    { "language", "service_id", "service" },
    { "language", "location_id", "location" },
    { "language", "phone_id", "phone" },
    { "accessibility", "location_id", "location" },
    { "cost_option", "service_id", "service" },
    { "organization_identifier", "organization_id", "organization" },
    { "service_capacity", "service_id", "service" },
    { "service_capacity", "unit_id", "unit" },
};

const hsds_table_t *
hsds_schema_tables(size_t *n)
{
    *n = HSDS_N(hsds_schema_list);
    return hsds_schema_list;
}

const hsds_table_t *
hsds_schema_table(const char *name)
{
    for (size_t i = 0; i < HSDS_N(hsds_schema_list); i++)
        if (strcmp(hsds_schema_list[i].name, name) == 0)
            return &hsds_schema_list[i];
    return NULL;
}

const hsds_table_t *
hsds_schema_table_by_path(const char *path)
{
    for (size_t i = 0; i < HSDS_N(hsds_schema_list); i++)
        if (strcmp(hsds_schema_list[i].path, path) == 0)
            return &hsds_schema_list[i];
    return NULL;
}

const hsds_field_t *
hsds_schema_field(const hsds_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->n_fields; i++)
        if (strcmp(t->fields[i].name, name) == 0)
            return &t->fields[i];
    return NULL;
}

const hsds_rel_t *
hsds_schema_rels(size_t *n)
{
    *n = HSDS_N(hsds_schema_rel_list);
    return hsds_schema_rel_list;
}

const hsds_rel_t *
hsds_schema_rel(const char *parent, const char *key)
{
    for (size_t i = 0; i < HSDS_N(hsds_schema_rel_list); i++) {
        const hsds_rel_t *r = &hsds_schema_rel_list[i];
        if (strcmp(r->parent, parent) == 0 && strcmp(r->key, key) == 0)
            return r;
    }
    return NULL;
}

const hsds_ref_t *
hsds_schema_refs(size_t *n)
{
    *n = HSDS_N(hsds_schema_ref_list);
    return hsds_schema_ref_list;
}

bool
hsds_schema_is_link(const char *table, const char *field)
{
    for (size_t i = 0; i < HSDS_N(hsds_schema_rel_list); i++) {
        const hsds_rel_t *r = &hsds_schema_rel_list[i];
        const char *owner = r->ref ? r->parent : r->child;
        if (strcmp(owner, table) == 0 && strcmp(r->fk, field) == 0)
            return true;
    }
    return false;
}
