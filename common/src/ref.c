/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image references: a hand-written parser for the distribution/reference grammar
 * ([domain[:port]/]path[:tag][@digest]) and Docker's normalisation, plus Copa's target naming
 * rule. The parser walks the string once instead of using a regex so that every failure can
 * name its cause ("empty tag", "repository name must be lowercase", "invalid registry 'x'"):
 * these messages reach users of a config file, who need to know what to fix. Only sha256
 * digests are accepted, because nothing else in patchfleet can verify another algorithm.
 * See docs/references.md.
 */
#include "pf/setup.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "pf/ref.h"

/* distribution/reference's NameTotalLengthMax, applied to the normalised name (see below). */
#define REF_NAME_MAX 255
#define REF_TAG_MAX 128
#define REF_SHA256_HEX 64
#define REF_LEGACY_HUB "index.docker.io"
#define REF_OFFICIAL_PREFIX "library/"

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
    return is_alnum(c) || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_lower_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

static char to_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*. With `fold`, uppercase letters count
 * as lowercase, which tells "Nginx" (only the case is wrong) from "ng inx" (malformed).
 */
static bool path_component_valid(const char *p, size_t n, bool fold)
{
    size_t i = 0;

    for (;;) {
        size_t start = i;

        while (i < n && (fold ? is_alnum(p[i]) : is_lower_alnum(p[i])))
            i++;
        if (i == start)
            return false;
        if (i == n)
            return true;
        if (p[i] == '.') {
            i++;
        } else if (p[i] == '_') {
            i++;
            if (i < n && p[i] == '_')
                i++;
        } else if (p[i] == '-') {
            while (i < n && p[i] == '-')
                i++;
        } else {
            return false;
        }
    }
}

/* Checks every '/'-separated component of `path`; on failure writes the reason. */
static int path_check(const char *input, const char *path, size_t n, char *errbuf, size_t errlen)
{
    size_t i = 0;

    if (n == 0) {
        (void)pf_set_error(errbuf, errlen, 0, "invalid reference '%s': missing repository path",
                           input);
        return -EINVAL;
    }
    while (i <= n) {
        const char *slash = memchr(path + i, '/', n - i);
        size_t len = slash ? (size_t)(slash - (path + i)) : n - i;

        if (len == 0) {
            (void)pf_set_error(errbuf, errlen, 0, "invalid reference '%s': empty path component",
                               input);
            return -EINVAL;
        }
        if (!path_component_valid(path + i, len, false)) {
            if (path_component_valid(path + i, len, true))
                (void)pf_set_error(errbuf, errlen, 0,
                                   "invalid reference '%s': repository name must be lowercase",
                                   input);
            else
                (void)pf_set_error(errbuf, errlen, 0,
                                   "invalid reference '%s': invalid reference format: bad path "
                                   "component "
                                   "'%.*s'",
                                   input, (int)len, path + i);
            return -EINVAL;
        }
        i += len + 1;
    }
    return 0;
}

/* A DNS-ish label: [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])? */
static bool host_label_valid(const char *p, size_t n)
{
    if (n == 0 || !is_alnum(p[0]) || !is_alnum(p[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_alnum(p[i]) && p[i] != '-')
            return false;
    return true;
}

/* ":<port>" where port is 1-65535; the grammar allows any digits, but no such port exists. */
static bool port_valid(const char *p, size_t n)
{
    unsigned long v = 0;

    if (n < 2 || n > 6 || p[0] != ':')
        return false;
    for (size_t i = 1; i < n; i++) {
        if (!is_digit(p[i]))
            return false;
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

/* host[:port] where host is dot-separated labels or a bracketed IPv6 address. */
static bool domain_valid(const char *d, size_t n)
{
    size_t i = 0;

    if (n > 0 && d[0] == '[') {
        const char *close = memchr(d, ']', n);

        if (!close || close == d + 1)
            return false;
        for (const char *c = d + 1; c < close; c++)
            if (!is_lower_hex(to_lower(*c)) && *c != ':')
                return false;
        i = (size_t)(close - d) + 1;
    } else {
        for (;;) {
            size_t start = i;

            while (i < n && d[i] != '.' && d[i] != ':')
                i++;
            if (!host_label_valid(d + start, i - start))
                return false;
            if (i == n || d[i] == ':')
                break;
            i++; /* '.' */
        }
    }
    return i == n || port_valid(d + i, n - i);
}

/*
 * Docker's rule (normalize.go) for whether the first path element names a registry. A leading
 * '[' cannot start a path component, so it is taken as an attempt at an IPv6 address, which
 * gives "[]/x" the better message (invalid registry rather than bad path component).
 */
static bool looks_like_domain(const char *p, size_t n)
{
    if (memchr(p, '.', n) || memchr(p, ':', n) || (n > 0 && p[0] == '['))
        return true;
    return n == strlen("localhost") && memcmp(p, "localhost", n) == 0;
}

static bool is_sha256_hex(const char *s, size_t n)
{
    if (n != REF_SHA256_HEX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_hex(s[i]))
            return false;
    return true;
}

bool pf_tag_is_valid(const char *tag)
{
    size_t n;

    if (!tag || !is_word(tag[0]))
        return false;
    n = strlen(tag);
    if (n > REF_TAG_MAX)
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_word(tag[i]) && tag[i] != '.' && tag[i] != '-')
            return false;
    return true;
}

bool pf_digest_is_valid(const char *digest)
{
    const char *prefix = "sha256:";
    size_t plen = strlen(prefix);

    if (!digest || strncmp(digest, prefix, plen) != 0)
        return false;
    return is_sha256_hex(digest + plen, strlen(digest + plen));
}

/* Validates the tag and digest parts; `tag`/`digest` are NULL when absent. */
static int check_tag_digest(const char *input, const char *tag, size_t tag_len, const char *digest,
                            char *errbuf, size_t errlen)
{
    if (tag && tag_len == 0) {
        (void)pf_set_error(errbuf, errlen, 0, "invalid reference '%s': empty tag", input);
        return -EINVAL;
    }
    if (tag && (tag_len > REF_TAG_MAX || !is_word(tag[0]))) {
        (void)pf_set_error(errbuf, errlen, 0, "invalid reference '%s': invalid tag '%.*s'%s", input,
                           (int)tag_len, tag,
                           tag_len > REF_TAG_MAX ? " (longer than 128 characters)" : "");
        return -EINVAL;
    }
    for (size_t i = 0; tag && i < tag_len; i++) {
        if (!is_word(tag[i]) && tag[i] != '.' && tag[i] != '-') {
            (void)pf_set_error(errbuf, errlen, 0, "invalid reference '%s': invalid tag '%.*s'",
                               input, (int)tag_len, tag);
            return -EINVAL;
        }
    }
    if (!digest)
        return 0;
    if (!*digest) {
        (void)pf_set_error(errbuf, errlen, 0, "invalid reference '%s': empty digest", input);
        return -EINVAL;
    }
    if (pf_digest_is_valid(digest))
        return 0;
    if (strncmp(digest, "sha256:", strlen("sha256:")) == 0 || !strchr(digest, ':'))
        (void)pf_set_error(errbuf, errlen, 0,
                           "invalid reference '%s': invalid digest '%s' (expected sha256:<64 "
                           "lowercase hex>)",
                           input, digest);
    else
        (void)pf_set_error(errbuf, errlen, 0,
                           "invalid reference '%s': invalid digest '%s' (only sha256 digests are "
                           "supported)",
                           input, digest);
    return -EINVAL;
}

/*
 * Builds the normalised registry and repository from the name part [name, name + n).
 * The length limit is checked on the normalised name, not on the input as distribution does,
 * so that everything pf_ref_to_string() prints parses again ("a" * 250 would otherwise be
 * accepted and print as a 268-character docker.io/library/ name).
 */
static int split_name(const char *input, const char *name, size_t n, char **ret_registry,
                      char **ret_repository, char *errbuf, size_t errlen)
{
    const char *slash = memchr(name, '/', n);
    const char *path = name;
    size_t dlen = 0, plen = n;
    char *registry = NULL, *repository = NULL;
    int r;

    if (slash && looks_like_domain(name, (size_t)(slash - name))) {
        dlen = (size_t)(slash - name);
        path = slash + 1;
        plen = n - dlen - 1;
        if (!domain_valid(name, dlen)) {
            (void)pf_set_error(errbuf, errlen, 0, "invalid reference '%s': invalid registry '%.*s'",
                               input, (int)dlen, name);
            return -EINVAL;
        }
    }
    r = path_check(input, path, plen, errbuf, errlen);
    if (r < 0)
        return r;

    registry = dlen ? pf_strndup(name, dlen) : pf_strdup(PF_DOCKER_HUB);
    if (!registry)
        return -ENOMEM;
    for (char *c = registry; *c; c++)
        *c = to_lower(*c);
    if (strcmp(registry, REF_LEGACY_HUB) == 0) {
        pf_free(registry);
        registry = pf_strdup(PF_DOCKER_HUB);
        if (!registry)
            return -ENOMEM;
    }
    if (strcmp(registry, PF_DOCKER_HUB) == 0 && !memchr(path, '/', plen))
        repository = pf_asprintf(REF_OFFICIAL_PREFIX "%.*s", (int)plen, path);
    else
        repository = pf_strndup(path, plen);
    if (!repository) {
        pf_free(registry);
        return -ENOMEM;
    }
    if (strlen(registry) + 1 + strlen(repository) > REF_NAME_MAX) {
        (void)pf_set_error(errbuf, errlen, 0,
                           "invalid reference '%s': repository name too long (%zu characters "
                           "normalised, "
                           "at most %d)",
                           input, strlen(registry) + 1 + strlen(repository), REF_NAME_MAX);
        pf_free(registry);
        pf_free(repository);
        return -EINVAL;
    }
    *ret_registry = registry;
    *ret_repository = repository;
    return 0;
}

int pf_ref_parse(const char *s, struct pf_ref *ret, char *errbuf, size_t errlen)
{
    struct pf_ref ref = {0};
    const char *at, *digest = NULL, *tag = NULL, *last_slash, *last_colon;
    size_t name_len, tag_len = 0;
    int r;

    memset(ret, 0, sizeof(*ret));
    if (!s || !*s) {
        (void)pf_set_error(errbuf, errlen, 0, "invalid reference '%s': empty reference",
                           s ? s : "");
        return -EINVAL;
    }
    /* '@' cannot occur in a name or tag, so the first one starts the digest. */
    at = strchr(s, '@');
    name_len = at ? (size_t)(at - s) : strlen(s);
    if (at)
        digest = at + 1;
    /* A ':' after the last '/' starts the tag; one before it belongs to a registry port. */
    last_colon = memrchr(s, ':', name_len);
    last_slash = memrchr(s, '/', name_len);
    if (last_colon && (!last_slash || last_colon > last_slash)) {
        tag = last_colon + 1;
        tag_len = name_len - (size_t)(tag - s);
        name_len = (size_t)(last_colon - s);
    }
    if (name_len == 0) {
        (void)pf_set_error(errbuf, errlen, 0, "invalid reference '%s': empty repository name", s);
        return -EINVAL;
    }
    /* Like ParseNormalizedNamed: a bare 64-hex string is an image ID, not a name. */
    if (is_sha256_hex(s, strlen(s))) {
        (void)pf_set_error(errbuf, errlen, 0,
                           "invalid reference '%s': a 64-character hex string is an image ID, not "
                           "a name",
                           s);
        return -EINVAL;
    }
    r = check_tag_digest(s, tag, tag_len, digest, errbuf, errlen);
    if (r < 0)
        return r;
    r = split_name(s, s, name_len, &ref.registry, &ref.repository, errbuf, errlen);
    if (r < 0)
        return r;
    if (tag) {
        ref.tag = pf_strndup(tag, tag_len);
        if (!ref.tag)
            goto oom;
    }
    if (digest) {
        ref.digest = pf_strdup(digest);
        if (!ref.digest)
            goto oom;
    }
    *ret = ref;
    return 0;
oom:
    pf_ref_release(&ref);
    return -ENOMEM;
}

int pf_ref_parse_repository(const char *s, struct pf_ref *ret, char *errbuf, size_t errlen)
{
    struct pf_ref ref;
    int r;

    r = pf_ref_parse(s, &ref, errbuf, errlen);
    if (r < 0) {
        memset(ret, 0, sizeof(*ret));
        return r;
    }
    if (ref.tag || ref.digest) {
        (void)pf_set_error(errbuf, errlen, 0, "'%s' names a %s; expected a repository", s,
                           ref.digest ? "digest" : "tag");
        pf_ref_release(&ref);
        memset(ret, 0, sizeof(*ret));
        return -EINVAL;
    }
    *ret = ref;
    return 0;
}

/* Frees the strings of `r` (which may be half-built or zeroed) and zeroes it. */
void pf_ref_release(struct pf_ref *r)
{
    if (!r)
        return;
    pf_free(r->registry);
    pf_free(r->repository);
    pf_free(r->tag);
    pf_free(r->digest);
    memset(r, 0, sizeof(*r));
}

static int dup_opt(const char *s, char **ret)
{
    *ret = NULL;
    if (!s)
        return 0;
    *ret = pf_strdup(s);
    return *ret ? 0 : -ENOMEM;
}

int pf_ref_copy(const struct pf_ref *src, struct pf_ref *ret)
{
    struct pf_ref c = {0};

    if (dup_opt(src->registry, &c.registry) < 0 || dup_opt(src->repository, &c.repository) < 0 ||
        dup_opt(src->tag, &c.tag) < 0 || dup_opt(src->digest, &c.digest) < 0) {
        pf_ref_release(&c);
        return -ENOMEM;
    }
    *ret = c;
    return 0;
}

char *pf_ref_to_string(const struct pf_ref *r)
{
    return pf_asprintf("%s%s%s%s%s%s%s", r->registry ? r->registry : "", r->registry ? "/" : "",
                       r->repository ? r->repository : "", r->tag ? ":" : "", r->tag ? r->tag : "",
                       r->digest ? "@" : "", r->digest ? r->digest : "");
}

char *pf_ref_repository_string(const struct pf_ref *r)
{
    return pf_asprintf("%s%s%s", r->registry ? r->registry : "", r->registry ? "/" : "",
                       r->repository ? r->repository : "");
}

const char *pf_ref_api_host(const struct pf_ref *r)
{
    if (r->registry && strcmp(r->registry, PF_DOCKER_HUB) == 0)
        return PF_DOCKER_HUB_API;
    return r->registry;
}

const char *pf_ref_basename(const struct pf_ref *r)
{
    const char *slash;

    if (!r->repository)
        return NULL;
    slash = strrchr(r->repository, '/');
    return slash ? slash + 1 : r->repository;
}

/* Parses a configured target name `s`; wraps the reason so it says which setting is wrong. */
static int parse_target(const char *what, const char *s, struct pf_ref *ret, char *errbuf,
                        size_t errlen)
{
    char inner[512] = "";
    int r;

    r = pf_ref_parse_repository(s, ret, inner, sizeof(inner));
    if (r == -EINVAL)
        (void)pf_set_error(errbuf, errlen, 0, "invalid target %s: %s", what, inner);
    return r;
}

int pf_ref_target_repository(const struct pf_ref *source, const struct pf_target *target,
                             struct pf_ref *ret, char *errbuf, size_t errlen)
{
    struct pf_ref out = {0};
    const char *base;
    char *joined;
    size_t n;
    int r;

    if (target && target->repository && *target->repository) {
        r = parse_target("repository", target->repository, &out, errbuf, errlen);
        if (r < 0)
            return r;
        *ret = out;
        return 0;
    }
    if (!target || !target->registry || !*target->registry) {
        if (dup_opt(source->registry, &out.registry) < 0 ||
            dup_opt(source->repository, &out.repository) < 0) {
            pf_ref_release(&out);
            return -ENOMEM;
        }
        *ret = out;
        return 0;
    }
    /* Copa trims one trailing '/'; "ghcr.io/myorg//" is just as clearly a prefix. */
    n = strlen(target->registry);
    while (n > 0 && target->registry[n - 1] == '/')
        n--;
    base = pf_ref_basename(source);
    if (n == 0 || !base) {
        (void)pf_set_error(errbuf, errlen, 0, "invalid target registry '%s'", target->registry);
        return -EINVAL;
    }
    joined = pf_asprintf("%.*s/%s", (int)n, target->registry, base);
    if (!joined)
        return -ENOMEM;
    r = parse_target("registry", joined, &out, errbuf, errlen);
    pf_free(joined);
    if (r < 0)
        return r;
    *ret = out;
    return 0;
}
