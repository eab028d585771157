/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the expansion of a PatchConfig into jobs (producer/src/plan.c), run against a
 * fake catalog so every rule is checked without a registry.
 */
#include "pf_test.h"

#include "pf/config.h"
#include "pf/diag.h"
#include "producer/plan.h"

struct fake_repo {
    const char *repo;    /* normalised repository */
    const char *tags;    /* space-separated */
    const char *created; /* space-separated unix times, parallel to tags; NULL = unknown */
    bool fail;           /* listing fails */
    int err;             /* listing fails with this errno (an authentication answer) */
};

static const struct fake_repo fake_repos[] = {
    {"reg.test:5000/nginx", "1.25.0 1.25.1 1.25.2 1.25.3 1.24.0 latest 1.25.3-alpine", NULL, false,
     0},
    {"reg.test:5000/alpine", "3.18.0 3.19.1 latest", NULL, false, 0},
    {"reg.test:5000/ubuntu", "20.04 22.04", NULL, false, 0},
    {"reg.test:5000/team-a/redis", "7.2", NULL, false, 0},
    {"reg.test:5000/team-b/redis", "7.2", NULL, false, 0},
    {"reg.test:5000/app", "main stable dev", "300 100 200", false, 0},
    {"reg.test:5000/down", "", NULL, true, 0},
    {"reg.test:5000/private", "", NULL, false, -EACCES},       /* anonymous 401 */
    {"reg.test:5000/badpass", "", NULL, false, -EKEYREJECTED}, /* credentials refused */
};

static const struct fake_repo *find_repo(const struct pf_ref *ref)
{
    char name[512];

    snprintf(name, sizeof(name), "%s/%s", ref->registry, ref->repository);
    for (size_t i = 0; i < PF_ARRAY_SIZE(fake_repos); i++)
        if (strcmp(fake_repos[i].repo, name) == 0)
            return &fake_repos[i];
    return NULL;
}

static int split_into(const char *s, struct pf_strv *ret)
{
    char buf[512];
    char *save = NULL;

    snprintf(buf, sizeof(buf), "%s", s);
    for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
        if (pf_strv_push(ret, t) < 0)
            return -ENOMEM;
    return 0;
}

static int fake_list_tags(void *userdata, const struct pf_ref *repo, struct pf_strv *ret,
                          char *errbuf, size_t errlen)
{
    const struct fake_repo *f = find_repo(repo);

    (void)userdata;
    if (f && f->err) {
        snprintf(errbuf, errlen, "%s",
                 f->err == -EACCES ? "401 authentication required" : "authentication failed: 401");
        return f->err;
    }
    if (!f || f->fail) {
        snprintf(errbuf, errlen, "503 Service Unavailable");
        return -EIO;
    }
    return split_into(f->tags, ret);
}

static int fake_created(void *userdata, const struct pf_ref *ref, int64_t *ret, char *errbuf,
                        size_t errlen)
{
    const struct fake_repo *f = find_repo(ref);
    struct pf_strv tags = PF_STRV_INIT, times = PF_STRV_INIT;
    int r = -ENOENT;

    (void)userdata;
    if (!f || !f->created) {
        snprintf(errbuf, errlen, "no config");
        return -ENOENT;
    }
    assert_int_equal(split_into(f->tags, &tags), 0);
    assert_int_equal(split_into(f->created, &times), 0);
    for (size_t i = 0; i < tags.n; i++)
        if (strcmp(tags.v[i], ref->tag) == 0) {
            *ret = strtoll(times.v[i], NULL, 10);
            r = 0;
        }
    pf_strv_clear(&tags);
    pf_strv_clear(&times);
    return r;
}

static const struct producer_catalog catalog = {
    .list_tags = fake_list_tags,
    .created = fake_created,
};

static struct pf_config *parse(const char *yaml)
{
    struct pf_diags d;
    struct pf_config *cfg = NULL;

    assert_int_equal(pf_diags_init(&d, "test.yaml"), 0);
    if (pf_config_parse(yaml, strlen(yaml), &d, &cfg) < 0)
        pf_diags_print(&d, stderr);
    pf_diags_release(&d);
    assert_non_null(cfg);
    return cfg;
}

/* Asserts the plan's jobs, written "name source target" one per array entry. */
static void assert_jobs(const struct producer_plan *plan, const char *const *want, size_t n)
{
    assert_int_equal(plan->n_jobs, n);
    for (size_t i = 0; i < n; i++) {
        char got[1024];
        snprintf(got, sizeof(got), "%s %s %s:%s", plan->jobs[i].name, plan->jobs[i].source,
                 plan->jobs[i].target_repo, plan->jobs[i].target_tag);
        assert_string_equal(got, want[i]);
    }
}

static bool warnings_mention(const struct producer_plan *plan, const char *needle)
{
    for (size_t i = 0; i < plan->warnings.n; i++)
        if (strstr(plan->warnings.v[i], needle))
            return true;
    return false;
}

/* Copa's own bulk integration config, with its expected tags (fixtures/README.md). */
static void copa_integration_case(void **state)
{
    static const char yaml[] = "apiVersion: copa.sh/v1alpha1\n"
                               "kind: PatchConfig\n"
                               "images:\n"
                               "  - name: nginx-pattern-test\n"
                               "    image: reg.test:5000/nginx\n"
                               "    tags:\n"
                               "      strategy: pattern\n"
                               "      pattern: '^1\\.25\\.[0-9]+$'\n"
                               "      maxTags: 2\n"
                               "      exclude: ['1.25.1']\n"
                               "    target:\n"
                               "      tag: '{{ .SourceTag }}-patched-e2e'\n"
                               "  - name: alpine-latest-test\n"
                               "    image: reg.test:5000/alpine\n"
                               "    tags:\n"
                               "      strategy: latest\n"
                               "    target:\n"
                               "      tag: '{{ .SourceTag }}-patched-e2e'\n"
                               "  - name: ubuntu-list-test\n"
                               "    image: reg.test:5000/ubuntu\n"
                               "    tags:\n"
                               "      strategy: list\n"
                               "      list: ['20.04']\n"
                               "    target:\n"
                               "      tag: '{{ .SourceTag }}-patched-e2e'\n";
    static const char *const want[] = {
        "nginx-pattern-test reg.test:5000/nginx:1.25.2 reg.test:5000/nginx:1.25.2-patched-e2e",
        "nginx-pattern-test reg.test:5000/nginx:1.25.3 reg.test:5000/nginx:1.25.3-patched-e2e",
        "alpine-latest-test reg.test:5000/alpine:3.19.1 reg.test:5000/alpine:3.19.1-patched-e2e",
        "ubuntu-list-test reg.test:5000/ubuntu:20.04 reg.test:5000/ubuntu:20.04-patched-e2e",
    };
    struct pf_config *cfg = parse(yaml);
    struct producer_plan plan = {0};

    (void)state;
    assert_int_equal(producer_plan_build(cfg, &catalog, &plan), 0);
    assert_jobs(&plan, want, PF_ARRAY_SIZE(want));
    assert_int_equal(plan.n_failures, 0);
    producer_plan_release(&plan);
    pf_config_free(cfg);
}

static void targets_default_registry_repository(void **state)
{
    static const char yaml[] = "apiVersion: copa.sh/v1alpha1\n"
                               "kind: PatchConfig\n"
                               "target:\n"
                               "  registry: ghcr.io/myorg/\n"
                               "images:\n"
                               "  - name: a\n"
                               "    image: reg.test:5000/alpine\n"
                               "    tags: {strategy: list, list: ['3.19.1']}\n"
                               "  - name: b\n"
                               "    image: reg.test:5000/ubuntu\n"
                               "    tags: {strategy: list, list: ['22.04']}\n"
                               "    target:\n"
                               "      repository: quay.io/special/ubuntu-fixed\n"
                               "      tag: '{{.SourceTag}}-fixed'\n";
    static const char *const want[] = {
        "a reg.test:5000/alpine:3.19.1 ghcr.io/myorg/alpine:3.19.1-patched",
        "b reg.test:5000/ubuntu:22.04 quay.io/special/ubuntu-fixed:22.04-fixed",
    };
    struct pf_config *cfg = parse(yaml);
    struct producer_plan plan = {0};

    (void)state;
    assert_int_equal(producer_plan_build(cfg, &catalog, &plan), 0);
    assert_jobs(&plan, want, PF_ARRAY_SIZE(want));
    producer_plan_release(&plan);
    pf_config_free(cfg);
}

static void missing_list_tag_is_a_warning(void **state)
{
    static const char yaml[] = "apiVersion: copa.sh/v1alpha1\n"
                               "kind: PatchConfig\n"
                               "images:\n"
                               "  - name: alp\n"
                               "    image: reg.test:5000/alpine\n"
                               "    tags: {strategy: list, list: ['3.19.1', '3.99.0']}\n";
    static const char *const want[] = {
        "alp reg.test:5000/alpine:3.19.1 reg.test:5000/alpine:3.19.1-patched",
    };
    struct pf_config *cfg = parse(yaml);
    struct producer_plan plan = {0};

    (void)state;
    assert_int_equal(producer_plan_build(cfg, &catalog, &plan), 0);
    assert_jobs(&plan, want, PF_ARRAY_SIZE(want));
    assert_int_equal(plan.n_failures, 0);
    assert_true(warnings_mention(&plan, "image 'alp'"));
    assert_true(warnings_mention(&plan, "3.99.0"));
    producer_plan_release(&plan);
    pf_config_free(cfg);
}

static void listing_failure_fails_pattern_not_list(void **state)
{
    static const char yaml[] = "apiVersion: copa.sh/v1alpha1\n"
                               "kind: PatchConfig\n"
                               "images:\n"
                               "  - name: p\n"
                               "    image: reg.test:5000/down\n"
                               "    tags: {strategy: pattern, pattern: '.*'}\n"
                               "  - name: l\n"
                               "    image: reg.test:5000/down\n"
                               "    tags: {strategy: list, list: ['1.0']}\n";
    static const char *const want[] = {
        "l reg.test:5000/down:1.0 reg.test:5000/down:1.0-patched",
    };
    struct pf_config *cfg = parse(yaml);
    struct producer_plan plan = {0};

    (void)state;
    assert_int_equal(producer_plan_build(cfg, &catalog, &plan), 0);
    assert_jobs(&plan, want, PF_ARRAY_SIZE(want));
    assert_int_equal(plan.n_failures, 1);
    assert_string_equal(plan.failures[0].name, "p");
    assert_string_equal(plan.failures[0].source, "reg.test:5000/down");
    assert_non_null(strstr(plan.failures[0].reason, "503 Service Unavailable"));
    assert_true(warnings_mention(&plan, "image 'l': cannot list tags"));
    producer_plan_release(&plan);
    pf_config_free(cfg);
}

/* Issue 14 item 4: credentials that were offered and refused fail a list entry too (its pulls
 * would be refused); an anonymous 401 stays a warning, the jobs go ahead. */
static void refused_credentials_fail_a_list(void **state)
{
    static const char yaml[] = "apiVersion: copa.sh/v1alpha1\n"
                               "kind: PatchConfig\n"
                               "images:\n"
                               "  - name: bad\n"
                               "    image: reg.test:5000/badpass\n"
                               "    tags: {strategy: list, list: ['1.0']}\n"
                               "  - name: anon\n"
                               "    image: reg.test:5000/private\n"
                               "    tags: {strategy: list, list: ['1.0']}\n";
    static const char *const want[] = {
        "anon reg.test:5000/private:1.0 reg.test:5000/private:1.0-patched",
    };
    struct pf_config *cfg = parse(yaml);
    struct producer_plan plan = {0};

    (void)state;
    assert_int_equal(producer_plan_build(cfg, &catalog, &plan), 0);
    assert_jobs(&plan, want, PF_ARRAY_SIZE(want));
    assert_int_equal(plan.n_failures, 1);
    assert_string_equal(plan.failures[0].name, "bad");
    assert_non_null(strstr(plan.failures[0].reason, "authentication failed"));
    assert_true(warnings_mention(&plan, "image 'anon': cannot list tags"));
    assert_false(warnings_mention(&plan, "image 'bad'"));
    producer_plan_release(&plan);
    pf_config_free(cfg);
}

/* team-a/redis and team-b/redis both map to ghcr.io/myorg/redis: Copa lets them race. */
static void colliding_targets_are_refused(void **state)
{
    static const char yaml[] = "apiVersion: copa.sh/v1alpha1\n"
                               "kind: PatchConfig\n"
                               "target: {registry: ghcr.io/myorg}\n"
                               "images:\n"
                               "  - name: a\n"
                               "    image: reg.test:5000/team-a/redis\n"
                               "    tags: {strategy: list, list: ['7.2']}\n"
                               "  - name: b\n"
                               "    image: reg.test:5000/team-b/redis\n"
                               "    tags: {strategy: list, list: ['7.2']}\n";
    static const char *const want[] = {
        "a reg.test:5000/team-a/redis:7.2 ghcr.io/myorg/redis:7.2-patched",
    };
    struct pf_config *cfg = parse(yaml);
    struct producer_plan plan = {0};

    (void)state;
    assert_int_equal(producer_plan_build(cfg, &catalog, &plan), 0);
    assert_jobs(&plan, want, PF_ARRAY_SIZE(want));
    assert_int_equal(plan.n_failures, 1);
    assert_string_equal(plan.failures[0].name, "b");
    assert_non_null(strstr(plan.failures[0].reason, "ghcr.io/myorg/redis:7.2-patched"));
    assert_non_null(strstr(plan.failures[0].reason, "image 'a'"));
    producer_plan_release(&plan);
    pf_config_free(cfg);
}

static void latest_over_non_versions_uses_creation_time(void **state)
{
    static const char yaml[] = "apiVersion: copa.sh/v1alpha1\n"
                               "kind: PatchConfig\n"
                               "images:\n"
                               "  - name: app\n"
                               "    image: reg.test:5000/app\n"
                               "    tags: {strategy: latest}\n";
    static const char *const want[] = {
        "app reg.test:5000/app:main reg.test:5000/app:main-patched",
    };
    struct pf_config *cfg = parse(yaml);
    struct producer_plan plan = {0};

    (void)state;
    assert_int_equal(producer_plan_build(cfg, &catalog, &plan), 0);
    assert_jobs(&plan, want, PF_ARRAY_SIZE(want));
    producer_plan_release(&plan);
    pf_config_free(cfg);
}

/* Every allocation failure must come back as -ENOMEM, leaving a plan that releases cleanly. */
static void out_of_memory_everywhere(void **state)
{
    static const char yaml[] = "apiVersion: copa.sh/v1alpha1\n"
                               "kind: PatchConfig\n"
                               "target: {registry: ghcr.io/myorg}\n"
                               "images:\n"
                               "  - name: n\n"
                               "    image: reg.test:5000/nginx\n"
                               "    tags: {strategy: pattern, pattern: '^1\\.25', maxTags: 3}\n";
    struct pf_config *cfg = parse(yaml);
    unsigned long n;

    (void)state;
    for (n = 1;; n++) {
        struct producer_plan plan = {0};
        int r;
        pf_alloc_fail_at(n, false);
        r = producer_plan_build(cfg, &catalog, &plan);
        pf_alloc_fail_at(0, false);
        producer_plan_release(&plan);
        if (r == 0)
            break;
        assert_int_equal(r, -ENOMEM);
    }
    assert_true(n > 5);
    pf_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(copa_integration_case),
        cmocka_unit_test(targets_default_registry_repository),
        cmocka_unit_test(missing_list_tag_is_a_warning),
        cmocka_unit_test(listing_failure_fails_pattern_not_list),
        cmocka_unit_test(refused_credentials_fail_a_list),
        cmocka_unit_test(colliding_targets_are_refused),
        cmocka_unit_test(latest_over_non_versions_uses_creation_time),
        cmocka_unit_test(out_of_memory_everywhere),
    };
    return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
