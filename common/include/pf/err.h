/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The errbuf convention: functions return a negative errno and, when the caller passed a
 * buffer, a human reason in it. pf_set_error() does both in one expression:
 *     return pf_set_error(errbuf, errlen, -EINVAL, "bad digest '%s'", d);
 */
#ifndef PF_ERR_H
#define PF_ERR_H

#include "pf/setup.h"

/* Formats into errbuf (when non-NULL and errlen > 0) and returns `r` unchanged. */
int pf_set_error(char *errbuf, size_t errlen, int r, const char *fmt, ...) PF_PRINTF(4, 5);

/* Puts the formatted text in front of the reason already in errbuf (so a caller can say which
 * file a callee's "line 3: ..." is about), truncating at errlen; returns `r` unchanged. Leaves
 * errbuf as it is when NULL, empty-sized, or out of memory. */
int pf_prefix_error(char *errbuf, size_t errlen, int r, const char *fmt, ...) PF_PRINTF(4, 5);

#endif
