/* dirdigest: the order-independent digest of a live directory (refnet.proto, DirDigest).
 *
 * Each live service contributes one BLAKE2b-256 hash over (id, NUL, seq as 8 bytes big-endian,
 * agency, NUL, the encoded Service); the digest is the sum of those hashes as four 64-bit
 * little-endian words, each modulo 2^64. A sum, unlike XOR, does not cancel a service that is
 * counted twice, and it lets both the broker (dirhub.h) and the node (dirsync.h) keep it up to
 * date change by change: subtract the old record's hash, add the new one's.
 *
 * dirdigest_t is a plain value type (the 32 digest bytes live in `w`, the number of live
 * services in `count`); it is stored as DIRDIGEST_STORED_LEN bytes. Stateless otherwise. */
#ifndef REFNET_DIRDIGEST_H
#define REFNET_DIRDIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "refnet.pb-c.h"
#include "wire_limits.h"

typedef struct {
    uint64_t w[4];  /* the digest: four words */
    uint64_t count; /* live services counted */
} dirdigest_t;

/* Stored form: the 32 digest bytes, then the count as 8 bytes big-endian. */
#define DIRDIGEST_STORED_LEN (WIRE_DIGEST_LEN + 8)

/* Hashes one live service `svc` whose latest change is `seq` into h[4]. Returns 0, or
 * REFNET_ETOOLARGE when the service does not encode within WIRE_MAX_FRAME. */
int dirdigest_hash(
    const char *id, uint64_t seq, const char *agency, const Refnet__Service *svc, uint64_t h[4]);
/* Adds (sign > 0) or removes (sign < 0) the service to or from `d`. Returns as dirdigest_hash;
 * `d` is unchanged on error. */
int dirdigest_apply(dirdigest_t *d,
                    int sign,
                    const char *id,
                    uint64_t seq,
                    const char *agency,
                    const Refnet__Service *svc);

/* The 32 wire bytes of the digest (words little-endian). */
void dirdigest_bytes(const dirdigest_t *d, uint8_t out[WIRE_DIGEST_LEN]);
/* Encodes / decodes the stored form. dirdigest_load returns 0 or REFNET_EDECODE. */
void dirdigest_store(const dirdigest_t *d, uint8_t out[DIRDIGEST_STORED_LEN]);
int dirdigest_load(dirdigest_t *d, const void *data, size_t len);
/* True when both digests and counts are equal. */
bool dirdigest_equal(const dirdigest_t *a, const dirdigest_t *b);
/* Lower-case hex of the 32 digest bytes into out (65 bytes with the NUL). */
void dirdigest_hex(const dirdigest_t *d, char out[2 * WIRE_DIGEST_LEN + 1]);

#endif
