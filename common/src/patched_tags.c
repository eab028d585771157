/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Patched-tag versioning (see patched_tags.h), shared by the producer's skip decision and the
 * fleet worker's push. Only strict "-<digits>" suffixes without a leading zero count as
 * versions, and arch side tags are excluded even when numeric ("-386"), so a tag someone else
 * pushed beside ours can never make us skip or reuse a number. Versions are parsed with full
 * range checks; a number past LLONG_MAX is treated as someone else's tag.
 */
#include "pf/setup.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/patched_tags.h"

bool pf_patched_tags_is_arch_side(const char *base, const char *tag)
{
    /* Copa's patch.ArchTagSuffixes(): only "-386" could pass for a version, the rest are
     * listed so the rule is the same everywhere. */
    static const char *const suffixes[] = {"386",     "amd64",  "arm",    "arm-v5",
                                           "arm-v6",  "arm-v7", "arm64",  "arm64-v8",
                                           "ppc64le", "s390x",  "riscv64"};
    size_t blen = strlen(base);

    if (strncmp(tag, base, blen) != 0 || tag[blen] != '-')
        return false;
    for (size_t i = 0; i < PF_ARRAY_SIZE(suffixes); i++)
        if (strcmp(tag + blen + 1, suffixes[i]) == 0)
            return true;
    return false;
}

/* The version of `tag` as a patch of `base`: 0 for base itself, N for base-N; -1 otherwise. */
static long long patch_version(const char *base, const char *tag)
{
    size_t blen = strlen(base);
    const char *num = tag + blen + 1;
    unsigned long long v;
    char *end = NULL;

    if (strncmp(tag, base, blen) != 0)
        return -1;
    if (tag[blen] == '\0')
        return 0;
    /* Only "-<digits>" without a leading zero counts: "-01" or "-1a" are someone else's. */
    if (tag[blen] != '-' || *num < '1' || *num > '9' || strspn(num, "0123456789") != strlen(num) ||
        pf_patched_tags_is_arch_side(base, tag))
        return -1;
    errno = 0;
    v = strtoull(num, &end, 10);
    if (errno || end == num || *end || v >= (unsigned long long)LLONG_MAX)
        return -1;
    return (long long)v;
}

int pf_patched_tags_find(const char *base, const struct pf_strv *existing, char **ret_latest,
                         char **ret_next)
{
    long long highest = -1;
    char *latest = NULL, *next;

    for (size_t i = 0; existing && i < existing->n; i++) {
        long long v = patch_version(base, existing->v[i]);
        if (v > highest)
            highest = v;
    }
    if (highest >= 0) {
        latest = highest == 0 ? pf_strdup(base) : pf_asprintf("%s-%lld", base, highest);
        if (!latest)
            return -ENOMEM;
    }
    next = highest < 0 ? pf_strdup(base) : pf_asprintf("%s-%lld", base, highest + 1);
    if (!next) {
        pf_free(latest);
        return -ENOMEM;
    }
    if (strlen(next) > PF_PATCHED_TAGS_MAX_LEN) {
        pf_free(latest);
        pf_free(next);
        return -ERANGE;
    }
    *ret_latest = latest;
    *ret_next = next;
    return 0;
}
