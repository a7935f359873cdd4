/* Unit tests of hsds_csv: parsing HSDS CSV with quoted commas, quotes and line breaks, errors
 * that name file, row and field, refusing another organization's rows, and writing CSV that
 * parses back to the same records; HSDS 3.1's capacity tables the same way. */
#define _GNU_SOURCE /* open_memstream */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hsds_csv.h"
#include "refnet_error.h"

#define ORG   "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
#define OTHER "985e4a42-bd9f-4edc-911d-0243a4640aca"
#define SVC1  "ac148810-d857-441c-9679-408f346de14b"
#define SVC2  "bc148810-d857-441c-9679-408f346de14b"
#define CAP1  "5f0a8d7e-2b4c-4e1f-9a63-1c7d2e8b4f90"
#define UNIT1 "6a1b9e8f-3c5d-4f20-8b74-2d8e3f9c5a01"

static int
parse(hsds_batch_t *b, const char *table, const char *text, char *why)
{
    const hsds_table_t *t = hsds_schema_table(table);
    assert_non_null(t);
    return hsds_csv_parse(b, t, t->path, text, strlen(text), why);
}

static const char *
value(hsds_batch_t *b, const char *table, const char *id, const char *key)
{
    return json_string_value(json_object_get(json_object_get(hsds_batch_rows(b, table), id), key));
}

static void
test_quoted_fields(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "";
    hsds_batch_t *b = hsds_batch_new(ORG);
    const char *csv = "\xEF\xBB\xBFid,organization_id,name,description,minimum_age\r\n" SVC1 "," ORG
                      ",\"Counselling, adults\",\"Line one\nline \"\"two\"\", "
                      "three \",12\r\n" SVC2 ",, Drop-in ,,\r\n";
    assert_int_equal(parse(b, "service", csv, why), 0);
    assert_int_equal(hsds_batch_count(b, "service"), 2);
    assert_string_equal(value(b, "service", SVC1, "name"), "Counselling, adults");
    assert_string_equal(value(b, "service", SVC1, "description"), "Line one\nline \"two\", three ");
    json_t *age =
        json_object_get(json_object_get(hsds_batch_rows(b, "service"), SVC1), "minimum_age");
    assert_true(json_is_integer(age));
    assert_int_equal(json_integer_value(age), 12);
    /* Spaces are kept; empty cells are absent. */
    assert_string_equal(value(b, "service", SVC2, "name"), " Drop-in ");
    assert_null(value(b, "service", SVC2, "organization_id"));
    assert_null(value(b, "service", SVC2, "description"));
    hsds_batch_destroy(&b);
}

static void
test_bad_rows_named(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "";
    hsds_batch_t *b = hsds_batch_new(ORG);
    /* Row 2 spans two lines; the bad cell is in row 3. */
    const char *csv =
        "id,name,description,minimum_age\n" SVC1 ",A,\"two\nlines\",1\n" SVC2 ",B,x,twelve\n";
    assert_int_equal(parse(b, "service", csv, why), REFNET_EINVAL);
    assert_string_equal(why, "services.csv row 3 field minimum_age: must be a number");

    assert_int_equal(parse(b, "service", "id,colour\n" SVC1 ",red\n", why), REFNET_EINVAL);
    assert_string_equal(why, "services.csv row 1 field colour: HSDS 3.0 service has no such field");
    assert_int_equal(parse(b, "service", "id,name,name\n", why), REFNET_EINVAL);
    assert_non_null(strstr(why, "appears twice"));
    assert_int_equal(parse(b, "service", "id,name\n" SVC1 ",A,extra\n", why), REFNET_EINVAL);
    assert_non_null(strstr(why, "services.csv row 2: more cells"));
    assert_int_equal(parse(b, "service", "id,name\n" SVC1 "\n", why), REFNET_EINVAL);
    assert_non_null(strstr(why, "services.csv row 2: 1 cells, the header has 2"));
    assert_int_equal(parse(b, "service", "id,name\nnot-a-uuid,A\n", why), REFNET_EINVAL);
    assert_non_null(strstr(why, "services.csv row 2 field id"));
    assert_int_equal(parse(b, "service", "id,name\n" SVC1 ",\"unterminated\n", why), REFNET_EINVAL);
    assert_non_null(strstr(why, "services.csv row 2"));
    assert_int_equal(parse(b, "service", "", why), REFNET_EINVAL);
    assert_non_null(strstr(why, "no header"));
    assert_int_equal(parse(b, "service", "id,name\n" SVC1 ",\xC3(\n", why), REFNET_EINVAL);
    assert_non_null(strstr(why, "field name: is not valid UTF-8"));
    assert_int_equal(hsds_batch_count(b, "service"), 1); /* only SVC1 of the first text */
    hsds_batch_destroy(&b);
}

static void
test_foreign_rows(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "";
    hsds_batch_t *b = hsds_batch_new(ORG);
    const char *csv = "id,name,description\n" ORG ",Ours,d\n" OTHER ",Theirs,d\n";
    assert_int_equal(parse(b, "organization", csv, why), 0);
    assert_int_equal(hsds_batch_count(b, "organization"), 1);
    assert_string_equal(value(b, "organization", ORG, "name"), "Ours");
    json_t *sum = hsds_batch_summary(b);
    json_t *refused = json_object_get(sum, "refused");
    assert_int_equal(json_array_size(refused), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(refused, 0), "id")),
                        OTHER);
    json_decref(sum);
    hsds_batch_destroy(&b);
}

static void
test_write_parses_back(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "", *text = NULL;
    size_t len = 0;
    const hsds_table_t *t = hsds_schema_table("service");
    json_t *rows = json_pack("[{s:s, s:s, s:s, s:f, s:I}, {s:s, s:s}]", "id", SVC1, "name",
                             "A, \"quoted\"", "description", "two\r\nlines", "minimum_age", 12.5,
                             "maximum_age", (json_int_t)99, "id", SVC2, "name", "plain");
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(hsds_csv_write(f, t, rows), 0);
    fclose(f);
    assert_non_null(strstr(text, "\"A, \"\"quoted\"\"\""));
    assert_non_null(strstr(text, ",plain,")); /* no quotes where none are needed */
    assert_true(strncmp(text, "id,organization_id,program_id,name,", 35) == 0);
    hsds_batch_t *b = hsds_batch_new(ORG);
    assert_int_equal(hsds_csv_parse(b, t, "services.csv", text, len, why), 0);
    json_t *back = hsds_batch_rows(b, "service");
    assert_true(json_equal(json_object_get(back, SVC1), json_array_get(rows, 0)));
    assert_true(json_equal(json_object_get(back, SVC2), json_array_get(rows, 1)));
    hsds_batch_destroy(&b);
    json_decref(rows);
    free(text);
}

static void
test_dir_and_package(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "", dir[] = "/tmp/refnet-hsds-csv-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    hsds_batch_t *b = hsds_batch_new(ORG);
    assert_int_equal(hsds_csv_read_dir(b, dir, why), REFNET_ENOTFOUND);
    assert_non_null(strstr(why, "holds no HSDS 3.0 CSV file"));
    snprintf(path, sizeof path, "%s/organizations.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("id,name,description\n" ORG ",Ours,d\n", f);
    fclose(f);
    assert_int_equal(hsds_csv_read_dir(b, dir, why), 0);
    assert_int_equal(hsds_batch_count(b, "organization"), 1);
    unlink(path);
    rmdir(dir);
    hsds_batch_destroy(&b);

    size_t n;
    hsds_schema_tables(&n);
    json_t *pkg = hsds_csv_package();
    json_t *res = json_object_get(pkg, "resources");
    assert_int_equal(json_array_size(res), n);
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 0), "path")),
                        "organizations.csv");
    /* HSDS 3.1's capacity tables come last and say where they are from. */
    json_t *cap = json_array_get(res, n - 2);
    assert_string_equal(json_string_value(json_object_get(cap, "path")), "service_capacity.csv");
    assert_non_null(strstr(json_string_value(json_object_get(cap, "description")), "HSDS 3.1"));
    assert_null(json_object_get(json_array_get(res, 0), "description"));
    json_decref(pkg);
}

/* service_capacity.csv and unit.csv: read, checked by row and field, written back the same. */
static void
test_capacity_tables(void **state)
{
    (void)state;
    char why[HSDS_WHY_LEN] = "", *text = NULL;
    size_t len = 0;
    hsds_batch_t *b = hsds_batch_new(ORG);
    const char *caps = "id,service_id,unit_id,available,maximum,description,updated\r\n" CAP1
                       "," SVC1 "," UNIT1 ",3,10,\"Beds, men's ward\",2026-11-20T08:30:00.250Z\r\n";
    assert_int_equal(parse(b, "service_capacity", caps, why), 0);
    assert_int_equal(parse(b, "unit", "id,name,scheme,identifier,uri\n" UNIT1 ",bed,,,\n", why), 0);
    json_t *row = json_object_get(hsds_batch_rows(b, "service_capacity"), CAP1);
    assert_int_equal(json_integer_value(json_object_get(row, "available")), 3);
    assert_int_equal(json_integer_value(json_object_get(row, "maximum")), 10);
    assert_string_equal(value(b, "service_capacity", CAP1, "description"), "Beds, men's ward");
    assert_string_equal(value(b, "unit", UNIT1, "name"), "bed");

    const hsds_table_t *t = hsds_schema_table("service_capacity");
    json_t *rows = json_pack("[O]", row);
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(hsds_csv_write(f, t, rows), 0);
    fclose(f);
    assert_string_equal(text, caps);
    json_decref(rows);
    free(text);

    static const struct {
        const char *cells, *says;
    } bad[] = {
        { "-1,10,", "service_capacity.csv row 2 field available: must be between 0" },
        { "1.5,10,", "service_capacity.csv row 2 field available: must be a whole number" },
        { "many,10,", "service_capacity.csv row 2 field available: must be a number" },
        { ",10,", "service_capacity.csv row 2 field available: is required" },
        { "3,-10,", "service_capacity.csv row 2 field maximum: must be between 0" },
        { "3,2.5,", "service_capacity.csv row 2 field maximum: must be a whole number" },
        { "30,10,", "service_capacity.csv row 2 field available: 30 is more than the maximum 10" },
        { "3,10,last Tuesday", "service_capacity.csv row 2 field updated" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char csv[512];
        snprintf(csv, sizeof csv, "id,service_id,available,maximum,updated\n" CAP1 "," SVC1 ",%s\n",
                 bad[i].cells);
        why[0] = '\0';
        assert_int_equal(parse(b, "service_capacity", csv, why), REFNET_EINVAL);
        if (!strstr(why, bad[i].says))
            fail_msg("cells %s: \"%s\" does not say \"%s\"", bad[i].cells, why, bad[i].says);
    }
    hsds_batch_destroy(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quoted_fields),   cmocka_unit_test(test_bad_rows_named),
        cmocka_unit_test(test_foreign_rows),    cmocka_unit_test(test_write_parses_back),
        cmocka_unit_test(test_dir_and_package), cmocka_unit_test(test_capacity_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
