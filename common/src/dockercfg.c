/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credential lookup in Docker/containers auth files and credential helpers. A helper is run
 * through pf_spawn_run() (argv only, no shell, bounded output, killed at its deadline) and is
 * given the server URL on stdin.
 * Secrets are wiped before they are freed; no message built here contains one.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pf/json.h"

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "pf/dockercfg.h"
#include "pf/spawn.h"
#include "pf/strv.h"
#include "registry_internal.h"

#define HELPER_OUTPUT_MAX ((size_t)64 << 10)
#define HELPER_TIMEOUT_MS 30000

static char *wipe_free(char *s)
{
    if (s) {
        volatile char *p = s;
        while (*p)
            *p++ = '\0';
    }
    return pf_free(s);
}

void pf_cred_release(struct pf_cred *c)
{
    if (!c)
        return;
    c->username = wipe_free(c->username);
    c->password = wipe_free(c->password);
    c->identity_token = wipe_free(c->identity_token);
}

/* --- base64 ------------------------------------------------------------------------------ */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int pf__base64_encode(const void *data, size_t len, char **ret)
{
    const unsigned char *p = data;
    size_t n = 4 * ((len + 2) / 3), o = 0;
    char *s;

    if (len > SIZE_MAX / 2)
        return -EINVAL;
    s = pf_malloc(n + 1);
    if (!s)
        return -ENOMEM;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        s[o++] = b64[(v >> 18) & 63];
        s[o++] = b64[(v >> 12) & 63];
        s[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        s[o++] = i + 2 < len ? b64[v & 63] : '=';
    }
    s[o] = '\0';
    *ret = s;
    return 0;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;

    return p ? (int)(p - b64) : -1;
}

int pf__base64_decode(const char *s, char **ret, size_t *ret_len)
{
    size_t len = strlen(s), o = 0;
    uint32_t acc = 0;
    int bits = 0;
    char *out;

    while (len > 0 && (s[len - 1] == '=' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    out = pf_calloc(1, len * 3 / 4 + 2);
    if (!out)
        return -ENOMEM;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value(s[i]);
        if (v < 0) {
            memset(out, 0, o); /* not yet terminated: wipe what was decoded by length */
            pf_free(out);
            return -EINVAL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (bits >= 6) { /* one stray character cannot encode a byte */
        memset(out, 0, o);
        pf_free(out);
        return -EINVAL;
    }
    out[o] = '\0';
    *ret = out;
    if (ret_len)
        *ret_len = o;
    return 0;
}

/* --- config files ------------------------------------------------------------------------ */

const char *pf_dockercfg_server_url(const char *host)
{
    char h[256];

    if (pf__dockercfg_key_host(host, h, sizeof(h)) == 0 && strcmp(h, "docker.io") == 0)
        return "https://index.docker.io/v1/";
    return host;
}

int pf__dockercfg_key_host(const char *key, char *out, size_t outlen)
{
    static const char *const hub[] = {"index.docker.io", "registry-1.docker.io",
                                      "registry.hub.docker.com", "docker.io"};
    size_t n;

    if (strncasecmp(key, "https://", 8) == 0)
        key += 8;
    else if (strncasecmp(key, "http://", 7) == 0)
        key += 7;
    n = strcspn(key, "/");
    if (n + 1 > outlen)
        return -ENAMETOOLONG;
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = '\0';
    for (size_t i = 0; i < PF_ARRAY_SIZE(hub); i++)
        if (strcmp(out, hub[i]) == 0)
            (void)snprintf(out, outlen, "docker.io");
    return 0;
}

/* Borrowed member of `obj` whose key names the same host as `want`, preferring one that
 * carries credentials (auths may hold empty entries next to real ones). */
static json_t *find_host(json_t *obj, const char *want)
{
    json_t *v, *best = NULL;
    const char *k;
    char h[256];

    if (!json_is_object(obj))
        return NULL;
    json_object_foreach(obj, k, v)
    {
        if (pf__dockercfg_key_host(k, h, sizeof(h)) < 0 || strcmp(h, want) != 0)
            continue;
        if (!best)
            best = v;
        if (json_is_object(v) &&
            (json_object_get(v, "auth") || json_object_get(v, "identitytoken")))
            return v;
    }
    return best;
}

static bool helper_name_ok(const char *s)
{
    if (!*s || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

static int take_helper(json_t *v, char **ret_helper, char *errbuf, size_t errlen)
{
    const char *name = json_string_value(v);

    if (!name || !helper_name_ok(name))
        return pf_set_error(errbuf, errlen, -EINVAL, "invalid credential helper name");
    *ret_helper = pf_strdup(name);
    return *ret_helper ? 2 : -ENOMEM;
}

static int auth_entry(json_t *e, struct pf_cred *ret, char *errbuf, size_t errlen)
{
    const char *auth = json_string_value(json_object_get(e, "auth"));
    const char *idt = json_string_value(json_object_get(e, "identitytoken"));
    struct pf_cred c = {NULL, NULL, NULL};
    char *dec = NULL, *colon;
    int r;

    if (auth && *auth) {
        r = pf__base64_decode(auth, &dec, NULL);
        if (r < 0)
            return r == -ENOMEM ? r : pf_set_error(errbuf, errlen, r, "malformed \"auth\" value");
        colon = strchr(dec, ':');
        if (!colon) {
            wipe_free(dec);
            return pf_set_error(errbuf, errlen, -EINVAL, "\"auth\" value is not user:password");
        }
        *colon = '\0';
        c.username = pf_strdup(dec);
        c.password = pf_strdup(colon + 1);
        *colon = ':';
        wipe_free(dec);
        if (!c.username || !c.password)
            goto oom;
    }
    if (idt && *idt) {
        c.identity_token = pf_strdup(idt);
        if (!c.identity_token)
            goto oom;
    }
    if (!c.username && !c.identity_token)
        return 0;
    *ret = c;
    return 1;
oom:
    pf_cred_release(&c);
    return -ENOMEM;
}

int pf__dockercfg_parse(const char *json, size_t len, const char *host, struct pf_cred *ret_cred,
                        char **ret_helper, char *errbuf, size_t errlen)
{
    json_t *root, *e;
    char want[256];
    int r = 0;

    if (pf__dockercfg_key_host(host, want, sizeof(want)) < 0)
        return pf_set_error(errbuf, errlen, -EINVAL, "registry name too long");
    root = json_loadb(json, len, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return pf_set_error(errbuf, errlen, -EINVAL, "not a JSON object");
    }
    e = find_host(json_object_get(root, "credHelpers"), want);
    if (e) {
        r = take_helper(e, ret_helper, errbuf, errlen);
        goto out;
    }
    e = find_host(json_object_get(root, "auths"), want);
    if (json_is_object(e)) {
        r = auth_entry(e, ret_cred, errbuf, errlen);
        if (r != 0)
            goto out;
    }
    e = json_object_get(root, "credsStore");
    if (json_is_string(e) && json_string_length(e) > 0)
        r = take_helper(e, ret_helper, errbuf, errlen);
out:
    json_decref(root);
    return r;
}

int pf__cred_helper_output_parse(const char *json, size_t len, struct pf_cred *ret)
{
    struct pf_cred c = {NULL, NULL, NULL};
    const char *user, *secret;
    json_t *root = json_loadb(json, len, 0, NULL);
    int r = 0;

    if (!json_is_object(root)) {
        json_decref(root);
        return -EINVAL;
    }
    user = json_string_value(json_object_get(root, "Username"));
    secret = json_string_value(json_object_get(root, "Secret"));
    if (!secret || !*secret) {
        r = -ENOENT;
        goto out;
    }
    if (user && strcmp(user, "<token>") == 0) {
        c.identity_token = pf_strdup(secret);
        r = c.identity_token ? 0 : -ENOMEM;
    } else {
        c.username = pf_strdup(user ? user : "");
        c.password = pf_strdup(secret);
        r = c.username && c.password ? 0 : -ENOMEM;
    }
    if (r == 0) {
        *ret = c;
        memset(&c, 0, sizeof(c));
    }
out:
    pf_cred_release(&c);
    json_decref(root);
    return r;
}

/* --- credential helpers ------------------------------------------------------------------ */

static int run_helper(const char *helper, const char *host, struct pf_cred *ret, char *errbuf,
                      size_t errlen)
{
    const char *url = pf_dockercfg_server_url(host);
    char *prog = pf_asprintf("docker-credential-%s", helper);
    char *argv[] = {prog, (char *)(uintptr_t) "get", NULL};
    struct pf_spawn_options so = {
        .argv = argv,
        .input = url,
        .input_len = strlen(url),
        .timeout_ms = HELPER_TIMEOUT_MS,
    };
    struct pf_buf out;
    int status = -1, r;

    pf_buf_init(&out, HELPER_OUTPUT_MAX);
    if (!prog)
        return -ENOMEM;
    r = pf_spawn_run(&so, &out, &status);
    if (r == -ETIMEDOUT || r == -E2BIG) {
        pf_set_error(errbuf, errlen, r, "credential helper '%s' %s", prog,
                     r == -ETIMEDOUT ? "timed out" : "output is too large");
        goto out;
    }
    if (r < 0) {
        pf_set_error(errbuf, errlen, r, "cannot run credential helper '%s': %s", prog,
                     strerror(-r));
        goto out;
    }
    if (status != 0) {
        /* The helper's output is its error text ("credentials not found in native keychain")
         * and it is not echoed: some helpers print what they were given. */
        r = pf_set_error(errbuf, errlen, -ENOENT,
                         "credential helper '%s' found no credentials for '%s'", prog, host);
        goto out;
    }
    r = pf__cred_helper_output_parse(out.p ? out.p : "", out.len, ret);
    if (r == -EINVAL)
        pf_set_error(errbuf, errlen, r, "credential helper '%s' printed malformed output", prog);
    else if (r == -ENOENT)
        pf_set_error(errbuf, errlen, r, "credential helper '%s' returned an empty secret", prog);
out:
    if (out.p)
        memset(out.p, 0, out.cap);
    pf_buf_release(&out);
    pf_free(prog);
    return r;
}

static int candidate_files(const char *config_path, struct pf_strv *files)
{
    const char *dc = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
    const char *raf = getenv("REGISTRY_AUTH_FILE"), *xdg = getenv("XDG_RUNTIME_DIR");
    int r = 0;

    if (config_path)
        return pf_strv_push(files, config_path);
    if (dc && *dc)
        r = pf_strv_pushf(files, "%s/config.json", dc);
    else if (home && *home)
        r = pf_strv_pushf(files, "%s/.docker/config.json", home);
    if (r == 0 && raf && *raf)
        r = pf_strv_push(files, raf);
    if (r == 0 && xdg && *xdg)
        r = pf_strv_pushf(files, "%s/containers/auth.json", xdg);
    return r;
}

int pf_dockercfg_lookup(const char *config_path, const char *host, struct pf_cred *ret,
                        char *errbuf, size_t errlen)
{
    struct pf_strv files = PF_STRV_INIT;
    char *helper = NULL;
    int r = candidate_files(config_path, &files);

    for (size_t i = 0; r == 0 && i < files.n; i++) {
        struct pf_buf b;
        char why[256] = "";

        pf_buf_init(&b, (size_t)4 << 20);
        r = pf_buf_read_file(&b, files.v[i]);
        if (r == -ENOENT && !config_path) {
            pf_buf_release(&b);
            r = 0;
            continue;
        }
        if (r < 0) {
            pf_set_error(errbuf, errlen, r, "cannot read credentials file '%s': %s", files.v[i],
                         strerror(-r));
            pf_buf_release(&b);
            break;
        }
        r = pf__dockercfg_parse(b.p, b.len, host, ret, &helper, why, sizeof(why));
        if (b.p)
            memset(b.p, 0, b.cap);
        pf_buf_release(&b);
        if (r == -EINVAL)
            pf_set_error(errbuf, errlen, r, "invalid credentials file '%s': %s", files.v[i], why);
        if (r == 2) {
            r = run_helper(helper, host, ret, errbuf, errlen);
            if (r == 0)
                r = 1; /* found */
            break;
        }
        if (r != 0)
            break;
    }
    if (r > 0)
        r = 0;
    else if (r == 0)
        r = pf_set_error(errbuf, errlen, -ENOENT, "no credentials configured for '%s'", host);
    pf_free(helper);
    pf_strv_clear(&files);
    return r;
}
