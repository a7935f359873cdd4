/* pending: local API requests waiting for the broker's answer.
 *
 * A directory change (service.publish, .availability, .withdraw) is answered only once the
 * broker has answered its outbox item, or after NODE_DIR_WAIT_MS with "queued". This table
 * keeps each such request's route (the ROUTER frames before its body, to address the answer)
 * keyed by the outbox item's msg_id. At most NODE_PENDING_MAX at once.
 *
 * Ownership: pending_t owns its entries; pending_take* copy an entry out. Times are
 * monotonic ms. Single-threaded. */
#ifndef REFNET_PENDING_H
#define REFNET_PENDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node_limits.h"
#include "uid.h"
#include "wire_limits.h"

/* libzmq routing ids are at most 255 bytes; a REQ delimiter is empty. */
#define PENDING_FRAME_MAX 255

/* The frames that address an answer on the API's ROUTER socket. */
typedef struct {
    uint8_t frame[NODE_API_MAX_ENVELOPE_FRAMES][PENDING_FRAME_MAX];
    size_t len[NODE_API_MAX_ENVELOPE_FRAMES];
    size_t n;
} pending_route_t;

typedef struct {
    pending_route_t route;
    uint8_t msg_id[UID_MSGID_LEN];
    char subject[WIRE_MAX_IDENT + 1];
    uint64_t deadline;
} pending_item_t;

typedef struct pending pending_t;

pending_t *pending_new(void);
/* Accepts NULL and *self_p == NULL; nulls *self_p. */
void pending_destroy(pending_t **self_p);

/* Adds a waiting request. Returns 0 or REFNET_EQUEUEFULL (NODE_PENDING_MAX waiting). */
int pending_add(pending_t *self,
                const pending_route_t *route,
                const uint8_t msg_id[UID_MSGID_LEN],
                const char *subject,
                uint64_t deadline);
/* Removes the request waiting on `msg_id` into *out. Returns false when there is none. */
bool pending_take(pending_t *self, const uint8_t msg_id[UID_MSGID_LEN], pending_item_t *out);
/* Removes one request whose deadline is at or before `now` into *out. Returns false when
 * there is none. */
bool pending_take_expired(pending_t *self, uint64_t now, pending_item_t *out);
/* Milliseconds until the earliest deadline (0 if one has passed), or -1 when none waits. */
int pending_timeout(const pending_t *self, uint64_t now);
size_t pending_count(const pending_t *self);

#endif
