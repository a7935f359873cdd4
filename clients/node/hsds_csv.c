/* hsds_csv: HSDS 3.0 CSV datapackages in and out (see hsds_csv.h). */
#include "hsds_csv.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "path.h"
#include "refnet_error.h"
#include "xmalloc.h"

/* Columns in one header: HSDS's widest table (schedule) has 23. */
#define HSDS_CSV_MAX_COLUMNS 64

/* The parse of one file: libcsv calls back per cell and per record end. */
typedef struct {
    hsds_batch_t *batch;
    const hsds_table_t *t;
    const char *name;
    const hsds_field_t *cols[HSDS_CSV_MAX_COLUMNS];
    size_t ncols;
    size_t col;  /* cell index in the current record */
    size_t row;  /* record number, the header being 1 */
    json_t *rec; /* the current data record */
    int rc;      /* first error; later callbacks do nothing */
    char *why;
} hsds_csv_ctx_t;

static int hsds_csv_fail(hsds_csv_ctx_t *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
hsds_csv_fail(hsds_csv_ctx_t *c, int code, const char *fmt, ...)
{
    va_list ap;
    if (c->rc != 0)
        return c->rc;
    va_start(ap, fmt);
    vsnprintf(c->why, HSDS_WHY_LEN, fmt, ap);
    va_end(ap);
    c->rc = code;
    return code;
}

static int
hsds_csv_header_cell(hsds_csv_ctx_t *c, const char *s, size_t len)
{
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), s);
    const hsds_field_t *f = len < 63 ? hsds_schema_field(c->t, name) : NULL;
    if (!f)
        return hsds_csv_fail(c, REFNET_EINVAL, "%s row 1 field %s: HSDS %s %s has no such field",
                             c->name, name, c->t->since ? c->t->since : "3.0", c->t->name);
    if (c->ncols >= HSDS_CSV_MAX_COLUMNS)
        return hsds_csv_fail(c, REFNET_EINVAL, "%s row 1: more than %d columns", c->name,
                             HSDS_CSV_MAX_COLUMNS);
    for (size_t i = 0; i < c->ncols; i++)
        if (c->cols[i] == f)
            return hsds_csv_fail(c, REFNET_EINVAL, "%s row 1 field %s: the column appears twice",
                                 c->name, name);
    c->cols[c->ncols++] = f;
    return 0;
}

/* The JSON value of a number cell: an integer when it is one, else a real. */
static json_t *
hsds_csv_number(const char *s)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno != 0 || !isfinite(v))
        return NULL;
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        return json_integer((json_int_t)v);
    return json_real(v);
}

static int
hsds_csv_data_cell(hsds_csv_ctx_t *c, const char *s, size_t len)
{
    if (c->col >= c->ncols)
        return hsds_csv_fail(c, REFNET_EINVAL, "%s row %zu: more cells than the header's %zu",
                             c->name, c->row, c->ncols);
    const hsds_field_t *f = c->cols[c->col];
    if (len == 0)
        return 0;
    if (memchr(s, '\0', len))
        return hsds_csv_fail(c, REFNET_EINVAL, "%s row %zu field %s: holds a NUL byte", c->name,
                             c->row, f->name);
    json_t *v = f->type == HSDS_NUMBER ? hsds_csv_number(s) : json_stringn(s, len);
    if (!v)
        return hsds_csv_fail(c, REFNET_EINVAL, "%s row %zu field %s: %s", c->name, c->row, f->name,
                             f->type == HSDS_NUMBER ? "must be a number" : "is not valid UTF-8");
    json_object_set_new(c->rec, f->name, v);
    return 0;
}

static void
hsds_csv_on_cell(void *data, size_t len, void *ctx)
{
    hsds_csv_ctx_t *c = ctx;
    const char *s = data ? data : "";
    if (c->rc != 0)
        return;
    if (c->row == 1)
        hsds_csv_header_cell(c, s, len);
    else
        hsds_csv_data_cell(c, s, len);
    c->col++;
}

static void
hsds_csv_on_row(int term, void *ctx)
{
    hsds_csv_ctx_t *c = ctx;
    char where[HSDS_WHY_LEN / 2];
    (void)term;
    if (c->rc == 0 && c->row > 1) {
        if (c->col != c->ncols)
            hsds_csv_fail(c, REFNET_EINVAL, "%s row %zu: %zu cells, the header has %zu", c->name,
                          c->row, c->col, c->ncols);
        snprintf(where, sizeof where, "%s row %zu", c->name, c->row);
        if (c->rc == 0)
            c->rc = hsds_batch_add_row(c->batch, c->t->name, c->rec, where, c->why);
    }
    json_object_clear(c->rec);
    c->col = 0;
    c->row++;
}

/* libcsv trims spaces around unquoted cells by default; HSDS text keeps them. */
static int
hsds_csv_no_space(unsigned char ch)
{
    (void)ch;
    return 0;
}

int
hsds_csv_parse(hsds_batch_t *batch,
               const hsds_table_t *t,
               const char *name,
               const char *text,
               size_t len,
               char *why)
{
    struct csv_parser p;
    hsds_csv_ctx_t c = { .batch = batch, .t = t, .name = name, .row = 1, .why = why };
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 byte order mark */
        text += 3;
        len -= 3;
    }
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return -ENOMEM;
    csv_set_space_func(&p, hsds_csv_no_space);
    c.rec = json_object();
    if (csv_parse(&p, text, len, hsds_csv_on_cell, hsds_csv_on_row, &c) != len && c.rc == 0)
        hsds_csv_fail(&c, REFNET_EINVAL, "%s row %zu: %s", name, c.row,
                      csv_strerror(csv_error(&p)));
    if (c.rc == 0 && csv_fini(&p, hsds_csv_on_cell, hsds_csv_on_row, &c) != 0)
        hsds_csv_fail(&c, REFNET_EINVAL, "%s row %zu: %s", name, c.row,
                      csv_strerror(csv_error(&p)));
    if (c.rc == 0 && c.ncols == 0)
        hsds_csv_fail(&c, REFNET_EINVAL, "%s: has no header row", name);
    csv_free(&p);
    json_decref(c.rec);
    return c.rc;
}

/* Reads file `path` whole into a new buffer (caller frees). */
static int
hsds_csv_slurp(const char *path, char **out, size_t *len, char *why)
{
    struct stat sb;
    FILE *f = fopen(path, "rb");
    int rc = 0;
    if (!f || fstat(fileno(f), &sb) != 0) {
        snprintf(why, HSDS_WHY_LEN, "cannot read %.300s: %s", path, strerror(errno));
        rc = REFNET_EIO;
    } else if (sb.st_size > HSDS_CSV_MAX_FILE) {
        snprintf(why, HSDS_WHY_LEN, "%.300s is larger than %d bytes", path, HSDS_CSV_MAX_FILE);
        rc = REFNET_ETOOLARGE;
    }
    if (rc == 0) {
        *len = (size_t)sb.st_size;
        *out = xmalloc(*len + 1);
        if (fread(*out, 1, *len, f) != *len) {
            snprintf(why, HSDS_WHY_LEN, "cannot read %.300s", path);
            free(*out);
            *out = NULL;
            rc = REFNET_EIO;
        }
    }
    if (f)
        fclose(f);
    return rc;
}

int
hsds_csv_read_dir(hsds_batch_t *batch, const char *dir, char *why)
{
    size_t n, found = 0;
    const hsds_table_t *tables = hsds_schema_tables(&n);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX_LEN], *text = NULL;
        size_t len = 0;
        int rc = path_join(path, sizeof path, dir, tables[i].path);
        if (rc != 0 || !path_exists(path))
            continue;
        found++;
        rc = hsds_csv_slurp(path, &text, &len, why);
        if (rc == 0)
            rc = hsds_csv_parse(batch, &tables[i], tables[i].path, text, len, why);
        free(text);
        if (rc != 0)
            return rc;
    }
    if (found == 0) {
        snprintf(why, HSDS_WHY_LEN, "%.300s holds no HSDS 3.0 CSV file (organizations.csv, ...)",
                 dir);
        return REFNET_ENOTFOUND;
    }
    return 0;
}

/* Writes one cell, quoted when it holds a comma, a quote or a line break. */
static void
hsds_csv_cell(FILE *out, const json_t *v)
{
    if (json_is_integer(v)) {
        fprintf(out, "%lld", (long long)json_integer_value(v));
        return;
    }
    if (json_is_real(v)) {
        fprintf(out, "%.15g", json_real_value(v));
        return;
    }
    const char *s = json_string_value(v);
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

int
hsds_csv_write(FILE *out, const hsds_table_t *t, const json_t *rows)
{
    size_t i;
    json_t *row;
    for (size_t f = 0; f < t->n_fields; f++)
        fprintf(out, "%s%s", f ? "," : "", t->fields[f].name);
    fputs("\r\n", out);
    json_array_foreach(rows, i, row)
    {
        for (size_t f = 0; f < t->n_fields; f++) {
            if (f)
                fputc(',', out);
            hsds_csv_cell(out, json_object_get(row, t->fields[f].name));
        }
        fputs("\r\n", out);
    }
    return ferror(out) ? REFNET_EIO : 0;
}

json_t *
hsds_csv_package(void)
{
    size_t n;
    const hsds_table_t *tables = hsds_schema_tables(&n);
    json_t *resources = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *fields = json_array();
        for (size_t f = 0; f < tables[i].n_fields; f++)
            json_array_append_new(
                fields, json_pack("{s:s, s:s}", "name", tables[i].fields[f].name, "type",
                                  tables[i].fields[f].type == HSDS_NUMBER ? "number" : "string"));
        json_t *res =
            json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:o}}", "name", tables[i].name, "path",
                      tables[i].path, "format", "csv", "profile", "tabular-data-resource", "schema",
                      "primaryKey", "id", "fields", fields);
        if (tables[i].since)
            json_object_set_new(res, "description",
                                json_sprintf("HSDS %s table, not in HSDS 3.0", tables[i].since));
        json_array_append_new(resources, res);
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "name", "human_services_data", "profile",
                     "tabular-data-package", "version", "3.0.0", "resources", resources);
}
