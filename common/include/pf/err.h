/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The errbuf convention: functions return a negative errno and, when the caller passed a
 * buffer, a human reason in it. pf_set_error() does both in one expression:
 *     return pf_set_error(errbuf, errlen, -EINVAL, "bad digest '%s'", d);
 */
#ifndef PF_ERR_H
#define PF_ERR_H

#include "pf/setup.h"

#include <stdio.h>

/* Formats into errbuf (when non-NULL and errlen > 0) and returns `r` unchanged. */
int pf_set_error(char *errbuf, size_t errlen, int r, const char *fmt, ...) PF_PRINTF(4, 5);

#ifdef __clang_analyzer__
/* For the static analyzer only (tests/lint/static_checks.sh): it does not follow calls into
 * variadic functions, so without this it would not know that pf_set_error() returns `r`, and
 * it would walk `return pf_set_error(..., -ENOTDIR, ...)` as a success that left the
 * out-parameters unset. The model writes errbuf and returns r; sizeof keeps the format and its
 * arguments type-checked and "used" without evaluating them. Never seen by the compiler. */
#define pf_set_error(errbuf, errlen, r, ...)                                                       \
    (((errbuf) && (errlen) ? (void)((errbuf)[0] = '\0') : (void)0),                                \
     (void)sizeof(printf(__VA_ARGS__)), (r))
#endif

/* Puts the formatted text in front of the reason already in errbuf (so a caller can say which
 * file a callee's "line 3: ..." is about), truncating at errlen; returns `r` unchanged. Leaves
 * errbuf as it is when NULL, empty-sized, or out of memory. */
int pf_prefix_error(char *errbuf, size_t errlen, int r, const char *fmt, ...) PF_PRINTF(4, 5);

#endif
