/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Redis URL parser (pf/redis_url.h). Hand-written rather than a general URL parser: the
 * grammar is small, and Redis URLs differ from HTTP ones where it matters (a lone userinfo is a
 * password, the path is a database number). Every reason it reports names the part that is
 * wrong without quoting it, so a password typed into the wrong place cannot leak either.
 */
#include "pf/setup.h"

#include <stdlib.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "pf/redis_url.h"

/* Parses a decimal in [min, max] from [s, s+n). */
static int parse_num(const char *s, size_t n, long min, long max, int *ret)
{
    char tmp[16], *end;
    long v;

    if (n == 0 || n >= sizeof(tmp))
        return -EINVAL;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (tmp[0] < '0' || tmp[0] > '9')
        return -EINVAL;
    errno = 0;
    v = strtol(tmp, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -EINVAL;
    *ret = (int)v;
    return 0;
}

/* Splits "[user]:password@" off `*p` into u. */
static int parse_userinfo(const char **p, struct pf_redis_url *u)
{
    const char *at = strrchr(*p, '@'), *colon;

    if (!at)
        return 0;
    colon = memchr(*p, ':', (size_t)(at - *p));
    if (colon) {
        if (colon > *p) {
            u->user = pf_strndup(*p, (size_t)(colon - *p));
            if (!u->user)
                return -ENOMEM;
        }
        u->password = pf_strndup(colon + 1, (size_t)(at - colon - 1));
    } else {
        /* "redis://secret@host": a lone userinfo is the password, as redis-cli reads it. */
        u->password = pf_strndup(*p, (size_t)(at - *p));
    }
    if (!u->password)
        return -ENOMEM;
    *p = at + 1;
    return 0;
}

/* Reads HOST (a name, an IPv4 literal or a bracketed IPv6 literal) at p into u->host; the rest
 * in *ret_rest. */
static int parse_host(const char *p, struct pf_redis_url *u, const char **ret_rest, char *errbuf,
                      size_t errlen)
{
    const char *host_end;

    if (*p == '[') {
        host_end = strchr(p, ']');
        if (!host_end)
            return pf_set_error(errbuf, errlen, -EINVAL, "redis URL has an unclosed '['");
        u->host = pf_strndup(p + 1, (size_t)(host_end - p - 1));
        *ret_rest = host_end + 1;
    } else {
        host_end = p + strcspn(p, ":/");
        u->host = pf_strndup(p, (size_t)(host_end - p));
        *ret_rest = host_end;
    }
    if (!u->host)
        return -ENOMEM;
    if (u->host[0] == '\0')
        return pf_set_error(errbuf, errlen, -EINVAL, "redis URL has no host");
    return 0;
}

int pf_redis_url_parse(const char *url, struct pf_redis_url *ret, char *errbuf, size_t errlen)
{
    struct pf_redis_url u = {.port = 6379};
    const char *p, *rest = ""; /* what follows the host: ":port", "/db" or nothing */
    int r;

    if (strncmp(url, "redis://", 8) != 0)
        return pf_set_error(errbuf, errlen, -EINVAL, "redis URL must start with redis://");
    p = url + 8;
    r = parse_userinfo(&p, &u);
    r = r < 0 ? r : parse_host(p, &u, &rest, errbuf, errlen);
    if (r < 0)
        goto fail;
    if (*rest == ':') {
        size_t n = strcspn(rest + 1, "/");

        if (parse_num(rest + 1, n, 1, 65535, &u.port) < 0) {
            r = pf_set_error(errbuf, errlen, -EINVAL, "redis URL has a bad port");
            goto fail;
        }
        rest += 1 + n;
    }
    if (*rest == '/' && rest[1] != '\0' &&
        parse_num(rest + 1, strlen(rest + 1), 0, 1000000, &u.db) < 0) {
        r = pf_set_error(errbuf, errlen, -EINVAL, "redis URL has a bad database number");
        goto fail;
    }
    if (*rest != '\0' && *rest != '/') {
        r = pf_set_error(errbuf, errlen, -EINVAL, "redis URL has trailing characters");
        goto fail;
    }
    *ret = u;
    return 0;
fail:
    pf_redis_url_release(&u);
    return r;
}

void pf_redis_url_release(struct pf_redis_url *u)
{
    if (!u)
        return;
    pf_free(u->host);
    pf_free(u->user);
    if (u->password)
        memset(u->password, 0, strlen(u->password));
    pf_free(u->password);
    *u = (struct pf_redis_url){0};
}
