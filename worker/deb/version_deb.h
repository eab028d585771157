/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Debian's package version order (`[epoch:]upstream[-revision]`, compared with dpkg's verrevcmp).
 * The engine decides "is the candidate newer than the installed one" with it, so it must agree
 * with `dpkg --compare-versions` bit for bit; docs/versions.md lists the rules. Comparisons never
 * allocate.
 */
#ifndef WORKER_DEB_VERSION_DEB_H
#define WORKER_DEB_VERSION_DEB_H

#include <stdbool.h>
#include <stddef.h>

/* A parsed Debian version. `upstream` and `revision` point into one allocation owned by the
 * struct (release with worker_deb_version_release()); a missing revision is "". */
struct worker_deb_version {
    unsigned int epoch;
    char *upstream;
    const char *revision;
};

/*
 * Parses a Debian version with dpkg's parseversion() rules: blanks around the string are trimmed;
 * an epoch is the number before the first ':'; the revision is the text after the last '-'.
 * Returns 0 when the version is clean, 1 when dpkg accepts it with a warning (upstream not starting
 * with a digit, a character outside [0-9A-Za-z.+~:-] / [0-9A-Za-z.+~]); the warning text goes to
 * errbuf. Returns -EINVAL for what dpkg rejects as an error (empty, embedded blanks, empty or
 * non-numeric or negative or > INT_MAX epoch, nothing after the epoch colon, empty revision or
 * upstream) with the reason in errbuf, or -ENOMEM. On success *ret holds new memory the caller
 * releases; on failure *ret is untouched. errbuf may be NULL.
 */
int worker_deb_version_parse(const char *s, struct worker_deb_version *ret, char *errbuf,
                             size_t errlen);

/* Frees what worker_deb_version_parse() allocated and clears *v; accepts a cleared struct. */
void worker_deb_version_release(struct worker_deb_version *v);

/*
 * Compares two Debian version strings as `dpkg --compare-versions` does (epoch numerically, then
 * upstream and revision with verrevcmp: '~' before everything, even the end; letters before other
 * characters; digit runs numerically). Versions dpkg accepts with a warning compare normally.
 * Sets *ret_cmp to -1, 0 or 1 and returns 0; returns -EINVAL (and leaves *ret_cmp) if either
 * version is invalid. Does not allocate.
 */
int worker_deb_version_compare(const char *a, const char *b, int *ret_cmp);

/* Like worker_deb_version_compare() but for parsed versions; returns -1, 0 or 1. */
int worker_deb_version_cmp(const struct worker_deb_version *a, const struct worker_deb_version *b);

#endif
