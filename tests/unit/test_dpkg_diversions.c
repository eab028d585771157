/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing dpkg's diversions file and deciding where a package's file lands. */
#include "pf_test.h"

#include "deb/dpkg_diversions.h"

static void parses_and_targets(void **state)
{
    /* As dpkg-divert writes it: from, to, package (":" = local), unsorted. */
    static const char text[] = "/usr/bin/man\n/usr/bin/man.REAL\n:\n"
                               "/bin/sh\n/bin/sh.distrib\ndash\n"
                               "/usr/share/man/man1/sh.1.gz\n/usr/share/man/man1/"
                               "sh.distrib.1.gz\ndash\n";
    struct worker_dpkg_diversions d;
    char err[256] = "";
    const char *p;

    (void)state;
    assert_int_equal(worker_dpkg_diversions_parse(text, sizeof(text) - 1, &d, err, sizeof(err)), 0);
    assert_int_equal(d.n, 3);
    /* Diverted by dash: another package's /bin/sh goes to sh.distrib, dash's own stays. */
    assert_string_equal(worker_dpkg_diversions_target(&d, "/bin/sh", "bash"), "/bin/sh.distrib");
    p = "/bin/sh";
    assert_ptr_equal(worker_dpkg_diversions_target(&d, p, "dash"), p);
    /* Local: every package's file is diverted. */
    assert_string_equal(worker_dpkg_diversions_target(&d, "/usr/bin/man", "man-db"),
                        "/usr/bin/man.REAL");
    /* Not diverted. */
    p = "/usr/bin/mandb";
    assert_ptr_equal(worker_dpkg_diversions_target(&d, p, "man-db"), p);
    worker_dpkg_diversions_release(&d);

    /* No trailing newline; an empty file. */
    assert_int_equal(worker_dpkg_diversions_parse("/a\n/b\n:", 7, &d, err, sizeof(err)), 0);
    assert_int_equal(d.n, 1);
    assert_null(d.v[0].package);
    worker_dpkg_diversions_release(&d);
    assert_int_equal(worker_dpkg_diversions_parse("", 0, &d, err, sizeof(err)), 0);
    assert_int_equal(d.n, 0);
    assert_string_equal(worker_dpkg_diversions_target(&d, "/a", "x"), "/a");
}

static void refuses_with_the_line(void **state)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"/a\n/b\n:\n/c\n/d\n", "line 4: a diversion is three lines"},
        {"/a\nb\n:\n", "line 2: paths must be absolute"},
        {"/a\n/b\n:\nc\n/d\npkg\n", "line 4: paths must be absolute"},
        {"/a\n/b\n\n", "line 3: no package"},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct worker_dpkg_diversions d = {0};
        char err[256] = "";

        assert_int_equal(worker_dpkg_diversions_parse(cases[i].text, strlen(cases[i].text), &d, err,
                                                      sizeof(err)),
                         -EINVAL);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: '%s' does not contain '%s'", i, err, cases[i].want);
        assert_int_equal(d.n, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_and_targets),
        cmocka_unit_test(refuses_with_the_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
