/* Unit tests of hsds_schema: the HSDS 3.0 tables (and 3.1's capacity tables), relations and
 * checked references are consistent with each other, so nesting, flattening and the import's
 * reference check can rely on them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "hsds_schema.h"

static void
test_tables(void **state)
{
    (void)state;
    size_t n;
    const hsds_table_t *t = hsds_schema_tables(&n);
    assert_int_equal(n, 23); /* the HSDS 3.0 datapackage's 21 resources, then 3.1's two */
    for (size_t i = 0; i < n; i++) {
        assert_true(i < 21 ? t[i].since == NULL : strcmp(t[i].since, "3.1") == 0);
        assert_ptr_equal(hsds_schema_table(t[i].name), &t[i]);
        assert_ptr_equal(hsds_schema_table_by_path(t[i].path), &t[i]);
        assert_string_equal(t[i].fields[0].name, "id"); /* every table's primary key */
    }
    const hsds_table_t *svc = hsds_schema_table("service");
    assert_string_equal(svc->path, "services.csv");
    assert_int_equal(hsds_schema_field(svc, "minimum_age")->type, HSDS_NUMBER);
    assert_int_equal(hsds_schema_field(svc, "name")->type, HSDS_STRING);
    assert_null(hsds_schema_field(svc, "colour"));
    assert_null(hsds_schema_table("services"));
    assert_null(hsds_schema_table_by_path("service.csv"));
    const hsds_table_t *cap = hsds_schema_table_by_path("service_capacity.csv");
    assert_non_null(cap);
    assert_int_equal(cap->n_fields, 7);
    assert_int_equal(hsds_schema_field(cap, "available")->type, HSDS_NUMBER);
    assert_int_equal(hsds_schema_field(cap, "maximum")->type, HSDS_NUMBER);
    assert_int_equal(hsds_schema_field(cap, "updated")->type, HSDS_STRING);
    assert_non_null(hsds_schema_field(hsds_schema_table_by_path("unit.csv"), "scheme"));
}

/* Every reference names real fields and tables, each (table, field) once; every linking
 * field of a relation is checked except the two documented exceptions. */
static void
test_references(void **state)
{
    (void)state;
    size_t n, nr;
    const hsds_ref_t *refs = hsds_schema_refs(&n);
    const hsds_rel_t *rels = hsds_schema_rels(&nr);
    for (size_t i = 0; i < n; i++) {
        const hsds_table_t *t = hsds_schema_table(refs[i].table);
        assert_non_null(t);
        assert_non_null(hsds_schema_field(t, refs[i].field));
        if (refs[i].target)
            assert_non_null(hsds_schema_table(refs[i].target));
        for (size_t j = 0; j < i; j++)
            assert_false(strcmp(refs[i].table, refs[j].table) == 0 &&
                         strcmp(refs[i].field, refs[j].field) == 0);
    }
    for (size_t r = 0; r < nr; r++) {
        const char *table = rels[r].ref ? rels[r].parent : rels[r].child;
        const char *target = rels[r].ref ? rels[r].child : rels[r].parent;
        bool found = false;
        for (size_t i = 0; i < n; i++)
            if (strcmp(refs[i].table, table) == 0 && strcmp(refs[i].field, rels[r].fk) == 0) {
                found = true;
                assert_true(!refs[i].target || strcmp(refs[i].target, target) == 0);
            }
        bool exempt =
            (strcmp(table, "metadata") == 0 && strcmp(rels[r].fk, "resource_id") == 0) ||
            (strcmp(table, "taxonomy_term") == 0 && strcmp(rels[r].fk, "taxonomy_id") == 0);
        if (found == exempt)
            fail_msg("%s.%s: checked %d, exempt %d", table, rels[r].fk, found, exempt);
    }
    const hsds_rel_t *caps = hsds_schema_rel("service", "capacities");
    assert_non_null(caps);
    assert_string_equal(caps->child, "service_capacity");
    assert_true(hsds_schema_rel("service_capacity", "unit")->ref);
}

static void
test_relations(void **state)
{
    (void)state;
    size_t n;
    const hsds_rel_t *r = hsds_schema_rels(&n);
    assert_true(n > 20);
    for (size_t i = 0; i < n; i++) {
        const hsds_table_t *parent = hsds_schema_table(r[i].parent);
        const hsds_table_t *child = hsds_schema_table(r[i].child);
        assert_non_null(parent);
        assert_non_null(child);
        /* The linking field exists where the relation says it is. */
        assert_non_null(hsds_schema_field(r[i].ref ? parent : child, r[i].fk));
        assert_ptr_equal(hsds_schema_rel(r[i].parent, r[i].key), &r[i]);
        assert_true(hsds_schema_is_link(r[i].ref ? r[i].parent : r[i].child, r[i].fk));
    }
    const hsds_rel_t *loc = hsds_schema_rel("service_at_location", "location");
    assert_true(loc->ref);
    assert_string_equal(loc->fk, "location_id");
    assert_null(hsds_schema_rel("service", "gadgets"));
    assert_false(hsds_schema_is_link("organization", "parent_organization_id"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_relations),
        cmocka_unit_test(test_references),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
