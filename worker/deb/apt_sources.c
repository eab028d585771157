/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apt source list parsing after apt-pkg/sourcelist.cc: the one-line format is tokenised by
 * blanks with an optional "[ key=value ... ]" block after the type, and '#' starts a comment
 * outside that block; the deb822 format reuses the deb822 parser with '#' comments allowed.
 * Entries are built in a private list and appended only when the whole file parsed, so a bad
 * file leaves the caller's list as it was.
 */
#include "pf/setup.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "deb/apt_sources.h"
#include "deb/deb822.h"

#define KEY_BLOCK_BEGIN "-----BEGIN PGP PUBLIC KEY BLOCK-----"

void worker_apt_source_release(struct worker_apt_source *e)
{
    pf_free(e->uri);
    pf_free(e->suite);
    pf_strv_clear(&e->components);
    pf_strv_clear(&e->archs);
    pf_free(e->signed_by);
    pf_free(e->file);
    memset(e, 0, sizeof(*e));
}

void worker_apt_sources_clear(struct worker_apt_sources *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        worker_apt_source_release(&s->v[i]);
    pf_free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

static int reserve(struct worker_apt_sources *s, size_t extra)
{
    if (s->n + extra > WORKER_APT_SOURCES_MAX_ENTRIES)
        return -E2BIG;
    return PF_GROW(s->v, s->cap, s->n + extra);
}

/* Deep-copies `proto` with its uri and suite set, and appends it to `s`. */
static int push_entry(struct worker_apt_sources *s, const struct worker_apt_source *proto,
                      const char *file, const char *uri, const char *suite)
{
    struct worker_apt_source e = {.signed_by_inline = proto->signed_by_inline,
                                  .trusted = proto->trusted,
                                  .line = proto->line};
    size_t sl = strlen(suite);
    int r;

    r = reserve(s, 1);
    if (r < 0)
        return r;
    e.flat = sl > 0 && suite[sl - 1] == '/';
    e.uri = pf_strdup(uri);
    e.suite = pf_strdup(suite);
    e.file = pf_strdup(file);
    e.signed_by = proto->signed_by ? pf_strdup(proto->signed_by) : NULL;
    if (!e.uri || !e.suite || !e.file || (proto->signed_by && !e.signed_by))
        r = -ENOMEM;
    if (r == 0 && !e.flat)
        r = pf_strv_extend(&e.components, &proto->components);
    if (r == 0)
        r = pf_strv_extend(&e.archs, &proto->archs);
    if (r < 0) {
        worker_apt_source_release(&e);
        return r;
    }
    s->v[s->n++] = e;
    return 0;
}

/* Moves every entry of `tmp` onto `s`; returns the count moved or -E2BIG/-ENOMEM. A file with
 * no entries leaves both arrays unallocated, and memcpy from NULL is undefined even for 0 bytes:
 * nothing to move is returned before it. */
static int commit(struct worker_apt_sources *s, struct worker_apt_sources *tmp)
{
    int r;
    int n = (int)tmp->n;

    if (tmp->n == 0)
        return 0;
    r = reserve(s, tmp->n);
    if (r < 0)
        return r;
    memcpy(&s->v[s->n], tmp->v, tmp->n * sizeof(tmp->v[0]));
    s->n += tmp->n;
    tmp->n = 0;
    return n;
}

/* Splits a blank/newline separated list (commas too when `commas`) onto `out`. */
static int split_words(const char *v, bool commas, struct pf_strv *out)
{
    const char *sep = commas ? " \t\n," : " \t\n";

    while (*v) {
        size_t n;
        char *w;
        int r;

        v += strspn(v, sep);
        n = strcspn(v, sep);
        if (n == 0)
            break;
        w = pf_strndup(v, n);
        if (!w)
            return -ENOMEM;
        r = pf_strv_push_take(out, w);
        if (r < 0)
            return r;
        v += n;
    }
    return 0;
}

/* Returns the next blank-separated token of *s (NUL-terminating it in place), or NULL. */
static char *next_token(char **s)
{
    char *t = *s + strspn(*s, " \t\r"), *e;

    if (!*t)
        return NULL;
    e = t + strcspn(t, " \t\r");
    if (*e)
        *e++ = '\0';
    *s = e;
    return t;
}

/* Applies one "key=value" option of a one-line entry; unknown options are ignored as apt does. */
static int apply_option(struct worker_apt_source *e, char *opt)
{
    char *eq = strchr(opt, '=');
    char *key_end;

    if (!eq || eq == opt)
        return -EINVAL;
    key_end = eq;
    /* arch+= and arch-= adjust apt's default list; treat both as the arch set, "-=" aside. */
    if (key_end[-1] == '-')
        return 0;
    if (key_end[-1] == '+')
        key_end--;
    *key_end = '\0';
    if (strcmp(opt, "arch") == 0)
        return split_words(eq + 1, true, &e->archs);
    if (strcmp(opt, "signed-by") == 0) {
        char *v = pf_strdup(eq + 1);

        if (!v)
            return -ENOMEM;
        for (char *c = v; *c; c++)
            if (*c == ',')
                *c = ' ';
        pf_free(e->signed_by);
        e->signed_by = v;
        return 0;
    }
    if (strcmp(opt, "trusted") == 0)
        e->trusted = strcmp(eq + 1, "yes") == 0;
    return 0;
}

/* Parses the "[ ... ]" block starting at *s (just after '['). */
static int parse_options(struct worker_apt_source *e, char **s)
{
    char *close = strchr(*s, ']');
    char *p = *s, *opt;
    int r;

    if (!close)
        return -EINVAL;
    *close = '\0';
    *s = close + 1;
    while ((opt = next_token(&p)) != NULL) {
        r = apply_option(e, opt);
        if (r < 0)
            return r;
    }
    return 0;
}

static int parse_one_line(struct worker_apt_sources *tmp, struct worker_apt_source *e,
                          const char *file, char *line, const char **ret_why)
{
    char *s = line, *type, *uri, *suite, *comp;
    bool in_options = false;
    int r;

    /* '#' starts a comment, except inside the option block. */
    for (char *c = line; *c; c++) {
        if (*c == '[')
            in_options = true;
        else if (*c == ']')
            in_options = false;
        else if (*c == '#' && !in_options) {
            *c = '\0';
            break;
        }
    }
    type = next_token(&s);
    if (!type)
        return 0;
    if (strcmp(type, "deb") != 0 && strcmp(type, "deb-src") != 0) {
        *ret_why = "unknown type";
        return -EINVAL;
    }
    s += strspn(s, " \t");
    if (*s == '[') {
        s++;
        r = parse_options(e, &s);
        if (r < 0) {
            *ret_why = "malformed option block";
            return r;
        }
    }
    uri = next_token(&s);
    suite = next_token(&s);
    if (!uri || !suite) {
        *ret_why = "missing URI or suite";
        return -EINVAL;
    }
    while ((comp = next_token(&s)) != NULL) {
        r = pf_strv_push(&e->components, comp);
        if (r < 0)
            return r;
    }
    if ((suite[strlen(suite) - 1] == '/') != (e->components.n == 0)) {
        *ret_why = "a flat suite takes no components, any other suite needs one";
        return -EINVAL;
    }
    if (strcmp(type, "deb-src") == 0)
        return 0;
    return push_entry(tmp, e, file, uri, suite);
}

int worker_apt_sources_parse_list(struct worker_apt_sources *s, const char *file, const char *text,
                                  size_t len, char *errbuf, size_t errlen)
{
    struct worker_apt_sources tmp = WORKER_APT_SOURCES_INIT;
    const char *p = text, *end = text + len;
    size_t lineno = 0;
    int r = 0;

    if (len > WORKER_APT_SOURCES_MAX_INPUT) {
        (void)pf_set_error(errbuf, errlen, 0, "%s: file too large", file);
        return -E2BIG;
    }
    if (memchr(text, '\0', len)) {
        (void)pf_set_error(errbuf, errlen, 0, "%s: NUL byte in file", file);
        return -EINVAL;
    }
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        struct worker_apt_source proto = {.line = 0};
        const char *why = "out of memory";
        char *line;

        if (!e)
            e = end;
        lineno++;
        proto.line = lineno;
        line = pf_strndup(p, (size_t)(e - p));
        if (!line) {
            r = -ENOMEM;
            goto out;
        }
        r = parse_one_line(&tmp, &proto, file, line, &why);
        pf_free(line);
        worker_apt_source_release(&proto);
        if (r < 0) {
            (void)pf_set_error(errbuf, errlen, 0, "%s:%zu: %s", file, lineno, why);
            goto out;
        }
        p = e < end ? e + 1 : end;
    }
    r = commit(s, &tmp);
out:
    worker_apt_sources_clear(&tmp);
    return r;
}

/* Unfolds an inline key: continuation lines lose their first blank and " ." is an empty line. */
static char *unfold_key(const char *v)
{
    size_t n = strlen(v);
    char *out = pf_malloc(n + 2), *o = out;

    if (!out)
        return NULL;
    v += strspn(v, " \t\n");
    while (*v) {
        size_t l = strcspn(v, "\n");
        const char *s = v;

        if (*s == ' ' || *s == '\t') {
            s++;
            l--;
        }
        if (!(l == 1 && *s == '.')) {
            memcpy(o, s, l);
            o += l;
        }
        *o++ = '\n';
        v = s + l;
        if (*v == '\n')
            v++;
    }
    *o = '\0';
    return out;
}

static int para_bool(const struct worker_deb822_para *para, const char *name, bool dflt, bool *ret)
{
    const char *v = worker_deb822_para_get(para, name);

    if (!v) {
        *ret = dflt;
        return 0;
    }
    if (strcasecmp(v, "yes") == 0)
        *ret = true;
    else if (strcasecmp(v, "no") == 0)
        *ret = false;
    else
        return -EINVAL;
    return 0;
}

static int stanza_entries(struct worker_apt_sources *tmp, const struct worker_deb822_para *para,
                          struct worker_apt_source *e, const char *file, const char **ret_why)
{
    struct pf_strv types = PF_STRV_INIT, uris = PF_STRV_INIT, suites = PF_STRV_INIT;
    const char *sb = worker_deb822_para_get(para, "Signed-By");
    const char *v;
    bool enabled, flat;
    int r;

    *ret_why = "Enabled and Trusted take yes or no";
    r = para_bool(para, "Enabled", true, &enabled);
    if (r == 0)
        r = para_bool(para, "Trusted", false, &e->trusted);
    if (r < 0 || !enabled)
        goto out;
    v = worker_deb822_para_get(para, "Types");
    r = split_words(v ? v : "", false, &types);
    if (r == 0)
        r = split_words((v = worker_deb822_para_get(para, "URIs")) ? v : "", false, &uris);
    if (r == 0)
        r = split_words((v = worker_deb822_para_get(para, "Suites")) ? v : "", false, &suites);
    if (r == 0)
        r = split_words((v = worker_deb822_para_get(para, "Components")) ? v : "", false,
                        &e->components);
    if (r == 0)
        r = split_words((v = worker_deb822_para_get(para, "Architectures")) ? v : "", false,
                        &e->archs);
    if (r < 0)
        goto out;
    *ret_why = "Types, URIs and Suites are required";
    r = -EINVAL;
    if (types.n == 0 || uris.n == 0 || suites.n == 0)
        goto out;
    for (size_t i = 0; i < types.n; i++)
        if (strcmp(types.v[i], "deb") != 0 && strcmp(types.v[i], "deb-src") != 0) {
            *ret_why = "unknown type";
            goto out;
        }
    for (size_t i = 0; i < suites.n; i++) {
        flat = suites.v[i][strlen(suites.v[i]) - 1] == '/';
        if (flat != (e->components.n == 0)) {
            *ret_why = "a flat suite takes no components, any other suite needs one";
            goto out;
        }
    }
    if (sb) {
        struct pf_strv keys = PF_STRV_INIT;

        /* Either one inline key, or keyring paths and fingerprints separated by blanks. */
        e->signed_by_inline = strstr(sb, KEY_BLOCK_BEGIN) != NULL;
        if (e->signed_by_inline) {
            e->signed_by = unfold_key(sb);
        } else if (split_words(sb, false, &keys) == 0) {
            e->signed_by = pf_strv_join(&keys, " ");
        }
        pf_strv_clear(&keys);
        r = -ENOMEM;
        if (!e->signed_by)
            goto out;
    }
    r = 0;
    if (!pf_strv_contains(&types, "deb"))
        goto out;
    for (size_t i = 0; i < uris.n && r == 0; i++)
        for (size_t j = 0; j < suites.n && r == 0; j++)
            r = push_entry(tmp, e, file, uris.v[i], suites.v[j]);
out:
    pf_strv_clear(&types);
    pf_strv_clear(&uris);
    pf_strv_clear(&suites);
    return r;
}

int worker_apt_sources_parse_deb822(struct worker_apt_sources *s, const char *file,
                                    const char *text, size_t len, char *errbuf, size_t errlen)
{
    const struct worker_deb822_opts opts = {.allow_comments = true,
                                            .max_input = WORKER_APT_SOURCES_MAX_INPUT};
    struct worker_deb822_doc doc = WORKER_DEB822_DOC_INIT;
    struct worker_apt_sources tmp = WORKER_APT_SOURCES_INIT;
    char msg[128];
    int r;

    r = worker_deb822_parse(text, len, &opts, &doc, msg, sizeof(msg));
    if (r < 0) {
        (void)pf_set_error(errbuf, errlen, 0, "%s: %s", file, r == -ENOMEM ? "out of memory" : msg);
        return r;
    }
    for (size_t i = 0; i < doc.n; i++) {
        struct worker_apt_source proto = {.line = doc.paras[i].line};
        const char *why = "out of memory";

        r = stanza_entries(&tmp, &doc.paras[i], &proto, file, &why);
        worker_apt_source_release(&proto);
        if (r < 0) {
            (void)pf_set_error(errbuf, errlen, 0, "%s:%zu: %s", file, doc.paras[i].line, why);
            goto out;
        }
    }
    r = commit(s, &tmp);
out:
    worker_deb822_doc_clear(&doc);
    worker_apt_sources_clear(&tmp);
    return r;
}
