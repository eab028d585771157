/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Job lifecycle helpers; see pf/job.h.
 */
#include "pf/setup.h"

#include <string.h>

#include "pf/alloc.h"
#include "pf/job.h"

void pf_job_release(struct pf_job *job)
{
    pf_free(job->name);
    pf_free(job->source);
    pf_free(job->source_tag);
    pf_free(job->target_repo);
    pf_free(job->target_tag);
    pf_strv_clear(&job->platforms);
    memset(job, 0, sizeof(*job));
}
