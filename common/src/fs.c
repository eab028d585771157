/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Directory helpers (see fs.h). Removal uses nftw() with FTW_PHYS | FTW_DEPTH: entries are
 * lstat()ed, so a symbolic link is reported as a link and unlinked, never descended into,
 * and directories are visited after their contents so rmdir() can succeed. nftw() gives the
 * callback no user data, so instead of counting failures in a global the walk ends with one
 * lstat() of the root: if it is still there, something below it could not be removed.
 */
#include "pf/setup.h"

#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/fs.h"
#include "pf/log.h"

int pf_fs_mkdir_p(const char *path, mode_t mode)
{
    char *copy;
    int r = 0;

    if (!path[0])
        return -EINVAL;
    copy = pf_strdup(path);
    if (!copy)
        return -ENOMEM;
    for (char *p = copy + 1; r == 0; p++) {
        bool end = *p == '\0';

        if (*p != '/' && !end)
            continue;
        *p = '\0';
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
            r = -errno;
        if (end)
            break;
        *p = '/';
    }
    pf_free(copy);
    return r;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0)
        pf_log(LOG_DEBUG, "cannot remove '%s': %s", path, strerror(errno));
    return 0;
}

int pf_fs_remove_tree(const char *dir)
{
    struct stat st;

    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0) {
        int r = -errno;
        pf_log(LOG_DEBUG, "cannot walk '%s': %s", dir, strerror(-r));
        return r;
    }
    if (lstat(dir, &st) == 0)
        return -ENOTEMPTY;
    return 0;
}

char *pf_fs_work_dir_default(const char *name)
{
    const char *tmp = getenv("TMPDIR");

    return pf_asprintf("%s/%s-%ld", tmp && tmp[0] ? tmp : "/tmp", name, (long)getpid());
}

char *pf_fs_cache_dir_default(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

    if (xdg && xdg[0] == '/')
        return pf_asprintf("%s/patchfleet", xdg);
    return pf_asprintf("%s/.cache/patchfleet", home && home[0] ? home : "/tmp");
}

int pf_fs_make_work_dir(const char *dir, bool may_exist, bool *ret_created)
{
    if (mkdir(dir, 0700) == 0) {
        *ret_created = true;
        return 0;
    }
    if (errno != EEXIST || !may_exist)
        return -errno;
    *ret_created = false;
    return 0;
}
