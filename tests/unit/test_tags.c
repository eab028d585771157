/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for tag selection: version recognition and the total order, then one table of
 * pf_tags_select() cases covering the three strategies, Copa's own test vectors (and where we
 * deliberately differ), the fallbacks and the warnings that make every dropped tag visible.
 */
#include "pf_test.h"

#include "pf/strv.h"
#include "pf/tags.h"

/* Splits a space-separated list into `sv`. */
static void split(struct pf_strv *sv, const char *s)
{
    const char *p = s;

    while (p && *p) {
        const char *sp = strchr(p, ' ');
        size_t n = sp ? (size_t)(sp - p) : strlen(p);

        if (n > 0)
            assert_int_equal(pf_strv_push_take(sv, pf_strndup(p, n)), 0);
        p = sp ? sp + 1 : NULL;
    }
}

static void assert_strv(const struct pf_strv *sv, const char *want)
{
    char *got = pf_strv_join(sv, " ");

    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("got [%s], want [%s]", got, want);
    pf_free(got);
}

static void is_version(void **state)
{
    static const struct {
        const char *tag;
        bool want;
    } cases[] = {
        {"1.2.3", true},
        {"v1.2.3", true},
        {"1", true},
        {"20.04", true},
        {"1.09", true},
        {"1.2.3.4", true},
        {"1.2.3+meta", true},
        {"1.2.3+build.5-x", true},
        {"1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16", true},
        {"1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17", false},
        {"18446744073709551615", true},
        {"18446744073709551616", false},
        {"1.99999999999999999999", false},
        {"1.2.3+", false},
        {"1.2.3-alpine", false},
        {"1.25.3-alpine", false},
        {"3.19.1-r0", false},
        {"1.0.0-rc1", false},
        {"1.11.0-beta", false},
        {"latest", false},
        {"stable", false},
        {"", false},
        {"v", false},
        {"V1", false},
        {"vv1", false},
        {"1.", false},
        {".1", false},
        {"1..2", false},
        {"1.2a", false},
        {"1_2", false},
        {"20.04-focal", false},
    };

    (void)state;
    assert_false(pf_tag_is_version(NULL));
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++)
        if (pf_tag_is_version(cases[i].tag) != cases[i].want)
            fail_msg("pf_tag_is_version('%s') != %d", cases[i].tag, cases[i].want);
}

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

static void compare(void **state)
{
    static const struct {
        const char *a, *b;
        int want;
    } cases[] = {
        {"1.2.10", "1.2.9", 1},
        {"1.10.0", "1.9.5", 1},
        {"2", "1.999", 1},
        {"1.2.3.4", "1.2.3", 1},
        {"1.2.3.0", "1.2.3", 1},  /* numerically equal; "1.2.3" is a prefix */
        {"1.09", "1.9", -1},      /* numerically equal; raw strcmp decides */
        {"20.04", "20.4.0", -1},  /* ditto */
        {"v1.2.3", "1.2.3", 1},   /* 'v' > '1' */
        {"1.2.3+b1", "1.2.3", 1}, /* metadata is not compared, the raw string is */
        {"latest", "1.0", -1},    /* versions sort after everything else */
        {"1.0.0-rc1", "0.1", -1},
        {"alpine3.10", "alpine3.9", 1},
        {"a01", "a1", -1},
        {"a", "b", -1},
        {"a", "a1", -1},
        {"x", "x", 0},
        {"1.2.3", "1.2.3", 0},
        {"a99999999999999999999999", "a9", 1},
        {"a00000000000000000000009", "a10", -1},
        {"bookworm", "trixie", -1},
    };
    /* A set to check that the order is antisymmetric and transitive. */
    static const char *const set[] = {"1.2.3", "v1.2.3", "1.2.3.0", "01.2.3", "1.2",     "1.10",
                                      "1.9",   "1.09",   "latest",  "a1",     "a01",     "a001",
                                      "a10",   "a9b",    "a9",      "1.0-rc", "1.0-rc2", "",
                                      "20.04", "20.4",   "2.0+x",   "2.0+y",  "2.0"};

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        int got = sign(pf_tag_compare(cases[i].a, cases[i].b));

        if (got != cases[i].want)
            fail_msg("compare('%s', '%s') = %d, want %d", cases[i].a, cases[i].b, got,
                     cases[i].want);
        assert_int_equal(sign(pf_tag_compare(cases[i].b, cases[i].a)), -cases[i].want);
    }
    for (size_t i = 0; i < PF_ARRAY_SIZE(set); i++) {
        for (size_t j = 0; j < PF_ARRAY_SIZE(set); j++) {
            int ij = sign(pf_tag_compare(set[i], set[j]));

            assert_int_equal(ij, -sign(pf_tag_compare(set[j], set[i])));
            assert_int_equal(ij == 0, i == j);
            for (size_t k = 0; k < PF_ARRAY_SIZE(set); k++)
                if (ij < 0 && pf_tag_compare(set[j], set[k]) < 0)
                    assert_true(pf_tag_compare(set[i], set[k]) < 0);
        }
    }
}

/* Creation times for the `latest` fallback: "tag=time" pairs; a tag not listed fails. */
struct created_table {
    const char *pairs;
    unsigned calls;
};

static int created_from_table(const char *tag, int64_t *ret_created, void *userdata)
{
    struct created_table *t = userdata;
    size_t n = strlen(tag);
    const char *p = t->pairs;

    t->calls++;
    while (p && *p) {
        if (strncmp(p, tag, n) == 0 && p[n] == '=') {
            char *end;

            *ret_created = strtoll(p + n + 1, &end, 10);
            assert_true(end > p + n + 1 && (*end == ' ' || *end == '\0'));
            return 0;
        }
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return -ENOENT;
}

#define COPA_TAGS "1.10.1 1.9.5 1.10.0 1.10.2 latest 1.8.0 1.10.3-alpine 1.11.0-beta"
#define UNKNOWN NULL /* the registry's tag list is not known */
#define NONE ""

struct select_case {
    const char *what;
    enum pf_tag_strategy strategy;
    const char *list;
    const char *pattern;
    long max_tags;
    const char *exclude;
    const char *available; /* NULL: unknown */
    const char *created;   /* "tag=time ..." or NULL for no callback */
    int rc;
    const char *want;
    const char *missing;
    size_t n_warnings;
    const char *warning; /* a substring of one of the warnings, or NULL */
};

static const struct select_case select_cases[] = {
    /* Copa's discover_test.go vectors. */
    {"copa 1.10.x", PF_STRATEGY_PATTERN, NULL, "^1\\.10\\.[0-9]+$", 0, NONE, COPA_TAGS, NULL, 0,
     "1.10.0 1.10.1 1.10.2", NONE, 0, NULL},
    {"copa maxTags 2", PF_STRATEGY_PATTERN, NULL, "^1\\.10\\.[0-9]+$", 2, NONE, COPA_TAGS, NULL, 0,
     "1.10.1 1.10.2", NONE, 0, NULL},
    {"copa exclude", PF_STRATEGY_PATTERN, NULL, "^1\\.10\\.[0-9]+$", 0, "1.10.1", COPA_TAGS, NULL,
     0, "1.10.0 1.10.2", NONE, 0, NULL},
    /* Copa returns [] for the next two (it drops non-semver); we fall back to natural order. */
    {"copa pattern latest", PF_STRATEGY_PATTERN, NULL, "latest", 0, NONE, COPA_TAGS, NULL, 0,
     "latest", NONE, 1, "no tag matching pattern 'latest' is a version; ordering 1 tag naturally"},
    {"copa prerelease only", PF_STRATEGY_PATTERN, NULL, "^1\\.11\\..*$", 0, NONE, COPA_TAGS, NULL,
     0, "1.11.0-beta", NONE, 1, "is a version; ordering 1 tag naturally"},
    {"copa latest", PF_STRATEGY_LATEST, NULL, NULL, 0, NONE, "2.1.0 3.0.0-alpha latest 2.0.0 2.1.1",
     NULL, 0, "2.1.1", NONE, 0, NULL},
    {"copa integration", PF_STRATEGY_PATTERN, NULL, "^1\\.25\\.[0-9]+$", 2, "1.25.1",
     "1.25.0 1.25.1 1.25.2 1.25.3", NULL, 0, "1.25.2 1.25.3", NONE, 0, NULL},

    /* Pattern: versions win, each dropped non-version is named (R2). */
    {"drop variant with warning", PF_STRATEGY_PATTERN, NULL, "^1\\.10\\.", 0, NONE, COPA_TAGS, NULL,
     0, "1.10.0 1.10.1 1.10.2", NONE, 1,
     "tag '1.10.3-alpine' matches the pattern but is not a version, skipping"},
    {"numeric parts", PF_STRATEGY_PATTERN, NULL, "^1\\.2\\.", 0, NONE, "1.2.9 1.2.10 1.2.1", NULL,
     0, "1.2.1 1.2.9 1.2.10", NONE, 0, NULL},
    {"ubuntu", PF_STRATEGY_PATTERN, NULL, "^(20|22|24)\\.04$", 0, NONE,
     "18.04 22.04 20.04 24.10 focal 24.04", NULL, 0, "20.04 22.04 24.04", NONE, 0, NULL},
    {"four parts", PF_STRATEGY_PATTERN, NULL, "^1\\.", 0, NONE, "1.2.3.4 1.2.3 1.2.4 1.2.3.10",
     NULL, 0, "1.2.3 1.2.3.4 1.2.3.10 1.2.4", NONE, 0, NULL},
    {"backslash d", PF_STRATEGY_PATTERN, NULL, "^\\d+\\.\\d+$", 0, NONE,
     "3.18 3.19 3.9 edge 3.19.1", NULL, 0, "3.9 3.18 3.19", NONE, 0, NULL},
    {"non-greedy", PF_STRATEGY_PATTERN, NULL, "^(.*?)\\.0$", 0, NONE, "1.0 2.0 2.10 latest", NULL,
     0, "1.0 2.0", NONE, 0, NULL},
    {"unanchored like Go", PF_STRATEGY_PATTERN, NULL, "10\\.2", 0, NONE, COPA_TAGS, NULL, 0,
     "1.10.2", NONE, 0, NULL},
    {"case-insensitive flag", PF_STRATEGY_PATTERN, NULL, "(?i)^V1", 0, NONE, "v1.0 v2.0 1.0", NULL,
     0, "v1.0", NONE, 0, NULL},
    {"tie-break v prefix", PF_STRATEGY_PATTERN, NULL, "1\\.2\\.3", 0, NONE, "v1.2.3 1.2.3 1.2.3+b1",
     NULL, 0, "1.2.3 1.2.3+b1 v1.2.3", NONE, 0, NULL},
    {"tie-break other input order", PF_STRATEGY_PATTERN, NULL, "1\\.2\\.3", 0, NONE,
     "1.2.3+b1 1.2.3 v1.2.3", NULL, 0, "1.2.3 1.2.3+b1 v1.2.3", NONE, 0, NULL},
    {"tie-break maxTags", PF_STRATEGY_PATTERN, NULL, "1\\.2\\.3", 1, NONE, "1.2.3 v1.2.3", NULL, 0,
     "v1.2.3", NONE, 0, NULL},
    {"duplicates", PF_STRATEGY_PATTERN, NULL, ".", 0, NONE, "2.0 1.0 2.0 1.0", NULL, 0, "1.0 2.0",
     NONE, 0, NULL},
    {"natural fallback", PF_STRATEGY_PATTERN, NULL, "^alpine", 0, NONE,
     "alpine3.9 alpine3.18 alpine3.10 debian", NULL, 0, "alpine3.9 alpine3.10 alpine3.18", NONE, 1,
     "ordering 3 tags naturally"},
    {"natural fallback maxTags", PF_STRATEGY_PATTERN, NULL, "^alpine", 2, NONE,
     "alpine3.9 alpine3.18 alpine3.10", NULL, 0, "alpine3.10 alpine3.18", NONE, 1, NULL},
    {"no match", PF_STRATEGY_PATTERN, NULL, "zzz", 0, NONE, COPA_TAGS, NULL, 0, NONE, NONE, 1,
     "no tags match pattern 'zzz'"},
    {"all excluded", PF_STRATEGY_PATTERN, NULL, "^1\\.8", 0, "1.8.0", COPA_TAGS, NULL, 0, NONE,
     NONE, 1, "no tags match pattern '^1\\.8' (1 excluded)"},
    {"pattern, unknown tags", PF_STRATEGY_PATTERN, NULL, ".", 0, NONE, UNKNOWN, NULL, 0, NONE, NONE,
     1, "no tags match pattern '.'"},
    {"empty pattern", PF_STRATEGY_PATTERN, NULL, "", 0, NONE, "b a", NULL, -EINVAL, NONE, NONE, 1,
     "without a pattern"},
    {"bad pattern", PF_STRATEGY_PATTERN, NULL, "(", 0, NONE, COPA_TAGS, NULL, -EINVAL, NONE, NONE,
     1, "invalid pattern '('"},
    {"backreference", PF_STRATEGY_PATTERN, NULL, "(a)\\1", 0, NONE, COPA_TAGS, NULL, -EINVAL, NONE,
     NONE, 1, "backreferences"},
    {"no pattern", PF_STRATEGY_PATTERN, NULL, NULL, 0, NONE, COPA_TAGS, NULL, -EINVAL, NONE, NONE,
     1, "without a pattern"},

    /* List: config order, de-duplicated, missing tags reported (R1). */
    {"list missing", PF_STRATEGY_LIST, "1.0 2.0 1.0 3.0", NULL, 0, NONE, "3.0 1.0", NULL, 0,
     "1.0 3.0", "2.0", 1, "tag '2.0' not found in the repository, skipping"},
    {"list unknown tags", PF_STRATEGY_LIST, "2.0 1.0 2.0", NULL, 0, NONE, UNKNOWN, NULL, 0,
     "2.0 1.0", NONE, 0, NULL},
    {"list exclude", PF_STRATEGY_LIST, "2.0 1.0", NULL, 0, "2.0", UNKNOWN, NULL, 0, "1.0", NONE, 0,
     NULL},
    {"list invalid tag", PF_STRATEGY_LIST, "1.0 .x", NULL, 0, NONE, UNKNOWN, NULL, 0, "1.0", NONE,
     1, "tag '.x' is not a valid tag, skipping"},
    {"list all missing", PF_STRATEGY_LIST, "a b", NULL, 0, NONE, NONE, NULL, 0, NONE, "a b", 2,
     "tag 'b' not found"},

    /* Latest. */
    {"latest exclude", PF_STRATEGY_LATEST, NULL, NULL, 0, "2.0", "1.0 2.0 latest", NULL, 0, "1.0",
     NONE, 0, NULL},
    {"latest four parts", PF_STRATEGY_LATEST, NULL, NULL, 0, NONE, "1.2.3 1.2.3.1 1.2.2.9", NULL, 0,
     "1.2.3.1", NONE, 0, NULL},
    {"latest by created", PF_STRATEGY_LATEST, NULL, NULL, 0, NONE, "bookworm trixie bullseye",
     "bookworm=100 trixie=200 bullseye=50", 0, "trixie", NONE, 1,
     "no tag is a version; chose 'trixie', the most recently created of 3 tags"},
    {"latest by created tie", PF_STRATEGY_LATEST, NULL, NULL, 0, NONE, "trixie bookworm",
     "bookworm=200 trixie=200", 0, "trixie", NONE, 1, NULL},
    {"latest by created partial", PF_STRATEGY_LATEST, NULL, NULL, 0, NONE, "trixie bookworm",
     "bookworm=5", 0, "bookworm", NONE, 1, "(1 without a creation time)"},
    {"latest by created none", PF_STRATEGY_LATEST, NULL, NULL, 0, NONE, "trixie bookworm", "", 0,
     NONE, NONE, 1, "no creation time could be read"},
    {"latest by created excluded", PF_STRATEGY_LATEST, NULL, NULL, 0, "trixie", "bookworm trixie",
     "bookworm=100 trixie=200", 0, "bookworm", NONE, 1, NULL},
    {"latest no callback", PF_STRATEGY_LATEST, NULL, NULL, 0, NONE, "bookworm trixie", NULL, 0,
     NONE, NONE, 1, "creation times are not available"},
    {"latest nothing", PF_STRATEGY_LATEST, NULL, NULL, 0, NONE, NONE, NULL, 0, NONE, NONE, 1,
     "no tags to choose 'latest' from"},
    {"latest all excluded", PF_STRATEGY_LATEST, NULL, NULL, 0, "1.0", "1.0", NULL, 0, NONE, NONE, 1,
     "(all excluded)"},
    {"latest unknown tags", PF_STRATEGY_LATEST, NULL, NULL, 0, NONE, UNKNOWN, NULL, 0, NONE, NONE,
     1, NULL},
};

static void check_case(const struct select_case *c)
{
    struct pf_tag_spec spec = {.strategy = c->strategy, .max_tags = c->max_tags};
    struct pf_strv available = PF_STRV_INIT;
    struct pf_tag_selection sel = {PF_STRV_INIT, PF_STRV_INIT, PF_STRV_INIT};
    struct created_table table = {.pairs = c->created};
    bool found = !c->warning;

    split(&spec.list, c->list);
    split(&spec.exclude, c->exclude);
    spec.pattern = (char *)(uintptr_t)c->pattern;
    split(&available, c->available);
    assert_int_equal(pf_tags_select(&spec, c->available ? &available : NULL,
                                    c->created ? created_from_table : NULL, &table, &sel),
                     c->rc);
    assert_strv(&sel.tags, c->want);
    assert_strv(&sel.missing, c->missing);
    for (size_t i = 0; i < sel.warnings.n; i++) {
        print_message("  warning: %s\n", sel.warnings.v[i]);
        if (c->warning && strstr(sel.warnings.v[i], c->warning))
            found = true;
    }
    assert_int_equal(sel.warnings.n, c->n_warnings);
    assert_true(found);
    pf_tag_selection_release(&sel);
    pf_strv_clear(&available);
    pf_strv_clear(&spec.list);
    pf_strv_clear(&spec.exclude);
}

static void select_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(select_cases); i++) {
        print_message("case %zu: %s\n", i, select_cases[i].what);
        check_case(&select_cases[i]);
    }
}

static int created_is_index(const char *tag, int64_t *ret_created, void *userdata)
{
    unsigned *calls = userdata;
    char *end;

    (*calls)++;
    *ret_created = strtoll(tag + 1, &end, 10);
    assert_true(end > tag + 1 && *end == '\0');
    return 0;
}

/* The creation-time fallback asks about at most 1000 tags, the highest ones, and says so. */
static void latest_created_is_capped(void **state)
{
    struct pf_tag_spec spec = {.strategy = PF_STRATEGY_LATEST};
    struct pf_strv available = PF_STRV_INIT;
    struct pf_tag_selection sel = {PF_STRV_INIT, PF_STRV_INIT, PF_STRV_INIT};
    unsigned calls = 0;

    (void)state;
    for (int i = 0; i < 1005; i++)
        assert_int_equal(pf_strv_pushf(&available, "t%d", i), 0);
    assert_int_equal(pf_tags_select(&spec, &available, created_is_index, &calls, &sel), 0);
    assert_int_equal(calls, 1000);
    assert_strv(&sel.tags, "t1004");
    assert_int_equal(sel.warnings.n, 2);
    assert_string_equal(sel.warnings.v[0],
                        "only the 1000 highest of 1005 tags were checked for their creation time");
    pf_tag_selection_release(&sel);
    pf_strv_clear(&available);
}

static void unknown_strategy(void **state)
{
    struct pf_tag_spec spec = {.strategy = PF_STRATEGY_INVALID};
    struct pf_tag_selection sel = {PF_STRV_INIT, PF_STRV_INIT, PF_STRV_INIT};

    (void)state;
    assert_int_equal(pf_tags_select(&spec, NULL, NULL, NULL, &sel), -EINVAL);
    assert_int_equal(sel.tags.n, 0);
    assert_int_equal(sel.warnings.n, 1);
    pf_tag_selection_release(&sel);
    pf_tag_selection_release(NULL);
}

/* Every allocation failure gives -ENOMEM, leaks nothing and leaves `ret` untouched. */
static void out_of_memory(void **state)
{
    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(select_cases); i++) {
        const struct select_case *c = &select_cases[i];

        for (unsigned long n = 1; n < 40; n++) {
            struct pf_tag_spec spec = {.strategy = c->strategy, .max_tags = c->max_tags};
            struct pf_strv available = PF_STRV_INIT;
            struct pf_tag_selection sel = {PF_STRV_INIT, PF_STRV_INIT, PF_STRV_INIT};
            struct created_table table = {.pairs = c->created};
            int r;

            split(&spec.list, c->list);
            split(&spec.exclude, c->exclude);
            spec.pattern = (char *)(uintptr_t)c->pattern;
            split(&available, c->available);
            pf_alloc_fail_at(n, true);
            r = pf_tags_select(&spec, c->available ? &available : NULL,
                               c->created ? created_from_table : NULL, &table, &sel);
            pf_alloc_fail_at(0, false);
            if (r == -ENOMEM) {
                assert_null(sel.tags.v);
                assert_null(sel.warnings.v);
                assert_null(sel.missing.v);
            } else {
                assert_int_equal(r, c->rc);
            }
            pf_tag_selection_release(&sel);
            pf_strv_clear(&available);
            pf_strv_clear(&spec.list);
            pf_strv_clear(&spec.exclude);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(is_version),       cmocka_unit_test(compare),
        cmocka_unit_test(select_table),     cmocka_unit_test(latest_created_is_capped),
        cmocka_unit_test(unknown_strategy), cmocka_unit_test(out_of_memory),
    };

    return cmocka_run_group_tests_name("tags", tests, NULL, NULL);
}
