/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tag templates: the subset of Go's text/template that Copa's target.tag can meaningfully use.
 * A template is literal text and actions; the only action is {{ .SourceTag }} (any spacing,
 * optional trim markers "{{- " and " -}}" which, as in Go, strip the whitespace of the
 * neighbouring text). One walker serves both checking and rendering, so the two can never
 * disagree about what a template means. Every refusal names the byte offset where it starts.
 */
#include "pf/setup.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/ref.h"
#include "pf/template.h"

#define FIELD_NAME "SourceTag"
/* How much of an offending word an error message quotes. */
#define QUOTE_MAX 32

/* Go's isSpace for trim markers: space, tab, CR, LF. */
static bool is_go_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_ident(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_go_keyword(const char *w, size_t n)
{
    static const char *const kw[] = {"if",       "else",  "end",   "range",    "with", "define",
                                     "template", "block", "break", "continue", "nil"};

    for (size_t i = 0; i < PF_ARRAY_SIZE(kw); i++)
        if (strlen(kw[i]) == n && memcmp(kw[i], w, n) == 0)
            return true;
    return false;
}

static int fail(size_t at, size_t *ret_offset, char *errbuf, size_t errlen, const char *fmt, ...)
    PF_PRINTF(5, 6);

static int fail(size_t at, size_t *ret_offset, char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (ret_offset)
        *ret_offset = at;
    if (errbuf && errlen) {
        va_start(ap, fmt);
        (void)vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/*
 * Checks the inside of one action, tmpl[b, e) with markers already removed. Returns 0 when it
 * is exactly .SourceTag surrounded by whitespace, else -EINVAL naming the first bad byte.
 */
static int check_action(const char *tmpl, size_t open, size_t b, size_t e, size_t *ret_offset,
                        char *errbuf, size_t errlen)
{
    size_t w;

    while (b < e && is_go_space(tmpl[b]))
        b++;
    while (e > b && is_go_space(tmpl[e - 1]))
        e--;
    if (b == e)
        return fail(open, ret_offset, errbuf, errlen,
                    "empty action: only {{ .SourceTag }} is allowed");
    if (tmpl[b] == '.') {
        for (w = b + 1; w < e && is_ident(tmpl[w]); w++)
            ;
        if (w == b + 1)
            return fail(b, ret_offset, errbuf, errlen,
                        "'.' is not supported: only .SourceTag is available");
        if (w - b - 1 != strlen(FIELD_NAME) || memcmp(tmpl + b + 1, FIELD_NAME, w - b - 1) != 0)
            return fail(b, ret_offset, errbuf, errlen,
                        "unknown field .%.*s: only .SourceTag is available",
                        (int)(w - b - 1 > QUOTE_MAX ? QUOTE_MAX : w - b - 1), tmpl + b + 1);
        while (w < e && is_go_space(tmpl[w]))
            w++;
        if (w != e)
            return fail(w, ret_offset, errbuf, errlen,
                        "unexpected '%.*s' after .SourceTag: only {{ .SourceTag }} is allowed",
                        (int)(e - w > QUOTE_MAX ? QUOTE_MAX : e - w), tmpl + w);
        return 0;
    }
    if (is_ident(tmpl[b]) && !(tmpl[b] >= '0' && tmpl[b] <= '9')) {
        for (w = b; w < e && is_ident(tmpl[w]); w++)
            ;
        if (is_go_keyword(tmpl + b, w - b))
            return fail(b, ret_offset, errbuf, errlen,
                        "control structures are not supported ('%.*s'): only {{ .SourceTag }} "
                        "is allowed",
                        (int)(w - b), tmpl + b);
        return fail(b, ret_offset, errbuf, errlen,
                    "functions are not supported ('%.*s'): only {{ .SourceTag }} is allowed",
                    (int)(w - b > QUOTE_MAX ? QUOTE_MAX : w - b), tmpl + b);
    }
    if (tmpl[b] == '/' && b + 1 < e && tmpl[b + 1] == '*')
        return fail(b, ret_offset, errbuf, errlen, "comments are not supported");
    if (tmpl[b] == '$')
        return fail(b, ret_offset, errbuf, errlen, "variables are not supported");
    return fail(b, ret_offset, errbuf, errlen,
                "unexpected '%c' in action: only {{ .SourceTag }} is allowed", tmpl[b]);
}

/*
 * Walks `tmpl`; when `out` is not NULL, appends the rendering for `source_tag` to it.
 * Returns 0, -EINVAL (reason and offset set), -E2BIG (output past its maximum), or -ENOMEM.
 */
static int template_walk(const char *tmpl, const char *source_tag, struct pf_buf *out,
                         size_t *ret_offset, char *errbuf, size_t errlen)
{
    size_t i = 0, n_fields = 0;
    bool trim_next = false;
    int r = 0;

    for (;;) {
        const char *open_p = strstr(tmpl + i, "{{");
        size_t lit_end = open_p ? (size_t)(open_p - tmpl) : strlen(tmpl);
        size_t open, b, e, close;
        bool trim_left, trim_right;
        const char *close_p;

        /* A right trim marker on the previous action eats the leading whitespace here. */
        if (trim_next)
            while (i < lit_end && is_go_space(tmpl[i]))
                i++;
        if (!open_p) {
            if (out)
                r = pf_buf_append(out, tmpl + i, lit_end - i);
            if (r < 0)
                return r;
            break;
        }
        open = lit_end;
        b = open + 2;
        trim_left = tmpl[b] == '-' && is_go_space(tmpl[b + 1]);
        if (trim_left) {
            b++;
            while (lit_end > i && is_go_space(tmpl[lit_end - 1]))
                lit_end--;
        }
        if (out)
            r = pf_buf_append(out, tmpl + i, lit_end - i);
        if (r < 0)
            return r;
        close_p = strstr(tmpl + b, "}}");
        if (!close_p)
            return fail(open, ret_offset, errbuf, errlen, "unclosed action: '{{' without '}}'");
        close = (size_t)(close_p - tmpl);
        e = close;
        trim_right = e >= b + 2 && tmpl[e - 1] == '-' && is_go_space(tmpl[e - 2]);
        if (trim_right)
            e--;
        r = check_action(tmpl, open, b, e, ret_offset, errbuf, errlen);
        if (r < 0)
            return r;
        if (out)
            r = pf_buf_appends(out, source_tag);
        if (r < 0)
            return r;
        n_fields++;
        trim_next = trim_right;
        i = close + 2;
    }
    if (n_fields == 0)
        return fail(0, ret_offset, errbuf, errlen, "template must contain {{ .SourceTag }}");
    return 0;
}

int pf_template_check(const char *tmpl, size_t *ret_offset, char *errbuf, size_t errlen)
{
    return template_walk(tmpl, NULL, NULL, ret_offset, errbuf, errlen);
}

int pf_template_render(const char *tmpl, const char *source_tag, char **ret, char *errbuf,
                       size_t errlen)
{
    struct pf_buf b;
    char *s;
    int r;

    /* A valid tag is at most 128 bytes; anything far beyond that is refused below anyway. */
    pf_buf_init(&b, (size_t)64 << 10);
    r = template_walk(tmpl, source_tag, &b, NULL, errbuf, errlen);
    if (r == -E2BIG) {
        r = fail(0, NULL, errbuf, errlen, "rendered tag is too long");
        goto out;
    }
    if (r < 0)
        goto out;
    if (!b.p || !pf_tag_is_valid(b.p)) {
        r = fail(0, NULL, errbuf, errlen,
                 "rendered tag '%.*s' is not a valid tag (expected "
                 "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})",
                 (int)(b.len > 160 ? 160 : b.len), b.p ? b.p : "");
        goto out;
    }
    s = pf_buf_steal(&b, NULL);
    if (!s) {
        r = -ENOMEM;
        goto out;
    }
    *ret = s;
out:
    pf_buf_release(&b);
    return r;
}
