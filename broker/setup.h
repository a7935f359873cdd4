/* setup: creating a broker data folder and enrolling agencies into it.
 *
 * These are the `refnet-broker init` and `enroll` commands, as functions so tests can build
 * a broker folder without running the binary. A broker folder DATA holds:
 *   broker.cert, broker.cert_secret  the broker's CURVE keypair (server key of both sockets)
 *   admin.cert, admin.cert_secret    the admin client keypair (`refnet admin` uses it)
 *   certs/                           public certificates zauth allows (agencies + admin)
 *   db/                              the LMDB environment (bstore.h)
 *   admin.sock                       the admin socket while the broker runs
 *   sign.key                         the broker's Ed25519 signing seed (0600), with which it
 *                                    vouches for agencies' sealing keys (sealkeys.h)
 *
 * `enroll` may run while the broker runs: it writes LMDB (the truth) and the certificate,
 * and the running broker notices within BROKER_ENROLL_CHECK_MS. Stateless. */
#ifndef REFNET_SETUP_H
#define REFNET_SETUP_H

#include <stdbool.h>
#include <stddef.h>

#include "keys.h"
#include "seal.h"

/* File and folder names inside a broker folder. */
#define SETUP_BROKER_KEY "broker"
#define SETUP_ADMIN_KEY  "admin"
#define SETUP_CERTS_DIR  "certs"
#define SETUP_ADMIN_SOCK "admin.sock"
#define SETUP_LOCK_FILE  "broker.lock"
#define SETUP_SIGN_KEY   "sign.key"

/* True for an endpoint the broker may bind: "tcp://HOST:PORT" or "ipc://PATH", printable, at
 * most BROKER_MAX_ENDPOINT - 1 bytes. */
bool setup_endpoint_valid(const char *endpoint);

/* Creates broker folder `dir` (the folder may exist but must not hold a broker already) with
 * new keypairs and bind endpoint `bind` (NULL: BROKER_DEFAULT_BIND), and writes the broker's
 * public key into `broker_key`. Returns 0, REFNET_EEXIST when `dir` is a broker folder
 * already, REFNET_EINVAL for a bad endpoint, or a file / store error. `why` (WIRE_WHY_LEN
 * bytes, may be NULL) gets one sentence on failure. */
int setup_init(const char *dir,
               const char *bind,
               size_t map_size_mb,
               char broker_key[KEYS_Z85_LEN],
               char *why);

/* Loads the broker's signing keypair from DIR/sign.key, creating it first when the folder has
 * none (a folder made before sealing existed). Fills `pk` and `sk`. Returns 0 or a REFNET_E*
 * code. */
int setup_sign_key(const char *dir, uint8_t pk[SEAL_KEY_LEN], uint8_t sk[SEAL_SIGN_SECRET_LEN]);

/* Enrols agency `id` with public key `key` and display name `name` (NULL: the id) in broker
 * folder `dir`, and writes its certificate into DIR/certs. Returns 0, REFNET_ENOTFOUND when
 * `dir` is not a broker folder, REFNET_EINVAL / REFNET_EEXIST from agencies_enroll (also for
 * the broker's or admin's own key), or a file / store error; `why` as above. */
int setup_enroll(const char *dir,
                 const char *id,
                 const char *name,
                 const char *key,
                 size_t map_size_mb,
                 char *why);

/* Revokes agency `id` in broker folder `dir` directly in LMDB (agencies_revoke, signing the
 * revocation with DIR/sign.key) and removes DIR/certs/ID.cert. For a stopped broker: a
 * running one is asked through its admin socket instead, and would otherwise notice the
 * change only at its next enrolment check. Sets *already when it was revoked before. Returns
 * 0, REFNET_ENOTFOUND (not a broker folder, or no such agency), or a store error; `why` as
 * above. */
int setup_revoke(const char *dir, const char *id, size_t map_size_mb, bool *already, char *why);

#endif
