/* audit: the node's accounting of disclosures as a hash chain (see audit.h). */
#include "audit.h"

#include <pwd.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fields.h"
#include "log.h"
#include "nodedb.h"
#include "pbscan.h"
#include "pbuf.h"
#include "refnet_error.h"
#include "xmalloc.h"

#define AUDIT_KEY_SEQ "audit_seq"
/* An entry holds a few ids and categories: far below this, which bounds the decoder. */
#define AUDIT_MAX_RECORD (16 * 1024)

/* BLAKE2b-256 over `e` encoded with its hash field empty (prev_hash included). */
static void
audit_hash(const Refnet__AuditEntry *e, uint8_t out[AUDIT_HASH_LEN])
{
    Refnet__AuditEntry copy = *e;
    uint8_t *bytes = NULL;
    size_t len = 0;
    copy.hash.data = NULL;
    copy.hash.len = 0;
    pbuf_pack(&copy.base, &bytes, &len);
    crypto_generichash(out, AUDIT_HASH_LEN, bytes, len, NULL, 0);
    free(bytes);
}

/* AuditEntry.hash is its last field (fields.h): an entry's encoding is its encoding with the
 * hash empty, which is what the hash covers, followed by this field. */
#define AUDIT_HASH_TAG ((FIELDS_AUDIT_ENTRY_HASH << 3) | 2) /* wire type 2: length-delimited */

/* Copies the hash of entry `seq` into `prev` (zeros when it has none), reading the one field
 * in place. */
static int
audit_prev_hash(MDB_txn *txn, const store_t *st, uint64_t seq, uint8_t prev[AUDIT_HASH_LEN])
{
    uint8_t key[8];
    MDB_val v;
    const uint8_t *h = NULL;
    size_t hlen = 0;
    store_u64_key(key, seq);
    int rc = store_get(txn, store_db(st, NODEDB_AUDIT), key, sizeof key, &v);
    if (rc == 0) {
        rc = pbscan_bytes(v.mv_data, v.mv_size, FIELDS_AUDIT_ENTRY_HASH, &h, &hlen);
        if (rc == REFNET_ENOTFOUND) {
            rc = 0; /* an entry without a hash chains on zeros, as its empty field did */
            hlen = 0;
        }
    }
    if (rc != 0) {
        log_error("audit: cannot read entry %llu to chain onto: %s", (unsigned long long)seq,
                  refnet_strerror(rc));
        return rc == REFNET_ENOTFOUND || rc == REFNET_EDECODE ? REFNET_ESTORAGE : rc;
    }
    memset(prev, 0, AUDIT_HASH_LEN);
    memcpy(prev, h, hlen < AUDIT_HASH_LEN ? hlen : AUDIT_HASH_LEN);
    return 0;
}

/* Writes `e` (hash empty) under its seq with its hash: packed once, hashed, the hash field
 * appended. */
static int
audit_put(MDB_txn *txn, const store_t *st, const Refnet__AuditEntry *e)
{
    uint8_t key[8];
    size_t body = protobuf_c_message_get_packed_size(&e->base);
    size_t len = body + 2 + AUDIT_HASH_LEN;
    uint8_t *bytes = xmalloc(len);
    protobuf_c_message_pack(&e->base, bytes);
    crypto_generichash(bytes + body + 2, AUDIT_HASH_LEN, bytes, body, NULL, 0);
    bytes[body] = AUDIT_HASH_TAG;
    bytes[body + 1] = AUDIT_HASH_LEN;
    store_u64_key(key, e->seq);
    int rc = store_put(txn, store_db(st, NODEDB_AUDIT), key, sizeof key, bytes, len, 0);
    free(bytes);
    return rc;
}

int
audit_append(MDB_txn *txn, const store_t *st, Refnet__AuditEntry *e)
{
    uint8_t prev[AUDIT_HASH_LEN];
    uint64_t last = 0;
    int rc = store_get_u64(txn, store_db(st, NODEDB_META), AUDIT_KEY_SEQ, &last);
    if (rc != 0)
        return rc;
    e->prev_hash.data = NULL;
    e->prev_hash.len = 0;
    if (last > 0) {
        rc = audit_prev_hash(txn, st, last, prev);
        if (rc != 0)
            return rc;
        e->prev_hash.data = prev;
        e->prev_hash.len = sizeof prev;
    }
    e->seq = last + 1;
    e->hash.data = NULL;
    e->hash.len = 0;
    rc = audit_put(txn, st, e);
    if (rc == 0)
        rc = store_put_u64(txn, store_db(st, NODEDB_META), AUDIT_KEY_SEQ, e->seq);
    e->prev_hash.data = NULL;
    e->prev_hash.len = 0;
    return rc;
}

/* Checks one stored entry found under key `seq`, expected to be entry `want` chained onto
 * `prev` (prev_len 0 for the first). Returns the fault; copies its hash into `prev`. */
static audit_fault_t
audit_check_one(const MDB_val *v, uint64_t seq, uint64_t want, uint8_t *prev, size_t *prev_len)
{
    uint8_t hash[AUDIT_HASH_LEN];
    pbuf_t *pb = NULL;
    audit_fault_t f = AUDIT_OK;
    if (seq != want)
        return AUDIT_REMOVED;
    if (pbuf_unpack(&pb, &refnet__audit_entry__descriptor, v->mv_data, v->mv_size,
                    AUDIT_MAX_RECORD) != 0)
        return AUDIT_ALTERED;
    const Refnet__AuditEntry *e = (const Refnet__AuditEntry *)pbuf_msg(pb);
    audit_hash(e, hash);
    if (e->hash.len != sizeof hash || sodium_memcmp(e->hash.data, hash, sizeof hash) != 0)
        f = AUDIT_ALTERED;
    else if (e->seq != seq)
        f = AUDIT_REORDERED;
    else if (e->prev_hash.len != *prev_len ||
             (*prev_len && memcmp(e->prev_hash.data, prev, *prev_len) != 0))
        f = AUDIT_BROKEN;
    if (f == AUDIT_OK) {
        memcpy(prev, hash, sizeof hash);
        *prev_len = sizeof hash;
    }
    pbuf_destroy(&pb);
    return f;
}

int
audit_verify(MDB_txn *txn, const store_t *st, audit_check_t *out)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    uint8_t prev[AUDIT_HASH_LEN];
    size_t prev_len = 0;
    uint64_t want = 1, head = 0;
    memset(out, 0, sizeof *out);
    int rc = store_get_u64(txn, store_db(st, NODEDB_META), AUDIT_KEY_SEQ, &head);
    if (rc == 0)
        rc = store_err(mdb_cursor_open(txn, store_db(st, NODEDB_AUDIT), &cur));
    int mrc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : MDB_NOTFOUND;
    for (; rc == 0 && mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        out->entries++;
        if (out->fault != AUDIT_OK)
            continue;
        uint64_t seq = k.mv_size == 8 ? store_key_u64(k.mv_data) : 0;
        out->fault = audit_check_one(&v, seq, want, prev, &prev_len);
        if (out->fault != AUDIT_OK)
            out->first_bad = want;
        want++;
    }
    if (rc == 0 && mrc != MDB_NOTFOUND)
        rc = store_err(mrc);
    /* Entries cut off the end leave the head seq above the last one. */
    if (rc == 0 && out->fault == AUDIT_OK && head >= want) {
        out->fault = AUDIT_REMOVED;
        out->first_bad = want;
    }
    if (cur)
        mdb_cursor_close(cur);
    return rc;
}

int
audit_each(MDB_txn *txn,
           const store_t *st,
           int (*visit)(void *ctx, const Refnet__AuditEntry *e),
           void *ctx)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc = store_err(mdb_cursor_open(txn, store_db(st, NODEDB_AUDIT), &cur));
    int mrc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : MDB_NOTFOUND;
    for (; rc == 0 && mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        pbuf_t *pb = NULL;
        if (pbuf_unpack(&pb, &refnet__audit_entry__descriptor, v.mv_data, v.mv_size,
                        AUDIT_MAX_RECORD) != 0)
            continue; /* audit_verify reports it */
        rc = visit(ctx, (const Refnet__AuditEntry *)pbuf_msg(pb));
        pbuf_destroy(&pb);
    }
    if (rc == 0 && mrc != MDB_NOTFOUND)
        rc = store_err(mrc);
    if (cur)
        mdb_cursor_close(cur);
    return rc;
}

void
audit_actor(char out[AUDIT_ACTOR_LEN])
{
    /* The API socket is mode 0600, so the calling user is the daemon's own user. */
    struct passwd pw, *res = NULL;
    char buf[1024];
    const char *name = getlogin();
    if (!name && getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 && res)
        name = res->pw_name;
    snprintf(out, AUDIT_ACTOR_LEN, "%s", name && *name ? name : AUDIT_ACTOR_NODE);
}

const char *
audit_event_name(Refnet__AuditEvent ev)
{
    switch (ev) {
    case REFNET__AUDIT_EVENT__AUDIT_EVENT_CONSENT_GRANTED:
        return "consent-granted";
    case REFNET__AUDIT_EVENT__AUDIT_EVENT_CONSENT_REVOKED:
        return "consent-revoked";
    case REFNET__AUDIT_EVENT__AUDIT_EVENT_DISCLOSURE_SENT:
        return "disclosure-sent";
    case REFNET__AUDIT_EVENT__AUDIT_EVENT_DATA_RECEIVED:
        return "data-received";
    case REFNET__AUDIT_EVENT__AUDIT_EVENT_CONSENT_EXPIRED:
        return "consent-expired";
    case REFNET__AUDIT_EVENT__AUDIT_EVENT_REVOCATION_SENT:
        return "revocation-sent";
    case REFNET__AUDIT_EVENT__AUDIT_EVENT_REVOCATION_ACKED:
        return "revocation-acknowledged";
    case REFNET__AUDIT_EVENT__AUDIT_EVENT_DATA_RESTRICTED:
        return "data-restricted";
    default:
        return "unknown";
    }
}

const char *
audit_fault_name(audit_fault_t f)
{
    static const char *const names[] = {
        [AUDIT_OK] = "ok",           [AUDIT_ALTERED] = "altered",
        [AUDIT_REMOVED] = "removed", [AUDIT_REORDERED] = "reordered",
        [AUDIT_BROKEN] = "broken",
    };
    return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "broken";
}
