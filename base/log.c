/* log: leveled lines to stderr (see log.h).
 *
 * The program name and threshold are this module's only state: set once by main() before any
 * thread starts, then only read. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "refnet_error.h"

static const char *log_program = "refnet";
static log_level_t log_threshold = LOG_LEVEL_INFO;

static const char *const log_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

void
log_init(const char *program, log_level_t level)
{
    log_program = program ? program : "refnet";
    log_threshold = level;
}

int
log_level_parse(const char *text, log_level_t *out)
{
    static const char *const lower[] = { "error", "warn", "info", "debug" };
    for (int i = 0; i <= (int)LOG_LEVEL_DEBUG; i++) {
        if (text && strcmp(text, lower[i]) == 0) {
            *out = (log_level_t)i;
            return 0;
        }
    }
    return REFNET_EINVAL;
}

__attribute__((format(printf, 2, 0))) static void
log_write(log_level_t level, const char *fmt, va_list ap)
{
    if (level > log_threshold)
        return;
    char line[1024];
    char when[CLOCK_ISO_LEN];
    clock_format_iso(clock_now_ms(), when);
    vsnprintf(line, sizeof line, fmt, ap);
    /* One fprintf per line keeps lines whole when several processes share a terminal. */
    fprintf(stderr, "%s %s %s %s\n", when, log_program, log_names[level], line);
}

void
log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_write(LOG_LEVEL_ERROR, fmt, ap);
    va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_write(LOG_LEVEL_WARN, fmt, ap);
    va_end(ap);
}

void
log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_write(LOG_LEVEL_INFO, fmt, ap);
    va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_write(LOG_LEVEL_DEBUG, fmt, ap);
    va_end(ap);
}
