/* agencies: enrolment records, key lookup and zauth's certificate folder (see agencies.h). */
#include "agencies.h"

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_limits.h"
#include "bstore.h"
#include "log.h"
#include "path.h"
#include "records.pb-c.h"
#include "refnet_error.h"
#include "validate.h"
#include "wire.h"
#include "xmalloc.h"

/* An AgencyRecord is a few hundred bytes; anything larger on disk is corruption. */
#define AGENCIES_MAX_RECORD 4096

struct agencies {
    store_t *store; /* borrowed */
    char certs_dir[PATH_MAX_LEN];
    uint64_t gen; /* meta enroll_gen of the loaded table */
    agencies_entry_t *entries;
    size_t n;
    zhashx_t *by_key; /* Z85 key -> entry (borrowed) */
    zhashx_t *by_id;  /* agency id -> entry (borrowed) */
    zhashx_t *all;    /* agency id -> entry, revoked ones too (borrowed) */
};

static void
agencies_why(char *why, const char *sentence)
{
    if (why)
        snprintf(why, WIRE_WHY_LEN, "%s", sentence);
}

/* ---- enrolment (LMDB only) ---------------------------------------------------------------- */

static int
agencies_check_input(const char *id, const char *name, const char *key_z85, char *why)
{
    if (!validate_ident(id)) {
        agencies_why(why, "the agency id must be 1 to 64 characters from A-Z a-z 0-9 . _ : -");
        return REFNET_EINVAL;
    }
    if (strcmp(id, AGENCIES_ADMIN_NAME) == 0 || strcmp(id, "broker") == 0) {
        agencies_why(why, "the agency ids 'admin' and 'broker' are reserved");
        return REFNET_EINVAL;
    }
    if (!validate_text(name, 1, WIRE_MAX_NAME)) {
        agencies_why(why, "the agency name must be 1 to 200 bytes of UTF-8 text");
        return REFNET_EINVAL;
    }
    if (!keys_z85_valid(key_z85)) {
        agencies_why(why, "the key must be a CURVE public key: 40 Z85 characters");
        return REFNET_EINVAL;
    }
    return 0;
}

/* Refuses a key that another agency holds; returns 0 when it is free or already `id`'s. */
static int
agencies_check_key(store_t *store, MDB_txn *txn, const char *id, const char *key_z85, char *why)
{
    char *owner = NULL;
    int rc = store_get_str(txn, bstore_db(store, BSTORE_KEYS), key_z85, &owner);
    if (rc == REFNET_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (strcmp(owner, id) != 0) {
        agencies_why(why, "this key is already enrolled for another agency");
        rc = REFNET_EEXIST;
    }
    free(owner);
    return rc;
}

static int
agencies_check_room(store_t *store, MDB_txn *txn, char *why)
{
    MDB_stat st;
    if (mdb_stat(txn, bstore_db(store, BSTORE_AGENCIES), &st) != 0)
        return REFNET_ESTORAGE;
    if (st.ms_entries < BROKER_MAX_AGENCIES)
        return 0;
    agencies_why(why, "the network already has the maximum number of agencies (10000)");
    return REFNET_EINVAL;
}

static int
agencies_get_record(store_t *store, MDB_txn *txn, const char *id, pbuf_t **out)
{
    return store_get_msg(txn, bstore_db(store, BSTORE_AGENCIES), id, strlen(id),
                         &refnet__agency_record__descriptor, out);
}

static int
agencies_bump_gen(store_t *store, MDB_txn *txn)
{
    uint64_t gen = 0;
    MDB_dbi meta = bstore_db(store, BSTORE_META);
    int rc = store_get_u64(txn, meta, BSTORE_META_ENROLL_GEN, &gen);
    if (!rc)
        rc = store_put_u64(txn, meta, BSTORE_META_ENROLL_GEN, gen + 1);
    return rc;
}

int
agencies_enroll(store_t *store,
                MDB_txn *txn,
                const char *id,
                const char *name,
                const char *key_z85,
                uint64_t now_ms,
                char *why)
{
    pbuf_t *old = NULL;
    Refnet__AgencyRecord rec = REFNET__AGENCY_RECORD__INIT;
    if (!name || !name[0])
        name = id;
    int rc = agencies_check_input(id, name, key_z85, why);
    if (!rc)
        rc = agencies_check_key(store, txn, id, key_z85, why);
    if (!rc)
        rc = agencies_get_record(store, txn, id, &old);
    if (rc == REFNET_ENOTFOUND)
        rc = agencies_check_room(store, txn, why);
    if (rc)
        goto out;
    if (old) {
        const Refnet__AgencyRecord *prev = (const Refnet__AgencyRecord *)pbuf_msg(old);
        rec.last_seen_ms = prev->last_seen_ms;
        /* Re-enrolment with a new key: the old key must stop working. */
        if (strcmp(prev->public_key, key_z85) != 0) {
            rc = store_del(txn, bstore_db(store, BSTORE_KEYS), prev->public_key,
                           strlen(prev->public_key));
            if (rc == REFNET_ENOTFOUND)
                rc = 0;
            if (rc)
                goto out;
        }
    }
    rec.id = (char *)id;
    rec.name = (char *)name;
    rec.public_key = (char *)key_z85;
    rec.enrolled_at_ms = now_ms;
    rc = store_put_msg(txn, bstore_db(store, BSTORE_AGENCIES), id, strlen(id), &rec.base);
    if (!rc)
        rc = store_put_str(txn, bstore_db(store, BSTORE_KEYS), key_z85, id);
    if (!rc)
        rc = agencies_bump_gen(store, txn);
out:
    pbuf_destroy(&old);
    return rc;
}

int
agencies_save_last_seen(store_t *store, MDB_txn *txn, const char *id, uint64_t last_seen_ms)
{
    pbuf_t *pb = NULL;
    int rc = agencies_get_record(store, txn, id, &pb);
    if (rc)
        return rc;
    Refnet__AgencyRecord *rec = (Refnet__AgencyRecord *)pbuf_msg(pb);
    rec->last_seen_ms = last_seen_ms;
    rc = store_put_msg(txn, bstore_db(store, BSTORE_AGENCIES), id, strlen(id), &rec->base);
    pbuf_destroy(&pb);
    return rc;
}

/* ---- revocation and rotation ---------------------------------------------------------- */

/* Signs the revocation when the agency has a sealing key, so nodes can verify the mark. */
static void
agencies_sign_revocation(Refnet__AgencyRecord *rec,
                         const uint8_t sign_sk[SEAL_SIGN_SECRET_LEN],
                         uint8_t sig[SEAL_SIGNATURE_LEN])
{
    if (rec->box_public_key.len != SEAL_KEY_LEN || !sign_sk)
        return;
    seal_sign_agency_revoked(rec->id, rec->box_public_key.data, rec->box_key_at_ms,
                             rec->revoked_at_ms, sign_sk, sig);
    rec->revoked_sig.data = sig;
    rec->revoked_sig.len = SEAL_SIGNATURE_LEN;
}

int
agencies_revoke(store_t *store,
                MDB_txn *txn,
                const char *id,
                uint64_t now_ms,
                const uint8_t sign_sk[SEAL_SIGN_SECRET_LEN],
                bool *already,
                char *why)
{
    pbuf_t *pb = NULL;
    uint8_t sig[SEAL_SIGNATURE_LEN];
    *already = false;
    int rc = validate_ident(id) ? agencies_get_record(store, txn, id, &pb) : REFNET_ENOTFOUND;
    if (rc == REFNET_ENOTFOUND)
        agencies_why(why, "no agency with that id is enrolled");
    if (rc)
        return rc;
    Refnet__AgencyRecord *rec = (Refnet__AgencyRecord *)pbuf_msg(pb);
    ProtobufCBinaryData old_sig = rec->revoked_sig;
    if (rec->revoked_at_ms) {
        *already = true;
        goto out;
    }
    rec->revoked_at_ms = now_ms;
    agencies_sign_revocation(rec, sign_sk, sig);
    rc = store_put_msg(txn, bstore_db(store, BSTORE_AGENCIES), id, strlen(id), &rec->base);
    rec->revoked_sig = old_sig; /* the decoder owns the record's memory */
    if (!rc)
        rc =
            store_del(txn, bstore_db(store, BSTORE_KEYS), rec->public_key, strlen(rec->public_key));
    if (rc == REFNET_ENOTFOUND)
        rc = 0;
    if (!rc)
        rc = agencies_bump_gen(store, txn);
out:
    pbuf_destroy(&pb);
    return rc;
}

int
agencies_rotate(
    store_t *store, MDB_txn *txn, const char *id, const char *key_z85, bool *changed, char *why)
{
    pbuf_t *pb = NULL;
    *changed = false;
    if (!keys_z85_valid(key_z85)) {
        agencies_why(why, "the new key must be a CURVE public key: 40 Z85 characters");
        return REFNET_EINVAL;
    }
    int rc = agencies_check_key(store, txn, id, key_z85, why);
    if (!rc)
        rc = agencies_get_record(store, txn, id, &pb);
    if (rc)
        return rc;
    Refnet__AgencyRecord *rec = (Refnet__AgencyRecord *)pbuf_msg(pb);
    char *old_key = rec->public_key;
    if (rec->revoked_at_ms) {
        agencies_why(why, "this agency is revoked");
        rc = REFNET_ENOTFOUND;
        goto out;
    }
    if (strcmp(old_key, key_z85) == 0)
        goto out;
    rc = store_del(txn, bstore_db(store, BSTORE_KEYS), old_key, strlen(old_key));
    if (rc == REFNET_ENOTFOUND)
        rc = 0;
    rec->public_key = (char *)key_z85;
    if (!rc)
        rc = store_put_msg(txn, bstore_db(store, BSTORE_AGENCIES), id, strlen(id), &rec->base);
    rec->public_key = old_key;
    if (!rc)
        rc = store_put_str(txn, bstore_db(store, BSTORE_KEYS), key_z85, id);
    if (!rc)
        rc = agencies_bump_gen(store, txn);
    *changed = rc == 0;
out:
    pbuf_destroy(&pb);
    return rc;
}

/* ---- in-memory table ---------------------------------------------------------------------- */

static void
agencies_clear(agencies_t *self)
{
    zhashx_purge(self->by_key);
    zhashx_purge(self->by_id);
    zhashx_purge(self->all);
    free(self->entries);
    self->entries = NULL;
    self->n = 0;
}

/* Copies one record into the table; skips malformed records with a warning. */
static void
agencies_add(agencies_t *self, const MDB_val *val, size_t *cap)
{
    pbuf_t *pb = NULL;
    if (pbuf_unpack(&pb, &refnet__agency_record__descriptor, val->mv_data, val->mv_size,
                    AGENCIES_MAX_RECORD) != 0) {
        log_warn("agencies: skipping an unreadable agency record");
        return;
    }
    const Refnet__AgencyRecord *rec = (const Refnet__AgencyRecord *)pbuf_msg(pb);
    if (validate_ident(rec->id) && keys_z85_valid(rec->public_key)) {
        if (self->n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            self->entries = xrealloc(self->entries, *cap * sizeof *self->entries);
        }
        agencies_entry_t *e = &self->entries[self->n++];
        snprintf(e->id, sizeof e->id, "%s", rec->id);
        snprintf(e->name, sizeof e->name, "%s", rec->name);
        snprintf(e->key, sizeof e->key, "%s", rec->public_key);
        e->enrolled_at_ms = rec->enrolled_at_ms;
        e->last_seen_ms = rec->last_seen_ms;
        e->revoked_at_ms = rec->revoked_at_ms;
    }
    pbuf_destroy(&pb);
}

/* LMDB returns the keys in byte order, so the table comes out sorted by id. */
static int
agencies_load(agencies_t *self, MDB_txn *txn)
{
    MDB_cursor *cur = NULL;
    MDB_val key, val;
    size_t cap = 0;
    int rc = store_err(mdb_cursor_open(txn, bstore_db(self->store, BSTORE_AGENCIES), &cur));
    if (rc)
        return rc;
    agencies_clear(self);
    int mrc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    while (mrc == 0 && self->n < BROKER_MAX_AGENCIES) {
        agencies_add(self, &val, &cap);
        mrc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (mrc != 0 && mrc != MDB_NOTFOUND)
        return store_err(mrc);
    for (size_t i = 0; i < self->n; i++) {
        agencies_entry_t *e = &self->entries[i];
        zhashx_insert(self->all, e->id, e);
        if (e->revoked_at_ms)
            continue; /* a revoked agency's key names no sender and reaches no zauth */
        zhashx_insert(self->by_key, e->key, e);
        zhashx_insert(self->by_id, e->id, e);
    }
    return 0;
}

/* ---- certificate folder ------------------------------------------------------------------- */

static int
agencies_write_cert(agencies_t *self, const agencies_entry_t *e)
{
    char current[KEYS_Z85_LEN], file[WIRE_MAX_IDENT + 8];
    if (keys_load_public(self->certs_dir, e->id, current) == 0 && strcmp(current, e->key) == 0)
        return 0;
    snprintf(file, sizeof file, "%s.cert", e->id);
    int rc = keys_write_public(self->certs_dir, file, e->key, e->id);
    if (rc)
        log_error("agencies: cannot write %s/%s: %s", self->certs_dir, file, refnet_strerror(rc));
    return rc;
}

/* A "<name>.cert" file that is neither admin.cert nor an enrolled agency's is stale. */
static bool
agencies_is_stale(const agencies_t *self, const char *file)
{
    char id[WIRE_MAX_IDENT + 1];
    size_t len = strlen(file);
    if (len <= 5 || strcmp(file + len - 5, ".cert") != 0 || len - 5 > WIRE_MAX_IDENT)
        return false;
    snprintf(id, sizeof id, "%.*s", (int)(len - 5), file);
    return strcmp(id, AGENCIES_ADMIN_NAME) != 0 && !zhashx_lookup(self->by_id, id);
}

static int
agencies_remove_stale(agencies_t *self)
{
    char path[PATH_MAX_LEN];
    DIR *dir = opendir(self->certs_dir);
    if (!dir) {
        log_error("agencies: cannot read %s: %s", self->certs_dir, strerror(errno));
        return -errno;
    }
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (!agencies_is_stale(self, de->d_name))
            continue;
        if (path_join(path, sizeof path, self->certs_dir, de->d_name) == 0 && unlink(path) == 0)
            log_info("agencies: removed %s, which no enrolment backs", de->d_name);
    }
    closedir(dir);
    return 0;
}

static int
agencies_sync_certs(agencies_t *self)
{
    int rc = path_mkdir(self->certs_dir, 0755);
    for (size_t i = 0; !rc && i < self->n; i++)
        if (!self->entries[i].revoked_at_ms)
            rc = agencies_write_cert(self, &self->entries[i]);
    if (!rc)
        rc = agencies_remove_stale(self);
    return rc;
}

/* ---- lifecycle and lookups ---------------------------------------------------------------- */

static int
agencies_reload(agencies_t *self, uint64_t *gen_out)
{
    MDB_txn *txn = NULL;
    int rc = store_begin(self->store, true, &txn);
    if (!rc)
        rc = store_get_u64(txn, bstore_db(self->store, BSTORE_META), BSTORE_META_ENROLL_GEN,
                           gen_out);
    if (!rc && *gen_out != self->gen)
        rc = agencies_load(self, txn);
    store_abort(&txn);
    return rc;
}

int
agencies_open(agencies_t **out, store_t *store, const char *certs_dir)
{
    agencies_t *self = xcalloc(1, sizeof *self);
    uint64_t gen = 0;
    self->store = store;
    self->by_key = zhashx_new();
    self->by_id = zhashx_new();
    self->all = zhashx_new();
    snprintf(self->certs_dir, sizeof self->certs_dir, "%s", certs_dir);
    self->gen = UINT64_MAX; /* forces the first load */
    int rc = agencies_reload(self, &gen);
    if (!rc)
        rc = agencies_sync_certs(self);
    if (rc) {
        agencies_destroy(&self);
        return rc;
    }
    self->gen = gen;
    *out = self;
    return 0;
}

void
agencies_destroy(agencies_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    agencies_t *self = *self_p;
    zhashx_destroy(&self->by_key);
    zhashx_destroy(&self->by_id);
    zhashx_destroy(&self->all);
    free(self->entries);
    free(self);
    *self_p = NULL;
}

int
agencies_refresh(agencies_t *self, bool *changed)
{
    uint64_t gen = 0;
    *changed = false;
    int rc = agencies_reload(self, &gen);
    if (rc || gen == self->gen)
        return rc;
    rc = agencies_sync_certs(self);
    if (rc)
        return rc;
    self->gen = gen;
    *changed = true;
    log_info("agencies: enrolment changed; %zu agencies on record", self->n);
    return 0;
}

const agencies_entry_t *
agencies_by_key(const agencies_t *self, const char *key_z85)
{
    return zhashx_lookup(self->by_key, key_z85);
}

const agencies_entry_t *
agencies_by_id(const agencies_t *self, const char *id)
{
    return zhashx_lookup(self->by_id, id);
}

bool
agencies_is_revoked(const agencies_t *self, const char *id)
{
    const agencies_entry_t *e = zhashx_lookup(self->all, id);
    return e && e->revoked_at_ms != 0;
}

size_t
agencies_count(const agencies_t *self)
{
    return self->n;
}

const agencies_entry_t *
agencies_at(const agencies_t *self, size_t i)
{
    return i < self->n ? &self->entries[i] : NULL;
}
