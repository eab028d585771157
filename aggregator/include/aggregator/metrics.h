/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The aggregator's /metrics in the Prometheus text exposition format (version 0.0.4), built
 * from what the Redis store holds: results by status, job durations as a histogram, runs in
 * progress. The module is pure (no Redis, no HTTP): api.c feeds it runs and result rows and
 * gets text back, so the format is unit-tested without a server.
 */
#ifndef AGGREGATOR_METRICS_H
#define AGGREGATOR_METRICS_H

#include "pf/setup.h"

struct pf_buf;
struct pf_msg_result;
struct aggregator_run_info;

/* Upper bounds (seconds) of the job duration histogram; +Inf is implied. */
#define AGGREGATOR_METRICS_BUCKETS                                                                 \
    {                                                                                              \
        1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0                            \
    }
#define AGGREGATOR_METRICS_N_BUCKETS 10
#define AGGREGATOR_METRICS_MAX_STATUSES 32 /* distinct status labels kept; more are "other" */

struct aggregator_metrics_status {
    char *status;
    int64_t n;
};

/* An accumulator; zero-initialise it, feed it, render it, release it. */
struct aggregator_metrics {
    struct aggregator_metrics_status statuses[AGGREGATOR_METRICS_MAX_STATUSES];
    size_t n_statuses;
    int64_t other;       /* results whose status did not fit in `statuses` */
    int64_t runs;        /* runs seen */
    int64_t in_progress; /* runs seen without completed_ms */
    uint64_t buckets[AGGREGATOR_METRICS_N_BUCKETS + 1]; /* non-cumulative; last is +Inf */
    uint64_t durations;                                 /* observations */
    double duration_sum;                                /* seconds */
};

/* Adds a run's counts by status and whether it is still in progress. Returns 0 or -ENOMEM;
 * on failure the counts added so far stay (render reports what was gathered). */
int aggregator_metrics_add_run(struct aggregator_metrics *m, const struct aggregator_run_info *run);

/* Observes one result row's duration (finished_ms - started_ms). Rows without a start time or
 * with a finish before their start carry no duration and are skipped; returns 1 when observed,
 * 0 when skipped. */
int aggregator_metrics_observe(struct aggregator_metrics *m, const struct pf_msg_result *res);

/* Appends the exposition text to `out`. Returns 0 or -ENOMEM (the buffer's maximum). */
int aggregator_metrics_render(const struct aggregator_metrics *m, struct pf_buf *out);

/* Frees what the accumulator owns and zeroes it; accepts NULL. */
void aggregator_metrics_release(struct aggregator_metrics *m);

#endif
