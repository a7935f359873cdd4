/* validate: the field rules of the refnet protocol.
 *
 * Each function checks one message against proto/wire_limits.h and the rules documented in
 * proto/refnet.proto: lengths, UTF-8, enum ranges, counts, times, coordinates and identifiers.
 * Each returns 0 or REFNET_EINVAL, and on failure writes one sentence naming the field into
 * `why` (WIRE_WHY_LEN bytes; may be NULL). Stateless. */
#ifndef REFNET_VALIDATE_H
#define REFNET_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "refnet.pb-c.h"

/* An agency or service identifier: 1..WIRE_MAX_IDENT bytes from [A-Za-z0-9._:-]. */
bool validate_ident(const char *s);
/* Valid UTF-8 with no NUL, no C0 control characters other than tab, newline and carriage
 * return, and at most `max` bytes (min bytes at least). */
bool validate_text(const char *s, size_t min, size_t max);
/* A time in ms inside [WIRE_MIN_TIME_MS, WIRE_MAX_TIME_MS], or 0 when `zero_ok`. */
bool validate_time(uint64_t ms, bool zero_ok);

int validate_envelope(const Refnet__Envelope *env, char *why);
int validate_service(const Refnet__Service *svc, char *why);
int validate_capacity(const Refnet__Capacity *cap, char *why);
int validate_intake(const Refnet__Intake *in, char *why);
int validate_mail(const Refnet__Mail *mail, char *why);
int validate_handoff_update(const Refnet__HandoffUpdate *up, char *why);
/* Decodes and checks an encoded PersonPacket too (bounded). */
int validate_person_packet(const Refnet__PersonPacket *p, char *why);
/* Checks the opened bytes of a sealed person packet of `up` (`len` bytes at `data`): a valid
 * PersonPacket whose fields `up`'s categories cover. Returns 0 or REFNET_EINVAL with `why`. */
int
validate_opened_packet(const Refnet__HandoffUpdate *up, const uint8_t *data, size_t len, char *why);

#endif
