/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for pf_duration_parse() and pf_duration_parse_ms(): Go's duration syntax with
 * fractions and every unit spelling, the refusals (bare numbers, zero, negatives, unknown
 * units) with their messages, overflow, and the millisecond rounding that keeps a positive
 * duration from becoming "no limit".
 */
#include "pf_test.h"

#include "pf/duration.h"

static void duration_valid(void **state)
{
    static const struct {
        const char *in;
        uint64_t ns;
    } cases[] = {
        {"15m", 900000000000ULL},
        {"1h30m", 5400000000000ULL},
        {"90s", 90000000000ULL},
        {"5m", 300000000000ULL},
        {"1.5h", 5400000000000ULL},
        {"250ms", 250000000ULL},
        {"1m30s500ms", 90500000000ULL},
        {"10us", 10000ULL},
        {"10\xC2\xB5s", 10000ULL},
        {"7ns", 7ULL},
        {"+2s", 2000000000ULL},
        {".5s", 500000000ULL},
        {"2562047h", 2562047ULL * 3600 * 1000000000ULL},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        uint64_t ns = 0;
        char err[128] = "";
        assert_int_equal(pf_duration_parse(cases[i].in, &ns, err, sizeof(err)), 0);
        assert_int_equal(ns, cases[i].ns);
    }
}

static void duration_invalid(void **state)
{
    static const struct {
        const char *in;
        int r;
        const char *msg;
    } cases[] = {
        {"0", -EINVAL, "duration '0' must be greater than zero"},
        {"0s", -EINVAL, "duration '0s' must be greater than zero"},
        {"-5m", -EINVAL, "duration '-5m' must be greater than zero"},
        {"15", -EINVAL, "missing unit in duration '15' (use e.g. 90s, 15m, 1h30m)"},
        {"1h30", -EINVAL, "missing unit in duration '1h30' (use e.g. 90s, 15m, 1h30m)"},
        {"15x", -EINVAL, "unknown unit in duration '15x' (units: ns, us, ms, s, m, h)"},
        {"15 m", -EINVAL, "unknown unit in duration '15 m' (units: ns, us, ms, s, m, h)"},
        {"m", -EINVAL, "invalid duration 'm' (use e.g. 90s, 15m, 1h30m)"},
        {"", -EINVAL, "empty duration (use e.g. 90s, 15m, 1h30m)"},
        {".s", -EINVAL, "invalid duration '.s' (use e.g. 90s, 15m, 1h30m)"},
        {"2562048h", -ERANGE, "duration '2562048h' is too large"},
        {"99999999999999999999s", -ERANGE, "duration '99999999999999999999s' is too large"},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        uint64_t ns = 42;
        char err[128] = "";
        assert_int_equal(pf_duration_parse(cases[i].in, &ns, err, sizeof(err)), cases[i].r);
        assert_string_equal(err, cases[i].msg);
        assert_int_equal(ns, 42); /* untouched on failure */
    }
}

static void duration_ms(void **state)
{
    static const struct {
        const char *in;
        int64_t ms;
    } cases[] = {
        {"1h30m", 5400000}, {"90s", 90000},
        {"500ms", 500},     {"1.5s", 1500},
        {"10us", 1}, /* rounded up, never 0 */
        {"1000001ns", 2},   {"2562047h", 2562047LL * 3600 * 1000},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        int64_t ms = 0;
        assert_int_equal(pf_duration_parse_ms(cases[i].in, &ms, NULL, 0), 0);
        assert_int_equal(ms, cases[i].ms);
    }
}

static void duration_ms_invalid(void **state)
{
    static const char *const cases[] = {"", "0", "15", "-1s", "1x", "2562048h"};
    char err[128] = "";
    int64_t ms = 42;

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++)
        assert_true(pf_duration_parse_ms(cases[i], &ms, NULL, 0) < 0);
    assert_int_equal(ms, 42); /* untouched on failure */
    assert_int_equal(pf_duration_parse_ms("15", &ms, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "missing unit in duration '15' (use e.g. 90s, 15m, 1h30m)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(duration_valid),
        cmocka_unit_test(duration_invalid),
        cmocka_unit_test(duration_ms),
        cmocka_unit_test(duration_ms_invalid),
    };

    return cmocka_run_group_tests_name("duration", tests, NULL, NULL);
}
