/* cli_fmt: the text building blocks of the refnet CLI's readable output.
 *
 * Values that reach the terminal may come from other agencies (service names, reasons), so
 * every string is cleaned of control characters before it is printed: a published name cannot
 * move the cursor or rewrite the screen. Tables size their columns by characters (UTF-8 code
 * points), not bytes. Everything writes to a caller's FILE * so tests can capture it.
 * Stateless. */
#ifndef REFNET_CLI_FMT_H
#define REFNET_CLI_FMT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Room for one formatted cell or value. Longer text is cut. */
#define CLI_FMT_CELL_LEN 1024

/* Copies `in` into `out` (len bytes, NUL-terminated, cut at a character boundary), replacing
 * control characters (C0, DEL and C1) with a space; newlines are kept when `keep_newlines`. */
void cli_fmt_clean(const char *in, bool keep_newlines, char *out, size_t len);
/* Number of characters (UTF-8 code points) in `s`. */
size_t cli_fmt_width(const char *s);
/* Writes a JSON value as text: strings cleaned (newlines kept), integers in decimal, reals
 * with up to 6 significant digits, true/false, arrays of scalars joined with
 * ", ", objects as compact JSON; null and a missing value (NULL) print as "-". */
void cli_fmt_value(const json_t *v, char *buf, size_t len);
/* Writes an ISO time "2026-11-22T07:01:02.123Z" as "2026-11-22 07:01" (UTC, for tables);
 * anything else is copied as cli_fmt_value would. */
void cli_fmt_short_time(const json_t *v, char *buf, size_t len);
/* Writes the last day of validity of an end time: an ISO time at exactly midnight UTC (how a
 * consent "until YYYY-MM-DD" is stored) prints as the day before, "YYYY-MM-DD"; any other
 * value prints as cli_fmt_short_time would. */
void cli_fmt_until(const json_t *v, char *buf, size_t len);
/* Writes a duration in human units: "42 s", "3 min 12 s", "2 h 5 min", "1 d 3 h". */
void cli_fmt_duration(double seconds, char *buf, size_t len);

/* One table column: the header, and either the key of a row member printed by cli_fmt_value
 * or a function that writes the cell. Cells wider than max_width (0: no limit) are cut and end
 * in "...". */
typedef struct {
    const char *header;
    const char *key;
    void (*cell)(const json_t *row, char *buf, size_t len);
    size_t max_width;
} cli_fmt_col_t;

/* Prints `rows` (a JSON array of objects) as a table with a header line and columns separated
 * by two spaces. An empty or missing array prints `empty` (e.g. "no services found") alone. */
void cli_fmt_table(
    FILE *out, const cli_fmt_col_t *cols, size_t ncols, const json_t *rows, const char *empty);
/* Prints "label:" padded to `width` characters, then the value; continuation lines of a
 * multi-line value are indented to the value column. */
void cli_fmt_field(FILE *out, size_t indent, size_t width, const char *label, const char *value);
/* Prints every member of `obj` as "key: value" (cli_fmt_value), aligned, in the object's order;
 * nested objects are printed below their key, indented. */
void cli_fmt_kv(FILE *out, const json_t *obj, size_t indent);

#endif
