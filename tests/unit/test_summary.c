/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the pure parts of `patch` (cli/summary.c): the summary renderers, the exit
 * status and the versioned patched tag. The
 * CLI is an executable, not a library, so the pure summary module is compiled into this test
 * directly; it depends on nothing but pf_common and the worker's status names.
 */
#include "pf_test.h"

#include "pf/json.h"

#include "../../cli/summary.c"

/* Rows deliberately out of order, with empty cells and a multi-line detail. */
static const struct cli_summary_row unsorted_rows[] = {
    {"redis", PF_STATUS_PATCHED, "docker.io/library/redis:7.2", "reg.test/redis:7.2-patched",
     "2 upgraded", NULL, 0},
    {"nginx", PF_STATUS_FAILED, "docker.io/library/nginx:1.25", NULL,
     "pull failed:\nconnection\treset", NULL, 0},
    {"nginx", PF_STATUS_UP_TO_DATE, "docker.io/library/nginx:1.24", "", NULL, NULL, 0},
};

static void table_sorted_aligned_dashes(void **state)
{
    char *t = NULL;

    (void)state;
    assert_int_equal(cli_summary_table(unsorted_rows, PF_ARRAY_SIZE(unsorted_rows), true, &t), 0);
    assert_string_equal(
        t, "NAME   STATUS    SOURCE IMAGE                  PATCHED TAG                 DETAILS\n"
           "nginx  UpToDate  docker.io/library/nginx:1.24  -                           -\n"
           "nginx  Failed    docker.io/library/nginx:1.25  -                           "
           "pull failed: connection reset\n"
           "redis  Patched   docker.io/library/redis:7.2   reg.test/redis:7.2-patched  "
           "2 upgraded\n");
    pf_free(t);
}

static void table_empty_has_header(void **state)
{
    char *t = NULL;

    (void)state;
    assert_int_equal(cli_summary_table(NULL, 0, true, &t), 0);
    assert_string_equal(t, "NAME  STATUS  SOURCE IMAGE  PATCHED TAG  DETAILS\n");
    pf_free(t);
}

/* Widths count UTF-8 characters, so a name with "é" still lines up; a byte that is not UTF-8
 * and control characters (CR, ESC, DEL) cannot break the layout or the terminal. */
static void table_utf8_and_odd_bytes(void **state)
{
    const struct cli_summary_row rows[] = {
        {"caf\xC3\xA9", PF_STATUS_CANCELLED, "r/a:1", NULL, "timed out\r\x1B[31m\x7F", NULL, 0},
        {"zz", PF_STATUS_PLANNED, "r/b:1", NULL, "bad \xFF\xC3 byte", NULL, 0},
    };
    char *t = NULL;

    (void)state;
    assert_int_equal(cli_summary_table(rows, PF_ARRAY_SIZE(rows), true, &t), 0);
    assert_string_equal(t, "NAME  STATUS     SOURCE IMAGE  PATCHED TAG  DETAILS\n"
                           "caf\xC3\xA9  Cancelled  r/a:1         -            timed out  [31m \n"
                           "zz    Planned    r/b:1         -            bad ?? byte\n");
    pf_free(t);
}

/* Equal names and sources keep their input order (stable), so output never flickers. */
static void table_stable_for_equal_keys(void **state)
{
    const struct cli_summary_row rows[] = {
        {"a", PF_STATUS_FAILED, "s", NULL, "first", NULL, 0},
        {"a", PF_STATUS_FAILED, "s", NULL, "second", NULL, 0},
        {NULL, PF_STATUS_FAILED, NULL, NULL, "nameless", NULL, 0},
    };
    char *t = NULL;

    (void)state;
    assert_int_equal(cli_summary_table(rows, PF_ARRAY_SIZE(rows), true, &t), 0);
    assert_string_equal(t, "NAME  STATUS  SOURCE IMAGE  PATCHED TAG  DETAILS\n"
                           "-     Failed  -             -            nameless\n"
                           "a     Failed  s             -            first\n"
                           "a     Failed  s             -            second\n");
    pf_free(t);
}

/* Every allocation failure yields -ENOMEM, leaves *ret alone and leaks nothing (ASan). */
static void table_out_of_memory(void **state)
{
    unsigned long n;
    int r = -ENOMEM;

    (void)state;
    for (n = 1; r == -ENOMEM; n++) {
        char *t = NULL;
        pf_alloc_fail_at(n, true);
        r = cli_summary_table(unsorted_rows, PF_ARRAY_SIZE(unsorted_rows), true, &t);
        pf_alloc_fail_at(0, false);
        if (r == -ENOMEM)
            assert_null(t);
        pf_free(t);
    }
    assert_int_equal(r, 0);
    assert_true(n > 5);
}

static const char *obj_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_non_null(v);
    return json_is_null(v) ? NULL : json_string_value(v);
}

static void json_document(void **state)
{
    struct worker_engine_upgrade ups[] = {
        {"libc6", "amd64", "2.36-9", "2.36-9+deb12u4"},
        {"libnew1", "amd64", NULL, "1.0-1"},
    };
    struct worker_patch_platform_result plats[] = {
        {"linux/amd64", "debian 12", ups, PF_ARRAY_SIZE(ups), NULL},
        {"linux/arm64", NULL, NULL, 0, "no such\nmirror \xFF"},
    };
    const struct cli_summary_row rows[] = {
        {"web", PF_STATUS_PLANNED, "r/web:2", NULL, "2 to upgrade", plats, 2},
        {"api", PF_STATUS_FAILED, "r/api:1", NULL, "discovery \"failed\"", NULL, 0},
    };
    json_t *doc, *results, *web, *p0, *p1, *u1;
    json_error_t err;
    char *text = NULL;

    (void)state;
    assert_int_equal(cli_summary_json(rows, PF_ARRAY_SIZE(rows), &text), 0);
    assert_int_equal(text[strlen(text) - 1], '\n');
    doc = json_loads(text, 0, &err);
    assert_non_null(doc);
    results = json_object_get(doc, "results");
    assert_int_equal(json_array_size(results), 2);
    /* Sorted like the table: api before web. */
    assert_string_equal(obj_str(json_array_get(results, 0), "name"), "api");
    assert_string_equal(obj_str(json_array_get(results, 0), "details"), "discovery \"failed\"");
    assert_int_equal(json_array_size(json_object_get(json_array_get(results, 0), "platforms")), 0);
    web = json_array_get(results, 1);
    assert_string_equal(obj_str(web, "status"), "Planned");
    assert_string_equal(obj_str(web, "source"), "r/web:2");
    assert_null(obj_str(web, "patched"));
    p0 = json_array_get(json_object_get(web, "platforms"), 0);
    p1 = json_array_get(json_object_get(web, "platforms"), 1);
    assert_string_equal(obj_str(p0, "platform"), "linux/amd64");
    assert_string_equal(obj_str(p0, "os"), "debian 12");
    assert_null(obj_str(p0, "error"));
    assert_int_equal(json_array_size(json_object_get(p0, "upgrades")), 2);
    u1 = json_array_get(json_object_get(p0, "upgrades"), 1);
    assert_string_equal(obj_str(u1, "name"), "libnew1");
    assert_string_equal(obj_str(u1, "arch"), "amd64");
    assert_null(obj_str(u1, "from"));
    assert_string_equal(obj_str(u1, "to"), "1.0-1");
    assert_null(obj_str(p1, "os"));
    /* JSON keeps the newline (escaped) but must replace the invalid byte. */
    assert_string_equal(obj_str(p1, "error"), "no such\nmirror ?");
    assert_int_equal(json_array_size(json_object_get(p1, "upgrades")), 0);
    json_decref(doc);
    pf_free(text);
}

static void json_empty(void **state)
{
    char *text = NULL;

    (void)state;
    assert_int_equal(cli_summary_json(NULL, 0, &text), 0);
    assert_string_equal(text, "{\n  \"results\": []\n}\n");
    pf_free(text);
}

static void exit_status(void **state)
{
    static const struct {
        enum pf_status status;
        bool ignore_errors, interrupted;
        int want;
    } cases[] = {
        {PF_STATUS_PATCHED, false, false, CLI_EXIT_OK},
        {PF_STATUS_UP_TO_DATE, false, false, CLI_EXIT_OK},
        {PF_STATUS_PLANNED, false, false, CLI_EXIT_OK},
        {PF_STATUS_FAILED, false, false, CLI_EXIT_FAILED},
        {PF_STATUS_CANCELLED, false, false, CLI_EXIT_FAILED},
        {PF_STATUS_SKIPPED, false, false, CLI_EXIT_OK},
        {PF_STATUS_ERROR, false, false, CLI_EXIT_FAILED}, /* discovery failures count (R12) */
        {PF_STATUS_ERROR, true, false, CLI_EXIT_OK},
        {PF_STATUS_FAILED, true, false, CLI_EXIT_OK},
        {PF_STATUS_PATCHED, false, true, CLI_EXIT_INTERRUPTED},
        {PF_STATUS_CANCELLED, true, true, CLI_EXIT_INTERRUPTED},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        /* An up-to-date row beside the one under test must not mask it (Copa's bug, R25). */
        const struct cli_summary_row rows[] = {
            {"a", PF_STATUS_UP_TO_DATE, "s", NULL, NULL, NULL, 0},
            {"b", cases[i].status, "s", NULL, NULL, NULL, 0},
        };
        assert_int_equal(cli_summary_exit_status(rows, 2, cases[i].ignore_errors,
                                                 cases[i].interrupted),
                         cases[i].want);
    }
    assert_int_equal(cli_summary_exit_status(NULL, 0, false, false), CLI_EXIT_OK);
}

/* Copa's columns: PATCHED TAG holds the tag, the full reference with --format wide; every
 * status word of the docs appears as written. */
static void table_narrow_and_wide(void **state)
{
    static const struct cli_summary_row rows[] = {
        {"a", PF_STATUS_PATCHED, "r:5000/x/a:1", "r:5000/x/a:1-patched", "OK", NULL, 0},
        {"b", PF_STATUS_SKIPPED, "r:5000/x/b:2", "r:5000/x/b:2-patched-3",
         "no fixable vulnerabilities", NULL, 0},
        {"c", PF_STATUS_ERROR, "r:5000/x/c", NULL, "cannot list tags", NULL, 0},
        {"d", PF_STATUS_PATCHED, "r/d:1", "oci:/o:r/d:1-patched", "OK", NULL, 0},
    };
    char *t = NULL;

    (void)state;
    assert_int_equal(cli_summary_table(rows, PF_ARRAY_SIZE(rows), false, &t), 0);
    assert_string_equal(t, "NAME  STATUS   SOURCE IMAGE  PATCHED TAG  DETAILS\n"
                           "a     Patched  r:5000/x/a:1  1-patched    OK\n"
                           "b     Skipped  r:5000/x/b:2  2-patched-3  no fixable vulnerabilities\n"
                           "c     Error    r:5000/x/c    -            cannot list tags\n"
                           "d     Patched  r/d:1         1-patched    OK\n");
    pf_free(t);
    assert_int_equal(cli_summary_table(rows, 2, true, &t), 0);
    assert_non_null(strstr(t, "Skipped  r:5000/x/b:2  r:5000/x/b:2-patched-3  no fixable"));
    pf_free(t);
    assert_string_equal(cli_summary_tag_of("host:5000/repo"), "host:5000/repo");
    assert_null(cli_summary_tag_of(NULL));
    for (int s = 0; s < PF_STATUS__MAX; s++)
        assert_non_null(pf_status_to_string((enum pf_status)s));
    assert_string_equal(pf_status_to_string(PF_STATUS_SKIPPED), "Skipped");
    assert_string_equal(pf_status_to_string(PF_STATUS_ERROR), "Error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_sorted_aligned_dashes),
        cmocka_unit_test(table_empty_has_header),
        cmocka_unit_test(table_utf8_and_odd_bytes),
        cmocka_unit_test(table_stable_for_equal_keys),
        cmocka_unit_test(table_out_of_memory),
        cmocka_unit_test(table_narrow_and_wide),
        cmocka_unit_test(json_document),
        cmocka_unit_test(json_empty),
        cmocka_unit_test(exit_status),
    };

    return cmocka_run_group_tests_name("summary", tests, NULL, NULL);
}
