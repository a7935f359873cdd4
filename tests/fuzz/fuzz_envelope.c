/* fuzz_envelope: libFuzzer target for wire_decode(), the door from socket bytes to a message.
 *
 * Every input goes through wire_decode(). When it is accepted, the decoded Envelope is encoded
 * again and the result must decode (without the allocation budget, which a re-encoding with
 * fewer padding bytes can legitimately exceed), validate, and encode to the same bytes: the
 * codec and the validators agree with each other on every message the daemons accept.
 * A handoff step is also run through the state machine from every status and the enum name
 * tables, as the daemons do next with an accepted step. Any disagreement aborts, which
 * libFuzzer reports as a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enums.h"
#include "fsm.h"
#include "refnet.pb-c.h"
#include "refnet_error.h"
#include "validate.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_reencoding(const Refnet__Envelope *env)
{
    uint8_t *once = NULL, *twice = NULL;
    size_t once_len = 0, twice_len = 0;
    char why[WIRE_WHY_LEN];
    if (wire_encode(env, &once, &once_len) != 0)
        abort(); /* an accepted frame never grows past the limit when re-encoded */
    Refnet__Envelope *again = refnet__envelope__unpack(NULL, once_len, once);
    if (!again)
        abort();
    if (validate_envelope(again, why) != 0 || again->version != WIRE_VERSION)
        abort();
    if (wire_encode(again, &twice, &twice_len) != 0)
        abort();
    if (once_len != twice_len || memcmp(once, twice, once_len) != 0)
        abort();
    refnet__envelope__free_unpacked(again, NULL);
    free(once);
    free(twice);
}

static void
fuzz_check_handoff(const Refnet__Envelope *env)
{
    if (env->body_case != REFNET__ENVELOPE__BODY_MAIL ||
        env->mail->content_case != REFNET__MAIL__CONTENT_HANDOFF)
        return;
    const Refnet__HandoffUpdate *h = env->mail->handoff;
    for (int from = 0; from <= REFNET__HANDOFF_STATUS__HANDOFF_STATUS_CANCELLED; from++) {
        for (int side = FSM_SIDE_SENDER; side <= FSM_SIDE_RECEIVER; side++) {
            const char *rule = NULL;
            Refnet__HandoffStatus f = (Refnet__HandoffStatus)from;
            if (h->status != REFNET__HANDOFF_STATUS__HANDOFF_STATUS_UNSPECIFIED &&
                fsm_check(f, h->status, (fsm_side_t)side, h->reason[0] != '\0', &rule) != 0 &&
                !rule)
                abort(); /* a refusal always names its rule */
            if (h->milestone != REFNET__MILESTONE__MILESTONE_UNSPECIFIED &&
                fsm_check_milestone(f, h->milestone, (fsm_side_t)side, &rule) != 0 && !rule)
                abort();
        }
    }
    /* Every value that passed validation has a name. */
    if (!strcmp(enums_status_name(h->status), "unknown") ||
        !strcmp(enums_milestone_name(h->milestone), "unknown") ||
        !strcmp(enums_outcome_name(h->outcome), "unknown") ||
        !strcmp(enums_mode_name(h->mode), "unknown"))
        abort();
    for (size_t i = 0; i < h->n_categories; i++)
        if (!strcmp(enums_category_name(h->categories[i]), "unknown"))
            abort();
}

/* A batch's items go through wire_decode_item() one by one, as the daemons take them. */
static void
fuzz_check_batch(const Refnet__Envelope *env)
{
    if (env->body_case != REFNET__ENVELOPE__BODY_BATCH)
        return;
    for (size_t i = 0; i < env->batch->n_envelopes; i++) {
        pbuf_t *item = NULL;
        char why[WIRE_WHY_LEN];
        const ProtobufCBinaryData *b = &env->batch->envelopes[i];
        if (wire_decode_item(b->data, b->len, &item, why) == 0) {
            const Refnet__Envelope *e = (const Refnet__Envelope *)pbuf_msg(item);
            if (e->body_case == REFNET__ENVELOPE__BODY_BATCH)
                abort(); /* an item is never itself a batch */
            fuzz_check_reencoding(e);
            fuzz_check_handoff(e);
        } else if (item || why[0] == '\0') {
            abort();
        }
        pbuf_destroy(&item);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pbuf_t *pb = NULL;
    char why[WIRE_WHY_LEN];
    int rc = wire_decode(data, size, &pb, why);
    if (rc == 0) {
        fuzz_check_reencoding((const Refnet__Envelope *)pbuf_msg(pb));
        fuzz_check_handoff((const Refnet__Envelope *)pbuf_msg(pb));
        fuzz_check_batch((const Refnet__Envelope *)pbuf_msg(pb));
    } else {
        /* A refusal always carries a sentence and never hands out a message. */
        if (pb || why[0] == '\0' || strlen(why) >= WIRE_WHY_LEN)
            abort();
    }
    pbuf_destroy(&pb);
    return 0;
}
