/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dry-run plan cache of the job runner (job/patch_job.h): what a dry run planned for one
 * platform manifest, remembered so the same manifest under another tag is answered from
 * memory. Its own module because it has its own job (a bounded, thread-safe LRU map) and its
 * own tests; the runner only builds keys, asks and offers.
 */
#ifndef WORKER_JOB_PLAN_CACHE_H
#define WORKER_JOB_PLAN_CACHE_H

#include "pf/setup.h"

struct pf_platform;
struct worker_patch_platform_result;
struct worker_plan_cache;

/*
 * A process-wide cache of dry-run plans. A dry run's answer for one platform (the engine's os
 * line and upgrades) is a function of the platform manifest, hence of its digest, and of the
 * engine's package indexes, which the engine loads once per process; so a repeated manifest
 * (10,000 tags of a handful of images) is answered from memory: no blob, no merged view, no
 * engine, no work directory. Keyed by (engine name, manifest digest, platform); a single
 * manifest's platform (read from its config) is remembered too, which also saves the config
 * fetch. Real patches never use it: they need the layer file the engine writes. Thread-safe;
 * at most `capacity` entries, the least recently used dropped first. Pair one cache with one
 * engine context: entries do not notice a change of indexes. Returns 0 or -ENOMEM/-EINVAL
 * (capacity 0); the caller frees *ret with worker_plan_cache_free().
 */
int worker_plan_cache_new(size_t capacity, struct worker_plan_cache **ret);

/* Frees `c` (NULL accepted) and every entry; returns NULL. No job may be using it. */
struct worker_plan_cache *worker_plan_cache_free(struct worker_plan_cache *c);

/*
 * Copies the plan remembered under `key` into plan->os, plan->upgrades and plan->n_upgrades
 * (other members untouched) and, when pl is non-NULL, the platform it was stored with into
 * *pl; both are the caller's to release. The job runner's keys are "<engine> <manifest digest>
 * <platform>" and "<engine> <manifest digest> single". Returns 1 on a hit, 0 on a miss (counted
 * in the stats, outputs untouched), -ENOMEM (outputs untouched).
 */
int worker_plan_cache_get(struct worker_plan_cache *c, const char *key,
                          struct worker_patch_platform_result *plan, struct pf_platform *pl);

/* Remembers copies of `pl` and of plan's os and upgrades under `key`, replacing an older entry
 * of that key, dropping the least recently used one when full. Returns 0 or -ENOMEM (nothing
 * changed then). */
int worker_plan_cache_put(struct worker_plan_cache *c, const char *key,
                          const struct pf_platform *pl,
                          const struct worker_patch_platform_result *plan);

/* Lookups answered from the cache and lookups that were not, since creation. */
void worker_plan_cache_stats(struct worker_plan_cache *c, uint64_t *hits, uint64_t *misses);

/*
 * The key of a platform's plan: "<engine> <manifest digest> <platform>", or, with `platform`
 * NULL (a single manifest looked up before its config is read), "<engine> <manifest digest>
 * single". The two forms never share an entry: an index entry's platform comes from the
 * index, a single manifest's from its config, and each is remembered exactly as the uncached
 * run sees it. Returns a new string, or NULL when out of memory.
 */
char *worker_plan_cache_key(const char *engine, const char *digest, const char *platform);

#endif
