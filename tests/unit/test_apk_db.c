/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apk's stanza parser refuses, where it reads them, the package names, versions, architectures
 * and identities that could steer a path or a URL (an APKINDEX signed by a key the image trusts
 * is still data), naming the field and its value; versions that apk's grammar calls invalid but
 * that carry no path syntax are kept, as apk-tools keeps and orders them.
 */
#include "pf_test.h"

#include <errno.h>
#include <string.h>

#include "apk/apk_db.h"

static int parse(const char *text, char *err, size_t errlen)
{
    struct worker_apk_db db = {0};
    int r = worker_apk_db_parse(&db, text, strlen(text), false, err, errlen);

    worker_apk_db_release(&db);
    return r;
}

static void refuses_path_syntax(void **state)
{
    static const struct {
        const char *text, *named;
    } bad[] = {
        {"P:../../evil\nV:1.0-r0\n\n", "P:../../evil"},
        {"P:demo/x\nV:1.0-r0\n\n", "P:demo/x"},
        {"P:..\nV:1.0-r0\n\n", "P:.."},
        {"P:-rf\nV:1.0-r0\n\n", "P:-rf"},
        {"P:demo\nV:1.0/../../x\n\n", "V:1.0/../../x"},
        {"P:demo\nV:1.0\\x\n\n", "V:1.0\\x"},
        {"P:demo\nV:1.0 2\n\n", "V:1.0 2"},
        {"P:demo\nV:\n\n", "V:"},
        {"P:demo\nV:1.0\nA:x86_64/../..\n\n", "A:x86_64/../.."},
        {"C:Q1../../x\nP:demo\nV:1.0\n\n", "C:Q1../../x"},
    };
    char err[512];

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(bad); i++) {
        err[0] = '\0';
        assert_int_equal(parse(bad[i].text, err, sizeof(err)), -EBADMSG);
        if (!strstr(err, bad[i].named))
            fail_msg("'%s': error '%s' does not name '%s'", bad[i].text, err, bad[i].named);
    }
}

static void keeps_real_names_and_odd_versions(void **state)
{
    /* Real names (upper case, '+', '.', '_'), and versions apk's grammar calls invalid but
     * orders all the same (its own test data: "1.0bc", "1.0_foo"). */
    const char *text = "C:Q1mxRp+y2rvXVjYNzd3QVtg3y6m6o=\nP:libstdc++\nV:13.2.1_git20231014-r0\n"
                       "A:x86_64\n\nP:py3-Babel\nV:1.0bc\nA:noarch\n\nP:perl-Net_SSLeay\n"
                       "V:1.0_foo\n\n";
    char err[256] = "";

    (void)state;
    assert_int_equal(parse(text, err, sizeof(err)), 3);
    assert_true(worker_apk_name_valid("so.lib-x_1+2"));
    assert_true(worker_apk_version_safe("1.0-r0~1"));
    assert_true(worker_apk_arch_valid("loongarch64"));
    assert_false(worker_apk_arch_valid("x86.64"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refuses_path_syntax),
        cmocka_unit_test(keeps_real_names_and_odd_versions),
    };

    return cmocka_run_group_tests_name("apk_db", tests, NULL, NULL);
}
