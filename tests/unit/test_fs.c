/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for pf/fs.h: mkdir -p semantics (parents, existing directories, a file in the
 * way), removal of a nested tree whose symbolic links point out of it (the targets must
 * survive), and the work-directory rules (a default path that exists is refused).
 */
#include "pf_test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pf/fs.h"

/* Creates an empty file at root/rel. */
static void touch(const char *root, const char *rel)
{
    char *p = pf_asprintf("%s/%s", root, rel);
    int fd;

    assert_non_null(p);
    fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    (void)close(fd);
    pf_free(p);
}

static bool exists(const char *root, const char *rel)
{
    char *p = pf_asprintf("%s/%s", root, rel);
    struct stat st;
    bool r;

    assert_non_null(p);
    r = lstat(p, &st) == 0;
    pf_free(p);
    return r;
}

static void mkdir_p(void **state)
{
    char root[] = "/tmp/pf-test-fs-XXXXXX", *deep, *file;
    struct stat st;

    (void)state;
    assert_non_null(mkdtemp(root));
    deep = pf_asprintf("%s/a/b/c", root);
    file = pf_asprintf("%s/f/x", root);
    assert_non_null(deep);
    assert_non_null(file);
    assert_int_equal(pf_fs_mkdir_p(deep, 0700), 0);
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(pf_fs_mkdir_p(deep, 0700), 0); /* existing: fine */
    assert_int_equal(pf_fs_mkdir_p(root, 0700), 0);
    touch(root, "f");
    assert_int_equal(pf_fs_mkdir_p(file, 0700), -ENOTDIR); /* a file in the way */
    assert_int_equal(pf_fs_mkdir_p("", 0700), -EINVAL);
    assert_int_equal(pf_fs_remove_tree(root), 0);
    assert_false(exists(root, ""));
    pf_free(deep);
    pf_free(file);
}

static void remove_tree_keeps_link_targets(void **state)
{
    char outside[] = "/tmp/pf-test-fs-out-XXXXXX", root[] = "/tmp/pf-test-fs-XXXXXX";
    char *link_dir, *link_file, *link_top, *target_file;

    (void)state;
    assert_non_null(mkdtemp(outside));
    assert_non_null(mkdtemp(root));
    touch(outside, "keep");
    assert_int_equal(pf_fs_mkdir_p(outside, 0700), 0);
    link_dir = pf_asprintf("%s/a/b/to-dir", root);
    link_file = pf_asprintf("%s/a/to-file", root);
    link_top = pf_asprintf("%s/to-root", root);
    target_file = pf_asprintf("%s/keep", outside);
    assert_non_null(link_dir);
    assert_non_null(link_file);
    assert_non_null(link_top);
    assert_non_null(target_file);
    assert_int_equal(pf_fs_mkdir_p(link_dir, 0700), 0);
    assert_int_equal(rmdir(link_dir), 0);
    assert_int_equal(symlink(outside, link_dir), 0);
    assert_int_equal(symlink(target_file, link_file), 0);
    assert_int_equal(symlink("/", link_top), 0);
    touch(root, "a/b/file");
    touch(root, "a/file");

    assert_int_equal(pf_fs_remove_tree(root), 0);
    assert_false(exists(root, ""));
    assert_true(exists(outside, "keep")); /* not followed out of the tree */
    assert_int_equal(pf_fs_remove_tree(root), -ENOENT);
    assert_int_equal(pf_fs_remove_tree(outside), 0);
    pf_free(link_dir);
    pf_free(link_file);
    pf_free(link_top);
    pf_free(target_file);
}

static void work_dir(void **state)
{
    char root[] = "/tmp/pf-test-fs-XXXXXX", *dir, *def;
    bool created = false;

    (void)state;
    assert_non_null(mkdtemp(root));
    dir = pf_asprintf("%s/w", root);
    assert_non_null(dir);
    assert_int_equal(pf_fs_make_work_dir(dir, false, &created), 0);
    assert_true(created);
    assert_int_equal(pf_fs_make_work_dir(dir, true, &created), 0); /* named by the user */
    assert_false(created);
    created = true;
    assert_int_equal(pf_fs_make_work_dir(dir, false, &created), -EEXIST); /* a default path */
    assert_true(created);                                                 /* untouched on failure */

    assert_int_equal(setenv("TMPDIR", root, 1), 0);
    def = pf_fs_work_dir_default("pf-x");
    assert_non_null(def);
    assert_int_equal(strncmp(def, root, strlen(root)), 0);
    assert_int_equal(strncmp(def + strlen(root), "/pf-x-", 6), 0);
    assert_int_equal(strtol(def + strlen(root) + 6, NULL, 10), (long)getpid());
    pf_free(def);
    assert_int_equal(setenv("TMPDIR", "", 1), 0);
    def = pf_fs_work_dir_default("pf-x");
    assert_non_null(def);
    assert_int_equal(strncmp(def, "/tmp/pf-x-", 10), 0);
    pf_free(def);
    assert_int_equal(unsetenv("TMPDIR"), 0);

    assert_int_equal(pf_fs_remove_tree(root), 0);
    pf_free(dir);
}

/* Expects the default cache dir under the given environment. */
static void check_cache_dir(const char *xdg, const char *home, const char *want)
{
    char *got;

    assert_int_equal(xdg ? setenv("XDG_CACHE_HOME", xdg, 1) : unsetenv("XDG_CACHE_HOME"), 0);
    assert_int_equal(home ? setenv("HOME", home, 1) : unsetenv("HOME"), 0);
    got = pf_fs_cache_dir_default();
    assert_non_null(got);
    assert_string_equal(got, want);
    pf_free(got);
}

static void cache_dir(void **state)
{
    (void)state;
    check_cache_dir("/srv/cache", "/home/u", "/srv/cache/patchfleet");
    check_cache_dir("relative", "/home/u", "/home/u/.cache/patchfleet"); /* XDG: absolute only */
    check_cache_dir("", "/home/u", "/home/u/.cache/patchfleet");
    check_cache_dir(NULL, "/home/u", "/home/u/.cache/patchfleet");
    check_cache_dir(NULL, NULL, "/tmp/.cache/patchfleet");
    check_cache_dir(NULL, "", "/tmp/.cache/patchfleet");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mkdir_p),
        cmocka_unit_test(remove_tree_keeps_link_targets),
        cmocka_unit_test(work_dir),
        cmocka_unit_test(cache_dir),
    };

    return cmocka_run_group_tests_name("fs", tests, NULL, NULL);
}
