/* SPDX-License-Identifier: Apache-2.0 */
/*
 * String vector. Growth doubles, so pushing n strings costs O(n) amortised; the capacity is
 * bounded by memory only, and callers that take input from peers bound n themselves.
 */
#include "pf/setup.h"

#include <stdarg.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/strv.h"

static int strv_reserve(struct pf_strv *sv, size_t want)
{
    if (want == SIZE_MAX)
        return -ENOMEM;
    return PF_GROW(sv->v, sv->cap, want + 1); /* + 1: v[n] stays NULL */
}

int pf_strv_push_take(struct pf_strv *sv, char *s)
{
    if (!s)
        return -ENOMEM;
    if (strv_reserve(sv, sv->n + 1) < 0) {
        pf_free(s);
        return -ENOMEM;
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
    return 0;
}

int pf_strv_push(struct pf_strv *sv, const char *s)
{
    return pf_strv_push_take(sv, pf_strdup(s));
}

int pf_strv_pushf(struct pf_strv *sv, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = pf_vasprintf(fmt, ap);
    va_end(ap);
    return pf_strv_push_take(sv, s);
}

long pf_strv_find(const struct pf_strv *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i], s) == 0)
            return (long)i;
    return -1;
}

bool pf_strv_contains(const struct pf_strv *sv, const char *s)
{
    return pf_strv_find(sv, s) >= 0;
}

int pf_strv_extend(struct pf_strv *dst, const struct pf_strv *src)
{
    for (size_t i = 0; i < src->n; i++) {
        int r = pf_strv_push(dst, src->v[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

void pf_strv_clear(struct pf_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        pf_free(sv->v[i]);
    pf_free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

char *pf_strv_join(const struct pf_strv *sv, const char *sep)
{
    size_t seplen = strlen(sep), len = 0, off = 0;
    char *out;

    for (size_t i = 0; i < sv->n; i++)
        len += strlen(sv->v[i]) + (i ? seplen : 0);
    out = pf_malloc(len + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < sv->n; i++) {
        size_t l = strlen(sv->v[i]);
        if (i) {
            memcpy(out + off, sep, seplen);
            off += seplen;
        }
        memcpy(out + off, sv->v[i], l);
        off += l;
    }
    out[off] = '\0';
    return out;
}
