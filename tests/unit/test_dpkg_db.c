/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for worker/dpkg_db. The status fixture is a slice of a real Debian 12
 * /var/lib/dpkg/status; status.expected is `dpkg-query --admindir=tests/data/dpkg/admin -W
 * -f='${Package} ${Version} ${Architecture} ${db:Status-Abbrev}\n'` run once on it, so the
 * parse is checked against dpkg itself.
 */
#include "pf_test.h"

#include "deb/dpkg_db.h"

static struct worker_dpkg_db *parse_ok(const char *text)
{
    struct worker_dpkg_db *db = NULL;
    char err[256] = "";

    assert_int_equal(worker_dpkg_db_parse_status(text, strlen(text), &db, err, sizeof(err)), 0);
    assert_non_null(db);
    return db;
}

static char abbrev_want(enum worker_dpkg_want w)
{
    return "uihrp"[w];
}

static char abbrev_state(enum worker_dpkg_state s)
{
    return "ncHUFWti"[s];
}

static void status_matches_dpkg_query(void **state)
{
    char *text = pf_test_read_data("dpkg/admin/status", NULL);
    char *expected = pf_test_read_data("dpkg/status.expected", NULL);
    struct worker_dpkg_db *db = parse_ok(text);
    struct pf_buf got = PF_BUF_INIT;

    (void)state;
    assert_int_equal(db->kind, WORKER_DPKG_DB_STATUS);
    assert_int_equal(db->n, 30);
    for (size_t i = 0; i < db->n; i++) {
        const struct worker_dpkg_pkg *p = db->pkgs[i];

        assert_true(p->has_status);
        assert_true(p->installed);
        assert_null(p->statusd_file);
        assert_int_equal(pf_buf_appendf(&got, "%s %s %s %c%c%c\n", p->name, p->version, p->arch,
                                        abbrev_want(p->want), abbrev_state(p->state),
                                        p->eflag == WORKER_DPKG_EFLAG_OK ? ' ' : 'R'),
                         0);
    }
    assert_string_equal(got.p, expected);
    pf_buf_release(&got);
    worker_dpkg_db_free(db);
    pf_free(expected);
    pf_free(text);
}

static void status_raw_text_round_trips(void **state)
{
    char *text = pf_test_read_data("dpkg/admin/status", NULL);
    struct worker_dpkg_db *db = parse_ok(text);
    struct pf_buf out = PF_BUF_INIT;

    (void)state;
    /* dpkg separates stanzas by one blank line; the raw stanzas must rebuild the file exactly. */
    for (size_t i = 0; i < db->n; i++) {
        if (i > 0)
            assert_int_equal(pf_buf_appends(&out, "\n"), 0);
        assert_int_equal(pf_buf_append(&out, db->pkgs[i]->para.raw, db->pkgs[i]->para.raw_len), 0);
    }
    assert_string_equal(out.p, text);
    pf_buf_release(&out);
    worker_dpkg_db_free(db);
    pf_free(text);
}

static void status_fields_and_lookup(void **state)
{
    char *text = pf_test_read_data("dpkg/admin/status", NULL);
    struct worker_dpkg_db *db = parse_ok(text);
    const struct worker_dpkg_pkg *p;

    (void)state;
    p = worker_dpkg_db_find(db, "libc6", "amd64");
    assert_non_null(p);
    assert_string_equal(p->multi_arch, "same");
    assert_string_equal(p->source_name, "glibc");
    assert_string_equal(p->source_version, p->version);
    assert_non_null(p->depends);
    assert_ptr_equal(worker_dpkg_db_find(db, "libc6", NULL), p);
    assert_null(worker_dpkg_db_find(db, "libc6", "i386"));
    assert_null(worker_dpkg_db_find(db, "nosuchpkg", NULL));
    assert_null(worker_dpkg_db_find(db, "zzz", NULL));

    /* bash is a binNMU: its Source names the source version, which differs. */
    p = worker_dpkg_db_find(db, "bash", NULL);
    assert_non_null(p);
    assert_string_equal(p->source_name, "bash");
    assert_string_equal(p->source_version, "5.2.15-2");
    assert_string_equal(p->version, "5.2.15-2+b8");
    assert_non_null(p->pre_depends);
    assert_true(p->n_conffiles > 0);
    for (size_t i = 0; i < p->n_conffiles; i++) {
        assert_int_equal(p->conffiles[i].path[0], '/');
        assert_int_equal(strlen(p->conffiles[i].md5), 32);
        assert_false(p->conffiles[i].obsolete);
    }

    p = worker_dpkg_db_find(db, "adduser", "all");
    assert_non_null(p);
    assert_string_equal(p->multi_arch, "foreign");
    assert_string_equal(p->source_name, "adduser");
    assert_string_equal(p->source_version, "3.134");
    worker_dpkg_db_free(db);
    pf_free(text);
}

static void status_words_and_conffile_flags(void **state)
{
    static const char text[] = "Package: held\n"
                               "Status: hold ok installed\n"
                               "Architecture: amd64\n"
                               "Version: 1.0\n"
                               "Conffiles:\n"
                               " /etc/held.conf 0123456789abcdef0123456789abcdef\n"
                               " /etc/with space.conf 11111111111111111111111111111111 obsolete\n"
                               " /etc/gone.conf newconffile remove-on-upgrade\n"
                               " /etc/both 22222222222222222222222222222222 obsolete "
                               "remove-on-upgrade\n"
                               "\n"
                               "Package: removed\n"
                               "Status: deinstall ok config-files\n"
                               "Architecture: amd64\n"
                               "Version: 2.0\n"
                               "\n"
                               "Package: purged\n"
                               "Status: purge ok not-installed\n"
                               "Architecture: amd64\n"
                               "\n"
                               "Package: broken\n"
                               "Status: install reinstreq half-installed\n"
                               "Architecture: i386\n"
                               "Version: 3.0\n";
    struct worker_dpkg_db *db = parse_ok(text);
    const struct worker_dpkg_pkg *p;

    (void)state;
    assert_int_equal(db->n, 4);
    /* Sorted by name whatever the input order. */
    assert_string_equal(db->pkgs[0]->name, "broken");
    assert_string_equal(db->pkgs[3]->name, "removed");

    p = worker_dpkg_db_find(db, "held", "amd64");
    assert_true(p->installed);
    assert_true(p->held);
    assert_int_equal(p->n_conffiles, 4);
    assert_string_equal(p->conffiles[1].path, "/etc/with space.conf");
    assert_true(p->conffiles[1].obsolete);
    assert_false(p->conffiles[1].remove_on_upgrade);
    assert_string_equal(p->conffiles[2].md5, "newconffile");
    assert_true(p->conffiles[2].remove_on_upgrade);
    assert_true(p->conffiles[3].obsolete && p->conffiles[3].remove_on_upgrade);

    p = worker_dpkg_db_find(db, "removed", NULL);
    assert_false(p->installed);
    assert_int_equal(p->want, WORKER_DPKG_WANT_DEINSTALL);
    assert_int_equal(p->state, WORKER_DPKG_STATE_CONFIG_FILES);
    p = worker_dpkg_db_find(db, "purged", NULL);
    assert_false(p->installed);
    assert_null(p->version);
    p = worker_dpkg_db_find(db, "broken", "i386");
    assert_false(p->installed);
    assert_int_equal(p->eflag, WORKER_DPKG_EFLAG_REINSTREQ);
    assert_string_equal(worker_dpkg_state_to_string(p->state), "half-installed");
    assert_string_equal(worker_dpkg_want_to_string(WORKER_DPKG_WANT_HOLD), "hold");
    assert_null(worker_dpkg_want_to_string(WORKER_DPKG_WANT__MAX));
    assert_int_equal(worker_dpkg_want_from_string("bogus"), WORKER_DPKG_WANT_INVALID);
    worker_dpkg_db_free(db);
}

struct bad_case {
    const char *text;
    int err;
    const char *msg;
};

static void status_malformed(void **state)
{
    static const struct bad_case cases[] = {
        {"Version: 1\nStatus: install ok installed\n", -EINVAL,
         "line 1: stanza without a valid Package field"},
        {"Package: a b\nVersion: 1\nStatus: install ok installed\n", -EINVAL,
         "line 1: stanza without a valid Package field"},
        {"Package: a\nVersion: 1\n", -EINVAL, "line 1: package 'a' has no Status"},
        {"Package: a\nVersion: 1\nStatus: install ok\n", -EINVAL,
         "line 1: invalid Status 'install ok' for 'a'"},
        {"Package: a\nVersion: 1\nStatus: install ok installed extra\n", -EINVAL,
         "line 1: invalid Status 'install ok installed extra' for 'a'"},
        {"Package: a\nVersion: 1\nStatus: install fine installed\n", -EINVAL,
         "line 1: invalid Status 'install fine installed' for 'a'"},
        {"Package: a\nStatus: install ok installed\n", -EINVAL,
         "line 1: package 'a' has no valid Version"},
        {"Package: a\nVersion: 1\nStatus: install ok installed\nSource: x (1\n", -EINVAL,
         "line 1: invalid Source for 'a'"},
        {"Package: a\nVersion: 1\nStatus: install ok installed\nConffiles:\n etc/rel abc\n",
         -EINVAL, "line 1: invalid Conffiles for 'a'"},
        {"Package: a\nVersion: 1\nStatus: install ok installed\nConffiles:\n /etc/x\n", -EINVAL,
         "line 1: invalid Conffiles for 'a'"},
        {"Package: a\nVersion: 1\nStatus: install ok installed\n\n"
         "Package: a\nVersion: 2\nStatus: install ok installed\n",
         -EINVAL, "line 5: duplicate package 'a' ()"},
        {" Package: a\n", -EINVAL, "line 1: continuation line outside a field"},
        {"# comment\nPackage: a\n", -EINVAL, "line 1: comment line not allowed here"},
    };
    struct worker_dpkg_db *db = NULL;
    char err[256];

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        err[0] = '\0';
        assert_int_equal(worker_dpkg_db_parse_status(cases[i].text, strlen(cases[i].text), &db, err,
                                                     sizeof(err)),
                         cases[i].err);
        assert_string_equal(err, cases[i].msg);
        assert_null(db);
    }
}

/* Names, versions and architectures reach file names (info/<name>.list, status.d/<name>): a
 * database from an image is held to dpkg's grammars where it is read, the value named. */
static void status_names_are_checked(void **state)
{
    static const struct bad_case cases[] = {
        {"Package: ../../etc/x\nVersion: 1\nStatus: install ok installed\n", -EINVAL,
         "line 1: invalid Package '../../etc/x'"},
        {"Package: Ab\nVersion: 1\nStatus: install ok installed\n", -EINVAL,
         "line 1: invalid Package 'Ab'"},
        {"Package: a\nVersion: 1.0/../x\nStatus: install ok installed\n", -EINVAL,
         "line 1: package 'a' has invalid Version '1.0/../x': "},
        {"Package: a\nVersion: 1\nArchitecture: ../x\nStatus: install ok installed\n", -EINVAL,
         "line 1: package 'a' has invalid Architecture '../x'"},
    };
    struct worker_dpkg_db *db = NULL;
    char err[256];

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        err[0] = '\0';
        assert_int_equal(worker_dpkg_db_parse_status(cases[i].text, strlen(cases[i].text), &db, err,
                                                     sizeof(err)),
                         cases[i].err);
        if (strncmp(err, cases[i].msg, strlen(cases[i].msg)) != 0)
            fail_msg("'%s': got '%s', want '%s...'", cases[i].text, err, cases[i].msg);
        assert_null(db);
    }
    /* The same rules for a status.d file (distroless). */
    db = worker_dpkg_db_new_statusd();
    assert_non_null(db);
    assert_int_equal(worker_dpkg_db_add_statusd_file(db, "x", "Package: a/b\nVersion: 1\n", 24, err,
                                                     sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "line 1: invalid Package 'a/b'");
    worker_dpkg_db_free(db);
}

static void status_nul_and_huge(void **state)
{
    static const char nul[] = "Package: a\0\nVersion: 1\n";
    struct worker_dpkg_db *db = NULL;
    size_t n = WORKER_DEB822_DEFAULT_MAX_PARA_BYTES + 100;
    char *huge;

    (void)state;
    assert_int_equal(worker_dpkg_db_parse_status(nul, sizeof(nul) - 1, &db, NULL, 0), -EINVAL);
    huge = pf_malloc(n + 1);
    assert_non_null(huge);
    memset(huge, 'a', n);
    memcpy(huge, "Package: ", 9);
    huge[n] = '\0';
    assert_int_equal(worker_dpkg_db_parse_status(huge, n, &db, NULL, 0), -E2BIG);
    assert_null(db);
    pf_free(huge);
}

static void add_statusd(struct worker_dpkg_db *db, const char *name, int expect)
{
    char rel[256], err[256] = "";
    size_t len;
    char *text;

    snprintf(rel, sizeof(rel), "dpkg/statusd/%s", name);
    text = pf_test_read_data(rel, &len);
    assert_int_equal(worker_dpkg_db_add_statusd_file(db, name, text, len, err, sizeof(err)),
                     expect);
    pf_free(text);
}

static void statusd_files(void **state)
{
    /* Deliberately not in name order, md5sums interleaved. */
    static const char *const files[] = {"tzdata", "libc6.md5sums",  "libssl3",
                                        "libc6",  "tzdata.md5sums", "base-files"};
    static const char *const order[] = {"base-files", "libc6", "libssl3", "tzdata"};
    struct worker_dpkg_db *db = worker_dpkg_db_new_statusd();
    const struct worker_dpkg_pkg *p;

    (void)state;
    assert_non_null(db);
    assert_int_equal(db->kind, WORKER_DPKG_DB_STATUSD);
    for (size_t i = 0; i < PF_ARRAY_SIZE(files); i++)
        add_statusd(db, files[i], strstr(files[i], ".md5sums") ? 0 : 1);
    assert_int_equal(db->n, PF_ARRAY_SIZE(order));
    for (size_t i = 0; i < db->n; i++) {
        assert_string_equal(db->pkgs[i]->name, order[i]);
        assert_string_equal(db->pkgs[i]->statusd_file, order[i]);
        assert_false(db->pkgs[i]->has_status);
        assert_true(db->pkgs[i]->installed);
        assert_false(db->pkgs[i]->held);
        assert_int_equal(db->pkgs[i]->n_conffiles, 0);
    }
    p = worker_dpkg_db_find(db, "libssl3", "amd64");
    assert_non_null(p);
    assert_string_equal(p->source_name, "openssl");
    assert_string_equal(p->source_version, "3.0.11-1~deb12u2");
    assert_string_equal(p->multi_arch, "same");
    assert_string_equal(worker_deb822_para_get(&p->para, "Description"),
                        "Secure Sockets Layer toolkit - shared libraries\n"
                        " This package is part of the OpenSSL project's implementation of the SSL\n"
                        " and TLS cryptographic protocols for secure communication over the\n"
                        " Internet.\n .\n It provides the libssl and libcrypto shared libraries.");
    p = worker_dpkg_db_find(db, "tzdata", NULL);
    assert_string_equal(p->arch, "all");
    assert_string_equal(p->depends, "debconf (>= 0.5) | debconf-2.0");

    /* A duplicate, even under another file name, leaves the database as it was. */
    add_statusd(db, "libc6", -EINVAL);
    assert_int_equal(db->n, PF_ARRAY_SIZE(order));
    worker_dpkg_db_free(db);
}

static void statusd_legacy_names_and_status(void **state)
{
    /* Old distroless cut names at the first '.', so the file name differs from the package. */
    static const char ssl[] = "Package: libssl1.1\nVersion: 1.1.1n-0+deb11u5\nArchitecture: "
                              "amd64\n";
    static const char copa[] = "Package: zlib1g\nStatus: hold ok installed\nVersion: 1:1.2.13\n"
                               "Architecture: amd64\n";
    struct worker_dpkg_db *db = worker_dpkg_db_new_statusd();
    char err[128] = "";

    (void)state;
    assert_int_equal(worker_dpkg_db_add_statusd_file(db, "libssl1", ssl, strlen(ssl), err,
                                                     sizeof(err)),
                     1);
    assert_int_equal(worker_dpkg_db_add_statusd_file(db, "zlib1g", copa, strlen(copa), err,
                                                     sizeof(err)),
                     1);
    assert_string_equal(worker_dpkg_db_find(db, "libssl1.1", NULL)->statusd_file, "libssl1");
    assert_true(worker_dpkg_db_find(db, "zlib1g", NULL)->has_status);
    assert_true(worker_dpkg_db_find(db, "zlib1g", NULL)->held);
    assert_int_equal(worker_dpkg_db_add_statusd_file(db, "../etc", ssl, strlen(ssl), err,
                                                     sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "invalid status.d file name '../etc'");
    assert_int_equal(worker_dpkg_db_add_statusd_file(db, "", ssl, strlen(ssl), NULL, 0), -EINVAL);
    assert_int_equal(worker_dpkg_db_add_statusd_file(db, "x", "Version: 1\n", 11, err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(worker_dpkg_db_add_statusd_file(db, "empty", "", 0, NULL, 0), 0);
    assert_int_equal(db->n, 2);
    worker_dpkg_db_free(db);
    assert_null(worker_dpkg_db_free(NULL));
}

static void alloc_failures_are_clean(void **state)
{
    char *text = pf_test_read_data("dpkg/admin/status", NULL);
    struct worker_dpkg_db *db = NULL;
    unsigned long n;
    int r;

    (void)state;
    /* Fail every allocation in turn: each must give -ENOMEM and leak nothing (ASan checks). */
    for (n = 1;; n++) {
        pf_alloc_fail_at(n, true);
        r = worker_dpkg_db_parse_status(text, strlen(text), &db, NULL, 0);
        pf_alloc_fail_at(0, false);
        if (r == 0)
            break;
        assert_int_equal(r, -ENOMEM);
        assert_null(db);
        if (n > 100000)
            fail();
    }
    assert_int_equal(db->n, 30);
    worker_dpkg_db_free(db);
    pf_free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_matches_dpkg_query),
        cmocka_unit_test(status_raw_text_round_trips),
        cmocka_unit_test(status_fields_and_lookup),
        cmocka_unit_test(status_words_and_conffile_flags),
        cmocka_unit_test(status_malformed),
        cmocka_unit_test(status_names_are_checked),
        cmocka_unit_test(status_nul_and_huge),
        cmocka_unit_test(statusd_files),
        cmocka_unit_test(statusd_legacy_names_and_status),
        cmocka_unit_test(alloc_failures_are_clean),
    };

    return cmocka_run_group_tests_name("dpkg_db", tests, NULL, NULL);
}
