/* dirhub: the network directory at the broker, sequenced as in the Clone pattern.
 *
 * db "services" maps a service id to its latest DirRecord{seq, agency, withdrawn, service};
 * db "dirlog" maps each record's seq (u64 big-endian) to its service id, keeping only the
 * latest seq of each service (the old key is deleted when a service changes), so a catch-up
 * sends each changed service once. meta "dir_seq" is the head: the highest seq given out.
 *
 * A service belongs to the agency that first published it, for ever: publishing, changing
 * the availability of or withdrawing another agency's service is refused (REFNET_EFORBIDDEN),
 * also after it was withdrawn. Withdrawal leaves a tombstone. Every accepted change gets the
 * next seq, gap-free.
 *
 * Functions work inside the caller's transaction and keep no state; on a non-zero return the
 * caller aborts the transaction (or its child), since a write may have been made. `why`
 * receives a static sentence for refusals. */
#ifndef REFNET_DIRHUB_H
#define REFNET_DIRHUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "refnet.pb-c.h"
#include "store.h"

/* Reads the head seq (0 for an empty directory). */
int dirhub_head(store_t *store, MDB_txn *txn, uint64_t *out);

/* Creates or replaces `agency`'s service `svc` (svc->agency is ignored and stored as
 * `agency`). Sets *seq. Returns 0, REFNET_EFORBIDDEN or a store error. */
int dirhub_publish(store_t *store,
                   MDB_txn *txn,
                   const char *agency,
                   const Refnet__Service *svc,
                   uint64_t now_ms,
                   uint64_t *seq,
                   const char **why);
/* Replaces the capacity and intake of `agency`'s service. Returns 0, REFNET_ENOTFOUND (no such
 * service, or withdrawn), REFNET_EFORBIDDEN or a store error. */
int dirhub_availability(store_t *store,
                        MDB_txn *txn,
                        const char *agency,
                        const Refnet__DirAvailability *av,
                        uint64_t now_ms,
                        uint64_t *seq,
                        const char **why);
/* Withdraws `agency`'s service. Withdrawing it again is accepted without a new change
 * (*changed false, *seq the tombstone's seq), so a resent request gets the same answer.
 * Returns 0, REFNET_ENOTFOUND, REFNET_EFORBIDDEN or a store error. */
int dirhub_withdraw(store_t *store,
                    MDB_txn *txn,
                    const char *agency,
                    const char *service_id,
                    uint64_t *seq,
                    bool *changed,
                    const char **why);

/* Finds the first dirlog seq above `after`. Returns 0, REFNET_ENOTFOUND at the end, or a store
 * error. */
int dirhub_next(store_t *store, MDB_txn *txn, uint64_t after, uint64_t *seq);
/* Encodes Envelope{update} for the service whose latest change is `seq`. Returns 0 and sets
 * *frame (caller frees), REFNET_ENOTFOUND when seq is not (or no longer) in the log, or an
 * error. */
int dirhub_update_frame(store_t *store, MDB_txn *txn, uint64_t seq, uint8_t **frame, size_t *len);

/* Looks up the owner of `service_id`: copies it into `owner` (WIRE_MAX_IDENT + 1 bytes) and
 * sets *withdrawn. Returns 0, REFNET_ENOTFOUND or a store error. */
int
dirhub_owner(store_t *store, MDB_txn *txn, const char *service_id, char *owner, bool *withdrawn);

#endif
