/* enums: the text names of the protocol's enums, as the CLI, the local API and JSON use them.
 *
 * Each *_name() returns a static string ("unknown" for values outside the enum) and each
 * *_parse() returns 0 or REFNET_EINVAL. Stateless. */
#ifndef REFNET_ENUMS_H
#define REFNET_ENUMS_H

#include "refnet.pb-c.h"

/* Names as used by the CLI and JSON: "requested", "accepted", "rejected", "in-progress",
 * "on-hold", "completed", "failed", "cancelled". Unknown values give "unknown". */
const char *enums_status_name(Refnet__HandoffStatus s);
int enums_status_parse(const char *name, Refnet__HandoffStatus *out);
/* "introduced", "first-contact-confirmed", "follow-up-due", "follow-up-done". */
const char *enums_milestone_name(Refnet__Milestone m);
int enums_milestone_parse(const char *name, Refnet__Milestone *out);
/* "got-help", "couldnt-contact", "no-show", "not-eligible", "no-capacity", "person-declined",
 * "re-routed", "expired". */
const char *enums_outcome_name(Refnet__Outcome o);
int enums_outcome_parse(const char *name, Refnet__Outcome *out);
/* "in-person", "phone", "video". */
const char *enums_mode_name(Refnet__ContactMode m);
int enums_mode_parse(const char *name, Refnet__ContactMode *out);
/* "contact", "needs", "own-words", "notes", "substance-use". */
const char *enums_category_name(Refnet__Category c);
int enums_category_parse(const char *name, Refnet__Category *out);

/* "capacity", "no-capacity", "waitlist", "additional-assessment-required". */
const char *enums_capacity_status_name(Refnet__CapacityStatus s);
int enums_capacity_status_parse(const char *name, Refnet__CapacityStatus *out);

#endif
