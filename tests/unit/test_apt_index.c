/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for worker/apt_index: parsing the real apt-ftparchive fixture, best-first lookup
 * across repositories and architectures, Provides lookups, and strict refusal (with the stanza's
 * line number) of stanzas missing a field or carrying an unsafe Filename, hash or size, and
 * the scanner's deb822 reading (CRLF, continuation lines, duplicate and malformed fields).
 */
#include "pf_test.h"

#include "deb/apt_index.h"

#define HEX64 "2b927de97dfc375e8cca2514f5c0c1472cd3052c9320b3778f93370a9d5f8d20"

static struct worker_apt_index *new_index(void)
{
    struct worker_apt_index *idx = NULL;

    assert_int_equal(worker_apt_index_new(&idx), 0);
    return idx;
}

static int add(struct worker_apt_index *idx, const char *url, const char *text, char *err,
               size_t errlen)
{
    return worker_apt_index_add_packages(idx, url, text, strlen(text), err, errlen);
}

static void test_fixture(void **state)
{
    struct worker_apt_index *idx = new_index();
    const struct worker_apt_candidate *const *c = NULL;
    char err[256] = "";
    size_t len = 0;
    char *text = pf_test_read_data("apt/Packages", &len);

    (void)state;
    assert_int_equal(worker_apt_index_add_packages(idx, "file:///repo", text, len, err,
                                                   sizeof(err)),
                     2);
    assert_int_equal(worker_apt_index_size(idx), 2);
    assert_int_equal(worker_apt_index_lookup(idx, "pf-hello", &c), 1);
    assert_string_equal(c[0]->version, "1.0-1");
    assert_string_equal(c[0]->arch, "amd64");
    assert_string_equal(c[0]->filename, "pool/main/pf-hello_1.0-1_amd64.deb");
    assert_string_equal(c[0]->sha256, HEX64);
    assert_int_equal(c[0]->size, 632);
    assert_string_equal(c[0]->base_url, "file:///repo");
    assert_null(c[0]->depends);
    assert_int_equal(worker_apt_index_lookup(idx, "pf-none", &c), 0);
    assert_null(c);
    pf_free(text);
    worker_apt_index_free(idx);
}

#define STANZA(name, ver, arch, extra)                                                             \
    "Package: " name "\nVersion: " ver "\nArchitecture: " arch "\n" extra "Filename: pool/" name   \
    "_" ver "_" arch ".deb\nSize: 10\nSHA256: " HEX64 "\n\n"

static void test_best_first(void **state)
{
    struct worker_apt_index *idx = new_index();
    const struct worker_apt_candidate *const *c = NULL;
    char err[256] = "";

    (void)state;
    assert_int_equal(add(idx, "http://a",
                         STANZA("libx", "1.0-1", "amd64", "") STANZA("libx", "1.0-1", "i386", "")
                             STANZA("liby", "2.0", "all", ""),
                         err, sizeof(err)),
                     3);
    assert_int_equal(add(idx, "http://b",
                         STANZA("libx", "1:0.9", "amd64", "")
                             STANZA("libx", "1.0-1~rc1", "amd64", "")
                                 STANZA("libx", "1.0-1", "amd64", ""),
                         err, sizeof(err)),
                     3);
    assert_int_equal(worker_apt_index_lookup(idx, "libx", &c), 5);
    /* Epoch wins, then equal versions in the order added (repo a before repo b). */
    assert_string_equal(c[0]->version, "1:0.9");
    assert_string_equal(c[1]->version, "1.0-1");
    assert_string_equal(c[1]->arch, "amd64");
    assert_string_equal(c[1]->base_url, "http://a");
    assert_string_equal(c[2]->arch, "i386");
    assert_string_equal(c[3]->base_url, "http://b");
    assert_string_equal(c[3]->version, "1.0-1");
    assert_string_equal(c[4]->version, "1.0-1~rc1");
    assert_int_equal(worker_apt_index_lookup(idx, "liby", &c), 1);
    assert_string_equal(c[0]->arch, "all");
    worker_apt_index_free(idx);
}

static void test_providers(void **state)
{
    struct worker_apt_index *idx = new_index();
    const struct worker_apt_candidate *const *c = NULL;
    char err[256] = "";

    (void)state;
    assert_int_equal(add(idx, "http://a",
                         STANZA("mawk", "1.3", "amd64", "Provides: awk\nMulti-Arch: foreign\n")
                             STANZA("gawk", "5.2", "amd64", "Provides: awk (= 5.2), gawk-x\n")
                                 STANZA("libfoo2", "2.0", "amd64",
                                        "Depends: libc6 (>= 2.34), zlib1g | libz\nPre-Depends: "
                                        "dpkg\n"),
                         err, sizeof(err)),
                     3);
    assert_int_equal(worker_apt_index_providers(idx, "awk", &c), 2);
    assert_string_equal(c[0]->package, "gawk"); /* higher version first, even across names */
    assert_string_equal(c[1]->package, "mawk");
    assert_string_equal(c[1]->multi_arch, "foreign");
    assert_int_equal(worker_apt_index_providers(idx, "gawk-x", &c), 1);
    assert_int_equal(worker_apt_index_providers(idx, "mawk", &c), 0);
    assert_int_equal(worker_apt_index_lookup(idx, "libfoo2", &c), 1);
    assert_string_equal(c[0]->depends, "libc6 (>= 2.34), zlib1g | libz");
    assert_string_equal(c[0]->pre_depends, "dpkg");
    worker_apt_index_free(idx);
}

static void test_malformed(void **state)
{
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {STANZA("ok", "1", "amd64", "") "Package: nover\nArchitecture: amd64\n"
                                        "Filename: pool/x.deb\nSize: 1\nSHA256: " HEX64 "\n",
         "Packages line 8: stanza 'nover' has no Version field"},
        {"Package: a\nVersion: 1\nArchitecture: amd64\nFilename: pool/a.deb\nSize: 1\n",
         "Packages line 1: stanza 'a' has no SHA256 field"},
        {"Package: a\nVersion: 1\nArchitecture: amd64\nFilename: ../etc/passwd\nSize: 1\n"
         "SHA256: " HEX64 "\n",
         "Packages line 1: 'a' has unsafe Filename '../etc/passwd'"},
        {"Package: a\nVersion: 1\nArchitecture: amd64\nFilename: /abs.deb\nSize: 1\n"
         "SHA256: " HEX64 "\n",
         "Packages line 1: 'a' has unsafe Filename '/abs.deb'"},
        {"Package: a\nVersion: 1\nArchitecture: amd64\nFilename: a.deb\nSize: -1\n"
         "SHA256: " HEX64 "\n",
         "Packages line 1: 'a' has malformed Size '-1'"},
        {"Package: a\nVersion: 1\nArchitecture: amd64\nFilename: a.deb\nSize: 12x\n"
         "SHA256: " HEX64 "\n",
         "Packages line 1: 'a' has malformed Size '12x'"},
        {"Package: a\nVersion: 1\nArchitecture: amd64\nFilename: a.deb\nSize: 1\n"
         "SHA256: abc\n",
         "Packages line 1: 'a' has malformed SHA256"},
        {"Package: a\nVersion: 1:\nArchitecture: amd64\nFilename: a.deb\nSize: 1\n"
         "SHA256: " HEX64 "\n",
         "Packages line 1: 'a' has invalid version '1:'"},
        {"Package: A_b\nVersion: 1\nArchitecture: amd64\nFilename: a.deb\nSize: 1\n"
         "SHA256: " HEX64 "\n",
         "Packages line 1: invalid package name 'A_b'"},
        {"Package: a\nVersion: 1\nArchitecture: amd 64\nFilename: a.deb\nSize: 1\n"
         "SHA256: " HEX64 "\n",
         "Packages line 1: 'a' has invalid architecture 'amd 64'"},
        /* Architecture names are dpkg's [a-z0-9-]+: nothing a path could use. */
        {"Package: a\nVersion: 1\nArchitecture: ..\nFilename: a.deb\nSize: 1\n"
         "SHA256: " HEX64 "\n",
         "Packages line 1: 'a' has invalid architecture '..'"},
        {"Package: a\nVersion: 1\nArchitecture: AMD64\nFilename: a.deb\nSize: 1\n"
         "SHA256: " HEX64 "\n",
         "Packages line 1: 'a' has invalid architecture 'AMD64'"},
        {"Package: a\nVersion: 1/../x\nArchitecture: amd64\nFilename: a.deb\nSize: 1\n"
         "SHA256: " HEX64 "\n",
         "Packages line 1: 'a' has invalid version '1/../x'"},
        {"Package: ../a\nVersion: 1\nArchitecture: amd64\nFilename: a.deb\nSize: 1\n"
         "SHA256: " HEX64 "\n",
         "Packages line 1: invalid package name '../a'"},
        {"Package: a\nVersion: 1\nArchitecture: amd64\nFilename: pool/../../a.deb\nSize: 1\n"
         "SHA256: " HEX64 "\n",
         "Packages line 1: 'a' has unsafe Filename 'pool/../../a.deb'"},
        {"Package: a\nVersion: 1\nArchitecture: amd64\nFilename: a.deb\nSize: 1\n"
         "SHA256: " HEX64 "\nProvides: x (>= 1)\n",
         "Packages line 1: 'a' has malformed Provides"},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct worker_apt_index *idx = new_index();
        const struct worker_apt_candidate *const *c = NULL;
        char err[256] = "";

        assert_int_equal(add(idx, "http://a", STANZA("keep", "1", "all", ""), err, sizeof(err)), 1);
        assert_int_equal(add(idx, "http://a", cases[i].text, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, cases[i].msg);
        /* A refused index leaves the earlier ones as they were. */
        assert_int_equal(worker_apt_index_size(idx), 1);
        assert_int_equal(worker_apt_index_lookup(idx, "ok", &c), 0);
        assert_int_equal(worker_apt_index_lookup(idx, "keep", &c), 1);
        worker_apt_index_free(idx);
    }
}

static int collect_cb(const char *name, const char *version, void *userdata)
{
    struct pf_buf *b = userdata;

    return pf_buf_appendf(b, "[%s=%s]", name, version ? version : "-");
}

static void test_provides_split(void **state)
{
    struct pf_buf b = PF_BUF_INIT;

    (void)state;
    assert_int_equal(worker_apt_provides_foreach(" a, b (= 1.0-1) ,c:any,\n d (=2)", collect_cb,
                                                 &b),
                     0);
    assert_string_equal(b.p, "[a=-][b=1.0-1][c=-][d=2]");
    assert_int_equal(worker_apt_provides_foreach("a,,b", collect_cb, &b), -EINVAL);
    assert_int_equal(worker_apt_provides_foreach("a (= 1", collect_cb, &b), -EINVAL);
    assert_int_equal(worker_apt_provides_foreach("a b", collect_cb, &b), -EINVAL);
    assert_int_equal(worker_apt_provides_foreach(NULL, collect_cb, &b), 0);
    pf_buf_release(&b);
}

/* The dedicated scanner reads values as the generic deb822 parser did and keeps its refusals. */
static void test_scanner(void **state)
{
    static const struct {
        const char *text;
        const char *msg;
    } bad[] = {
        {"Package: a\nPackage: b\n", "Packages line 2: duplicate field"},
        {"# comment\nPackage: a\n", "Packages line 1: comment line not allowed here"},
        {" cont\nPackage: a\n", "Packages line 1: continuation line outside a field"},
        {"Package: a\nno colon\n", "Packages line 2: field has no ':'"},
        {"Package: a\n-X: 1\n", "Packages line 2: invalid field name"},
    };
    struct worker_apt_index *idx = new_index();
    const struct worker_apt_candidate *const *c = NULL;
    char err[256] = "";

    (void)state;
    /* CRLF, case-insensitive names, a multi-line Depends and an unknown continued field. */
    assert_int_equal(add(idx, "http://a",
                         "package:  ml \r\nVersion: 1.0\r\nArchitecture: amd64\r\n"
                         "Description: x\r\n  more text\r\n .\r\n"
                         "DEPENDS: a,\r\n b (>= 1)  \r\n"
                         "Filename: pool/ml.deb\r\nSize: 7\r\nSHA256: " HEX64 "\r\n\r\n"
                         "\n  \t\n" STANZA("nl", "2", "all", ""),
                         err, sizeof(err)),
                     2);
    assert_int_equal(worker_apt_index_lookup(idx, "ml", &c), 1);
    assert_string_equal(c[0]->depends, "a,\n b (>= 1)");
    assert_string_equal(c[0]->version, "1.0");
    assert_int_equal(c[0]->size, 7);
    assert_null(c[0]->provides);
    assert_int_equal(worker_apt_index_lookup(idx, "nl", &c), 1);
    for (size_t i = 0; i < PF_ARRAY_SIZE(bad); i++) {
        assert_int_equal(add(idx, "http://a", bad[i].text, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, bad[i].msg);
    }
    assert_int_equal(worker_apt_index_add_packages(idx, "http://a", "Package: a\n\0", 12, err,
                                                   sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "Packages line 2: NUL byte in input");
    assert_int_equal(worker_apt_index_size(idx), 2);
    worker_apt_index_free(idx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture),        cmocka_unit_test(test_best_first),
        cmocka_unit_test(test_providers),      cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_provides_split), cmocka_unit_test(test_scanner),
    };

    return cmocka_run_group_tests_name("apt_index", tests, NULL, NULL);
}
