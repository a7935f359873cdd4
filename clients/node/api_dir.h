/* api_dir: the local API's directory operations: status, service.publish,
 * service.availability, service.withdraw and search (clients/lib/API.md).
 *
 * Directory changes go to the broker through the outbox in the call's transaction; the call
 * is then left pending (apicall_t.pending) until the broker answers or NODE_DIR_WAIT_MS pass.
 * Each handler follows the apicall.h contract. Single-threaded. */
#ifndef REFNET_API_DIR_H
#define REFNET_API_DIR_H

#include <jansson.h>

#include "apicall.h"

int api_dir_status(apicall_t *c, json_t *args);
int api_dir_publish(apicall_t *c, json_t *args);
int api_dir_availability(apicall_t *c, json_t *args);
int api_dir_withdraw(apicall_t *c, json_t *args);
int api_dir_search(apicall_t *c, json_t *args);
/* directory.verify: asks the broker for its directory digest (dirsync.h answers it). */
int api_dir_verify(apicall_t *c, json_t *args);

#endif
