/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tag selection: which tags of a repository a PatchConfig image entry means. Pure functions
 * over the list the registry returned, so every rule is testable without a registry.
 *
 * Version order: a tag is a version when it reads as [v]N(.N)* with an optional "+meta",
 * compared numerically part by part (missing parts are 0: "20.04" == "20.4.0", "1.2.10" >
 * "1.2.9"); equal versions are tie-broken on the raw string so the order is total. Tags with
 * a "-suffix" (1.25.3-alpine, 1.0.0-rc1) are not versions. When no candidate of a pattern is
 * a version, candidates are ordered naturally (digit runs compared as numbers). See
 * docs/tag-selection.md.
 */
#ifndef PF_TAGS_H
#define PF_TAGS_H

#include <stdint.h>

#include "pf/config.h"
#include "pf/strv.h"

/* Reports the creation time (unix seconds) of the image behind `tag`. Returns 0 or a negative
 * errno; a tag whose time cannot be had is left out of the `latest` fallback. */
typedef int (*pf_tag_created_fn)(const char *tag, int64_t *ret_created, void *userdata);

struct pf_tag_selection {
    struct pf_strv tags;     /* the selected tags, ascending in the order above */
    struct pf_strv missing;  /* `list` tags the registry does not have */
    struct pf_strv warnings; /* human-readable notes: dropped tags, fallbacks used */
};

/*
 * Applies `spec` to `available` (the repository's tags; NULL = unknown, then `list` is taken
 * as written). `created` is only called for `latest` when no tag is a version, and may be NULL
 * (then that case selects nothing, with a warning). Returns 0 and fills *ret (which the caller
 * initialised with zeros), or -ENOMEM / -EINVAL (bad pattern; a reason is pushed to warnings).
 */
int pf_tags_select(const struct pf_tag_spec *spec, const struct pf_strv *available,
                   pf_tag_created_fn created, void *userdata, struct pf_tag_selection *ret);
void pf_tag_selection_release(struct pf_tag_selection *s);

/* True when `tag` is a stable version in the sense above. */
bool pf_tag_is_version(const char *tag);
/* Compares two tags: versions by version (then raw string), otherwise natural order.
 * Versions sort after non-versions. Returns <0, 0, >0. */
int pf_tag_compare(const char *a, const char *b);

#endif
