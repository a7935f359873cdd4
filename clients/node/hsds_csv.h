/* hsds_csv: HSDS 3.0 CSV datapackages in and out.
 *
 * Reading parses each table's file (organizations.csv, services.csv, ... as hsds_schema.h
 * names them) with libcsv in strict mode, so quoted fields may hold commas, quotes and line
 * breaks. The first record is the header; every column must be an HSDS 3.0 field of that
 * table. Rows are numbered as records, the header being row 1 (a quoted line break does not
 * start a new row). Empty cells are absent values; cells of number fields must be numbers.
 * Each row goes into an hsds_batch_t (hsds.h), which checks and judges it.
 *
 * Writing produces the same shape: one file per table with the HSDS 3.0 columns in the
 * datapackage's order, cells quoted only when they need it, and a datapackage.json that
 * lists the tables and their fields.
 *
 * HSDS 3.1's service_capacity.csv and unit.csv (hsds_schema.h) are read and written like
 * the 3.0 tables, so a round trip keeps capacity; their datapackage resources say they are
 * 3.1's.
 *
 * No state; files are opened and closed inside each call. Single-threaded. */
#ifndef REFNET_HSDS_CSV_H
#define REFNET_HSDS_CSV_H

#include <jansson.h>
#include <stdio.h>

#include "hsds.h"
#include "hsds_schema.h"

/* One CSV file is read whole: 32 MiB is far above one agency's own tables. */
#define HSDS_CSV_MAX_FILE (32 * 1024 * 1024)

/* Parses `len` bytes of CSV text of table `t` into `batch`; `name` names the file in
 * errors. Returns 0, or REFNET_EINVAL with a sentence naming the file, row and field in
 * `why` (HSDS_WHY_LEN bytes), or the codes of hsds_batch_add_row. */
int hsds_csv_parse(hsds_batch_t *batch,
                   const hsds_table_t *t,
                   const char *name,
                   const char *text,
                   size_t len,
                   char *why);
/* Reads every HSDS table file present in folder `dir` into `batch`. Other files are
 * ignored. Returns 0; REFNET_ENOTFOUND when the folder holds none of them; REFNET_EIO or
 * REFNET_ETOOLARGE for a file that cannot be read; or the codes of hsds_csv_parse. */
int hsds_csv_read_dir(hsds_batch_t *batch, const char *dir, char *why);

/* Writes table `t`'s header and `rows` (an array of flat records) as CSV to `out`. Returns 0
 * or REFNET_EIO. */
int hsds_csv_write(FILE *out, const hsds_table_t *t, const json_t *rows);
/* The datapackage.json document describing every table (caller owns). */
json_t *hsds_csv_package(void);

#endif
