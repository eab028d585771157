/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Package version ordering for the two package managers the worker patches: Debian's dpkg
 * (`[epoch:]upstream[-revision]`, compared with dpkg's verrevcmp) and Alpine's apk (Gentoo-style
 * token lists). The worker decides "is the fixed version newer than the installed one" with these,
 * so they must agree with the real tools bit for bit; docs/versions.md lists the rules and the
 * corner cases where apk-tools 2.x and 3.x disagree. Comparisons never allocate.
 */
#ifndef WORKER_VERSION_H
#define WORKER_VERSION_H

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

/* The apk-tools generation whose version rules to follow (they differ on leading zeros, `~hash`,
 * suffix matching and fuzzy matching; see docs/versions.md). */
enum worker_apk_gen {
    WORKER_APK_GEN_V2, /* apk-tools 2.14 (Alpine <= 3.22) */
    WORKER_APK_GEN_V3, /* apk-tools 3.x (Alpine >= 3.23) */
    WORKER_APK_GEN__MAX,
};

/* Returns whether s is a valid apk version under gen's grammar (apk_version_validate()). */
bool worker_apk_version_valid(const char *s, enum worker_apk_gen gen);

/*
 * Compares two apk versions as apk-tools of generation gen does. Sets *ret_cmp to -1, 0 or 1 and
 * returns 0 when both are valid, or 1 when either is not a valid version under gen: apk-tools
 * still orders such strings, token by token up to the first bad one (its own test data has
 * "1.0 < 1.0bc"), and so does this; callers that need well-formed input check the 1. Returns
 * -EINVAL (leaving *ret_cmp) for a NULL string or gen out of range. Does not allocate.
 */
int worker_apk_version_compare(const char *a, const char *b, enum worker_apk_gen gen,
                               int *ret_cmp);

/*
 * The fuzzy comparison behind apk's `~` dependency operator: *ret_cmp is 0 when a matches the
 * prefix b (v3: every component of b equals a's; v2: equal as soon as either side runs out),
 * otherwise the ordinary -1 or 1. Returns 0, 1 or -EINVAL as worker_apk_version_compare().
 */
int worker_apk_version_compare_fuzzy(const char *a, const char *b, enum worker_apk_gen gen,
                                     int *ret_cmp);

#endif
