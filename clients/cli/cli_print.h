/* cli_print: readable text for each kind of result the refnet CLI shows.
 *
 * Each function takes one result document of the local API (clients/lib/API.md) or of the
 * admin client (clients/lib/admin.h) and writes it for people: tables for lists, "key: value"
 * lines for single records, and the bare id for commands that create something, so that a
 * script can write ID=$(refnet person add ...). Missing members print as "-", never crash.
 * Stateless. */
#ifndef REFNET_CLI_PRINT_H
#define REFNET_CLI_PRINT_H

#include <jansson.h>
#include <stdio.h>

/* Every member as "key: value" (status, consent show, person records). */
void cli_print_kv(FILE *out, const json_t *result);
/* The bare "id" member (person add, consent grant, handoff start). */
void cli_print_id(FILE *out, const json_t *result);
/* A directory change: the service id and the directory sequence, or that it is queued. */
void cli_print_dir_change(FILE *out, const json_t *result);
/* {"services":[...]}: ID, NAME, AGENCY, AVAILABLE (available/capacity), ACCEPTING, and
 * DISTANCE when the results carry distance_km. */
void cli_print_services(FILE *out, const json_t *result);
/* {"persons":[...]} as a table. */
void cli_print_persons(FILE *out, const json_t *result);
/* {"consents":[...]} as a table with each consent's state (valid, revoked, not valid). */
void cli_print_consents(FILE *out, const json_t *result);
/* consent show: every element as "key: value", then one line per revocation sent: "revocation
 * acknowledged by AGENCY at TIME" or "revocation pending at AGENCY (sent TIME)". */
void cli_print_consent(FILE *out, const json_t *result);
/* {"id","revoked_at"}. */
void cli_print_revoked(FILE *out, const json_t *result);
/* {"id","status"} after a handoff action. */
void cli_print_handoff_status(FILE *out, const json_t *result);
/* {"id","milestone"}. */
void cli_print_milestone(FILE *out, const json_t *result);
/* {"handoffs":[...]} as a table, newest first as the node sent them. */
void cli_print_handoffs(FILE *out, const json_t *result);
/* One handoff: status, parties, service, times, the person's shared data, then the event
 * history one event per line. */
void cli_print_handoff(FILE *out, const json_t *result);
/* The admin client's nodes ({"agencies":[...]}) or flow ({"flow":[...], medians}) result. */
void cli_print_admin(FILE *out, const json_t *result);
/* audit list: the audit entries as a table. */
void cli_print_audit(FILE *out, const json_t *result);
/* audit verify: "audit log valid: N entries". */
void cli_print_audit_verify(FILE *out, const json_t *result);

#endif
