/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for worker/apt_plan: the upgrade decision on small dpkg databases and Packages
 * indexes written inline (the same text dpkg and apt-ftparchive write): plain upgrade, nothing
 * to do, holds, new and alternative dependencies, Provides, version relations, Multi-Arch
 * same/foreign, arch all, distroless status.d, and refusals naming both packages.
 */
#include "pf_test.h"

#include "deb/apt_index.h"
#include "deb/apt_plan.h"
#include "deb/dpkg_db.h"

#define SHA "2b927de97dfc375e8cca2514f5c0c1472cd3052c9320b3778f93370a9d5f8d20"

/* An installed package in a dpkg status file; `st` is "install" or "hold". */
#define INST(st, name, ver, arch, extra)                                                           \
    "Package: " name "\nStatus: " st " ok installed\nVersion: " ver "\nArchitecture: " arch        \
    "\n" extra "\n"
/* A candidate in a Packages index. */
#define CAND(name, ver, arch, extra)                                                               \
    "Package: " name "\nVersion: " ver "\nArchitecture: " arch "\n" extra "Filename: pool/" name   \
    "_" ver "_" arch ".deb\nSize: 1\nSHA256: " SHA "\n\n"

struct fixture {
    struct worker_dpkg_db *db;
    struct worker_apt_index *idx;
    struct worker_apt_plan plan;
    char err[512];
};

static int run(struct fixture *f, const char *status, const char *packages)
{
    char err[256] = "";

    memset(f, 0, sizeof(*f));
    if (status)
        assert_int_equal(worker_dpkg_db_parse_status(status, strlen(status), &f->db, err,
                                                     sizeof(err)),
                         0);
    assert_int_equal(worker_apt_index_new(&f->idx), 0);
    assert_true(worker_apt_index_add_packages(f->idx, "http://deb.example/debian", packages,
                                              strlen(packages), err, sizeof(err)) >= 0);
    if (!f->db)
        return 0;
    return worker_apt_plan_build(f->db, f->idx, "amd64", &f->plan, f->err, sizeof(f->err));
}

static void done(struct fixture *f)
{
    worker_apt_plan_release(&f->plan);
    worker_apt_index_free(f->idx);
    worker_dpkg_db_free(f->db);
}

/* Renders the plan as "name:arch old->new" lines for one-line assertions. */
static void assert_plan(const struct fixture *f, const char *want)
{
    struct pf_buf b = PF_BUF_INIT;

    for (size_t i = 0; i < f->plan.n; i++) {
        const struct worker_apt_plan_item *it = &f->plan.items[i];

        assert_int_equal(pf_buf_appendf(&b, "%s:%s %s->%s;", it->candidate->package,
                                        it->candidate->arch,
                                        it->installed ? it->installed->version : "new",
                                        it->candidate->version),
                         0);
    }
    assert_string_equal(b.p ? b.p : "", want);
    pf_buf_release(&b);
}

static void test_plain_upgrade(void **state)
{
    struct fixture f;

    (void)state;
    assert_int_equal(run(&f,
                         INST("install", "libssl3", "3.0.11-1~deb12u2", "amd64",
                              "Multi-Arch: same\nDepends: libc6 (>= 2.34)\n")
                             INST("install", "libc6", "2.36-9+deb12u4", "amd64", ""),
                         CAND("libssl3", "3.0.11-1~deb12u2", "amd64", "Depends: libc6\n")
                             CAND("libssl3", "3.0.13-1~deb12u1", "amd64",
                                  "Multi-Arch: same\nDepends: libc6 (>= 2.34)\n")
                                 CAND("libssl3", "3.0.14-1", "i386", "")
                                     CAND("libc6", "2.36-9+deb12u4", "amd64", "")),
                     1);
    assert_plan(&f, "libssl3:amd64 3.0.11-1~deb12u2->3.0.13-1~deb12u1;");
    assert_non_null(f.plan.items[0].installed);
    assert_string_equal(f.plan.items[0].candidate->base_url, "http://deb.example/debian");
    assert_int_equal(f.plan.held.n, 0);
    done(&f);
}

static void test_nothing_to_do(void **state)
{
    struct fixture f;

    (void)state;
    /* Only older or equal candidates, or candidates of another arch: nothing moves. A package
     * that is not fully installed (config-files) is ignored. */
    assert_int_equal(run(&f,
                         INST("install", "bash", "5.2.15-2+b2", "amd64",
                              "") "Package: gone\nStatus: deinstall ok config-files\n"
                                  "Version: 1.0\nArchitecture: amd64\n\n",
                         CAND("bash", "5.2.15-2+b2", "amd64", "")
                             CAND("bash", "5.2.15-2", "amd64", "") CAND("bash", "9", "arm64", "")
                                 CAND("gone", "2.0", "amd64", "")),
                     0);
    assert_plan(&f, "");
    assert_int_equal(f.plan.held.n, 0);
    done(&f);
}

static void test_held(void **state)
{
    struct fixture f;

    (void)state;
    assert_int_equal(run(&f,
                         INST("hold", "openssl", "3.0.11-1", "amd64", "")
                             INST("install", "zlib1g", "1:1.2.13.dfsg-1", "amd64", ""),
                         CAND("openssl", "3.0.13-1", "amd64", "")
                             CAND("zlib1g", "1:1.2.13.dfsg-1+b1", "amd64", "")),
                     1);
    assert_plan(&f, "zlib1g:amd64 1:1.2.13.dfsg-1->1:1.2.13.dfsg-1+b1;");
    assert_int_equal(f.plan.held.n, 1);
    assert_string_equal(f.plan.held.v[0], "openssl:amd64");
    done(&f);
}

static void test_new_dependency(void **state)
{
    struct fixture f;

    (void)state;
    /* A dependency two levels down needs a held package to move: refused, naming both. */
    assert_int_equal(run(&f,
                         INST("install", "openssl", "3.0.11-1", "amd64", "Depends: libssl3\n")
                             INST("install", "libssl3", "3.0.11-1", "amd64", "")
                                 INST("hold", "libzstd1", "1.5.2-1", "amd64", ""),
                         CAND("openssl", "3.2.0-1", "amd64", "Depends: libssl3t64 (>= 3.2.0)\n")
                             CAND("libssl3t64", "3.2.0-1", "amd64",
                                  "Pre-Depends: libzstd1 (>= 1.5.4)\n")
                                 CAND("libzstd1", "1.5.4-2", "amd64", "")),
                     -EINVAL);
    assert_string_equal(f.err, "'libssl3t64' 3.2.0-1 needs held package 'libzstd1:amd64' to be "
                               "upgraded to satisfy 'libzstd1 (>= 1.5.4)'");
    done(&f);

    /* The new openssl needs libssl3t64, which needs libzstd1 >= 1.5.4: pulled in, plus an
     * upgrade of the installed libzstd1 that the relation requires. */

    assert_int_equal(
        run(&f,
            INST("install", "openssl", "3.0.11-1", "amd64", "Depends: libssl3\n")
                INST("install", "libssl3", "3.0.11-1", "amd64", "")
                    INST("install", "libzstd1", "1.5.2-1", "amd64", ""),
            CAND("openssl", "3.2.0-1", "amd64", "Depends: libssl3t64 (>= 3.2.0), libc6\n")
                CAND("libssl3t64", "3.2.0-1", "amd64", "Pre-Depends: libzstd1 (>= 1.5.4)\n")
                    CAND("libzstd1", "1.5.4-2", "amd64", "")
                        CAND("libc6", "2.36-9", "amd64", "Multi-Arch: same\n")),
        4);
    assert_plan(&f, "libc6:amd64 new->2.36-9;libssl3t64:amd64 new->3.2.0-1;"
                    "libzstd1:amd64 1.5.2-1->1.5.4-2;openssl:amd64 3.0.11-1->3.2.0-1;");
    assert_null(f.plan.items[0].installed);
    done(&f);
}

static void test_alternatives(void **state)
{
    struct fixture f;

    (void)state;
    /* "mawk | gawk": mawk is installed, so gawk is not pulled. "nosuch | zlib1g (>= 1:1.3)":
     * the first alternative does not exist, the second is pulled as a new package. */
    assert_int_equal(run(&f,
                         INST("install", "tool", "1.0", "amd64", "")
                             INST("install", "mawk", "1.3.4-1", "amd64", ""),
                         CAND("tool", "2.0", "amd64",
                              "Depends: gawk | mawk, nosuch | zlib1g "
                              "(>= 1:1.3)\n") CAND("gawk", "5.2", "amd64", "")
                             CAND("zlib1g", "1:1.2", "amd64", "")
                                 CAND("zlib1g", "1:1.3", "amd64", "")),
                     2);
    assert_plan(&f, "tool:amd64 1.0->2.0;zlib1g:amd64 new->1:1.3;");
    done(&f);
}

static void test_provides(void **state)
{
    struct fixture f;

    (void)state;
    /* "awk" is virtual: the installed mawk provides it. "mail-transport-agent" is provided by
     * nothing installed: the provider in the index is pulled. A versioned dependency is not
     * met by an unversioned Provides, but is by "(= version)". */
    assert_int_equal(run(&f,
                         INST("install", "tool", "1.0", "amd64", "")
                             INST("install", "mawk", "1.3.4-1", "amd64", "Provides: awk\n"),
                         CAND("tool", "2.0", "amd64",
                              "Depends: awk, mail-transport-agent, libfoo (>= 2)\n")
                             CAND("exim4", "4.96", "amd64", "Provides: mail-transport-agent\n")
                                 CAND("foo-compat", "1.0", "amd64", "Provides: libfoo\n")
                                     CAND("foo-new", "1.0", "amd64", "Provides: libfoo (= 2.1)\n")),
                     3);
    assert_plan(&f, "exim4:amd64 new->4.96;foo-new:amd64 new->1.0;tool:amd64 1.0->2.0;");
    done(&f);
}

static void test_unsatisfiable(void **state)
{
    static const struct {
        const char *status;
        const char *libc;
        const char *msg;
    } cases[] = {
        {INST("install", "libc6", "2.36-9", "amd64", ""), CAND("libc6", "2.39-1", "amd64", ""),
         "'tool' 2.0 depends on 'libc6 (>= 2.40)', which no candidate satisfies"},
        {INST("hold", "libc6", "2.36-9", "amd64", ""), CAND("libc6", "2.40-1", "amd64", ""),
         "'tool' 2.0 needs held package 'libc6:amd64' to be upgraded to satisfy 'libc6 (>= "
         "2.40)'"},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct fixture f;
        char status[1024], packages[1024];

        snprintf(status, sizeof(status), "%s%s", cases[i].status,
                 INST("install", "tool", "1.0", "amd64", ""));
        snprintf(packages, sizeof(packages), "%s%s",
                 CAND("tool", "2.0", "amd64", "Depends: libc6 (>= 2.40)\n"), cases[i].libc);
        assert_int_equal(run(&f, status, packages), -EINVAL);
        assert_string_equal(f.err, cases[i].msg);
        assert_null(f.plan.items);
        done(&f);
    }
}

static void test_multiarch_same(void **state)
{
    static const char status[] = INST("install", "libfoo1", "1.0", "amd64", "Multi-Arch: same\n")
        INST("install", "libfoo1", "1.0", "i386", "Multi-Arch: same\n");
    static const char status_held[] = INST("install", "libfoo1", "1.0", "amd64",
                                           "Multi-Arch: same\n")
        INST("hold", "libfoo1", "1.0", "i386", "Multi-Arch: same\n");
    struct fixture f;

    (void)state;
    /* Only amd64 has 2.0: the pair stays at 1.0 rather than split. */
    assert_int_equal(run(&f, status,
                         CAND("libfoo1", "2.0", "amd64", "Multi-Arch: same\n")
                             CAND("libfoo1", "1.0", "i386", "Multi-Arch: same\n")),
                     0);
    done(&f);
    /* 3.0 only for amd64, 2.0 for both: the pair moves together to 2.0. */
    assert_int_equal(run(&f, status,
                         CAND("libfoo1", "3.0", "amd64", "Multi-Arch: same\n")
                             CAND("libfoo1", "2.0", "amd64", "Multi-Arch: same\n")
                                 CAND("libfoo1", "2.0", "i386", "Multi-Arch: same\n")),
                     2);
    assert_plan(&f, "libfoo1:amd64 1.0->2.0;libfoo1:i386 1.0->2.0;");
    done(&f);
    /* One of the pair is held: neither moves, and the hold is reported. */
    assert_int_equal(run(&f, status_held,
                         CAND("libfoo1", "2.0", "amd64", "Multi-Arch: same\n")
                             CAND("libfoo1", "2.0", "i386", "Multi-Arch: same\n")),
                     0);
    assert_int_equal(f.plan.held.n, 1);
    assert_string_equal(f.plan.held.v[0], "libfoo1:i386");
    done(&f);
}

static void test_multiarch_foreign_and_all(void **state)
{
    struct fixture f;

    (void)state;
    /* An i386 library depending on perl-base is satisfied by the amd64 Multi-Arch: foreign
     * perl-base; arch all tzdata moves to the arch all candidate (not the amd64 one); the
     * all package's own dependency is resolved for the native architecture. */
    assert_int_equal(run(&f,
                         INST("install", "libbar1", "1.0", "i386", "")
                             INST("install", "perl-base", "5.36", "amd64", "Multi-Arch: foreign\n")
                                 INST("install", "tzdata", "2024a-0", "all", ""),
                         CAND("libbar1", "1.1", "i386", "Depends: perl-base (>= 5.36)\n")
                             CAND("perl-base", "5.36", "i386", "")
                                 CAND("tzdata", "2024b-0", "all", "Depends: debconf\n")
                                     CAND("tzdata", "2099", "amd64", "")
                                         CAND("debconf", "1.5", "all", "")
                                             CAND("debconf", "1.6", "i386", "")),
                     3);
    assert_plan(&f, "debconf:all new->1.5;libbar1:i386 1.0->1.1;tzdata:all 2024a-0->2024b-0;");
    done(&f);
}

static void test_distroless(void **state)
{
    static const char tz[] = "Package: tzdata\nVersion: 2024a-0\nArchitecture: all\n"
                             "Depends: debconf (>= 0.5) | debconf-2.0\n";
    static const char ssl[] = "Package: libssl3\nVersion: 3.0.11-1\nArchitecture: amd64\n"
                              "Depends: libc6 (>= 2.34)\n";
    struct worker_dpkg_db *db = worker_dpkg_db_new_statusd();
    struct worker_apt_index *idx = NULL;
    struct worker_apt_plan plan = WORKER_APT_PLAN_INIT;
    const char packages[] = CAND("tzdata", "2024b-0", "all",
                                 "Depends: debconf (>= 0.5) | debconf-2.0\n")
        CAND("libssl3", "3.0.13-1", "amd64", "Depends: libc6 (>= 2.34), libzstd1\n")
            CAND("debconf", "1.5", "all", "") CAND("libc6", "2.36", "amd64", "")
                CAND("libzstd1", "1.5", "amd64", "");
    char err[256] = "";

    (void)state;
    assert_non_null(db);
    assert_int_equal(worker_dpkg_db_add_statusd_file(db, "tzdata", tz, strlen(tz), err,
                                                     sizeof(err)),
                     1);
    assert_int_equal(worker_dpkg_db_add_statusd_file(db, "libssl3", ssl, strlen(ssl), err,
                                                     sizeof(err)),
                     1);
    assert_int_equal(worker_apt_index_new(&idx), 0);
    assert_int_equal(worker_apt_index_add_packages(idx, "http://d", packages, strlen(packages), err,
                                                   sizeof(err)),
                     5);
    /* debconf and libc6 were already missing from the image: not pulled. libzstd1 is a new
     * requirement of the new libssl3: pulled. */
    assert_int_equal(worker_apt_plan_build(db, idx, "amd64", &plan, err, sizeof(err)), 3);
    assert_string_equal(plan.items[0].candidate->package, "libssl3");
    assert_non_null(plan.items[0].installed);
    assert_string_equal(plan.items[1].candidate->package, "libzstd1");
    assert_null(plan.items[1].installed);
    assert_string_equal(plan.items[2].candidate->package, "tzdata");
    worker_apt_plan_release(&plan);
    worker_apt_index_free(idx);
    worker_dpkg_db_free(db);
}

static void test_malformed_depends(void **state)
{
    struct fixture f;

    (void)state;
    assert_int_equal(run(&f, INST("install", "tool", "1.0", "amd64", ""),
                         CAND("tool", "2.0", "amd64", "Depends: libc6 (>= )\n")),
                     -EINVAL);
    assert_string_equal(f.err, "'tool' 2.0 has a malformed Depends field");
    done(&f);
}

static void test_arch_qualifiers(void **state)
{
    struct fixture f;

    (void)state;
    /* ":any" needs Multi-Arch: allowed (python3 of any arch); ":native" needs the native
     * arch even when the depender is i386; an explicit ":i386" picks that arch. */
    assert_int_equal(run(&f, INST("install", "tool", "1.0", "i386", ""),
                         CAND("tool", "2.0", "i386",
                              "Depends: python3:any, helper:native, libq:i386\n")
                             CAND("python3", "3.11", "amd64", "Multi-Arch: allowed\n")
                                 CAND("helper", "1", "i386", "") CAND("helper", "1", "amd64", "")
                                     CAND("libq", "1", "amd64", "") CAND("libq", "1", "i386", "")),
                     4);
    assert_plan(&f, "helper:amd64 new->1;libq:i386 new->1;python3:amd64 new->3.11;"
                    "tool:i386 1.0->2.0;");
    done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_upgrade),
        cmocka_unit_test(test_nothing_to_do),
        cmocka_unit_test(test_held),
        cmocka_unit_test(test_new_dependency),
        cmocka_unit_test(test_alternatives),
        cmocka_unit_test(test_provides),
        cmocka_unit_test(test_unsatisfiable),
        cmocka_unit_test(test_multiarch_same),
        cmocka_unit_test(test_multiarch_foreign_and_all),
        cmocka_unit_test(test_distroless),
        cmocka_unit_test(test_malformed_depends),
        cmocka_unit_test(test_arch_qualifiers),
    };

    return cmocka_run_group_tests_name("apt_plan", tests, NULL, NULL);
}
