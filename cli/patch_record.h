/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `patchfleet patch --redis URL`: the local run recorded in Redis exactly as the fleet's
 * aggregator records a sweep (same run id format, job ids, Lua script and keys), so
 * `patchfleet summary` and the dashboard show local sweeps too. Recording is best effort:
 * a Redis failure is reported once on stderr and never fails or slows the patch jobs.
 */
#ifndef CLI_PATCH_RECORD_H
#define CLI_PATCH_RECORD_H

#include "pf/setup.h"
#include "job/patch_job.h"

struct pf_job;
struct producer_plan;
struct cli_patch_record;

/* Opens the store at `url`, records the run (config digest, expected = jobs + discovery
 * failures, the plan's warnings, `mode`) and one Error row per discovery failure. Returns 0
 * and *ret, or a negative errno after printing why. */
int cli_patch_record_open(const char *url, const char *config_path, const char *mode,
                          const struct producer_plan *plan, struct cli_patch_record **ret);

/* The run id, for the closing line on stderr. */
const char *cli_patch_record_run_id(const struct cli_patch_record *rec);

/* Records the outcome of one job; thread-safe. `patched` is the reference the summary shows
 * (or NULL), `res` may be NULL for a job that never ran. */
void cli_patch_record_job(struct cli_patch_record *rec, const struct pf_job *job,
                          enum pf_status status, const char *patched, const char *details,
                          const struct worker_patch_job_result *res, int64_t started_ms,
                          int64_t finished_ms);

/* Closes the store; accepts NULL and returns NULL. */
struct cli_patch_record *cli_patch_record_close(struct cli_patch_record *rec);

#endif
