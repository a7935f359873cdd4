/* refnet-queueseed: fills a stopped broker's mailbox with many real messages, for the fault
 * test of a restart with a large queue (fault_big_queue.sh).
 *
 *   refnet-queueseed BROKER_DIR RECIPIENT COUNT
 *
 * Sending 100,000 handoffs through nodes takes minutes; this writes them straight into the
 * broker's LMDB in seconds, through the broker's own mailbox module, so every record is exactly
 * what the broker would have stored. The messages are clones of those already queued for
 * RECIPIENT (real handoffs, sealed by their sender for RECIPIENT): each clone gets a new msg_id
 * and a new handoff id, so the recipient applies it as one more handoff. The broker must not be
 * running. Prints the number of messages written. Exit 0 ok, 1 error, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_limits.h"
#include "bstore.h"
#include "clock.h"
#include "mailbox.h"
#include "refnet_error.h"
#include "store.h"
#include "uid.h"
#include "wire.h"
#include "xmalloc.h"

/* Templates kept, clones written per transaction, and the most clones made in one run. */
#define SEED_MAX_TEMPLATES 1000
#define SEED_TXN_SIZE      10000
#define SEED_MAX_COUNT     1000000

typedef struct {
    uint8_t *frames[SEED_MAX_TEMPLATES];
    size_t lens[SEED_MAX_TEMPLATES];
    size_t n;
} seed_templates_t;

static bool
seed_collect(void *arg, uint64_t qseq, const uint8_t *frame, size_t len)
{
    seed_templates_t *t = arg;
    (void)qseq;
    t->frames[t->n] = xmalloc(len);
    memcpy(t->frames[t->n], frame, len);
    t->lens[t->n++] = len;
    return t->n < SEED_MAX_TEMPLATES;
}

/* Enqueues one clone of `frame` with a fresh msg_id and handoff id. */
static int
seed_clone(mailbox_t *mb, MDB_txn *txn, const char *to, const uint8_t *frame, size_t len)
{
    char why[WIRE_WHY_LEN] = "";
    pbuf_t *pb = NULL;
    uint8_t *out = NULL;
    size_t out_len = 0;
    int rc = wire_decode(frame, len, &pb, why);
    if (rc)
        return rc;
    Refnet__Envelope *env = (Refnet__Envelope *)pbuf_msg(pb);
    if (env->body_case != REFNET__ENVELOPE__BODY_MAIL ||
        env->mail->content_case != REFNET__MAIL__CONTENT_HANDOFF) {
        pbuf_destroy(&pb);
        return REFNET_EINVAL;
    }
    /* Swapped in for the encoding only: the decoded message owns the originals. */
    uint8_t msg_id[UID_MSGID_LEN];
    char handoff_id[UID_STR_LEN];
    uid_msgid(msg_id);
    uid_new(handoff_id);
    ProtobufCBinaryData old_id = env->msg_id;
    char *old_handoff = env->mail->handoff->handoff_id;
    env->msg_id.data = msg_id;
    env->msg_id.len = sizeof msg_id;
    env->mail->handoff->handoff_id = handoff_id;
    rc = wire_encode(env, &out, &out_len);
    env->msg_id = old_id;
    env->mail->handoff->handoff_id = old_handoff;
    if (!rc) {
        mailbox_item_t item = { .to = to,
                                .sender = env->mail->from,
                                .msg_id = msg_id,
                                .frame = out,
                                .len = out_len,
                                .handoff_id = handoff_id };
        uint64_t qseq = 0;
        rc = mailbox_enqueue(mb, txn, &item, clock_now_ms(), &qseq);
    }
    free(out);
    pbuf_destroy(&pb);
    return rc;
}

static int
seed_run(store_t *st, mailbox_t *mb, const char *to, long count)
{
    seed_templates_t t = { .n = 0 };
    MDB_txn *txn = NULL;
    int rc = store_begin(st, true, &txn);
    if (!rc)
        rc = mailbox_scan(mb, txn, to, 0, clock_now_ms(), seed_collect, &t);
    store_abort(&txn);
    if (!rc && t.n == 0) {
        fprintf(stderr, "refnet-queueseed: nothing is queued for %s to clone\n", to);
        rc = REFNET_ENOTFOUND;
    }
    for (long done = 0; !rc && done < count;) {
        rc = store_begin(st, false, &txn);
        for (long i = 0; !rc && i < SEED_TXN_SIZE && done < count; i++, done++)
            rc = seed_clone(mb, txn, to, t.frames[done % (long)t.n], t.lens[done % (long)t.n]);
        if (!rc)
            rc = store_commit(&txn);
        store_abort(&txn);
    }
    for (size_t i = 0; i < t.n; i++)
        free(t.frames[i]);
    return rc;
}

int
main(int argc, char **argv)
{
    store_t *st = NULL;
    char *end = NULL;
    long count = argc == 4 ? strtol(argv[3], &end, 10) : 0;
    if (argc != 4 || !end || *end || count <= 0 || count > SEED_MAX_COUNT) {
        fprintf(stderr, "usage: refnet-queueseed BROKER_DIR RECIPIENT COUNT (1-%d)\n",
                SEED_MAX_COUNT);
        return 2;
    }
    int rc = bstore_open(&st, argv[1], BROKER_MAP_SIZE_MB_DEFAULT);
    if (rc) {
        fprintf(stderr, "refnet-queueseed: cannot open %s: %s\n", argv[1], refnet_strerror(rc));
        return 1;
    }
    mailbox_config_t cfg = { .max_queue = SEED_MAX_COUNT * 2ULL,
                             .default_ttl_ms = BROKER_DEFAULT_TTL_MS,
                             .done_retention_ms = BROKER_DONE_RETENTION_MS };
    mailbox_t *mb = mailbox_new(st, &cfg);
    rc = seed_run(st, mb, argv[2], count);
    mailbox_destroy(&mb);
    store_destroy(&st);
    if (rc) {
        fprintf(stderr, "refnet-queueseed: %s\n", refnet_strerror(rc));
        return 1;
    }
    printf("%ld\n", count);
    return 0;
}
