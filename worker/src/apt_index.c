/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packages indexes as one searchable set. Candidates are allocated one by one (so the borrowed
 * pointers the planner keeps stay valid while more indexes are added) and listed in two sorted
 * arrays: by package name and by Provides name, each ordered best version first and then by
 * insertion order. Sorting after each add keeps lookups a const binary search, which lets many
 * planner calls share one index without locking. Version strings are validated on the way in so
 * the comparisons in the sort can never fail.
 */
#include "pf/setup.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "pf/strv.h"
#include "worker/apt_index.h"
#include "worker/deb822.h"
#include "worker/version.h"

/* A candidate and its insertion number (the tie breaker that makes sorting stable). */
struct idx_cand {
    struct worker_apt_candidate c; /* first member: a candidate pointer is an idx_cand pointer */
    size_t seq;
};

/* One Provides entry: the provided name and who provides it. */
struct idx_prov {
    char *name;
    const struct idx_cand *cand;
};

struct worker_apt_index {
    struct pf_strv base_urls;                 /* candidates borrow these strings */
    const struct worker_apt_candidate **by_name; /* sorted, see cand_cmp() */
    size_t n, cap;
    struct idx_prov *prov;                    /* sorted by name, then like by_name */
    const struct worker_apt_candidate **prov_cands; /* prov[i].cand, for returning */
    size_t n_prov, cap_prov;
    size_t seq;
};

static void cand_free(struct worker_apt_candidate *c)
{
    if (!c)
        return;
    pf_free(c->package);
    pf_free(c->version);
    pf_free(c->arch);
    pf_free(c->multi_arch);
    pf_free(c->depends);
    pf_free(c->pre_depends);
    pf_free(c->provides);
    pf_free(c->breaks);
    pf_free(c->source);
    pf_free(c->filename);
    pf_free(c->sha256);
    pf_free(c);
}

int worker_apt_index_new(struct worker_apt_index **ret)
{
    struct worker_apt_index *idx = pf_calloc(1, sizeof(*idx));

    if (!idx)
        return -ENOMEM;
    *ret = idx;
    return 0;
}

struct worker_apt_index *worker_apt_index_free(struct worker_apt_index *idx)
{
    if (!idx)
        return NULL;
    for (size_t i = 0; i < idx->n; i++)
        cand_free((struct worker_apt_candidate *)(uintptr_t)idx->by_name[i]);
    for (size_t i = 0; i < idx->n_prov; i++)
        pf_free(idx->prov[i].name);
    pf_free(idx->by_name);
    pf_free(idx->prov);
    pf_free(idx->prov_cands);
    pf_strv_clear(&idx->base_urls);
    return pf_free(idx);
}

size_t worker_apt_index_size(const struct worker_apt_index *idx)
{
    return idx ? idx->n : 0;
}

/* Same name: best version first, then insertion order. Versions were validated on add. */
static int cand_order(const struct worker_apt_candidate *a, const struct worker_apt_candidate *b)
{
    const struct idx_cand *ia = (const struct idx_cand *)(const void *)a;
    const struct idx_cand *ib = (const struct idx_cand *)(const void *)b;
    int cmp = 0;

    if (worker_deb_version_compare(a->version, b->version, &cmp) == 0 && cmp != 0)
        return -cmp;
    return ia->seq < ib->seq ? -1 : ia->seq > ib->seq;
}

static int cand_cmp(const void *pa, const void *pb)
{
    const struct worker_apt_candidate *a = *(const struct worker_apt_candidate *const *)pa;
    const struct worker_apt_candidate *b = *(const struct worker_apt_candidate *const *)pb;
    int r = strcmp(a->package, b->package);

    return r != 0 ? r : cand_order(a, b);
}

static int prov_cmp(const void *pa, const void *pb)
{
    const struct idx_prov *a = pa, *b = pb;
    int r = strcmp(a->name, b->name);

    return r != 0 ? r : cand_order(&a->cand->c, &b->cand->c);
}

/* Package names: dpkg's rule, lowercase alphanumerics and + - . , starting alphanumeric. */
static bool valid_pkg_name(const char *s)
{
    if (!islower((unsigned char)s[0]) && !isdigit((unsigned char)s[0]))
        return false;
    for (const char *p = s; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && !strchr("+-.", *p))
            return false;
    return true;
}

static bool valid_word(const char *s)
{
    if (!*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("+-._", *p))
            return false;
    return true;
}

/* A Filename becomes a URL path and a cache file name: relative, no "..", no odd bytes. */
static bool valid_filename(const char *s)
{
    const char *p = s;

    if (!*s || *s == '/')
        return false;
    for (; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || strchr("?#%\\", *p))
            return false;
    p = s;
    while (*p) {
        size_t l = strcspn(p, "/");

        if (l == 0 || (l == 2 && p[0] == '.' && p[1] == '.') || (l == 1 && p[0] == '.'))
            return false;
        p += l;
        if (*p == '/')
            p++;
    }
    return true;
}

static int parse_size(const char *s, uint64_t *ret)
{
    unsigned long long v;
    char *end = NULL;

    if (!isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -EINVAL;
    *ret = (uint64_t)v;
    return 0;
}

/* Copies an optional field; returns 0 or -ENOMEM. */
static int dup_opt(const struct worker_deb822_para *p, const char *name, char **ret)
{
    const char *v = worker_deb822_para_get(p, name);

    *ret = NULL;
    if (!v)
        return 0;
    *ret = pf_strdup(v);
    return *ret ? 0 : -ENOMEM;
}

/* Checks the required fields of one stanza; returns 0 or -EINVAL with the reason. */
static int check_stanza(const struct worker_deb822_para *p, char *errbuf, size_t errlen)
{
    static const char *const required[] = {"Package", "Version", "Architecture", "Filename",
                                            "SHA256", "Size"};
    const char *name = worker_deb822_para_get(p, "Package");
    const char *v;
    uint64_t size;

    for (size_t i = 0; i < PF_ARRAY_SIZE(required); i++) {
        if (!worker_deb822_para_get(p, required[i])) {
            (void)pf_set_error(errbuf, errlen, 0, "Packages line %zu: stanza '%s' has no %s field", p->line,
                    name ? name : "?", required[i]);
            return -EINVAL;
        }
    }
    if (!valid_pkg_name(name)) {
        (void)pf_set_error(errbuf, errlen, 0, "Packages line %zu: invalid package name '%s'", p->line, name);
        return -EINVAL;
    }
    v = worker_deb822_para_get(p, "Version");
    if (worker_deb_version_compare(v, v, &(int){0}) < 0) {
        (void)pf_set_error(errbuf, errlen, 0, "Packages line %zu: '%s' has invalid version '%s'", p->line,
                name, v);
        return -EINVAL;
    }
    v = worker_deb822_para_get(p, "Architecture");
    if (!valid_word(v)) {
        (void)pf_set_error(errbuf, errlen, 0, "Packages line %zu: '%s' has invalid architecture '%s'",
                p->line, name, v);
        return -EINVAL;
    }
    v = worker_deb822_para_get(p, "Filename");
    if (!valid_filename(v)) {
        (void)pf_set_error(errbuf, errlen, 0, "Packages line %zu: '%s' has unsafe Filename '%s'", p->line,
                name, v);
        return -EINVAL;
    }
    v = worker_deb822_para_get(p, "SHA256");
    if (strlen(v) != 64 || strspn(v, "0123456789abcdefABCDEF") != 64) {
        (void)pf_set_error(errbuf, errlen, 0, "Packages line %zu: '%s' has malformed SHA256", p->line, name);
        return -EINVAL;
    }
    if (parse_size(worker_deb822_para_get(p, "Size"), &size) < 0) {
        (void)pf_set_error(errbuf, errlen, 0, "Packages line %zu: '%s' has malformed Size '%s'", p->line, name,
                worker_deb822_para_get(p, "Size"));
        return -EINVAL;
    }
    return 0;
}

/* Builds a candidate from a checked stanza. Returns 0 and *ret, or -ENOMEM. */
static int cand_from_para(const struct worker_deb822_para *p, const char *base_url,
                          struct idx_cand **ret)
{
    struct idx_cand *ic = pf_calloc(1, sizeof(*ic));
    struct worker_apt_candidate *c;
    int r = 0;

    if (!ic)
        return -ENOMEM;
    c = &ic->c;
    r |= dup_opt(p, "Package", &c->package);
    r |= dup_opt(p, "Version", &c->version);
    r |= dup_opt(p, "Architecture", &c->arch);
    r |= dup_opt(p, "Multi-Arch", &c->multi_arch);
    r |= dup_opt(p, "Depends", &c->depends);
    r |= dup_opt(p, "Pre-Depends", &c->pre_depends);
    r |= dup_opt(p, "Provides", &c->provides);
    r |= dup_opt(p, "Breaks", &c->breaks);
    r |= dup_opt(p, "Source", &c->source);
    r |= dup_opt(p, "Filename", &c->filename);
    r |= dup_opt(p, "SHA256", &c->sha256);
    if (r != 0) {
        cand_free(c);
        return -ENOMEM;
    }
    for (char *q = c->sha256; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    (void)parse_size(worker_deb822_para_get(p, "Size"), &c->size);
    c->base_url = base_url;
    *ret = ic;
    return 0;
}

struct prov_collect {
    struct idx_prov *v;
    size_t n, cap;
    const struct idx_cand *cand;
};

static int prov_collect_cb(const char *name, const char *version, void *userdata)
{
    struct prov_collect *pc = userdata;
    char *copy;

    (void)version;
    if (pc->n == pc->cap) {
        size_t cap = pc->cap ? pc->cap * 2 : 64;
        struct idx_prov *v = pf_realloc(pc->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        pc->v = v;
        pc->cap = cap;
    }
    copy = pf_strdup(name);
    if (!copy)
        return -ENOMEM;
    pc->v[pc->n].name = copy;
    pc->v[pc->n].cand = pc->cand;
    pc->n++;
    return 0;
}

static const char *intern_base_url(struct worker_apt_index *idx, const char *base_url)
{
    long i = pf_strv_find(&idx->base_urls, base_url);

    if (i >= 0)
        return idx->base_urls.v[i];
    if (pf_strv_push(&idx->base_urls, base_url) < 0)
        return NULL;
    return idx->base_urls.v[idx->base_urls.n - 1];
}

/* Moves the new candidates and provides into the index, growing its arrays first so nothing
 * can fail after the first move. */
static int index_merge(struct worker_apt_index *idx, struct idx_cand **cands, size_t n,
                       struct prov_collect *pc)
{
    const struct worker_apt_candidate **bn = NULL, **pcv = NULL;
    struct idx_prov *pv = NULL;

    bn = pf_realloc(idx->by_name, (idx->n + n + 1) * sizeof(*bn));
    if (!bn)
        return -ENOMEM;
    idx->by_name = bn;
    pv = pf_realloc(idx->prov, (idx->n_prov + pc->n + 1) * sizeof(*pv));
    if (!pv)
        return -ENOMEM;
    idx->prov = pv;
    pcv = pf_realloc(idx->prov_cands, (idx->n_prov + pc->n + 1) * sizeof(*pcv));
    if (!pcv)
        return -ENOMEM;
    idx->prov_cands = pcv;
    for (size_t i = 0; i < n; i++)
        idx->by_name[idx->n++] = &cands[i]->c;
    for (size_t i = 0; i < pc->n; i++)
        idx->prov[idx->n_prov++] = pc->v[i];
    qsort(idx->by_name, idx->n, sizeof(*idx->by_name), cand_cmp);
    qsort(idx->prov, idx->n_prov, sizeof(*idx->prov), prov_cmp);
    for (size_t i = 0; i < idx->n_prov; i++)
        idx->prov_cands[i] = &idx->prov[i].cand->c;
    return 0;
}

int worker_apt_index_add_packages(struct worker_apt_index *idx, const char *base_url,
                                  const char *text, size_t len, char *errbuf, size_t errlen)
{
    const struct worker_deb822_opts opts = {
        .max_input = WORKER_APT_INDEX_MAX_INPUT,
        .max_paras = WORKER_APT_INDEX_MAX_STANZAS,
    };
    struct worker_deb822_doc doc = WORKER_DEB822_DOC_INIT;
    struct prov_collect pc = {0};
    struct idx_cand **cands = NULL;
    const char *burl;
    size_t n = 0;
    int r;

    if (len > WORKER_APT_INDEX_MAX_INPUT) {
        (void)pf_set_error(errbuf, errlen, 0, "Packages index of '%s' is larger than %zu bytes", base_url,
                WORKER_APT_INDEX_MAX_INPUT);
        return -E2BIG;
    }
    r = worker_deb822_parse(text, len, &opts, &doc, errbuf, errlen);
    if (r < 0)
        return r;
    burl = intern_base_url(idx, base_url);
    cands = pf_calloc(doc.n + 1, sizeof(*cands));
    if (!burl || !cands) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < doc.n; i++) {
        r = check_stanza(&doc.paras[i], errbuf, errlen);
        if (r < 0)
            goto out;
    }
    for (; n < doc.n; n++) {
        r = cand_from_para(&doc.paras[n], burl, &cands[n]);
        if (r < 0)
            goto out;
        cands[n]->seq = idx->seq + n;
        pc.cand = cands[n];
        r = worker_apt_provides_foreach(cands[n]->c.provides, prov_collect_cb, &pc);
        if (r == -EINVAL)
            (void)pf_set_error(errbuf, errlen, 0, "Packages line %zu: '%s' has malformed Provides",
                    doc.paras[n].line, cands[n]->c.package);
        if (r < 0) {
            n++;
            goto out;
        }
    }
    r = index_merge(idx, cands, n, &pc);
    if (r < 0)
        goto out;
    idx->seq += n;
    r = (int)n;
    n = 0;
    pc.n = 0;
out:
    for (size_t i = 0; i < n; i++)
        cand_free(cands[i] ? &cands[i]->c : NULL);
    for (size_t i = 0; i < pc.n; i++)
        pf_free(pc.v[i].name);
    pf_free(pc.v);
    pf_free(cands);
    worker_deb822_doc_clear(&doc);
    if (r == -ENOMEM)
        (void)pf_set_error(errbuf, errlen, 0, "out of memory while indexing Packages of '%s'", base_url);
    return r;
}

size_t worker_apt_index_lookup(const struct worker_apt_index *idx, const char *name,
                               const struct worker_apt_candidate *const **ret)
{
    size_t lo = 0, hi = idx->n, end;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(idx->by_name[mid]->package, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (end = lo; end < idx->n && strcmp(idx->by_name[end]->package, name) == 0; end++)
        ;
    *ret = end > lo ? (const struct worker_apt_candidate *const *)&idx->by_name[lo] : NULL;
    return end - lo;
}

size_t worker_apt_index_providers(const struct worker_apt_index *idx, const char *name,
                                  const struct worker_apt_candidate *const **ret)
{
    size_t lo = 0, hi = idx->n_prov, end;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(idx->prov[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (end = lo; end < idx->n_prov && strcmp(idx->prov[end].name, name) == 0; end++)
        ;
    *ret = end > lo ? (const struct worker_apt_candidate *const *)&idx->prov_cands[lo] : NULL;
    return end - lo;
}

/* Parses one trimmed Provides entry "name[:arch] [(= version)]" into its name and version. */
static int provides_entry(const char *s, size_t len,
                          int (*cb)(const char *name, const char *version, void *userdata),
                          void *userdata)
{
    char *e = pf_strndup(s, len), *p, *name_end, *ver = NULL;
    int r = -EINVAL;

    if (!e)
        return -ENOMEM;
    p = e + strcspn(e, " \t\n(:");
    name_end = p;
    if (*p == ':')
        p += strcspn(p, " \t\n(");
    p += strspn(p, " \t\n");
    if (*p == '(') {
        char *close = strchr(p, ')');

        p++;
        p += strspn(p, " \t\n");
        if (!close || p[0] != '=' || close[1 + strspn(close + 1, " \t\n")] != '\0')
            goto out;
        p++;
        if (*p == '=')
            p++;
        p += strspn(p, " \t\n");
        ver = p;
        *close = '\0';
        ver[strcspn(ver, " \t\n")] = '\0';
        if (!*ver)
            goto out;
    } else if (*p) {
        goto out;
    }
    *name_end = '\0';
    if (!*e)
        goto out;
    r = cb(e, ver, userdata);
out:
    pf_free(e);
    return r;
}

int worker_apt_provides_foreach(const char *provides,
                                int (*cb)(const char *name, const char *version, void *userdata),
                                void *userdata)
{
    const char *p = provides;

    if (!p)
        return 0;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *s = p, *e = p + len;
        int r;

        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        if (e > s) {
            r = provides_entry(s, (size_t)(e - s), cb, userdata);
            if (r != 0)
                return r;
        } else if (p[len] == ',' || p != provides) {
            /* "a,,b" or a trailing comma: apt refuses an empty entry too. */
            return -EINVAL;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}
