/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation wrappers. They exist for one reason: an OOM torture test can make allocation
 * number N fail and check that every caller turns that into -ENOMEM without leaking. The
 * counters are atomics because worker threads allocate too.
 */
#include "pf/setup.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf/alloc.h"

static atomic_ulong alloc_calls;
static atomic_ulong alloc_fail_at;
static atomic_bool alloc_fail_sticky;

static bool should_fail(void)
{
    unsigned long n = atomic_fetch_add(&alloc_calls, 1) + 1;
    unsigned long at = atomic_load(&alloc_fail_at);

    if (at == 0)
        return false;
    return n == at || (n > at && atomic_load(&alloc_fail_sticky));
}

void pf_alloc_fail_at(unsigned long n, bool sticky)
{
    atomic_store(&alloc_calls, 0);
    atomic_store(&alloc_fail_sticky, sticky);
    atomic_store(&alloc_fail_at, n);
}

unsigned long pf_alloc_count(void)
{
    return atomic_load(&alloc_calls);
}

void *pf_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *pf_calloc(size_t nmemb, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *pf_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

char *pf_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = pf_malloc(len + 1);

    if (!d)
        return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *pf_strdup(const char *s)
{
    return pf_strndup(s, strlen(s));
}

void *pf_free(void *p)
{
    free(p);
    return NULL;
}

int pf_grow(void *arrayp, size_t *cap, size_t need, size_t elem_size)
{
    size_t max = SIZE_MAX / (elem_size ? elem_size : 1), ncap;
    void *old, *p;

    if (need <= *cap)
        return 0;
    if (need > max)
        return -ENOMEM;
    ncap = *cap == 0 ? PF_GROW_FIRST : *cap > max / 2 ? max : *cap * 2;
    if (ncap < need)
        ncap = need;
    /* The array pointer is read and written as bytes: `arrayp` points at a T *, not a void *,
     * and memcpy is the aliasing-safe way to treat one as the other. */
    memcpy(&old, arrayp, sizeof(old));
    p = pf_realloc(old, ncap * elem_size);
    if (!p)
        return -ENOMEM;
    memcpy(arrayp, &p, sizeof(p));
    *cap = ncap;
    return 0;
}

char *pf_vasprintf(const char *fmt, va_list ap)
{
    va_list aq;
    int n;
    char *s;

    va_copy(aq, ap);
    n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0)
        return NULL;
    s = pf_malloc((size_t)n + 1);
    if (!s)
        return NULL;
    (void)vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *pf_asprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = pf_vasprintf(fmt, ap);
    va_end(ap);
    return s;
}
