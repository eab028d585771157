/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for credential lookup: config.json parsing, key spellings, helper selection and a
 * real (fake) credential helper run through posix_spawnp. */
#include "pf_test.h"

#include <sys/stat.h>
#include <unistd.h>

#include "pf/dockercfg.h"
#include "../../common/src/registry_internal.h"

/* "user:pass" and "hub:hubpw" in base64. */
#define AUTH_USER "dXNlcjpwYXNz"
#define AUTH_HUB "aHViOmh1YnB3"

static void key_spellings(void **state)
{
    static const struct {
        const char *key, *host;
    } t[] = {
        {"https://index.docker.io/v1/", "docker.io"},
        {"index.docker.io", "docker.io"},
        {"registry-1.docker.io", "docker.io"},
        {"https://registry-1.docker.io/v2/", "docker.io"},
        {"docker.io", "docker.io"},
        {"HTTPS://GHCR.io", "ghcr.io"},
        {"http://127.0.0.1:5000/v2/", "127.0.0.1:5000"},
        {"quay.io/org/repo", "quay.io"},
    };
    char out[256];

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(t); i++) {
        assert_int_equal(pf__dockercfg_key_host(t[i].key, out, sizeof(out)), 0);
        assert_string_equal(out, t[i].host);
    }
    assert_string_equal(pf_dockercfg_server_url("docker.io"), "https://index.docker.io/v1/");
    assert_string_equal(pf_dockercfg_server_url("ghcr.io"), "ghcr.io");
}

static void parse_table(void **state)
{
    static const struct {
        const char *json, *host;
        int rc;
        const char *user, *pass, *idt, *helper;
    } t[] = {
        {"{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"" AUTH_HUB "\"}}}", "docker.io",
         1, "hub", "hubpw", NULL, NULL},
        {"{\"auths\":{\"registry-1.docker.io\":{\"auth\":\"" AUTH_HUB "\"}}}", "docker.io", 1,
         "hub", "hubpw", NULL, NULL},
        {"{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"" AUTH_USER "\"}}}", "127.0.0.1:5000", 1,
         "user", "pass", NULL, NULL},
        /* An empty entry next to a real one (docker writes those with credsStore). */
        {"{\"auths\":{\"ghcr.io\":{},\"https://ghcr.io\":{\"auth\":\"" AUTH_USER "\"}}}", "ghcr.io",
         1, "user", "pass", NULL, NULL},
        {"{\"auths\":{\"ghcr.io\":{\"identitytoken\":\"refresh-me\"}}}", "ghcr.io", 1, NULL, NULL,
         "refresh-me", NULL},
        {"{\"auths\":{\"ghcr.io\":{\"auth\":\"" AUTH_USER "\"}}}", "quay.io", 0, NULL, NULL, NULL,
         NULL},
        /* credHelpers beats auths; credsStore is the fallback. */
        {"{\"auths\":{\"ghcr.io\":{\"auth\":\"" AUTH_USER "\"}},\"credHelpers\":{\"ghcr.io\":"
         "\"gh\"},\"credsStore\":\"desktop\"}",
         "ghcr.io", 2, NULL, NULL, NULL, "gh"},
        {"{\"auths\":{\"ghcr.io\":{}},\"credsStore\":\"desktop\"}", "ghcr.io", 2, NULL, NULL, NULL,
         "desktop"},
        {"{\"auths\":{\"ghcr.io\":{\"auth\":\"" AUTH_USER "\"}},\"credsStore\":\"desktop\"}",
         "ghcr.io", 1, "user", "pass", NULL, NULL},
        /* Hostile helper names never reach posix_spawnp. */
        {"{\"credsStore\":\"../../bin/sh\"}", "ghcr.io", -EINVAL, NULL, NULL, NULL, NULL},
        {"{\"auths\":{\"ghcr.io\":{\"auth\":\"bm9jb2xvbg==\"}}}", "ghcr.io", -EINVAL, NULL, NULL,
         NULL, NULL},
        {"{\"auths\":{\"ghcr.io\":{\"auth\":\"!!!\"}}}", "ghcr.io", -EINVAL, NULL, NULL, NULL,
         NULL},
        {"[1]", "ghcr.io", -EINVAL, NULL, NULL, NULL, NULL},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(t); i++) {
        struct pf_cred c = {NULL, NULL, NULL};
        char *helper = NULL, err[256] = "";
        int rc = pf__dockercfg_parse(t[i].json, strlen(t[i].json), t[i].host, &c, &helper, err,
                                     sizeof(err));

        print_message("dockercfg %zu\n", i);
        assert_int_equal(rc, t[i].rc);
        if (rc < 0) {
            assert_true(err[0] != '\0');
            assert_null(strstr(err, "nocolon")); /* no secret in the message */
        }
        if (t[i].user)
            assert_string_equal(c.username, t[i].user);
        if (t[i].pass)
            assert_string_equal(c.password, t[i].pass);
        if (t[i].idt)
            assert_string_equal(c.identity_token, t[i].idt);
        if (t[i].helper)
            assert_string_equal(helper, t[i].helper);
        pf_cred_release(&c);
        pf_free(helper);
    }
}

static void helper_output(void **state)
{
    struct pf_cred c = {NULL, NULL, NULL};
    static const char ok[] = "{\"ServerURL\":\"ghcr.io\",\"Username\":\"u\",\"Secret\":\"s\"}";
    static const char tok[] = "{\"Username\":\"<token>\",\"Secret\":\"rt\"}";

    (void)state;
    assert_int_equal(pf__cred_helper_output_parse(ok, strlen(ok), &c), 0);
    assert_string_equal(c.username, "u");
    assert_string_equal(c.password, "s");
    assert_null(c.identity_token);
    pf_cred_release(&c);
    assert_int_equal(pf__cred_helper_output_parse(tok, strlen(tok), &c), 0);
    assert_null(c.username);
    assert_string_equal(c.identity_token, "rt");
    pf_cred_release(&c);
    assert_int_equal(pf__cred_helper_output_parse("{\"Secret\":\"\"}", 13, &c), -ENOENT);
    assert_int_equal(pf__cred_helper_output_parse("nope", 4, &c), -EINVAL);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

/* Runs a fake docker-credential-pftest from a temp dir on PATH: checks the server URL it gets
 * on stdin and that a failing helper gives -ENOENT. */
static void helper_spawn(void **state)
{
    char dir[] = "/tmp/pf-dockercfg-XXXXXX", path[256], cfg[256], *old_path, *new_path;
    struct pf_cred c = {NULL, NULL, NULL};
    char err[256];
    int r;

    (void)state;
    assert_non_null(mkdtemp(dir));
    (void)snprintf(path, sizeof(path), "%s/docker-credential-pftest", dir);
    write_file(path,
               "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread url\n"
               "if [ \"$url\" = https://index.docker.io/v1/ ]; then\n"
               "  echo '{\"Username\":\"hubuser\",\"Secret\":\"hubsecret\"}'\n"
               "else echo 'credentials not found in native keychain'; exit 1; fi\n",
               0755);
    (void)snprintf(cfg, sizeof(cfg), "%s/config.json", dir);
    write_file(cfg, "{\"credsStore\":\"pftest\"}", 0600);
    old_path = pf_strdup(getenv("PATH"));
    new_path = pf_asprintf("%s:%s", dir, old_path);
    assert_int_equal(setenv("PATH", new_path, 1), 0);

    err[0] = 0;
    r = pf_dockercfg_lookup(cfg, "docker.io", &c, err, sizeof(err));
    print_message("helper: %s\n", err);
    assert_int_equal(r, 0);
    assert_string_equal(c.username, "hubuser");
    assert_string_equal(c.password, "hubsecret");
    pf_cred_release(&c);
    assert_int_equal(pf_dockercfg_lookup(cfg, "ghcr.io", &c, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "found no credentials"));

    assert_int_equal(setenv("PATH", old_path, 1), 0);
    pf_free(old_path);
    pf_free(new_path);
    (void)unlink(path);
    (void)unlink(cfg);
    (void)rmdir(dir);
}

static void lookup_file_order(void **state)
{
    char dir[] = "/tmp/pf-dockercfg-XXXXXX", cfg[256], raf[256];
    struct pf_cred c = {NULL, NULL, NULL};
    char err[256];

    (void)state;
    assert_non_null(mkdtemp(dir));
    (void)snprintf(cfg, sizeof(cfg), "%s/config.json", dir);
    (void)snprintf(raf, sizeof(raf), "%s/auth.json", dir);
    write_file(cfg, "{\"auths\":{\"ghcr.io\":{\"auth\":\"" AUTH_USER "\"}}}", 0600);
    write_file(raf, "{\"auths\":{\"quay.io\":{\"auth\":\"" AUTH_HUB "\"}}}", 0600);
    assert_int_equal(setenv("DOCKER_CONFIG", dir, 1), 0);
    assert_int_equal(setenv("REGISTRY_AUTH_FILE", raf, 1), 0);
    assert_int_equal(pf_dockercfg_lookup(NULL, "ghcr.io", &c, err, sizeof(err)), 0);
    assert_string_equal(c.username, "user");
    pf_cred_release(&c);
    assert_int_equal(pf_dockercfg_lookup(NULL, "quay.io", &c, err, sizeof(err)), 0);
    assert_string_equal(c.username, "hub");
    pf_cred_release(&c);
    assert_int_equal(pf_dockercfg_lookup(NULL, "docker.io", &c, err, sizeof(err)), -ENOENT);
    assert_int_equal(unsetenv("DOCKER_CONFIG"), 0);
    assert_int_equal(unsetenv("REGISTRY_AUTH_FILE"), 0);
    (void)unlink(cfg);
    (void)unlink(raf);
    (void)rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_spellings),     cmocka_unit_test(parse_table),
        cmocka_unit_test(helper_output),     cmocka_unit_test(helper_spawn),
        cmocka_unit_test(lookup_file_order),
    };

    return cmocka_run_group_tests_name("dockercfg", tests, NULL, NULL);
}
