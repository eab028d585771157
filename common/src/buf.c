/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded byte buffer; see pf/buf.h for why every buffer has a maximum.
 */
#include "pf/setup.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/buf.h"

void pf_buf_init(struct pf_buf *b, size_t max)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

static int buf_reserve(struct pf_buf *b, size_t add)
{
    size_t max = b->max ? b->max : PF_BUF_DEFAULT_MAX;
    size_t want;

    if (add > max || b->len > max - add)
        return -E2BIG;
    want = b->len + add + 1;
    if (want <= b->cap)
        return 0;
    /* A first block of 256 bytes: most buffers hold a line or a small document. */
    return PF_GROW(b->p, b->cap, want < 256 ? 256 : want);
}

int pf_buf_append(struct pf_buf *b, const void *data, size_t len)
{
    int r = buf_reserve(b, len);

    if (r < 0)
        return r;
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    /* buf_reserve() succeeded, so p holds at least len + 1 bytes; the analyzer cannot know that
     * cap > 0 implies p != NULL. NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
    b->p[b->len] = '\0';
    return 0;
}

int pf_buf_appends(struct pf_buf *b, const char *s)
{
    return pf_buf_append(b, s, strlen(s));
}

int pf_buf_appendf(struct pf_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, r;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    r = buf_reserve(b, (size_t)n);
    if (r < 0)
        return r;
    va_start(ap, fmt);
    (void)vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void pf_buf_reset(struct pf_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

void pf_buf_release(struct pf_buf *b)
{
    b->p = pf_free(b->p);
    b->len = b->cap = 0;
}

char *pf_buf_steal(struct pf_buf *b, size_t *ret_len)
{
    char *p;

    if (!b->p && buf_reserve(b, 0) < 0)
        return NULL;
    p = b->p;
    if (ret_len)
        *ret_len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

int pf_buf_read_file(struct pf_buf *b, const char *path)
{
    char chunk[16384];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int r = 0;

    if (fd < 0)
        return -errno;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        if (n == 0)
            break;
        r = pf_buf_append(b, chunk, (size_t)n);
        if (r < 0)
            break;
    }
    (void)close(fd);
    if (r == 0 && !b->p)
        r = pf_buf_append(b, "", 0);
    return r;
}
