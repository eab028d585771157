/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable vector of owned strings, the workhorse of tag lists, platform lists and warning
 * lists. v[n] is always NULL once anything was pushed, so the array can be handed to code that
 * wants a NULL-terminated list.
 */
#ifndef PF_STRV_H
#define PF_STRV_H

#include "pf/setup.h"

struct pf_strv {
    char **v;
    size_t n;
    size_t cap;
};

#define PF_STRV_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Copies `s` in. Returns 0 or -ENOMEM (the vector is unchanged then). */
int pf_strv_push(struct pf_strv *sv, const char *s);
/* Steals `s` (freed on failure too). Returns 0 or -ENOMEM. */
int pf_strv_push_take(struct pf_strv *sv, char *s);
/* Formats and pushes. Returns 0 or -ENOMEM. */
int pf_strv_pushf(struct pf_strv *sv, const char *fmt, ...) PF_PRINTF(2, 3);
/* Returns the index of `s` or -1. */
long pf_strv_find(const struct pf_strv *sv, const char *s);
bool pf_strv_contains(const struct pf_strv *sv, const char *s);
/* Copies every string of `src` onto the end of `dst`. Returns 0 or -ENOMEM. */
int pf_strv_extend(struct pf_strv *dst, const struct pf_strv *src);
/* Frees the strings and the array; leaves an empty vector that can be reused. */
void pf_strv_clear(struct pf_strv *sv);
/* Joins with `sep` into a new string; NULL on OOM. An empty vector gives "". */
char *pf_strv_join(const struct pf_strv *sv, const char *sep);

#endif
