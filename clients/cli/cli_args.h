/* cli_args: strict parsers for the values of the refnet CLI's options.
 *
 * Every value a user types goes through one of these before it is put into a request: numbers
 * must be whole, in range and without trailing text; coordinates must be real places; lists
 * must not hold empty items. Each parser returns 0 or REFNET_EINVAL and, on failure, writes one
 * sentence (without the "refnet: " prefix) into `why`. Stateless. */
#ifndef REFNET_CLI_ARGS_H
#define REFNET_CLI_ARGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Room for the sentences the parsers write. */
#define CLI_ARGS_WHY_LEN 256

/* Parses a decimal integer in [min, max] (no sign other than a leading '-', no spaces, no
 * trailing characters, no overflow). `what` names the value in the sentence, e.g. "--capacity". */
int cli_args_int(const char *text, long min, long max, const char *what, long *out, char *why);
/* Parses a finite decimal number in [min, max]. */
int
cli_args_number(const char *text, double min, double max, const char *what, double *out, char *why);
/* Parses "LAT,LON": latitude in [-90, 90], longitude in [-180, 180]. */
int cli_args_latlon(const char *text, const char *what, double *lat, double *lon, char *why);
/* Parses "yes" or "no" (also "true"/"false"). */
int cli_args_yesno(const char *text, const char *what, bool *out, char *why);
/* Returns 0 when `text` is one of the '|'-separated words in `choices`. */
int cli_args_choice(const char *text, const char *choices, const char *what, char *why);
/* Splits "a,b,c" and appends each item as a JSON string to `list`: no empty items, at most
 * `max_items` in `list` afterwards, each item one of `choices` when that is not NULL, each valid
 * UTF-8. On failure `list` may hold some of the items. */
int cli_args_list(const char *text,
                  size_t max_items,
                  const char *choices,
                  const char *what,
                  json_t *list,
                  char *why);

#endif
