/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the small base modules: strv, buf, diag, alloc (and pf_grow), err. */
#include "pf_test.h"

#include "pf/diag.h"
#include "pf/err.h"
#include "pf/strv.h"

static void strv_push_join_find(void **state)
{
    struct pf_strv sv = PF_STRV_INIT;
    char *joined;

    (void)state;
    assert_int_equal(pf_strv_push(&sv, "a"), 0);
    assert_int_equal(pf_strv_pushf(&sv, "b%d", 2), 0);
    assert_int_equal(pf_strv_push(&sv, "c"), 0);
    assert_int_equal(sv.n, 3);
    assert_null(sv.v[3]);
    assert_int_equal(pf_strv_find(&sv, "b2"), 1);
    assert_false(pf_strv_contains(&sv, "d"));
    joined = pf_strv_join(&sv, ", ");
    assert_string_equal(joined, "a, b2, c");
    pf_free(joined);
    pf_strv_clear(&sv);
    assert_int_equal(sv.n, 0);
    joined = pf_strv_join(&sv, ",");
    assert_string_equal(joined, "");
    pf_free(joined);
}

static void buf_respects_maximum(void **state)
{
    struct pf_buf b;
    char *s;
    size_t len;

    (void)state;
    pf_buf_init(&b, 8);
    assert_int_equal(pf_buf_appends(&b, "12345"), 0);
    assert_int_equal(pf_buf_appends(&b, "6789"), -E2BIG);
    assert_int_equal(b.len, 5);
    assert_int_equal(pf_buf_appendf(&b, "%d", 678), 0);
    assert_string_equal(b.p, "12345678");
    assert_int_equal(pf_buf_appendf(&b, "%d", 9), -E2BIG);
    s = pf_buf_steal(&b, &len);
    assert_int_equal(len, 8);
    assert_string_equal(s, "12345678");
    pf_free(s);
    pf_buf_release(&b);
}

static void buf_read_missing_file(void **state)
{
    struct pf_buf b = PF_BUF_INIT;

    (void)state;
    assert_int_equal(pf_buf_read_file(&b, "/nonexistent/patchfleet"), -ENOENT);
    pf_buf_release(&b);
}

static void diags_sorted_and_formatted(void **state)
{
    struct pf_diags d;
    char *line;

    (void)state;
    assert_int_equal(pf_diags_init(&d, "bulk.yaml"), 0);
    assert_int_equal(pf_diags_add(&d, PF_DIAG_ERROR, 9, 3, "second"), 0);
    assert_int_equal(pf_diags_add(&d, PF_DIAG_WARNING, 2, 1, "first"), 0);
    assert_int_equal(pf_diags_add(&d, PF_DIAG_ERROR, 0, 0, "no position"), 0);
    pf_diags_sort(&d);
    assert_int_equal(d.n_errors, 2);
    line = pf_diag_format(&d, &d.v[0]);
    assert_string_equal(line, "bulk.yaml: error: no position");
    pf_free(line);
    line = pf_diag_format(&d, &d.v[1]);
    assert_string_equal(line, "bulk.yaml:2:1: warning: first");
    pf_free(line);
    line = pf_diag_format(&d, &d.v[2]);
    assert_string_equal(line, "bulk.yaml:9:3: error: second");
    pf_free(line);
    pf_diags_release(&d);
}

static void alloc_failure_injection(void **state)
{
    struct pf_strv sv = PF_STRV_INIT;

    (void)state;
    pf_alloc_fail_at(1, false);
    assert_int_equal(pf_strv_push(&sv, "x"), -ENOMEM);
    assert_int_equal(sv.n, 0);
    assert_int_equal(pf_strv_push(&sv, "x"), 0);
    pf_alloc_fail_at(0, false);
    pf_strv_clear(&sv);
}

static void grow_geometric_and_checked(void **state)
{
    long *v = NULL;
    size_t cap = 0;

    (void)state;
    assert_int_equal(PF_GROW(v, cap, 0), 0);
    assert_null(v);
    assert_int_equal(PF_GROW(v, cap, 1), 0);
    assert_int_equal(cap, PF_GROW_FIRST);
    v[0] = 42;
    /* Room already there: nothing moves. */
    assert_int_equal(PF_GROW(v, cap, PF_GROW_FIRST), 0);
    assert_int_equal(cap, PF_GROW_FIRST);
    /* One more doubles; far more jumps straight to what was asked. */
    assert_int_equal(PF_GROW(v, cap, PF_GROW_FIRST + 1), 0);
    assert_int_equal(cap, 2 * PF_GROW_FIRST);
    assert_int_equal(PF_GROW(v, cap, 1000), 0);
    assert_int_equal(cap, 1000);
    v[999] = 7;
    assert_int_equal(v[0], 42);
    /* A byte size past SIZE_MAX is refused, and so is an allocation that fails; both leave
     * the array and its capacity as they were. */
    assert_int_equal(PF_GROW(v, cap, SIZE_MAX / sizeof(*v) + 1), -ENOMEM);
    assert_int_equal(pf_grow(&v, &cap, SIZE_MAX, 2), -ENOMEM);
    assert_int_equal(cap, 1000);
    pf_alloc_fail_at(1, false);
    assert_int_equal(PF_GROW(v, cap, 1001), -ENOMEM);
    pf_alloc_fail_at(0, false);
    assert_int_equal(cap, 1000);
    assert_int_equal(v[0] + v[999], 49);
    /* Doubling that would overflow stops at the largest expressible count instead. */
    cap = SIZE_MAX / sizeof(*v) / 2 + 1;
    pf_alloc_fail_at(1, false);
    assert_int_equal(PF_GROW(v, cap, cap + 1), -ENOMEM);
    pf_alloc_fail_at(0, false);
    pf_free(v);
}

static void error_prefix(void **state)
{
    char eb[32];

    (void)state;
    assert_int_equal(pf_set_error(eb, sizeof(eb), -EINVAL, "line %d: bad", 3), -EINVAL);
    assert_int_equal(pf_prefix_error(eb, sizeof(eb), -EINVAL, "/%s: ", "etc/x"), -EINVAL);
    assert_string_equal(eb, "/etc/x: line 3: bad");
    /* Truncated at the buffer's size, never overrun. */
    assert_int_equal(pf_prefix_error(eb, sizeof(eb), -1, "%s", "/a/much/longer/prefix: "), -1);
    assert_string_equal(eb, "/a/much/longer/prefix: /etc/x: ");
    assert_int_equal(pf_prefix_error(eb, 8, -1, "%s", "0123456789"), -1);
    assert_string_equal(eb, "0123456");
    assert_int_equal(pf_prefix_error(NULL, 0, -2, "x"), -2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error_prefix),
        cmocka_unit_test(strv_push_join_find),
        cmocka_unit_test(buf_respects_maximum),
        cmocka_unit_test(buf_read_missing_file),
        cmocka_unit_test(diags_sorted_and_formatted),
        cmocka_unit_test(alloc_failure_injection),
        cmocka_unit_test(grow_geometric_and_checked),
    };
    return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
