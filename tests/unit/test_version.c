/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for worker/version.h: every vector of notes/package-formats.md §5 (apk both
 * generations, apk v3 only, derived apk chains, dpkg and apt upstream vectors, dpkg parse
 * validity, distribution-style Debian vectors). Every comparison is also run with the arguments
 * swapped, since an ordering that is not antisymmetric would make upgrade decisions flap.
 */
#include "pf_test.h"

#include "apk/version_apk.h"
#include "deb/version_deb.h"

/* "a CMP b" with CMP -1, 0 or 1. */
struct vec {
    const char *a;
    int cmp;
    const char *b;
};

static const struct vec apk_both[] = {
    {"2.34", 1, "0.1.0_alpha"},
    {"23_foo", 1, "4_beta"},
    {"1.0", -1, "1.0bc"},
    {"0.1.0_alpha", 0, "0.1.0_alpha"},
    {"0.1.0_alpha2", 1, "0.1.0_alpha"},
    {"1.1", 1, "1.1_alpha1"},
    {"1.2.1", 1, "1.2"},
    {"0.12.3", 1, "0.12"},
    {"1.0.4-r3", -1, "1.0.4-r4"},
    {"1.06-r6", -1, "006"},
    {"006", 1, "1.0.0"},
    {"3.1_p16", -1, "3.1_p17"},
    {"1.2.2-r1", 1, "1.2.2"},
    {"0.10.0-r1", 1, "0.10.0"},
    {"0.10.0", -1, "0.10.1_rc1"},
    {"2.3.0b-r1", -1, "2.3.0b-r2"},
    {"2.5.1-r8", -1, "2.5.1a-r1"},
    {"0.15.1b-r2", 1, "0.15.1b"},
    {"20040401", 1, "2.0.0_rc3-r1"},
    {"3.9_pre20060124", 1, "0.01"},
    {"2.1_pre20", -1, "2.1_pre26"},
    {"02.08.01b", -1, "4.77"},
    {"2.01.01_alpha10", 1, "0.94"},
    {"1.02.07", -1, "1.02.10-r1"},
    {"4.2.52_p2-r1", -1, "4.2.52_p4-r2"},
    {"4.5_p1-r1", 1, "4.5_p1"},
    {"1.8.5", -1, "1.8.5_p2"},
    {"0.20070118", -1, "0.20070207_rc1"},
    {"1.3-r0", -1, "1.3.1-r0"},
    {"1.3_pre1-r1", -1, "1.3.2"},
    {"1.0_p10-r0", 1, "1.0_p9-r0"},
    {"0.1.0_alpha_pre2", -1, "0.1.0_alpha"},
    {"1.0.0_pre20191002222144-r0", -1, "1.0.0_pre20210530193627-r0"},
    {"6.0_pre1", -1, "6.0"},
    {"6.1_pre1", -1, "6.1"},
    {"6.0_p1", 1, "6.0"},
    {"6.1_p1", 1, "6.1"},
};

static const struct vec apk_v3_only[] = {
    {"8.2.0", -1, "8.2.001"},          {"8.2.0015", -1, "8.2.002"},
    {"1.0~1234", -1, "1.0~2345"},      {"1.0~1234-r1", -1, "1.0~2345-r0"},
    {"1.0~1234-r1", 1, "1.0~1234-r0"},
};

static const struct vec deb_vectors[] = {
    /* dpkg scripts/t/Dpkg_Version.t */
    {"1.0-1", -1, "2.0-2"},
    {"2.2~rc-4", -1, "2.2-1"},
    {"1.0000-1", 0, "1.0-1"},
    {"1", 0, "0:1"},
    {"0", 0, "0:0-0"},
    {"2:2.5", 1, "1:7.5"},
    {"1:0foo", 1, "0foo"},
    {"0foo-0", 0, "0foo"},
    {"0foo", 1, "0fo"},
    {"0foo-0", -1, "0foo+"},
    {"0foo~1", -1, "0foo"},
    {"0foo~foo+Bar", -1, "0foo~foo+bar"},
    {"0foo~~", -1, "0foo~"},
    {"1~", -1, "1"},
    {"0foo-0", -1, "0foo-01"},
    {"0foo.bar", 1, "0foobar"},
    {"0foo.bar", 1, "0foo1bar"},
    {"0foo1bar-1", -1, "0foobar-1"},
    {"0foo2.0", 1, "0foo2"},
    {"0foo2.0", -1, "0foo2.0.0"},
    {"1.09", 0, "1.9"},
    {"1.0.8+nmu1", 1, "1.0.8"},
    {"3.11", 1, "3.10+nmu1"},
    {"1.2.0~b7-1", 1, "1.2.0~b6-1"},
    {"1.011-1", 1, "1.06-2"},
    {"2:2.3.2-2+lenny2", 1, "2:2.3.2-2"},
    {"1:3.8.1-1", 1, "3.8.GA-1"},
    {"1.0.1+gpl-1", 1, "1.0.1-2"},
    {"1a", -1, "1000a"},
    /* apt test/libapt/compareversion_test.cc */
    {"7.6p2-4", 1, "7.6-0"},
    {"1.0.3-3", 1, "1.0-1"},
    {"1.1.6r2-2", 1, "1.1.6r-1"},
    {"98.1p5-1", -1, "98.1-pre2-b6-2"},
    {"1:3.0.5-2", -1, "1:3.0.5.1"},
    {"1:0.4", 1, "10.3"},
    {"0:1.18.36", 0, "1.18.36"},
    {"9:1.18.36:5.4-20", -1, "10:0.5.1-22"},
    {"1.18.36-0.17.35-18", 1, "1.18.36-19"},
    {"1:1.2.13-3", -1, "1:1.2.13-3.1"},
    {"2.0.7pre1-4", -1, "2.0.7r-1"},
    {"0:0-0-0", 1, "0-0"},
    {"0", 0, "00"},
    {"3.0~rc1-1", -1, "3.0-1"},
    {"1.0", 0, "1.0-0"},
    {"1.0", -1, "1.0-0+b1"},
    {"1.0", 1, "1.0-0~"},
    {"009ab5", 0, "9ab5"},
    {"2a", -1, "21"},
    {"1.2a+~bCd3", -1, "1.2a++"},
    {"1.2a+~bCd3", 1, "1.2a+~"},
    {"5:2", -1, "304:2"},
    {"1:2:123", -1, "1:12:3"},
    {"1.2-5", -1, "1.2-3-5"},
    {"5.10.0", 1, "5.005"},
    {"3a9.8", -1, "3.10.2"},
    {"3a9.8", 1, "3~10"},
    {"1.4+OOo3.0.0~", -1, "1.4+OOo3.0.0-4"},
    {"2.4.7-1", -1, "2.4.7-z"},
    {"1.002-1+b2", 1, "1.00"},
    {" 9:1.18.37:4.3-22", 1, "9:1.18.36:5.4-20"},
    /* notes §5.5: distribution-style */
    {"1.2.3-1ubuntu1", 1, "1.2.3-1"},
    {"1.2.3-1ubuntu0.1", -1, "1.2.3-1ubuntu1"},
    {"2.36-9+deb12u3", -1, "2.36-9+deb12u10"},
    {"7.88.1-10+deb12u5", -1, "7.88.1-10+deb12u12"},
    {"3.0.11-1~deb12u2", -1, "3.0.11-1"},
    {"1.21.1-1ubuntu2.1~22.04.1", -1, "1.21.1-1ubuntu2.1"},
    {"2:8.2.3995-1ubuntu2.15", 1, "2:8.2.3995-1ubuntu2.9"},
    {"1:1.0", 1, "9.9"},
    {"1:0", 1, "0:999"},
    {"0:1.0", 0, "1.0"},
    {"1.0~rc1", -1, "1.0"},
    {"1.0~~", -1, "1.0~"},
    {"1.0", -1, "1.0a"},
    {"1.0a", -1, "1.0+"},
    {"1.0a", -1, "1.0."},
    {"1.0+b1", 1, "1.0"},
    {"1.010", 0, "1.10"},
    {"1.10", 1, "1.9"},
};

/* notes §5.3: derived apk vectors, true for both generations. */
static const struct vec apk_derived[] = {
    {"1.0_alpha", -1, "1.0_beta"},
    {"1.0_beta", -1, "1.0_pre"},
    {"1.0_pre", -1, "1.0_rc"},
    {"1.0_rc", -1, "1.0"},
    {"1.0", -1, "1.0_cvs"},
    {"1.0_cvs", -1, "1.0_svn"},
    {"1.0_svn", -1, "1.0_git"},
    {"1.0_git", -1, "1.0_hg"},
    {"1.0_hg", -1, "1.0_p"},
    {"1.0_alpha", -1, "1.0_p"},
    {"1.0", -1, "1.0-r0"},
    {"1.0-r9", -1, "1.0-r10"},
    {"1.0", -1, "1.0a"},
    {"1.0z", -1, "1.0.1"},
    {"1.0_p1", -1, "1.0.1"},
    {"1.9", -1, "1.10"},
    {"1.2.3_rc1", 1, "1.2.2"},
    {"1.0_rc1-r5", -1, "1.0-r0"},
    {"1.2.4_git20230717-r4", 1, "1.2.4-r4"},
    {"1.2.4_pre1_p2", -1, "1.2.4_pre2"},
};

/* How apk-tools 2.14 orders the v3-only vectors instead (leading zeros, no ~hash). */
static const struct vec apk_v2_differs[] = {
    {"8.2.0", 1, "8.2.001"},
    {"8.2.0015", 1, "8.2.002"},
};

typedef int (*cmp_fn)(const struct vec *v, int *ret_cmp, int *ret_swapped);

static void check_vectors(const struct vec *vecs, size_t n, cmp_fn fn)
{
    for (size_t i = 0; i < n; i++) {
        int c = 99, s = 99;
        int r = fn(&vecs[i], &c, &s);
        if (r < 0 || c != vecs[i].cmp || s != -vecs[i].cmp)
            print_error("vector %zu: '%s' vs '%s': r=%d cmp=%d swapped=%d, want %d\n", i, vecs[i].a,
                        vecs[i].b, r, c, s, vecs[i].cmp);
        assert_true(r >= 0);
        assert_int_equal(c, vecs[i].cmp);
        assert_int_equal(s, -vecs[i].cmp);
    }
}

static int cmp_deb(const struct vec *v, int *ret_cmp, int *ret_swapped)
{
    int r = worker_deb_version_compare(v->a, v->b, ret_cmp);
    if (r < 0)
        return r;
    return worker_deb_version_compare(v->b, v->a, ret_swapped);
}

static int cmp_apk(const struct vec *v, enum worker_apk_gen gen, int *ret_cmp, int *ret_swapped)
{
    int r = worker_apk_version_compare(v->a, v->b, gen, ret_cmp);
    if (r < 0)
        return r;
    return worker_apk_version_compare(v->b, v->a, gen, ret_swapped);
}

static int cmp_apk_v2(const struct vec *v, int *ret_cmp, int *ret_swapped)
{
    return cmp_apk(v, WORKER_APK_GEN_V2, ret_cmp, ret_swapped);
}

static int cmp_apk_v3(const struct vec *v, int *ret_cmp, int *ret_swapped)
{
    return cmp_apk(v, WORKER_APK_GEN_V3, ret_cmp, ret_swapped);
}

static void test_deb_vectors(void **state)
{
    (void)state;
    check_vectors(deb_vectors, PF_ARRAY_SIZE(deb_vectors), cmp_deb);
}

static void test_deb_parse_valid(void **state)
{
    static const struct {
        const char *s;
        unsigned int epoch;
        const char *upstream;
        const char *revision;
    } cases[] = {
        {"0:09azAZ.-+~:-0", 0, "09azAZ.-+~:", "0"},
        {"0:0-azAZ09.+~", 0, "0", "azAZ09.+~"},
        {"0:0:0-0", 0, "0:0", "0"},
        {"0:0-0-0", 0, "0-0", "0"},
        {"  1:2.3-4  ", 1, "2.3", "4"},
        {"2147483647:1", 2147483647u, "1", ""},
        {"7.6", 0, "7.6", ""},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct worker_deb_version v = {0};
        char err[128] = "";
        int r = worker_deb_version_parse(cases[i].s, &v, err, sizeof(err));
        if (r != 0)
            print_error("'%s': %d %s\n", cases[i].s, r, err);
        assert_int_equal(r, 0);
        assert_int_equal(v.epoch, cases[i].epoch);
        assert_string_equal(v.upstream, cases[i].upstream);
        assert_string_equal(v.revision, cases[i].revision);
        worker_deb_version_release(&v);
        assert_null(v.upstream);
    }
}

static void test_deb_parse_invalid(void **state)
{
    static const struct {
        const char *s;
        const char *reason;
    } cases[] = {
        {"", "version string is empty"},
        {"  ", "version string is empty"},
        {"0:", "nothing after colon in version number"},
        {":1.0", "epoch in version is empty"},
        {"1.0-", "revision number is empty"},
        {"0:0 0-1", "version string has embedded spaces"},
        {"-1:0-1", "epoch in version is negative"},
        {"999999999999999999999999:0-1", "epoch in version is too big"},
        {"2147483648:0", "epoch in version is too big"},
        {"a:0-0", "epoch in version is empty"},
        {"A:0-0", "epoch in version is empty"},
        {"1a:0-0", "epoch in version is not number"},
        {"-0", "upstream version is empty"},
        {"0:-0", "upstream version is empty"},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct worker_deb_version v = {.epoch = 42};
        char err[128] = "";
        int c = 7;
        int r = worker_deb_version_parse(cases[i].s, &v, err, sizeof(err));
        if (r != -EINVAL)
            print_error("'%s' parsed: %d\n", cases[i].s, r);
        assert_int_equal(r, -EINVAL);
        assert_string_equal(err, cases[i].reason);
        assert_int_equal(v.epoch, 42); /* untouched on failure */
        assert_null(v.upstream);
        assert_int_equal(worker_deb_version_compare(cases[i].s, "1.0", &c), -EINVAL);
        assert_int_equal(worker_deb_version_compare("1.0", cases[i].s, &c), -EINVAL);
        assert_int_equal(c, 7);
    }
    /* A NULL errbuf is allowed. */
    assert_int_equal(worker_deb_version_parse("", &(struct worker_deb_version){0}, NULL, 0),
                     -EINVAL);
}

/* What dpkg only warns about is accepted (1) and still ordered, as dpkg --compare-versions does. */
static void test_deb_parse_warnings(void **state)
{
    static const struct {
        const char *s;
        const char *reason;
    } cases[] = {
        {"abc3-0", "version number does not start with digit"},
        {"1.0_1", "invalid character in version number"},
        {"1.0-1_2", "invalid character in revision number"},
        {"1.0-1/2", "invalid character in revision number"},
    };
    int c = 7;

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct worker_deb_version v = {0};
        char err[128] = "";
        assert_int_equal(worker_deb_version_parse(cases[i].s, &v, err, sizeof(err)), 1);
        assert_string_equal(err, cases[i].reason);
        worker_deb_version_release(&v);
    }
    assert_int_equal(worker_deb_version_compare("abc3", "1", &c), 0);
    assert_int_equal(c, 1);
}

static void test_deb_cmp_parsed(void **state)
{
    struct worker_deb_version a = {0}, b = {0};

    (void)state;
    assert_int_equal(worker_deb_version_parse("1:2.36-9+deb12u10", &a, NULL, 0), 0);
    assert_int_equal(worker_deb_version_parse("1:2.36-9+deb12u3", &b, NULL, 0), 0);
    assert_int_equal(worker_deb_version_cmp(&a, &b), 1);
    assert_int_equal(worker_deb_version_cmp(&b, &a), -1);
    assert_int_equal(worker_deb_version_cmp(&a, &a), 0);
    worker_deb_version_release(&a);
    worker_deb_version_release(&b);
    worker_deb_version_release(&a); /* released twice: harmless */
    worker_deb_version_release(NULL);
}

static void test_apk_both(void **state)
{
    (void)state;
    check_vectors(apk_both, PF_ARRAY_SIZE(apk_both), cmp_apk_v2);
    check_vectors(apk_both, PF_ARRAY_SIZE(apk_both), cmp_apk_v3);
    check_vectors(apk_derived, PF_ARRAY_SIZE(apk_derived), cmp_apk_v2);
    check_vectors(apk_derived, PF_ARRAY_SIZE(apk_derived), cmp_apk_v3);
}

static void test_apk_v3_only(void **state)
{
    (void)state;
    check_vectors(apk_v3_only, PF_ARRAY_SIZE(apk_v3_only), cmp_apk_v3);
    check_vectors(apk_v2_differs, PF_ARRAY_SIZE(apk_v2_differs), cmp_apk_v2);
}

/* Invalid strings are still ordered like apk-tools does, but flagged with 1. */
static void test_apk_invalid_flagged(void **state)
{
    int c = 7;

    (void)state;
    assert_int_equal(worker_apk_version_compare("1.0", "1.0bc", WORKER_APK_GEN_V3, &c), 1);
    assert_int_equal(c, -1);
    assert_int_equal(worker_apk_version_compare("1.0", "1.0-r1", WORKER_APK_GEN_V3, &c), 0);
    assert_int_equal(c, -1);
    /* No ~hash in 2.x. */
    assert_int_equal(worker_apk_version_compare("1.0~12", "1.0", WORKER_APK_GEN_V2, &c), 1);
    c = 7;
    assert_int_equal(worker_apk_version_compare(NULL, "1.0", WORKER_APK_GEN_V3, &c), -EINVAL);
    assert_int_equal(worker_apk_version_compare("1.0", "1.0", WORKER_APK_GEN__MAX, &c), -EINVAL);
    assert_int_equal(c, 7);
}

static void test_apk_fuzzy(void **state)
{
    static const struct vec both[] = {
        {"3.6.0", 0, "3.6"}, {"3.6.9", 0, "3.6"}, {"3.6_pre1", 0, "3.6"},
        {"3.5", -1, "3.6"},  {"3.7", 1, "3.6"},   {"3.6.0", -1, "3.8"},
    };
    int c;

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(both); i++) {
        for (int gen = WORKER_APK_GEN_V2; gen < WORKER_APK_GEN__MAX; gen++) {
            assert_int_equal(worker_apk_version_compare_fuzzy(both[i].a, both[i].b,
                                                              (enum worker_apk_gen)gen, &c),
                             0);
            assert_int_equal(c, both[i].cmp);
        }
    }
    /* "3.8 !~ 3.8.1" in v3: a prefix match needs all of b; 2.x stops when either side ends. */
    assert_int_equal(worker_apk_version_compare_fuzzy("3.8", "3.8.1", WORKER_APK_GEN_V3, &c), 0);
    assert_int_equal(c, -1);
    assert_int_equal(worker_apk_version_compare_fuzzy("3.8", "3.8.1", WORKER_APK_GEN_V2, &c), 0);
    assert_int_equal(c, 0);
}

static void test_apk_valid(void **state)
{
    static const char *const valid[] = {
        "1.2",
        "0.1_pre2",
        "0.1_pre2~1234abcd",
        "0.1_p1_pre2",
        "0.1_alpha1_pre2",
        "0.1_git20240101_pre1",
        "1.0-r0",
        "006",
        "1.2.3a_rc1-r12",
    };
    static const char *const invalid[] = {
        "",
        "0.1bc",
        "0.1bc1",
        "0.1a1",
        "0.1a.1",
        "0.1_pre2~",
        "0.1_pre2~1234xbcd",
        "0.1_pre2~1234abcd_pre1",
        "0.1_foobar",
        "0.1-pre1.1",
        "0.1-r",
        "0.1-r2_pre1",
        "0.1-r2-r3",
        "0.1-r2.1",
        ".1",
        "a",
        "_pre1",
        "-r1",
        "0.1_",
        "0.1__alpha",
        "0.1_1_alpha",
        "1.",
        "1.0 ",
        "1.0-R1",
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(valid); i++) {
        if (!worker_apk_version_valid(valid[i], WORKER_APK_GEN_V3))
            print_error("'%s' should be valid\n", valid[i]);
        assert_true(worker_apk_version_valid(valid[i], WORKER_APK_GEN_V3));
    }
    for (size_t i = 0; i < PF_ARRAY_SIZE(invalid); i++) {
        if (worker_apk_version_valid(invalid[i], WORKER_APK_GEN_V3))
            print_error("'%s' should be invalid\n", invalid[i]);
        assert_false(worker_apk_version_valid(invalid[i], WORKER_APK_GEN_V3));
    }
    /* Differences in 2.x: no ~hash, prefix-matched suffixes, and a letter may take digits. */
    assert_false(worker_apk_version_valid("0.1_pre2~1234abcd", WORKER_APK_GEN_V2));
    assert_true(worker_apk_version_valid("0.1a1", WORKER_APK_GEN_V2));
    assert_true(worker_apk_version_valid("1.2_rc1-r3", WORKER_APK_GEN_V2));
    assert_false(worker_apk_version_valid("1.2-x", WORKER_APK_GEN_V2));
    assert_false(worker_apk_version_valid("1.123456789012345678", WORKER_APK_GEN_V2));
    assert_false(worker_apk_version_valid(NULL, WORKER_APK_GEN_V3));
    assert_false(worker_apk_version_valid("1.0", WORKER_APK_GEN__MAX));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deb_vectors),       cmocka_unit_test(test_deb_parse_valid),
        cmocka_unit_test(test_deb_parse_invalid), cmocka_unit_test(test_deb_parse_warnings),
        cmocka_unit_test(test_deb_cmp_parsed),    cmocka_unit_test(test_apk_both),
        cmocka_unit_test(test_apk_v3_only),       cmocka_unit_test(test_apk_invalid_flagged),
        cmocka_unit_test(test_apk_fuzzy),         cmocka_unit_test(test_apk_valid),
    };

    return cmocka_run_group_tests_name("version", tests, NULL, NULL);
}
