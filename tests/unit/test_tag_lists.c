/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pf/tag_lists.h against a small fake registry (pf_http_server) that counts the tag
 * listings it serves: many threads deciding jobs of a few repositories list each repository
 * once, a failed listing is shared with its reason, and a listing abandoned by a stopped
 * caller is made again by the next one.
 */
#include "pf_test.h"

#include <pthread.h>
#include <stdatomic.h>

#include "pf/http_server.h"
#include "pf/job.h"
#include "pf/registry.h"
#include "pf/strv.h"
#include "pf/tag_decision.h"
#include "pf/tag_lists.h"

struct fake {
    atomic_uint lists_ok, lists_missing, lists_broken, lists_other;
};

static int fake_handler(void *userdata, const char *method, const char *path,
                        const struct pf_http_request *req, struct pf_http_response *ret)
{
    struct fake *f = userdata;
    static const char ok_body[] = "{\"name\":\"team/app\",\"tags\":[\"1.0\",\"1.0-1\",\"2.0\"]}";
    static const char unknown[] = "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":"
                                  "\"repository name not known\"}]}";
    static const char broken[] = "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"storage on "
                                 "fire\"}]}";

    (void)req;
    ret->content_type = "application/json";
    ret->body_static = true;
    if (strcmp(method, "GET") != 0) {
        ret->status = 405;
        ret->body = (char *)(uintptr_t) "{}";
        ret->len = 2;
    } else if (strcmp(path, "/v2/team/app/tags/list") == 0) {
        atomic_fetch_add(&f->lists_ok, 1);
        ret->status = 200;
        ret->body = (char *)(uintptr_t)ok_body;
        ret->len = sizeof(ok_body) - 1;
    } else if (strcmp(path, "/v2/team/new/tags/list") == 0 ||
               strncmp(path, "/v2/other/", 10) == 0) {
        atomic_fetch_add(strcmp(path, "/v2/team/new/tags/list") == 0 ? &f->lists_missing
                                                                     : &f->lists_other,
                         1);
        ret->status = 404;
        ret->body = (char *)(uintptr_t)unknown;
        ret->len = sizeof(unknown) - 1;
    } else if (strcmp(path, "/v2/team/broken/tags/list") == 0) {
        atomic_fetch_add(&f->lists_broken, 1);
        ret->status = 500;
        ret->body = (char *)(uintptr_t)broken;
        ret->len = sizeof(broken) - 1;
    } else {
        ret->status = 404;
        ret->body = (char *)(uintptr_t) "{}";
        ret->len = 2;
    }
    return 0;
}

struct env {
    struct fake fake;
    struct pf_http_server *srv;
    struct pf_registry *reg;
    struct pf_tag_lists *lists;
    char addr[64];
};

static int setup(void **state)
{
    struct env *e = pf_calloc(1, sizeof(*e));
    struct pf_registry_options o;
    char err[256];

    assert_non_null(e);
    assert_int_equal(pf_http_server_start("127.0.0.1:0", fake_handler, &e->fake, &e->srv, e->addr,
                                          sizeof(e->addr), err, sizeof(err)),
                     0);
    pf_registry_options_init(&o);
    o.max_retries = 0; /* the listing's own attempts are under test, not the client's */
    assert_int_equal(pf_registry_new(&o, &e->reg, err, sizeof(err)), 0);
    assert_int_equal(pf_tag_lists_new(&e->lists), 0);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;

    pf_tag_lists_free(e->lists);
    pf_registry_free(e->reg);
    pf_http_server_stop(e->srv);
    pf_free(e);
    return 0;
}

static char *repo_of(const struct env *e, const char *name)
{
    char *s = pf_asprintf("%s/%s", e->addr, name);

    assert_non_null(s);
    return s;
}

#define THREADS 8
#define JOBS_PER_THREAD 40

struct decider {
    struct env *e;
    int id;
    int failures;
};

/* Decides JOBS_PER_THREAD jobs spread over two repositories that exist and one that does not
 * yet, checking every decision. */
static void *decide_many(void *arg)
{
    struct decider *d = arg;
    char *ok = repo_of(d->e, "team/app"), *fresh = repo_of(d->e, "team/new");

    for (int i = 0; i < JOBS_PER_THREAD; i++) {
        struct pf_job job = {0};
        struct pf_tag_decision dec = {0};
        char err[256] = "";
        bool existing = (i + d->id) % 2 == 0;
        const char *want = existing ? "1.0-2" : "1.0";

        job.target_repo = existing ? ok : fresh;
        job.target_tag = (char *)"1.0";
        job.source = (char *)"src/app:1.0";
        if (pf_tag_decision_for_job(d->e->reg, d->e->lists, NULL, &job, NULL, NULL, &dec, err,
                                    sizeof(err)) != 0 ||
            !dec.tag || strcmp(dec.tag, want) != 0 || dec.warning)
            d->failures++;
        pf_tag_decision_release(&dec);
    }
    pf_free(ok);
    pf_free(fresh);
    return NULL;
}

static void one_listing_per_repository(void **state)
{
    struct env *e = *state;
    pthread_t t[THREADS];
    struct decider d[THREADS];

    for (int i = 0; i < THREADS; i++) {
        d[i] = (struct decider){e, i, 0};
        assert_int_equal(pthread_create(&t[i], NULL, decide_many, &d[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(d[i].failures, 0);
    }
    /* 320 decisions, two repositories: two listings at the registry. */
    assert_int_equal(atomic_load(&e->fake.lists_ok), 1);
    assert_int_equal(atomic_load(&e->fake.lists_missing), 1);
    assert_int_equal(pf_tag_lists_made(e->lists), 2);
}

static void shared_listing_content(void **state)
{
    struct env *e = *state;
    const struct pf_strv *tags = NULL, *again = NULL;
    char *repo = repo_of(e, "team/app"), err[256] = "";

    assert_int_equal(pf_tag_lists_get(e->lists, e->reg, repo, NULL, NULL, &tags, err, sizeof(err)),
                     0);
    assert_non_null(tags);
    assert_int_equal(tags->n, 3);
    assert_string_equal(tags->v[0], "1.0");
    assert_string_equal(tags->v[2], "2.0");
    assert_int_equal(pf_tag_lists_get(e->lists, e->reg, repo, NULL, NULL, &again, err, sizeof(err)),
                     0);
    assert_ptr_equal(tags, again);
    assert_int_equal(atomic_load(&e->fake.lists_ok), 1);
    pf_free(repo);
}

/* A failing repository: retried PF_TAG_LISTS_ATTEMPTS times by the first caller, then every
 * caller gets the same reason at once, and decisions fail open with it as the warning. */
static void failure_is_shared(void **state)
{
    struct env *e = *state;
    const struct pf_strv *tags = (const struct pf_strv *)1;
    char *repo = repo_of(e, "team/broken"), err[256] = "", err2[256] = "";
    struct pf_job job = {.source = (char *)"src/app:1.0",
                         .target_repo = repo,
                         .target_tag = (char *)"1.0"};
    struct pf_tag_decision dec = {0};

    assert_true(pf_tag_lists_get(e->lists, e->reg, repo, NULL, NULL, &tags, err, sizeof(err)) < 0);
    assert_null(tags);
    assert_non_null(strstr(err, "storage on fire"));
    assert_int_equal(atomic_load(&e->fake.lists_broken), PF_TAG_LISTS_ATTEMPTS);
    assert_true(pf_tag_lists_get(e->lists, e->reg, repo, NULL, NULL, &tags, err2, sizeof(err2)) <
                0);
    assert_string_equal(err, err2);
    assert_int_equal(pf_tag_decision_for_job(e->reg, e->lists, NULL, &job, NULL, NULL, &dec, err,
                                             sizeof(err)),
                     0);
    assert_string_equal(dec.tag, "1.0"); /* fail-open: the base tag, with a warning */
    assert_non_null(dec.warning);
    assert_non_null(strstr(dec.warning, "storage on fire"));
    pf_tag_decision_release(&dec);
    assert_int_equal(atomic_load(&e->fake.lists_broken), PF_TAG_LISTS_ATTEMPTS);
    assert_int_equal(pf_tag_lists_made(e->lists), 1);
    pf_free(repo);
}

static bool always_stop(void *userdata)
{
    (void)userdata;
    return true;
}

/* A caller stopped during a failing listing keeps no answer: the next caller lists again. */
static void stopped_listing_not_kept(void **state)
{
    struct env *e = *state;
    const struct pf_strv *tags = NULL;
    char *repo = repo_of(e, "team/broken"), err[256] = "";

    assert_true(pf_tag_lists_get(e->lists, e->reg, repo, always_stop, NULL, &tags, err,
                                 sizeof(err)) < 0);
    assert_int_equal(atomic_load(&e->fake.lists_broken), 1); /* no retries once stopped */
    assert_true(pf_tag_lists_get(e->lists, e->reg, repo, NULL, NULL, &tags, err, sizeof(err)) < 0);
    assert_int_equal(atomic_load(&e->fake.lists_broken), 1 + PF_TAG_LISTS_ATTEMPTS);
    assert_int_equal(pf_tag_lists_made(e->lists), 2);
    pf_free(repo);
}

/* Many repositories: the table grows past its first buckets and still finds every listing. */
static void many_repositories(void **state)
{
    struct env *e = *state;
    char err[256];

    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 300; i++) {
            const struct pf_strv *tags = NULL;
            char *repo = pf_asprintf("%s/other/r%d", e->addr, i);

            assert_non_null(repo);
            assert_int_equal(pf_tag_lists_get(e->lists, e->reg, repo, NULL, NULL, &tags, err,
                                              sizeof(err)),
                             0);
            assert_non_null(tags);
            assert_int_equal(tags->n, 0); /* not there yet: no tags */
            pf_free(repo);
        }
    assert_int_equal(atomic_load(&e->fake.lists_other), 300);
    assert_int_equal(pf_tag_lists_made(e->lists), 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(one_listing_per_repository, setup, teardown),
        cmocka_unit_test_setup_teardown(shared_listing_content, setup, teardown),
        cmocka_unit_test_setup_teardown(failure_is_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(stopped_listing_not_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(many_repositories, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
