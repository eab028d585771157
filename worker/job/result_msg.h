/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A job result (worker_patch_job_result) as the platforms of a result message (pf_msg_result),
 * for the two places that record results: the fleet worker publishing to Kafka and the local
 * run writing to Redis. Strings are borrowed, only the arrays are new: a result message is
 * encoded and dropped while the job result is still alive.
 */
#ifndef WORKER_JOB_RESULT_MSG_H
#define WORKER_JOB_RESULT_MSG_H

#include "pf/msg.h"
#include "job/patch_job.h"

/* Sets *ret to a new array of res->n_platforms message platforms (NULL when there are none)
 * whose strings point into `res`. Returns 0, or -ENOMEM with *ret untouched. */
int worker_result_msg_platforms(const struct worker_patch_job_result *res,
                                struct pf_msg_platform **ret);

/* Frees an array from worker_result_msg_platforms() (not the borrowed strings); accepts NULL. */
void worker_result_msg_platforms_free(struct pf_msg_platform *p, size_t n);

#endif
