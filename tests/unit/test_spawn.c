/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for pf_spawn_run(): input and output round trip with real programs, exit codes,
 * deadline, output bound, missing program, large input against a child that stops reading. */
#include "pf_test.h"

#include <string.h>

#include "pf/buf.h"
#include "pf/spawn.h"

static int run(char **argv, const char *input, size_t input_len, int timeout_ms, size_t max,
               struct pf_buf *out, int *code)
{
    struct pf_spawn_options o = {.argv = argv,
                                 .input = input,
                                 .input_len = input_len,
                                 .timeout_ms = timeout_ms};

    pf_buf_init(out, max);
    return pf_spawn_run(&o, out, code);
}

static void round_trip_through_cat(void **state)
{
    char *argv[] = {(char *)"cat", NULL};
    struct pf_buf out;
    int code = -1;

    (void)state;
    assert_int_equal(run(argv, "hello\n", 6, 5000, 1024, &out, &code), 0);
    assert_int_equal(code, 0);
    assert_int_equal(out.len, 6);
    assert_memory_equal(out.p, "hello\n", 6);
    pf_buf_release(&out);
}

/* 4 MiB of input and output at once: neither side may block the other. */
static void large_input_and_output_do_not_deadlock(void **state)
{
    size_t n = (size_t)4 << 20;
    char *big = pf_malloc(n);
    char *argv[] = {(char *)"cat", NULL};
    struct pf_buf out;
    int code = -1;

    (void)state;
    assert_non_null(big);
    memset(big, 'x', n);
    assert_int_equal(run(argv, big, n, 20000, n, &out, &code), 0);
    assert_int_equal(code, 0);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.p, big, n);
    pf_buf_release(&out);
    pf_free(big);
}

static void exit_codes_and_signals(void **state)
{
    char *fail[] = {(char *)"false", NULL};
    char *killed[] = {(char *)"sh", (char *)"-c", (char *)"kill -9 $$", NULL};
    char *early[] = {(char *)"true", NULL};
    struct pf_buf out;
    int code = -1;

    (void)state;
    assert_int_equal(run(fail, NULL, 0, 5000, 64, &out, &code), 0);
    assert_int_equal(code, 1);
    pf_buf_release(&out);
    assert_int_equal(run(killed, NULL, 0, 5000, 64, &out, &code), 0);
    assert_int_equal(code, 128 + 9);
    pf_buf_release(&out);
    /* A child that never reads its stdin must not raise SIGPIPE in this process. */
    assert_int_equal(run(early, "ignored input", 13, 5000, 64, &out, &code), 0);
    assert_int_equal(code, 0);
    pf_buf_release(&out);
}

static void deadline_and_bound_kill_the_child(void **state)
{
    char *slow[] = {(char *)"sleep", (char *)"30", NULL};
    char *chatty[] = {(char *)"yes", NULL};
    char *missing[] = {(char *)"patchfleet-no-such-program", NULL};
    struct pf_buf out;
    int code = -7;

    (void)state;
    assert_int_equal(run(slow, NULL, 0, 200, 64, &out, &code), -ETIMEDOUT);
    pf_buf_release(&out);
    assert_int_equal(run(chatty, NULL, 0, 5000, 4096, &out, &code), -E2BIG);
    pf_buf_release(&out);
    assert_int_equal(run(missing, NULL, 0, 5000, 64, &out, &code), -ENOENT);
    pf_buf_release(&out);
    assert_int_equal(code, -7); /* untouched on failure */
}

static void bad_options(void **state)
{
    char *argv[] = {(char *)"true", NULL};
    struct pf_spawn_options o = {.argv = argv, .timeout_ms = 0};
    struct pf_buf out;
    int code;

    (void)state;
    pf_buf_init(&out, 64);
    assert_int_equal(pf_spawn_run(&o, &out, &code), -EINVAL);
    o.timeout_ms = 100;
    o.input_len = 3;
    assert_int_equal(pf_spawn_run(&o, &out, &code), -EINVAL);
    pf_buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_through_cat),
        cmocka_unit_test(large_input_and_output_do_not_deadlock),
        cmocka_unit_test(exit_codes_and_signals),
        cmocka_unit_test(deadline_and_bound_kill_the_child),
        cmocka_unit_test(bad_options),
    };

    return cmocka_run_group_tests_name("spawn", tests, NULL, NULL);
}
