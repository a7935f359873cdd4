/* cli_args: option value parsers (see cli_args.h). */
#include "cli_args.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refnet_error.h"
#include "xmalloc.h"

/* Writes the sentence and returns REFNET_EINVAL, so each failure is one line. */
static int args_fail(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
args_fail(char *why, const char *fmt, ...)
{
    va_list ap;
    if (why) {
        va_start(ap, fmt);
        vsnprintf(why, CLI_ARGS_WHY_LEN, fmt, ap);
        va_end(ap);
    }
    return REFNET_EINVAL;
}

/* strtol and strtod skip leading white space and accept an empty string as 0; the CLI does
 * not, so " 5" or "" is a typing mistake worth reporting. */
static bool
args_starts_clean(const char *text)
{
    return text && *text && !isspace((unsigned char)*text);
}

int
cli_args_int(const char *text, long min, long max, const char *what, long *out, char *why)
{
    char *end = NULL;
    if (!args_starts_clean(text) || *text == '+')
        return args_fail(why, "%s needs a whole number, not \"%s\"", what, text ? text : "");
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*end != '\0')
        return args_fail(why, "%s needs a whole number, not \"%s\"", what, text);
    if (errno == ERANGE || v < min || v > max)
        return args_fail(why, "%s must be between %ld and %ld, not %s", what, min, max, text);
    *out = v;
    return 0;
}

int
cli_args_number(const char *text, double min, double max, const char *what, double *out, char *why)
{
    char *end = NULL;
    if (!args_starts_clean(text) || *text == '+')
        return args_fail(why, "%s needs a number, not \"%s\"", what, text ? text : "");
    errno = 0;
    double v = strtod(text, &end);
    /* strtod also reads "nan", "inf" and hexadecimal; none of them is a distance or a degree. */
    if (*end != '\0' || !isfinite(v) || strpbrk(text, "xXnN") != NULL)
        return args_fail(why, "%s needs a number, not \"%s\"", what, text);
    if (errno == ERANGE || v < min || v > max)
        return args_fail(why, "%s must be between %g and %g, not %s", what, min, max, text);
    *out = v;
    return 0;
}

int
cli_args_latlon(const char *text, const char *what, double *lat, double *lon, char *why)
{
    char buf[128];
    const char *comma = text ? strchr(text, ',') : NULL;
    if (!comma || strchr(comma + 1, ','))
        return args_fail(why, "%s needs LAT,LON (e.g. 45.52,-122.68), not \"%s\"", what,
                         text ? text : "");
    size_t n = (size_t)(comma - text);
    if (n >= sizeof buf)
        return args_fail(why, "%s: the latitude is too long", what);
    memcpy(buf, text, n);
    buf[n] = '\0';
    if (cli_args_number(buf, -90.0, 90.0, "the latitude", lat, why) != 0 ||
        cli_args_number(comma + 1, -180.0, 180.0, "the longitude", lon, why) != 0) {
        char inner[CLI_ARGS_WHY_LEN];
        snprintf(inner, sizeof inner, "%s", why ? why : "");
        return args_fail(why, "%s: %s", what, inner);
    }
    return 0;
}

int
cli_args_yesno(const char *text, const char *what, bool *out, char *why)
{
    if (text && (strcmp(text, "yes") == 0 || strcmp(text, "true") == 0)) {
        *out = true;
        return 0;
    }
    if (text && (strcmp(text, "no") == 0 || strcmp(text, "false") == 0)) {
        *out = false;
        return 0;
    }
    return args_fail(why, "%s needs yes or no, not \"%s\"", what, text ? text : "");
}

int
cli_args_choice(const char *text, const char *choices, const char *what, char *why)
{
    size_t len = text ? strlen(text) : 0;
    const char *p = choices;
    while (len > 0 && p && *p) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncmp(p, text, len) == 0)
            return 0;
        p = bar ? bar + 1 : NULL;
    }
    return args_fail(why, "%s must be one of %s, not \"%s\"", what, choices, text ? text : "");
}

/* Checks one item and appends it. */
static int
args_list_item(const char *item,
               size_t max_items,
               const char *choices,
               const char *what,
               json_t *list,
               char *why)
{
    if (!*item)
        return args_fail(why, "%s has an empty item", what);
    if (choices && cli_args_choice(item, choices, what, why) != 0)
        return REFNET_EINVAL;
    if (json_array_size(list) >= max_items)
        return args_fail(why, "%s takes at most %zu items", what, max_items);
    json_t *s = json_string(item);
    if (!s)
        return args_fail(why, "%s holds text that is not valid UTF-8", what);
    json_array_append_new(list, s);
    return 0;
}

int
cli_args_list(const char *text,
              size_t max_items,
              const char *choices,
              const char *what,
              json_t *list,
              char *why)
{
    char *copy = NULL, *item, *next;
    int rc = 0;
    if (!text || !*text)
        return args_fail(why, "%s needs at least one item", what);
    copy = xstrdup(text);
    for (item = copy; item && rc == 0; item = next) {
        next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        rc = args_list_item(item, max_items, choices, what, list, why);
    }
    free(copy);
    return rc;
}
