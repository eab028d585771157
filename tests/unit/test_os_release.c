/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for worker/os_release: real files, quoting rules, family detection, bad input. */
#include "pf_test.h"

#include "engine/os_release.h"

static void parse_text(const char *text, struct worker_os_release *o)
{
    assert_int_equal(worker_os_release_parse(text, strlen(text), o), 0);
}

static void real_files(void **state)
{
    static const struct {
        const char *file, *id, *version_id, *codename, *ubuntu_codename;
        enum worker_distro_family family;
        long major;
    } cases[] = {
        {"dpkg/os-release.debian", "debian", "12", "bookworm", NULL, WORKER_DISTRO_DEBIAN, 12},
        {"dpkg/os-release.ubuntu", "ubuntu", "22.04", "jammy", "jammy", WORKER_DISTRO_UBUNTU, 22},
        {"dpkg/os-release.alpine", "alpine", "3.19.1", NULL, NULL, WORKER_DISTRO_ALPINE, 3},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct worker_os_release o;
        size_t len;
        char *text = pf_test_read_data(cases[i].file, &len);

        assert_int_equal(worker_os_release_parse(text, len, &o), 0);
        assert_string_equal(o.id, cases[i].id);
        assert_string_equal(o.version_id, cases[i].version_id);
        if (cases[i].codename)
            assert_string_equal(o.version_codename, cases[i].codename);
        else
            assert_null(o.version_codename);
        if (cases[i].ubuntu_codename)
            assert_string_equal(o.ubuntu_codename, cases[i].ubuntu_codename);
        else
            assert_null(o.ubuntu_codename);
        assert_int_equal(o.family, cases[i].family);
        assert_int_equal(o.major, cases[i].major);
        assert_non_null(o.pretty_name);
        worker_os_release_release(&o);
        pf_free(text);
    }
}

static void unquote_rules(void **state)
{
    static const struct {
        const char *in, *out;
    } ok[] = {
        {"plain", "plain"},
        {"\"double quoted\"", "double quoted"},
        {"'single \\n $x'", "single \\n $x"},
        {"\"a\\\"b\\\\c\\$d\\`e\"", "a\"b\\c$d`e"},
        {"\"keep\\n\"", "keep\\n"},
        {"un\\ quoted", "un quoted"},
        {"con\"cat\"'ena'ted", "concatenated"},
        {"\"\"", ""},
        {"", ""},
    };
    static const char *const bad[] = {"\"open", "'open", "trailing\\", "two words"};
    char *v;

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(ok); i++) {
        assert_int_equal(worker_os_release_unquote(ok[i].in, strlen(ok[i].in), &v), 0);
        assert_string_equal(v, ok[i].out);
        pf_free(v);
    }
    for (size_t i = 0; i < PF_ARRAY_SIZE(bad); i++)
        assert_int_equal(worker_os_release_unquote(bad[i], strlen(bad[i]), &v), -EINVAL);
}

static void family_detection(void **state)
{
    static const struct {
        const char *text;
        enum worker_distro_family family;
        long major;
    } cases[] = {
        {"ID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_ID=\"21.3\"\n", WORKER_DISTRO_UBUNTU,
         21},
        {"ID=raspbian\nID_LIKE=debian\nVERSION_ID=\"12\"\n", WORKER_DISTRO_DEBIAN, 12},
        {"ID=\"debian\"\nVERSION_CODENAME=trixie\n", WORKER_DISTRO_DEBIAN, -1},
        {"ID=rocky\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n", WORKER_DISTRO_UNKNOWN,
         9},
        {"ID=wolfi\nVERSION_ID=20230201\n", WORKER_DISTRO_UNKNOWN, 20230201},
        {"ID=alpine\nVERSION_ID=edge\n", WORKER_DISTRO_ALPINE, -1},
        {"ID=debian\nVERSION_ID=99999999999999999999\n", WORKER_DISTRO_DEBIAN, -1},
        {"", WORKER_DISTRO_UNKNOWN, -1},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct worker_os_release o;

        parse_text(cases[i].text, &o);
        assert_int_equal(o.family, cases[i].family);
        assert_int_equal(o.major, cases[i].major);
        worker_os_release_release(&o);
    }
    assert_string_equal(worker_distro_family_to_string(WORKER_DISTRO_UBUNTU), "ubuntu");
    assert_string_equal(worker_distro_family_to_string(WORKER_DISTRO__MAX), "unknown");
}

static void odd_lines_are_skipped(void **state)
{
    static const char text[] = "# comment\n"
                               "; also a comment\n"
                               "  ID=ubuntu  \r\n"
                               "garbage line\n"
                               "=novalue\n"
                               "VERSION_ID=\"unterminated\n"
                               "ID_LIKE=two words\n"
                               "9KEY=x\n"
                               "VERSION_CODENAME=first\n"
                               "VERSION_CODENAME=noble";
    struct worker_os_release o;

    (void)state;
    parse_text(text, &o);
    assert_string_equal(o.id, "ubuntu");
    assert_null(o.version_id);
    assert_null(o.id_like);
    /* The last assignment wins, as in a shell. */
    assert_string_equal(o.version_codename, "noble");
    assert_int_equal(o.major, -1);
    worker_os_release_release(&o);
    worker_os_release_release(NULL);
}

static void hostile_input(void **state)
{
    static const char nul[] = "ID=debian\0\n";
    struct worker_os_release o = {.id = NULL};
    size_t n = WORKER_OS_RELEASE_MAX_INPUT + 1;
    char *big;

    (void)state;
    assert_int_equal(worker_os_release_parse(nul, sizeof(nul) - 1, &o), -EINVAL);
    big = pf_malloc(n);
    assert_non_null(big);
    memset(big, '\n', n);
    assert_int_equal(worker_os_release_parse(big, n, &o), -E2BIG);
    assert_int_equal(worker_os_release_parse(big, n - 1, &o), 0);
    assert_null(o.id);
    worker_os_release_release(&o);
    pf_free(big);
}

static void alloc_failures_are_clean(void **state)
{
    size_t len;
    char *text = pf_test_read_data("dpkg/os-release.ubuntu", &len);
    struct worker_os_release o;
    int r;

    (void)state;
    for (unsigned long n = 1; n < 10000; n++) {
        pf_alloc_fail_at(n, true);
        r = worker_os_release_parse(text, len, &o);
        pf_alloc_fail_at(0, false);
        if (r == 0)
            break;
        assert_int_equal(r, -ENOMEM);
    }
    assert_string_equal(o.ubuntu_codename, "jammy");
    worker_os_release_release(&o);
    pf_free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_files),       cmocka_unit_test(unquote_rules),
        cmocka_unit_test(family_detection), cmocka_unit_test(odd_lines_are_skipped),
        cmocka_unit_test(hostile_input),    cmocka_unit_test(alloc_failures_are_clean),
    };

    return cmocka_run_group_tests_name("os_release", tests, NULL, NULL);
}
