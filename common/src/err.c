/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The errbuf helper; see pf/err.h.
 */
#include "pf/setup.h"

#include <stdarg.h>
#include <stdio.h>

#include "pf/err.h"

int pf_set_error(char *errbuf, size_t errlen, int r, const char *fmt, ...)
{
    va_list ap;

    if (errbuf && errlen) {
        va_start(ap, fmt);
        (void)vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return r;
}
