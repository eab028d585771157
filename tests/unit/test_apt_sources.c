/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for worker/apt_sources: one-line and deb822 lists, flat repos, keys, bad lines. */
#include "pf_test.h"

#include "deb/apt_sources.h"

static void real_debian_sources(void **state)
{
    struct worker_apt_sources s = WORKER_APT_SOURCES_INIT;
    size_t len;
    char *text = pf_test_read_data("dpkg/debian.sources", &len);
    static const char *const uris[] = {"http://deb.debian.org/debian",
                                       "http://deb.debian.org/debian",
                                       "http://deb.debian.org/debian-security"};
    static const char *const suites[] = {"bookworm", "bookworm-updates", "bookworm-security"};

    (void)state;
    assert_int_equal(worker_apt_sources_parse_deb822(&s, "debian.sources", text, len, NULL, 0), 3);
    assert_int_equal(s.n, 3);
    for (size_t i = 0; i < s.n; i++) {
        assert_string_equal(s.v[i].uri, uris[i]);
        assert_string_equal(s.v[i].suite, suites[i]);
        assert_int_equal(s.v[i].components.n, 1);
        assert_string_equal(s.v[i].components.v[0], "main");
        assert_string_equal(s.v[i].signed_by, "/usr/share/keyrings/debian-archive-keyring.gpg");
        assert_false(s.v[i].signed_by_inline);
        assert_false(s.v[i].flat);
        assert_false(s.v[i].trusted);
        assert_int_equal(s.v[i].archs.n, 0);
        assert_string_equal(s.v[i].file, "debian.sources");
    }
    assert_int_equal(s.v[0].line, 1);
    assert_int_equal(s.v[2].line, 8);
    worker_apt_sources_clear(&s);
    pf_free(text);
}

static void one_line_list(void **state)
{
    struct worker_apt_sources s = WORKER_APT_SOURCES_INIT;
    size_t len;
    char *text = pf_test_read_data("dpkg/sources.list.ubuntu", &len);
    char err[128] = "";

    (void)state;
    assert_int_equal(worker_apt_sources_parse_list(&s, "sources.list", text, len, err, sizeof(err)),
                     4);
    assert_string_equal(s.v[0].uri, "http://archive.ubuntu.com/ubuntu/");
    assert_string_equal(s.v[0].suite, "jammy");
    assert_int_equal(s.v[0].components.n, 2);
    assert_string_equal(s.v[0].components.v[1], "restricted");
    assert_int_equal(s.v[0].line, 3);
    assert_null(s.v[0].signed_by);
    /* The trailing comment is not a component. */
    assert_string_equal(s.v[1].suite, "jammy-updates");
    assert_int_equal(s.v[1].components.n, 2);
    assert_string_equal(s.v[2].suite, "jammy-security");
    assert_int_equal(s.v[2].archs.n, 2);
    assert_string_equal(s.v[2].archs.v[0], "amd64");
    assert_string_equal(s.v[2].archs.v[1], "i386");
    assert_string_equal(s.v[2].signed_by, "/usr/share/keyrings/ubuntu-archive-keyring.gpg");
    assert_int_equal(s.v[2].components.n, 2);
    assert_string_equal(s.v[3].uri, "file:/srv/repo");
    assert_string_equal(s.v[3].suite, "./");
    assert_true(s.v[3].flat);
    assert_true(s.v[3].trusted);
    assert_int_equal(s.v[3].components.n, 0);
    assert_int_equal(s.v[3].line, 9);
    worker_apt_sources_clear(&s);
    pf_free(text);
}

static void deb822_features(void **state)
{
    static const char text[] = "Types: deb deb-src\n"
                               "URIs: http://a/debian http://b/debian\n"
                               "Suites: bookworm\n"
                               " bookworm-updates\n"
                               "Components: main contrib\n"
                               "architectures: amd64 arm64\n"
                               "Signed-By:\n"
                               " -----BEGIN PGP PUBLIC KEY BLOCK-----\n"
                               " .\n"
                               " mDMEZabc\n"
                               " =abcd\n"
                               " -----END PGP PUBLIC KEY BLOCK-----\n"
                               "\n"
                               "# disabled entries produce nothing\n"
                               "Types: deb\n"
                               "URIs: http://disabled/\n"
                               "Suites: x\n"
                               "Components: main\n"
                               "Enabled: no\n"
                               "\n"
                               "Types: deb-src\n"
                               "URIs: http://src/\n"
                               "Suites: x\n"
                               "Components: main\n"
                               "\n"
                               "Types: deb\n"
                               "URIs: file:/flat\n"
                               "Suites: ./ sub/\n"
                               "Trusted: yes\n"
                               "Signed-By: /k1.gpg\n"
                               " /k2.gpg\n";
    struct worker_apt_sources s = WORKER_APT_SOURCES_INIT;
    char err[128] = "";

    (void)state;
    assert_int_equal(worker_apt_sources_parse_deb822(&s, "x.sources", text, strlen(text), err,
                                                     sizeof(err)),
                     6);
    /* URIs x Suites, URI-major. */
    assert_string_equal(s.v[0].uri, "http://a/debian");
    assert_string_equal(s.v[0].suite, "bookworm");
    assert_string_equal(s.v[1].suite, "bookworm-updates");
    assert_string_equal(s.v[2].uri, "http://b/debian");
    assert_int_equal(s.v[3].components.n, 2);
    assert_int_equal(s.v[3].archs.n, 2);
    assert_true(s.v[0].signed_by_inline);
    assert_string_equal(s.v[0].signed_by, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
                                          "\n"
                                          "mDMEZabc\n"
                                          "=abcd\n"
                                          "-----END PGP PUBLIC KEY BLOCK-----\n");
    assert_string_equal(s.v[4].suite, "./");
    assert_true(s.v[4].flat);
    assert_true(s.v[5].flat);
    assert_true(s.v[5].trusted);
    assert_false(s.v[5].signed_by_inline);
    assert_string_equal(s.v[5].signed_by, "/k1.gpg /k2.gpg");
    assert_int_equal(s.v[5].line, 26);
    worker_apt_sources_clear(&s);
}

struct bad_case {
    const char *text;
    int err;
    const char *msg;
};

static void malformed_lists(void **state)
{
    static const struct bad_case lines[] = {
        {"rpm http://x/ a main\n", -EINVAL, "l:1: unknown type"},
        {"\ndeb http://x/\n", -EINVAL, "l:2: missing URI or suite"},
        {"deb [arch=amd64 http://x/ a main\n", -EINVAL, "l:1: malformed option block"},
        {"deb [arch] http://x/ a main\n", -EINVAL, "l:1: malformed option block"},
        {"deb http://x/ bookworm\n", -EINVAL,
         "l:1: a flat suite takes no components, any other suite needs one"},
        {"deb http://x/ ./ main\n", -EINVAL,
         "l:1: a flat suite takes no components, any other suite needs one"},
        {"deb http://x/ a main\0\n", -EINVAL, "l: NUL byte in file"},
    };
    static const struct bad_case stanzas[] = {
        {"Types: deb\nURIs: http://x/\nComponents: main\n", -EINVAL,
         "s:1: Types, URIs and Suites are required"},
        {"Types: rpm\nURIs: http://x/\nSuites: a\nComponents: main\n", -EINVAL,
         "s:1: unknown type"},
        {"Types: deb\nURIs: http://x/\nSuites: a\n", -EINVAL,
         "s:1: a flat suite takes no components, any other suite needs one"},
        {"\nTypes: deb\nURIs: http://x/\nSuites: a\nComponents: main\nEnabled: maybe\n", -EINVAL,
         "s:2: Enabled and Trusted take yes or no"},
        {" Types: deb\n", -EINVAL, "s: line 1: continuation line outside a field"},
    };
    struct worker_apt_sources s = WORKER_APT_SOURCES_INIT;
    static const char good[] = "deb http://ok/ a main\n";
    char err[128];

    (void)state;
    /* Failures must leave earlier entries alone. */
    assert_int_equal(worker_apt_sources_parse_list(&s, "g", good, strlen(good), NULL, 0), 1);
    for (size_t i = 0; i < PF_ARRAY_SIZE(lines); i++) {
        size_t len = strlen(lines[i].text);

        if (i == PF_ARRAY_SIZE(lines) - 1)
            len = sizeof("deb http://x/ a main\0\n") - 1;
        err[0] = '\0';
        assert_int_equal(worker_apt_sources_parse_list(&s, "l", lines[i].text, len, err,
                                                       sizeof(err)),
                         lines[i].err);
        assert_string_equal(err, lines[i].msg);
    }
    for (size_t i = 0; i < PF_ARRAY_SIZE(stanzas); i++) {
        err[0] = '\0';
        assert_int_equal(worker_apt_sources_parse_deb822(&s, "s", stanzas[i].text,
                                                         strlen(stanzas[i].text), err, sizeof(err)),
                         stanzas[i].err);
        assert_string_equal(err, stanzas[i].msg);
    }
    assert_int_equal(s.n, 1);
    assert_string_equal(s.v[0].uri, "http://ok/");
    worker_apt_sources_clear(&s);
    worker_apt_sources_clear(NULL);
}

static void limits(void **state)
{
    struct worker_apt_sources s = WORKER_APT_SOURCES_INIT;
    struct pf_buf b = PF_BUF_INIT;
    char *big;

    (void)state;
    for (size_t i = 0; i <= WORKER_APT_SOURCES_MAX_ENTRIES; i++)
        assert_int_equal(pf_buf_appendf(&b, "deb http://x/ s%zu main\n", i), 0);
    assert_int_equal(worker_apt_sources_parse_list(&s, "many", b.p, b.len, NULL, 0), -E2BIG);
    assert_int_equal(s.n, 0);
    pf_buf_release(&b);
    big = pf_calloc(1, WORKER_APT_SOURCES_MAX_INPUT + 1);
    assert_non_null(big);
    memset(big, '#', WORKER_APT_SOURCES_MAX_INPUT + 1);
    assert_int_equal(worker_apt_sources_parse_list(&s, "big", big, WORKER_APT_SOURCES_MAX_INPUT + 1,
                                                   NULL, 0),
                     -E2BIG);
    assert_int_equal(worker_apt_sources_parse_deb822(&s, "big", big,
                                                     WORKER_APT_SOURCES_MAX_INPUT + 1, NULL, 0),
                     -E2BIG);
    pf_free(big);
}

/* A file without entries moves nothing: no memcpy from the unallocated scratch array (undefined
 * even for 0 bytes, UBSan's nonnull check), no allocation, and earlier entries are kept. */
static void files_without_entries(void **state)
{
    static const char comments[] = "# nothing here\n\n   \n";
    static const char stanza[] = "Types: deb\nURIs: http://x/\nSuites: s\nComponents: main\n";
    struct worker_apt_sources s = WORKER_APT_SOURCES_INIT;

    (void)state;
    assert_int_equal(worker_apt_sources_parse_list(&s, "empty", "", 0, NULL, 0), 0);
    assert_int_equal(worker_apt_sources_parse_list(&s, "c", comments, strlen(comments), NULL, 0),
                     0);
    assert_int_equal(worker_apt_sources_parse_deb822(&s, "empty", "", 0, NULL, 0), 0);
    assert_int_equal(worker_apt_sources_parse_deb822(&s, "c", comments, strlen(comments), NULL, 0),
                     0);
    assert_int_equal(s.n, 0);
    assert_null(s.v);
    pf_alloc_fail_at(1, true);
    assert_int_equal(worker_apt_sources_parse_list(&s, "empty", "", 0, NULL, 0), 0);
    pf_alloc_fail_at(0, false);
    assert_int_equal(worker_apt_sources_parse_deb822(&s, "d", stanza, strlen(stanza), NULL, 0), 1);
    assert_int_equal(worker_apt_sources_parse_list(&s, "empty", "", 0, NULL, 0), 0);
    assert_int_equal(worker_apt_sources_parse_deb822(&s, "c", comments, strlen(comments), NULL, 0),
                     0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.v[0].uri, "http://x/");
    worker_apt_sources_clear(&s);
}

static void alloc_failures_are_clean(void **state)
{
    static const char list[] = "deb [arch=amd64 signed-by=/k.gpg] http://x/ a main contrib\n"
                               "deb file:/r ./\n";
    struct worker_apt_sources s = WORKER_APT_SOURCES_INIT;
    size_t len;
    char *text = pf_test_read_data("dpkg/debian.sources", &len);
    int r;

    (void)state;
    /* Fail each allocation in turn: -ENOMEM, nothing added, nothing leaked (ASan checks). */
    for (unsigned long n = 1; n < 100000; n++) {
        pf_alloc_fail_at(n, true);
        r = worker_apt_sources_parse_deb822(&s, "d", text, len, NULL, 0);
        if (r >= 0)
            r = worker_apt_sources_parse_list(&s, "l", list, strlen(list), NULL, 0);
        pf_alloc_fail_at(0, false);
        if (r >= 0)
            break;
        assert_int_equal(r, -ENOMEM);
        worker_apt_sources_clear(&s);
    }
    assert_int_equal(s.n, 5);
    worker_apt_sources_clear(&s);
    pf_free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_debian_sources),
        cmocka_unit_test(one_line_list),
        cmocka_unit_test(deb822_features),
        cmocka_unit_test(malformed_lists),
        cmocka_unit_test(limits),
        cmocka_unit_test(alloc_failures_are_clean),
        cmocka_unit_test(files_without_entries),
    };

    return cmocka_run_group_tests_name("apt_sources", tests, NULL, NULL);
}
