/* api: the node's local API (clients/lib/API.md): one JSON request in, one JSON answer out.
 *
 * api_handle() checks the request (size, a JSON object, "v", a string "op", an object
 * "args"), looks the operation up in one table, runs its handler inside one LMDB transaction
 * (write or read-only, as the table says), commits, and encodes the answer
 * {"ok":true,"result":…} or {"ok":false,"error":{"code","message"}}. A handler that refuses
 * writes nothing: its transaction is aborted. Directory changes come back "pending": the
 * node (node.h) keeps the request until the broker answers, then calls api_broker_answer().
 *
 * Ownership: api_t borrows the store and copies the identity strings. Answers are heap
 * strings the caller frees. Single-threaded. */
#ifndef REFNET_API_H
#define REFNET_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "refnet.pb-c.h"
#include "seal.h"
#include "store.h"
#include "uid.h"
#include "wire_limits.h"

typedef struct api api_t;

/* What one request produced. */
typedef struct {
    char *reply; /* the encoded answer (caller frees), or NULL when pending */
    size_t reply_len;
    bool pending;                     /* waiting for the broker's answer to msg_id */
    uint8_t msg_id[UID_MSGID_LEN];    /* the outbox item's msg_id */
    char subject[WIRE_MAX_IDENT + 1]; /* the service id the answer names */
} api_outcome_t;

/* Counters since api_new. */
typedef struct {
    uint64_t requests;
    uint64_t invalid; /* malformed requests and bad arguments */
    uint64_t refused; /* consent, transition, forbidden, not-found, exists */
    uint64_t failed;  /* storage and other internal errors */
} api_stats_t;

/* Creates the API over `st` (borrowed) for agency `agency` named `name`, whose broker is
 * `broker` (strings copied). */
api_t *api_new(store_t *st, const char *agency, const char *name, const char *broker);
/* Gives the API this agency's sealing secret key (copied), which handoff.start seals with.
 * Without it handoff.start refuses to send person data. */
void api_set_seal_key(api_t *self, const uint8_t sk[SEAL_KEY_LEN]);
/* Sets the age after which search reports availability numbers as stale (0 = never; the
 * default until set is NODE_STALE_AFTER_DEFAULT_S). */
void api_set_stale_after(api_t *self, uint64_t ms);
/* Gives `status` the link's counters to show (borrowed: they must outlive the API). */
void api_set_link_stats(api_t *self, const link_stats_t *stats);
/* Frees it. Accepts NULL and *self_p == NULL; nulls *self_p. */
void api_destroy(api_t **self_p);

/* Handles one request frame of `len` bytes. `connected` is the broker link's state, for
 * "status". Always fills *out: an answer, or pending. */
void api_handle(api_t *self, const void *data, size_t len, bool connected, api_outcome_t *out);
/* The answer to a pending directory change about service `subject`: the broker's final
 * answer when `answered` (OK gives {"id","seq","queued":false}; a refusal gives the matching
 * error with the broker's detail), else {"id","queued":true}. Returns a heap string (caller
 * frees) and its length. */
char *api_broker_answer(const char *subject,
                        bool answered,
                        Refnet__Status status,
                        uint64_t seq,
                        const char *detail,
                        size_t *len);

const api_stats_t *api_stats(const api_t *self);

#endif
