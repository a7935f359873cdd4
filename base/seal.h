/* seal: end-to-end sealing of person data and the broker's signature on agency keys.
 *
 * Two kinds of libsodium keys live here, both separate from the CURVE keys that protect the
 * transport (keys.h):
 *   - each node's box keypair (X25519, crypto_box): a sender seals a person packet with its
 *     own secret key and the receiving agency's public key, so only that agency can open it
 *     and opening it proves which agency sealed it;
 *   - the broker's signing keypair (Ed25519, crypto_sign): the broker signs the binding
 *     "agency id -> box public key" (an AgencyKey), and nodes accept a box key only with a
 *     valid signature from the broker key they pinned.
 *
 * Secret keys are files of hex text with mode 0600, created with that mode, and refused when
 * group or others may read them. Nothing here logs or prints a secret key.
 *
 * Stateless apart from libsodium's own one-time initialisation; safe from any thread. */
#ifndef REFNET_SEAL_H
#define REFNET_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_LEN         32 /* box public or secret key; signing public key or seed */
#define SEAL_SIGN_SECRET_LEN 64 /* libsodium's expanded Ed25519 secret key */
#define SEAL_SIGNATURE_LEN   64
#define SEAL_NONCE_LEN       24
#define SEAL_OVERHEAD        40 /* nonce (24) + authenticator (16) added by seal_box */
#define SEAL_VERSION         1  /* HandoffUpdate.seal_version of a crypto_box_easy packet */
#define SEAL_HEX_LEN         65 /* 64 hex characters plus NUL */

/* Initialises libsodium. Returns 0 or REFNET_ECRYPTO. Called by every function below. */
int seal_init(void);

/* Creates a new box keypair and writes the secret key to `path` (mode 0600, refusing to
 * overwrite: REFNET_EEXIST). Fills `pk`. Returns 0 or a REFNET_E* code. */
int seal_box_create(const char *path, uint8_t pk[SEAL_KEY_LEN]);
/* Loads the box secret key at `path` and derives its public key. Returns 0, REFNET_ENOTFOUND,
 * or REFNET_ECRYPTO (bad content or a file others may read). */
int seal_box_load(const char *path, uint8_t pk[SEAL_KEY_LEN], uint8_t sk[SEAL_KEY_LEN]);

/* Creates a new signing keypair and writes its seed to `path` (0600, no overwrite). Fills the
 * public key `pk`. Returns 0 or a REFNET_E* code. */
int seal_sign_create(const char *path, uint8_t pk[SEAL_KEY_LEN]);
/* Loads the signing seed at `path`; fills `pk` and the expanded secret `sk`. Same codes as
 * seal_box_load. */
int seal_sign_load(const char *path, uint8_t pk[SEAL_KEY_LEN], uint8_t sk[SEAL_SIGN_SECRET_LEN]);

/* Seals `len` bytes for the holder of `peer_pk`, as the holder of `my_sk`: a random nonce
 * followed by crypto_box_easy's output. Sets *out (caller frees) and *out_len = len +
 * SEAL_OVERHEAD. Returns 0 or REFNET_ECRYPTO. */
int seal_box(const uint8_t *msg,
             size_t len,
             const uint8_t peer_pk[SEAL_KEY_LEN],
             const uint8_t my_sk[SEAL_KEY_LEN],
             uint8_t **out,
             size_t *out_len);
/* Opens what seal_box made, checking that the holder of `peer_pk` sealed it for `my_sk`.
 * Sets *out (caller frees) and *out_len. Returns 0, or REFNET_ECRYPTO when it is too short,
 * was tampered with, or was sealed by another key or for another key. */
int seal_open(const uint8_t *sealed,
              size_t len,
              const uint8_t peer_pk[SEAL_KEY_LEN],
              const uint8_t my_sk[SEAL_KEY_LEN],
              uint8_t **out,
              size_t *out_len);

/* Precomputed sealing: the X25519 scalar multiplication of seal_box/seal_open done once per
 * (peer key, own key) pair, then one symmetric pass per packet. The output of seal_box_shared
 * is byte for byte what seal_box makes with the same nonce, and seal_open_shared opens exactly
 * what seal_open opens. `shared` is as secret as `my_sk`: wipe it with sodium_memzero. */
#define SEAL_SHARED_LEN 32

/* Computes the shared key of `peer_pk` and `my_sk` (crypto_box_beforenm). Returns 0, or
 * REFNET_ECRYPTO for a weak peer key (the shared key would be all zeros). */
int seal_precompute(const uint8_t peer_pk[SEAL_KEY_LEN],
                    const uint8_t my_sk[SEAL_KEY_LEN],
                    uint8_t shared[SEAL_SHARED_LEN]);
/* Seals `len` bytes with `shared` and the caller's fresh random `nonce` into `out`, which has
 * room for len + SEAL_OVERHEAD bytes: the nonce, then crypto_box_easy_afternm's output. No
 * allocation, no system call. Returns 0 or REFNET_ECRYPTO. */
int seal_box_shared(const uint8_t *msg,
                    size_t len,
                    const uint8_t shared[SEAL_SHARED_LEN],
                    const uint8_t nonce[SEAL_NONCE_LEN],
                    uint8_t *out);
/* Opens `len` sealed bytes with `shared` into `out`, which has room for len - SEAL_OVERHEAD
 * bytes. Returns 0, or REFNET_ECRYPTO when it is too short or does not open. */
int seal_open_shared(const uint8_t *sealed,
                     size_t len,
                     const uint8_t shared[SEAL_SHARED_LEN],
                     uint8_t *out);

/* Signs the binding of `agency` to box key `box_pk`, issued at `issued_at_ms`. The signed bytes
 * are "refnet-agency-key-v1", NUL, the agency id, NUL, the key and the time as 8 bytes
 * big-endian: unambiguous, so no other binding has the same signature. */
void seal_sign_agency_key(const char *agency,
                          const uint8_t box_pk[SEAL_KEY_LEN],
                          uint64_t issued_at_ms,
                          const uint8_t sign_sk[SEAL_SIGN_SECRET_LEN],
                          uint8_t sig[SEAL_SIGNATURE_LEN]);
/* Returns true when `sig` is the signature of that binding by the holder of `sign_pk`. */
bool seal_verify_agency_key(const char *agency,
                            const uint8_t box_pk[SEAL_KEY_LEN],
                            uint64_t issued_at_ms,
                            const uint8_t sig[SEAL_SIGNATURE_LEN],
                            const uint8_t sign_pk[SEAL_KEY_LEN]);

/* Signs the revocation of agency `agency`, whose box key `box_pk` was issued at
 * `issued_at_ms`, revoked at `revoked_at_ms`. The signed bytes are "refnet-agency-revoked-v1",
 * NUL, the agency id, NUL, the key, the issue time and the revocation time (8 bytes big-endian
 * each): a revocation cannot be replayed as a binding, nor a binding as a revocation. */
void seal_sign_agency_revoked(const char *agency,
                              const uint8_t box_pk[SEAL_KEY_LEN],
                              uint64_t issued_at_ms,
                              uint64_t revoked_at_ms,
                              const uint8_t sign_sk[SEAL_SIGN_SECRET_LEN],
                              uint8_t sig[SEAL_SIGNATURE_LEN]);
/* Returns true when `sig` is that revocation's signature by the holder of `sign_pk`. */
bool seal_verify_agency_revoked(const char *agency,
                                const uint8_t box_pk[SEAL_KEY_LEN],
                                uint64_t issued_at_ms,
                                uint64_t revoked_at_ms,
                                const uint8_t sig[SEAL_SIGNATURE_LEN],
                                const uint8_t sign_pk[SEAL_KEY_LEN]);

/* Writes `key` as 64 lower-case hex characters. */
void seal_key_hex(const uint8_t key[SEAL_KEY_LEN], char out[SEAL_HEX_LEN]);
/* Parses a public key given as 64 hex characters or 40 Z85 characters. Returns 0 or
 * REFNET_EINVAL. */
int seal_key_parse(const char *text, uint8_t key[SEAL_KEY_LEN]);

#endif
