/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The identity of a sweep and of its jobs, shared by every way a sweep is recorded (the fleet
 * producer publishing to Kafka, `patchfleet patch --redis` writing to Redis), so a run looks
 * the same in Redis and on the dashboard whichever way it ran. Formats: docs/fleet.md.
 */
#ifndef PRODUCER_RUN_H
#define PRODUCER_RUN_H

#include "pf/setup.h"

struct pf_msg_result;
struct producer_plan_failure;

/* A new run id, "20261126T231500Z-<8 random hex><4 hex of the pid>": sortable by time,
 * unique across producers. Returns a new string, or NULL on OOM. */
char *producer_run_id_new(void);

/* The id of one job of run `run_id`: the hex sha256 of "run\nsource\ntarget_repo:target_tag",
 * so a redelivered job keeps its id. Returns a new string, or NULL on OOM. */
char *producer_job_id(const char *run_id, const char *source, const char *target_repo,
                      const char *target_tag);

/* "sha256:<hex>" of the bytes of the config file at `path`. Returns 0 and a new string in
 * *ret, or a negative errno. */
int producer_config_digest(const char *path, char **ret);

/* Fills *ret (owned strings; pf_msg_result_release() frees them) with the result row of a
 * discovery failure: status Error, as the local run's table shows it, attempt 1, worker
 * "producer". Returns 0 or -ENOMEM (*ret then released). */
int producer_plan_failure_result(const char *run_id, const struct producer_plan_failure *f,
                                 int64_t now_ms, struct pf_msg_result *ret);

/* The wall clock in Unix milliseconds, as messages carry it. */
int64_t producer_now_ms(void);

#endif
