/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for pf/status.h: the seven words round-trip through the enum in summary order,
 * anything else is refused, and the message-level checks of pf/msg.h agree with it.
 */
#include "pf_test.h"

#include "pf/msg.h"
#include "pf/status.h"

static void words(void **state)
{
    static const char *const want[] = {"Patched", "UpToDate",  "Skipped", "Planned",
                                       "Failed",  "Cancelled", "Error"};

    (void)state;
    assert_int_equal(PF_ARRAY_SIZE(want), PF_STATUS__MAX);
    for (int i = 0; i < PF_STATUS__MAX; i++) {
        assert_string_equal(pf_status_to_string((enum pf_status)i), want[i]);
        assert_int_equal(pf_status_from_string(want[i]), i);
        assert_true(pf_msg_status_known(want[i]));
    }
    assert_null(pf_status_to_string(PF_STATUS__MAX));
    assert_null(pf_status_to_string(PF_STATUS_INVALID));
    assert_int_equal(pf_status_from_string(NULL), PF_STATUS_INVALID);
    assert_int_equal(pf_status_from_string("patched"), PF_STATUS_INVALID);
    assert_int_equal(pf_status_from_string("Unknown"), PF_STATUS_INVALID);
    assert_int_equal(pf_status_from_string(""), PF_STATUS_INVALID);
    assert_false(pf_msg_status_known("Patched "));
    assert_false(pf_msg_status_known(NULL));
}

static void failures(void **state)
{
    (void)state;
    for (int i = 0; i < PF_STATUS__MAX; i++) {
        enum pf_status s = (enum pf_status)i;
        bool want = s == PF_STATUS_FAILED || s == PF_STATUS_CANCELLED || s == PF_STATUS_ERROR;

        assert_int_equal(pf_status_is_failure(s), want);
        assert_int_equal(pf_msg_status_is_failure(pf_status_to_string(s)), want);
    }
    assert_false(pf_status_is_failure(PF_STATUS_INVALID));
    assert_false(pf_msg_status_is_failure("Other"));
    assert_false(pf_msg_status_is_failure(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(words),
        cmocka_unit_test(failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
