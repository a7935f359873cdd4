/* rekey: KeyRotate at the broker (see rekey.h). */
#include "rekey.h"

#include <stdlib.h>
#include <string.h>

#include "dirhub.h"
#include "log.h"
#include "refnet_error.h"
#include "sealkeys.h"
#include "wire.h"

/* Maps agencies_rotate's refusals to a status and a static sentence. */
static Refnet__Status
rekey_refusal(int rc, const char **why)
{
    switch (rc) {
    case REFNET_EEXIST:
        *why = "that key is already enrolled for another agency";
        return REFNET__STATUS__STATUS_FORBIDDEN;
    case REFNET_EINVAL:
        *why = "key_rotate.curve_public_key is not a CURVE public key";
        return REFNET__STATUS__STATUS_BAD_REQUEST;
    case REFNET_ENOTFOUND:
        *why = "this agency is not enrolled";
        return REFNET__STATUS__STATUS_FORBIDDEN;
    default:
        return dispatch_status(rc, why);
    }
}

/* Records the new sealing key and queues its signed AgencyKey for every online node. */
static int
rekey_box(const dispatch_ctx_t *ctx, const dispatch_req_t *req)
{
    const ProtobufCBinaryData *pk = &req->env->key_rotate->box_public_key;
    uint8_t *frame = NULL;
    size_t len = 0;
    uint64_t head = 0;
    bool changed = false;
    if (!ctx->sign_sk)
        return 0;
    int rc = sealkeys_announce(ctx->store, req->txn, req->agency->id, pk->data, req->now_ms,
                               ctx->sign_sk, &changed);
    if (!rc && changed)
        rc = dirhub_head(ctx->store, req->txn, &head);
    if (!rc && changed)
        rc = sealkeys_frame(ctx->store, req->txn, req->agency->id, &frame, &len);
    if (!rc && changed)
        batch_fanout(ctx->batch, &frame, len, head + 1);
    free(frame);
    return rc;
}

Refnet__Status
rekey_handle(const dispatch_ctx_t *ctx, const dispatch_req_t *req, const char **why)
{
    const Refnet__KeyRotate *kr = req->env->key_rotate;
    char detail[WIRE_WHY_LEN] = "";
    bool changed = false;
    int rc = agencies_rotate(ctx->store, req->txn, req->agency->id, kr->curve_public_key, &changed,
                             detail);
    if (rc)
        return rekey_refusal(rc, why);
    rc = rekey_box(ctx, req);
    if (rc)
        return dispatch_status(rc, why);
    if (changed) {
        ctx->counters->key_rotations++;
        log_info("session: agency %s rotated its keys", req->agency->id);
    }
    dispatch_reply_result(ctx->batch, req->peer->rid, req->peer->rid_len, &req->env->msg_id,
                          REFNET__STATUS__STATUS_OK, "", 0, true);
    return REFNET__STATUS__STATUS_OK;
}
