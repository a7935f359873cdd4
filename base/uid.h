/* uid: identifiers made by refnet.
 *
 * UUIDs (version 4, from libsodium's CSPRNG) name persons, consents and handoffs; 16 random
 * bytes name each wire message, or 6 bytes of time and 10 random ones where an index keyed by
 * the id should grow in order (uid_msgid_ordered). Stateless and thread-safe once
 * sodium_init() has run, which every function ensures, except a uid_pool_t, which belongs to
 * one thread. */
#ifndef REFNET_UID_H
#define REFNET_UID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UID_STR_LEN   37 /* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" plus NUL */
#define UID_MSGID_LEN 16 /* bytes in a wire msg_id */

/* Writes a new random UUID v4 in lower-case canonical form into `out`. */
void uid_new(char out[UID_STR_LEN]);
/* Writes a new time-ordered UUID (version 7, RFC 9562: 48 bits of Unix time in milliseconds,
 * then 74 CSPRNG bits) in lower-case canonical form. Records keyed by such ids are inserted
 * at the end of their index instead of at a random page. */
void uid_new_ordered(char out[UID_STR_LEN]);
/* Returns true when `s` is a canonical UUID (any version, either case). */
bool uid_is_uuid(const char *s);
/* Writes the UUID that `name` always maps to: version 8 (RFC 9562, custom), its 122 free bits
 * taken from BLAKE2b-128 of `name`. For records derived from others (an HSDS
 * service_capacity row of a service) that need a stable UUID across exports. */
void uid_derive(const char *name, char out[UID_STR_LEN]);
/* Writes 16 random bytes into `out`. */
void uid_msgid(uint8_t out[UID_MSGID_LEN]);
/* A buffer of CSPRNG bytes owned by its caller: drawing ids from it costs one system call per
 * UID_POOL_BYTES bytes instead of one per id (each refill is a fresh 32-byte seed from the
 * system, expanded with ChaCha20). One pool per thread; a pool is never shared with a forked
 * child (both would draw the same bytes). */
#define UID_POOL_BYTES 4096
typedef struct {
    uint8_t buf[UID_POOL_BYTES];
    size_t used; /* bytes of `buf` already handed out */
} uid_pool_t;

/* Makes `pool` empty; its first draw fills it. */
void uid_pool_init(uid_pool_t *pool);
/* Writes `n` CSPRNG bytes taken from `pool` (drawn on the spot when it is NULL or `n` is over
 * UID_POOL_BYTES), e.g. the nonce of a sealed packet. The bytes are wiped from the pool. */
void uid_pool_bytes(uid_pool_t *pool, uint8_t *out, size_t n);
/* uid_new, its random bits taken from `pool` (drawn on the spot when NULL). */
void uid_new_pool(uid_pool_t *pool, char out[UID_STR_LEN]);
/* uid_new_ordered, its random bits taken from `pool` (drawn on the spot when NULL): for
 * senders that make an id per message and should not pay a system call for each. */
void uid_new_ordered_pool(uid_pool_t *pool, char out[UID_STR_LEN]);
/* Writes a time-ordered message id: 6 bytes of big-endian Unix time in milliseconds, then 10
 * CSPRNG bytes, taken from `pool` (or drawn on the spot when it is NULL). Ids made later sort
 * after earlier ones (to the millisecond), so that indexes keyed by msg_id grow at their end
 * instead of at random pages, while 80 random bits keep every id unguessable. */
void uid_msgid_ordered(uid_pool_t *pool, uint8_t out[UID_MSGID_LEN]);
/* Writes the lower-case hex of a msg_id (33 bytes with NUL) for logs. */
void uid_msgid_hex(const uint8_t *id, size_t len, char out[2 * UID_MSGID_LEN + 1]);

#endif
