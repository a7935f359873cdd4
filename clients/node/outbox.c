/* outbox: the node's durable queue of messages for the broker (see outbox.h). */
#include "outbox.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "node_limits.h"
#include "nodedb.h"
#include "refnet_error.h"
#include "uid.h"
#include "wire.h"

/* Records are read back with the bounded decoder: an item is an envelope plus a little. */
#define OUTBOX_MAX_RECORD (WIRE_MAX_FRAME + 1024)
#define OUTBOX_KEY_SEQ    "outbox_seq"

/* The next key: one above the highest ever given, kept in meta "outbox_seq". Keys are never
 * reused, even after the outbox empties, because the link remembers the highest key it has
 * sent in a session and only sends keys above it. */
static int
outbox_next_key(MDB_txn *txn, const store_t *st, uint64_t *out)
{
    uint64_t last = 0;
    int rc = store_get_u64(txn, store_db(st, NODEDB_META), OUTBOX_KEY_SEQ, &last);
    if (rc != 0)
        return rc;
    if (last == UINT64_MAX)
        return REFNET_EFULL;
    *out = last + 1;
    return store_put_u64(txn, store_db(st, NODEDB_META), OUTBOX_KEY_SEQ, *out);
}

int
outbox_add(MDB_txn *txn,
           const store_t *st,
           Refnet__Envelope *env,
           const char *handoff_id,
           uint64_t now,
           uint8_t msg_id_out[UID_MSGID_LEN],
           uint64_t *key_out)
{
    uint8_t msg_id[UID_MSGID_LEN];
    uint8_t kbuf[8];
    uint8_t *bytes = NULL;
    size_t len = 0, count = 0;
    uint64_t key = 0;
    Refnet__OutboxItem item = REFNET__OUTBOX_ITEM__INIT;

    int rc = outbox_count(txn, st, &count);
    if (rc != 0)
        goto out;
    if (count >= NODE_OUTBOX_MAX) {
        rc = REFNET_EQUEUEFULL;
        goto out;
    }
    /* As wire_stamp(), with a time-ordered id: the broker's msg_id index, this node's outbox
     * index and the recipient's "seen" index all grow at their end instead of at a random
     * page each. */
    uid_msgid_ordered(NULL, msg_id);
    env->version = WIRE_VERSION;
    env->msg_id.data = msg_id;
    env->msg_id.len = UID_MSGID_LEN;
    env->sent_at_ms = clock_now_ms();
    rc = wire_encode(env, &bytes, &len);
    if (rc != 0)
        goto out;
    rc = outbox_next_key(txn, st, &key);
    if (rc != 0)
        goto out;
    item.envelope.data = bytes;
    item.envelope.len = len;
    item.msg_id.data = msg_id;
    item.msg_id.len = sizeof msg_id;
    item.created_at_ms = now;
    item.handoff_id = (char *)(handoff_id ? handoff_id : "");
    store_u64_key(kbuf, key);
    rc = store_put_msg(txn, store_db(st, NODEDB_OUTBOX), kbuf, sizeof kbuf, &item.base);
    if (rc != 0)
        goto out;
    rc = store_put(txn, store_db(st, NODEDB_OUTBOX_IDS), msg_id, sizeof msg_id, kbuf, sizeof kbuf,
                   0);
    if (rc != 0)
        goto out;
    if (msg_id_out)
        memcpy(msg_id_out, msg_id, sizeof msg_id);
    if (key_out)
        *key_out = key;
out:
    free(bytes);
    return rc;
}

int
outbox_get(MDB_txn *txn, const store_t *st, uint64_t key, pbuf_t **out)
{
    uint8_t kbuf[8];
    store_u64_key(kbuf, key);
    return store_get_msg(txn, store_db(st, NODEDB_OUTBOX), kbuf, sizeof kbuf,
                         &refnet__outbox_item__descriptor, out);
}

int
outbox_find(MDB_txn *txn, const store_t *st, const uint8_t *msg_id, size_t len, uint64_t *key_out)
{
    MDB_val v;
    if (len != UID_MSGID_LEN)
        return REFNET_ENOTFOUND;
    int rc = store_get(txn, store_db(st, NODEDB_OUTBOX_IDS), msg_id, len, &v);
    if (rc != 0)
        return rc;
    if (v.mv_size != 8)
        return REFNET_EDECODE;
    *key_out = store_key_u64(v.mv_data);
    return 0;
}

int
outbox_remove(MDB_txn *txn, const store_t *st, uint64_t key)
{
    pbuf_t *pb = NULL;
    uint8_t kbuf[8];
    int rc = outbox_get(txn, st, key, &pb);
    if (rc != 0)
        return rc;
    const Refnet__OutboxItem *item = (const Refnet__OutboxItem *)pbuf_msg(pb);
    if (item->msg_id.len == UID_MSGID_LEN) {
        rc = store_del(txn, store_db(st, NODEDB_OUTBOX_IDS), item->msg_id.data, item->msg_id.len);
        if (rc != 0 && rc != REFNET_ENOTFOUND)
            goto out;
    }
    store_u64_key(kbuf, key);
    rc = store_del(txn, store_db(st, NODEDB_OUTBOX), kbuf, sizeof kbuf);
out:
    pbuf_destroy(&pb);
    return rc;
}

int
outbox_next(MDB_txn *txn, const store_t *st, uint64_t after, uint64_t *key_out, pbuf_t **out)
{
    MDB_cursor *cur = NULL;
    uint8_t kbuf[8];
    MDB_val k, v;
    int rc;

    if (after == UINT64_MAX)
        return REFNET_ENOTFOUND;
    store_u64_key(kbuf, after + 1);
    k.mv_data = kbuf;
    k.mv_size = sizeof kbuf;
    rc = mdb_cursor_open(txn, store_db(st, NODEDB_OUTBOX), &cur);
    if (rc != 0)
        return store_err(rc);
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) {
        rc = REFNET_ENOTFOUND;
        goto out;
    }
    if (rc != 0) {
        rc = store_err(rc);
        goto out;
    }
    if (k.mv_size != 8) {
        rc = REFNET_EDECODE;
        goto out;
    }
    *key_out = store_key_u64(k.mv_data);
    rc =
        pbuf_unpack(out, &refnet__outbox_item__descriptor, v.mv_data, v.mv_size, OUTBOX_MAX_RECORD);
out:
    mdb_cursor_close(cur);
    return rc;
}

int
outbox_count(MDB_txn *txn, const store_t *st, size_t *out)
{
    return nodedb_count(txn, st, NODEDB_OUTBOX, out);
}
