/* pbscan: one top-level field of an encoded protobuf message, read without decoding it.
 *
 * Some hot paths need one or two short fields of a stored record whose bulk they do not look
 * at: the broker acknowledging a delivery needs the sender and handoff id of a QueuedMail but
 * not its envelope, and checking a handoff's service needs a DirRecord's owner but not its
 * service. Decoding the whole record (allocating and copying every field) costs more than the
 * rest of that work. pbscan walks the wire format (varint, 64-bit, length-delimited and 32-bit
 * fields) and returns the last occurrence of the field asked for, as protobuf's rules say for
 * a scalar field. It never allocates and never reads outside [msg, msg + len): a truncated or
 * malformed encoding (a group, field number 0, a length past the end) is REFNET_EDECODE.
 * Stateless; thread-safe. */
#ifndef REFNET_PBSCAN_H
#define REFNET_PBSCAN_H

#include <stddef.h>
#include <stdint.h>

/* Finds length-delimited field `field` (a string, bytes or message): sets *out (pointing into
 * msg) and *out_len. Returns 0, REFNET_ENOTFOUND when the field is absent (its value is then
 * the default, empty), or REFNET_EDECODE when the encoding is malformed or the field has
 * another wire type. */
int
pbscan_bytes(const uint8_t *msg, size_t len, uint32_t field, const uint8_t **out, size_t *out_len);
/* Finds varint field `field` (uint64, bool, enum ...): sets *out. Returns as pbscan_bytes. */
int pbscan_varint(const uint8_t *msg, size_t len, uint32_t field, uint64_t *out);
/* Copies string field `field` into out (size `cap`, NUL-terminated): "" when absent. Returns 0,
 * REFNET_ETOOLARGE when it does not fit (out is ""), or REFNET_EDECODE (out is ""). */
int pbscan_string(const uint8_t *msg, size_t len, uint32_t field, char *out, size_t cap);

#endif
