/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alpine's apk version order (Gentoo-style token lists). It must agree with apk-tools bit for
 * bit; docs/versions.md lists the rules and the corner cases where apk-tools 2.x and 3.x
 * disagree. Comparisons never allocate.
 */
#ifndef WORKER_APK_VERSION_APK_H
#define WORKER_APK_VERSION_APK_H

#include <stdbool.h>
#include <stddef.h>

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
int worker_apk_version_compare(const char *a, const char *b, enum worker_apk_gen gen, int *ret_cmp);

/*
 * The fuzzy comparison behind apk's `~` dependency operator: *ret_cmp is 0 when a matches the
 * prefix b (v3: every component of b equals a's; v2: equal as soon as either side runs out),
 * otherwise the ordinary -1 or 1. Returns 0, 1 or -EINVAL as worker_apk_version_compare().
 */
int worker_apk_version_compare_fuzzy(const char *a, const char *b, enum worker_apk_gen gen,
                                     int *ret_cmp);

#endif
