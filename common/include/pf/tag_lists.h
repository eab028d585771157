/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tags of a run's target repositories: one listing with retries (pf_tag_lists_fetch()),
 * and a set that lists each repository once and shares it with every job that patches into
 * it. Tag versioning needs the target repository's tags for every job, and listing them per
 * job made a 10,000-tag sweep list its 48 repositories 10,000 times (half of the registry's
 * work in bench/bench_fleet.sh). Sharing one listing per run is safe because the plan gives
 * every job its own target tag (producer/plan.c refuses collisions) and the runner still
 * refuses to overwrite a tag that exists at push time.
 *
 * A failed listing is shared too (after pf_tag_lists_fetch()'s retries): every job of the
 * repository then fails open with the same warning, instead of each retrying with pauses.
 * A listing abandoned because its caller was stopped is not kept: the next caller lists again.
 * The set is safe to use from several threads; callers for one repository wait for the first.
 * It lives in common because the CLI, the fleet producer and the fleet worker all decide tags
 * (pf/tag_decision.h) and no role may include another.
 */
#ifndef PF_TAG_LISTS_H
#define PF_TAG_LISTS_H

#include "pf/setup.h"

struct pf_registry;
struct pf_strv;
struct pf_tag_lists;

/* Listing attempts before a repository's listing counts as failed. */
#define PF_TAG_LISTS_ATTEMPTS 3

/* Polled between listing attempts and while waiting for another caller; true stops early. */
typedef bool (*pf_tag_lists_stop_fn)(void *userdata);

/*
 * Lists the tags of `target_repo` ("registry/repository") into `ret` (cleared first), trying
 * PF_TAG_LISTS_ATTEMPTS times with a growing pause; a repository that does not exist yet has
 * no tags. `stop` may be NULL. Returns 0, or the last error with the reason in errbuf.
 */
int pf_tag_lists_fetch(struct pf_registry *reg, const char *target_repo, pf_tag_lists_stop_fn stop,
                       void *userdata, struct pf_strv *ret, char *errbuf, size_t errlen);

/* Returns 0 with an empty set in *ret, or -ENOMEM. */
int pf_tag_lists_new(struct pf_tag_lists **ret);
/* Frees the set and every listing it holds; accepts NULL; returns NULL. */
struct pf_tag_lists *pf_tag_lists_free(struct pf_tag_lists *l);

/*
 * The tags of `target_repo` ("registry/repository"), listed through `reg` with
 * pf_tag_lists_fetch() on first use. Returns 0 with *ret pointing at the shared listing
 * (borrowed, valid until the set is freed; a repository that does not exist yet has an empty
 * one), -EIO-style errors from the listing with *ret NULL and the reason in errbuf (the same
 * reason for every caller), -ECANCELED when `stop` said so while waiting, or -ENOMEM.
 */
int pf_tag_lists_get(struct pf_tag_lists *l, struct pf_registry *reg, const char *target_repo,
                     pf_tag_lists_stop_fn stop, void *userdata, const struct pf_strv **ret,
                     char *errbuf, size_t errlen);

/* How many listings were made (for the tests and benchmarks). */
unsigned long pf_tag_lists_made(struct pf_tag_lists *l);

#endif
