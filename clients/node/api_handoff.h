/* api_handoff: the local API's handoff operations: handoff.start, handoff.update,
 * handoff.milestone, handoff.list and handoff.show (clients/lib/API.md).
 *
 * The rules (consent, state machine, who may do what) live in handoff.h; this module reads
 * arguments, maps actions to statuses and builds the answers. Each handler follows the
 * apicall.h contract. Single-threaded. */
#ifndef REFNET_API_HANDOFF_H
#define REFNET_API_HANDOFF_H

#include <jansson.h>

#include "apicall.h"
#include "refnet.pb-c.h"

int api_handoff_start(apicall_t *c, json_t *args);
int api_handoff_update(apicall_t *c, json_t *args);
int api_handoff_milestone(apicall_t *c, json_t *args);
int api_handoff_list(apicall_t *c, json_t *args);
int api_handoff_show(apicall_t *c, json_t *args);

/* Maps an API action ("accept", "decline", ...) to its status. Returns 0 or REFNET_EINVAL. */
int api_handoff_action(const char *action, Refnet__HandoffStatus *out);

#endif
