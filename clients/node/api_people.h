/* api_people: the local API's person and consent operations: person.add, person.list,
 * consent.grant, consent.revoke, consent.list and consent.show (clients/lib/API.md).
 *
 * Persons and consents stay in this node's LMDB; nothing here reaches the network. Each
 * handler follows the apicall.h contract. Single-threaded. */
#ifndef REFNET_API_PEOPLE_H
#define REFNET_API_PEOPLE_H

#include <jansson.h>

#include "apicall.h"

int api_people_person_add(apicall_t *c, json_t *args);
int api_people_person_list(apicall_t *c, json_t *args);
int api_people_consent_grant(apicall_t *c, json_t *args);
int api_people_consent_revoke(apicall_t *c, json_t *args);
int api_people_consent_list(apicall_t *c, json_t *args);
int api_people_consent_show(apicall_t *c, json_t *args);

#endif
