/* uid: identifiers made by refnet.
 *
 * UUIDs (version 4, from libsodium's CSPRNG) name persons, consents and handoffs; 16 random
 * bytes name each wire message. Stateless and thread-safe once sodium_init() has run, which
 * uid_new() and uid_msgid() ensure. */
#ifndef REFNET_UID_H
#define REFNET_UID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UID_STR_LEN   37 /* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" plus NUL */
#define UID_MSGID_LEN 16 /* bytes in a wire msg_id */

/* Writes a new random UUID v4 in lower-case canonical form into `out`. */
void uid_new(char out[UID_STR_LEN]);
/* Returns true when `s` is a canonical UUID (any version, either case). */
bool uid_is_uuid(const char *s);
/* Writes the UUID that `name` always maps to: version 8 (RFC 9562, custom), its 122 free bits
 * taken from BLAKE2b-128 of `name`. For records derived from others (an HSDS
 * service_capacity row of a service) that need a stable UUID across exports. */
void uid_derive(const char *name, char out[UID_STR_LEN]);
/* Writes 16 random bytes into `out`. */
void uid_msgid(uint8_t out[UID_MSGID_LEN]);
/* Writes the lower-case hex of a msg_id (33 bytes with NUL) for logs. */
void uid_msgid_hex(const uint8_t *id, size_t len, char out[2 * UID_MSGID_LEN + 1]);

#endif
