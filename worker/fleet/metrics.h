/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fleet worker's own Prometheus metrics, served on its --http address beside /healthz: jobs in
 * flight, results by status, job durations, dead-lettered jobs, bytes pushed, and the blob
 * cache's hits, misses and bytes pulled. Lock-free counters, because
 * every job thread updates them and a scrape must never wait for a job.
 */
#ifndef WORKER_FLEET_METRICS_H
#define WORKER_FLEET_METRICS_H

#include "pf/setup.h"

struct worker_metrics;
struct worker_blob_cache_stats;

/* Returns a new, zeroed set of counters, or NULL on OOM. */
struct worker_metrics *worker_metrics_new(void);
/* Accepts NULL; returns NULL. */
struct worker_metrics *worker_metrics_free(struct worker_metrics *m);

/* A job started running (in flight until worker_metrics_job_end()). NULL m is a no-op, as for
 * every update below. */
void worker_metrics_job_begin(struct worker_metrics *m);
/* A job that began has ended, `duration_ms` after it began. */
void worker_metrics_job_end(struct worker_metrics *m, int64_t duration_ms);
/* A result was published with `status` (a pf/status.h word; others count as "other"). */
void worker_metrics_result(struct worker_metrics *m, const char *status);
/* A job was moved to the dead-letter topic. */
void worker_metrics_dead_lettered(struct worker_metrics *m);
/* A job uploaded `bytes` of blobs. */
void worker_metrics_pushed(struct worker_metrics *m, uint64_t bytes);

/* Renders the Prometheus text exposition (format 0.0.4), with the blob cache's counters when
 * `blobs` is not NULL. Returns 0 and a new string in *ret (length in *ret_len), or -ENOMEM. */
int worker_metrics_render(const struct worker_metrics *m,
                          const struct worker_blob_cache_stats *blobs, char **ret, size_t *ret_len);

#endif
