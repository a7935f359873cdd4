/* dispatch: what the broker does with each request an agency sends.
 *
 * One table maps the Envelope body case to its handler (Malamute's habit: the protocol's
 * server side written down in one place). A handler runs inside the batch's write
 * transaction (or a child transaction of it, broker.c), appends its replies and follow-up work
 * to the batch, and returns the Status of the request; it sets *req->wrote before its first
 * write. On a non-OK status the caller undoes the request's writes (aborting its child
 * transaction, or replaying the batch), rolls the batch back to before the request, and
 * answers the request with that status and `why` instead; a handler therefore never replies
 * with a refusal itself.
 *
 *   hello         -> its sealing key is recorded and signed (a new one is sent to every online
 *                    node); Welcome with the broker's signing key, then every agency's signed
 *                    key (AgencyKey); delivery starts over from the head of the mailbox
 *   ping          -> Pong{dir_seq}
 *   publish, availability, withdraw
 *                 -> Result{OK, seq} after the commit, and a DirUpdate to every online node
 *   sync          -> the peer's catch-up starts (DirUpdate* then DirSyncDone, by the pump);
 *                    from 0 or below the compaction horizon it is a snapshot first
 *   digest_request -> DirDigest{head} then Result{OK, head}, after the commit
 *   mail          -> stored; Result{OK} ("STORED") after the commit; the recipient is kicked
 *   ack           -> messages leave the mailbox; one Mail{receipts} per sender is queued
 *   key_rotate    -> the agency's new keys replace its old ones (rekey.h); Result{OK} after the
 *                    commit, and the new AgencyKey to every online node
 *   anything else -> STATUS_BAD_REQUEST: not a message a node may send
 *
 * Stateless: everything it touches is passed in dispatch_ctx_t (borrowed). Loop thread. */
#ifndef REFNET_DISPATCH_H
#define REFNET_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agencies.h"
#include "batch.h"
#include "counters.h"
#include "mailbox.h"
#include "presence.h"
#include "refnet.pb-c.h"
#include "store.h"

typedef struct {
    store_t *store;
    agencies_t *agencies;
    presence_t *presence;
    mailbox_t *mailbox;
    batch_t *batch;
    counters_t *counters;
    uint32_t heartbeat_ms;
    /* The broker's signing keypair (SEAL_KEY_LEN / SEAL_SIGN_SECRET_LEN bytes), with which
     * Hello's sealing key is vouched for (sealkeys.h). NULL: keys are neither stored nor sent. */
    const uint8_t *sign_pk;
    const uint8_t *sign_sk;
} dispatch_ctx_t;

/* One authenticated request. The envelope is the decoded frame; handlers may change fields
 * temporarily (to re-encode a delivery) but restore them before returning. */
typedef struct {
    MDB_txn *txn;
    const agencies_entry_t *agency; /* the sender, from its CURVE key */
    presence_peer_t *peer;          /* its presence entry (routing id, session) */
    Refnet__Envelope *env;
    uint64_t now_ms;
    /* NULL, or set to true before the handler's first write to `txn`: a refusal with it
     * still false left `txn` untouched, so the caller need not undo anything. */
    bool *wrote;
} dispatch_req_t;

/* Handles one request. Returns REFNET__STATUS__STATUS_OK, or a refusal with *why set to a
 * static sentence (never person data). */
Refnet__Status
dispatch_handle(const dispatch_ctx_t *ctx, const dispatch_req_t *req, const char **why);

/* Stamps `env` as wire_stamp() does (version, msg_id, sent_at_ms), but with a time-ordered
 * msg_id whose random bytes come from `ids` (uid.h; NULL: drawn on the spot). `msg_id` is the
 * id's storage and must outlive the encoding. */
void dispatch_stamp_env(Refnet__Envelope *env, uint8_t msg_id[UID_MSGID_LEN], uid_pool_t *ids);
/* Encodes Envelope{result{ref, status, detail, seq}} into *frame (caller frees), its msg_id
 * drawn from `ids` (may be NULL). Returns 0 or REFNET_ETOOLARGE. */
int dispatch_result_frame(const ProtobufCBinaryData *ref,
                          Refnet__Status status,
                          const char *detail,
                          uint64_t seq,
                          uid_pool_t *ids,
                          uint8_t **frame,
                          size_t *len);
/* Appends that Result for peer `rid` to `batch` (`ref` must not point into the batch). */
void dispatch_reply_result(batch_t *batch,
                           const uint8_t *rid,
                           size_t rid_len,
                           const ProtobufCBinaryData *ref,
                           Refnet__Status status,
                           const char *detail,
                           uint64_t seq,
                           bool durable);

/* Maps a REFNET_E* code to the Status a peer is told, and gives the sentence for storage and
 * internal failures (NULL for the others, whose sentence comes from the refusing module). */
Refnet__Status dispatch_status(int rc, const char **why);

#endif
