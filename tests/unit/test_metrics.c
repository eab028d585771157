/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aggregator/metrics.c: the Prometheus text the aggregator serves, from hand-built runs and
 * rows. The integration test dashboard_api.sh parses the same output strictly from a live
 * server; here the exact lines, label escaping, bucket edges and the status bound are pinned.
 */
#include "pf_test.h"

#include "aggregator/metrics.h"
#include "aggregator/store.h"
#include "pf/msg.h"

static char *render(const struct aggregator_metrics *m)
{
    struct pf_buf out = PF_BUF_INIT;

    assert_int_equal(aggregator_metrics_render(m, &out), 0);
    return pf_buf_steal(&out, NULL);
}

static void assert_line(const char *text, const char *line)
{
    char want[256];

    snprintf(want, sizeof(want), "\n%s\n", line);
    if (!strstr(text, want) && strncmp(text, want + 1, strlen(want + 1)) != 0)
        fail_msg("missing line '%s' in:\n%s", line, text);
}

static void test_counts_and_runs(void **state)
{
    struct aggregator_count c1[] = {{"Failed", 2}, {"Patched", 3}};
    struct aggregator_count c2[] = {{"Patched", 1}, {"Weird\"\\\nstatus", 4}};
    struct aggregator_run_info done = {.completed_ms = 5, .counts = c1, .n_counts = 2};
    struct aggregator_run_info live = {.completed_ms = -1, .counts = c2, .n_counts = 2};
    struct aggregator_metrics m = {0};
    char *text;

    (void)state;
    assert_int_equal(aggregator_metrics_add_run(&m, &done), 0);
    assert_int_equal(aggregator_metrics_add_run(&m, &live), 0);
    text = render(&m);
    assert_line(text, "# TYPE patchfleet_results_total counter");
    assert_line(text, "patchfleet_results_total{status=\"Patched\"} 4");
    assert_line(text, "patchfleet_results_total{status=\"Failed\"} 2");
    /* Known statuses are always there, at 0 when absent. */
    assert_line(text, "patchfleet_results_total{status=\"Cancelled\"} 0");
    assert_line(text, "patchfleet_results_total{status=\"UpToDate\"} 0");
    /* Label values escape backslash, double quote and newline. */
    assert_line(text, "patchfleet_results_total{status=\"Weird\\\"\\\\\\nstatus\"} 4");
    assert_line(text, "patchfleet_runs_in_progress 1");
    assert_line(text, "patchfleet_runs 2");
    assert_line(text, "# TYPE patchfleet_runs_in_progress gauge");
    assert_int_equal(text[strlen(text) - 1], '\n');
    pf_free(text);
    aggregator_metrics_release(&m);
}

static void test_histogram(void **state)
{
    static const struct {
        int64_t started, finished;
        int observed;
    } rows[] = {
        {1000, 1500, 1},    /* 0.5 s */
        {1000, 2000, 1},    /* exactly 1 s: in le="1" (upper bounds are inclusive) */
        {1000, 13000, 1},   /* 12 s */
        {1000, 5000000, 1}, /* 4999 s: only +Inf */
        {0, 2000, 0},       /* no start time */
        {3000, 2000, 0},    /* finished before it started */
    };
    struct aggregator_metrics m = {0};
    char *text;

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(rows); i++) {
        struct pf_msg_result r = {.started_ms = rows[i].started, .finished_ms = rows[i].finished};

        assert_int_equal(aggregator_metrics_observe(&m, &r), rows[i].observed);
    }
    text = render(&m);
    assert_line(text, "# TYPE patchfleet_job_duration_seconds histogram");
    assert_line(text, "patchfleet_job_duration_seconds_bucket{le=\"1\"} 2");
    assert_line(text, "patchfleet_job_duration_seconds_bucket{le=\"5\"} 2");
    assert_line(text, "patchfleet_job_duration_seconds_bucket{le=\"15\"} 3");
    assert_line(text, "patchfleet_job_duration_seconds_bucket{le=\"3600\"} 3");
    assert_line(text, "patchfleet_job_duration_seconds_bucket{le=\"+Inf\"} 4");
    assert_line(text, "patchfleet_job_duration_seconds_count 4");
    assert_line(text, "patchfleet_job_duration_seconds_sum 5012.500");
    pf_free(text);
    aggregator_metrics_release(&m);
}

static void test_empty_and_status_bound(void **state)
{
    struct aggregator_metrics m = {0};
    char *text, name[32];

    (void)state;
    text = render(&m);
    assert_line(text, "patchfleet_job_duration_seconds_bucket{le=\"+Inf\"} 0");
    assert_line(text, "patchfleet_runs_in_progress 0");
    assert_null(strstr(text, "status=\"other\""));
    pf_free(text);
    /* More distinct statuses than the bound: the excess is summed under "other". */
    for (int i = 0; i < AGGREGATOR_METRICS_MAX_STATUSES + 3; i++) {
        struct aggregator_count c = {name, 1};
        struct aggregator_run_info run = {.completed_ms = 1, .counts = &c, .n_counts = 1};

        snprintf(name, sizeof(name), "S%d", i);
        assert_int_equal(aggregator_metrics_add_run(&m, &run), 0);
    }
    text = render(&m);
    assert_line(text, "patchfleet_results_total{status=\"other\"} 3");
    assert_line(text, "patchfleet_results_total{status=\"S0\"} 1");
    pf_free(text);
    aggregator_metrics_release(&m);
    aggregator_metrics_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_runs),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_empty_and_status_bound),
    };

    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
