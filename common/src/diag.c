/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Diagnostics list; see pf/diag.h.
 */
#include "pf/setup.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/diag.h"

int pf_diags_init(struct pf_diags *d, const char *file)
{
    memset(d, 0, sizeof(*d));
    d->file = pf_strdup(file ? file : "<input>");
    return d->file ? 0 : -ENOMEM;
}

void pf_diags_release(struct pf_diags *d)
{
    for (size_t i = 0; i < d->n; i++)
        pf_free(d->v[i].msg);
    pf_free(d->v);
    pf_free(d->file);
    memset(d, 0, sizeof(*d));
}

int pf_diags_add(struct pf_diags *d, enum pf_diag_severity sev, unsigned line, unsigned col,
                 const char *fmt, ...)
{
    va_list ap;
    char *msg;

    if (PF_GROW(d->v, d->cap, d->n + 1) < 0)
        return -ENOMEM;
    va_start(ap, fmt);
    msg = pf_vasprintf(fmt, ap);
    va_end(ap);
    if (!msg)
        return -ENOMEM;
    d->v[d->n++] = (struct pf_diag){.severity = sev, .line = line, .col = col, .msg = msg};
    if (sev == PF_DIAG_ERROR)
        d->n_errors++;
    return 0;
}

void pf_diags_sort(struct pf_diags *d)
{
    /* Insertion sort: stable, and lists are short (one entry per problem in a config). */
    for (size_t i = 1; i < d->n; i++) {
        struct pf_diag g = d->v[i];
        size_t j = i;
        while (j > 0 && (d->v[j - 1].line > g.line ||
                         (d->v[j - 1].line == g.line && d->v[j - 1].col > g.col))) {
            d->v[j] = d->v[j - 1];
            j--;
        }
        d->v[j] = g;
    }
}

static const char *const severity_names[PF_DIAG__MAX] = {
    [PF_DIAG_ERROR] = "error",
    [PF_DIAG_WARNING] = "warning",
};

char *pf_diag_format(const struct pf_diags *d, const struct pf_diag *g)
{
    if (g->line == 0)
        return pf_asprintf("%s: %s: %s", d->file, severity_names[g->severity], g->msg);
    if (g->col == 0)
        return pf_asprintf("%s:%u: %s: %s", d->file, g->line, severity_names[g->severity], g->msg);
    return pf_asprintf("%s:%u:%u: %s: %s", d->file, g->line, g->col, severity_names[g->severity],
                       g->msg);
}

void pf_diags_print(const struct pf_diags *d, FILE *out)
{
    for (size_t i = 0; i < d->n; i++) {
        char *line = pf_diag_format(d, &d->v[i]);
        if (line)
            fprintf(out, "%s\n", line);
        else
            fprintf(out, "%s: %s\n", d->file, d->v[i].msg);
        pf_free(line);
    }
}
