/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packages indexes as one searchable set. A Packages text is scanned once by a dedicated
 * scanner that keeps only the dozen fields the planner and the downloader read: a bookworm main
 * index is ~63k stanzas of ~20 fields, so a generic deb822 document (one heap string per field,
 * a raw copy per stanza) cost more than the planning itself. Each add owns one candidate array
 * and one chain of string blocks (an arena), so borrowed candidate pointers stay valid while
 * more indexes are added. Candidates are listed in two sorted arrays, by package name and by
 * Provides name, best version first then insertion order; a new index is sorted alone and
 * merged in, which keeps lookups a const binary search shared by planner threads without locks.
 * Version strings are validated on the way in so the comparisons in the sort can never fail.
 */
#include "pf/setup.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "pf/strv.h"
#include "deb/apt_index.h"
#include "deb/dpkg_db.h"
#include "deb/version_deb.h"

/* The deb822 limits the generic parser applied, kept so the scanner is no laxer. */
#define IDX_MAX_FIELDS ((size_t)256)
#define IDX_MAX_PARA_BYTES ((size_t)1 << 20)
/* String blocks: large enough that a bookworm main index needs a dozen of them. */
#define IDX_BLOCK_SIZE ((size_t)1 << 20)

/* A candidate, its insertion number (the tie breaker that makes sorting stable) and the line
 * of its stanza (for errors found after the scan). */
struct idx_cand {
    struct worker_apt_candidate c; /* first member: a candidate pointer is an idx_cand pointer */
    size_t seq;
    size_t line;
};

/* One Provides entry: the provided name (in an arena) and who provides it. */
struct idx_prov {
    const char *name;
    const struct idx_cand *cand;
};

/* One block of an arena; blocks never move, so strings in them stay put. */
struct idx_block {
    struct idx_block *next;
    size_t used, cap;
    char data[];
};

/* What one successful add owns. */
struct idx_seg {
    struct idx_cand *cands;
    struct idx_block *strings;
};

struct worker_apt_index {
    struct pf_strv base_urls; /* candidates borrow these strings */
    struct idx_seg *segs;
    size_t n_segs;
    const struct worker_apt_candidate **by_name; /* sorted, see cand_cmp() */
    size_t n;
    struct idx_prov *prov;                          /* sorted by name, then like by_name */
    const struct worker_apt_candidate **prov_cands; /* prov[i].cand, for returning */
    size_t n_prov;
    size_t seq;
};

/* ---- arena ---- */

static struct idx_block *blocks_free(struct idx_block *b)
{
    while (b) {
        struct idx_block *next = b->next;

        pf_free(b);
        b = next;
    }
    return NULL;
}

/* Reserves `n` bytes in the arena whose newest block is *head. Returns the bytes or NULL. */
static char *arena_alloc(struct idx_block **head, size_t n)
{
    struct idx_block *b = *head;

    if (!b || b->cap - b->used < n) {
        size_t cap = n > IDX_BLOCK_SIZE ? n : IDX_BLOCK_SIZE;

        b = pf_malloc(sizeof(*b) + cap);
        if (!b)
            return NULL;
        b->next = *head;
        b->used = 0;
        b->cap = cap;
        *head = b;
    }
    b->used += n;
    return b->data + b->used - n;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Copies a field value as deb822 reads it: the first line trimmed, each continuation line
 * right-trimmed and appended after '\n'. `s`..`e` runs from just after the colon to the end of
 * the field's last line. Returns the NUL-terminated copy in the arena or NULL.
 */
static char *arena_value(struct idx_block **head, const char *s, const char *e)
{
    const char *nl = memchr(s, '\n', (size_t)(e - s));
    const char *le = nl ? nl : e;
    char *out, *o;

    while (s < le && is_blank(*s))
        s++;
    out = arena_alloc(head, (size_t)(e - s) + 1);
    if (!out)
        return NULL;
    o = out;
    for (;;) {
        const char *t = le;

        while (t > s && is_blank(t[-1]))
            t--;
        memcpy(o, s, (size_t)(t - s));
        o += t - s;
        if (le == e)
            break;
        *o++ = '\n';
        s = le + 1;
        nl = memchr(s, '\n', (size_t)(e - s));
        le = nl ? nl : e;
    }
    *o = '\0';
    return out;
}

/* ---- index ---- */

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
    for (size_t i = 0; i < idx->n_segs; i++) {
        pf_free(idx->segs[i].cands);
        blocks_free(idx->segs[i].strings);
    }
    pf_free(idx->segs);
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

    if (a->version != b->version && worker_deb_version_compare(a->version, b->version, &cmp) == 0 &&
        cmp != 0)
        return -cmp;
    return ia->seq < ib->seq ? -1 : ia->seq > ib->seq;
}

static int cand_cmp_p(const struct worker_apt_candidate *a, const struct worker_apt_candidate *b)
{
    int r = strcmp(a->package, b->package);

    return r != 0 ? r : cand_order(a, b);
}

static int cand_cmp(const void *pa, const void *pb)
{
    return cand_cmp_p(*(const struct worker_apt_candidate *const *)pa,
                      *(const struct worker_apt_candidate *const *)pb);
}

static int prov_cmp(const void *pa, const void *pb)
{
    const struct idx_prov *a = pa, *b = pb;
    int r = strcmp(a->name, b->name);

    return r != 0 ? r : cand_order(&a->cand->c, &b->cand->c);
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

/* ---- the scanner ---- */

/* The fields kept; the order of the first six is the order missing ones are reported in. */
enum idx_field {
    IDX_F_PACKAGE,
    IDX_F_VERSION,
    IDX_F_ARCH,
    IDX_F_FILENAME,
    IDX_F_SHA256,
    IDX_F_SIZE,
    IDX_F_MULTI_ARCH,
    IDX_F_DEPENDS,
    IDX_F_PRE_DEPENDS,
    IDX_F_PROVIDES,
    IDX_F_BREAKS,
    IDX_F_SOURCE,
    IDX_F__MAX,
    IDX_F_OTHER = -1,
};

#define IDX_N_REQUIRED 6

static const char *const field_names[IDX_F__MAX] = {
    [IDX_F_PACKAGE] = "Package",         [IDX_F_VERSION] = "Version",
    [IDX_F_ARCH] = "Architecture",       [IDX_F_FILENAME] = "Filename",
    [IDX_F_SHA256] = "SHA256",           [IDX_F_SIZE] = "Size",
    [IDX_F_MULTI_ARCH] = "Multi-Arch",   [IDX_F_DEPENDS] = "Depends",
    [IDX_F_PRE_DEPENDS] = "Pre-Depends", [IDX_F_PROVIDES] = "Provides",
    [IDX_F_BREAKS] = "Breaks",           [IDX_F_SOURCE] = "Source",
};

static bool field_is(const char *s, size_t n, enum idx_field f)
{
    return strncasecmp(s, field_names[f], n) == 0;
}

/* Names the field `s` (length `n`): a length switch first, so most of the ~20 fields of a
 * stanza are dismissed without a string compare, then a case-insensitive compare as deb822
 * requires. */
static int field_of(const char *s, size_t n)
{
    static const enum idx_field len6[] = {IDX_F_SHA256, IDX_F_BREAKS, IDX_F_SOURCE};
    static const enum idx_field len7[] = {IDX_F_PACKAGE, IDX_F_VERSION, IDX_F_DEPENDS};
    static const enum idx_field len8[] = {IDX_F_FILENAME, IDX_F_PROVIDES};
    const enum idx_field *try = NULL;
    size_t n_try = 1;

    switch (n) {
    case 4:
        return field_is(s, n, IDX_F_SIZE) ? IDX_F_SIZE : IDX_F_OTHER;
    case 6:
        try = len6;
        n_try = PF_ARRAY_SIZE(len6);
        break;
    case 7:
        try = len7;
        n_try = PF_ARRAY_SIZE(len7);
        break;
    case 8:
        try = len8;
        n_try = PF_ARRAY_SIZE(len8);
        break;
    case 10:
        return field_is(s, n, IDX_F_MULTI_ARCH) ? IDX_F_MULTI_ARCH : IDX_F_OTHER;
    case 11:
        return field_is(s, n, IDX_F_PRE_DEPENDS) ? IDX_F_PRE_DEPENDS : IDX_F_OTHER;
    case 12:
        return field_is(s, n, IDX_F_ARCH) ? IDX_F_ARCH : IDX_F_OTHER;
    default:
        return IDX_F_OTHER;
    }
    for (size_t i = 0; i < n_try; i++)
        if (field_is(s, n, try[i]))
            return (int)try[i];
    return IDX_F_OTHER;
}

/* The scanner's state: the stanza being read and what the add has built so far. */
struct scan {
    const char *text, *end;
    size_t line;
    char *errbuf;
    size_t errlen;
    /* stanza being read */
    bool open;
    const char *para_start;
    size_t para_line, n_fields;
    int last; /* field continued by a continuation line, or OTHER */
    const char *vs[IDX_F__MAX], *ve[IDX_F__MAX]; /* value spans, NULL when absent */
    /* results */
    struct idx_cand *cands;
    size_t n, cap;
    struct idx_block *strings;
    const char *base_url;
    size_t seq0;
};

static int scan_fail(struct scan *s, int r, const char *msg)
{
    return pf_set_error(s->errbuf, s->errlen, r, "Packages line %zu: %s", s->line, msg);
}

/* Checks the kept values of the stanza that starts at `line`; returns 0 or -EINVAL. */
static int check_values(char *const v[IDX_F__MAX], size_t line, char *errbuf, size_t errlen)
{
    const char *name = v[IDX_F_PACKAGE];
    uint64_t size;
    int r;

    for (size_t i = 0; i < IDX_N_REQUIRED; i++)
        if (!v[i])
            return pf_set_error(errbuf, errlen, -EINVAL,
                                "Packages line %zu: stanza '%s' has no %s field", line,
                                name ? name : "?", field_names[i]);
    if (!worker_dpkg_name_valid(name))
        return pf_set_error(errbuf, errlen, -EINVAL, "Packages line %zu: invalid package name '%s'",
                            line, name);
    r = worker_dpkg_version_check(v[IDX_F_VERSION], NULL, 0);
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return pf_set_error(errbuf, errlen, -EINVAL,
                            "Packages line %zu: '%s' has invalid version '%s'", line, name,
                            v[IDX_F_VERSION]);
    if (!worker_dpkg_arch_valid(v[IDX_F_ARCH]))
        return pf_set_error(errbuf, errlen, -EINVAL,
                            "Packages line %zu: '%s' has invalid architecture '%s'", line, name,
                            v[IDX_F_ARCH]);
    if (!valid_filename(v[IDX_F_FILENAME]))
        return pf_set_error(errbuf, errlen, -EINVAL,
                            "Packages line %zu: '%s' has unsafe Filename '%s'", line, name,
                            v[IDX_F_FILENAME]);
    if (strlen(v[IDX_F_SHA256]) != 64 || strspn(v[IDX_F_SHA256], "0123456789abcdefABCDEF") != 64)
        return pf_set_error(errbuf, errlen, -EINVAL, "Packages line %zu: '%s' has malformed SHA256",
                            line, name);
    if (parse_size(v[IDX_F_SIZE], &size) < 0)
        return pf_set_error(errbuf, errlen, -EINVAL,
                            "Packages line %zu: '%s' has malformed Size '%s'", line, name,
                            v[IDX_F_SIZE]);
    return 0;
}

/* Ends the stanza being read: copies its kept values into the arena, checks them and appends
 * the candidate. Returns 0, -EINVAL or -ENOMEM. */
static int scan_close(struct scan *s)
{
    char *v[IDX_F__MAX] = {NULL};
    struct idx_cand *ic;
    int r;

    s->open = false;
    for (size_t f = 0; f < IDX_F__MAX; f++) {
        if (!s->vs[f])
            continue;
        v[f] = arena_value(&s->strings, s->vs[f], s->ve[f]);
        if (!v[f])
            return -ENOMEM;
    }
    memset(s->vs, 0, sizeof(s->vs));
    r = check_values(v, s->para_line, s->errbuf, s->errlen);
    if (r < 0)
        return r;
    if (PF_GROW(s->cands, s->cap, s->n + 1) < 0)
        return -ENOMEM;
    ic = &s->cands[s->n];
    ic->c = (struct worker_apt_candidate){
        .package = v[IDX_F_PACKAGE],
        .version = v[IDX_F_VERSION],
        .arch = v[IDX_F_ARCH],
        .multi_arch = v[IDX_F_MULTI_ARCH],
        .depends = v[IDX_F_DEPENDS],
        .pre_depends = v[IDX_F_PRE_DEPENDS],
        .provides = v[IDX_F_PROVIDES],
        .breaks = v[IDX_F_BREAKS],
        .source = v[IDX_F_SOURCE],
        .filename = v[IDX_F_FILENAME],
        .sha256 = v[IDX_F_SHA256],
        .base_url = s->base_url,
    };
    for (char *q = ic->c.sha256; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    (void)parse_size(v[IDX_F_SIZE], &ic->c.size);
    ic->seq = s->seq0 + s->n;
    ic->line = s->para_line;
    s->n++;
    return 0;
}

/* A field line "Name: value" (deb822's rules for names), opening a stanza when none is. */
static int scan_field(struct scan *s, const char *ls, const char *le)
{
    const char *colon = memchr(ls, ':', (size_t)(le - ls));
    int f;

    if (!colon)
        return scan_fail(s, -EINVAL, "field has no ':'");
    if (colon == ls || *ls == '-')
        return scan_fail(s, -EINVAL, "invalid field name");
    for (const char *c = ls; c < colon; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c > '~')
            return scan_fail(s, -EINVAL, "invalid character in field name");
    if (!s->open) {
        if (s->n >= WORKER_APT_INDEX_MAX_STANZAS)
            return scan_fail(s, -E2BIG, "too many paragraphs");
        s->open = true;
        s->para_start = ls;
        s->para_line = s->line;
        s->n_fields = 0;
    }
    if (s->n_fields >= IDX_MAX_FIELDS)
        return scan_fail(s, -E2BIG, "too many fields in paragraph");
    s->n_fields++;
    /* Only kept fields are checked for duplicates: the others are never read. */
    f = field_of(ls, (size_t)(colon - ls));
    if (f != IDX_F_OTHER) {
        if (s->vs[f])
            return scan_fail(s, -EINVAL, "duplicate field");
        s->vs[f] = colon + 1;
        s->ve[f] = le;
    }
    s->last = f;
    return 0;
}

/* One line, `ls` to `le` (its '\n' or the end of the text). */
static int scan_line(struct scan *s, const char *ls, const char *le)
{
    const char *c = ls;

    while (c < le && is_blank(*c))
        c++;
    if (c == le)
        return s->open ? scan_close(s) : 0;
    if (s->open && (size_t)(le - s->para_start) > IDX_MAX_PARA_BYTES)
        return scan_fail(s, -E2BIG, "paragraph too large");
    if (*ls == '#')
        return scan_fail(s, -EINVAL, "comment line not allowed here");
    if (*ls == ' ' || *ls == '\t') {
        if (!s->open)
            return scan_fail(s, -EINVAL, "continuation line outside a field");
        if (s->last != IDX_F_OTHER)
            s->ve[s->last] = le;
        return 0;
    }
    if ((size_t)(le - ls) > IDX_MAX_PARA_BYTES)
        return scan_fail(s, -E2BIG, "line too long");
    return scan_field(s, ls, le);
}

/* Scans the whole text into s->cands. Returns 0 or a negative errno (errbuf set). */
static int scan_text(struct scan *s)
{
    const char *ls = s->text, *nul = memchr(s->text, '\0', (size_t)(s->end - s->text));
    int r = 0;

    if (nul) {
        for (const char *c = s->text; c < nul; c++)
            s->line += *c == '\n';
        return scan_fail(s, -EINVAL, "NUL byte in input");
    }
    while (ls < s->end && r >= 0) {
        const char *le = memchr(ls, '\n', (size_t)(s->end - ls));

        if (!le)
            le = s->end;
        r = scan_line(s, ls, le);
        ls = le < s->end ? le + 1 : s->end;
        s->line++;
    }
    if (r >= 0 && s->open)
        r = scan_close(s);
    return r;
}

/* ---- Provides and merging ---- */

struct prov_collect {
    struct idx_prov *v;
    size_t n, cap;
    const struct idx_cand *cand;
    struct idx_block **strings;
};

static int prov_collect_cb(const char *name, const char *version, void *userdata)
{
    struct prov_collect *pc = userdata;
    size_t len = strlen(name);
    char *copy;

    (void)version;
    if (PF_GROW(pc->v, pc->cap, pc->n + 1) < 0)
        return -ENOMEM;
    copy = arena_alloc(pc->strings, len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, name, len + 1);
    pc->v[pc->n].name = copy;
    pc->v[pc->n].cand = pc->cand;
    pc->n++;
    return 0;
}

/* Collects the Provides entries of the scanned candidates. Returns 0, -EINVAL or -ENOMEM. */
static int collect_provides(struct scan *s, struct prov_collect *pc)
{
    pc->strings = &s->strings;
    for (size_t i = 0; i < s->n; i++) {
        int r;

        if (!s->cands[i].c.provides)
            continue;
        pc->cand = &s->cands[i];
        r = worker_apt_provides_foreach(s->cands[i].c.provides, prov_collect_cb, pc);
        if (r == -EINVAL)
            (void)pf_set_error(s->errbuf, s->errlen, 0,
                               "Packages line %zu: '%s' has malformed Provides", s->cands[i].line,
                               s->cands[i].c.package);
        if (r < 0)
            return r;
    }
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

/* Grows the index's arrays for `n` more candidates and `n_prov` more provides. The arrays only
 * grow, so a failure leaves the index as it was (just with more room). */
static int index_reserve(struct worker_apt_index *idx, size_t n, size_t n_prov)
{
    const struct worker_apt_candidate **bn, **pcv;
    struct idx_prov *pv;
    struct idx_seg *segs;

    segs = pf_realloc(idx->segs, (idx->n_segs + 1) * sizeof(*segs));
    if (!segs)
        return -ENOMEM;
    idx->segs = segs;
    bn = pf_realloc(idx->by_name, (idx->n + n + 1) * sizeof(*bn));
    if (!bn)
        return -ENOMEM;
    idx->by_name = bn;
    pv = pf_realloc(idx->prov, (idx->n_prov + n_prov + 1) * sizeof(*pv));
    if (!pv)
        return -ENOMEM;
    idx->prov = pv;
    pcv = pf_realloc(idx->prov_cands, (idx->n_prov + n_prov + 1) * sizeof(*pcv));
    if (!pcv)
        return -ENOMEM;
    idx->prov_cands = pcv;
    return 0;
}

/* Moves the scanned candidates and provides into the index: the new ones are sorted alone and
 * merged from the back into the sorted arrays (all new candidates come after the old ones in
 * insertion order). Steals s->cands, s->strings and pc->v's entries. */
static int index_merge(struct worker_apt_index *idx, struct scan *s, struct prov_collect *pc)
{
    const struct worker_apt_candidate **add = pf_malloc((s->n + 1) * sizeof(*add));
    size_t i, j, k;
    int r;

    if (!add)
        return -ENOMEM;
    r = index_reserve(idx, s->n, pc->n);
    if (r < 0) {
        pf_free(add);
        return r;
    }
    for (i = 0; i < s->n; i++)
        add[i] = &s->cands[i].c;
    qsort(add, s->n, sizeof(*add), cand_cmp);
    if (pc->n > 0)
        qsort(pc->v, pc->n, sizeof(*pc->v), prov_cmp);
    /* i, j: how many old and new entries are still to place; k: where the next one goes. */
    for (i = idx->n, j = s->n, k = idx->n + s->n; j > 0; k--) {
        if (i > 0 && cand_cmp_p(idx->by_name[i - 1], add[j - 1]) > 0)
            idx->by_name[k - 1] = idx->by_name[--i];
        else
            idx->by_name[k - 1] = add[--j];
    }
    for (i = idx->n_prov, j = pc->n, k = idx->n_prov + pc->n; j > 0; k--) {
        if (i > 0 && prov_cmp(&idx->prov[i - 1], &pc->v[j - 1]) > 0)
            idx->prov[k - 1] = idx->prov[--i];
        else
            idx->prov[k - 1] = pc->v[--j];
    }
    idx->n += s->n;
    idx->n_prov += pc->n;
    for (i = 0; i < idx->n_prov; i++)
        idx->prov_cands[i] = &idx->prov[i].cand->c;
    idx->segs[idx->n_segs++] = (struct idx_seg){.cands = s->cands, .strings = s->strings};
    s->cands = NULL;
    s->strings = NULL;
    pf_free(add);
    return 0;
}

int worker_apt_index_add_packages(struct worker_apt_index *idx, const char *base_url,
                                  const char *text, size_t len, char *errbuf, size_t errlen)
{
    struct scan s = {.text = text,
                     .end = text + len,
                     .line = 1,
                     .errbuf = errbuf,
                     .errlen = errlen,
                     .last = IDX_F_OTHER,
                     .seq0 = idx->seq};
    struct prov_collect pc = {0};
    int r;

    if (len > WORKER_APT_INDEX_MAX_INPUT)
        return pf_set_error(errbuf, errlen, -E2BIG,
                            "Packages index of '%s' is larger than %zu bytes", base_url,
                            WORKER_APT_INDEX_MAX_INPUT);
    s.base_url = intern_base_url(idx, base_url);
    if (!s.base_url) {
        r = -ENOMEM;
        goto out;
    }
    r = scan_text(&s);
    if (r >= 0)
        r = collect_provides(&s, &pc);
    if (r >= 0)
        r = index_merge(idx, &s, &pc);
    if (r < 0)
        goto out;
    idx->seq += s.n;
    r = (int)s.n;
out:
    pf_free(s.cands);
    blocks_free(s.strings);
    pf_free(pc.v);
    if (r == -ENOMEM)
        (void)pf_set_error(errbuf, errlen, 0, "out of memory while indexing Packages of '%s'",
                           base_url);
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
