/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for worker/apt_release and worker/gpgv: Release parsing, hash lookup, index
 * verification, Valid-Until, malformed input, and gpgv against the signed fixture repository in
 * tests/data/apt (made by tests/harness/apt_repo.sh apt_make_fixture; Valid-Until in 2036).
 */
#include "pf_test.h"

#include "deb/apt_release.h"
#include "engine/gpgv.h"

#define HEX_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
/* sha256("hello\n") */
#define HEX_HELLO "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

static const char release_text[] =
    "Origin: Debian\n"
    "Label: Debian\n"
    "Suite: stable\n"
    "Codename: bookworm\n"
    "Date: Sat, 25 Nov 2026 10:00:00 UTC\n"
    "Valid-Until: Sat, 02 Dec 2026 10:00:00 UTC\n"
    "Acquire-By-Hash: yes\n"
    "Architectures: all amd64 arm64\n"
    "Components: main contrib\n"
    "MD5Sum:\n"
    " 00000000000000000000000000000000 6 main/binary-amd64/Packages\n"
    "SHA256:\n"
    " " HEX_A " 123 main/binary-arm64/Packages.xz\n"
    " 5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03      6 "
    "main/binary-amd64/Packages\n"
    " " HEX_A " 0 Release\n";

static struct worker_apt_release *parse_ok(const char *text)
{
    struct worker_apt_release *rel = NULL;
    char err[256] = "";

    assert_int_equal(worker_apt_release_parse(text, strlen(text), &rel, err, sizeof(err)), 0);
    assert_non_null(rel);
    return rel;
}

static void parse_fields(void **state)
{
    struct worker_apt_release *rel = parse_ok(release_text);

    (void)state;
    assert_string_equal(rel->origin, "Debian");
    assert_string_equal(rel->label, "Debian");
    assert_string_equal(rel->suite, "stable");
    assert_string_equal(rel->codename, "bookworm");
    assert_int_equal(rel->date, 1795600800); /* date -d '2026-11-25 10:00 UTC' +%s */
    assert_int_equal(rel->valid_until, 1795600800 + 7 * 86400);
    assert_true(rel->acquire_by_hash);
    assert_int_equal(rel->architectures.n, 3);
    assert_string_equal(rel->architectures.v[2], "arm64");
    assert_int_equal(rel->components.n, 2);
    assert_string_equal(rel->components.v[1], "contrib");
    /* Sorted by path, MD5Sum ignored, upper-case hex normalised. */
    assert_int_equal(rel->n_files, 3);
    assert_string_equal(rel->files[0].path, "Release");
    assert_string_equal(rel->files[1].path, "main/binary-amd64/Packages");
    assert_string_equal(rel->files[1].sha256, HEX_HELLO);
    assert_int_equal(rel->files[1].size, 6);
    assert_null(worker_apt_release_free(rel));
    assert_null(worker_apt_release_free(NULL));
}

static void find_entries(void **state)
{
    struct worker_apt_release *rel = parse_ok(release_text);
    const char *hex = NULL;
    uint64_t size = 0;
    char *p = NULL;

    (void)state;
    assert_int_equal(worker_apt_release_find(rel, "main/binary-arm64/Packages.xz", &hex, &size), 0);
    assert_string_equal(hex, HEX_A);
    assert_int_equal(size, 123);
    hex = "untouched";
    assert_int_equal(worker_apt_release_find(rel, "main/binary-arm64/Packages", &hex, &size),
                     -ENOENT);
    assert_string_equal(hex, "untouched");
    assert_int_equal(worker_apt_release_find(rel, "", &hex, &size), -ENOENT);
    assert_int_equal(worker_apt_release_by_hash_path(rel, "main/binary-arm64/Packages.xz", &p), 0);
    assert_string_equal(p, "main/binary-arm64/by-hash/SHA256/" HEX_A);
    p = pf_free(p);
    assert_int_equal(worker_apt_release_by_hash_path(rel, "Release", &p), 0);
    assert_string_equal(p, "by-hash/SHA256/" HEX_A);
    p = pf_free(p);
    assert_int_equal(worker_apt_release_by_hash_path(rel, "nope", &p), -ENOENT);
    assert_null(p);
    worker_apt_release_free(rel);
}

static void verify_index(void **state)
{
    struct worker_apt_release *rel = parse_ok(release_text);
    const char *path = "main/binary-amd64/Packages";
    char err[256] = "";

    (void)state;
    assert_int_equal(worker_apt_verify_index(rel, path, "hello\n", 6, err, sizeof(err)), 0);
    /* Same size, different bytes. */
    assert_int_equal(worker_apt_verify_index(rel, path, "hellO\n", 6, err, sizeof(err)), -EBADMSG);
    assert_non_null(strstr(err, "SHA256"));
    /* Right prefix, wrong size. */
    assert_int_equal(worker_apt_verify_index(rel, path, "hello\n!", 7, err, sizeof(err)), -EBADMSG);
    assert_non_null(strstr(err, "7 bytes"));
    assert_int_equal(worker_apt_verify_index(rel, "main/binary-i386/Packages", "hello\n", 6, err,
                                             sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "does not list"));
    /* An empty file listed with size 0 but a non-empty-file hash. */
    assert_int_equal(worker_apt_verify_index(rel, "Release", NULL, 0, NULL, 0), -EBADMSG);
    worker_apt_release_free(rel);
}

static void valid_until(void **state)
{
    struct worker_apt_release *rel = parse_ok(release_text);
    char err[256] = "";

    (void)state;
    assert_int_equal(worker_apt_release_check_valid_until(rel, rel->date, err, sizeof(err)), 0);
    assert_int_equal(worker_apt_release_check_valid_until(rel, rel->valid_until - 1, err,
                                                          sizeof(err)),
                     0);
    assert_int_equal(worker_apt_release_check_valid_until(rel, rel->valid_until, err, sizeof(err)),
                     -ESTALE);
    assert_int_equal(worker_apt_release_check_valid_until(rel, rel->valid_until + 86400, err,
                                                          sizeof(err)),
                     -ESTALE);
    assert_non_null(strstr(err, "expired 86400 seconds ago"));
    /* Date ahead of the clock beyond the allowance: refused; within it: accepted. */
    assert_int_equal(worker_apt_release_check_valid_until(rel, rel->date - 3600, err, sizeof(err)),
                     -ERANGE);
    assert_int_equal(worker_apt_release_check_valid_until(rel, rel->date - 60, NULL, 0), 0);
    worker_apt_release_free(rel);

    /* No Valid-Until (Debian stable): never expires. */
    rel = parse_ok("Suite: stable\nSHA256:\n " HEX_A " 1 x\n");
    assert_int_equal(rel->valid_until, 0);
    assert_int_equal(rel->date, 0);
    assert_false(rel->acquire_by_hash);
    assert_int_equal(worker_apt_release_check_valid_until(rel, (time_t)4102444800, NULL, 0), 0);
    worker_apt_release_free(rel);
}

static void dates(void **state)
{
    static const struct {
        const char *date;
        long long epoch; /* -1: refused */
    } cases[] = {
        {"Sat, 25 Nov 2026 10:00:00 UTC", 1795600800},
        {"Sat, 25 Nov 2026 10:00:00 GMT", 1795600800},
        {"Thu, 26 Nov 2026 22:36:05 +0000", 1795732565},
        {"25 Nov 2026 10:00:00 UTC", 1795600800},
        {"Sat, 25 Nov 2026 11:30:00 +0130", 1795600800},
        {"Sat, 25 Nov 2026 08:00:00 -0200", 1795600800},
        {"Sat,  5 Nov 2026 10:00:00 UTC", 1793872800},
        {"Sat, 31 Feb 2026 10:00:00 UTC", -1},
        {"Sat, 25 Nov 2026 10:00:00", -1},
        {"Sat, 25 Nov 2026 10:00:00 CET", -1},
        {"Sat, 25 Foo 2026 10:00:00 UTC", -1},
        {"Sat, 25 Nov 2026 24:00:00 UTC", -1},
        {"Sat, 25 Nov 26 10:00:00 UTC", -1},
        {"Sat, 25 Nov 2026 10:00 UTC", -1},
        {"Sat, 25 Nov 2026 10:00:00 UTC x", -1},
        {"2026-11-25T10:00:00Z", -1},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        char *text = pf_asprintf("Valid-Until: %s\nSHA256:\n " HEX_A " 1 x\n", cases[i].date);
        struct worker_apt_release *rel = NULL;
        char err[256] = "";
        int r;

        assert_non_null(text);
        r = worker_apt_release_parse(text, strlen(text), &rel, err, sizeof(err));
        if (cases[i].epoch < 0) {
            if (r != -EINVAL)
                fail_msg("'%s': expected -EINVAL, got %d", cases[i].date, r);
            assert_null(rel);
            assert_non_null(strstr(err, "Valid-Until"));
        } else {
            if (r != 0)
                fail_msg("'%s': %s", cases[i].date, err);
            assert_int_equal((long long)rel->valid_until, cases[i].epoch);
        }
        worker_apt_release_free(rel);
        pf_free(text);
    }
}

static void malformed(void **state)
{
    static const struct {
        const char *text;
        int r;
    } cases[] = {
        {"Suite: stable\n", -EBADMSG},
        {"Suite: stable\nMD5Sum:\n 00000000000000000000000000000000 6 x\n", -EBADMSG},
        {"Suite: stable\nSHA256:\n", -EBADMSG},
        {"SHA256:\n 0123 1 x\n", -EINVAL},
        {"SHA256:\n " HEX_A "0 1 x\n", -EINVAL},
        {"SHA256:\n g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef 1 x\n",
         -EINVAL},
        {"SHA256:\n " HEX_A " -1 x\n", -EINVAL},
        {"SHA256:\n " HEX_A " 1x x\n", -EINVAL},
        {"SHA256:\n " HEX_A " 99999999999999999999 x\n", -EINVAL},
        {"SHA256:\n " HEX_A " 1\n", -EINVAL},
        {"SHA256:\n " HEX_A " 1 x y\n", -EINVAL},
        {"SHA256:\n " HEX_A " 1 /etc/passwd\n", -EINVAL},
        {"SHA256:\n " HEX_A " 1 main/../../x\n", -EINVAL},
        {"SHA256:\n " HEX_A " 1 ..\n", -EINVAL},
        {"SHA256:\n " HEX_A " 1 x\n " HEX_A " 2 x\n", -EINVAL},
        {"Date: yesterday\nSHA256:\n " HEX_A " 1 x\n", -EINVAL},
        {"Suite: a\n\nSuite: b\nSHA256:\n " HEX_A " 1 x\n", -EINVAL},
        {"Suite: a\nSuite: b\nSHA256:\n " HEX_A " 1 x\n", -EINVAL},
        {"", -EINVAL},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct worker_apt_release *rel = NULL;
        char err[256] = "";
        int r = worker_apt_release_parse(cases[i].text, strlen(cases[i].text), &rel, err,
                                         sizeof(err));

        if (r != cases[i].r)
            fail_msg("case %zu: expected %d, got %d (%s)", i, cases[i].r, r, err);
        assert_null(rel);
        assert_true(err[0] != '\0');
    }
    /* Paths with dots that are not ".." components are fine. */
    {
        struct worker_apt_release *rel = parse_ok("SHA256:\n " HEX_A " 1 a/..b/c..\n");
        assert_string_equal(rel->files[0].path, "a/..b/c..");
        worker_apt_release_free(rel);
    }
}

/* ---- gpgv against the signed fixture ---- */

static char *data_path(const char *rel)
{
    char *p = pf_asprintf("%s/%s", PF_TEST_DATA, rel);

    assert_non_null(p);
    return p;
}

static int verify(const char *keyring_rel, const char *in, size_t len, char **ret, size_t *ret_len,
                  char *err, size_t errlen)
{
    char *kr = data_path(keyring_rel);
    int r = worker_gpgv_verify_clearsigned(kr, in, len, ret, ret_len, err, errlen);

    pf_free(kr);
    return r;
}

static void gpgv_good_chain(void **state)
{
    size_t len, plen, gzlen, tlen = 0;
    char *in = pf_test_read_data("apt/InRelease", &len);
    char *pkgs = pf_test_read_data("apt/Packages", &plen);
    char *gz = pf_test_read_data("apt/Packages.gz", &gzlen);
    char *text = NULL;
    struct worker_apt_release *rel = NULL;
    char err[512] = "";

    (void)state;
    if (verify("apt/keyring.gpg", in, len, &text, &tlen, err, sizeof(err)) != 0)
        fail_msg("gpgv: %s", err);
    /* Only the signed text: no armour, no signature. */
    assert_int_equal(tlen, strlen(text));
    assert_int_equal(strncmp(text, "Acquire-By-Hash: yes\n", 21), 0);
    assert_null(strstr(text, "PGP"));
    assert_int_equal(worker_apt_release_parse(text, tlen, &rel, err, sizeof(err)), 0);
    assert_string_equal(rel->codename, "pftest");
    assert_string_equal(rel->origin, "patchfleet");
    assert_int_equal(rel->valid_until - rel->date, 315360000);
    assert_int_equal(worker_apt_release_check_valid_until(rel, rel->date + 86400, NULL, 0), 0);
    assert_int_equal(worker_apt_release_check_valid_until(rel, rel->valid_until + 1, NULL, 0),
                     -ESTALE);
    assert_int_equal(worker_apt_verify_index(rel, "main/binary-amd64/Packages", pkgs, plen, err,
                                             sizeof(err)),
                     0);
    assert_int_equal(worker_apt_verify_index(rel, "main/binary-amd64/Packages.gz", gz, gzlen, err,
                                             sizeof(err)),
                     0);
    /* One byte of Packages changed (the first version digit): refused. */
    {
        char *v = strstr(pkgs, "Version: ");
        assert_non_null(v);
        v[9] = (char)(v[9] == '9' ? '8' : v[9] + 1);
    }
    assert_int_equal(worker_apt_verify_index(rel, "main/binary-amd64/Packages", pkgs, plen, err,
                                             sizeof(err)),
                     -EBADMSG);
    worker_apt_release_free(rel);
    pf_free(text);
    pf_free(gz);
    pf_free(pkgs);
    pf_free(in);
}

static void gpgv_keyring_directory(void **state)
{
    size_t len, tlen = 0;
    char *in = pf_test_read_data("apt/InRelease", &len);
    char *text = NULL;
    char err[512] = "";

    (void)state;
    /* tests/data/apt holds keyring.gpg and other-keyring.gpg: both are used. */
    if (verify("apt", in, len, &text, &tlen, err, sizeof(err)) != 0)
        fail_msg("gpgv: %s", err);
    assert_true(tlen > 0);
    pf_free(text);
    /* A directory without *.gpg files. */
    text = NULL;
    assert_int_equal(verify("config", in, len, &text, &tlen, err, sizeof(err)), -ENOKEY);
    assert_null(text);
    pf_free(in);
}

static void gpgv_refusals(void **state)
{
    size_t len, plen, tlen = 7;
    char *in = pf_test_read_data("apt/InRelease", &len);
    char *pkgs = pf_test_read_data("apt/Packages", &plen);
    char *text = NULL;
    char *s;
    char err[512] = "";

    (void)state;
    /* Signed by a key that is not in the keyring. */
    assert_int_equal(verify("apt/other-keyring.gpg", in, len, &text, &tlen, err, sizeof(err)),
                     -ENOKEY);
    assert_non_null(strstr(err, "NO_PUBKEY"));
    /* Missing keyring. */
    assert_int_equal(verify("apt/missing.gpg", in, len, &text, &tlen, err, sizeof(err)), -ENOENT);
    /* Not a clear-signed message at all. */
    assert_int_equal(verify("apt/keyring.gpg", pkgs, plen, &text, &tlen, err, sizeof(err)),
                     -EBADMSG);
    /* Something in front of the armour header. */
    s = pf_asprintf("Origin: evil\n%s", in);
    assert_int_equal(verify("apt/keyring.gpg", s, strlen(s), &text, &tlen, err, sizeof(err)),
                     -EBADMSG);
    pf_free(s);
    /* One byte of the signed text changed. */
    s = strstr(in, "Suite: pftest");
    assert_non_null(s);
    s[12] = 'x';
    assert_int_equal(verify("apt/keyring.gpg", in, len, &text, &tlen, err, sizeof(err)), -EBADMSG);
    assert_non_null(strstr(err, "InRelease signature verification failed"));
    assert_non_null(strstr(err, "BADSIG"));
    assert_null(text);
    assert_int_equal(tlen, 7);
    pf_free(pkgs);
    pf_free(in);
}

static void gpgv_trailing_text_ignored(void **state)
{
    size_t len, tlen = 0;
    char *in = pf_test_read_data("apt/InRelease", &len);
    char *s = pf_asprintf("%s\nSHA256:\n " HEX_A " 1 evil\n", in);
    char *text = NULL;
    char err[512] = "";
    int r;

    (void)state;
    assert_non_null(s);
    r = verify("apt/keyring.gpg", s, strlen(s), &text, &tlen, err, sizeof(err));
    /* gpgv itself would accept this and drop the tail; like apt, we refuse the file. */
    assert_int_equal(r, -EBADMSG);
    assert_non_null(strstr(err, "after the signature"));
    assert_null(text);
    /* Trailing white space is fine. */
    pf_free(s);
    s = pf_asprintf("%s\n \n", in);
    assert_non_null(s);
    if (verify("apt/keyring.gpg", s, strlen(s), &text, &tlen, err, sizeof(err)) != 0)
        fail_msg("gpgv: %s", err);
    pf_free(text);
    pf_free(s);
    pf_free(in);
}

static void gpgv_not_installed(void **state)
{
    size_t len, tlen = 0;
    char *in = pf_test_read_data("apt/InRelease", &len);
    char *path = pf_strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    char *text = NULL;
    char err[512] = "";

    (void)state;
    assert_non_null(path);
    assert_int_equal(setenv("PATH", "/nonexistent", 1), 0);
    assert_int_equal(verify("apt/keyring.gpg", in, len, &text, &tlen, err, sizeof(err)), -ENOENT);
    assert_int_equal(setenv("PATH", path, 1), 0);
    assert_non_null(strstr(err, "gpgv"));
    pf_free(path);
    pf_free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_fields),
        cmocka_unit_test(find_entries),
        cmocka_unit_test(verify_index),
        cmocka_unit_test(valid_until),
        cmocka_unit_test(dates),
        cmocka_unit_test(malformed),
        cmocka_unit_test(gpgv_good_chain),
        cmocka_unit_test(gpgv_keyring_directory),
        cmocka_unit_test(gpgv_refusals),
        cmocka_unit_test(gpgv_trailing_text_ignored),
        cmocka_unit_test(gpgv_not_installed),
    };

    return cmocka_run_group_tests_name("apt_release", tests, NULL, NULL);
}
