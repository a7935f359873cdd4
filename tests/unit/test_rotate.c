/* Unit tests of clients/node/rotate: the pending keys and the KeyRotate queued by
 * rotate_begin, refusing a second rotation while one waits, promotion (previous sealing key
 * kept, mode 0600), recovery after a crash at each point, and abandoning a refused rotation.
 * Real files and a real node store in a mkdtemp() folder laid out like a node's (DIR/db). */
#include "test_node_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "keys.h"
#include "outbox.h"
#include "path.h"
#include "peerkeys.h"
#include "refnet_error.h"
#include "rotate.h"
#include "wire.h"

typedef struct {
    char dir[64];
    char db[96];
    store_t *st;
    char curve0[KEYS_Z85_LEN];
    uint8_t box0[SEAL_KEY_LEN];
} rt_t;

static int
setup(void **state)
{
    rt_t *t = xcalloc(1, sizeof *t);
    uint8_t sk[SEAL_KEY_LEN];
    snprintf(t->dir, sizeof t->dir, "/tmp/refnet-test-rotate.XXXXXX");
    snprintf(t->db, sizeof t->db, "%s/db", mkdtemp(t->dir));
    if (mkdir(t->db, 0700) != 0 || nodedb_open(&t->st, t->db, NFX_MAP_BYTES) != 0 ||
        keys_create(t->dir, "agency", t->curve0) != 0 || peerkeys_own(t->dir, t->box0, sk) != 0)
        return -1;
    *state = t;
    return 0;
}

static int
teardown(void **state)
{
    rt_t *t = *state;
    store_destroy(&t->st);
    nfx_rmrf(t->dir);
    free(t);
    return 0;
}

static bool
exists(rt_t *t, const char *name)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", t->dir, name);
    return path_exists(path);
}

static int
mode_of(rt_t *t, const char *name)
{
    char path[160];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", t->dir, name);
    return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static int
begin(rt_t *t, uint8_t msg_id[UID_MSGID_LEN])
{
    MDB_txn *txn = NULL;
    int rc = store_begin(t->st, false, &txn);
    if (rc == 0)
        rc = rotate_begin(t->dir, txn, t->st, clock_now_ms(), msg_id);
    if (rc == 0)
        rc = store_commit(&txn);
    store_abort(&txn);
    return rc;
}

/* The outbox's first item: the KeyRotate with msg_id `id`, naming the pending keys. */
static void
assert_queued(rt_t *t, const uint8_t id[UID_MSGID_LEN])
{
    MDB_txn *txn = NULL;
    pbuf_t *pb = NULL, *env = NULL;
    uint64_t key = 0;
    char curve[KEYS_Z85_LEN], why[WIRE_WHY_LEN], seal[160];
    uint8_t box[SEAL_KEY_LEN], sk[SEAL_KEY_LEN];
    assert_int_equal(store_begin(t->st, true, &txn), 0);
    assert_int_equal(outbox_find(txn, t->st, id, UID_MSGID_LEN, &key), 0);
    assert_int_equal(outbox_get(txn, t->st, key, &pb), 0);
    const Refnet__OutboxItem *item = (const Refnet__OutboxItem *)pbuf_msg(pb);
    assert_int_equal(wire_decode(item->envelope.data, item->envelope.len, &env, why), 0);
    const Refnet__Envelope *e = (const Refnet__Envelope *)pbuf_msg(env);
    assert_int_equal(e->body_case, REFNET__ENVELOPE__BODY_KEY_ROTATE);
    assert_int_equal(keys_load_public(t->dir, ROTATE_PENDING_KEY, curve), 0);
    assert_string_equal(e->key_rotate->curve_public_key, curve);
    snprintf(seal, sizeof seal, "%s/%s", t->dir, ROTATE_SEAL_FILE);
    assert_int_equal(seal_box_load(seal, box, sk), 0);
    assert_memory_equal(e->key_rotate->box_public_key.data, box, SEAL_KEY_LEN);
    pbuf_destroy(&env);
    pbuf_destroy(&pb);
    store_abort(&txn);
}

static void
test_begin_commit(void **state)
{
    rt_t *t = *state;
    uint8_t id[UID_MSGID_LEN], id2[UID_MSGID_LEN], got[UID_MSGID_LEN], box[SEAL_KEY_LEN];
    uint8_t sk[SEAL_KEY_LEN];
    char curve[KEYS_Z85_LEN];
    assert_false(rotate_pending(t->dir, got));
    assert_int_equal(begin(t, id), 0);
    assert_true(rotate_pending(t->dir, got));
    assert_memory_equal(got, id, UID_MSGID_LEN);
    assert_queued(t, id);
    assert_int_equal(mode_of(t, ROTATE_SEAL_FILE), 0600);
    assert_int_equal(mode_of(t, ROTATE_PENDING_KEY ".cert_secret"), 0600);
    /* One rotation at a time while the broker has not answered. */
    assert_int_equal(begin(t, id2), REFNET_EEXIST);
    /* Nothing has changed yet: the node still uses its old keys. */
    assert_int_equal(keys_load_public(t->dir, "agency", curve), 0);
    assert_string_equal(curve, t->curve0);

    assert_int_equal(rotate_commit(t->dir), 0);
    assert_false(rotate_pending(t->dir, got));
    assert_false(exists(t, ROTATE_SEAL_FILE) || exists(t, ROTATE_OK_FILE) ||
                 exists(t, ROTATE_PENDING_KEY ".cert"));
    assert_int_equal(keys_load_public(t->dir, "agency", curve), 0);
    assert_string_not_equal(curve, t->curve0);
    assert_int_equal(peerkeys_own(t->dir, box, sk), 0);
    assert_memory_not_equal(box, t->box0, SEAL_KEY_LEN);
    char prev[160];
    snprintf(prev, sizeof prev, "%s/%s", t->dir, PEERKEYS_FILE_PREV);
    assert_int_equal(seal_box_load(prev, box, sk), 0);
    assert_memory_equal(box, t->box0, SEAL_KEY_LEN);
    assert_int_equal(mode_of(t, PEERKEYS_FILE_PREV), 0600);
    assert_int_equal(mode_of(t, "agency.cert_secret"), 0600);
}

static void
test_recover_after_a_crash(void **state)
{
    rt_t *t = *state;
    uint8_t id[UID_MSGID_LEN], got[UID_MSGID_LEN], box[SEAL_KEY_LEN], sk[SEAL_KEY_LEN];
    char curve[KEYS_Z85_LEN], pending[KEYS_Z85_LEN], a[160], b[160];
    assert_int_equal(begin(t, id), 0);
    assert_int_equal(keys_load_public(t->dir, ROTATE_PENDING_KEY, pending), 0);
    /* Stopped before the broker answered: nothing to recover, the rotation still waits. */
    assert_int_equal(rotate_recover(t->dir), 0);
    assert_true(rotate_pending(t->dir, got));
    /* The broker said OK and the node stopped half-way through the promotion: the sealing key
     * moved already, the CURVE key not yet. */
    FILE *f = fopen(strcat(strcpy(a, t->dir), "/" ROTATE_OK_FILE), "w");
    assert_non_null(f);
    fclose(f);
    snprintf(a, sizeof a, "%s/%s", t->dir, PEERKEYS_FILE);
    snprintf(b, sizeof b, "%s/%s", t->dir, PEERKEYS_FILE_PREV);
    assert_int_equal(link(a, b), 0);
    snprintf(b, sizeof b, "%s/%s", t->dir, ROTATE_SEAL_FILE);
    assert_int_equal(rename(b, a), 0);
    assert_int_equal(rotate_recover(t->dir), 0);
    assert_int_equal(keys_load_public(t->dir, "agency", curve), 0);
    assert_string_equal(curve, pending);
    assert_int_equal(seal_box_load(b, box, sk), REFNET_ENOTFOUND);
    snprintf(b, sizeof b, "%s/%s", t->dir, PEERKEYS_FILE_PREV);
    assert_int_equal(seal_box_load(b, box, sk), 0);
    assert_memory_equal(box, t->box0, SEAL_KEY_LEN); /* not overwritten by the new key */
    assert_false(rotate_pending(t->dir, got));
    assert_false(exists(t, ROTATE_OK_FILE));
}

static void
test_abandon_and_resume(void **state)
{
    rt_t *t = *state;
    uint8_t id[UID_MSGID_LEN], id2[UID_MSGID_LEN], got[UID_MSGID_LEN];
    char curve[KEYS_Z85_LEN], pending[KEYS_Z85_LEN], pending2[KEYS_Z85_LEN];
    MDB_txn *txn = NULL;
    uint64_t key = 0;
    /* A refused rotation leaves the old keys and no trace. */
    assert_int_equal(begin(t, id), 0);
    rotate_abandon(t->dir);
    assert_false(rotate_pending(t->dir, got));
    assert_false(exists(t, ROTATE_SEAL_FILE) || exists(t, ROTATE_PENDING_KEY ".cert_secret"));
    assert_int_equal(keys_load_public(t->dir, "agency", curve), 0);
    assert_string_equal(curve, t->curve0);
    /* A request that left the outbox without an answer (its item is gone) is queued again,
     * with the same pending keys. */
    assert_int_equal(begin(t, id), 0);
    assert_int_equal(keys_load_public(t->dir, ROTATE_PENDING_KEY, pending), 0);
    assert_int_equal(store_begin(t->st, false, &txn), 0);
    assert_int_equal(outbox_find(txn, t->st, id, UID_MSGID_LEN, &key), 0);
    assert_int_equal(outbox_remove(txn, t->st, key), 0);
    assert_int_equal(store_commit(&txn), 0);
    assert_int_equal(begin(t, id2), 0);
    assert_memory_not_equal(id, id2, UID_MSGID_LEN);
    assert_true(rotate_pending(t->dir, got));
    assert_memory_equal(got, id2, UID_MSGID_LEN);
    assert_int_equal(keys_load_public(t->dir, ROTATE_PENDING_KEY, pending2), 0);
    assert_string_equal(pending, pending2);
    assert_queued(t, id2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_begin_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_after_a_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abandon_and_resume, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
