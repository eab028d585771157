/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable byte buffer with a hard maximum. Everything a peer sends us (HTTP bodies,
 * manifests, config files) lands in one of these, and the maximum is what stops a hostile or
 * broken peer from making us allocate without bound. The content is always NUL-terminated so
 * text can be used in place.
 */
#ifndef PF_BUF_H
#define PF_BUF_H

#include <stdarg.h>

#include "pf/setup.h"

struct pf_buf {
    char *p;
    size_t len;
    size_t cap;
    size_t max; /* 0 means PF_BUF_DEFAULT_MAX */
};

#define PF_BUF_DEFAULT_MAX ((size_t)64 << 20)
#define PF_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

void pf_buf_init(struct pf_buf *b, size_t max);
/* Appends; returns 0, -ENOMEM, or -E2BIG when the maximum would be passed (buffer unchanged). */
int pf_buf_append(struct pf_buf *b, const void *data, size_t len);
int pf_buf_appends(struct pf_buf *b, const char *s);
int pf_buf_appendf(struct pf_buf *b, const char *fmt, ...) PF_PRINTF(2, 3);
/* Empties the buffer, keeping its memory. */
void pf_buf_reset(struct pf_buf *b);
/* Frees the memory; the buffer can be reused. */
void pf_buf_release(struct pf_buf *b);
/* Hands the content to the caller (NUL-terminated, never NULL unless OOM) and empties the buffer. */
char *pf_buf_steal(struct pf_buf *b, size_t *ret_len);
/* Reads a whole file into `b`; returns 0 or a negative errno (-E2BIG past the maximum). */
int pf_buf_read_file(struct pf_buf *b, const char *path);

#endif
