/* rotate: the steps of a key rotation and their crash recovery (see rotate.h). */
#include "rotate.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "keys.h"
#include "log.h"
#include "nodedb.h"
#include "outbox.h"
#include "path.h"
#include "peerkeys.h"
#include "refnet_error.h"
#include "seal.h"

/* A secret key file is 64 hex characters and a newline; anything much larger is not one. */
#define ROTATE_MAX_FILE 256

static int
rotate_path(char out[PATH_MAX_LEN], const char *dir, const char *name)
{
    return path_join(out, PATH_MAX_LEN, dir, name);
}

/* Writes `len` bytes to DIR/NAME atomically (a synced temporary file renamed over it), mode
 * 0600. */
static int
rotate_write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[PATH_MAX_LEN], tmp[PATH_MAX_LEN + 8];
    int rc = rotate_path(path, dir, name);
    if (rc)
        return rc;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    bool ok = write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    rc = ok ? 0 : -errno;
    close(fd);
    if (!rc && rename(tmp, path) != 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
    return rc;
}

/* Reads DIR/NAME (at most ROTATE_MAX_FILE - 1 bytes) into `buf`, NUL-terminated. */
static int
rotate_read_file(const char *dir, const char *name, char buf[ROTATE_MAX_FILE], size_t *len)
{
    char path[PATH_MAX_LEN];
    int rc = rotate_path(path, dir, name);
    if (rc)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? REFNET_ENOTFOUND : -errno;
    ssize_t n = read(fd, buf, ROTATE_MAX_FILE - 1);
    close(fd);
    if (n < 0)
        return REFNET_EIO;
    buf[n] = '\0';
    *len = (size_t)n;
    return 0;
}

static bool
rotate_exists(const char *dir, const char *name)
{
    char path[PATH_MAX_LEN];
    return rotate_path(path, dir, name) == 0 && path_exists(path);
}

static void
rotate_unlink(const char *dir, const char *name)
{
    char path[PATH_MAX_LEN];
    if (rotate_path(path, dir, name) == 0)
        unlink(path);
}

static int
rotate_rename(const char *dir, const char *from, const char *to)
{
    char a[PATH_MAX_LEN], b[PATH_MAX_LEN];
    int rc = rotate_path(a, dir, from);
    if (!rc)
        rc = rotate_path(b, dir, to);
    if (!rc && rename(a, b) != 0)
        rc = -errno;
    return rc;
}

/* Makes the renames durable: they are entries of the folder. */
static void
rotate_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* ---- the marker ----------------------------------------------------------------------------- */

bool
rotate_pending(const char *dir, uint8_t msg_id[UID_MSGID_LEN])
{
    char buf[ROTATE_MAX_FILE];
    size_t len = 0, got = 0;
    if (rotate_read_file(dir, ROTATE_MARK_FILE, buf, &len) != 0)
        return false;
    return sodium_hex2bin(msg_id, UID_MSGID_LEN, buf, len, "\n", &got, NULL) == 0 &&
           got == UID_MSGID_LEN;
}

static int
rotate_mark(const char *dir, const uint8_t msg_id[UID_MSGID_LEN])
{
    char hex[2 * UID_MSGID_LEN + 2];
    uid_msgid_hex(msg_id, UID_MSGID_LEN, hex);
    size_t n = strlen(hex);
    hex[n++] = '\n';
    return rotate_write_file(dir, ROTATE_MARK_FILE, hex, n);
}

/* ---- beginning ------------------------------------------------------------------------------ */

/* Makes the pending keypairs unless both exist already (a rotation being resumed); reads
 * their public keys. */
static int
rotate_pending_keys(const char *dir, char curve[KEYS_Z85_LEN], uint8_t box[SEAL_KEY_LEN])
{
    char seal[PATH_MAX_LEN];
    uint8_t sk[SEAL_KEY_LEN];
    int rc = rotate_path(seal, dir, ROTATE_SEAL_FILE);
    if (rc)
        return rc;
    bool have = keys_load_public(dir, ROTATE_PENDING_KEY, curve) == 0 &&
                rotate_exists(dir, ROTATE_PENDING_KEY ".cert_secret") &&
                seal_box_load(seal, box, sk) == 0;
    if (!have) {
        /* Leftovers of a rotation that never reached the outbox. */
        rotate_unlink(dir, ROTATE_PENDING_KEY ".cert");
        rotate_unlink(dir, ROTATE_PENDING_KEY ".cert_secret");
        rotate_unlink(dir, ROTATE_SEAL_FILE);
        rc = keys_create(dir, ROTATE_PENDING_KEY, curve);
        if (!rc)
            rc = seal_box_create(seal, box);
    }
    sodium_memzero(sk, sizeof sk);
    return rc;
}

static int
rotate_queue(MDB_txn *txn,
             const store_t *st,
             const char *curve,
             uint8_t box[SEAL_KEY_LEN],
             uint64_t now,
             uint8_t msg_id[UID_MSGID_LEN])
{
    Refnet__Envelope env = REFNET__ENVELOPE__INIT;
    Refnet__KeyRotate kr = REFNET__KEY_ROTATE__INIT;
    kr.curve_public_key = (char *)curve;
    kr.box_public_key.data = box;
    kr.box_public_key.len = SEAL_KEY_LEN;
    env.body_case = REFNET__ENVELOPE__BODY_KEY_ROTATE;
    env.key_rotate = &kr;
    return outbox_add(txn, st, &env, NULL, now, msg_id, NULL);
}

int
rotate_begin(
    const char *dir, MDB_txn *txn, const store_t *st, uint64_t now, uint8_t msg_id[UID_MSGID_LEN])
{
    char curve[KEYS_Z85_LEN];
    uint8_t box[SEAL_KEY_LEN], old[UID_MSGID_LEN];
    uint64_t key = 0;
    if (rotate_exists(dir, ROTATE_OK_FILE))
        return REFNET_EEXIST; /* accepted, and finished at the next start */
    if (rotate_pending(dir, old)) {
        int rc = outbox_find(txn, st, old, UID_MSGID_LEN, &key);
        if (rc != REFNET_ENOTFOUND)
            return rc ? rc : REFNET_EEXIST;
    }
    int rc = rotate_pending_keys(dir, curve, box);
    if (!rc)
        rc = rotate_queue(txn, st, curve, box, now, msg_id);
    if (!rc)
        rc = rotate_mark(dir, msg_id);
    if (!rc)
        log_info("rotate: new keys made; asking the broker to take them");
    return rc;
}

/* ---- finishing ------------------------------------------------------------------------------ */

/* Copies the current sealing secret to DIR/seal.key.prev before the new one replaces it. */
static int
rotate_keep_previous(const char *dir)
{
    char buf[ROTATE_MAX_FILE];
    size_t len = 0;
    int rc = rotate_read_file(dir, PEERKEYS_FILE, buf, &len);
    if (rc == REFNET_ENOTFOUND)
        return 0;
    if (!rc)
        rc = rotate_write_file(dir, PEERKEYS_FILE_PREV, buf, len);
    sodium_memzero(buf, sizeof buf);
    return rc;
}

/* Moves the pending files into place. Each step is a rename, and a step already done is
 * skipped, so running it again after a crash completes it. */
static int
rotate_promote(const char *dir)
{
    int rc = 0;
    if (rotate_exists(dir, ROTATE_SEAL_FILE)) {
        rc = rotate_keep_previous(dir);
        if (!rc)
            rc = rotate_rename(dir, ROTATE_SEAL_FILE, PEERKEYS_FILE);
    }
    if (!rc && rotate_exists(dir, ROTATE_PENDING_KEY ".cert_secret"))
        rc = rotate_rename(dir, ROTATE_PENDING_KEY ".cert_secret", "agency.cert_secret");
    if (!rc && rotate_exists(dir, ROTATE_PENDING_KEY ".cert"))
        rc = rotate_rename(dir, ROTATE_PENDING_KEY ".cert", "agency.cert");
    rotate_sync_dir(dir);
    if (rc) {
        log_error("rotate: cannot move the new keys into place: %s", refnet_strerror(rc));
        return rc;
    }
    rotate_unlink(dir, ROTATE_MARK_FILE);
    rotate_unlink(dir, ROTATE_OK_FILE);
    rotate_sync_dir(dir);
    log_info("rotate: the new keys are in place; the previous sealing key is kept in %s",
             PEERKEYS_FILE_PREV);
    return 0;
}

int
rotate_commit(const char *dir)
{
    int rc = rotate_write_file(dir, ROTATE_OK_FILE, "ok\n", 3);
    if (!rc)
        rc = rotate_promote(dir);
    return rc;
}

void
rotate_abandon(const char *dir)
{
    rotate_unlink(dir, ROTATE_PENDING_KEY ".cert");
    rotate_unlink(dir, ROTATE_PENDING_KEY ".cert_secret");
    rotate_unlink(dir, ROTATE_SEAL_FILE);
    rotate_unlink(dir, ROTATE_MARK_FILE);
    rotate_sync_dir(dir);
}

int
rotate_recover(const char *dir)
{
    if (!rotate_exists(dir, ROTATE_OK_FILE))
        return 0;
    log_info("rotate: finishing a key rotation the broker accepted before the node stopped");
    return rotate_promote(dir);
}

int
rotate_offline(const char *dir, size_t map_size, uint8_t msg_id[UID_MSGID_LEN])
{
    char db[PATH_MAX_LEN];
    store_t *st = NULL;
    MDB_txn *txn = NULL;
    int rc = path_join(db, sizeof db, dir, "db");
    if (rc == 0 && !path_exists(db))
        rc = REFNET_ENOTFOUND;
    if (rc == 0)
        rc = nodedb_open(&st, db, map_size);
    if (rc == 0)
        rc = store_begin(st, false, &txn);
    if (rc == 0)
        rc = rotate_begin(dir, txn, st, clock_now_ms(), msg_id);
    if (rc == 0)
        rc = store_commit(&txn);
    store_abort(&txn);
    store_destroy(&st);
    return rc;
}

/* ---- the local API -------------------------------------------------------------------------- */

int
rotate_api(apicall_t *c, json_t *args)
{
    char dir[PATH_MAX_LEN];
    (void)args;
    int rc = peerkeys_node_dir(c->st, dir, sizeof dir);
    if (rc != 0)
        return apicall_fail(c, rc, "cannot find the node's folder");
    rc = rotate_begin(dir, c->txn, c->st, c->now, c->msg_id);
    if (rc == REFNET_EEXIST)
        return apicall_fail(c, rc, "a key rotation is already waiting for the broker's answer");
    if (rc == REFNET_EQUEUEFULL)
        return apicall_fail(c, rc, "the outbox is full; try again later");
    if (rc != 0)
        return apicall_fail(c, rc, "cannot start the key rotation: %s", refnet_strerror(rc));
    c->pending = true;
    snprintf(c->subject, sizeof c->subject, "%s", ROTATE_SUBJECT);
    return 0;
}
