/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pure parsing pieces of the registry client: WWW-Authenticate challenges, Link pagination,
 * URL resolution, Retry-After and registry error bodies. They read headers and bodies a remote
 * peer controls, so every one of them bounds what it copies and rejects what it cannot parse,
 * and each is unit-tested on its own (see registry_internal.h).
 */
#include "pf/setup.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/http.h"
#include "pf/json.h"
#include "registry_internal.h"

/* Longest header parameter value we keep; realms and scopes are far shorter. */
#define PARAM_MAX 4096

static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~/:", c));
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Reads a token or quoted-string at *pp into a new string; advances *pp. */
static int read_value(const char **pp, char **ret)
{
    const char *p = *pp;
    struct pf_buf b;

    pf_buf_init(&b, PARAM_MAX);
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            if (pf_buf_append(&b, p, 1) < 0)
                goto fail;
        }
        if (*p != '"')
            goto fail;
        p++;
    } else {
        while (is_tchar(*p) || *p == '=') {
            if (pf_buf_append(&b, p, 1) < 0)
                goto fail;
            p++;
        }
    }
    *ret = pf_buf_steal(&b, NULL);
    if (!*ret)
        return -ENOMEM;
    *pp = p;
    return 0;
fail:
    pf_buf_release(&b);
    return -EINVAL;
}

void pf__auth_challenge_release(struct pf_auth_challenge *c)
{
    if (!c)
        return;
    c->realm = pf_free(c->realm);
    c->service = pf_free(c->service);
    c->scope = pf_free(c->scope);
    c->error = pf_free(c->error);
    c->scheme = PF_AUTH_NONE;
}

static enum pf_auth_scheme scheme_of(const char *s, size_t n)
{
    if (n == 6 && strncasecmp(s, "bearer", 6) == 0)
        return PF_AUTH_BEARER;
    if (n == 5 && strncasecmp(s, "basic", 5) == 0)
        return PF_AUTH_BASIC;
    return PF_AUTH_NONE;
}

static int store_param(struct pf_auth_challenge *c, const char *name, size_t n, char *value)
{
    char **slot = NULL;

    if (n == 5 && strncasecmp(name, "realm", 5) == 0)
        slot = &c->realm;
    else if (n == 7 && strncasecmp(name, "service", 7) == 0)
        slot = &c->service;
    else if (n == 5 && strncasecmp(name, "scope", 5) == 0)
        slot = &c->scope;
    else if (n == 5 && strncasecmp(name, "error", 5) == 0)
        slot = &c->error;
    if (!slot || *slot) {
        pf_free(value);
        return 0;
    }
    *slot = value;
    return 0;
}

int pf__auth_challenge_parse(const char *value, struct pf_auth_challenge *ret)
{
    struct pf_auth_challenge best = {PF_AUTH_NONE, NULL, NULL, NULL, NULL};
    struct pf_auth_challenge cur = {PF_AUTH_NONE, NULL, NULL, NULL, NULL};
    const char *p = value;
    int r = 0;

    for (;;) {
        const char *name, *q;
        size_t n;
        char *v = NULL;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        name = p;
        while (is_tchar(*p))
            p++;
        n = (size_t)(p - name);
        if (n == 0) {
            r = -EINVAL;
            goto out;
        }
        q = skip_ws(p);
        if (*q == '=') {
            /* An auth-param of the current challenge (ignored when its scheme is unknown). */
            q = skip_ws(q + 1);
            r = read_value(&q, &v);
            if (r < 0)
                goto out;
            p = q;
            if (cur.scheme == PF_AUTH_NONE) {
                pf_free(v);
                continue;
            }
            r = store_param(&cur, name, n, v);
            if (r < 0)
                goto out;
            continue;
        }
        /* A new challenge starts: keep the better of what we have. */
        if (cur.scheme > best.scheme) {
            pf__auth_challenge_release(&best);
            best = cur;
        } else {
            pf__auth_challenge_release(&cur);
        }
        memset(&cur, 0, sizeof(cur));
        cur.scheme = scheme_of(name, n);
        p = q;
    }
    if (cur.scheme > best.scheme) {
        pf__auth_challenge_release(&best);
        best = cur;
        memset(&cur, 0, sizeof(cur));
    }
    if (best.scheme == PF_AUTH_NONE || (best.scheme == PF_AUTH_BEARER && !best.realm)) {
        r = -EINVAL;
        goto out;
    }
    *ret = best;
    memset(&best, 0, sizeof(best));
out:
    pf__auth_challenge_release(&cur);
    pf__auth_challenge_release(&best);
    return r;
}

int pf__url_resolve(const char *base, const char *ref, char **ret)
{
    return pf_http_url_resolve(base, ref, ret);
}

static char *origin_of(const char *url)
{
    struct pf_http_url u;
    char *o;

    if (pf_http_url_parse(url, true, &u) < 0)
        return NULL;
    o = pf_asprintf("%s://%s:%s", u.scheme, u.host, u.port);
    pf_http_url_release(&u);
    return o;
}

bool pf__url_same_origin(const char *a, const char *b)
{
    char *oa = origin_of(a), *ob = origin_of(b);
    bool same = oa && ob && strcasecmp(oa, ob) == 0;

    pf_free(oa);
    pf_free(ob);
    return same;
}

static bool rel_has_next(const char *rel)
{
    const char *p = rel;

    while (*p) {
        size_t n;
        p += strspn(p, " \t");
        n = strcspn(p, " \t");
        if (n == 4 && strncasecmp(p, "next", 4) == 0)
            return true;
        p += n;
    }
    return false;
}

int pf__link_next(const char *value, const char *base_url, char **ret)
{
    const char *p = value;

    for (;;) {
        const char *start, *end;
        bool next = false;
        char *target;
        int r;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            return 0;
        if (*p != '<')
            return -EINVAL;
        start = p + 1;
        end = strchr(start, '>');
        if (!end)
            return -EINVAL;
        p = end + 1;
        for (;;) {
            const char *name;
            size_t n;
            char *v = NULL;

            p = skip_ws(p);
            if (*p != ';')
                break;
            p = skip_ws(p + 1);
            name = p;
            while (is_tchar(*p) && *p != '/')
                p++;
            n = (size_t)(p - name);
            p = skip_ws(p);
            if (*p != '=')
                continue;
            p = skip_ws(p + 1);
            r = read_value(&p, &v);
            if (r < 0)
                return r;
            if (n == 3 && strncasecmp(name, "rel", 3) == 0 && rel_has_next(v))
                next = true;
            pf_free(v);
        }
        if (!next)
            continue;
        target = pf_strndup(start, (size_t)(end - start));
        if (!target)
            return -ENOMEM;
        r = pf__url_resolve(base_url, target, ret);
        pf_free(target);
        return r < 0 ? r : 1;
    }
}

/* Copies at most `max` bytes of `s`, replacing control characters, so a registry's text cannot
 * inject newlines or escape sequences into our messages. The bound is checked before s[i] is
 * read: `s` need not be terminated within `max` bytes. */
void pf__append_clean(char *out, size_t outlen, size_t *pos, const char *s, size_t max)
{
    if (outlen == 0)
        return;
    for (size_t i = 0; i < max && s[i] && *pos + 1 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        out[(*pos)++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    out[*pos] = '\0';
}

int pf__registry_error_parse(const char *body, size_t len, char *out, size_t outlen)
{
    json_t *root, *e;
    const char *code, *msg;
    size_t pos = 0;

    if (outlen)
        out[0] = '\0';
    if (!body || !len || !outlen)
        return 0;
    root = json_loadb(body, len, 0, NULL);
    e = json_array_get(json_object_get(root, "errors"), 0);
    code = json_string_value(json_object_get(e, "code"));
    msg = json_string_value(json_object_get(e, "message"));
    if (!code && !msg) {
        json_decref(root);
        return 0;
    }
    if (code)
        pf__append_clean(out, outlen, &pos, code, 64);
    if (code && msg && *msg)
        pf__append_clean(out, outlen, &pos, ": ", 2);
    if (msg)
        pf__append_clean(out, outlen, &pos, msg, 200);
    json_decref(root);
    return 1;
}

bool pf__host_is_loopback(const char *hostport)
{
    char host[256];
    struct in_addr a4;
    size_t n;

    if (hostport[0] == '[') {
        const char *end = strchr(hostport, ']');
        if (!end || (end[1] && end[1] != ':'))
            return false;
        n = (size_t)(end - hostport - 1);
        if (n >= sizeof(host))
            return false;
        memcpy(host, hostport + 1, n);
        host[n] = '\0';
        return strcmp(host, "::1") == 0 || strcmp(host, "0:0:0:0:0:0:0:1") == 0;
    }
    if (strcmp(hostport, "::1") == 0)
        return true;
    n = strcspn(hostport, ":");
    if (n >= sizeof(host))
        return false;
    memcpy(host, hostport, n);
    host[n] = '\0';
    if (strcasecmp(host, "localhost") == 0)
        return true;
    return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

char *pf__url_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    struct pf_buf b = PF_BUF_INIT;

    for (; *s; s++) {
        char c = *s;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.' || c == '~';
        char enc[3] = {'%', hex[(unsigned char)c >> 4], hex[(unsigned char)c & 15]};
        if (pf_buf_append(&b, plain ? &c : enc, plain ? 1 : 3) < 0) {
            pf_buf_release(&b);
            return NULL;
        }
    }
    return pf_buf_steal(&b, NULL);
}
