/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small map from strings to void * values: open addressing with linear probing over a
 * power-of-two table kept at most half full, FNV-1a hashing, and removal by backward shift
 * (no tombstones, so lookups stay short after many removals). Keys are BORROWED: the map stores
 * the caller's pointer and never copies or frees it, so a key must stay alive and unchanged
 * while it is in the map. That fits every user (the key is a field of the value it maps to)
 * and means the map allocates nothing per entry, only its table when it grows.
 * Not thread-safe; callers that share a map lock around it.
 */
#ifndef PF_HASHMAP_H
#define PF_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

#include "pf/setup.h"

/* One table slot. An empty slot has key == NULL. Users may change `value` through a slot that
 * pf_hashmap_find() or pf_hashmap_next() returned; key and hash belong to the map. */
struct pf_hashmap_slot {
    const char *key;
    void *value;
    uint64_t hash;
};

/* Embeddable; all zeroes is an empty map that allocates on its first add. */
struct pf_hashmap {
    struct pf_hashmap_slot *slots;
    size_t cap; /* 0 or a power of two */
    size_t n;
};

#define PF_HASHMAP_INIT                                                                            \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* The map's hash of `key` (64-bit FNV-1a). */
uint64_t pf_hashmap_hash(const char *key);

/* Frees the table (not the keys or values) and leaves an empty, reusable map. */
void pf_hashmap_release(struct pf_hashmap *m);

/* Grows the table so that `n` entries fit without another allocation. Returns 0 or -ENOMEM
 * (also when the size would overflow); the map is unchanged on failure. */
int pf_hashmap_reserve(struct pf_hashmap *m, size_t n);

/* The slot holding `key` (a borrowed pointer, valid until the next add, reserve or remove),
 * or NULL. */
struct pf_hashmap_slot *pf_hashmap_find(const struct pf_hashmap *m, const char *key);

/* The value of `key`, or NULL when absent (use pf_hashmap_find() when NULL is a value). */
void *pf_hashmap_get(const struct pf_hashmap *m, const char *key);

/* Adds `key` (borrowed, see above) with `value` when it is absent. Returns 1 when added, 0 when
 * the key was present (the map and its value are left as they were), or -ENOMEM (the map is
 * unchanged). */
int pf_hashmap_add(struct pf_hashmap *m, const char *key, void *value);

/* Removes `key`. Returns 1 and sets *ret_value (when not NULL) if it was present, else 0. */
int pf_hashmap_remove(struct pf_hashmap *m, const char *key, void **ret_value);

/* Iteration in table order: start with *iter = 0 and call until NULL. The map must not be
 * added to or removed from meanwhile. Returns a borrowed slot. */
struct pf_hashmap_slot *pf_hashmap_next(const struct pf_hashmap *m, size_t *iter);

#endif
