/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for pf/hashmap.h: add/find/remove, growth, iteration, probe runs, OOM. */
#include "pf_test.h"

#include "pf/hashmap.h"

#define MANY 5000

/* MANY distinct keys, owned by the test (the map borrows them). */
static char **make_keys(void)
{
    char **k = pf_calloc(MANY, sizeof(*k));

    assert_non_null(k);
    for (size_t i = 0; i < MANY; i++) {
        k[i] = pf_asprintf("usr/lib/x86_64-linux-gnu/file-%zu.so", i);
        assert_non_null(k[i]);
    }
    return k;
}

static void free_keys(char **k)
{
    for (size_t i = 0; i < MANY; i++)
        pf_free(k[i]);
    pf_free(k);
}

static void add_find_get(void **state)
{
    struct pf_hashmap m = PF_HASHMAP_INIT;
    int a = 1, b = 2;
    char key[] = "etc/passwd";

    (void)state;
    assert_null(pf_hashmap_find(&m, "x"));
    assert_null(pf_hashmap_get(&m, "x"));
    assert_int_equal(pf_hashmap_remove(&m, "x", NULL), 0);
    assert_int_equal(pf_hashmap_add(&m, "etc/passwd", &a), 1);
    assert_int_equal(pf_hashmap_add(&m, "etc/group", &b), 1);
    assert_int_equal(m.n, 2);
    /* Found by content, not by pointer; a second add keeps the first value. */
    assert_ptr_equal(pf_hashmap_get(&m, key), &a);
    assert_int_equal(pf_hashmap_add(&m, key, &b), 0);
    assert_ptr_equal(pf_hashmap_get(&m, "etc/passwd"), &a);
    assert_int_equal(m.n, 2);
    /* NULL is a value like any other, told apart from absence by find. */
    assert_int_equal(pf_hashmap_add(&m, "", NULL), 1);
    assert_non_null(pf_hashmap_find(&m, ""));
    assert_null(pf_hashmap_get(&m, ""));
    pf_hashmap_find(&m, "etc/group")->value = &a;
    assert_ptr_equal(pf_hashmap_get(&m, "etc/group"), &a);
    assert_int_equal(pf_hashmap_hash(""), 1469598103934665603ULL);
    pf_hashmap_release(&m);
    assert_int_equal(m.n, 0);
    assert_null(pf_hashmap_find(&m, "etc/passwd"));
}

static void many_keys_grow_and_iterate(void **state)
{
    struct pf_hashmap m = PF_HASHMAP_INIT;
    char **k = make_keys();
    unsigned char *seen = pf_calloc(MANY, 1);
    struct pf_hashmap_slot *s;
    size_t it = 0, count = 0;

    (void)state;
    for (size_t i = 0; i < MANY; i++) {
        assert_int_equal(pf_hashmap_add(&m, k[i], k[i]), 1);
        /* Never more than half full, always a power of two. */
        assert_true(m.n * 2 <= m.cap);
        assert_int_equal(m.cap & (m.cap - 1), 0);
    }
    assert_int_equal(m.n, MANY);
    for (size_t i = 0; i < MANY; i++)
        assert_ptr_equal(pf_hashmap_get(&m, k[i]), k[i]);
    assert_null(pf_hashmap_get(&m, "usr/lib/x86_64-linux-gnu/file-5000.so"));
    while ((s = pf_hashmap_next(&m, &it))) {
        size_t i;

        assert_int_equal(sscanf(s->key, "usr/lib/x86_64-linux-gnu/file-%zu.so", &i), 1);
        assert_true(i < MANY);
        assert_int_equal(seen[i], 0);
        seen[i] = 1;
        count++;
    }
    assert_int_equal(count, MANY);
    assert_null(pf_hashmap_next(&m, &it));
    pf_hashmap_release(&m);
    pf_free(seen);
    free_keys(k);
}

/* Removal must keep every other key reachable, whatever the shape of the probe runs: remove in
 * a scattered order, checking all keys after each step, then add them back. */
static void remove_keeps_runs_reachable(void **state)
{
    struct pf_hashmap m = PF_HASHMAP_INIT;
    char **k = make_keys();
    unsigned char *in = pf_calloc(MANY, 1);
    void *v;

    (void)state;
    for (size_t i = 0; i < MANY; i++) {
        assert_int_equal(pf_hashmap_add(&m, k[i], (void *)(uintptr_t)i), 1);
        in[i] = 1;
    }
    for (size_t step = 0; step < MANY; step++) {
        size_t i = (step * 7919) % MANY; /* 7919 is prime and MANY is not a multiple of it */

        assert_int_equal(pf_hashmap_remove(&m, k[i], &v), 1);
        assert_int_equal((uintptr_t)v, i);
        in[i] = 0;
        assert_int_equal(pf_hashmap_remove(&m, k[i], NULL), 0);
        if (step % 97 == 0 || m.n < 64)
            for (size_t j = 0; j < MANY; j++)
                assert_int_equal(pf_hashmap_find(&m, k[j]) != NULL, in[j]);
    }
    assert_int_equal(m.n, 0);
    for (size_t i = 0; i < MANY; i++)
        assert_int_equal(pf_hashmap_add(&m, k[i], NULL), 1);
    assert_int_equal(m.n, MANY);
    pf_hashmap_release(&m);
    pf_free(in);
    free_keys(k);
}

/* In a 16-slot table, 8 keys put in one probe run that wraps past the end of the table, then
 * removed from its middle: what follows the hole must move back across the wrap. */
static void collisions_and_wraparound(void **state)
{
    struct pf_hashmap m = PF_HASHMAP_INIT;
    char keys[8][16];
    size_t found = 0;

    (void)state;
    assert_int_equal(pf_hashmap_reserve(&m, 8), 0);
    assert_int_equal(m.cap, 16);
    for (unsigned i = 0; found < 8 && i < 100000; i++) {
        (void)snprintf(keys[found], sizeof(keys[found]), "k%u", i);
        if ((pf_hashmap_hash(keys[found]) & 15) >= 14)
            found++;
    }
    assert_int_equal(found, 8);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(pf_hashmap_add(&m, keys[i], keys[i]), 1);
    assert_int_equal(m.cap, 16);
    for (size_t r = 0; r < 8; r++) {
        size_t i = (r * 3 + 1) % 8;

        assert_int_equal(pf_hashmap_remove(&m, keys[i], NULL), 1);
        keys[i][0] = '\0'; /* the map no longer holds it; mark it removed */
        for (size_t j = 0; j < 8; j++)
            if (keys[j][0])
                assert_ptr_equal(pf_hashmap_get(&m, keys[j]), keys[j]);
    }
    assert_int_equal(m.n, 0);
    pf_hashmap_release(&m);
}

static void oom_leaves_map_unchanged(void **state)
{
    struct pf_hashmap m = PF_HASHMAP_INIT;
    char **k = make_keys();
    size_t cap;

    (void)state;
    pf_alloc_fail_at(1, false);
    assert_int_equal(pf_hashmap_add(&m, k[0], NULL), -ENOMEM);
    assert_int_equal(m.n, 0);
    assert_null(m.slots);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(pf_hashmap_add(&m, k[i], k[i]), 1);
    cap = m.cap;
    /* The ninth key needs a bigger table; its allocation fails. */
    pf_alloc_fail_at(1, false);
    assert_int_equal(pf_hashmap_add(&m, k[8], k[8]), -ENOMEM);
    /* A key already present needs no room, so it does not fail. */
    pf_alloc_fail_at(1, false);
    assert_int_equal(pf_hashmap_add(&m, k[3], NULL), 0);
    pf_alloc_fail_at(0, false);
    assert_int_equal(m.cap, cap);
    assert_int_equal(m.n, 8);
    for (size_t i = 0; i < 8; i++)
        assert_ptr_equal(pf_hashmap_get(&m, k[i]), k[i]);
    assert_null(pf_hashmap_find(&m, k[8]));
    /* A size that cannot be expressed is refused before any allocation. */
    assert_int_equal(pf_hashmap_reserve(&m, SIZE_MAX / 2), -ENOMEM);
    assert_int_equal(pf_hashmap_reserve(&m, SIZE_MAX), -ENOMEM);
    assert_int_equal(m.cap, cap);
    pf_hashmap_release(&m);
    free_keys(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_find_get),
        cmocka_unit_test(many_keys_grow_and_iterate),
        cmocka_unit_test(remove_keeps_runs_reachable),
        cmocka_unit_test(collisions_and_wraparound),
        cmocka_unit_test(oom_leaves_map_unchanged),
    };
    return cmocka_run_group_tests_name("hashmap", tests, NULL, NULL);
}
