/* shun: agencies whose connection the broker has stopped serving, and the Bye that says so.
 *
 * libzmq gives a ROUTER no way to close one peer's connection. When the broker must cut an
 * agency off (it was revoked, or it went over the bad-frame threshold) it sends that peer a
 * Bye (refnet.proto) and then drops every further frame that arrives under the agency's
 * authenticated key, unanswered, until the shun ends. A well-behaved node closes its socket on
 * Bye and comes back after retry_after_ms; a hostile one is no longer heard, and costs the
 * broker one table lookup per frame.
 *
 * Offence counting: shun_offence() records one bad frame of an agency and reports when the
 * agency has gone over SHUN_BAD_FRAMES within SHUN_WINDOW_MS; the caller then shuns it for
 * SHUN_COOLDOWN_MS. Limits are in broker_limits.h.
 *
 * Ownership: the table is owned by broker_t; agency ids are copied. Single-threaded (the
 * broker loop). Times are monotonic milliseconds (clock_mono_ms). */
#ifndef REFNET_SHUN_H
#define REFNET_SHUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct shun shun_t;

/* A new empty table. */
shun_t *shun_new(void);
/* Frees it. Accepts NULL and *self_p == NULL; nulls *self_p. */
void shun_destroy(shun_t **self_p);

/* Shuns `agency` until monotonic time `until_mono`; 0 means until shun_clear (revocation).
 * A later call replaces the earlier end. */
void shun_add(shun_t *self, const char *agency, uint64_t until_mono);
/* True while `agency` is shunned at monotonic time `mono`. An expired entry is forgotten (its
 * offence count starts again from zero). */
bool shun_active(shun_t *self, const char *agency, uint64_t mono);
/* Ends a shun (an agency enrolled again). */
void shun_clear(shun_t *self, const char *agency);

/* Counts one bad frame from `agency` at `mono`. Returns true when this frame takes the agency
 * over SHUN_BAD_FRAMES bad frames within the last SHUN_WINDOW_MS. */
bool shun_offence(shun_t *self, const char *agency, uint64_t mono);

/* Encodes an Envelope{bye{reason, retry_after_ms}} with a fresh msg_id; a reason longer than
 * WIRE_MAX_DETAIL bytes is cut. Returns 0 and *frame (caller frees) and *len, or the
 * wire_encode error (which a cut reason cannot cause). */
int shun_bye_frame(const char *reason, uint64_t retry_after_ms, uint8_t **frame, size_t *len);

#endif
