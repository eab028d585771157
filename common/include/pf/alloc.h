/* SPDX-License-Identifier: Apache-2.0 */
/*
 * All allocation in patchfleet goes through these wrappers, so that tests can inject
 * out-of-memory at the Nth allocation and count what is live. They behave like their libc
 * namesakes; every one may return NULL and every caller checks.
 */
#ifndef PF_ALLOC_H
#define PF_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

#include "pf/setup.h"

void *pf_malloc(size_t n);
void *pf_calloc(size_t nmemb, size_t size);
void *pf_realloc(void *p, size_t n);
char *pf_strdup(const char *s);
char *pf_strndup(const char *s, size_t n);
/* pf_free() accepts NULL and returns NULL, so callers can write `p = pf_free(p);`. */
void *pf_free(void *p);

/* Returns a new string formatted like printf, or NULL on OOM. The caller frees it. */
char *pf_asprintf(const char *fmt, ...) PF_PRINTF(1, 2);
char *pf_vasprintf(const char *fmt, va_list ap) PF_PRINTF(1, 0);

/*
 * Makes room for `need` elements of `elem_size` bytes in the array whose address is `arrayp`
 * (a `T **`, passed as void * so that any element type fits) and whose capacity, in elements,
 * is *cap. Growth is geometric (the capacity doubles, starting at PF_GROW_FIRST) and jumps
 * straight to `need` when doubling is not enough. The byte size is overflow-checked: a request
 * that cannot be expressed in size_t is refused like an allocation that failed. Returns 0 (also
 * when the array is already big enough) or -ENOMEM; on failure the array and *cap are
 * untouched. Use it through PF_GROW(), which passes the element size of the array's type.
 */
int pf_grow(void *arrayp, size_t *cap, size_t need, size_t elem_size);
#define PF_GROW_FIRST 8
#define PF_GROW(array, cap, need) pf_grow(&(array), &(cap), (need), sizeof(*(array)))

/* Test hooks: fail the allocation numbered `n` (1-based) and every one after it while
 * `sticky`; n == 0 disables injection. pf_alloc_count() is the number of calls so far. */
void pf_alloc_fail_at(unsigned long n, bool sticky);
unsigned long pf_alloc_count(void);

#endif
