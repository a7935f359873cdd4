/* cli_fmt: cleaned values, tables and key: value lists (see cli_fmt.h). */
#include "cli_fmt.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "xmalloc.h"

/* Longest key printed by cli_fmt_kv before values start; longer keys push their value. */
#define FMT_KV_MIN_WIDTH 10

/* Returns the byte length of the UTF-8 sequence starting with `c` (1 for stray bytes). */
static size_t
fmt_seq_len(unsigned char c)
{
    if (c >= 0xF0 && c < 0xF8)
        return 4;
    if (c >= 0xE0)
        return c < 0xF0 ? 3 : 1;
    if (c >= 0xC0)
        return 2;
    return 1;
}

void
cli_fmt_clean(const char *in, bool keep_newlines, char *out, size_t len)
{
    size_t o = 0;
    if (len == 0)
        return;
    for (size_t i = 0; in && in[i];) {
        unsigned char c = (unsigned char)in[i];
        size_t n = fmt_seq_len(c);
        if (strnlen(in + i, n) < n)
            break; /* a cut sequence at the end: drop it */
        if (o + n >= len)
            break; /* never cut a character in half */
        bool c1 = c == 0xC2 && (unsigned char)in[i + 1] >= 0x80 && (unsigned char)in[i + 1] < 0xA0;
        if (n == 1 && (c < 0x20 || c == 0x7F) && !(keep_newlines && c == '\n')) {
            out[o++] = ' ';
        } else if (c1) {
            out[o++] = ' ';
        } else {
            memcpy(out + o, in + i, n);
            o += n;
        }
        i += n;
    }
    out[o] = '\0';
}

size_t
cli_fmt_width(const char *s)
{
    size_t w = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

static void
fmt_array(const json_t *v, char *buf, size_t len)
{
    char item[CLI_FMT_CELL_LEN];
    size_t used = 0, i;
    json_t *e;
    buf[0] = '\0';
    json_array_foreach(v, i, e)
    {
        cli_fmt_value(e, item, sizeof item);
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", item);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    if (json_array_size(v) == 0)
        snprintf(buf, len, "-");
}

void
cli_fmt_value(const json_t *v, char *buf, size_t len)
{
    char *dump = NULL;
    if (!v) {
        snprintf(buf, len, "-");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        cli_fmt_clean(json_string_value(v), true, buf, len);
        return;
    case JSON_INTEGER:
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return;
    case JSON_REAL:
        snprintf(buf, len, "%.6g", json_real_value(v));
        return;
    case JSON_TRUE:
        snprintf(buf, len, "true");
        return;
    case JSON_FALSE:
        snprintf(buf, len, "false");
        return;
    case JSON_ARRAY:
        fmt_array(v, buf, len);
        return;
    case JSON_OBJECT:
        dump = json_dumps(v, JSON_COMPACT);
        cli_fmt_clean(dump, false, buf, len);
        free(dump);
        return;
    case JSON_NULL:
    default:
        snprintf(buf, len, "-");
        return;
    }
}

void
cli_fmt_short_time(const json_t *v, char *buf, size_t len)
{
    const char *s = json_string_value(v);
    /* "YYYY-MM-DDTHH:MM" is 16 characters; only reshape text of exactly that form. */
    if (s && strlen(s) >= 16 && s[4] == '-' && s[10] == 'T' && s[13] == ':') {
        snprintf(buf, len, "%.10s %.5s", s, s + 11);
        return;
    }
    cli_fmt_value(v, buf, len);
}

void
cli_fmt_until(const json_t *v, char *buf, size_t len)
{
    const char *s = json_string_value(v);
    struct tm tm = { 0 };
    int used = 0;
    if (!s ||
        sscanf(s, "%4d-%2d-%2dT00:00:00.000Z%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &used) !=
            3 ||
        used != (int)strlen(s)) {
        cli_fmt_short_time(v, buf, len);
        return;
    }
    /* Midnight is the end of the day before: "until 2027-06-30" is stored as the instant
     * 2027-07-01T00:00:00Z. timegm normalises day 0 to the last day of the previous month. */
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_mday -= 1;
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d", &tm);
}

void
cli_fmt_duration(double seconds, char *buf, size_t len)
{
    if (!isfinite(seconds) || seconds < 0) {
        snprintf(buf, len, "-");
        return;
    }
    if (seconds < 10) {
        snprintf(buf, len, "%.1f s", seconds);
        return;
    }
    unsigned long long s = (unsigned long long)llround(seconds);
    if (s < 60)
        snprintf(buf, len, "%llu s", s);
    else if (s < 3600)
        snprintf(buf, len, "%llu min %llu s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, len, "%llu h %llu min", s / 3600, (s % 3600) / 60);
    else
        snprintf(buf, len, "%llu d %llu h", s / 86400, (s % 86400) / 3600);
}

/* Cuts `cell` to `max` characters, ending in "..." when something was cut. */
static void
fmt_cut(char *cell, size_t max)
{
    if (max < 4 || cli_fmt_width(cell) <= max)
        return;
    size_t chars = 0, i = 0;
    for (; cell[i]; i++) {
        if (((unsigned char)cell[i] & 0xC0) != 0x80 && chars++ == max - 3)
            break;
    }
    snprintf(cell + i, 4, "...");
}

static void
fmt_cell(const cli_fmt_col_t *col, const json_t *row, char *buf)
{
    char raw[CLI_FMT_CELL_LEN];
    if (col->cell)
        col->cell(row, raw, sizeof raw);
    else
        cli_fmt_value(json_object_get(row, col->key), raw, sizeof raw);
    /* A table row is one line. */
    cli_fmt_clean(raw, false, buf, CLI_FMT_CELL_LEN);
    fmt_cut(buf, col->max_width);
}

static void
fmt_pad(FILE *out, const char *s, size_t width, bool last)
{
    fputs(s, out);
    if (last)
        return;
    for (size_t w = cli_fmt_width(s); w < width + 2; w++)
        fputc(' ', out);
}

void
cli_fmt_table(
    FILE *out, const cli_fmt_col_t *cols, size_t ncols, const json_t *rows, const char *empty)
{
    size_t nrows = json_array_size(rows);
    if (nrows == 0) {
        fprintf(out, "%s\n", empty);
        return;
    }
    /* Cells are formatted once and kept, so widths and output agree. */
    char *cells = xcalloc(nrows * ncols, CLI_FMT_CELL_LEN);
    size_t *width = xcalloc(ncols, sizeof *width);
    for (size_t c = 0; c < ncols; c++)
        width[c] = cli_fmt_width(cols[c].header);
    for (size_t r = 0; r < nrows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            char *cell = cells + (r * ncols + c) * CLI_FMT_CELL_LEN;
            fmt_cell(&cols[c], json_array_get(rows, r), cell);
            size_t w = cli_fmt_width(cell);
            width[c] = w > width[c] ? w : width[c];
        }
    }
    for (size_t c = 0; c < ncols; c++)
        fmt_pad(out, cols[c].header, width[c], c + 1 == ncols);
    fputc('\n', out);
    for (size_t r = 0; r < nrows; r++) {
        for (size_t c = 0; c < ncols; c++)
            fmt_pad(out, cells + (r * ncols + c) * CLI_FMT_CELL_LEN, width[c], c + 1 == ncols);
        fputc('\n', out);
    }
    free(width);
    free(cells);
}

void
cli_fmt_field(FILE *out, size_t indent, size_t width, const char *label, const char *value)
{
    char head[128];
    snprintf(head, sizeof head, "%s:", label);
    size_t head_width = cli_fmt_width(head);
    size_t pad = width > head_width ? width - head_width : 0;
    fprintf(out, "%*s%s%*s ", (int)indent, "", head, (int)pad, "");
    size_t value_col = indent + head_width + pad + 1;
    for (const char *p = value; *p; p++) {
        fputc(*p, out);
        if (*p == '\n' && p[1])
            fprintf(out, "%*s", (int)value_col, "");
    }
    fputc('\n', out);
}

void
cli_fmt_kv(FILE *out, const json_t *obj, size_t indent)
{
    const char *key;
    json_t *v;
    size_t width = FMT_KV_MIN_WIDTH;
    char buf[CLI_FMT_CELL_LEN];
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t w = cli_fmt_width(key) + 1;
        width = w > width ? w : width;
    }
    json_object_foreach((json_t *)obj, key, v)
    {
        if (json_is_object(v)) {
            fprintf(out, "%*s%s:\n", (int)indent, "", key);
            cli_fmt_kv(out, v, indent + 2);
            continue;
        }
        cli_fmt_value(v, buf, sizeof buf);
        cli_fmt_field(out, indent, width, key, buf);
    }
}
