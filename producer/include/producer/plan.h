/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Expansion of a PatchConfig into jobs: for every image entry, discover the tags its strategy
 * selects, name the target repository and render the target tag. The registry is reached
 * only through the catalog callbacks below, so the expansion is a pure function of the
 * config and what the catalog answers, and tests run it without a registry.
 *
 * Failures are data, not log lines (Copa's R12 gap): an entry whose discovery fails, or a job
 * whose target collides with another's, becomes a pf_plan_failure that the summary shows and
 * that makes the run's exit status non-zero.
 */
#ifndef PRODUCER_PLAN_H
#define PRODUCER_PLAN_H

#include <stdint.h>

#include "pf/config.h"
#include "pf/job.h"
#include "pf/ref.h"
#include "pf/strv.h"

/* What the expansion needs to know about registries. Each callback returns 0 or a negative
 * errno with a human reason in errbuf (which must not contain credentials). */
struct producer_catalog {
    /* All tags of `repo` (a repository ref without tag). */
    int (*list_tags)(void *userdata, const struct pf_ref *repo, struct pf_strv *ret, char *errbuf,
                     size_t errlen);
    /* Creation time of the image at `ref` (a ref with tag): for `latest` over non-versions.
     * May be NULL. */
    int (*created)(void *userdata, const struct pf_ref *ref, int64_t *ret, char *errbuf,
                   size_t errlen);
    void *userdata;
};

struct producer_plan_failure {
    char *name;   /* image entry name */
    char *source; /* the repository (or repository:tag) concerned, normalised when possible */
    char *reason;
};

struct producer_plan {
    struct pf_job *jobs;
    size_t n_jobs;
    struct producer_plan_failure *failures;
    size_t n_failures;
    struct pf_strv warnings; /* "image 'nginx': tag '1.9' not found in the repository, skipping" */
};

/*
 * Expands `cfg` through `catalog` into *ret (zeroed by the caller). Jobs come in config
 * order, tags ascending within an entry. Returns 0 (failures and warnings may be present in
 * *ret) or -ENOMEM; on -ENOMEM *ret holds whatever was built and must still be released.
 */
int producer_plan_build(const struct pf_config *cfg, const struct producer_catalog *catalog,
                        struct producer_plan *ret);

void producer_plan_release(struct producer_plan *plan);

#endif
