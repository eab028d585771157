/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for pf/tag_decision.h on its own: tag versioning, the skip on a clean report,
 * the fail-open paths (listing failed, report unreadable), with a fake report lookup, so the
 * rules are checked without the producer's report loader (test_reports.c checks them again
 * through it, test_tag_lists.c through a fake registry).
 */
#include "pf_test.h"

#include "pf/patched_tags.h"
#include "pf/strv.h"
#include "pf/tag_decision.h"

/* Verdicts by image: "r.test/app:1-p-1" clean, ":1-p" fixable, ":1-p-2" unreadable. */
static enum pf_report_verdict fake_lookup(const void *userdata, const char *ref,
                                          const char **ret_why)
{
    int *calls = (int *)(uintptr_t)userdata;

    (*calls)++;
    *ret_why = NULL;
    if (strcmp(ref, "r.test/app:1-p-1") == 0) {
        *ret_why = "clean.json";
        return PF_REPORT_CLEAN;
    }
    if (strcmp(ref, "r.test/app:1-p") == 0) {
        *ret_why = "fix.json";
        return PF_REPORT_FIXABLE;
    }
    if (strcmp(ref, "r.test/app:1-p-2") == 0) {
        *ret_why = "'bad.json' is unreadable";
        return PF_REPORT_UNREADABLE;
    }
    return PF_REPORT_NONE;
}

static void split(const char *s, struct pf_strv *ret)
{
    char buf[256];
    char *save = NULL;

    snprintf(buf, sizeof(buf), "%s", s);
    for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
        assert_int_equal(pf_strv_push(ret, t), 0);
}

static void decisions(void **state)
{
    int calls = 0;
    struct pf_report_lookup lookup = {fake_lookup, &calls};
    struct pf_strv tags = PF_STRV_INIT;
    static const struct {
        bool with_reports;
        const char *existing; /* NULL: listing failed */
        bool skip;
        const char *tag;
        const char *latest;  /* NULL: none */
        const char *warning; /* substring, or NULL for none */
    } cases[] = {
        {true, "", false, "1-p", NULL, NULL},                /* first patch */
        {false, "1-p", false, "1-p-1", "1-p", NULL},         /* no reports: re-patch */
        {true, "1-p 1-p-1", true, "1-p-1", "1-p-1", NULL},   /* clean: skip as latest */
        {false, "1-p 1-p-1", false, "1-p-2", "1-p-1", NULL}, /* clean, but no reports */
        {true, "1-p", false, "1-p-1", "1-p", NULL},          /* fixable */
        {true, "1-p-1 1-p-2", false, "1-p-3", "1-p-2", "'bad.json' is unreadable: patching"},
        {true, "1-p-1 1-p-2 1-p-3", false, "1-p-4", "1-p-3", NULL}, /* no report */
        {true, "1-p-amd64 x 1-p-01", false, "1-p", NULL, NULL},     /* side tags, not versions */
        {true, NULL, false, "1-p", NULL,
         "cannot list the tags of r.test/app (boom): patching as 1-p (fail-open)"},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct pf_tag_decision d = {0};

        pf_strv_clear(&tags);
        if (cases[i].existing)
            split(cases[i].existing, &tags);
        assert_int_equal(pf_tag_decision_from_tags(cases[i].with_reports ? &lookup : NULL,
                                                   "r.test/app", "1-p",
                                                   cases[i].existing ? &tags : NULL, "boom", &d),
                         0);
        assert_int_equal(d.skip, cases[i].skip);
        assert_string_equal(d.tag, cases[i].tag);
        if (cases[i].latest)
            assert_string_equal(d.latest, cases[i].latest);
        else
            assert_null(d.latest);
        if (cases[i].warning) {
            assert_non_null(d.warning);
            if (!strstr(d.warning, cases[i].warning))
                fail_msg("case %zu: warning '%s' lacks '%s'", i, d.warning, cases[i].warning);
        } else {
            assert_null(d.warning);
        }
        pf_tag_decision_release(&d);
    }
    /* The lookup is asked only when a patched tag exists and reports were given. */
    assert_int_equal(calls, 4);
    pf_strv_clear(&tags);
}

/* No free versioned tag: -ERANGE and *ret untouched. */
static void no_free_tag(void **state)
{
    char base[PF_PATCHED_TAGS_MAX_LEN + 1];
    struct pf_strv tags = PF_STRV_INIT;
    struct pf_tag_decision d = {.tag = (char *)(uintptr_t) "untouched"};

    (void)state;
    memset(base, 'a', PF_PATCHED_TAGS_MAX_LEN - 1);
    base[PF_PATCHED_TAGS_MAX_LEN - 1] = '\0';
    assert_int_equal(pf_strv_push(&tags, base), 0);
    assert_int_equal(pf_tag_decision_from_tags(NULL, "r.test/app", base, &tags, NULL, &d), -ERANGE);
    assert_string_equal(d.tag, "untouched");
    pf_strv_clear(&tags);
}

static void release_null(void **state)
{
    (void)state;
    pf_tag_decision_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decisions),
        cmocka_unit_test(no_free_tag),
        cmocka_unit_test(release_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
