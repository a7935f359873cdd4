/* api_audit: the local API's accounting of disclosures: audit.list and audit.verify
 * (clients/lib/API.md). Reads only; entries are written by the operations they record
 * (audit.h). Each handler follows the apicall.h contract. Single-threaded. */
#ifndef REFNET_API_AUDIT_H
#define REFNET_API_AUDIT_H

#include <jansson.h>

#include "apicall.h"

int api_audit_list(apicall_t *c, json_t *args);
int api_audit_verify(apicall_t *c, json_t *args);

#endif
