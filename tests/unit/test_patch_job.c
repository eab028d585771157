/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The size options of `patchfleet patch` and `patchfleet-worker` (--max-package-size,
 * --max-layer-size, --max-patch-layer-size): bytes or a number with a binary suffix; zero,
 * overflow and unknown suffixes are refused.
 */
#include "pf_test.h"

#include <errno.h>
#include <stdint.h>

#include "job/patch_job.h"

static void size_parse(void **state)
{
    static const struct {
        const char *s;
        uint64_t want;
    } good[] = {
        {"1", 1},
        {"1048576", 1048576},
        {"1K", 1024},
        {"1KiB", 1024},
        {"1M", 1048576},
        {"16G", (uint64_t)16 << 30},
        {"64GiB", (uint64_t)64 << 30},
        {"2T", (uint64_t)2 << 40},
    };
    static const char *const bad[] = {"",         "0",  "0M", "-1", "1.5G", "1g",
                                      "1MB",      " 1", "1 ", "G",  "1E",   "99999999999999999999",
                                      "16777216T"};
    uint64_t v = 0;

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(good); i++) {
        v = 0;
        assert_int_equal(worker_size_parse(good[i].s, &v), 0);
        assert_int_equal(v, good[i].want);
    }
    for (size_t i = 0; i < PF_ARRAY_SIZE(bad); i++) {
        v = 7;
        if (worker_size_parse(bad[i], &v) != -EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
        assert_int_equal(v, 7);
    }
    assert_int_equal(worker_size_parse(NULL, &v), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(size_parse),
    };

    return cmocka_run_group_tests_name("patch_job", tests, NULL, NULL);
}
