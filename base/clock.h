/* clock: wall-clock and monotonic time in milliseconds, and their text forms.
 *
 * Stored and wire times are milliseconds since the Unix epoch, UTC (wall clock). Timers and
 * timeouts use the monotonic clock. Stateless. */
#ifndef REFNET_CLOCK_H
#define REFNET_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define CLOCK_ISO_LEN 32 /* room for "2026-11-22T07:01:02.123Z" plus NUL */

/* Milliseconds since the Unix epoch. */
uint64_t clock_now_ms(void);
/* Milliseconds on the monotonic clock (arbitrary origin). */
uint64_t clock_mono_ms(void);
/* Formats `ms` as ISO 8601 UTC with milliseconds, e.g. "2026-11-22T07:01:02.123Z". */
void clock_format_iso(uint64_t ms, char out[CLOCK_ISO_LEN]);
/* Parses "YYYY-MM-DD" (a UTC calendar date) into the ms of the *end* of that day
 * (the next day's 00:00:00.000), which is when a consent "until YYYY-MM-DD" stops being valid.
 * Returns 0, or REFNET_EINVAL for anything else. */
int clock_parse_date_end(const char *text, uint64_t *out_ms);

#endif
