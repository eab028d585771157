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

/* Test hooks: fail the allocation numbered `n` (1-based) and every one after it while
 * `sticky`; n == 0 disables injection. pf_alloc_count() is the number of calls so far. */
void pf_alloc_fail_at(unsigned long n, bool sticky);
unsigned long pf_alloc_count(void);

#endif
