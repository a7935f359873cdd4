/* fields: the protobuf field numbers that code reads without decoding (base/pbscan.h).
 *
 * pbscan reads one field of an encoded record by number. The numbers are written once here,
 * named after message and field, and test_fields checks each against protobuf-c's descriptor
 * of that field, so a renumbered field in refnet.proto or records.proto fails a test instead
 * of reading the wrong bytes. */
#ifndef REFNET_FIELDS_H
#define REFNET_FIELDS_H

/* records.proto DirRecord */
#define FIELDS_DIR_RECORD_AGENCY    2
#define FIELDS_DIR_RECORD_WITHDRAWN 3
#define FIELDS_DIR_RECORD_SERVICE   4

/* refnet.proto Service */
#define FIELDS_SERVICE_NAME 3

/* records.proto QueuedMail */
#define FIELDS_QUEUED_MAIL_SENDER     2
#define FIELDS_QUEUED_MAIL_HANDOFF_ID 5

/* records.proto AuditEntry: `hash` is also its last field (audit.c appends it). */
#define FIELDS_AUDIT_ENTRY_HASH 14

#endif
