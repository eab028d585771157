/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for aggregator_run_json() and aggregator_run_state(): the one JSON shape of a run
 * that the HTTP API and `patchfleet summary --format json` both write (docs/dashboard.md, RUN):
 * every key present with its schema, unknowns as null, the three states, counts and warnings.
 */
#include "pf_test.h"

#include <jansson.h>

#include "aggregator/store.h"
#include "pf/json.h"

static void run_running_full(void **state)
{
    struct aggregator_count counts[] = {{.status = "Failed", .n = 1},
                                        {.status = "Patched", .n = 2}};
    struct aggregator_run_info in = {.run_id = "R1",
                                     .config_name = "nightly.yaml",
                                     .config_digest = "sha256:ab",
                                     .mode = "push",
                                     .created_ms = 1000,
                                     .expected = 4,
                                     .completed_ms = -1,
                                     .finished = 3,
                                     .counts = counts,
                                     .n_counts = 2};
    char *warn[] = {"ghost: not found"};
    char *text = NULL;
    json_t *o;

    (void)state;
    in.warnings.v = warn;
    in.warnings.n = 1;
    o = aggregator_run_json(&in);
    assert_non_null(o);
    assert_int_equal(pf_json_dump(o, &text, NULL), 0);
    assert_string_equal(text, "{\"schema\":1,\"run_id\":\"R1\",\"state\":\"running\","
                              "\"config_name\":\"nightly.yaml\",\"config_digest\":\"sha256:ab\","
                              "\"mode\":\"push\",\"created_ms\":1000,\"completed_ms\":null,"
                              "\"expected\":4,\"finished\":3,\"counts\":{\"Failed\":1,"
                              "\"Patched\":2},\"warnings\":[\"ghost: not found\"]}");
    pf_free(text);
    json_decref(o);
}

static void run_pending_unknowns_null(void **state)
{
    struct aggregator_run_info in = {.run_id = "R2",
                                     .created_ms = -1,
                                     .expected = -1,
                                     .completed_ms = -1,
                                     .finished = 1};
    json_t *o;

    (void)state;
    assert_string_equal(aggregator_run_state(&in), "pending");
    o = aggregator_run_json(&in);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "schema")), AGGREGATOR_RUN_SCHEMA);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "pending");
    assert_true(json_is_null(json_object_get(o, "config_name")));
    assert_true(json_is_null(json_object_get(o, "config_digest")));
    assert_true(json_is_null(json_object_get(o, "mode")));
    assert_true(json_is_null(json_object_get(o, "created_ms")));
    assert_true(json_is_null(json_object_get(o, "expected")));
    assert_true(json_is_null(json_object_get(o, "completed_ms")));
    assert_int_equal(json_integer_value(json_object_get(o, "finished")), 1);
    assert_int_equal(json_object_size(json_object_get(o, "counts")), 0);
    assert_int_equal(json_array_size(json_object_get(o, "warnings")), 0);
    json_decref(o);
}

static void run_states(void **state)
{
    struct aggregator_run_info in = {.expected = 2, .completed_ms = -1};

    (void)state;
    assert_string_equal(aggregator_run_state(&in), "running");
    in.completed_ms = 5;
    assert_string_equal(aggregator_run_state(&in), "complete");
    in.expected = -1; /* completion wins whatever else is known */
    assert_string_equal(aggregator_run_state(&in), "complete");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_running_full),
        cmocka_unit_test(run_pending_unknowns_null),
        cmocka_unit_test(run_states),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
