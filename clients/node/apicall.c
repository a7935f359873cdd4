/* apicall: one call of the node's local API (see apicall.h). */
#include "apicall.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "refnet_error.h"
#include "validate.h"

int
apicall_fail(apicall_t *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof c->message, fmt, ap);
    va_end(ap);
    c->code = code;
    return code;
}

/* Looks `key` up: 0 with *out when present and not null, 1 when absent and optional. */
static int
apicall_get(apicall_t *c, json_t *args, const char *key, bool required, json_t **out)
{
    json_t *v = args ? json_object_get(args, key) : NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return apicall_fail(c, REFNET_EINVAL, "argument %s is required", key);
        return 1;
    }
    *out = v;
    return 0;
}

int
apicall_text(apicall_t *c,
             json_t *args,
             const char *key,
             bool required,
             size_t min,
             size_t max,
             const char **out)
{
    json_t *v = NULL;
    int rc = apicall_get(c, args, key, required, &v);
    if (rc != 0)
        return rc;
    if (!json_is_string(v))
        return apicall_fail(c, REFNET_EINVAL, "argument %s must be a string", key);
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v) || !validate_text(s, min, max))
        return apicall_fail(c, REFNET_EINVAL,
                            "argument %s must be %zu to %zu bytes of text (UTF-8, no control "
                            "characters)",
                            key, min, max);
    *out = s;
    return 0;
}

int
apicall_ident(apicall_t *c, json_t *args, const char *key, bool required, const char **out)
{
    const char *s = NULL;
    int rc = apicall_text(c, args, key, required, 0, WIRE_MAX_IDENT, &s);
    if (rc != 0)
        return rc;
    if (!validate_ident(s))
        return apicall_fail(c, REFNET_EINVAL,
                            "argument %s must be an identifier: 1 to %d characters from "
                            "A-Z a-z 0-9 . _ : -",
                            key, WIRE_MAX_IDENT);
    *out = s;
    return 0;
}

int
apicall_uuid(apicall_t *c, json_t *args, const char *key, bool required, const char **out)
{
    const char *s = NULL;
    int rc = apicall_text(c, args, key, required, 0, UID_STR_LEN, &s);
    if (rc != 0)
        return rc;
    if (!uid_is_uuid(s))
        return apicall_fail(c, REFNET_EINVAL, "argument %s must be a UUID", key);
    *out = s;
    return 0;
}

int
apicall_int(apicall_t *c,
            json_t *args,
            const char *key,
            bool required,
            json_int_t min,
            json_int_t max,
            json_int_t *out)
{
    json_t *v = NULL;
    int rc = apicall_get(c, args, key, required, &v);
    if (rc != 0)
        return rc;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return apicall_fail(c, REFNET_EINVAL, "argument %s must be an integer from %lld to %lld",
                            key, (long long)min, (long long)max);
    *out = json_integer_value(v);
    return 0;
}

int
apicall_number(
    apicall_t *c, json_t *args, const char *key, bool required, double min, double max, double *out)
{
    json_t *v = NULL;
    int rc = apicall_get(c, args, key, required, &v);
    if (rc != 0)
        return rc;
    double d = json_is_number(v) ? json_number_value(v) : NAN;
    if (!isfinite(d) || d < min || d > max)
        return apicall_fail(c, REFNET_EINVAL, "argument %s must be a number from %g to %g", key,
                            min, max);
    *out = d;
    return 0;
}

int
apicall_bool(apicall_t *c, json_t *args, const char *key, bool required, bool *out)
{
    json_t *v = NULL;
    int rc = apicall_get(c, args, key, required, &v);
    if (rc != 0)
        return rc;
    if (!json_is_boolean(v))
        return apicall_fail(c, REFNET_EINVAL, "argument %s must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

int
apicall_ident_list(apicall_t *c,
                   json_t *args,
                   const char *key,
                   bool required,
                   size_t min,
                   size_t max,
                   const char **items,
                   size_t *n)
{
    json_t *v = NULL, *item = NULL;
    size_t i = 0;
    int rc = apicall_get(c, args, key, required, &v);
    if (rc != 0)
        return rc;
    if (!json_is_array(v) || json_array_size(v) < min || json_array_size(v) > max)
        return apicall_fail(c, REFNET_EINVAL, "argument %s must be a list of %zu to %zu items", key,
                            min, max);
    json_array_foreach(v, i, item)
    {
        const char *s = json_is_string(item) ? json_string_value(item) : NULL;
        if (!s || strlen(s) != json_string_length(item) || !validate_ident(s))
            return apicall_fail(c, REFNET_EINVAL, "argument %s[%zu] must be an identifier", key, i);
        items[i] = s;
    }
    *n = json_array_size(v);
    return 0;
}

/* Reads exactly `n` digits at *p into *out and advances *p. */
static bool
apicall_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char ch = (*p)[i];
        if (ch < '0' || ch > '9')
            return false;
        v = v * 10 + (ch - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool
apicall_expect(const char **p, char ch)
{
    if (**p != ch)
        return false;
    (*p)++;
    return true;
}

/* Parses "HH:MM[:SS[.mmm]]" into tm and ms. */
static bool
apicall_parse_clock(const char **p, struct tm *tm, int *ms)
{
    if (!apicall_digits(p, 2, &tm->tm_hour) || !apicall_expect(p, ':') ||
        !apicall_digits(p, 2, &tm->tm_min))
        return false;
    if (**p == ':' && (!apicall_expect(p, ':') || !apicall_digits(p, 2, &tm->tm_sec)))
        return false;
    if (**p == '.' && (!apicall_expect(p, '.') || !apicall_digits(p, 3, ms)))
        return false;
    return tm->tm_hour < 24 && tm->tm_min < 60 && tm->tm_sec < 60;
}

int
apicall_parse_time(const char *text, uint64_t *out)
{
    struct tm tm = { 0 };
    int ms = 0;
    const char *p = text;
    if (!apicall_digits(&p, 4, &tm.tm_year) || !apicall_expect(&p, '-') ||
        !apicall_digits(&p, 2, &tm.tm_mon) || !apicall_expect(&p, '-') ||
        !apicall_digits(&p, 2, &tm.tm_mday))
        return REFNET_EINVAL;
    if ((*p == 'T' || *p == ' ') && (p++, !apicall_parse_clock(&p, &tm, &ms)))
        return REFNET_EINVAL;
    if (*p == 'Z')
        p++;
    if (*p != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31)
        return REFNET_EINVAL;
    int year = tm.tm_year, mon = tm.tm_mon, mday = tm.tm_mday;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    /* timegm normalises 31 February into March: refuse dates that moved. */
    if (t < 0 || tm.tm_year != year - 1900 || tm.tm_mon != mon - 1 || tm.tm_mday != mday)
        return REFNET_EINVAL;
    uint64_t v = (uint64_t)t * 1000u + (uint64_t)ms;
    if (!validate_time(v, false))
        return REFNET_EINVAL;
    *out = v;
    return 0;
}

int
apicall_time(apicall_t *c, json_t *args, const char *key, bool required, uint64_t *out)
{
    const char *s = NULL;
    int rc = apicall_text(c, args, key, required, 1, 40, &s);
    if (rc != 0)
        return rc;
    if (apicall_parse_time(s, out) != 0)
        return apicall_fail(c, REFNET_EINVAL,
                            "argument %s must be an ISO 8601 UTC time such as "
                            "2026-05-01T14:30Z, between 2000 and 2100",
                            key);
    return 0;
}

bool
apicall_language_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < WIRE_MIN_LANGUAGE || n > WIRE_MAX_LANGUAGE)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-';
        if (!ok)
            return false;
    }
    return true;
}
