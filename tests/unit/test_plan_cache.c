/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dry-run plan cache of the job runner (job/plan_cache.h, worker_plan_cache_*): copies in
 * and out, the least recently used entry dropped first, replacement of a key, hit/miss counts,
 * and concurrent use from several threads (run under ASan/TSan to catch races and leaks). That
 * a cached dry run answers exactly as an uncached one is checked end to end by
 * tests/integration/fleet_kafka.sh (the workers cache, the local oracle run does not; rows and
 * plans must be equal).
 */
#include "pf_test.h"

#include <pthread.h>

#include "pf/oci.h"
#include "job/patch_job.h"
#include "job/plan_cache.h"

static struct worker_engine_upgrade ups[] = {
    {(char *)"libc6", (char *)"amd64", (char *)"2.36-9", (char *)"2.36-9+deb12u4"},
    {(char *)"tzdata", (char *)"all", (char *)"2023c-5", (char *)"2024a-0+deb12u1"},
};

static void put(struct worker_plan_cache *c, const char *key, char *os, size_t n)
{
    struct pf_platform pl = {(char *)"linux", (char *)"arm", (char *)"v7", NULL};
    struct worker_patch_platform_result pr = {0};

    pr.os = os;
    pr.upgrades = ups;
    pr.n_upgrades = n;
    assert_int_equal(worker_plan_cache_put(c, key, &pl, &pr), 0);
}

/* Looks `key` up; returns 1/0 as the cache and checks a hit's os and upgrade count. */
static int get(struct worker_plan_cache *c, const char *key, const char *want_os, size_t want_n)
{
    struct worker_patch_platform_result pr = {0};
    struct worker_engine_result er = {0};
    int r = worker_plan_cache_get(c, key, &pr, NULL);

    assert_true(r == 0 || r == 1);
    if (r == 0) {
        assert_null(pr.os);
        assert_null(pr.upgrades);
        return 0;
    }
    if (want_os)
        assert_string_equal(pr.os, want_os);
    else
        assert_null(pr.os);
    assert_int_equal(pr.n_upgrades, want_n);
    for (size_t i = 0; i < want_n; i++) {
        assert_ptr_not_equal(pr.upgrades[i].name, ups[i].name); /* a copy */
        assert_string_equal(pr.upgrades[i].name, ups[i].name);
        assert_string_equal(pr.upgrades[i].arch, ups[i].arch);
        assert_string_equal(pr.upgrades[i].from, ups[i].from);
        assert_string_equal(pr.upgrades[i].to, ups[i].to);
    }
    er.upgrades = pr.upgrades;
    er.n_upgrades = pr.n_upgrades;
    worker_engine_result_release(&er);
    pf_free(pr.os);
    return 1;
}

static void copies_platform_and_counts(void **state)
{
    struct worker_plan_cache *c = NULL;
    struct worker_patch_platform_result pr = {0};
    struct pf_platform pl = {0};
    uint64_t hits, misses;

    (void)state;
    assert_int_equal(worker_plan_cache_new(0, &c), -EINVAL);
    assert_null(c);
    assert_int_equal(worker_plan_cache_new(8, &c), 0);
    assert_int_equal(get(c, "deb sha256:aa single", NULL, 0), 0);
    put(c, "deb sha256:aa single", "debian 12", 2);
    put(c, "deb sha256:bb linux/amd64", NULL, 0); /* up to date, no os line: kept as is */
    assert_int_equal(get(c, "deb sha256:aa single", "debian 12", 2), 1);
    assert_int_equal(get(c, "deb sha256:bb linux/amd64", NULL, 0), 1);
    assert_int_equal(get(c, "apk sha256:aa single", NULL, 0), 0); /* engine is in the key */

    assert_int_equal(worker_plan_cache_get(c, "deb sha256:aa single", &pr, &pl), 1);
    assert_string_equal(pl.os, "linux");
    assert_string_equal(pl.architecture, "arm");
    assert_string_equal(pl.variant, "v7");
    pf_platform_release(&pl);
    {
        struct worker_engine_result er = {0};
        er.upgrades = pr.upgrades;
        er.n_upgrades = pr.n_upgrades;
        worker_engine_result_release(&er);
        pf_free(pr.os);
    }
    worker_plan_cache_stats(c, &hits, &misses);
    assert_int_equal(hits, 3);
    assert_int_equal(misses, 2);

    /* A newer plan of the same key replaces the old one. */
    put(c, "deb sha256:aa single", "debian 12", 1);
    assert_int_equal(get(c, "deb sha256:aa single", "debian 12", 1), 1);
    assert_null(worker_plan_cache_free(c));
    assert_null(worker_plan_cache_free(NULL));
}

static void drops_least_recently_used(void **state)
{
    struct worker_plan_cache *c = NULL;
    char key[64];

    (void)state;
    assert_int_equal(worker_plan_cache_new(3, &c), 0);
    put(c, "k1", "os", 1);
    put(c, "k2", "os", 1);
    put(c, "k3", "os", 1);
    assert_int_equal(get(c, "k1", "os", 1), 1); /* k1 is now the most recent: k2 goes next */
    put(c, "k4", "os", 1);
    assert_int_equal(get(c, "k2", NULL, 0), 0);
    assert_int_equal(get(c, "k1", "os", 1), 1);
    assert_int_equal(get(c, "k3", "os", 1), 1);
    assert_int_equal(get(c, "k4", "os", 1), 1);
    /* Many more keys than room: only the last three stay. */
    for (int i = 0; i < 100; i++) {
        (void)snprintf(key, sizeof(key), "n%d", i);
        put(c, key, "os", 2);
    }
    for (int i = 0; i < 100; i++) {
        (void)snprintf(key, sizeof(key), "n%d", i);
        assert_int_equal(get(c, key, "os", 2), i >= 97);
    }
    assert_int_equal(get(c, "k4", NULL, 0), 0);
    worker_plan_cache_free(c);
}

struct hammer {
    struct worker_plan_cache *c;
    int id;
};

static void *hammer_thread(void *arg)
{
    struct hammer *h = arg;
    char key[64];

    for (int i = 0; i < 2000; i++) {
        (void)snprintf(key, sizeof(key), "deb sha256:%02d single", (i * 7 + h->id) % 40);
        if (get(h->c, key, "debian 12", 2) == 0)
            put(h->c, key, "debian 12", 2);
    }
    return NULL;
}

static void concurrent_use(void **state)
{
    struct hammer h[4];
    pthread_t t[4];
    uint64_t hits, misses;

    (void)state;
    assert_int_equal(worker_plan_cache_new(16, &h[0].c), 0); /* smaller than the key set */
    for (int i = 0; i < 4; i++) {
        h[i].c = h[0].c;
        h[i].id = i;
        assert_int_equal(pthread_create(&t[i], NULL, hammer_thread, &h[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    worker_plan_cache_stats(h[0].c, &hits, &misses);
    assert_int_equal(hits + misses, 4 * 2000);
    assert_true(misses >= 40);
    worker_plan_cache_free(h[0].c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(copies_platform_and_counts),
        cmocka_unit_test(drops_least_recently_used),
        cmocka_unit_test(concurrent_use),
    };
    return cmocka_run_group_tests_name("plan_cache", tests, NULL, NULL);
}
