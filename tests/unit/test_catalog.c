/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the registry catalog's creation-time parser (producer/src/catalog.c): the
 * times the "newest" selection orders by come from image configs a registry serves, so a
 * malformed one must be refused, never misread or read past its end.
 */
#include "pf_test.h"

#include "producer/catalog.h"

static void test_parse_time_valid(void **state)
{
    static const struct {
        const char *s;
        int64_t want;
    } cases[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2024-05-01T10:00:00Z", 1714557600},
        {"2024-05-01T10:00:00.123456789Z", 1714557600},
        {"2024-05-01t10:00:00z", 1714557600},
        {"2024-05-01T12:00:00+02:00", 1714557600},
        {"2024-05-01T07:30:00-02:30", 1714557600},
        {"2024-05-01T10:00:00.5+00:00", 1714557600},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        int64_t t = -1;

        assert_int_equal(producer_catalog_parse_time(cases[i].s, &t), 0);
        assert_int_equal(t, cases[i].want);
    }
}

static void test_parse_time_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        "2024-05-01",
        "2024-05-01T10:00:00",      /* no zone */
        "2024-05-01T10:00:00+2:00", /* short offset: the old parser skipped past the end */
        "2024-05-01T10:00:00+02",
        "2024-05-01T10:00:00+02:0",
        "2024-05-01T10:00:00+0200",
        "2024-05-01T10:00:00.Z",
        "2024-05-01T10:00:00Zjunk",
        "2024-5-01T10:00:00Z",
        "2024-05-01T10:0:00Z",
        "-024-05-01T10:00:00Z",
        "2024-+5-01T10:00:00Z",
        "2024- 5-01T10:00:00Z",
        "2024-13-01T10:00:00Z",
        "2024-00-01T10:00:00Z",
        "2024-05-32T10:00:00Z",
        "2024-05-01T24:00:00Z",
        "2024-05-01T10:60:00Z",
        "2024-05-01T10:00:61Z",
        "2024-05-01T10:00:00+24:00",
        "2024-05-01 10:00:00Z",
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(bad); i++) {
        int64_t t = 42;

        assert_int_equal(producer_catalog_parse_time(bad[i], &t), -EINVAL);
        assert_int_equal(t, 42);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time_valid),
        cmocka_unit_test(test_parse_time_invalid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
