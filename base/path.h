/* path: small file-system helpers for data folders. Stateless. */
#ifndef REFNET_PATH_H
#define REFNET_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PATH_MAX_LEN 4096 /* longest path refnet builds; longer ones are refused */

/* Creates folder `dir` with `mode` if it does not exist (parent must exist). Returns 0 when it
 * exists afterwards as a folder, or -errno / REFNET_EIO. */
int path_mkdir(const char *dir, mode_t mode);
/* Writes "a/b" into out. Returns 0, or REFNET_ETOOLARGE when it does not fit. */
int path_join(char *out, size_t outlen, const char *a, const char *b);
/* Returns true when `path` exists. */
bool path_exists(const char *path);
/* Writes an absolute form of `path` into out (the folder must exist). Returns 0 or -errno. */
int path_absolute(char *out, size_t outlen, const char *path);
/* Takes the exclusive lock on file `dir`/`name` (flock, not waiting), the way a daemon marks
 * its data folder as in use; `create` makes the file (mode 0600) when missing. Returns the
 * descriptor holding the lock (the caller closes it to let go), -1 when another process holds
 * it, or -2 when the file cannot be opened. */
int path_trylock(const char *dir, const char *name, bool create);

#endif
