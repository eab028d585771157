/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dry-run plan cache (see plan_cache.h): a map of remembered plans (pf_hashmap, which
 * borrows each entry's key), with an LRU list through the entries so a full cache drops the least recently
 * used plan in O(1). One mutex guards both; copies in and out are made under it, so a caller
 * never holds a pointer into the cache. Split out of the job runner, which only asks and offers.
 */
#include "pf/setup.h"

#include <pthread.h>
#include <stdint.h>

#include "pf/alloc.h"
#include "pf/hashmap.h"
#include "pf/oci.h"
#include "engine/engine.h"
#include "job/patch_job.h"
#include "job/plan_cache.h"

/* One remembered plan. Entries are in the map (which borrows `key`) and in the LRU list (most
 * recent at head). */
struct plan_entry {
    struct plan_entry *prev, *next;
    char *key;
    struct pf_platform platform; /* single-manifest keys: the platform read from the config */
    char *os;
    struct worker_engine_upgrade *upgrades;
    size_t n_upgrades;
};

struct worker_plan_cache {
    pthread_mutex_t lock;
    struct pf_hashmap map; /* key -> struct plan_entry */
    struct plan_entry *head, *tail;
    size_t capacity;
    uint64_t hits, misses;
};

static void plan_entry_free(struct plan_entry *e)
{
    struct worker_engine_result er = {0};

    er.upgrades = e->upgrades;
    er.n_upgrades = e->n_upgrades;
    worker_engine_result_release(&er);
    pf_platform_release(&e->platform);
    pf_free(e->os);
    pf_free(e->key);
    pf_free(e);
}

int worker_plan_cache_new(size_t capacity, struct worker_plan_cache **ret)
{
    struct worker_plan_cache *c;

    if (capacity == 0 || capacity > SIZE_MAX / 4)
        return -EINVAL;
    c = pf_calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->capacity = capacity;
    (void)pthread_mutex_init(&c->lock, NULL);
    *ret = c;
    return 0;
}

struct worker_plan_cache *worker_plan_cache_free(struct worker_plan_cache *c)
{
    struct plan_entry *e, *next;

    if (!c)
        return NULL;
    for (e = c->head; e; e = next) {
        next = e->next;
        plan_entry_free(e);
    }
    (void)pthread_mutex_destroy(&c->lock);
    pf_hashmap_release(&c->map);
    pf_free(c);
    return NULL;
}

void worker_plan_cache_stats(struct worker_plan_cache *c, uint64_t *hits, uint64_t *misses)
{
    (void)pthread_mutex_lock(&c->lock);
    *hits = c->hits;
    *misses = c->misses;
    (void)pthread_mutex_unlock(&c->lock);
}

static void lru_unlink(struct worker_plan_cache *c, struct plan_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(struct worker_plan_cache *c, struct plan_entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

/* Unlinks `e` from the map and the LRU list (caller holds the lock). */
static void plan_remove(struct worker_plan_cache *c, struct plan_entry *e)
{
    (void)pf_hashmap_remove(&c->map, e->key, NULL);
    lru_unlink(c, e);
}

/* The entry for `key`, moved to the front of the LRU list, or NULL (caller holds the lock). */
static struct plan_entry *plan_find(struct worker_plan_cache *c, const char *key)
{
    struct plan_entry *e = pf_hashmap_get(&c->map, key);

    if (e) {
        lru_unlink(c, e);
        lru_push_front(c, e);
    }
    return e;
}

static int dup_upgrades(const struct worker_engine_upgrade *v, size_t n,
                        struct worker_engine_upgrade **ret)
{
    struct worker_engine_result er = {0};

    if (n == 0) {
        *ret = NULL;
        return 0;
    }
    er.upgrades = pf_calloc(n, sizeof(*er.upgrades));
    if (!er.upgrades)
        return -ENOMEM;
    er.n_upgrades = n;
    for (size_t i = 0; i < n; i++) {
        struct worker_engine_upgrade *u = &er.upgrades[i];

        u->name = v[i].name ? pf_strdup(v[i].name) : NULL;
        u->arch = v[i].arch ? pf_strdup(v[i].arch) : NULL;
        u->from = v[i].from ? pf_strdup(v[i].from) : NULL;
        u->to = v[i].to ? pf_strdup(v[i].to) : NULL;
        if ((v[i].name && !u->name) || (v[i].arch && !u->arch) || (v[i].from && !u->from) ||
            (v[i].to && !u->to)) {
            worker_engine_result_release(&er);
            return -ENOMEM;
        }
    }
    *ret = er.upgrades;
    return 0;
}

char *worker_plan_cache_key(const char *engine, const char *digest, const char *platform)
{
    return pf_asprintf("%s %s %s", engine, digest, platform ? platform : "single");
}

/* Frees what a lookup copied out before it could be handed over. */
static void plan_release(char *os, struct worker_engine_upgrade *upgrades, size_t n_upgrades)
{
    struct worker_engine_result er = {0};

    /* The upgrades are shaped like an engine result's: let its destructor free them. */
    er.upgrades = upgrades;
    er.n_upgrades = n_upgrades;
    worker_engine_result_release(&er);
    pf_free(os);
}

int worker_plan_cache_get(struct worker_plan_cache *c, const char *key,
                          struct worker_patch_platform_result *pr, struct pf_platform *pl)
{
    struct worker_patch_platform_result got = {0};
    struct pf_platform plc = {0};
    struct plan_entry *e;
    int r = 0;

    (void)pthread_mutex_lock(&c->lock);
    e = plan_find(c, key);
    if (e) {
        got.os = e->os ? pf_strdup(e->os) : NULL;
        r = e->os && !got.os ? -ENOMEM : dup_upgrades(e->upgrades, e->n_upgrades, &got.upgrades);
        got.n_upgrades = e->n_upgrades;
        if (r == 0 && pl)
            r = pf_platform_copy(&e->platform, &plc);
        r = r < 0 ? r : 1;
    }
    if (r == 1)
        c->hits++;
    else if (r == 0)
        c->misses++;
    (void)pthread_mutex_unlock(&c->lock);
    if (r < 0) {
        plan_release(got.os, got.upgrades, got.n_upgrades);
        pf_platform_release(&plc);
        return r;
    }
    if (r == 1) {
        pr->os = got.os;
        pr->upgrades = got.upgrades;
        pr->n_upgrades = got.n_upgrades;
        if (pl)
            *pl = plc;
    }
    return r;
}

int worker_plan_cache_put(struct worker_plan_cache *c, const char *key,
                          const struct pf_platform *pl,
                          const struct worker_patch_platform_result *pr)
{
    struct plan_entry *e = pf_calloc(1, sizeof(*e)), *old;

    if (!e)
        return -ENOMEM;
    e->key = pf_strdup(key);
    e->os = pr->os ? pf_strdup(pr->os) : NULL;
    if (!e->key || (pr->os && !e->os) || pf_platform_copy(pl, &e->platform) < 0 ||
        dup_upgrades(pr->upgrades, pr->n_upgrades, &e->upgrades) < 0) {
        plan_entry_free(e);
        return -ENOMEM;
    }
    e->n_upgrades = pr->n_upgrades;
    (void)pthread_mutex_lock(&c->lock);
    /* Room first, so that the add below cannot fail after an entry was evicted. */
    if (pf_hashmap_reserve(&c->map, c->map.n + 1) < 0) {
        (void)pthread_mutex_unlock(&c->lock);
        plan_entry_free(e);
        return -ENOMEM;
    }
    old = plan_find(c, key);
    if (old)
        plan_remove(c, old);
    else if (c->map.n == c->capacity)
        plan_remove(c, old = c->tail);
    (void)pf_hashmap_add(&c->map, e->key, e);
    lru_push_front(c, e);
    (void)pthread_mutex_unlock(&c->lock);
    if (old)
        plan_entry_free(old);
    return 0;
}
