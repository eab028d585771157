/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing dpkg's statoverride file: names through the image's passwd/group, "#ID" forms,
 * paths with spaces, lookups, and errors that name the line. */
#include "pf_test.h"

#include "deb/dpkg_statoverride.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/bash\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                             "messagebus:x:100:101::/nonexistent:/usr/sbin/nologin\n";
static const char group[] = "root:x:0:\n"
                            "crontab:x:102:\n"
                            "messagebus:x:101:\n"
                            "crontabx:x:999:\n";

static void parses_and_finds(void **state)
{
    /* As dpkg-statoverride writes it (one per line, names or #ids), unsorted. */
    static const char text[] = "root crontab 2755 /usr/bin/crontab\n"
                               "root messagebus 4754 /usr/lib/dbus-1.0/dbus-daemon-launch-helper\n"
                               "#0 #4242 0750 /opt/with space/tool\n"
                               "daemon root 0700 /var/spool/thing/\n";
    struct worker_dpkg_statoverrides s;
    const struct worker_dpkg_statoverride *o;
    char err[256] = "";

    (void)state;
    assert_int_equal(worker_dpkg_statoverrides_parse(text, sizeof(text) - 1, passwd, group, &s, err,
                                                     sizeof(err)),
                     0);
    assert_int_equal(s.n, 4);
    o = worker_dpkg_statoverrides_find(&s, "/usr/bin/crontab");
    assert_non_null(o);
    assert_int_equal(o->uid, 0);
    assert_int_equal(o->gid, 102); /* crontab, not crontabx: whole names only */
    assert_int_equal(o->mode, 02755);
    o = worker_dpkg_statoverrides_find(&s, "/usr/lib/dbus-1.0/dbus-daemon-launch-helper");
    assert_non_null(o);
    assert_int_equal(o->gid, 101);
    assert_int_equal(o->mode, 04754);
    o = worker_dpkg_statoverrides_find(&s, "/opt/with space/tool");
    assert_non_null(o);
    assert_int_equal(o->gid, 4242);
    assert_int_equal(o->mode, 0750);
    o = worker_dpkg_statoverrides_find(&s, "/var/spool/thing");
    assert_non_null(o);
    assert_int_equal(o->uid, 1);
    assert_null(worker_dpkg_statoverrides_find(&s, "/usr/bin/crontab2"));
    assert_null(worker_dpkg_statoverrides_find(&s, "usr/bin/crontab"));
    worker_dpkg_statoverrides_release(&s);
    assert_int_equal(s.n, 0);

    assert_int_equal(worker_dpkg_statoverrides_parse("", 0, NULL, NULL, &s, err, sizeof(err)), 0);
    assert_int_equal(s.n, 0);
    assert_null(worker_dpkg_statoverrides_find(&s, "/usr/bin/crontab"));
}

static void refuses_with_the_line(void **state)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"root crontab 2755 /a\nroot nogroup 0755 /b\n",
         "line 2: 'nogroup' is not in the image's etc/group"},
        {"nobody root 0755 /a\n", "line 1: 'nobody' is not in the image's etc/passwd"},
        {"root root 9755 /a\n", "line 1: bad mode '9755'"},
        {"root root 17777 /a\n", "line 1: bad mode '17777'"},
        {"root root 0755 relative\n", "line 1: the path must be absolute"},
        {"root root 0755\n", "line 1: want 'USER GROUP MODE PATH'"},
        {"root  root 0755 /a\n", "line 1: want 'USER GROUP MODE PATH'"},
        {"#x root 0755 /a\n", "line 1: bad id '#x'"},
        {"#99999999999 root 0755 /a\n", "line 1: bad id '#99999999999'"},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct worker_dpkg_statoverrides s = {0};
        char err[256] = "";

        assert_int_equal(worker_dpkg_statoverrides_parse(cases[i].text, strlen(cases[i].text),
                                                         passwd, group, &s, err, sizeof(err)),
                         -EINVAL);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: '%s' does not contain '%s'", i, err, cases[i].want);
        assert_int_equal(s.n, 0);
    }
}

/* Without the name databases only "#ID" forms resolve. */
static void no_name_databases(void **state)
{
    struct worker_dpkg_statoverrides s;
    char err[256] = "";

    (void)state;
    assert_int_equal(worker_dpkg_statoverrides_parse("#0 #5 0640 /a\n", 14, NULL, NULL, &s, err,
                                                     sizeof(err)),
                     0);
    assert_int_equal(s.v[0].gid, 5);
    worker_dpkg_statoverrides_release(&s);
    assert_int_equal(worker_dpkg_statoverrides_parse("daemon #5 0640 /a\n", 18, NULL, NULL, &s, err,
                                                     sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "'daemon' is not in the image's etc/passwd"));
    /* root is 0 whether listed or not. */
    assert_int_equal(worker_dpkg_statoverrides_parse("root root 0640 /a\n", 18, NULL, NULL, &s, err,
                                                     sizeof(err)),
                     0);
    assert_int_equal(s.v[0].uid, 0);
    assert_int_equal(s.v[0].gid, 0);
    worker_dpkg_statoverrides_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_and_finds),
        cmocka_unit_test(refuses_with_the_line),
        cmocka_unit_test(no_name_databases),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
