/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the fleet worker's metrics: counts, histogram buckets (cumulative as the
 * exposition format wants), in-flight gauge, and the exact text a scrape gets. */
#include "pf_test.h"

#include <string.h>

#include "image/blob_cache.h"
#include "fleet/metrics.h"

static void render_counts_and_histogram(void **state)
{
    struct worker_metrics *m = worker_metrics_new();
    struct worker_blob_cache_stats blobs = {.hits = 7, .misses = 2, .bytes_pulled = 4096};
    char *text = NULL;
    size_t len = 0;

    (void)state;
    assert_non_null(m);
    worker_metrics_job_begin(m);
    worker_metrics_job_begin(m);
    worker_metrics_job_begin(m);
    worker_metrics_job_end(m, 50);   /* <= 0.1 s */
    worker_metrics_job_end(m, 2000); /* <= 5 s */
    worker_metrics_result(m, "Patched");
    worker_metrics_result(m, "Patched");
    worker_metrics_result(m, "Failed");
    worker_metrics_result(m, "Bogus");
    worker_metrics_dead_lettered(m);
    worker_metrics_pushed(m, 1000);
    worker_metrics_pushed(m, 234);
    assert_int_equal(worker_metrics_render(m, &blobs, &text, &len), 0);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "\npatchfleet_worker_jobs_in_flight 1\n"));
    assert_non_null(strstr(text, "\npatchfleet_worker_results_total{status=\"Patched\"} 2\n"));
    assert_non_null(strstr(text, "\npatchfleet_worker_results_total{status=\"Failed\"} 1\n"));
    assert_non_null(strstr(text, "\npatchfleet_worker_results_total{status=\"Error\"} 0\n"));
    assert_non_null(strstr(text, "\npatchfleet_worker_results_total{status=\"other\"} 1\n"));
    assert_non_null(strstr(text, "\npatchfleet_worker_dead_lettered_total 1\n"));
    assert_non_null(strstr(text, "_bucket{le=\"0.1\"} 1\n"));
    assert_non_null(strstr(text, "_bucket{le=\"1\"} 1\n"));
    assert_non_null(strstr(text, "_bucket{le=\"5\"} 2\n"));
    assert_non_null(strstr(text, "_bucket{le=\"900\"} 2\n"));
    assert_non_null(strstr(text, "_bucket{le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(text, "\npatchfleet_worker_job_duration_seconds_sum 2.050\n"));
    assert_non_null(strstr(text, "\npatchfleet_worker_job_duration_seconds_count 2\n"));
    assert_non_null(strstr(text, "\npatchfleet_worker_pushed_bytes_total 1234\n"));
    assert_non_null(strstr(text, "\npatchfleet_worker_pulled_bytes_total 4096\n"));
    assert_non_null(strstr(text, "\npatchfleet_worker_blob_cache_hits_total 7\n"));
    assert_non_null(strstr(text, "\npatchfleet_worker_blob_cache_misses_total 2\n"));
    pf_free(text);
    worker_metrics_free(m);
}

/* NULL metrics (no --http) make every update a no-op. */
static void null_is_a_no_op(void **state)
{
    (void)state;
    worker_metrics_job_begin(NULL);
    worker_metrics_job_end(NULL, 10);
    worker_metrics_result(NULL, "Patched");
    worker_metrics_dead_lettered(NULL);
    worker_metrics_pushed(NULL, 1);
    assert_null(worker_metrics_free(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(render_counts_and_histogram),
        cmocka_unit_test(null_is_a_no_op),
    };

    return cmocka_run_group_tests_name("worker_metrics", tests, NULL, NULL);
}
