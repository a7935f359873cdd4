/* outslot: one outbox item on its way to the broker, as the node's link tracks it.
 *
 * A slot sits in the link's send window (sent, not yet answered) or in its parking
 * (parking.h: refused "queue full", waiting for its recipient's mailbox to have room). It
 * names the item by outbox key and msg_id and remembers the mail's recipient, read once when
 * the item is first sent. A plain value: copied freely, owns nothing, no thread rules. */
#ifndef REFNET_OUTSLOT_H
#define REFNET_OUTSLOT_H

#include <stdbool.h>
#include <stdint.h>

#include "uid.h"
#include "wire_limits.h"

typedef struct {
    uint64_t key;
    uint8_t msg_id[UID_MSGID_LEN];
    uint64_t due;                /* when to send it again; parked behind a refused item: 0 */
    char to[WIRE_MAX_IDENT + 1]; /* the mail's recipient; "" for anything else */
    bool gone;                   /* parked: sent or dropped in this pass */
} outslot_t;

#endif
