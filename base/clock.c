/* clock: millisecond clocks and ISO 8601 / date text (see clock.h). */
#include "clock.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "refnet_error.h"

static uint64_t
clock_read(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t
clock_now_ms(void)
{
    return clock_read(CLOCK_REALTIME);
}

uint64_t
clock_mono_ms(void)
{
    return clock_read(CLOCK_MONOTONIC);
}

void
clock_format_iso(uint64_t ms, char out[CLOCK_ISO_LEN])
{
    time_t secs = (time_t)(ms / 1000u);
    struct tm tm;
    gmtime_r(&secs, &tm);
    /* The modulos only tell the compiler each field's width; gmtime_r keeps them in range. */
    snprintf(out, CLOCK_ISO_LEN, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
             (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
             (unsigned)tm.tm_sec % 100u, (unsigned)(ms % 1000u));
}

static bool
clock_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
clock_days_in_month(int y, int m)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && clock_is_leap(y) ? 29 : days[m - 1];
}

int
clock_parse_date_end(const char *text, uint64_t *out_ms)
{
    int y, m, d, used = 0;
    if (!text || strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return REFNET_EINVAL;
    /* sscanf's %d would also take a sign or a space ("2026-+1-22"): insist on digits. */
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9'))
            return REFNET_EINVAL;
    if (sscanf(text, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used != 10)
        return REFNET_EINVAL;
    if (y < 2000 || y > 2099 || m < 1 || m > 12 || d < 1 || d > clock_days_in_month(y, m))
        return REFNET_EINVAL;
    struct tm tm = { 0 };
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d + 1; /* timegm normalises the day after the last of a month */
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return REFNET_EINVAL;
    *out_ms = (uint64_t)t * 1000u;
    return 0;
}
