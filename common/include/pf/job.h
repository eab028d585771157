/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A job: one source image tag to patch, with where its result goes. The producer makes jobs
 * from a PatchConfig; workers (threads in the local run, processes in fleet mode) execute
 * them. All references are in normalised form (pf/ref.h), so every stage spells an image the
 * same way.
 */
#ifndef PF_JOB_H
#define PF_JOB_H

#include "pf/strv.h"

struct pf_job {
    char *name;               /* the config's image entry name (summary NAME column) */
    char *source;             /* "registry/repository:tag", normalised */
    char *source_tag;         /* the tag alone */
    char *target_repo;        /* "registry/repository", normalised */
    char *target_tag;         /* the rendered tag template: the base patched tag */
    struct pf_strv platforms; /* "os/arch[/variant]"; empty = every platform of the image */
};

/* Frees the members of `job` (not the struct itself) and zeroes it. */
void pf_job_release(struct pf_job *job);

#endif
