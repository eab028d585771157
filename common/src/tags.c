/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tag selection: turns a PatchConfig `tags` entry plus the repository's tag list into the tags
 * to patch. Copa drops every tag Masterminds/semver refuses, silently narrows "latest" to
 * semver, and sorts unstably; here the order is total (versions numerically, then the raw
 * string; everything else in natural order), every dropped tag yields a warning, and the
 * fallbacks Copa's documentation promises (natural order for non-version patterns, creation
 * time for `latest`) exist. The functions are pure apart from the `created` callback, so each
 * rule has a unit test without a registry. See docs/tag-selection.md.
 */
#include "pf/setup.h"

#include <stdlib.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/ref.h"
#include "pf/regex.h"
#include "pf/tags.h"

/* More parts than this is not a version anyone writes; it also bounds the parse. */
#define TAG_VERSION_MAX_PARTS 16
/* The `latest` fallback costs one registry round trip per tag, so it looks at this many. */
#define TAG_LATEST_MAX_CREATED_CALLS 1000

struct tag_version {
    uint64_t part[TAG_VERSION_MAX_PARTS];
    size_t n;
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_meta_char(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
}

/* [v]N(.N)*[+meta], every N fitting in uint64, at most TAG_VERSION_MAX_PARTS parts. */
static bool version_parse(const char *s, struct tag_version *ret)
{
    struct tag_version v = {.n = 0};
    const char *p = s;

    if (*p == 'v')
        p++;
    for (;;) {
        uint64_t n = 0;

        if (!is_digit(*p) || v.n == TAG_VERSION_MAX_PARTS)
            return false;
        while (is_digit(*p)) {
            uint64_t d = (uint64_t)(*p - '0');

            if (n > (UINT64_MAX - d) / 10)
                return false;
            n = n * 10 + d;
            p++;
        }
        v.part[v.n++] = n;
        if (*p != '.')
            break;
        p++;
    }
    if (*p == '+') {
        p++;
        if (!*p)
            return false;
        while (is_meta_char(*p))
            p++;
    }
    if (*p)
        return false; /* "-suffix" (prerelease or variant) or anything else */
    *ret = v;
    return true;
}

bool pf_tag_is_version(const char *tag)
{
    struct tag_version v;

    return tag && version_parse(tag, &v);
}

static int version_compare(const struct tag_version *a, const struct tag_version *b)
{
    size_t n = a->n > b->n ? a->n : b->n;

    for (size_t i = 0; i < n; i++) {
        uint64_t x = i < a->n ? a->part[i] : 0;
        uint64_t y = i < b->n ? b->part[i] : 0;

        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

/* Natural order: runs of digits compare as numbers (without overflow: by length after leading
 * zeros, then digit by digit), everything else byte by byte. */
static int natural_compare(const char *a, const char *b)
{
    while (*a && *b) {
        if (is_digit(*a) && is_digit(*b)) {
            const char *ea, *eb;
            size_t la, lb;
            int c;

            while (*a == '0' && is_digit(a[1]))
                a++;
            while (*b == '0' && is_digit(b[1]))
                b++;
            for (ea = a; is_digit(*ea); ea++)
                ;
            for (eb = b; is_digit(*eb); eb++)
                ;
            la = (size_t)(ea - a);
            lb = (size_t)(eb - b);
            if (la != lb)
                return la < lb ? -1 : 1;
            c = memcmp(a, b, la);
            if (c != 0)
                return c < 0 ? -1 : 1;
            a = ea;
            b = eb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    if (*a || *b)
        return *a ? 1 : -1;
    return 0;
}

int pf_tag_compare(const char *a, const char *b)
{
    struct tag_version va, vb;
    bool is_va = version_parse(a, &va);
    bool is_vb = version_parse(b, &vb);
    int c;

    if (is_va != is_vb)
        return is_va ? 1 : -1;
    c = is_va ? version_compare(&va, &vb) : natural_compare(a, b);
    if (c != 0)
        return c;
    c = strcmp(a, b);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
}

static int compare_ptr(const void *a, const void *b)
{
    return pf_tag_compare(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The tags of `available` not in `exclude` and (when `re` is set) matching it, sorted by
 * pf_tag_compare() without duplicates. The strings are borrowed from `available`; the array
 * is new (NULL when empty). A tag the regex engine gives up on is warned about, not dropped
 * silently. Returns 0 or -ENOMEM.
 */
static int collect_candidates(const struct pf_strv *available, const struct pf_tag_spec *spec,
                              const struct pf_regex *re, struct pf_tag_selection *sel,
                              const char ***ret, size_t *ret_n, size_t *ret_excluded)
{
    const char **v = NULL;
    size_t n = 0, excluded = 0;

    if (available && available->n > 0) {
        v = pf_calloc(available->n, sizeof(*v));
        if (!v)
            return -ENOMEM;
    }
    for (size_t i = 0; available && i < available->n; i++) {
        const char *t = available->v[i];

        if (re) {
            int m = pf_regex_match(re, t);

            if (m < 0 && pf_strv_pushf(&sel->warnings,
                                       "matching pattern '%s' against tag '%s' failed, skipping",
                                       spec->pattern, t) < 0) {
                pf_free(v);
                return -ENOMEM;
            }
            if (m <= 0)
                continue;
        }
        if (pf_strv_contains(&spec->exclude, t)) {
            excluded++;
            continue;
        }
        v[n++] = t;
    }
    if (n > 1) {
        size_t w = 1;

        qsort(v, n, sizeof(*v), compare_ptr);
        /* The order is total with strcmp() as the last key, so duplicates are adjacent. */
        for (size_t i = 1; i < n; i++)
            if (strcmp(v[i], v[w - 1]) != 0)
                v[w++] = v[i];
        n = w;
    }
    *ret = v;
    *ret_n = n;
    *ret_excluded = excluded;
    return 0;
}

static int select_list(const struct pf_tag_spec *spec, const struct pf_strv *available,
                       struct pf_tag_selection *sel)
{
    for (size_t i = 0; i < spec->list.n; i++) {
        const char *t = spec->list.v[i];
        int r;

        if (pf_strv_contains(&spec->exclude, t) || pf_strv_contains(&sel->tags, t) ||
            pf_strv_contains(&sel->missing, t))
            continue;
        if (!pf_tag_is_valid(t)) {
            r = pf_strv_pushf(&sel->warnings, "tag '%s' is not a valid tag, skipping", t);
        } else if (available && !pf_strv_contains(available, t)) {
            r = pf_strv_push(&sel->missing, t);
            if (r == 0)
                r = pf_strv_pushf(&sel->warnings, "tag '%s' not found in the repository, skipping",
                                  t);
        } else {
            r = pf_strv_push(&sel->tags, t);
        }
        if (r < 0)
            return r;
    }
    return 0;
}

/* Narrows sorted candidates to the versions among them, or keeps all of them (natural order)
 * when there is none; every choice is recorded in sel->warnings. Sets the new count in
 * *ret_n; returns 0 or -ENOMEM. */
static int keep_versions(const struct pf_tag_spec *spec, const char **v, size_t n,
                         struct pf_tag_selection *sel, size_t *ret_n)
{
    size_t w = 0;
    bool any = false;

    for (size_t i = 0; i < n && !any; i++)
        any = pf_tag_is_version(v[i]);
    if (!any) {
        *ret_n = n;
        if (n == 0)
            return 0;
        return pf_strv_pushf(&sel->warnings,
                             "no tag matching pattern '%s' is a version; ordering %zu tag%s "
                             "naturally",
                             spec->pattern, n, n == 1 ? "" : "s");
    }
    for (size_t i = 0; i < n; i++) {
        if (pf_tag_is_version(v[i])) {
            v[w++] = v[i];
            continue;
        }
        if (pf_strv_pushf(&sel->warnings,
                          "tag '%s' matches the pattern but is not a version, skipping", v[i]) < 0)
            return -ENOMEM;
    }
    *ret_n = w;
    return 0;
}

static int select_pattern(const struct pf_tag_spec *spec, const struct pf_strv *available,
                          struct pf_tag_selection *sel)
{
    struct pf_regex *re = NULL;
    const char **v = NULL;
    size_t n = 0, excluded = 0, first = 0, err_off = 0;
    char err[256] = "";
    int r;

    /* Copa refuses an empty pattern too; it would match every tag, which is rarely meant. */
    if (!spec->pattern || !*spec->pattern) {
        r = pf_strv_push(&sel->warnings, "strategy 'pattern' without a pattern");
        return r < 0 ? r : -EINVAL;
    }
    r = pf_regex_compile(spec->pattern, &re, &err_off, err, sizeof(err));
    if (r == -EINVAL) {
        r = pf_strv_pushf(&sel->warnings, "invalid pattern '%s' at offset %zu: %s", spec->pattern,
                          err_off, err);
        return r < 0 ? r : -EINVAL;
    }
    if (r < 0)
        return r;
    r = collect_candidates(available, spec, re, sel, &v, &n, &excluded);
    if (r < 0)
        goto out;
    r = keep_versions(spec, v, n, sel, &n);
    if (r < 0)
        goto out;
    if (spec->max_tags > 0 && n > (size_t)spec->max_tags)
        first = n - (size_t)spec->max_tags;
    for (size_t i = first; i < n; i++) {
        r = pf_strv_push(&sel->tags, v[i]);
        if (r < 0)
            goto out;
    }
    if (n == 0 && excluded > 0)
        r = pf_strv_pushf(&sel->warnings, "no tags match pattern '%s' (%zu excluded)",
                          spec->pattern, excluded);
    else if (n == 0)
        r = pf_strv_pushf(&sel->warnings, "no tags match pattern '%s'", spec->pattern);
out:
    pf_free(v);
    pf_regex_free(re);
    return r;
}

/*
 * `latest` when no candidate is a version: the most recently created image, asking `created`
 * about the highest TAG_LATEST_MAX_CREATED_CALLS candidates in natural order. Iterating from
 * the highest down makes a tie go to the higher tag.
 */
static int latest_by_created(const char **v, size_t n, pf_tag_created_fn created, void *userdata,
                             struct pf_tag_selection *sel)
{
    const char *best = NULL;
    int64_t best_time = 0;
    size_t asked = n > TAG_LATEST_MAX_CREATED_CALLS ? TAG_LATEST_MAX_CREATED_CALLS : n;
    size_t failed = 0;
    int r;

    /* cppcheck-suppress knownConditionTrueFalse ; false positive: true when n > the cap */
    if (asked < n) {
        r = pf_strv_pushf(&sel->warnings,
                          "only the %zu highest of %zu tags were checked for their creation time",
                          asked, n);
        if (r < 0)
            return r;
    }
    for (size_t i = n; i > n - asked; i--) {
        int64_t t = 0;

        if (created(v[i - 1], &t, userdata) < 0) {
            failed++;
            continue;
        }
        if (!best || t > best_time) {
            best = v[i - 1];
            best_time = t;
        }
    }
    if (!best)
        return pf_strv_push(&sel->warnings,
                            "no tag is a version and no creation time could be read; cannot "
                            "determine 'latest'");
    r = pf_strv_push(&sel->tags, best);
    if (r < 0)
        return r;
    if (failed == 0)
        return pf_strv_pushf(&sel->warnings,
                             "no tag is a version; chose '%s', the most recently created of %zu "
                             "tag%s",
                             best, asked, asked == 1 ? "" : "s");
    return pf_strv_pushf(&sel->warnings,
                         "no tag is a version; chose '%s', the most recently created of %zu "
                         "tags (%zu without a creation time)",
                         best, asked, failed);
}

static int select_latest(const struct pf_tag_spec *spec, const struct pf_strv *available,
                         pf_tag_created_fn created, void *userdata, struct pf_tag_selection *sel)
{
    const char **v = NULL;
    size_t n = 0, excluded = 0;
    int r;

    r = collect_candidates(available, spec, NULL, sel, &v, &n, &excluded);
    if (r < 0)
        return r;
    if (n == 0)
        r = pf_strv_pushf(&sel->warnings, "no tags to choose 'latest' from%s",
                          excluded ? " (all excluded)" : "");
    else if (pf_tag_is_version(v[n - 1]))
        /* Versions sort after everything else, so the last candidate is the highest one. */
        r = pf_strv_push(&sel->tags, v[n - 1]);
    else if (!created)
        r = pf_strv_push(&sel->warnings, "no tag is a version and creation times are not "
                                         "available; cannot determine 'latest'");
    else
        r = latest_by_created(v, n, created, userdata, sel);
    pf_free(v);
    return r;
}

int pf_tags_select(const struct pf_tag_spec *spec, const struct pf_strv *available,
                   pf_tag_created_fn created, void *userdata, struct pf_tag_selection *ret)
{
    struct pf_tag_selection sel = {PF_STRV_INIT, PF_STRV_INIT, PF_STRV_INIT};
    int r;

    switch (spec->strategy) {
    case PF_STRATEGY_LIST:
        r = select_list(spec, available, &sel);
        break;
    case PF_STRATEGY_PATTERN:
        r = select_pattern(spec, available, &sel);
        break;
    case PF_STRATEGY_LATEST:
        r = select_latest(spec, available, created, userdata, &sel);
        break;
    default:
        r = pf_strv_pushf(&sel.warnings, "unknown tag strategy %d", (int)spec->strategy);
        if (r == 0)
            r = -EINVAL;
        break;
    }
    if (r < 0 && r != -EINVAL) {
        pf_tag_selection_release(&sel);
        return r;
    }
    /* On -EINVAL the caller still gets the warnings that say why. */
    *ret = sel;
    return r;
}

/* Frees the three vectors; `s` can be reused afterwards. */
void pf_tag_selection_release(struct pf_tag_selection *s)
{
    if (!s)
        return;
    pf_strv_clear(&s->tags);
    pf_strv_clear(&s->missing);
    pf_strv_clear(&s->warnings);
}
