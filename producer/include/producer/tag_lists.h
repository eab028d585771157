/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tag listings of a run's target repositories, each listed once and shared by every job
 * that patches into it. Tag versioning needs the target repository's tags for every job, and
 * listing them per job made a 10,000-tag sweep list its 48 repositories 10,000 times (half of
 * the registry's work in bench/bench_fleet.sh). Sharing one listing per run is safe because
 * the plan gives every job its own target tag (producer/plan.c refuses collisions) and the
 * runner still refuses to overwrite a tag that exists at push time.
 *
 * A failed listing is shared too (after producer_list_target_tags()' retries): every job of
 * the repository then fails open with the same warning, instead of each retrying with pauses.
 * A listing abandoned because its caller was stopped is not kept: the next caller lists again.
 * Safe to use from several threads; callers for one repository wait for the first.
 */
#ifndef PRODUCER_TAG_LISTS_H
#define PRODUCER_TAG_LISTS_H

#include "pf/setup.h"
#include "producer/decide.h"

struct pf_registry;
struct pf_strv;
struct producer_tag_lists;

/* Returns 0 with an empty set in *ret, or -ENOMEM. */
int producer_tag_lists_new(struct producer_tag_lists **ret);
/* Frees the set and every listing it holds; accepts NULL; returns NULL. */
struct producer_tag_lists *producer_tag_lists_free(struct producer_tag_lists *l);

/*
 * The tags of `target_repo` ("registry/repository"), listed through `reg` on first use.
 * Returns 0 with *ret pointing at the shared listing (valid until the set is freed; a
 * repository that does not exist yet has an empty one), -EIO-style errors from the listing
 * with *ret NULL and the reason in errbuf (the same reason for every caller), or -ENOMEM.
 */
int producer_tag_lists_get(struct producer_tag_lists *l, struct pf_registry *reg,
                           const char *target_repo, producer_stop_fn stop, void *userdata,
                           const struct pf_strv **ret, char *errbuf, size_t errlen);

/* How many listings were made (for the tests and benchmarks). */
unsigned long producer_tag_lists_made(struct producer_tag_lists *l);

#endif
