/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Copa's patched-tag versioning: a patched image is pushed as `base` (e.g. "1.25-patched"),
 * then `base-1`, `base-2`, ... The rule decides which tag a job pushes to and which tag a
 * scanner report is looked up under, so `patchfleet patch` (via the producer's skip decision)
 * and the fleet worker must agree on it exactly; it lives here because the roles may not
 * include each other. Pure functions over a tag list the caller fetched.
 */
#ifndef PF_PATCHED_TAGS_H
#define PF_PATCHED_TAGS_H

#include <stdbool.h>

#include "pf/strv.h"

/* The longest tag a registry accepts (the distribution spec's [\w][\w.-]{0,127}). */
#define PF_PATCHED_TAGS_MAX_LEN 128

/*
 * True when `tag` is `base` followed by an architecture suffix ("-amd64", "-arm64-v8", "-386",
 * ...; Copa's ArchTagSuffixes): a per-architecture side tag, not a patch version.
 */
bool pf_patched_tags_is_arch_side(const char *base, const char *tag);

/*
 * Copa's tag versioning over the tags `existing` of the target repository (NULL: none): the
 * patched tags of `base` are `base` (version 0) and `base-N` (N decimal, no leading zero),
 * arch side tags excluded. *ret_latest gets the highest version present (a new string) or
 * NULL when there is none; *ret_next gets `base` when there is none, else
 * `base-(highest N + 1)` (gaps are not reused). Returns 0, -ERANGE when the next tag would
 * pass PF_PATCHED_TAGS_MAX_LEN, or -ENOMEM; nothing is set on failure. Free both with
 * pf_free().
 */
int pf_patched_tags_find(const char *base, const struct pf_strv *existing, char **ret_latest,
                         char **ret_next);

#endif
