/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for image references: parsing and normalisation (table of valid inputs with their
 * parts and printed form), refusals with their reasons, length limits, and Copa's target naming
 * table plus our extensions (full target repository, bare host registry).
 */
#include "pf_test.h"

#include "pf/ref.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST "sha256:" HEX64

struct valid_case {
    const char *in;
    const char *registry;
    const char *repository;
    const char *tag;
    const char *digest;
    const char *str;
};

static const struct valid_case valid_cases[] = {
    {"nginx", "docker.io", "library/nginx", NULL, NULL, "docker.io/library/nginx"},
    {"nginx:1.25", "docker.io", "library/nginx", "1.25", NULL, "docker.io/library/nginx:1.25"},
    {"docker.io/nginx", "docker.io", "library/nginx", NULL, NULL, "docker.io/library/nginx"},
    {"docker.io/library/nginx", "docker.io", "library/nginx", NULL, NULL,
     "docker.io/library/nginx"},
    {"index.docker.io/library/nginx:latest", "docker.io", "library/nginx", "latest", NULL,
     "docker.io/library/nginx:latest"},
    {"index.docker.io/nginx", "docker.io", "library/nginx", NULL, NULL, "docker.io/library/nginx"},
    {"Docker.IO/nginx", "docker.io", "library/nginx", NULL, NULL, "docker.io/library/nginx"},
    {"myorg/app", "docker.io", "myorg/app", NULL, NULL, "docker.io/myorg/app"},
    {"bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", NULL, "docker.io/bitnami/redis:7.2"},
    {"ghcr.io/myorg/team/app:v1", "ghcr.io", "myorg/team/app", "v1", NULL,
     "ghcr.io/myorg/team/app:v1"},
    {"GHCR.io/myorg/app", "ghcr.io", "myorg/app", NULL, NULL, "ghcr.io/myorg/app"},
    {"ghcr.io/app", "ghcr.io", "app", NULL, NULL, "ghcr.io/app"},
    {"localhost/app", "localhost", "app", NULL, NULL, "localhost/app"},
    {"localhost:5000/x", "localhost:5000", "x", NULL, NULL, "localhost:5000/x"},
    {"localhost:5000", "docker.io", "library/localhost", "5000", NULL,
     "docker.io/library/localhost:5000"},
    {"127.0.0.1:5000/a/b:c", "127.0.0.1:5000", "a/b", "c", NULL, "127.0.0.1:5000/a/b:c"},
    {"[::1]:5000/x", "[::1]:5000", "x", NULL, NULL, "[::1]:5000/x"},
    {"[2001:DB8::1]/x:y", "[2001:db8::1]", "x", "y", NULL, "[2001:db8::1]/x:y"},
    {"quay.io/opstree/redis@" DIGEST, "quay.io", "opstree/redis", NULL, DIGEST,
     "quay.io/opstree/redis@" DIGEST},
    {"nginx:1.25@" DIGEST, "docker.io", "library/nginx", "1.25", DIGEST,
     "docker.io/library/nginx:1.25@" DIGEST},
    {"a_b/c__d/e--f.g", "docker.io", "a_b/c__d/e--f.g", NULL, NULL, "docker.io/a_b/c__d/e--f.g"},
    {"registry.io:5000/team/redis", "registry.io:5000", "team/redis", NULL, NULL,
     "registry.io:5000/team/redis"},
    {"my-registry.example.com/a", "my-registry.example.com", "a", NULL, NULL,
     "my-registry.example.com/a"},
    {"x:_tag", "docker.io", "library/x", "_tag", NULL, "docker.io/library/x:_tag"},
    {"x:1.0.0-RC_1", "docker.io", "library/x", "1.0.0-RC_1", NULL,
     "docker.io/library/x:1.0.0-RC_1"},
    {"a1/2b", "docker.io", "a1/2b", NULL, NULL, "docker.io/a1/2b"},
    {"h:1/x", "h:1", "x", NULL, NULL, "h:1/x"},
};

static void assert_str_or_null(const char *got, const char *want)
{
    if (!want)
        assert_null(got);
    else
        assert_string_equal(got, want);
}

static void parse_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(valid_cases); i++) {
        const struct valid_case *c = &valid_cases[i];
        struct pf_ref ref, again;
        char err[512] = "";
        char *s, *s2;

        print_message("case %zu: %s\n", i, c->in);
        assert_int_equal(pf_ref_parse(c->in, &ref, err, sizeof(err)), 0);
        assert_string_equal(ref.registry, c->registry);
        assert_string_equal(ref.repository, c->repository);
        assert_str_or_null(ref.tag, c->tag);
        assert_str_or_null(ref.digest, c->digest);
        s = pf_ref_to_string(&ref);
        assert_string_equal(s, c->str);
        /* The printed form is normalised, so it parses to itself. */
        assert_int_equal(pf_ref_parse(s, &again, err, sizeof(err)), 0);
        s2 = pf_ref_to_string(&again);
        assert_string_equal(s2, s);
        pf_free(s);
        pf_free(s2);
        pf_ref_release(&again);
        pf_ref_release(&ref);
    }
}

struct invalid_case {
    const char *in;
    const char *reason;
};

static const struct invalid_case invalid_cases[] = {
    {"", "invalid reference '': empty reference"},
    {"nginx:", "invalid reference 'nginx:': empty tag"},
    {"nginx:a b", "invalid tag 'a b'"},
    {"nginx:.a", "invalid tag '.a'"},
    {"nginx:-a", "invalid tag '-a'"},
    {"nginx:a/b", "invalid registry 'nginx:a'"},
    {"nginx@", "invalid reference 'nginx@': empty digest"},
    {"nginx@sha256:abc", "invalid digest 'sha256:abc' (expected sha256:<64 lowercase hex>)"},
    {"nginx@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
     "invalid digest"},
    {"nginx@sha512:" HEX64 HEX64, "only sha256 digests are supported"},
    {"nginx@md5", "invalid digest 'md5'"},
    {"nginx@" DIGEST "@x", "invalid digest"},
    {"Nginx", "invalid reference 'Nginx': repository name must be lowercase"},
    {"ghcr.io/MyOrg/app", "repository name must be lowercase"},
    {"MyOrg/app", "repository name must be lowercase"},
    {"nginx:1.25:foo", "invalid reference format: bad path component 'nginx:1.25'"},
    {"ghcr.io/", "invalid reference 'ghcr.io/': missing repository path"},
    {":tag", "invalid reference ':tag': empty repository name"},
    {"@" DIGEST, "empty repository name"},
    {"a//b", "empty path component"},
    {"a/b/", "empty path component"},
    {"/a", "empty path component"},
    {"ng inx", "invalid reference format: bad path component 'ng inx'"},
    {"a..b", "bad path component 'a..b'"},
    {"-a", "bad path component '-a'"},
    {"a-", "bad path component 'a-'"},
    {"a___b", "bad path component 'a___b'"},
    {"a.", "bad path component 'a.'"},
    {"-bad.io/x", "invalid registry '-bad.io'"},
    {"bad_host.io/x", "invalid registry 'bad_host.io'"},
    {"a..io/x", "invalid registry 'a..io'"},
    {"localhost:99999/x", "invalid registry 'localhost:99999'"},
    {"localhost:0/x", "invalid registry 'localhost:0'"},
    {"localhost:/x", "invalid registry 'localhost:'"},
    {"localhost:ab/x", "invalid registry 'localhost:ab'"},
    {"[::1/x", "invalid registry '[::1'"},
    {"[]/x", "invalid registry '[]'"},
    {"[::g]/x", "invalid registry '[::g]'"},
    {"[::1]x/y", "invalid registry '[::1]x'"},
    {HEX64, "is an image ID, not a name"},
};

static void parse_invalid(void **state)
{
    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(invalid_cases); i++) {
        const struct invalid_case *c = &invalid_cases[i];
        struct pf_ref ref;
        char err[512] = "";
        char quoted[512];

        print_message("case %zu: %s\n", i, c->in);
        memset(&ref, 0x5a, sizeof(ref));
        assert_int_equal(pf_ref_parse(c->in, &ref, err, sizeof(err)), -EINVAL);
        assert_null(ref.registry);
        assert_null(ref.repository);
        assert_null(ref.tag);
        assert_null(ref.digest);
        if (!strstr(err, c->reason))
            fail_msg("'%s': got '%s', want '%s'", c->in, err, c->reason);
        /* Every reason quotes the input. */
        snprintf(quoted, sizeof(quoted), "'%s'", c->in);
        if (!strstr(err, quoted))
            fail_msg("'%s' is not quoted in '%s'", c->in, err);
    }
}

/* Builds "<prefix><n times c><suffix>" in buf. */
static const char *make_long(char *buf, size_t len, const char *prefix, size_t n, char c,
                             const char *suffix)
{
    size_t p = strlen(prefix);

    assert_true(p + n + strlen(suffix) < len);
    memcpy(buf, prefix, p);
    memset(buf + p, c, n);
    snprintf(buf + p + n, len - p - n, "%s", suffix);
    return buf;
}

static void parse_limits(void **state)
{
    char buf[1024], err[2048];
    struct pf_ref ref;

    (void)state;
    /* ghcr.io/ is 8 characters: 247 more make 255, the maximum. */
    make_long(buf, sizeof(buf), "ghcr.io/", 247, 'a', "");
    assert_int_equal(pf_ref_parse(buf, &ref, err, sizeof(err)), 0);
    assert_int_equal(strlen(ref.repository), 247);
    pf_ref_release(&ref);
    make_long(buf, sizeof(buf), "ghcr.io/", 248, 'a', "");
    assert_int_equal(pf_ref_parse(buf, &ref, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err,
                           "repository name too long (256 characters normalised, at most 255)"));

    /* The limit applies to the normalised name: docker.io/library/ adds 18 characters. */
    make_long(buf, sizeof(buf), "", 237, 'b', ":t");
    assert_int_equal(pf_ref_parse(buf, &ref, err, sizeof(err)), 0);
    pf_ref_release(&ref);
    make_long(buf, sizeof(buf), "", 238, 'b', "");
    assert_int_equal(pf_ref_parse(buf, &ref, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "too long"));

    make_long(buf, sizeof(buf), "nginx:", 128, 't', "");
    assert_int_equal(pf_ref_parse(buf, &ref, err, sizeof(err)), 0);
    assert_int_equal(strlen(ref.tag), 128);
    pf_ref_release(&ref);
    make_long(buf, sizeof(buf), "nginx:", 129, 't', "");
    assert_int_equal(pf_ref_parse(buf, &ref, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "(longer than 128 characters)"));

    /* A tiny or absent errbuf is fine. */
    assert_int_equal(pf_ref_parse("Nginx", &ref, err, 4), -EINVAL);
    assert_string_equal(err, "inv");
    assert_int_equal(pf_ref_parse("Nginx", &ref, NULL, 0), -EINVAL);
}

static void tag_and_digest_validity(void **state)
{
    char buf[256];

    (void)state;
    assert_true(pf_tag_is_valid("latest"));
    assert_true(pf_tag_is_valid("1.25.3-alpine"));
    assert_true(pf_tag_is_valid("_x"));
    assert_true(pf_tag_is_valid("A.b-C_d"));
    assert_false(pf_tag_is_valid(NULL));
    assert_false(pf_tag_is_valid(""));
    assert_false(pf_tag_is_valid(".x"));
    assert_false(pf_tag_is_valid("-x"));
    assert_false(pf_tag_is_valid("a b"));
    assert_false(pf_tag_is_valid("a:b"));
    assert_false(pf_tag_is_valid("a+b"));
    assert_true(pf_tag_is_valid(make_long(buf, sizeof(buf), "", 128, 'x', "")));
    assert_false(pf_tag_is_valid(make_long(buf, sizeof(buf), "", 129, 'x', "")));

    assert_true(pf_digest_is_valid(DIGEST));
    assert_false(pf_digest_is_valid(NULL));
    assert_false(pf_digest_is_valid("sha256:"));
    assert_false(pf_digest_is_valid("sha256:" HEX64 "0"));
    assert_false(pf_digest_is_valid(
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeF"));
    assert_false(pf_digest_is_valid("sha512:" HEX64 HEX64));
    assert_false(pf_digest_is_valid("SHA256:" HEX64));
    assert_false(pf_digest_is_valid(HEX64));
}

static void parse_repository_refuses_tag_and_digest(void **state)
{
    struct pf_ref ref;
    char err[256] = "";

    (void)state;
    assert_int_equal(pf_ref_parse_repository("nginx:1.25", &ref, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "'nginx:1.25' names a tag; expected a repository");
    assert_null(ref.repository);
    assert_int_equal(pf_ref_parse_repository("nginx@" DIGEST, &ref, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "'nginx@" DIGEST "' names a digest; expected a repository");
    assert_int_equal(pf_ref_parse_repository("Nginx", &ref, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "invalid reference 'Nginx': repository name must be lowercase");
    assert_int_equal(pf_ref_parse_repository("quay.io/opstree/redis", &ref, err, sizeof(err)), 0);
    assert_string_equal(ref.registry, "quay.io");
    assert_string_equal(ref.repository, "opstree/redis");
    pf_ref_release(&ref);
}

static void accessors(void **state)
{
    struct pf_ref ref, copy;
    char err[256];
    char *s;

    (void)state;
    assert_int_equal(pf_ref_parse("nginx:1.25@" DIGEST, &ref, err, sizeof(err)), 0);
    assert_string_equal(pf_ref_api_host(&ref), "registry-1.docker.io");
    assert_string_equal(pf_ref_basename(&ref), "nginx");
    s = pf_ref_repository_string(&ref);
    assert_string_equal(s, "docker.io/library/nginx");
    pf_free(s);
    assert_int_equal(pf_ref_copy(&ref, &copy), 0);
    pf_ref_release(&ref);
    assert_null(ref.registry);
    s = pf_ref_to_string(&copy);
    assert_string_equal(s, "docker.io/library/nginx:1.25@" DIGEST);
    pf_free(s);
    pf_ref_release(&copy);

    assert_int_equal(pf_ref_parse("localhost:5000/team/app:v2", &ref, err, sizeof(err)), 0);
    assert_string_equal(pf_ref_api_host(&ref), "localhost:5000");
    assert_string_equal(pf_ref_basename(&ref), "app");
    assert_int_equal(pf_ref_copy(&ref, &copy), 0);
    assert_null(copy.digest);
    assert_string_equal(copy.tag, "v2");
    pf_ref_release(&copy);
    pf_ref_release(&ref);
    pf_ref_release(NULL);
}

struct target_case {
    const char *source;
    const char *registry;   /* target.registry */
    const char *repository; /* target.repository */
    const char *want;       /* repository string, or NULL for an error */
    const char *reason;     /* substring of the error */
};

static const struct target_case target_cases[] = {
    /* Copa's TestBuildTargetRepository. */
    {"quay.io/opstree/redis", "ghcr.io/myorg", NULL, "ghcr.io/myorg/redis", NULL},
    {"docker.io/library/nginx", "ghcr.io/myorg", NULL, "ghcr.io/myorg/nginx", NULL},
    {"nginx", "ghcr.io/myorg", NULL, "ghcr.io/myorg/nginx", NULL},
    {"registry.io/team/project/redis", "ghcr.io/myorg", NULL, "ghcr.io/myorg/redis", NULL},
    {"registry.io:5000/team/redis", "ghcr.io/myorg", NULL, "ghcr.io/myorg/redis", NULL},
    {"quay.io/opstree/redis", "ghcr.io/myorg/", NULL, "ghcr.io/myorg/redis", NULL},
    {"nginx", "ghcr.io/myorg/", NULL, "ghcr.io/myorg/nginx", NULL},
    {"nginx", "ghcr.io/myorg//", NULL, "ghcr.io/myorg/nginx", NULL},
    /* No target: the source repository itself, normalised. */
    {"nginx", NULL, NULL, "docker.io/library/nginx", NULL},
    {"quay.io/opstree/redis", "", "", "quay.io/opstree/redis", NULL},
    /* Our extension: the full repository wins, used exactly (Copa: .../python/python). */
    {"docker.io/library/python", NULL, "quay.io/special/python", "quay.io/special/python", NULL},
    {"docker.io/library/python", "ghcr.io/myorg", "quay.io/special/python",
     "quay.io/special/python", NULL},
    {"python", "ghcr.io/myorg", "", "ghcr.io/myorg/python", NULL},
    {"python", NULL, "mirror/python", "docker.io/mirror/python", NULL},
    /* Bare hosts and normalisation of the result. */
    {"quay.io/opstree/redis", "localhost:5000", NULL, "localhost:5000/redis", NULL},
    {"quay.io/opstree/redis", "GHCR.IO/myorg", NULL, "ghcr.io/myorg/redis", NULL},
    {"quay.io/opstree/redis", "index.docker.io", NULL, "docker.io/library/redis", NULL},
    {"quay.io/opstree/redis", "[::1]:5000", NULL, "[::1]:5000/redis", NULL},
    /* Errors. */
    {"nginx", "/", NULL, NULL, "invalid target registry '/'"},
    {"nginx", "ghcr.io/My Org", NULL, NULL,
     "invalid target registry: invalid reference 'ghcr.io/My Org/nginx'"},
    {"nginx", NULL, "quay.io/special/python:3", NULL,
     "invalid target repository: 'quay.io/special/python:3' names a tag"},
    {"nginx", NULL, "Quay.io/Special", NULL, "repository name must be lowercase"},
};

static void target_repository(void **state)
{
    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(target_cases); i++) {
        const struct target_case *c = &target_cases[i];
        struct pf_target t = {.registry = (char *)(uintptr_t)c->registry,
                              .repository = (char *)(uintptr_t)c->repository};
        struct pf_ref src, out = {0};
        char err[512] = "";
        char *s;
        int r;

        print_message("case %zu: %s -> %s / %s\n", i, c->source, c->registry ? c->registry : "-",
                      c->repository ? c->repository : "-");
        assert_int_equal(pf_ref_parse_repository(c->source, &src, err, sizeof(err)), 0);
        r = pf_ref_target_repository(&src, &t, &out, err, sizeof(err));
        if (!c->want) {
            assert_int_equal(r, -EINVAL);
            assert_null(out.registry);
            if (!strstr(err, c->reason))
                fail_msg("got '%s', want '%s'", err, c->reason);
        } else {
            assert_int_equal(r, 0);
            assert_null(out.tag);
            assert_null(out.digest);
            s = pf_ref_repository_string(&out);
            assert_string_equal(s, c->want);
            pf_free(s);
        }
        pf_ref_release(&out);
        pf_ref_release(&src);
    }
}

static void target_repository_drops_source_tag(void **state)
{
    struct pf_ref src, out;
    char err[256];

    (void)state;
    assert_int_equal(pf_ref_parse("ghcr.io/a/b:1@" DIGEST, &src, err, sizeof(err)), 0);
    assert_int_equal(pf_ref_target_repository(&src, NULL, &out, err, sizeof(err)), 0);
    assert_string_equal(out.registry, "ghcr.io");
    assert_string_equal(out.repository, "a/b");
    assert_null(out.tag);
    assert_null(out.digest);
    pf_ref_release(&out);
    pf_ref_release(&src);
}

/* Every allocation failure surfaces as -ENOMEM with nothing leaked and the output zeroed. */
static void out_of_memory(void **state)
{
    (void)state;
    for (unsigned long n = 1; n < 20; n++) {
        struct pf_ref ref = {0}, out = {0};
        struct pf_target t = {.registry = (char *)(uintptr_t) "ghcr.io/x"};
        char err[256];
        int r;

        pf_alloc_fail_at(n, true);
        r = pf_ref_parse("nginx:1@" DIGEST, &ref, err, sizeof(err));
        if (r == 0)
            r = pf_ref_target_repository(&ref, &t, &out, err, sizeof(err));
        pf_alloc_fail_at(0, false);
        assert_true(r == 0 || r == -ENOMEM);
        if (r < 0)
            assert_null(out.registry);
        pf_ref_release(&out);
        pf_ref_release(&ref);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_valid),
        cmocka_unit_test(parse_invalid),
        cmocka_unit_test(parse_limits),
        cmocka_unit_test(tag_and_digest_validity),
        cmocka_unit_test(parse_repository_refuses_tag_and_digest),
        cmocka_unit_test(accessors),
        cmocka_unit_test(target_repository),
        cmocka_unit_test(target_repository_drops_source_tag),
        cmocka_unit_test(out_of_memory),
    };

    return cmocka_run_group_tests_name("ref", tests, NULL, NULL);
}
