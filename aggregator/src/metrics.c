/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition (0.0.4) of the fleet results the aggregator stores. Everything is
 * derived from Redis at scrape time rather than counted in the daemon, so several aggregator
 * replicas (or a restart) all report the same numbers. The seven statuses of the result message (pf/status.h)
 * are always exposed, at 0 when absent, so a rate() or an alert on Failed exists before the
 * first failure; any other status read from the store is exposed as found (bounded).
 */
#include "pf/setup.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "aggregator/metrics.h"
#include "aggregator/store.h"
#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/msg.h"

static int add_status(struct aggregator_metrics *m, const char *status, int64_t n)
{
    struct aggregator_metrics_status *s;

    if (n <= 0)
        return 0;
    for (size_t i = 0; i < m->n_statuses; i++) {
        if (strcmp(m->statuses[i].status, status) == 0) {
            m->statuses[i].n += n;
            return 0;
        }
    }
    if (m->n_statuses == AGGREGATOR_METRICS_MAX_STATUSES) {
        /* A store full of invented statuses must not grow the label set without bound. */
        m->other += n;
        return 0;
    }
    s = &m->statuses[m->n_statuses];
    s->status = pf_strdup(status);
    if (!s->status)
        return -ENOMEM;
    s->n = n;
    m->n_statuses++;
    return 0;
}

int aggregator_metrics_add_run(struct aggregator_metrics *m, const struct aggregator_run_info *run)
{
    m->runs++;
    if (run->completed_ms < 0)
        m->in_progress++;
    for (size_t i = 0; i < run->n_counts; i++) {
        int r = add_status(m, run->counts[i].status, run->counts[i].n);

        if (r < 0)
            return r;
    }
    return 0;
}

int aggregator_metrics_observe(struct aggregator_metrics *m, const struct pf_msg_result *res)
{
    static const double bounds[] = AGGREGATOR_METRICS_BUCKETS;
    double secs;
    size_t i;

    _Static_assert(PF_ARRAY_SIZE(bounds) == AGGREGATOR_METRICS_N_BUCKETS, "bucket count");
    if (res->started_ms <= 0 || res->finished_ms < res->started_ms)
        return 0;
    secs = (double)(res->finished_ms - res->started_ms) / 1000.0;
    for (i = 0; i < AGGREGATOR_METRICS_N_BUCKETS && secs > bounds[i]; i++)
        ;
    m->buckets[i]++;
    m->durations++;
    m->duration_sum += secs;
    return 1;
}

/* Appends `v` as a label value: backslash, double quote and newline escaped, as 0.0.4 says. */
static int append_label_value(struct pf_buf *out, const char *v)
{
    int r = 0;

    for (; r == 0 && *v; v++) {
        if (*v == '\\')
            r = pf_buf_appends(out, "\\\\");
        else if (*v == '"')
            r = pf_buf_appends(out, "\\\"");
        else if (*v == '\n')
            r = pf_buf_appends(out, "\\n");
        else
            r = pf_buf_append(out, v, 1);
    }
    return r;
}

static int append_status_sample(struct pf_buf *out, const char *status, int64_t n)
{
    int r = pf_buf_appends(out, "patchfleet_results_total{status=\"");

    r = r < 0 ? r : append_label_value(out, status);
    return r < 0 ? r : pf_buf_appendf(out, "\"} %" PRId64 "\n", n);
}

static int64_t status_count(const struct aggregator_metrics *m, const char *status)
{
    for (size_t i = 0; i < m->n_statuses; i++)
        if (strcmp(m->statuses[i].status, status) == 0)
            return m->statuses[i].n;
    return 0;
}

static bool is_known(const char *status)
{
    return pf_status_from_string(status) >= 0;
}

static int render_statuses(const struct aggregator_metrics *m, struct pf_buf *out)
{
    int r = pf_buf_appends(out,
                           "# HELP patchfleet_results_total Jobs by the status of their current "
                           "result, over the runs in the store.\n"
                           "# TYPE patchfleet_results_total counter\n");

    for (size_t i = 0; r == 0 && i < PF_STATUS__MAX; i++)
        r = append_status_sample(out, pf_status_to_string((enum pf_status)i),
                                 status_count(m, pf_status_to_string((enum pf_status)i)));
    for (size_t i = 0; r == 0 && i < m->n_statuses; i++)
        if (!is_known(m->statuses[i].status))
            r = append_status_sample(out, m->statuses[i].status, m->statuses[i].n);
    if (r == 0 && m->other > 0)
        r = append_status_sample(out, "other", m->other);
    return r;
}

static int render_histogram(const struct aggregator_metrics *m, struct pf_buf *out)
{
    static const double bounds[] = AGGREGATOR_METRICS_BUCKETS;
    uint64_t cum = 0;
    int r = pf_buf_appends(out, "# HELP patchfleet_job_duration_seconds Time from a job's start "
                                "to its result, for results that carry both.\n"
                                "# TYPE patchfleet_job_duration_seconds histogram\n");

    for (size_t i = 0; r == 0 && i < AGGREGATOR_METRICS_N_BUCKETS; i++) {
        cum += m->buckets[i];
        r = pf_buf_appendf(out, "patchfleet_job_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                           bounds[i], cum);
    }
    cum += m->buckets[AGGREGATOR_METRICS_N_BUCKETS];
    r = r < 0 ? r
              : pf_buf_appendf(out,
                               "patchfleet_job_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
                               "patchfleet_job_duration_seconds_sum %.3f\n"
                               "patchfleet_job_duration_seconds_count %" PRIu64 "\n",
                               cum, m->duration_sum, m->durations);
    return r;
}

int aggregator_metrics_render(const struct aggregator_metrics *m, struct pf_buf *out)
{
    int r = render_statuses(m, out);

    r = r < 0 ? r : render_histogram(m, out);
    r = r < 0 ? r
              : pf_buf_appendf(out,
                               "# HELP patchfleet_runs_in_progress Runs whose results are not "
                               "all in yet.\n"
                               "# TYPE patchfleet_runs_in_progress gauge\n"
                               "patchfleet_runs_in_progress %" PRId64 "\n"
                               "# HELP patchfleet_runs Runs the metrics were computed from.\n"
                               "# TYPE patchfleet_runs gauge\n"
                               "patchfleet_runs %" PRId64 "\n",
                               m->in_progress, m->runs);
    return r;
}

void aggregator_metrics_release(struct aggregator_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_statuses; i++)
        pf_free(m->statuses[i].status);
    *m = (struct aggregator_metrics){0};
}
