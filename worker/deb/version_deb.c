/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Debian version parsing and ordering, reproducing dpkg's lib/dpkg/parsehelp.c parseversion() and
 * lib/dpkg/version.c verrevcmp() (see docs/versions.md). Parsing works on spans of the caller's
 * string so that comparing, which the worker does for every installed package, never allocates;
 * only worker_deb_version_parse() copies the parts out. What dpkg reports as a warning (odd
 * characters, upstream not starting with a digit) is accepted here too, because
 * `dpkg --compare-versions` compares such versions and we must order them the same way.
 */
#include "pf/setup.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf/alloc.h"
#include "deb/version_deb.h"

/* One version split into spans of the input string. */
struct deb_span {
    unsigned int epoch;
    const char *up;
    size_t up_len;
    const char *rev;
    size_t rev_len;
};

/* Locale-independent classes, as dpkg's c_is*() helpers. */
static bool deb_isblank(char c)
{
    return c == ' ' || c == '\t';
}

static bool deb_isdigit(char c)
{
    return c >= '0' && c <= '9';
}

static bool deb_isalpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int deb_fail(char *errbuf, size_t errlen, int r, const char *msg)
{
    if (errbuf && errlen > 0)
        snprintf(errbuf, errlen, "%s", msg);
    return r;
}

/* Splits off the epoch as parseversion() does, with strtol() so that the same strings pass. */
static int deb_parse_epoch(const char *s, const char *colon, unsigned int *ret_epoch, char *errbuf,
                           size_t errlen)
{
    char *end = NULL;
    long epoch;

    errno = 0;
    epoch = strtol(s, &end, 10);
    if (end == s)
        return deb_fail(errbuf, errlen, -EINVAL, "epoch in version is empty");
    if (end != colon)
        return deb_fail(errbuf, errlen, -EINVAL, "epoch in version is not number");
    if (epoch < 0)
        return deb_fail(errbuf, errlen, -EINVAL, "epoch in version is negative");
    if (epoch > INT_MAX || errno == ERANGE)
        return deb_fail(errbuf, errlen, -EINVAL, "epoch in version is too big");
    *ret_epoch = (unsigned int)epoch;
    return 0;
}

/* The warnings of parseversion(); like dpkg, only the first one is reported. */
static int deb_check_chars(const struct deb_span *v, char *errbuf, size_t errlen)
{
    if (!deb_isdigit(v->up[0]))
        return deb_fail(errbuf, errlen, 1, "version number does not start with digit");
    for (size_t i = 1; i < v->up_len; i++) {
        char c = v->up[i];
        if (!deb_isdigit(c) && !deb_isalpha(c) && strchr(".-+~:", c) == NULL)
            return deb_fail(errbuf, errlen, 1, "invalid character in version number");
    }
    for (size_t i = 0; i < v->rev_len; i++) {
        char c = v->rev[i];
        if (!deb_isdigit(c) && !deb_isalpha(c) && strchr(".+~", c) == NULL)
            return deb_fail(errbuf, errlen, 1, "invalid character in revision number");
    }
    return 0;
}

/* Returns 0, 1 (accepted with a warning in errbuf) or -EINVAL; *ret is set unless -EINVAL. */
static int deb_split(const char *s, struct deb_span *ret, char *errbuf, size_t errlen)
{
    struct deb_span v = {.epoch = 0};
    const char *end, *p, *colon, *hyphen = NULL;
    int r;

    while (*s && deb_isblank(*s))
        s++;
    if (*s == '\0')
        return deb_fail(errbuf, errlen, -EINVAL, "version string is empty");
    for (end = s; *end && !deb_isblank(*end); end++)
        ;
    for (p = end; *p && deb_isblank(*p); p++)
        ;
    if (*p)
        return deb_fail(errbuf, errlen, -EINVAL, "version string has embedded spaces");

    colon = memchr(s, ':', (size_t)(end - s));
    if (colon) {
        r = deb_parse_epoch(s, colon, &v.epoch, errbuf, errlen);
        if (r < 0)
            return r;
        if (colon + 1 == end)
            return deb_fail(errbuf, errlen, -EINVAL, "nothing after colon in version number");
        s = colon + 1;
    }
    /* The revision follows the last hyphen, so upstream may itself contain hyphens. */
    for (p = s; p < end; p++)
        if (*p == '-')
            hyphen = p;
    v.up = s;
    v.up_len = (size_t)((hyphen ? hyphen : end) - s);
    v.rev = hyphen ? hyphen + 1 : end;
    v.rev_len = (size_t)(end - v.rev);
    if (hyphen && v.rev_len == 0)
        return deb_fail(errbuf, errlen, -EINVAL, "revision number is empty");
    if (v.up_len == 0)
        return deb_fail(errbuf, errlen, -EINVAL, "upstream version is empty");
    r = deb_check_chars(&v, errbuf, errlen);
    *ret = v;
    return r;
}

int worker_deb_version_parse(const char *s, struct worker_deb_version *ret, char *errbuf,
                             size_t errlen)
{
    struct deb_span v;
    char *mem;
    int r;

    r = deb_split(s, &v, errbuf, errlen);
    if (r < 0)
        return r;
    /* upstream NUL revision NUL in one block, so release has a single pointer to free. */
    mem = pf_malloc(v.up_len + v.rev_len + 2);
    if (!mem)
        return -ENOMEM;
    memcpy(mem, v.up, v.up_len);
    mem[v.up_len] = '\0';
    memcpy(mem + v.up_len + 1, v.rev, v.rev_len);
    mem[v.up_len + 1 + v.rev_len] = '\0';
    ret->epoch = v.epoch;
    ret->upstream = mem;
    ret->revision = mem + v.up_len + 1;
    return r;
}

void worker_deb_version_release(struct worker_deb_version *v)
{
    if (!v)
        return;
    v->upstream = pf_free(v->upstream);
    v->revision = NULL;
    v->epoch = 0;
}

/* dpkg's order(): '~' sorts before the end of the part, letters before every other character. */
static int deb_order(char c)
{
    if (deb_isdigit(c))
        return 0;
    if (deb_isalpha(c))
        return (unsigned char)c;
    if (c == '~')
        return -1;
    if (c)
        return (unsigned char)c + 256;
    return 0;
}

/* dpkg's verrevcmp() over two spans: alternating non-digit and digit runs. Returns <0, 0, >0. */
static int deb_verrevcmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i = 0, j = 0;

#define AT(s, n, k) ((k) < (n) ? (s)[k] : '\0')
    while (i < alen || j < blen) {
        int first_diff = 0;

        while ((i < alen && !deb_isdigit(a[i])) || (j < blen && !deb_isdigit(b[j]))) {
            int ac = deb_order(AT(a, alen, i));
            int bc = deb_order(AT(b, blen, j));
            if (ac != bc)
                return ac - bc;
            i++;
            j++;
        }
        while (AT(a, alen, i) == '0')
            i++;
        while (AT(b, blen, j) == '0')
            j++;
        while (deb_isdigit(AT(a, alen, i)) && deb_isdigit(AT(b, blen, j))) {
            if (!first_diff)
                first_diff = a[i] - b[j];
            i++;
            j++;
        }
        if (deb_isdigit(AT(a, alen, i)))
            return 1;
        if (deb_isdigit(AT(b, blen, j)))
            return -1;
        if (first_diff)
            return first_diff;
    }
#undef AT
    return 0;
}

static int deb_sign(int v)
{
    return (v > 0) - (v < 0);
}

static int deb_span_cmp(const struct deb_span *a, const struct deb_span *b)
{
    int r;

    if (a->epoch != b->epoch)
        return a->epoch > b->epoch ? 1 : -1;
    r = deb_verrevcmp(a->up, a->up_len, b->up, b->up_len);
    if (r)
        return deb_sign(r);
    return deb_sign(deb_verrevcmp(a->rev, a->rev_len, b->rev, b->rev_len));
}

int worker_deb_version_compare(const char *a, const char *b, int *ret_cmp)
{
    struct deb_span va, vb;

    if (deb_split(a, &va, NULL, 0) < 0 || deb_split(b, &vb, NULL, 0) < 0)
        return -EINVAL;
    *ret_cmp = deb_span_cmp(&va, &vb);
    return 0;
}

int worker_deb_version_cmp(const struct worker_deb_version *a, const struct worker_deb_version *b)
{
    struct deb_span va = {
        .epoch = a->epoch,
        .up = a->upstream,
        .up_len = strlen(a->upstream),
        .rev = a->revision,
        .rev_len = strlen(a->revision),
    };
    struct deb_span vb = {
        .epoch = b->epoch,
        .up = b->upstream,
        .up_len = strlen(b->upstream),
        .rev = b->revision,
        .rev_len = strlen(b->revision),
    };

    return deb_span_cmp(&va, &vb);
}
