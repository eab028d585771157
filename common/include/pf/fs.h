/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Directory helpers shared by `patchfleet patch` and patchfleet-worker: creating the cache
 * directory with its parents, making the per-run work directory, and removing it again. Both
 * programs delete trees they created under a shared /tmp, so removal never follows a symbolic
 * link out of the tree and a default work directory that already exists is refused rather
 * than adopted (it is a stale run's or someone else's, and would be deleted at exit).
 */
#ifndef PF_FS_H
#define PF_FS_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Creates `path` and its missing parents with `mode` (like mkdir -p); directories that exist
 * already are fine. Returns 0, -EINVAL for an empty path, -ENOMEM, or the negative errno of
 * the mkdir that failed.
 */
int pf_fs_mkdir_p(const char *path, mode_t mode);

/*
 * Removes `dir` and everything below it, depth first. Symbolic links are removed, never
 * followed, so a link pointing out of the tree leaves its target alone. Entries that cannot
 * be removed are skipped (logged at debug level). Returns 0, the negative errno of the walk
 * (-ENOENT: no such directory), or -ENOTEMPTY when something below could not be removed.
 */
int pf_fs_remove_tree(const char *dir);

/*
 * The default work directory of a run: "$TMPDIR/<name>-<pid>" ("/tmp" when TMPDIR is unset
 * or empty). Returns a new string (pf_free() it), or NULL when out of memory.
 */
char *pf_fs_work_dir_default(const char *name);

/*
 * The default cache directory (blobs, package indexes): "$XDG_CACHE_HOME/patchfleet" when that
 * is an absolute path, else "$HOME/.cache/patchfleet" ("/tmp/.cache/patchfleet" without a
 * HOME). The same for `patchfleet patch` and the worker daemon. Returns a new string, or NULL.
 */
char *pf_fs_cache_dir_default(void);

/*
 * Creates the work directory `dir` with mode 0700. When it exists already, that is accepted
 * only with `may_exist` (a directory the user named): *ret_created is then false, and the
 * caller must not remove it at exit. Returns 0 and sets *ret_created, or a negative errno
 * (-EEXIST for an existing directory without `may_exist`).
 */
int pf_fs_make_work_dir(const char *dir, bool may_exist, bool *ret_created);

#endif
