/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alpine (apk) version ordering for both apk-tools generations. A version is a token list
 * (number {.number} [letter] {_suffix[number]} [~hash] [-rN]) and two versions compare token by
 * token; the generations tokenise differently (v2 encodes leading zeros as negative numbers and
 * matches suffixes by prefix, v3 compares zero-led components as strings and knows `~hash`), so
 * each has its own small lexer here. Like apk-tools, comparison also orders strings that are not
 * valid versions, up to their first bad token: upstream's own test data relies on that
 * ("1.0 < 1.0bc"). Nothing here allocates. Rules and differences: docs/versions.md.
 */
#include "pf/setup.h"

#include <string.h>

#include "apk/version_apk.h"

static bool apk_isdigit(char c)
{
    return c >= '0' && c <= '9';
}

static bool apk_islower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool apk_ishex(char c)
{
    return apk_isdigit(c) || (c >= 'a' && c <= 'f');
}

static int apk_sign(int v)
{
    return (v > 0) - (v < 0);
}

/* Compares two digit strings as unsigned integers of any size. */
static int apk_numcmp(const char *a, size_t alen, const char *b, size_t blen)
{
    while (alen > 0 && *a == '0')
        a++, alen--;
    while (blen > 0 && *b == '0')
        b++, blen--;
    if (alen != blen)
        return alen < blen ? -1 : 1;
    return alen ? apk_sign(memcmp(a, b, alen)) : 0;
}

/* apk_blob_sort(): bytewise, then the shorter string first. */
static int apk_strcmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);

    if (r)
        return apk_sign(r);
    return alen == blen ? 0 : (alen < blen ? -1 : 1);
}

/* ---- apk-tools 3.x ------------------------------------------------------------------------ */

/* Token kinds in the order they may appear; END and INVALID sort after every real token. */
enum v3_kind {
    V3_INITIAL_DIGIT,
    V3_DIGIT,
    V3_LETTER,
    V3_SUFFIX,
    V3_SUFFIX_NO,
    V3_HASH,
    V3_REVISION,
    V3_END,
    V3_INVALID,
};

/* Suffix ranks; V3_SUF_NONE (no suffix) separates pre-releases from post-releases. */
enum v3_suffix { V3_SUF_ALPHA, V3_SUF_BETA, V3_SUF_PRE, V3_SUF_RC, V3_SUF_NONE };

static const char *const v3_suffixes[] = {"alpha", "beta", "pre", "rc", "",
                                          "cvs",   "svn",  "git", "hg", "p"};

struct v3_token {
    enum v3_kind kind;
    int suffix;
    const char *val; /* the token's text, without its '.', '_', '~' or "-r" lead-in */
    size_t len;
};

/* The lexer cursor: a NUL-terminated string and the current offset into it. */
struct apk_cursor {
    const char *s;
    size_t pos;
};

static void v3_digits(struct v3_token *t, struct apk_cursor *c, enum v3_kind kind)
{
    size_t start = c->pos;

    while (apk_isdigit(c->s[c->pos]))
        c->pos++;
    t->kind = c->pos > start ? kind : V3_INVALID;
    t->val = c->s + start;
    t->len = c->pos - start;
}

static int v3_suffix_rank(const char *s, size_t len)
{
    for (size_t i = 0; i < PF_ARRAY_SIZE(v3_suffixes); i++)
        if (i != V3_SUF_NONE && strlen(v3_suffixes[i]) == len &&
            memcmp(s, v3_suffixes[i], len) == 0)
            return (int)i;
    return -1;
}

static void v3_first(struct v3_token *t, struct apk_cursor *c)
{
    v3_digits(t, c, V3_INITIAL_DIGIT);
}

/* Reads the token after t; the previous kind decides which kinds may follow (the grammar only
 * ever moves forward through enum v3_kind, except that numbers may repeat). */
static void v3_next(struct v3_token *t, struct apk_cursor *c)
{
    char ch = c->s[c->pos];
    size_t start;

    if (ch == '\0') {
        t->kind = V3_END;
    } else if (apk_islower(ch)) {
        if (t->kind > V3_DIGIT) {
            t->kind = V3_INVALID;
            return;
        }
        t->kind = V3_LETTER;
        t->val = c->s + c->pos++;
        t->len = 1;
    } else if (ch == '.' || apk_isdigit(ch)) {
        enum v3_kind next = t->kind == V3_SUFFIX ? V3_SUFFIX_NO : V3_DIGIT;
        if (t->kind > V3_DIGIT && !(ch != '.' && t->kind == V3_SUFFIX)) {
            t->kind = V3_INVALID;
            return;
        }
        if (ch == '.')
            c->pos++;
        v3_digits(t, c, next);
    } else if (ch == '_') {
        if (t->kind > V3_SUFFIX_NO) {
            t->kind = V3_INVALID;
            return;
        }
        start = ++c->pos;
        while (apk_islower(c->s[c->pos]))
            c->pos++;
        t->val = c->s + start;
        t->len = c->pos - start;
        t->suffix = v3_suffix_rank(t->val, t->len);
        t->kind = t->suffix < 0 ? V3_INVALID : V3_SUFFIX;
    } else if (ch == '~') {
        if (t->kind >= V3_HASH) {
            t->kind = V3_INVALID;
            return;
        }
        start = ++c->pos;
        while (apk_ishex(c->s[c->pos]))
            c->pos++;
        t->val = c->s + start;
        t->len = c->pos - start;
        t->kind = t->len ? V3_HASH : V3_INVALID;
    } else if (ch == '-' && c->s[c->pos + 1] == 'r' && t->kind < V3_REVISION) {
        c->pos += 2;
        v3_digits(t, c, V3_REVISION);
    } else {
        t->kind = V3_INVALID;
    }
}

/* Compares two tokens of the same kind. */
static int v3_token_cmp(const struct v3_token *a, const struct v3_token *b)
{
    switch (a->kind) {
    case V3_DIGIT:
        /* A zero-led component is a fraction in Gentoo's rules: compare as text (1.02 < 1.1). */
        if (a->val[0] == '0' || b->val[0] == '0')
            return apk_strcmp(a->val, a->len, b->val, b->len);
        return apk_numcmp(a->val, a->len, b->val, b->len);
    case V3_INITIAL_DIGIT:
    case V3_SUFFIX_NO:
    case V3_REVISION:
        return apk_numcmp(a->val, a->len, b->val, b->len);
    case V3_LETTER:
        return apk_sign((unsigned char)a->val[0] - (unsigned char)b->val[0]);
    case V3_SUFFIX:
        return apk_sign(a->suffix - b->suffix);
    default:
        return apk_strcmp(a->val, a->len, b->val, b->len);
    }
}

static bool v3_valid(const char *s)
{
    struct apk_cursor c = {.s = s};
    struct v3_token t = {.kind = V3_INITIAL_DIGIT};

    for (v3_first(&t, &c); t.kind < V3_END; v3_next(&t, &c))
        ;
    return t.kind == V3_END;
}

static int v3_compare(const char *a, const char *b, bool fuzzy)
{
    struct apk_cursor ca = {.s = a}, cb = {.s = b};
    struct v3_token ta = {.kind = V3_INITIAL_DIGIT}, tb = {.kind = V3_INITIAL_DIGIT};

    for (v3_first(&ta, &ca), v3_first(&tb, &cb); ta.kind == tb.kind && ta.kind < V3_END;
         v3_next(&ta, &ca), v3_next(&tb, &cb)) {
        int r = v3_token_cmp(&ta, &tb);
        if (r)
            return r;
    }
    if (ta.kind == tb.kind)
        return 0;
    if (fuzzy && tb.kind == V3_END)
        return 0;
    /* Equal so far: the longer version is newer unless its next token is a pre-release. */
    if (ta.kind == V3_SUFFIX && ta.suffix < V3_SUF_NONE)
        return -1;
    if (tb.kind == V3_SUFFIX && tb.suffix < V3_SUF_NONE)
        return 1;
    return ta.kind > tb.kind ? -1 : 1;
}

/* ---- apk-tools 2.14 ----------------------------------------------------------------------- */

/*
 * The 2.x lexer works one step ahead: reading a token returns its value and sets the kind of the
 * next one. Values are plain integers: numbers, the letter's code, the suffix rank (negative for
 * pre-releases), and for a '.' component with leading zeros minus the number of extra zeros,
 * after which the rest of the digits follow as a separate number. INVALID sorts first here.
 */
enum v2_kind {
    V2_INVALID = -1,
    V2_DIGIT_OR_ZERO,
    V2_DIGIT,
    V2_LETTER,
    V2_SUFFIX,
    V2_SUFFIX_NO,
    V2_REVISION,
    V2_END,
};

static const char *const v2_pre[] = {"alpha", "beta", "pre", "rc"};
static const char *const v2_post[] = {"cvs", "svn", "git", "hg", "p"};

/* Finds the kind of the token at the cursor after a token of kind prev, consuming separators. */
static enum v2_kind v2_next_kind(enum v2_kind prev, struct apk_cursor *c)
{
    char ch = c->s[c->pos];
    enum v2_kind n = V2_INVALID;

    if (ch == '\0')
        return V2_END;
    if ((prev == V2_DIGIT || prev == V2_DIGIT_OR_ZERO) && apk_islower(ch)) {
        n = V2_LETTER;
    } else if (prev == V2_LETTER && apk_isdigit(ch)) {
        n = V2_DIGIT;
    } else if (prev == V2_SUFFIX && apk_isdigit(ch)) {
        n = V2_SUFFIX_NO;
    } else {
        if (ch == '.') {
            n = V2_DIGIT_OR_ZERO;
        } else if (ch == '_') {
            n = V2_SUFFIX;
        } else if (ch == '-' && c->s[c->pos + 1] == 'r') {
            n = V2_REVISION;
            c->pos++;
        }
        c->pos++;
    }
    /* Kinds only move forward, except a new number after a number, letter or suffix number. */
    if (n < prev &&
        !((n == V2_DIGIT_OR_ZERO && prev == V2_DIGIT) || (n == V2_SUFFIX && prev == V2_SUFFIX_NO) ||
          (n == V2_DIGIT && prev == V2_LETTER)))
        n = V2_INVALID;
    return n;
}

/* Prefix match against a suffix list, as 2.x's strncmp() does ("pre" also matches "prerelease"). */
static int v2_match_suffix(const char *s, const char *const *list, size_t n, size_t *ret_len)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(list[i]);
        if (strncmp(list[i], s, len) == 0) {
            *ret_len = len;
            return (int)i;
        }
    }
    return -1;
}

/* Reads the token of kind *kind at the cursor, returns its value and sets *kind to the next. */
static int64_t v2_token(enum v2_kind *kind, struct apk_cursor *c)
{
    const char *p = c->s + c->pos;
    enum v2_kind forced = V2_INVALID;
    size_t i = 0;
    int64_t v = 0;
    int idx;

    if (*p == '\0') {
        *kind = V2_END;
        return 0;
    }
    switch (*kind) {
    case V2_DIGIT_OR_ZERO:
        if (p[0] == '0') {
            while (p[i + 1] == '0')
                i++;
            v = -(int64_t)i;
            forced = V2_DIGIT;
            break;
        }
        /* fallthrough */
    case V2_DIGIT:
    case V2_SUFFIX_NO:
    case V2_REVISION:
        /* 2.x rejects 18 digits or more; stop accumulating there so v cannot overflow. */
        for (; apk_isdigit(p[i]); i++)
            if (i < 18)
                v = v * 10 + (p[i] - '0');
        if (i >= 18) {
            *kind = V2_INVALID;
            return -1;
        }
        break;
    case V2_LETTER:
        v = (unsigned char)p[i++];
        break;
    case V2_SUFFIX:
        idx = v2_match_suffix(p, v2_pre, PF_ARRAY_SIZE(v2_pre), &i);
        if (idx >= 0) {
            v = idx - (int)PF_ARRAY_SIZE(v2_pre);
            break;
        }
        idx = v2_match_suffix(p, v2_post, PF_ARRAY_SIZE(v2_post), &i);
        if (idx >= 0) {
            v = idx;
            break;
        }
        *kind = V2_INVALID;
        return -1;
    default:
        *kind = V2_INVALID;
        return -1;
    }
    c->pos += i;
    if (c->s[c->pos] == '\0')
        *kind = V2_END;
    else if (forced != V2_INVALID)
        *kind = forced;
    else
        *kind = v2_next_kind(*kind, c);
    return v;
}

static bool v2_valid(const char *s)
{
    struct apk_cursor c = {.s = s};
    enum v2_kind k = V2_DIGIT;

    while (k != V2_END && k != V2_INVALID)
        (void)v2_token(&k, &c);
    return k == V2_END;
}

static int v2_compare(const char *a, const char *b, bool fuzzy)
{
    struct apk_cursor ca = {.s = a}, cb = {.s = b}, peek;
    enum v2_kind ka = V2_DIGIT, kb = V2_DIGIT, kt;
    int64_t va = 0, vb = 0;

    while (ka == kb && ka != V2_END && ka != V2_INVALID && va == vb) {
        va = v2_token(&ka, &ca);
        vb = v2_token(&kb, &cb);
    }
    if (va != vb)
        return va < vb ? -1 : 1;
    if (ka == kb || fuzzy)
        return 0;
    /* Equal so far: the longer version is newer unless it continues with a pre-release. */
    peek = ca;
    kt = ka;
    if (ka == V2_SUFFIX && v2_token(&kt, &peek) < 0)
        return -1;
    peek = cb;
    kt = kb;
    if (kb == V2_SUFFIX && v2_token(&kt, &peek) < 0)
        return 1;
    if (ka != kb)
        return ka > kb ? -1 : 1;
    return 0;
}

/* ---- public API --------------------------------------------------------------------------- */

bool worker_apk_version_valid(const char *s, enum worker_apk_gen gen)
{
    if (!s)
        return false;
    switch (gen) {
    case WORKER_APK_GEN_V2:
        return v2_valid(s);
    case WORKER_APK_GEN_V3:
        return v3_valid(s);
    default:
        return false;
    }
}

static int apk_compare(const char *a, const char *b, enum worker_apk_gen gen, bool fuzzy,
                       int *ret_cmp)
{
    int r;

    if (!a || !b)
        return -EINVAL;
    switch (gen) {
    case WORKER_APK_GEN_V2:
        r = v2_compare(a, b, fuzzy);
        break;
    case WORKER_APK_GEN_V3:
        r = v3_compare(a, b, fuzzy);
        break;
    default:
        return -EINVAL;
    }
    *ret_cmp = r;
    return worker_apk_version_valid(a, gen) && worker_apk_version_valid(b, gen) ? 0 : 1;
}

int worker_apk_version_compare(const char *a, const char *b, enum worker_apk_gen gen, int *ret_cmp)
{
    return apk_compare(a, b, gen, false, ret_cmp);
}

int worker_apk_version_compare_fuzzy(const char *a, const char *b, enum worker_apk_gen gen,
                                     int *ret_cmp)
{
    return apk_compare(a, b, gen, true, ret_cmp);
}
