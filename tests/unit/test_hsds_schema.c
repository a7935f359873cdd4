/* Unit tests of hsds_schema: the HSDS 3.0 tables and relations are consistent with each
 * other, so nesting and flattening can rely on them. */
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
    assert_int_equal(n, 21); /* the HSDS 3.0 datapackage's resources */
    for (size_t i = 0; i < n; i++) {
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
