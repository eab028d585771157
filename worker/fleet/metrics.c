/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker's metrics (worker/metrics.h). Durations go into fixed buckets chosen for patch jobs
 * (a dry run takes milliseconds, a large image minutes); a histogram keeps them mergeable across
 * workers, which per-worker quantiles would not be.
 */
#include "pf/setup.h"

#include <stdatomic.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/msg.h"
#include "image/blob_cache.h"
#include "fleet/metrics.h"

static const double bucket_s[] = {0.1, 0.5, 1, 5, 15, 60, 300, 900};
#define N_BUCKETS PF_ARRAY_SIZE(bucket_s)
#define METRICS_MAX_TEXT ((size_t)64 << 10)

struct worker_metrics {
    atomic_llong in_flight;
    atomic_ullong results[PF_STATUS__MAX + 1]; /* the last one: "other" */
    atomic_ullong dead_lettered;
    atomic_ullong buckets[N_BUCKETS]; /* non-cumulative; summed when rendered */
    atomic_ullong count;
    atomic_ullong sum_ms;
    atomic_ullong bytes_pushed;
};

struct worker_metrics *worker_metrics_new(void)
{
    return pf_calloc(1, sizeof(struct worker_metrics));
}

struct worker_metrics *worker_metrics_free(struct worker_metrics *m)
{
    return pf_free(m);
}

void worker_metrics_job_begin(struct worker_metrics *m)
{
    if (m)
        atomic_fetch_add(&m->in_flight, 1);
}

void worker_metrics_job_end(struct worker_metrics *m, int64_t duration_ms)
{
    if (!m)
        return;
    if (duration_ms < 0)
        duration_ms = 0;
    atomic_fetch_sub(&m->in_flight, 1);
    atomic_fetch_add(&m->count, 1);
    atomic_fetch_add(&m->sum_ms, (unsigned long long)duration_ms);
    for (size_t i = 0; i < N_BUCKETS; i++)
        if ((double)duration_ms <= bucket_s[i] * 1000) {
            atomic_fetch_add(&m->buckets[i], 1);
            break;
        }
}

void worker_metrics_result(struct worker_metrics *m, const char *status)
{
    enum pf_status s = pf_status_from_string(status);

    if (!m)
        return;
    atomic_fetch_add(&m->results[s < 0 ? PF_STATUS__MAX : s], 1);
}

void worker_metrics_dead_lettered(struct worker_metrics *m)
{
    if (m)
        atomic_fetch_add(&m->dead_lettered, 1);
}

void worker_metrics_pushed(struct worker_metrics *m, uint64_t bytes)
{
    if (m)
        atomic_fetch_add(&m->bytes_pushed, (unsigned long long)bytes);
}

int worker_metrics_render(const struct worker_metrics *m,
                          const struct worker_blob_cache_stats *blobs, char **ret, size_t *ret_len)
{
    struct pf_buf b;
    unsigned long long cum = 0, count = atomic_load(&m->count);
    int r;

    pf_buf_init(&b, METRICS_MAX_TEXT);
    r = pf_buf_appendf(&b,
                       "# HELP patchfleet_worker_jobs_in_flight Jobs this worker is running.\n"
                       "# TYPE patchfleet_worker_jobs_in_flight gauge\n"
                       "patchfleet_worker_jobs_in_flight %lld\n"
                       "# HELP patchfleet_worker_results_total Results this worker published.\n"
                       "# TYPE patchfleet_worker_results_total counter\n",
                       (long long)atomic_load(&m->in_flight));
    for (size_t i = 0; r >= 0 && i <= PF_STATUS__MAX; i++)
        r = pf_buf_appendf(&b, "patchfleet_worker_results_total{status=\"%s\"} %llu\n",
                           i < PF_STATUS__MAX ? pf_status_to_string((enum pf_status)i) : "other",
                           (unsigned long long)atomic_load(&m->results[i]));
    if (r >= 0)
        r = pf_buf_appendf(&b,
                           "# HELP patchfleet_worker_dead_lettered_total Jobs moved to the "
                           "dead-letter topic.\n"
                           "# TYPE patchfleet_worker_dead_lettered_total counter\n"
                           "patchfleet_worker_dead_lettered_total %llu\n"
                           "# HELP patchfleet_worker_job_duration_seconds Time from a job's start "
                           "to its result.\n"
                           "# TYPE patchfleet_worker_job_duration_seconds histogram\n",
                           (unsigned long long)atomic_load(&m->dead_lettered));
    for (size_t i = 0; r >= 0 && i < N_BUCKETS; i++) {
        cum += atomic_load(&m->buckets[i]);
        r = pf_buf_appendf(&b, "patchfleet_worker_job_duration_seconds_bucket{le=\"%g\"} %llu\n",
                           bucket_s[i], cum);
    }
    if (r >= 0)
        r = pf_buf_appendf(&b,
                           "patchfleet_worker_job_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                           "patchfleet_worker_job_duration_seconds_sum %.3f\n"
                           "patchfleet_worker_job_duration_seconds_count %llu\n",
                           count, (double)atomic_load(&m->sum_ms) / 1000.0, count);
    if (r >= 0)
        r = pf_buf_appendf(&b,
                           "# HELP patchfleet_worker_pushed_bytes_total Blob bytes uploaded to "
                           "registries.\n"
                           "# TYPE patchfleet_worker_pushed_bytes_total counter\n"
                           "patchfleet_worker_pushed_bytes_total %llu\n",
                           (unsigned long long)atomic_load(&m->bytes_pushed));
    if (r >= 0 && blobs)
        r = pf_buf_appendf(&b,
                           "# HELP patchfleet_worker_pulled_bytes_total Blob bytes downloaded "
                           "into the blob cache.\n"
                           "# TYPE patchfleet_worker_pulled_bytes_total counter\n"
                           "patchfleet_worker_pulled_bytes_total %llu\n"
                           "# HELP patchfleet_worker_blob_cache_hits_total Blobs served from the "
                           "cache.\n"
                           "# TYPE patchfleet_worker_blob_cache_hits_total counter\n"
                           "patchfleet_worker_blob_cache_hits_total %llu\n"
                           "# HELP patchfleet_worker_blob_cache_misses_total Blobs downloaded.\n"
                           "# TYPE patchfleet_worker_blob_cache_misses_total counter\n"
                           "patchfleet_worker_blob_cache_misses_total %llu\n",
                           (unsigned long long)blobs->bytes_pulled, (unsigned long long)blobs->hits,
                           (unsigned long long)blobs->misses);
    if (r < 0) {
        pf_buf_release(&b);
        return -ENOMEM;
    }
    *ret = pf_buf_steal(&b, ret_len);
    return *ret ? 0 : -ENOMEM;
}
