/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The string map of pf/hashmap.h. Each slot keeps the full 64-bit hash beside the borrowed key,
 * so a probe compares strings only on a hash match and a resize never hashes a key again. The
 * table stays at most half full, which keeps linear probe runs short and guarantees every probe
 * meets an empty slot; removal shifts the following run back instead of leaving tombstones.
 */
#include "pf/setup.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/hashmap.h"

#define FIRST_CAP 16

uint64_t pf_hashmap_hash(const char *key)
{
    uint64_t h = 1469598103934665603ULL;

    for (const unsigned char *s = (const unsigned char *)key; *s; s++)
        h = (h ^ *s) * 1099511628211ULL;
    return h;
}

void pf_hashmap_release(struct pf_hashmap *m)
{
    pf_free(m->slots);
    *m = (struct pf_hashmap)PF_HASHMAP_INIT;
}

/* The slot holding `key` (hash `h`), or the empty slot where it would go. Needs cap > 0. */
static size_t probe(const struct pf_hashmap *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1, i = (size_t)h & mask;

    while (m->slots[i].key && (m->slots[i].hash != h || strcmp(m->slots[i].key, key) != 0))
        i = (i + 1) & mask;
    return i;
}

int pf_hashmap_reserve(struct pf_hashmap *m, size_t n)
{
    struct pf_hashmap_slot *ns;
    size_t ncap = m->cap ? m->cap : FIRST_CAP;

    while (ncap / 2 < n) {
        if (ncap > SIZE_MAX / 2 / sizeof(*ns))
            return -ENOMEM;
        ncap *= 2;
    }
    if (ncap == m->cap)
        return 0;
    ns = pf_calloc(ncap, sizeof(*ns));
    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        size_t j;

        if (!m->slots[i].key)
            continue;
        for (j = (size_t)m->slots[i].hash & (ncap - 1); ns[j].key; j = (j + 1) & (ncap - 1))
            ;
        ns[j] = m->slots[i];
    }
    pf_free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

struct pf_hashmap_slot *pf_hashmap_find(const struct pf_hashmap *m, const char *key)
{
    size_t i;

    if (m->n == 0)
        return NULL;
    i = probe(m, key, pf_hashmap_hash(key));
    return m->slots[i].key ? &m->slots[i] : NULL;
}

void *pf_hashmap_get(const struct pf_hashmap *m, const char *key)
{
    struct pf_hashmap_slot *s = pf_hashmap_find(m, key);

    return s ? s->value : NULL;
}

int pf_hashmap_add(struct pf_hashmap *m, const char *key, void *value)
{
    uint64_t h = pf_hashmap_hash(key);
    size_t i;
    int r;

    /* Probe before growing: a key already present needs no room and must not fail on OOM. */
    if (m->cap) {
        i = probe(m, key, h);
        if (m->slots[i].key)
            return 0;
    }
    if (m->cap == 0 || m->n + 1 > m->cap / 2) {
        r = pf_hashmap_reserve(m, m->n + 1);
        if (r < 0)
            return r;
    }
    i = probe(m, key, h);
    m->slots[i] = (struct pf_hashmap_slot){key, value, h};
    m->n++;
    return 1;
}

int pf_hashmap_remove(struct pf_hashmap *m, const char *key, void **ret_value)
{
    size_t mask, i, j;

    if (m->n == 0)
        return 0;
    mask = m->cap - 1;
    i = probe(m, key, pf_hashmap_hash(key));
    if (!m->slots[i].key)
        return 0;
    if (ret_value)
        *ret_value = m->slots[i].value;
    /* Backward shift: walk the run after the hole; an entry whose home slot is not cyclically
     * within (hole, j] would become unreachable behind the hole, so it moves into it. */
    for (j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        size_t k = (size_t)m->slots[j].hash & mask;
        bool reachable = i <= j ? (i < k && k <= j) : (i < k || k <= j);

        if (reachable)
            continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    m->slots[i] = (struct pf_hashmap_slot){0};
    m->n--;
    return 1;
}

struct pf_hashmap_slot *pf_hashmap_next(const struct pf_hashmap *m, size_t *iter)
{
    for (size_t i = *iter; i < m->cap; i++)
        if (m->slots[i].key) {
            *iter = i + 1;
            return &m->slots[i];
        }
    *iter = m->cap;
    return NULL;
}
