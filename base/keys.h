/* keys: CURVE certificates on disk, through czmq's zcert.
 *
 * A keypair NAME in folder DIR is two files: DIR/NAME.cert holds the public key and
 * DIR/NAME.cert_secret holds both keys with mode 0600. Public keys travel as 40-character Z85
 * text. Secret keys are never logged or printed by any function here. */
#ifndef REFNET_KEYS_H
#define REFNET_KEYS_H

#include <czmq.h>
#include <stdbool.h>

#define KEYS_Z85_LEN 41 /* 40 Z85 characters plus NUL */

/* Creates a new keypair NAME in DIR (which must exist), refusing to overwrite an existing one
 * (REFNET_EEXIST). Writes the public key into `public_z85`. Returns 0 or a REFNET_E* code. */
int keys_create(const char *dir, const char *name, char public_z85[KEYS_Z85_LEN]);
/* Loads keypair NAME from DIR, checking that the secret file is not readable by group or
 * others. Returns 0 and sets *out (caller owns; zcert_destroy), REFNET_ENOTFOUND or
 * REFNET_ECRYPTO. */
int keys_load(const char *dir, const char *name, zcert_t **out);
/* Reads the public key of keypair NAME in DIR into `public_z85`. */
int keys_load_public(const char *dir, const char *name, char public_z85[KEYS_Z85_LEN]);
/* Returns true when `text` is 40 Z85 characters that decode to a 32-byte key. */
bool keys_z85_valid(const char *text);
/* Writes a public-only certificate for `public_z85` as DIR/FILENAME (mode 0644), with metadata
 * name = `label`. Used to give zauth its list of allowed keys. Returns 0 or a REFNET_E* code. */
int
keys_write_public(const char *dir, const char *filename, const char *public_z85, const char *label);

#endif
