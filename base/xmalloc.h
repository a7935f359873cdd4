/* xmalloc: the one allocation wrapper of refnet.
 *
 * Every heap allocation in the daemons and clients goes through these functions. Out of memory
 * is not an error a daemon can recover from, so they log and abort instead of returning NULL.
 * Sizes that come from outside must be checked against their limit *before* calling these.
 * Thread-safe; no state. */
#ifndef REFNET_XMALLOC_H
#define REFNET_XMALLOC_H

#include <stddef.h>

/* Returns a block of `size` bytes (at least 1); never NULL. Caller frees with free(). */
void *xmalloc(size_t size);
/* Returns `n * size` zeroed bytes; aborts on overflow or out of memory. */
void *xcalloc(size_t n, size_t size);
/* Resizes `ptr` to `size` bytes; never NULL. */
void *xrealloc(void *ptr, size_t size);
/* Returns a copy of `s` (NULL gives NULL). Caller frees. */
char *xstrdup(const char *s);
/* Returns a copy of the first `n` bytes of `s`, NUL-terminated. Caller frees. */
char *xstrndup(const char *s, size_t n);

#endif
