/* fuzz_hsds: libFuzzer target for the HSDS 3.0 import parsers (clients/node/hsds_csv.h,
 * hsds.h).
 *
 * An import reads files an agency hands the node. The first input byte picks the HSDS table
 * (modulo their number) and whether the rest is CSV text of that table (even byte) or an HSDS
 * JSON object to flatten (odd byte). Either way the parse must end in 0 or an error with a
 * sentence, never a crash, and whatever it accepted must survive a CSV write and parse back
 * without an error.
 *
 * The seeds in corpus/fuzz_hsds are made from the HSDS 3.0 examples. Human Services Data
 * Specification: an Open Referral resource (https://openreferral.org/), CC BY-SA 4.0. */
#define _GNU_SOURCE /* open_memstream */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "hsds.h"
#include "hsds_csv.h"
#include "hsds_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ORG "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"

/* Writes the accepted rows of `t` as CSV and parses them back: that must always succeed. */
static void
fuzz_hsds_rewrite(hsds_batch_t *batch, const hsds_table_t *t)
{
    char why[HSDS_WHY_LEN] = "", *text = NULL;
    size_t len = 0;
    json_t *rows = json_array(), *row;
    const char *id;
    json_object_foreach(hsds_batch_rows(batch, t->name), id, row) json_array_append(rows, row);
    FILE *f = open_memstream(&text, &len);
    if (!f)
        abort();
    if (hsds_csv_write(f, t, rows) != 0)
        abort();
    fclose(f);
    hsds_batch_t *again = hsds_batch_new(FUZZ_ORG);
    if (hsds_csv_parse(again, t, t->path, text, len, why) != 0)
        abort();
    if (hsds_batch_count(again, t->name) != json_array_size(rows))
        abort();
    hsds_batch_destroy(&again);
    json_decref(rows);
    free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n;
    char why[HSDS_WHY_LEN] = "";
    if (size < 1)
        return 0;
    const hsds_table_t *tables = hsds_schema_tables(&n);
    const hsds_table_t *t = &tables[(data[0] >> 1) % n];
    hsds_batch_t *batch = hsds_batch_new(FUZZ_ORG);
    int rc;
    if ((data[0] & 1) == 0) {
        rc = hsds_csv_parse(batch, t, t->path, (const char *)data + 1, size - 1, why);
    } else {
        json_t *doc = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
        rc = doc ? hsds_batch_add_nested(batch, t->name, doc, "fuzz.json", why) : 0;
        json_decref(doc);
    }
    if (rc != 0 && why[0] == '\0')
        abort(); /* every refusal says why */
    if (rc == 0)
        fuzz_hsds_rewrite(batch, t);
    hsds_batch_destroy(&batch);
    return 0;
}
