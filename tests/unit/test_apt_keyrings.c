/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the apt keyring selection (deb/apt_keyrings.h) on its own: the default
 * keyring, no keyring at all, a fingerprint-only Signed-By, an inline armored key (dearmored
 * into the private directory, which release removes) and a malformed one. The whole chain with
 * gpgv is in test_apt_fetch.
 */
#include "pf_test.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deb/apt_keyrings.h"
#include "deb/apt_sources.h"

/* "hello" as one armored block, which is all dearmoring looks at. */
#define ARMORED                                                                                    \
    "-----BEGIN PGP PUBLIC KEY BLOCK-----\n"                                                       \
    "Comment: test\n"                                                                              \
    "\n"                                                                                           \
    "aGVsbG8=\n"                                                                                   \
    "=abcd\n"                                                                                      \
    "-----END PGP PUBLIC KEY BLOCK-----\n"

static size_t entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    (void)closedir(d);
    return n;
}

static void default_and_none(void **state)
{
    struct worker_apt_source src = {.uri = (char *)"http://x/debian", .suite = (char *)"s"};
    struct worker_apt_keyring k = {NULL, NULL, NULL};
    char err[256] = "";

    (void)state;
    assert_int_equal(worker_apt_keyring_prepare(&src, NULL, NULL, "/tmp", &k, err, sizeof(err)),
                     -ENOKEY);
    assert_non_null(strstr(err, "no Signed-By"));
    assert_null(k.ring);
    assert_int_equal(worker_apt_keyring_prepare(&src, "/etc/k.gpg", NULL, "/tmp", &k, err,
                                                sizeof(err)),
                     0);
    assert_string_equal(k.ring, "/etc/k.gpg");
    assert_string_equal(k.id, "default:/etc/k.gpg");
    assert_null(k.dir);
    worker_apt_keyring_release(&k);
    worker_apt_keyring_release(&k); /* released twice: harmless */
}

static void signed_by(void **state)
{
    char work[] = "/tmp/pf-keyrings-XXXXXX", err[256] = "", key[300];
    struct worker_apt_source src = {.uri = (char *)"http://x/debian", .suite = (char *)"s"};
    struct worker_apt_keyring k = {NULL, NULL, NULL};
    struct stat st;

    (void)state;
    assert_non_null(mkdtemp(work));
    /* A fingerprint names no file gpgv could use; nothing is left behind. */
    src.signed_by = (char *)"0123456789ABCDEF0123456789ABCDEF01234567";
    assert_int_equal(worker_apt_keyring_prepare(&src, "/d.gpg", NULL, work, &k, err, sizeof(err)),
                     -ENOKEY);
    assert_int_equal(entries(work), 0);
    /* A file path with no image view to read it from. */
    src.signed_by = (char *)"/usr/share/keyrings/x.gpg";
    assert_int_equal(worker_apt_keyring_prepare(&src, NULL, NULL, work, &k, err, sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "x.gpg"));
    assert_int_equal(entries(work), 0);
    /* An inline armored key is dearmored into the private directory. */
    src.signed_by = (char *)ARMORED;
    src.signed_by_inline = true;
    assert_int_equal(worker_apt_keyring_prepare(&src, NULL, NULL, work, &k, err, sizeof(err)), 0);
    assert_non_null(k.dir);
    assert_string_equal(k.ring, k.dir);
    assert_true(strncmp(k.id, "image:", 6) == 0);
    snprintf(key, sizeof(key), "%s/k00.gpg", k.dir);
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_size, 5);
    worker_apt_keyring_release(&k);
    assert_int_equal(entries(work), 0);
    /* Malformed armor is refused and cleaned up. */
    src.signed_by = (char *)"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!!\n-----END";
    assert_true(worker_apt_keyring_prepare(&src, NULL, NULL, work, &k, err, sizeof(err)) < 0);
    assert_int_equal(entries(work), 0);
    assert_int_equal(rmdir(work), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_and_none),
        cmocka_unit_test(signed_by),
    };

    return cmocka_run_group_tests_name("apt_keyrings", tests, NULL, NULL);
}
