/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-job decision Copa makes before patching (docs/reports.md): list the target
 * repository's tags (retried, fail-open), then let the scanner reports and the tag versioning
 * rules say skip or patch, and as which tag. The local run makes it in its pool; the fleet
 * producer makes it before publishing, so a skip verdict travels inside the job message and
 * workers need no shared disk for the reports.
 */
#ifndef PRODUCER_DECIDE_H
#define PRODUCER_DECIDE_H

#include "pf/setup.h"
#include "producer/reports.h"

struct pf_job;
struct pf_registry;
struct pf_strv;
struct producer_tag_lists;

#define PRODUCER_LIST_ATTEMPTS 3

/* Polled between listing attempts; true stops early. */
typedef bool (*producer_stop_fn)(void *userdata);

/* Lists the tags of `target_repo` ("registry/repository") into `ret` (cleared first), trying
 * PRODUCER_LIST_ATTEMPTS times with a growing pause; a repository that does not exist yet has
 * no tags. Returns 0, or the last error with the reason in errbuf. */
int producer_list_target_tags(struct pf_registry *reg, const char *target_repo,
                              producer_stop_fn stop, void *userdata, struct pf_strv *ret,
                              char *errbuf, size_t errlen);

/* The decision for `job` (reports may be NULL: versioning only), from the run's shared
 * listing in `lists` (producer/tag_lists.h), or from a listing made for this job when `lists`
 * is NULL. Returns 0 with *ret filled
 * (release with producer_patch_decision_release()), -ERANGE when no versioned tag is free (the
 * reason in errbuf), or -ENOMEM. A failed listing is not an error: it is the fail-open warning
 * in ret->warning. */
int producer_decide_job(struct pf_registry *reg, struct producer_tag_lists *lists,
                        const struct producer_reports *reps, const struct pf_job *job,
                        producer_stop_fn stop, void *userdata,
                        struct producer_patch_decision *ret, char *errbuf, size_t errlen);

#endif
