/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registry authentication: answer a 401's WWW-Authenticate with Docker's token protocol
 * (Bearer: GET realm?service=&scope= with Basic credentials, or POST grant_type=refresh_token
 * with an identity token) or with plain Basic. Tokens are cached per (host, scope) until
 * expiry, Basic per host; credentials per registry, looked up once (a credential helper is a
 * process spawn). Both caches sit behind the client's mutex and are wiped on free. Tokens and
 * passwords are only ever copied into Authorization header lines, never into messages.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <string.h>

#include "pf/json.h"

#include "pf/alloc.h"
#include "pf/log.h"
#include "registry_http.h"

#undef PF_LOG_COMPONENT
#define PF_LOG_COMPONENT "registry"

/* Tokens are dropped this long before they expire, so a request never starts with a token
 * about to lapse mid-flight. */
#define TOKEN_MARGIN_MS 10000
#define TOKEN_DEFAULT_TTL_S 60

static char *wipe(char *s)
{
    if (s)
        memset(s, 0, strlen(s));
    return pf_free(s);
}

static void token_free(struct reg_token *t)
{
    t->host = pf_free(t->host);
    t->scope = pf_free(t->scope);
    t->header = wipe(t->header);
}

void pf__reg_auth_clear(struct pf_registry *r)
{
    for (size_t i = 0; i < r->n_tokens; i++)
        token_free(&r->tokens[i]);
    r->tokens = pf_free(r->tokens);
    r->n_tokens = 0;
    for (size_t i = 0; i < r->n_creds; i++) {
        r->creds[i].registry = pf_free(r->creds[i].registry);
        pf_cred_release(&r->creds[i].cred);
    }
    r->creds = pf_free(r->creds);
    r->n_creds = 0;
}

char *pf__reg_auth_cached(struct pf_registry *r, const char *host, const char *scope,
                          bool *ret_cred)
{
    long long now = pf__reg_now_ms();
    char *h = NULL;
    size_t i = 0;

    if (!host)
        return NULL;
    (void)pthread_mutex_lock(&r->lock);
    while (i < r->n_tokens) {
        struct reg_token *t = &r->tokens[i];
        if (t->expires_ms && t->expires_ms <= now) {
            token_free(t);
            r->tokens[i] = r->tokens[--r->n_tokens];
            continue;
        }
        if (strcmp(t->host, host) == 0 &&
            (t->scope[0] == '\0' || strcmp(t->scope, scope ? scope : "") == 0)) {
            h = pf_strdup(t->header);
            *ret_cred = t->cred;
            break;
        }
        i++;
    }
    (void)pthread_mutex_unlock(&r->lock);
    return h;
}

/* Stores (host, scope) → header; steals `header` (wiped and freed on failure too). `cred`: the
 * header was obtained with configured credentials. */
static int token_store(struct pf_registry *r, const char *host, const char *scope, char *header,
                       long long expires_ms, bool cred)
{
    struct reg_token t = {pf_strdup(host), pf_strdup(scope ? scope : ""), header, expires_ms, cred};
    struct reg_token *nt;
    size_t i;

    if (!t.host || !t.scope) {
        token_free(&t);
        return -ENOMEM;
    }
    (void)pthread_mutex_lock(&r->lock);
    for (i = 0; i < r->n_tokens; i++)
        if (strcmp(r->tokens[i].host, host) == 0 && strcmp(r->tokens[i].scope, t.scope) == 0)
            break;
    if (i == r->n_tokens && r->n_tokens == REG_TOKENS_MAX)
        i = 0; /* full: evict the oldest slot rather than grow without bound */
    if (i < r->n_tokens) {
        token_free(&r->tokens[i]);
        r->tokens[i] = t;
        (void)pthread_mutex_unlock(&r->lock);
        return 0;
    }
    nt = pf_realloc(r->tokens, (r->n_tokens + 1) * sizeof(*nt));
    if (!nt) {
        (void)pthread_mutex_unlock(&r->lock);
        token_free(&t);
        return -ENOMEM;
    }
    r->tokens = nt;
    r->tokens[r->n_tokens++] = t;
    (void)pthread_mutex_unlock(&r->lock);
    return 0;
}

static int cred_copy(const struct pf_cred *src, struct pf_cred *ret)
{
    struct pf_cred c = {NULL, NULL, NULL};

    if ((src->username && !(c.username = pf_strdup(src->username))) ||
        (src->password && !(c.password = pf_strdup(src->password))) ||
        (src->identity_token && !(c.identity_token = pf_strdup(src->identity_token)))) {
        pf_cred_release(&c);
        return -ENOMEM;
    }
    *ret = c;
    return 0;
}

/* Credentials for `registry`: 0 (copy in *ret), -ENOENT (anonymous) or another error. */
static int get_cred(struct pf_registry *r, const char *registry, struct pf_cred *ret, char *errbuf,
                    size_t errlen)
{
    struct reg_cred e = {NULL, {NULL, NULL, NULL}, 0}, *ne;
    int rc = 1;

    (void)pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n_creds; i++) {
        if (strcmp(r->creds[i].registry, registry) != 0)
            continue;
        rc = r->creds[i].status;
        if (rc == 0)
            rc = cred_copy(&r->creds[i].cred, ret);
        break;
    }
    if (rc <= 0) {
        (void)pthread_mutex_unlock(&r->lock);
        return rc;
    }
    /* Looked up under the lock so that concurrent requests spawn one helper, not many. */
    e.status = pf_dockercfg_lookup(r->docker_config, registry, &e.cred, errbuf, errlen);
    if (e.status < 0 && e.status != -ENOENT) {
        (void)pthread_mutex_unlock(&r->lock);
        return e.status;
    }
    e.registry = pf_strdup(registry);
    ne = e.registry ? pf_realloc(r->creds, (r->n_creds + 1) * sizeof(*ne)) : NULL;
    if (!ne) {
        (void)pthread_mutex_unlock(&r->lock);
        pf_free(e.registry);
        pf_cred_release(&e.cred);
        return -ENOMEM;
    }
    r->creds = ne;
    r->creds[r->n_creds++] = e;
    rc = e.status == 0 ? cred_copy(&e.cred, ret) : -ENOENT;
    (void)pthread_mutex_unlock(&r->lock);
    return rc;
}

static char *basic_header(const struct pf_cred *c)
{
    char *pair = pf_asprintf("%s:%s", c->username, c->password ? c->password : "");
    char *b64 = NULL, *h = NULL;

    if (pair && pf__base64_encode(pair, strlen(pair), &b64) == 0)
        h = pf_asprintf("Authorization: Basic %s", b64);
    wipe(pair);
    wipe(b64);
    return h;
}

/* Appends "&name=value" pairs (value escaped) to `b`. */
static int add_param(struct pf_buf *b, const char *name, const char *value)
{
    char *e = pf__url_escape(value);
    int rc;

    if (!e)
        return -ENOMEM;
    rc = pf_buf_appendf(b, "%s%s=%s", b->len ? "&" : "", name, e);
    wipe(e);
    return rc;
}

static int build_token_request(struct reg_req *t, const struct pf_auth_challenge *ch,
                               const char *scopes, const struct pf_cred *cred, struct pf_buf *form)
{
    struct pf_buf query = PF_BUF_INIT;
    int rc = 0;
    char *url;

    if (cred->identity_token) {
        rc = add_param(form, "grant_type", "refresh_token");
        if (rc == 0 && ch->service)
            rc = add_param(form, "service", ch->service);
        if (rc == 0 && scopes)
            rc = add_param(form, "scope", scopes);
        if (rc == 0)
            rc = add_param(form, "client_id", "patchfleet");
        if (rc == 0)
            rc = add_param(form, "refresh_token", cred->identity_token);
        if (rc < 0)
            return rc;
        rc = pf__reg_req_init(t, "POST", ch->realm);
        t->has_body = true;
        t->body = form->p;
        t->body_len = form->len;
        return rc;
    }
    if (ch->service)
        rc = add_param(&query, "service", ch->service);
    for (const char *p = scopes; rc == 0 && p && *p;) {
        size_t n = strcspn(p, " ");
        char *one = pf_strndup(p, n);
        rc = one ? add_param(&query, "scope", one) : -ENOMEM;
        pf_free(one);
        p += n;
        p += strspn(p, " ");
    }
    url = rc == 0 ? pf_asprintf("%s%s%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?",
                                query.p ? query.p : "")
                  : NULL;
    pf_buf_release(&query);
    if (!url)
        return -ENOMEM;
    rc = pf__reg_req_init(t, "GET", url);
    pf_free(url);
    if (rc == 0 && cred->username) {
        t->auth_fixed = basic_header(cred);
        if (!t->auth_fixed)
            rc = -ENOMEM;
    }
    return rc;
}

/* Parses {"token"|"access_token", "expires_in"} into a header line and a lifetime. */
static int parse_token(const struct pf_buf *body, char **ret_header, long long *ret_ttl_ms)
{
    json_t *root = json_loadb(body->p ? body->p : "", body->len, 0, NULL);
    const char *tok = json_string_value(json_object_get(root, "token"));
    json_t *exp = json_object_get(root, "expires_in");
    long long ttl = TOKEN_DEFAULT_TTL_S;

    if (!tok || !*tok)
        tok = json_string_value(json_object_get(root, "access_token"));
    if (!tok || !*tok || strpbrk(tok, "\r\n")) {
        json_decref(root);
        return -EPROTO;
    }
    if (json_is_integer(exp) && json_integer_value(exp) > 0)
        ttl = json_integer_value(exp);
    if (ttl > 24 * 3600)
        ttl = 24 * 3600;
    *ret_header = pf_asprintf("Authorization: Bearer %s", tok);
    /* jansson keeps its own copy of the token; it is freed with the tree. */
    json_decref(root);
    if (!*ret_header)
        return -ENOMEM;
    *ret_ttl_ms = ttl * 1000;
    return 0;
}

static int bearer(struct pf_registry *r, const struct reg_req *q,
                  const struct pf_auth_challenge *ch, char *errbuf, size_t errlen)
{
    struct pf_cred cred = {NULL, NULL, NULL};
    const char *scopes = q->scope ? q->scope : ch->scope;
    struct pf_buf form = PF_BUF_INIT, body;
    struct reg_req t;
    char *what = NULL, *header = NULL;
    long long ttl = 0;
    int rc;

    memset(&t, 0, sizeof(t));
    pf_buf_init(&body, REG_TOKEN_MAX_BODY);
    rc = get_cred(r, q->registry ? q->registry : q->host, &cred, errbuf, errlen);
    if (rc < 0 && rc != -ENOENT)
        goto out;
    rc = build_token_request(&t, ch, scopes, &cred, &form);
    what = pf_asprintf("authentication to '%s'", q->host);
    if (rc == 0 && !what)
        rc = -ENOMEM;
    if (rc < 0)
        goto out;
    t.what = what;
    t.registry = q->registry ? q->registry : q->host;
    t.out = &body;
    t.follow = true;
    /* With a username or an identity token the token service judges our credentials: its 401
     * or 403 is a refusal of them, not a request to log in. */
    t.cred_offered = cred.username != NULL || cred.identity_token != NULL;
    rc = pf__reg_do(r, &t, errbuf, errlen);
    if (rc < 0)
        goto out;
    if (t.status != 200) {
        rc = pf__reg_http_error(&t, errbuf, errlen);
        if (rc != -EBUSY && rc != -EIO && rc != -EKEYREJECTED)
            rc = -EACCES;
        goto out;
    }
    rc = parse_token(&body, &header, &ttl);
    if (rc == -EPROTO)
        (void)snprintf(errbuf, errlen, "%s: the token service sent no token", what);
    if (rc < 0)
        goto out;
    rc = token_store(r, q->host, q->scope, header,
                     pf__reg_now_ms() + (ttl > 2 * TOKEN_MARGIN_MS ? ttl - TOKEN_MARGIN_MS : ttl),
                     t.cred_offered);
    pf_log(LOG_DEBUG, "obtained a token for '%s' (%s), valid %lld s", q->host,
           q->scope ? q->scope : "no scope", ttl / 1000);
out:
    if (body.p)
        memset(body.p, 0, body.cap);
    pf_buf_release(&body);
    if (form.p)
        memset(form.p, 0, form.cap);
    pf_buf_release(&form);
    pf__reg_req_release(&t);
    pf_cred_release(&cred);
    pf_free(what);
    return rc;
}

int pf__reg_authenticate(struct pf_registry *r, const struct reg_req *q, char *errbuf,
                         size_t errlen)
{
    struct pf_auth_challenge ch;
    struct pf_cred cred = {NULL, NULL, NULL};
    char *header;
    int rc = pf__auth_challenge_parse(q->www_auth, &ch);

    if (rc < 0) {
        (void)snprintf(errbuf, errlen, "%s: 401 with an unusable authentication challenge",
                       q->what);
        return rc == -ENOMEM ? rc : -EACCES;
    }
    if (ch.scheme == PF_AUTH_BEARER) {
        rc = bearer(r, q, &ch, errbuf, errlen);
        goto out;
    }
    rc = get_cred(r, q->registry ? q->registry : q->host, &cred, errbuf, errlen);
    if (rc == -ENOENT || (rc == 0 && !cred.username)) {
        (void)snprintf(errbuf, errlen,
                       "%s: 401 authentication required and no credentials for "
                       "'%s' are configured",
                       q->what, q->registry ? q->registry : q->host);
        rc = -EACCES;
        goto out;
    }
    if (rc < 0)
        goto out;
    header = basic_header(&cred);
    rc = header ? token_store(r, q->host, NULL, header, 0, true) : -ENOMEM;
out:
    pf_cred_release(&cred);
    pf__auth_challenge_release(&ch);
    return rc;
}
