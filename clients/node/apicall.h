/* apicall: one call of the node's local API: its context, typed argument getters and error.
 *
 * The API dispatcher (api.h) fills an apicall_t for each request and hands it to the
 * operation's handler with the request's `args` object. Handlers read arguments only through
 * the getters below, which check type, presence, UTF-8 and the protocol limits, and on a
 * problem set code REFNET_EINVAL and one clear sentence naming the argument. A handler
 * returns 0 with c->result set, or a REFNET_E* code with c->message set (apicall_fail).
 *
 * Getters return 0 when the argument is present and valid (*out set), 1 when it is absent or
 * null and optional (*out untouched), or REFNET_EINVAL. Strings returned are borrowed from
 * `args` and live as long as it does. Single-threaded. */
#ifndef REFNET_APICALL_H
#define REFNET_APICALL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "store.h"
#include "uid.h"
#include "wire_limits.h"

#define APICALL_MESSAGE_LEN 512

typedef struct {
    /* Inputs, set by the dispatcher. */
    store_t *st;
    MDB_txn *txn;             /* a write transaction for writing operations, else read-only */
    const char *agency;       /* this node's agency id */
    const char *name;         /* its display name */
    const char *broker;       /* broker endpoint */
    bool connected;           /* link state at the time of the call */
    const link_stats_t *link; /* the link's counters (status), or NULL */
    const uint8_t *seal_sk;   /* this agency's sealing secret key (SEAL_KEY_LEN), or NULL */
    uint64_t now;             /* wall clock, ms */
    uint64_t stale_after_ms;  /* search: availability older than this is stale (0 = never) */
    /* Outputs. */
    json_t *result; /* success: the "result" object (owned by the call) */
    bool pending;   /* the answer waits for the broker's answer to msg_id */
    uint8_t msg_id[UID_MSGID_LEN];
    char subject[WIRE_MAX_IDENT + 1]; /* id the deferred answer names */
    int code;                         /* failure: a REFNET_E* code */
    char message[APICALL_MESSAGE_LEN];
} apicall_t;

/* Records a failure and returns `code`. */
int apicall_fail(apicall_t *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A UTF-8 string of min..max bytes (validate_text). */
int apicall_text(apicall_t *c,
                 json_t *args,
                 const char *key,
                 bool required,
                 size_t min,
                 size_t max,
                 const char **out);
/* An identifier (validate_ident): agency and service ids, taxonomy codes. */
int apicall_ident(apicall_t *c, json_t *args, const char *key, bool required, const char **out);
/* A UUID made by this node (persons, consents, handoffs). */
int apicall_uuid(apicall_t *c, json_t *args, const char *key, bool required, const char **out);
/* An integer in min..max. */
int apicall_int(apicall_t *c,
                json_t *args,
                const char *key,
                bool required,
                json_int_t min,
                json_int_t max,
                json_int_t *out);
/* A finite number (integer or real) in min..max. */
int apicall_number(apicall_t *c,
                   json_t *args,
                   const char *key,
                   bool required,
                   double min,
                   double max,
                   double *out);
int apicall_bool(apicall_t *c, json_t *args, const char *key, bool required, bool *out);
/* An array of min..max identifiers, copied as borrowed pointers into `items` (room for
 * `max`). */
int apicall_ident_list(apicall_t *c,
                       json_t *args,
                       const char *key,
                       bool required,
                       size_t min,
                       size_t max,
                       const char **items,
                       size_t *n);
/* An ISO 8601 UTC time: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.mmm]][Z]", inside the protocol's
 * time range. */
int apicall_time(apicall_t *c, json_t *args, const char *key, bool required, uint64_t *out);
/* Parses the time formats of apicall_time. Returns 0 or REFNET_EINVAL. */
int apicall_parse_time(const char *text, uint64_t *out);
/* A language code: 2..8 letters, digits or '-'. */
bool apicall_language_ok(const char *s);

#endif
