/* SPDX-License-Identifier: Apache-2.0 */
/* dpkg stat overrides (see worker/dpkg_statoverride.h). */
#include "pf/setup.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "deb/dpkg_statoverride.h"
#include "image/layer_view.h"

#define ID_MAX 0xfffffffeUL /* (uint32_t)-1 means "no change" to chown(2): never an owner */

/* Parses a decimal id of `len` bytes. */
static bool parse_id(const char *s, size_t len, uint32_t *ret)
{
    unsigned long v = 0;

    if (len == 0 || len > 10)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > ID_MAX)
        return false;
    *ret = (uint32_t)v;
    return true;
}

/* The id of `name` (`len` bytes) in a passwd/group file: "name:x:ID:...". */
static bool lookup_name(const char *db, const char *name, size_t len, uint32_t *ret)
{
    for (const char *l = db; l && *l;) {
        const char *nl = strchr(l, '\n'), *end = nl ? nl : l + strlen(l);

        if ((size_t)(end - l) > len + 1 && memcmp(l, name, len) == 0 && l[len] == ':') {
            const char *pw = l + len + 1, *id = memchr(pw, ':', (size_t)(end - pw)), *idend;

            if (!id)
                return false;
            id++;
            idend = memchr(id, ':', (size_t)(end - id));
            return parse_id(id, (size_t)((idend ? idend : end) - id), ret);
        }
        l = nl ? nl + 1 : end;
    }
    return false;
}

/* USER or GROUP: "#ID" or a name from `db`. */
static int resolve_owner(const char *f, size_t len, const char *db, const char *dbname,
                         unsigned line, uint32_t *ret, char *errbuf, size_t errlen)
{
    if (len > 1 && f[0] == '#') {
        if (parse_id(f + 1, len - 1, ret))
            return 0;
        return pf_set_error(errbuf, errlen, -EINVAL, "statoverride line %u: bad id '%.*s'", line,
                            (int)len, f);
    }
    if (db && lookup_name(db, f, len, ret))
        return 0;
    if (len == 4 && memcmp(f, "root", 4) == 0) {
        *ret = 0; /* root is 0 on every Debian system, listed or not (images without passwd) */
        return 0;
    }
    return pf_set_error(errbuf, errlen, -EINVAL,
                        "statoverride line %u: '%.*s' is not in the image's %s", line,
                        (int)(len > 64 ? 64 : len), f, dbname);
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct worker_dpkg_statoverride *)a)->path,
                  ((const struct worker_dpkg_statoverride *)b)->path);
}

/* One line: "USER GROUP MODE PATH" (PATH is the rest, spaces included). */
static int parse_line(const char *l, size_t len, unsigned line, const char *passwd,
                      const char *group, struct worker_dpkg_statoverride *ret, char *errbuf,
                      size_t errlen)
{
    const char *f[3], *end = l + len, *p = l;
    size_t flen[3];
    unsigned long mode;
    char *mend, mbuf[16];
    int r;

    for (int i = 0; i < 3; i++) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));

        if (!sp || sp == p)
            return pf_set_error(errbuf, errlen, -EINVAL,
                                "statoverride line %u: want 'USER GROUP MODE PATH'", line);
        f[i] = p;
        flen[i] = (size_t)(sp - p);
        p = sp + 1;
    }
    if (p == end || *p != '/')
        return pf_set_error(errbuf, errlen, -EINVAL,
                            "statoverride line %u: the path must be absolute", line);
    if (flen[2] >= sizeof(mbuf))
        return pf_set_error(errbuf, errlen, -EINVAL, "statoverride line %u: bad mode", line);
    memcpy(mbuf, f[2], flen[2]);
    mbuf[flen[2]] = '\0';
    mode = strtoul(mbuf, &mend, 8);
    if (*mend || mbuf[0] == '-' || mode > 07777)
        return pf_set_error(errbuf, errlen, -EINVAL, "statoverride line %u: bad mode '%s'", line,
                            mbuf);
    r = resolve_owner(f[0], flen[0], passwd, "etc/passwd", line, &ret->uid, errbuf, errlen);
    if (r == 0)
        r = resolve_owner(f[1], flen[1], group, "etc/group", line, &ret->gid, errbuf, errlen);
    if (r < 0)
        return r;
    ret->mode = (uint32_t)mode;
    /* dpkg stores the path without a trailing slash; be as lenient for a hand-edited one. */
    while (end - p > 1 && end[-1] == '/')
        end--;
    ret->path = pf_strndup(p, (size_t)(end - p));
    return ret->path ? 0 : -ENOMEM;
}

int worker_dpkg_statoverrides_parse(const char *text, size_t len, const char *passwd,
                                    const char *group, struct worker_dpkg_statoverrides *ret,
                                    char *errbuf, size_t errlen)
{
    struct worker_dpkg_statoverrides s = {0};
    size_t cap = 0;
    unsigned line = 0;
    int r = 0;

    for (const char *l = text, *end = text + len; r == 0 && l < end;) {
        const char *nl = memchr(l, '\n', (size_t)(end - l));
        size_t n = (size_t)((nl ? nl : end) - l);

        line++;
        if (n > 0) {
            r = PF_GROW(s.v, cap, s.n + 1);
            if (r < 0)
                break;
            r = parse_line(l, n, line, passwd, group, &s.v[s.n], errbuf, errlen);
            if (r == 0)
                s.n++;
        }
        l = nl ? nl + 1 : end;
    }
    if (r < 0) {
        worker_dpkg_statoverrides_release(&s);
        return r;
    }
    if (s.n)
        qsort(s.v, s.n, sizeof(*s.v), by_path);
    *ret = s;
    return 0;
}

/* A kept file of the view, NUL-terminated, or NULL when absent. */
static int read_optional(const struct worker_layer_view *view, const char *path, const char **ret,
                         size_t *ret_len, char *errbuf, size_t errlen)
{
    int r = worker_layer_view_read(view, path, ret, ret_len);

    if (r == -ENOENT) {
        *ret = NULL;
        *ret_len = 0;
        return 0;
    }
    if (r < 0)
        return pf_set_error(errbuf, errlen, r, "cannot read %s from the image: %s", path,
                            strerror(-r));
    return 0;
}

int worker_dpkg_statoverrides_load(const struct worker_layer_view *view,
                                   struct worker_dpkg_statoverrides *ret, char *errbuf,
                                   size_t errlen)
{
    const char *text, *passwd, *group;
    size_t len, plen, glen;
    int r;

    memset(ret, 0, sizeof(*ret));
    r = read_optional(view, WORKER_DPKG_STATOVERRIDE_FILE, &text, &len, errbuf, errlen);
    if (r < 0 || !text)
        return r;
    r = read_optional(view, "etc/passwd", &passwd, &plen, errbuf, errlen);
    if (r == 0)
        r = read_optional(view, "etc/group", &group, &glen, errbuf, errlen);
    if (r == 0)
        r = worker_dpkg_statoverrides_parse(text, len, passwd, group, ret, errbuf, errlen);
    /* Name the file: the line number alone does not say which one. */
    return r == -EINVAL ? pf_prefix_error(errbuf, errlen, r, "/%s: ", WORKER_DPKG_STATOVERRIDE_FILE)
                        : r;
}

const struct worker_dpkg_statoverride *
worker_dpkg_statoverrides_find(const struct worker_dpkg_statoverrides *s, const char *path)
{
    struct worker_dpkg_statoverride key = {.path = (char *)(uintptr_t)path};

    if (!s || !s->n)
        return NULL;
    return bsearch(&key, s->v, s->n, sizeof(*s->v), by_path);
}

void worker_dpkg_statoverrides_release(struct worker_dpkg_statoverrides *s)
{
    for (size_t i = 0; i < s->n; i++)
        pf_free(s->v[i].path);
    pf_free(s->v);
    memset(s, 0, sizeof(*s));
}
