/* flow: handoff state enforcement and flow statistics at the broker (see flow.h). */
#include "flow.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bstore.h"
#include "dirhub.h"
#include "fsm.h"
#include "log.h"
#include "records.pb-c.h"
#include "refnet_error.h"
#include "xmalloc.h"

/* A HandoffMeta is a few ids and times. */
#define FLOW_MAX_RECORD 4096

static int
flow_get(store_t *store, MDB_txn *txn, const char *id, pbuf_t **out)
{
    return store_get_msg(txn, bstore_db(store, BSTORE_HANDOFFS), id, strlen(id),
                         &refnet__handoff_meta__descriptor, out);
}

static int
flow_put(store_t *store, MDB_txn *txn, const Refnet__HandoffMeta *meta)
{
    return store_put_msg(txn, bstore_db(store, BSTORE_HANDOFFS), meta->id, strlen(meta->id),
                         &meta->base);
}

static void
flow_note_times(Refnet__HandoffMeta *meta, const Refnet__HandoffUpdate *up, uint64_t now_ms)
{
    if (up->status == REFNET__HANDOFF_STATUS__HANDOFF_STATUS_ACCEPTED && !meta->accepted_at_ms)
        meta->accepted_at_ms = now_ms;
    if (up->milestone == REFNET__MILESTONE__MILESTONE_FIRST_CONTACT_CONFIRMED &&
        !meta->first_contact_at_ms)
        meta->first_contact_at_ms = now_ms;
    meta->updated_at_ms = now_ms;
}

/* Checks the status change (if any) and the milestone (if any) of `up` for `side`, against
 * the handoff's current status. */
static int
flow_check(Refnet__HandoffStatus current,
           const Refnet__HandoffUpdate *up,
           fsm_side_t side,
           const char **why)
{
    Refnet__HandoffStatus after = current;
    if (up->status != REFNET__HANDOFF_STATUS__HANDOFF_STATUS_UNSPECIFIED) {
        bool reason = (up->reason && up->reason[0]) || up->sealed_reason.len > 0;
        int rc = fsm_check(current, up->status, side, reason, why);
        if (rc)
            return REFNET_ETRANSITION;
        after = up->status;
    }
    if (up->milestone != REFNET__MILESTONE__MILESTONE_UNSPECIFIED &&
        fsm_check_milestone(after, up->milestone, side, why) != 0)
        return REFNET_ETRANSITION;
    return 0;
}

static int
flow_start(store_t *store,
           MDB_txn *txn,
           const char *agency,
           const char *to,
           const Refnet__HandoffUpdate *up,
           uint64_t now_ms,
           const char **why)
{
    Refnet__HandoffMeta meta = REFNET__HANDOFF_META__INIT;
    char owner[WIRE_MAX_IDENT + 1];
    bool withdrawn = false;
    if (up->status != REFNET__HANDOFF_STATUS__HANDOFF_STATUS_REQUESTED) {
        *why = "no such handoff: the first update of a handoff must be requested";
        return REFNET_ENOTFOUND;
    }
    int rc =
        flow_check(REFNET__HANDOFF_STATUS__HANDOFF_STATUS_UNSPECIFIED, up, FSM_SIDE_SENDER, why);
    if (rc)
        return rc;
    rc = dirhub_owner(store, txn, up->service_id, owner, &withdrawn);
    if (rc == REFNET_ENOTFOUND || (!rc && withdrawn)) {
        *why = rc ? "no such service in the directory" : "the service is withdrawn";
        return REFNET_ENOTFOUND;
    }
    if (rc)
        return rc;
    if (strcmp(owner, to) != 0) {
        *why = "the service does not belong to the recipient";
        return REFNET_EFORBIDDEN;
    }
    meta.id = up->handoff_id;
    meta.sender = (char *)agency;
    meta.receiver = (char *)to;
    meta.service_id = up->service_id;
    meta.status = up->status;
    meta.requested_at_ms = now_ms;
    flow_note_times(&meta, up, now_ms);
    return flow_put(store, txn, &meta);
}

static int
flow_continue(store_t *store,
              MDB_txn *txn,
              Refnet__HandoffMeta *meta,
              const char *agency,
              const char *to,
              const Refnet__HandoffUpdate *up,
              uint64_t now_ms,
              const char **why)
{
    fsm_side_t side;
    const char *other;
    if (strcmp(agency, meta->sender) == 0) {
        side = FSM_SIDE_SENDER;
        other = meta->receiver;
    } else if (strcmp(agency, meta->receiver) == 0) {
        side = FSM_SIDE_RECEIVER;
        other = meta->sender;
    } else {
        *why = "the agency is not a party to this handoff";
        return REFNET_EFORBIDDEN;
    }
    if (strcmp(to, other) != 0) {
        *why = "a handoff update must be addressed to the other party";
        return REFNET_EFORBIDDEN;
    }
    int rc = flow_check(meta->status, up, side, why);
    if (rc)
        return rc;
    if (up->status != REFNET__HANDOFF_STATUS__HANDOFF_STATUS_UNSPECIFIED)
        meta->status = up->status;
    flow_note_times(meta, up, now_ms);
    return flow_put(store, txn, meta);
}

int
flow_apply(store_t *store,
           MDB_txn *txn,
           const char *agency,
           const char *to,
           const Refnet__HandoffUpdate *up,
           uint64_t now_ms,
           const char **why)
{
    pbuf_t *pb = NULL;
    int rc = flow_get(store, txn, up->handoff_id, &pb);
    if (rc == REFNET_ENOTFOUND)
        return flow_start(store, txn, agency, to, up, now_ms, why);
    if (rc)
        return rc;
    rc =
        flow_continue(store, txn, (Refnet__HandoffMeta *)pbuf_msg(pb), agency, to, up, now_ms, why);
    pbuf_destroy(&pb);
    return rc;
}

/* ---- statistics --------------------------------------------------------------------------- */

static int
flow_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

uint64_t
flow_median(uint64_t *values, size_t n)
{
    if (n == 0)
        return 0;
    qsort(values, n, sizeof *values, flow_cmp_u64);
    if (n % 2)
        return values[n / 2];
    uint64_t a = values[n / 2 - 1], b = values[n / 2];
    return a + (b - a) / 2;
}

static int
flow_cmp_row(const void *a, const void *b)
{
    const flow_row_t *x = a, *y = b;
    int c = strcmp(x->from, y->from);
    if (!c)
        c = strcmp(x->to, y->to);
    if (!c)
        c = ((int)x->status > (int)y->status) - ((int)x->status < (int)y->status);
    return c;
}

/* Growable arrays of rows and of durations, with a hash from "from/to/status" to row. */
typedef struct {
    flow_stats_t *out;
    size_t rows_cap;
    zhashx_t *row_index; /* key -> row index + 1 */
    uint64_t *accept;
    size_t n_accept, cap_accept;
    uint64_t *contact;
    size_t n_contact, cap_contact;
} flow_acc_t;

static void
flow_push_u64(uint64_t **v, size_t *n, size_t *cap, uint64_t x)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *v = xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = x;
}

static void
flow_count(flow_acc_t *acc, const Refnet__HandoffMeta *m)
{
    char key[2 * WIRE_MAX_IDENT + 16];
    flow_stats_t *out = acc->out;
    snprintf(key, sizeof key, "%s/%s/%d", m->sender, m->receiver, (int)m->status);
    uintptr_t idx = (uintptr_t)zhashx_lookup(acc->row_index, key);
    if (!idx) {
        if (out->nrows == acc->rows_cap) {
            acc->rows_cap = acc->rows_cap ? acc->rows_cap * 2 : 32;
            out->rows = xrealloc(out->rows, acc->rows_cap * sizeof *out->rows);
        }
        flow_row_t *row = &out->rows[out->nrows++];
        snprintf(row->from, sizeof row->from, "%s", m->sender);
        snprintf(row->to, sizeof row->to, "%s", m->receiver);
        row->status = m->status;
        row->count = 0;
        idx = out->nrows;
        zhashx_insert(acc->row_index, key, (void *)idx);
    }
    out->rows[idx - 1].count++;
    out->handoffs++;
    if (m->accepted_at_ms && m->accepted_at_ms >= m->requested_at_ms)
        flow_push_u64(&acc->accept, &acc->n_accept, &acc->cap_accept,
                      m->accepted_at_ms - m->requested_at_ms);
    if (m->first_contact_at_ms && m->first_contact_at_ms >= m->requested_at_ms)
        flow_push_u64(&acc->contact, &acc->n_contact, &acc->cap_contact,
                      m->first_contact_at_ms - m->requested_at_ms);
}

static int
flow_scan(store_t *store, MDB_txn *txn, flow_acc_t *acc)
{
    MDB_cursor *cur = NULL;
    MDB_val key, val;
    int rc = store_err(mdb_cursor_open(txn, bstore_db(store, BSTORE_HANDOFFS), &cur));
    if (rc)
        return rc;
    int mrc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    while (mrc == 0) {
        pbuf_t *pb = NULL;
        if (pbuf_unpack(&pb, &refnet__handoff_meta__descriptor, val.mv_data, val.mv_size,
                        FLOW_MAX_RECORD) == 0)
            flow_count(acc, (const Refnet__HandoffMeta *)pbuf_msg(pb));
        else
            log_warn("flow: skipping an unreadable handoff record");
        pbuf_destroy(&pb);
        mrc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return mrc == MDB_NOTFOUND ? 0 : store_err(mrc);
}

int
flow_stats(store_t *store, MDB_txn *txn, flow_stats_t *out)
{
    flow_acc_t acc = { .out = out };
    memset(out, 0, sizeof *out);
    acc.row_index = zhashx_new();
    int rc = flow_scan(store, txn, &acc);
    if (!rc) {
        if (out->nrows)
            qsort(out->rows, out->nrows, sizeof *out->rows, flow_cmp_row);
        out->accepted_samples = acc.n_accept;
        out->median_accept_ms = flow_median(acc.accept, acc.n_accept);
        out->first_contact_samples = acc.n_contact;
        out->median_first_contact_ms = flow_median(acc.contact, acc.n_contact);
    }
    zhashx_destroy(&acc.row_index);
    free(acc.accept);
    free(acc.contact);
    if (rc)
        flow_stats_clear(out);
    return rc;
}

void
flow_stats_clear(flow_stats_t *stats)
{
    free(stats->rows);
    memset(stats, 0, sizeof *stats);
}
