/* counters: the broker's activity counters (see counters.h). */
#include "counters.h"

#include <inttypes.h>

#include "log.h"

void
counters_log(const counters_t *c)
{
    log_info("counters: frames=%" PRIu64 " bad_frames=%" PRIu64 " refused=%" PRIu64
             " forbidden=%" PRIu64 " stored=%" PRIu64 " duplicates=%" PRIu64 " queue_full=%" PRIu64
             " delivered=%" PRIu64 " redelivered=%" PRIu64 " acked=%" PRIu64 " stray_acks=%" PRIu64
             " receipts=%" PRIu64 " expired=%" PRIu64,
             c->frames, c->bad_frames, c->refused, c->forbidden, c->stored, c->duplicates,
             c->queue_full, c->delivered, c->redelivered, c->acked, c->stray_acks, c->receipts,
             c->expired);
    log_info("counters: dir_changes=%" PRIu64 " dir_updates=%" PRIu64 " commits=%" PRIu64
             " commit_failures=%" PRIu64 " peer_busy=%" PRIu64 " peer_gone=%" PRIu64
             " admin_requests=%" PRIu64 " admin_refused=%" PRIu64 " shuns=%" PRIu64
             " shunned_frames=%" PRIu64 " key_rotations=%" PRIu64 " revocations=%" PRIu64
             " replays=%" PRIu64 " batches_in=%" PRIu64 " batches_out=%" PRIu64
             " early_deliveries=%" PRIu64,
             c->dir_changes, c->dir_updates, c->commits, c->commit_failures, c->peer_busy,
             c->peer_gone, c->admin_requests, c->admin_refused, c->shuns, c->shunned_frames,
             c->key_rotations, c->revocations, c->replays, c->batches_in, c->batches_out,
             c->early_deliveries);
}

void
counters_undo_writes(counters_t *c, const counters_t *before)
{
    c->stored = before->stored;
    c->duplicates = before->duplicates;
    c->acked = before->acked;
    c->stray_acks = before->stray_acks;
    c->receipts = before->receipts;
    c->dir_changes = before->dir_changes;
}
