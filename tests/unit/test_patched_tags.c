/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for pf/patched_tags.h: Copa's `base`, `base-N` versioning (gaps not reused,
 * only versioned tags present, strict digits, arch side tags excluded) and the 128-character
 * tag limit with out-parameters untouched on failure.
 */
#include "pf_test.h"

#include "pf/patched_tags.h"
#include "pf/strv.h"

/* Splits a space-separated list into *ret. */
static void split(const char *s, struct pf_strv *ret)
{
    while (*s) {
        size_t len = strcspn(s, " ");
        assert_int_equal(pf_strv_push_take(ret, pf_strndup(s, len)), 0);
        s += len + (s[len] == ' ');
    }
}

static void patched_tags(void **state)
{
    static const struct {
        const char *existing; /* space-separated */
        const char *latest;   /* NULL: none */
        const char *next;
    } cases[] = {
        {"", NULL, "1.0-patched"},
        {"1.0 latest", NULL, "1.0-patched"},
        {"1.0 1.0-patched", "1.0-patched", "1.0-patched-1"},
        {"1.0-patched 1.0-patched-1 1.0-patched-9 1.0-patched-10", "1.0-patched-10",
         "1.0-patched-11"},
        /* Copa: only versioned tags present still counts, gaps are not reused. */
        {"1.0-patched-2 1.0-patched-5", "1.0-patched-5", "1.0-patched-6"},
        {"1.0-patched 1.0-patched-1 1.0-patched-3", "1.0-patched-3", "1.0-patched-4"},
        /* Not versions: leading zero, letters, nested, other base. */
        {"1.0-patched 1.0-patched-01 1.0-patched-2x 1.0-patched- 1.0-patched-1-2 "
         "1.0-patchedX-5",
         "1.0-patched", "1.0-patched-1"},
        /* Arch side tags are not versions ("-386" would otherwise be N = 386). */
        {"1.0-patched 1.0-patched-386 1.0-patched-amd64 1.0-patched-arm64-v8", "1.0-patched",
         "1.0-patched-1"},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct pf_strv tags = PF_STRV_INIT;
        char *latest = NULL, *next = NULL;

        split(cases[i].existing, &tags);
        assert_int_equal(pf_patched_tags_find("1.0-patched", &tags, &latest, &next), 0);
        if (cases[i].latest)
            assert_string_equal(latest, cases[i].latest);
        else
            assert_null(latest);
        assert_string_equal(next, cases[i].next);
        pf_free(latest);
        pf_free(next);
        pf_strv_clear(&tags);
    }
    assert_true(pf_patched_tags_is_arch_side("b", "b-386"));
    assert_true(pf_patched_tags_is_arch_side("b", "b-riscv64"));
    assert_false(pf_patched_tags_is_arch_side("b", "b-1"));
    assert_false(pf_patched_tags_is_arch_side("b", "c-amd64"));
}

static void patched_tags_limits(void **state)
{
    struct pf_strv tags = PF_STRV_INIT;
    char base[129], *latest = (char *)"untouched", *next = (char *)"untouched";

    (void)state;
    memset(base, 'a', 128);
    base[128] = '\0';
    assert_int_equal(pf_patched_tags_find(base, &tags, &latest, &next), 0); /* 128 is allowed */
    assert_null(latest);
    pf_free(next);
    latest = next = (char *)"untouched";
    assert_int_equal(pf_strv_push(&tags, base), 0);
    assert_int_equal(pf_patched_tags_find(base, &tags, &latest, &next), -ERANGE);
    assert_string_equal(next, "untouched");
    assert_string_equal(latest, "untouched");
    pf_strv_clear(&tags);
}

static void patched_tags_no_list(void **state)
{
    char *latest = (char *)"untouched", *next = NULL;

    (void)state;
    assert_int_equal(pf_patched_tags_find("x", NULL, &latest, &next), 0);
    assert_null(latest);
    assert_string_equal(next, "x");
    pf_free(next);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(patched_tags),
        cmocka_unit_test(patched_tags_limits),
        cmocka_unit_test(patched_tags_no_list),
    };

    return cmocka_run_group_tests_name("patched_tags", tests, NULL, NULL);
}
