/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpkg's stat overrides (`var/lib/dpkg/statoverride`, written by dpkg-statoverride): the
 * owner, group and mode an administrator chose for a path, which dpkg applies whenever a
 * package unpacks that path. An upgrade that ignored them would hand a setgid helper back to
 * root:root (a crontab that cannot write its spool), or give back a setuid bit that was taken
 * away on purpose. Lines are "USER GROUP MODE PATH": USER and GROUP a name, looked up in the
 * image's etc/passwd and etc/group as dpkg would on that system, or "#ID"; MODE octal; PATH
 * the rest of the line. A name the image does not know is an error (nothing is guessed; only
 * "root" is 0 even when the image has no etc/passwd or etc/group).
 */
#ifndef WORKER_DEB_DPKG_STATOVERRIDE_H
#define WORKER_DEB_DPKG_STATOVERRIDE_H

#include "pf/setup.h"

#include <stdint.h>

struct worker_layer_view;

#define WORKER_DPKG_STATOVERRIDE_FILE "var/lib/dpkg/statoverride"

struct worker_dpkg_statoverride {
    char *path; /* absolute, as in the file ("/usr/bin/crontab") */
    uint32_t uid, gid;
    uint32_t mode; /* permission bits only (07777) */
};

struct worker_dpkg_statoverrides {
    struct worker_dpkg_statoverride *v; /* sorted by path */
    size_t n;
};

/*
 * Parses `text` (`len` bytes: the statoverride file), resolving names through `passwd` and
 * `group` (the image's files; NULL when absent). Returns 0 with *ret filled, -EINVAL with
 * "statoverride line N: ..." in errbuf, or -ENOMEM.
 */
int worker_dpkg_statoverrides_parse(const char *text, size_t len, const char *passwd,
                                    const char *group, struct worker_dpkg_statoverrides *ret,
                                    char *errbuf, size_t errlen);

/* Reads the file and the name databases from the merged view (no file: no overrides). The
 * view must keep var/lib/dpkg/statoverride and etc/ (deb_engine.c's keep set does). */
int worker_dpkg_statoverrides_load(const struct worker_layer_view *view,
                                   struct worker_dpkg_statoverrides *ret, char *errbuf,
                                   size_t errlen);

/* The override of absolute path `path`, or NULL. */
const struct worker_dpkg_statoverride *
worker_dpkg_statoverrides_find(const struct worker_dpkg_statoverrides *s, const char *path);

void worker_dpkg_statoverrides_release(struct worker_dpkg_statoverrides *s);

#endif
