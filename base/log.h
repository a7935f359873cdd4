/* log: leveled logging to stderr for the daemons and tools.
 *
 * Lines look like "2026-11-22T07:01:02.123Z refnet-broker WARN message". The program name and
 * threshold are set once by main() through log_init(); they are the only process-wide state of
 * this module and are written before any other thread starts. Secret keys and person data are
 * never passed to these functions. */
#ifndef REFNET_LOG_H
#define REFNET_LOG_H

typedef enum { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG } log_level_t;

/* Sets the program name shown in each line (borrowed; must outlive logging) and the threshold. */
void log_init(const char *program, log_level_t level);
/* Parses "error", "warn", "info" or "debug"; returns 0, or REFNET_EINVAL. */
int log_level_parse(const char *text, log_level_t *out);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
