/* rotate: replacing this agency's keys (`refnet-node rotate-key`) without losing any message.
 *
 * A rotation replaces both keypairs at once: the CURVE keypair the broker knows the agency by
 * (DIR/agency.cert[_secret]) and the sealing keypair (DIR/seal.key). It goes in steps, each
 * leaving the folder in a state a restart can finish:
 *
 *   1. rotate_begin: new keys are written beside the old ones, as pending files
 *      (DIR/agency.pending.cert[_secret], DIR/seal.key.pending, all secrets 0600), a
 *      KeyRotate{new CURVE public key, new box public key} is queued in the outbox in the
 *      caller's transaction, and DIR/rotate.pending names its msg_id. Nothing changes yet: the
 *      node keeps talking with its old key, and the outbox sends the request over the current
 *      authenticated connection.
 *   2. The broker commits the new key as the agency's only one and answers OK (rekey.h).
 *   3. rotate_commit: DIR/rotate.ok records that answer, then rotate_promote moves the pending
 *      files into place (the old sealing secret becomes DIR/seal.key.prev, 0600, so packets
 *      sealed for it before the rotation still open: peerkeys.h), and removes the markers.
 *      The node then reconnects with the new CURVE key (link_set_cert).
 *
 * After a crash: with DIR/rotate.ok present, rotate_recover finishes step 3 at start. Without
 * it the outcome is unknown, so the node starts with its old key: if the broker still takes
 * it, the outbox sends the KeyRotate again (the broker answers a repeated request OK); if the
 * broker refuses the old key at the handshake, it has committed the new one, and the node
 * promotes the pending keys (rotate_commit) and reconnects. Mail waiting at the broker is
 * keyed by agency id and is delivered over the new connection.
 *
 * Files only, plus the caller's transaction for the outbox item. Single-threaded (the node's
 * loop, or `refnet-node rotate-key` while no node runs on the folder). */
#ifndef REFNET_ROTATE_H
#define REFNET_ROTATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "apicall.h"
#include "store.h"
#include "uid.h"

#define ROTATE_PENDING_KEY "agency.pending" /* keys.h name of the pending CURVE keypair */
#define ROTATE_SEAL_FILE   "seal.key.pending"
#define ROTATE_MARK_FILE   "rotate.pending" /* the KeyRotate's msg_id, as hex */
#define ROTATE_OK_FILE     "rotate.ok"
/* The subject of the local API's pending answer to "key.rotate". */
#define ROTATE_SUBJECT "key-rotation"

/* Starts a rotation of the node in folder `dir`: pending keys (made now, or kept from a
 * rotation whose request never reached the outbox), a KeyRotate queued in `txn`, the marker.
 * Writes the request's msg_id. Returns 0, REFNET_EEXIST (a rotation already waits for the
 * broker), or a file / outbox error. */
int rotate_begin(
    const char *dir, MDB_txn *txn, const store_t *st, uint64_t now, uint8_t msg_id[UID_MSGID_LEN]);
/* True while a rotation waits for the broker; fills `msg_id` from the marker. */
bool rotate_pending(const char *dir, uint8_t msg_id[UID_MSGID_LEN]);
/* The broker accepted the new keys: records it and promotes them. Returns 0 or a file error
 * (the rotation then finishes at the next start). */
int rotate_commit(const char *dir);
/* The broker refused the rotation: the pending keys and markers are removed, the old keys
 * stay. */
void rotate_abandon(const char *dir);
/* At start, before the keys are loaded: finishes a rotation the broker accepted. Returns 0 or
 * a file error. */
int rotate_recover(const char *dir);

/* `refnet-node rotate-key` on a folder no node runs on: rotate_begin in a transaction of the
 * store DIR/db (map size `map_size` bytes), committed. The node sends the request when it next
 * runs. Returns 0 and the msg_id, or as rotate_begin, or a store error. */
int rotate_offline(const char *dir, size_t map_size, uint8_t msg_id[UID_MSGID_LEN]);

/* The local API operation "key.rotate" (API.md): rotate_begin in the call's transaction, for
 * the node folder that holds the store (peerkeys_node_dir). Pending until the broker answers. */
int rotate_api(apicall_t *c, json_t *args);

#endif
