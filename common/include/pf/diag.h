/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Diagnostics: a list of problems found in a user's input, each with the file, line and
 * column it refers to. Parsers collect every problem instead of stopping at the first, and
 * the caller prints them all as `FILE:LINE:COL: severity: message`, the format editors and
 * CI log viewers already understand.
 */
#ifndef PF_DIAG_H
#define PF_DIAG_H

#include <stdio.h>

#include "pf/setup.h"

enum pf_diag_severity {
    PF_DIAG_ERROR,
    PF_DIAG_WARNING,
    PF_DIAG__MAX,
};

struct pf_diag {
    enum pf_diag_severity severity;
    unsigned line; /* 1-based; 0 when the problem has no position (e.g. an unreadable file) */
    unsigned col;  /* 1-based; 0 when unknown */
    char *msg;
};

struct pf_diags {
    char *file; /* the name diagnostics refer to; owned */
    struct pf_diag *v;
    size_t n;
    size_t cap;
    size_t n_errors;
};

/* Initialises an empty list for `file` (copied). Returns 0 or -ENOMEM. */
int pf_diags_init(struct pf_diags *d, const char *file);
void pf_diags_release(struct pf_diags *d);
/* Adds one diagnostic. Returns 0 or -ENOMEM. */
int pf_diags_add(struct pf_diags *d, enum pf_diag_severity sev, unsigned line, unsigned col,
                 const char *fmt, ...) PF_PRINTF(5, 6);
/* Sorts by position (stable) so output follows the file top to bottom. */
void pf_diags_sort(struct pf_diags *d);
/* Prints every diagnostic, one per line. */
void pf_diags_print(const struct pf_diags *d, FILE *out);
/* Formats one diagnostic as printed; a new string or NULL on OOM. */
char *pf_diag_format(const struct pf_diags *d, const struct pf_diag *g);

#endif
