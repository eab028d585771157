/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The errbuf helper; see pf/err.h.
 */
#include "pf/setup.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/err.h"

int(pf_set_error)(char *errbuf, size_t errlen, int r, const char *fmt,
                  ...) /* (name): not the analyzer model */
{
    va_list ap;

    if (errbuf && errlen) {
        va_start(ap, fmt);
        (void)vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return r;
}

int pf_prefix_error(char *errbuf, size_t errlen, int r, const char *fmt, ...)
{
    va_list ap;
    char *reason;
    int n;

    if (!errbuf || !errlen || !(reason = pf_strdup(errbuf)))
        return r;
    va_start(ap, fmt);
    n = vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < errlen)
        (void)snprintf(errbuf + n, errlen - (size_t)n, "%s", reason);
    pf_free(reason);
    return r;
}
