/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for engine/index_freshness.h: an older index date is refused with both dates,
 * across a reopen (the next run) and across two stores on one directory (two processes); a
 * newer one moves the memory forward; the rollback option accepts an older date and makes it
 * the baseline; an index without a date cannot replace a dated one; a corrupt or oversized
 * state file is an error naming the file and line; keys are one printable line.
 */
#include "pf_test.h"

#include <fcntl.h>
#include <unistd.h>

#include "pf/fs.h"
#include "engine/index_freshness.h"

#define KEY "apt http://deb.example/debian/dists/bookworm"
#define D1 ((time_t)1764547200) /* 2025-12-01 */
#define D2 ((time_t)1765152000) /* 2025-12-08 */
#define D3 ((time_t)1765756800) /* 2025-12-15 */

static char *make_dir(void)
{
    char tmpl[] = "/tmp/pf-test-freshness-XXXXXX";

    assert_non_null(mkdtemp(tmpl));
    return pf_strdup(tmpl);
}

static struct worker_index_freshness *open_store(const char *dir, bool allow)
{
    struct worker_index_freshness *s = NULL;
    char err[512] = "";

    assert_int_equal(worker_index_freshness_open(dir, allow, &s, err, sizeof(err)), 0);
    assert_non_null(s);
    return s;
}

static void write_file(const char *dir, const char *text)
{
    char *p = pf_asprintf("%s/%s", dir, WORKER_INDEX_FRESHNESS_FILE);
    int fd;

    assert_non_null(p);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    (void)close(fd);
    pf_free(p);
}

static void older_refused(void **state)
{
    char *dir = make_dir(), err[512] = "";
    struct worker_index_freshness *s = open_store(dir, false);
    time_t newest = 123;

    (void)state;
    assert_int_equal(worker_index_freshness_check(s, KEY, D2, &newest, err, sizeof(err)), 0);
    assert_int_equal(newest, 0);
    assert_int_equal(worker_index_freshness_check(s, KEY, D2, NULL, err, sizeof(err)), 0);
    assert_int_equal(worker_index_freshness_check(s, KEY, D1, &newest, err, sizeof(err)), -ESTALE);
    assert_int_equal(newest, D2);
    assert_non_null(strstr(err, "2025-12-01T00:00:00Z"));
    assert_non_null(strstr(err, "2025-12-08T00:00:00Z"));
    /* Another repository has a memory of its own. */
    assert_int_equal(worker_index_freshness_check(s, "apk http://x/v3.20/main/x86_64", D1, NULL,
                                                  err, sizeof(err)),
                     0);
    s = worker_index_freshness_free(s);

    /* The next run with the same cache dir remembers. */
    s = open_store(dir, false);
    assert_int_equal(worker_index_freshness_check(s, KEY, D1, NULL, err, sizeof(err)), -ESTALE);
    assert_int_equal(worker_index_freshness_check(s, KEY, D3, NULL, err, sizeof(err)), 0);
    assert_int_equal(worker_index_freshness_check(s, KEY, D2, NULL, err, sizeof(err)), -ESTALE);
    s = worker_index_freshness_free(s);
    assert_int_equal(pf_fs_remove_tree(dir), 0);
    pf_free(dir);
}

static void two_processes_share(void **state)
{
    char *dir = make_dir(), err[512] = "";
    struct worker_index_freshness *a = open_store(dir, false), *b = open_store(dir, false);

    (void)state;
    assert_int_equal(worker_index_freshness_check(a, KEY, D2, NULL, err, sizeof(err)), 0);
    /* b was opened before a accepted D2, and still sees it. */
    assert_int_equal(worker_index_freshness_check(b, KEY, D1, NULL, err, sizeof(err)), -ESTALE);
    assert_int_equal(worker_index_freshness_check(b, KEY, D3, NULL, err, sizeof(err)), 0);
    assert_int_equal(worker_index_freshness_check(a, KEY, D2, NULL, err, sizeof(err)), -ESTALE);
    worker_index_freshness_free(a);
    worker_index_freshness_free(b);
    assert_int_equal(pf_fs_remove_tree(dir), 0);
    pf_free(dir);
}

static void rollback_option(void **state)
{
    char *dir = make_dir(), err[512] = "";
    struct worker_index_freshness *s = open_store(dir, false);

    (void)state;
    assert_int_equal(worker_index_freshness_check(s, KEY, D3, NULL, err, sizeof(err)), 0);
    s = worker_index_freshness_free(s);
    s = open_store(dir, true);
    assert_int_equal(worker_index_freshness_check(s, KEY, D2, NULL, err, sizeof(err)), 1);
    s = worker_index_freshness_free(s);
    /* The deliberate rollback is the new baseline: D2 passes without the option, D1 does not. */
    s = open_store(dir, false);
    assert_int_equal(worker_index_freshness_check(s, KEY, D2, NULL, err, sizeof(err)), 0);
    assert_int_equal(worker_index_freshness_check(s, KEY, D1, NULL, err, sizeof(err)), -ESTALE);
    s = worker_index_freshness_free(s);
    assert_int_equal(pf_fs_remove_tree(dir), 0);
    pf_free(dir);
}

static void no_date(void **state)
{
    char *dir = make_dir(), err[512] = "";
    struct worker_index_freshness *s = open_store(dir, false);

    (void)state;
    assert_int_equal(worker_index_freshness_check(s, KEY, 0, NULL, err, sizeof(err)), 0);
    assert_int_equal(worker_index_freshness_check(s, KEY, D1, NULL, err, sizeof(err)), 0);
    assert_int_equal(worker_index_freshness_check(s, KEY, 0, NULL, err, sizeof(err)), -ESTALE);
    assert_non_null(strstr(err, "no date"));
    s = worker_index_freshness_free(s);
    assert_int_equal(pf_fs_remove_tree(dir), 0);
    pf_free(dir);
}

static void corrupt_state(void **state)
{
    static const char *const bad[] = {
        "garbage\n",
        "# patchfleet index freshness v1: <unix seconds> <repository key>\nabc key\n",
        "# patchfleet index freshness v1: <unix seconds> <repository key>\n12 k\n13 k\n",
        "# patchfleet index freshness v1: <unix seconds> <repository key>\n12 k",
        "",
    };
    char *dir = make_dir(), err[512];
    struct worker_index_freshness *s = NULL;

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(bad); i++) {
        err[0] = '\0';
        write_file(dir, bad[i]);
        assert_int_equal(worker_index_freshness_open(dir, false, &s, err, sizeof(err)), -EINVAL);
        assert_null(s);
        assert_non_null(strstr(err, WORKER_INDEX_FRESHNESS_FILE));
        assert_non_null(strstr(err, dir));
    }
    assert_non_null(strstr(err, "empty"));
    write_file(dir, bad[2]);
    (void)worker_index_freshness_open(dir, false, &s, err, sizeof(err));
    assert_non_null(strstr(err, "line 3"));
    assert_non_null(strstr(err, "duplicate"));
    assert_int_equal(pf_fs_remove_tree(dir), 0);
    pf_free(dir);
}

static void bounds(void **state)
{
    char *dir = make_dir(), err[512] = "", key[WORKER_INDEX_FRESHNESS_MAX_KEY + 2];
    struct worker_index_freshness *s = open_store(dir, false);
    struct pf_buf b = PF_BUF_INIT;

    (void)state;
    assert_int_equal(worker_index_freshness_check(s, "a\nb", D1, NULL, err, sizeof(err)), -EINVAL);
    assert_int_equal(worker_index_freshness_check(s, "", D1, NULL, err, sizeof(err)), -EINVAL);
    /* A far-future date is refused and not remembered: it would make every real index old. */
    assert_int_equal(worker_index_freshness_check(s, KEY, time(NULL) + 86400, NULL, err,
                                                  sizeof(err)),
                     -ERANGE);
    assert_non_null(strstr(err, "future"));
    assert_int_equal(worker_index_freshness_check(s, KEY, D1, NULL, err, sizeof(err)), 0);
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    assert_int_equal(worker_index_freshness_check(s, key, D1, NULL, err, sizeof(err)), -EINVAL);
    s = worker_index_freshness_free(s);
    /* A file with more entries than the bound is refused, naming the line past it. */
    assert_int_equal(pf_buf_appends(&b, "# patchfleet index freshness v1: <unix seconds> "
                                        "<repository key>\n"),
                     0);
    for (int i = 0; i <= WORKER_INDEX_FRESHNESS_MAX_ENTRIES; i++)
        assert_int_equal(pf_buf_appendf(&b, "1 key%d\n", i), 0);
    write_file(dir, b.p);
    pf_buf_release(&b);
    assert_int_equal(worker_index_freshness_open(dir, false, &s, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "line 4098"));
    assert_int_equal(pf_fs_remove_tree(dir), 0);
    pf_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(older_refused),   cmocka_unit_test(two_processes_share),
        cmocka_unit_test(rollback_option), cmocka_unit_test(no_date),
        cmocka_unit_test(corrupt_state),   cmocka_unit_test(bounds),
    };

    return cmocka_run_group_tests_name("index_freshness", tests, NULL, NULL);
}
