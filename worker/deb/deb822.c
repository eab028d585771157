/* SPDX-License-Identifier: Apache-2.0 */
/*
 * deb822 stanza parser. One pass over the lines: a blank (whitespace-only) line ends a
 * paragraph, a line starting with a space or tab continues the previous field, anything else
 * opens a field "Name: value". The paragraph's raw text is kept so that dpkg_db can rewrite a
 * status file without re-serialising stanzas it did not change. Limits are checked while
 * scanning, before anything proportional to the input is allocated.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pf/alloc.h"
#include "deb/deb822.h"

struct parser {
    struct worker_deb822_opts o;
    struct worker_deb822_doc doc;
    struct worker_deb822_para *cur; /* paragraph being filled, or NULL */
    const char *para_start;
    size_t line;
    char *errbuf;
    size_t errlen;
};

static int fail(struct parser *p, int r, const char *msg)
{
    if (p->errbuf && p->errlen > 0)
        snprintf(p->errbuf, p->errlen, "line %zu: %s", p->line, msg);
    return r;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

void worker_deb822_para_clear(struct worker_deb822_para *para)
{
    if (!para)
        return;
    for (size_t i = 0; i < para->n_fields; i++) {
        pf_free(para->fields[i].name);
        pf_free(para->fields[i].value);
    }
    pf_free(para->fields);
    pf_free(para->raw);
    memset(para, 0, sizeof(*para));
}

void worker_deb822_doc_clear(struct worker_deb822_doc *doc)
{
    if (!doc)
        return;
    for (size_t i = 0; i < doc->n; i++)
        worker_deb822_para_clear(&doc->paras[i]);
    pf_free(doc->paras);
    doc->paras = NULL;
    doc->n = doc->cap = 0;
}

const struct worker_deb822_field *worker_deb822_para_field(const struct worker_deb822_para *para,
                                                           const char *name)
{
    for (size_t i = 0; i < para->n_fields; i++)
        if (strcasecmp(para->fields[i].name, name) == 0)
            return &para->fields[i];
    return NULL;
}

const char *worker_deb822_para_get(const struct worker_deb822_para *para, const char *name)
{
    const struct worker_deb822_field *f = worker_deb822_para_field(para, name);

    return f ? f->value : NULL;
}

static int open_para(struct parser *p, const char *ls)
{
    if (p->doc.n >= p->o.max_paras)
        return fail(p, -E2BIG, "too many paragraphs");
    if (PF_GROW(p->doc.paras, p->doc.cap, p->doc.n + 1) < 0)
        return -ENOMEM;
    p->cur = &p->doc.paras[p->doc.n++];
    memset(p->cur, 0, sizeof(*p->cur));
    p->cur->line = p->line;
    p->para_start = ls;
    return 0;
}

/* Closes the open paragraph at `end` (the start of the line after it). */
static int close_para(struct parser *p, const char *end)
{
    size_t n = (size_t)(end - p->para_start);
    bool add_nl = n == 0 || p->para_start[n - 1] != '\n';
    char *raw = pf_malloc(n + 2);

    if (!raw)
        return -ENOMEM;
    memcpy(raw, p->para_start, n);
    if (add_nl)
        raw[n++] = '\n';
    raw[n] = '\0';
    p->cur->raw = raw;
    p->cur->raw_len = n;
    p->cur = NULL;
    return 0;
}

static char *dup_trimmed(const char *s, const char *e)
{
    while (s < e && is_blank(*s))
        s++;
    while (e > s && is_blank(e[-1]))
        e--;
    return pf_strndup(s, (size_t)(e - s));
}

static int add_field(struct parser *p, const char *ls, const char *le)
{
    const char *colon = memchr(ls, ':', (size_t)(le - ls));
    struct worker_deb822_para *para;
    struct worker_deb822_field *f;
    int r;

    if (!colon)
        return fail(p, -EINVAL, "field has no ':'");
    if (colon == ls || *ls == '-' || *ls == '#')
        return fail(p, -EINVAL, "invalid field name");
    for (const char *c = ls; c < colon; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c > '~')
            return fail(p, -EINVAL, "invalid character in field name");
    if (!p->cur) {
        r = open_para(p, ls);
        if (r < 0)
            return r;
    }
    para = p->cur;
    if (para->n_fields >= p->o.max_fields)
        return fail(p, -E2BIG, "too many fields in paragraph");
    for (size_t i = 0; i < para->n_fields; i++) {
        size_t nl = strlen(para->fields[i].name);

        if (nl == (size_t)(colon - ls) && strncasecmp(para->fields[i].name, ls, nl) == 0)
            return fail(p, -EINVAL, "duplicate field");
    }
    if (PF_GROW(para->fields, para->cap, para->n_fields + 1) < 0)
        return -ENOMEM;
    f = &para->fields[para->n_fields];
    f->name = pf_strndup(ls, (size_t)(colon - ls));
    f->value = dup_trimmed(colon + 1, le);
    f->line = p->line;
    if (!f->name || !f->value) {
        f->name = pf_free(f->name);
        f->value = pf_free(f->value);
        return -ENOMEM;
    }
    para->n_fields++;
    return 0;
}

static int add_continuation(struct parser *p, const char *ls, const char *le)
{
    struct worker_deb822_field *f;
    size_t old, add;
    char *nv;

    if (!p->cur || p->cur->n_fields == 0)
        return fail(p, -EINVAL, "continuation line outside a field");
    f = &p->cur->fields[p->cur->n_fields - 1];
    while (le > ls && is_blank(le[-1]))
        le--;
    old = strlen(f->value);
    add = (size_t)(le - ls);
    nv = pf_realloc(f->value, old + add + 2);
    if (!nv)
        return -ENOMEM;
    nv[old] = '\n';
    memcpy(nv + old + 1, ls, add);
    nv[old + 1 + add] = '\0';
    f->value = nv;
    return 0;
}

static int parse_line(struct parser *p, const char *ls, const char *le)
{
    const char *c = ls;

    while (c < le && is_blank(*c))
        c++;
    if (c == le)
        return p->cur ? close_para(p, ls) : 0;
    if (p->cur && (size_t)(le - p->para_start) > p->o.max_para_bytes)
        return fail(p, -E2BIG, "paragraph too large");
    if (*ls == '#') {
        if (!p->o.allow_comments)
            return fail(p, -EINVAL, "comment line not allowed here");
        return 0;
    }
    if (*ls == ' ' || *ls == '\t')
        return add_continuation(p, ls, le);
    if ((size_t)(le - ls) > p->o.max_para_bytes)
        return fail(p, -E2BIG, "line too long");
    return add_field(p, ls, le);
}

static void set_limits(struct worker_deb822_opts *o, const struct worker_deb822_opts *in)
{
    if (in)
        *o = *in;
    else
        memset(o, 0, sizeof(*o));
    if (o->max_input == 0)
        o->max_input = WORKER_DEB822_DEFAULT_MAX_INPUT;
    if (o->max_paras == 0)
        o->max_paras = WORKER_DEB822_DEFAULT_MAX_PARAS;
    if (o->max_fields == 0)
        o->max_fields = WORKER_DEB822_DEFAULT_MAX_FIELDS;
    if (o->max_para_bytes == 0)
        o->max_para_bytes = WORKER_DEB822_DEFAULT_MAX_PARA_BYTES;
}

int worker_deb822_parse(const char *text, size_t len, const struct worker_deb822_opts *opts,
                        struct worker_deb822_doc *ret, char *errbuf, size_t errlen)
{
    struct parser p = {.errbuf = errbuf, .errlen = errlen, .line = 1};
    const char *end = text + len, *ls = text, *nul;
    int r = 0;

    set_limits(&p.o, opts);
    if (len > p.o.max_input)
        return fail(&p, -E2BIG, "input too large");
    nul = memchr(text, '\0', len);
    if (nul) {
        for (const char *c = text; c < nul; c++)
            p.line += *c == '\n';
        return fail(&p, -EINVAL, "NUL byte in input");
    }
    while (ls < end) {
        const char *le = memchr(ls, '\n', (size_t)(end - ls));

        if (!le)
            le = end;
        r = parse_line(&p, ls, le);
        if (r < 0)
            goto out;
        ls = le < end ? le + 1 : end;
        p.line++;
    }
    if (p.cur)
        r = close_para(&p, end);
out:
    if (r < 0) {
        worker_deb822_doc_clear(&p.doc);
        return r;
    }
    *ret = p.doc;
    return 0;
}
