/* SPDX-License-Identifier: Apache-2.0 */
/* dpkg diversions (see worker/dpkg_diversions.h). */
#include "pf/setup.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "deb/dpkg_diversions.h"
#include "image/layer_view.h"

static int by_from(const void *a, const void *b)
{
    return strcmp(((const struct worker_dpkg_diversion *)a)->from,
                  ((const struct worker_dpkg_diversion *)b)->from);
}

static void diversion_release(struct worker_dpkg_diversion *d)
{
    pf_free(d->from);
    pf_free(d->to);
    pf_free(d->package);
}

/* The next line of [*p, end) into a new string (without the newline); NULL at the end. */
static char *next_line(const char **p, const char *end, int *r)
{
    const char *nl;
    char *s;

    if (*p >= end)
        return NULL;
    nl = memchr(*p, '\n', (size_t)(end - *p));
    s = pf_strndup(*p, (size_t)((nl ? nl : end) - *p));
    if (!s)
        *r = -ENOMEM;
    *p = nl ? nl + 1 : end;
    return s;
}

int worker_dpkg_diversions_parse(const char *text, size_t len, struct worker_dpkg_diversions *ret,
                                 char *errbuf, size_t errlen)
{
    struct worker_dpkg_diversions d = {0};
    const char *p = text, *end = text + len;
    size_t cap = 0;
    unsigned line = 1;
    int r = 0;

    while (r == 0 && p < end) {
        struct worker_dpkg_diversion x = {0};

        x.from = next_line(&p, end, &r);
        x.to = r == 0 ? next_line(&p, end, &r) : NULL;
        x.package = r == 0 ? next_line(&p, end, &r) : NULL;
        if (r == 0 && (!x.to || !x.package))
            r = pf_set_error(errbuf, errlen, -EINVAL,
                             "diversions line %u: a diversion is three lines (from, to, package)",
                             line);
        else if (r == 0 && (x.from[0] != '/' || x.to[0] != '/'))
            r = pf_set_error(errbuf, errlen, -EINVAL, "diversions line %u: paths must be absolute",
                             x.from[0] != '/' ? line : line + 1);
        else if (r == 0 && !x.package[0])
            r = pf_set_error(errbuf, errlen, -EINVAL, "diversions line %u: no package", line + 2);
        if (r == 0 && strcmp(x.package, ":") == 0)
            x.package = pf_free(x.package); /* local: diverts every package's file */
        if (r == 0)
            r = PF_GROW(d.v, cap, d.n + 1);
        if (r == 0)
            d.v[d.n++] = x;
        else
            diversion_release(&x);
        line += 3;
    }
    if (r < 0) {
        worker_dpkg_diversions_release(&d);
        return r;
    }
    if (d.n)
        qsort(d.v, d.n, sizeof(*d.v), by_from);
    *ret = d;
    return 0;
}

int worker_dpkg_diversions_load(const struct worker_layer_view *view,
                                struct worker_dpkg_diversions *ret, char *errbuf, size_t errlen)
{
    const char *text;
    size_t len;
    int r;

    memset(ret, 0, sizeof(*ret));
    r = worker_layer_view_read(view, WORKER_DPKG_DIVERSIONS_FILE, &text, &len);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return pf_set_error(errbuf, errlen, r, "cannot read /%s from the image: %s",
                            WORKER_DPKG_DIVERSIONS_FILE, strerror(-r));
    r = worker_dpkg_diversions_parse(text, len, ret, errbuf, errlen);
    return r == -EINVAL ? pf_prefix_error(errbuf, errlen, r, "/%s: ", WORKER_DPKG_DIVERSIONS_FILE)
                        : r;
}

const char *worker_dpkg_diversions_target(const struct worker_dpkg_diversions *d, const char *path,
                                          const char *package)
{
    struct worker_dpkg_diversion key = {.from = (char *)(uintptr_t)path};
    const struct worker_dpkg_diversion *x;

    if (!d || !d->n)
        return path;
    x = bsearch(&key, d->v, d->n, sizeof(*d->v), by_from);
    if (!x || (x->package && package && strcmp(x->package, package) == 0))
        return path;
    return x->to;
}

void worker_dpkg_diversions_release(struct worker_dpkg_diversions *d)
{
    for (size_t i = 0; i < d->n; i++)
        diversion_release(&d->v[i]);
    pf_free(d->v);
    memset(d, 0, sizeof(*d));
}
