/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PatchConfig reader. Two passes: libyaml's event parser builds a small tree in which every
 * node keeps its 1-based line and column, then a schema walk checks that tree and fills
 * struct pf_config. Keeping the tree lets the walk look at siblings in any order (strategy
 * may come after list) and point every diagnostic at the node at fault. Every problem is
 * reported, not only the first; allocation failure is sticky in the walk's context so the
 * checks stay linear, and the result is -ENOMEM whatever else was found. Sizes are bounded:
 * the input, the node count, the depth, the number of images and of list entries, and the
 * number of diagnostics. Anchors and aliases are refused (no alias expansion, no billion laughs).
 */
#include "pf/setup.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/config.h"
#include "pf/ref.h"
#include "pf/regex.h"
#include "pf/template.h"

#define MAX_DEPTH 32
#define MAX_NODES 1000000
#define MAX_IMAGES 100000
#define MAX_ITEMS 100000
#define MAX_DIAGS 1000
/* Sample tag rendered through every template at load (R8). */
#define SAMPLE_TAG "1.0.0"
/* How much of a user's value a message quotes. */
#define QUOTE_MAX 100

enum node_kind {
    NODE_SCALAR,
    NODE_SEQUENCE,
    NODE_MAPPING,
};

struct node {
    enum node_kind kind;
    unsigned line, col; /* 1-based start */
    bool plain;         /* plain and untagged: "", "~" and "null" mean null */
    unsigned text_col;  /* column of the value's first byte when it maps 1:1 to the line; else 0 */
    char *value;        /* scalars only */
    size_t len;
    struct node **kids; /* sequence items, or mapping keys and values alternating */
    size_t n, cap;
};

struct ctx {
    struct pf_diags *diags;
    size_t n_diags;  /* what this parse added, to enforce MAX_DIAGS */
    size_t n_errors; /* counts errors dropped past MAX_DIAGS too */
    size_t n_nodes;
    int r; /* sticky -ENOMEM */
};

static const char *const strategy_names[PF_STRATEGY__MAX] = {
    [PF_STRATEGY_LIST] = "list",
    [PF_STRATEGY_PATTERN] = "pattern",
    [PF_STRATEGY_LATEST] = "latest",
};

const char *pf_tag_strategy_to_string(enum pf_tag_strategy s)
{
    if (s < 0 || s >= PF_STRATEGY__MAX)
        return NULL;
    return strategy_names[s];
}

enum pf_tag_strategy pf_tag_strategy_from_string(const char *s)
{
    if (!s)
        return PF_STRATEGY_INVALID;
    for (int i = 0; i < PF_STRATEGY__MAX; i++)
        if (strcmp(s, strategy_names[i]) == 0)
            return (enum pf_tag_strategy)i;
    return PF_STRATEGY_INVALID;
}

/* ---- diagnostics ------------------------------------------------------------------------- */

static void diag_v(struct ctx *c, enum pf_diag_severity sev, unsigned line, unsigned col,
                   const char *fmt, va_list ap) PF_PRINTF(5, 0);

static void diag_v(struct ctx *c, enum pf_diag_severity sev, unsigned line, unsigned col,
                   const char *fmt, va_list ap)
{
    char *msg;
    int r;

    if (sev == PF_DIAG_ERROR)
        c->n_errors++;
    if (c->n_diags > MAX_DIAGS)
        return;
    if (c->n_diags == MAX_DIAGS) {
        c->n_diags++;
        r = pf_diags_add(c->diags, PF_DIAG_ERROR, line, col,
                         "too many problems, not reporting more than %d", MAX_DIAGS);
        if (r < 0)
            c->r = r;
        return;
    }
    msg = pf_vasprintf(fmt, ap);
    if (!msg) {
        c->r = -ENOMEM;
        return;
    }
    /* Quoted values may hold newlines or escapes; a diagnostic stays one printable line. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    c->n_diags++;
    r = pf_diags_add(c->diags, sev, line, col, "%s", msg);
    if (r < 0)
        c->r = r;
    pf_free(msg);
}

static void error_at(struct ctx *c, unsigned line, unsigned col, const char *fmt, ...)
    PF_PRINTF(4, 5);

static void error_at(struct ctx *c, unsigned line, unsigned col, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    diag_v(c, PF_DIAG_ERROR, line, col, fmt, ap);
    va_end(ap);
}

static void error_node(struct ctx *c, const struct node *n, const char *fmt, ...) PF_PRINTF(3, 4);

static void error_node(struct ctx *c, const struct node *n, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    diag_v(c, PF_DIAG_ERROR, n->line, n->col, fmt, ap);
    va_end(ap);
}

static void warn_node(struct ctx *c, const struct node *n, const char *fmt, ...) PF_PRINTF(3, 4);

static void warn_node(struct ctx *c, const struct node *n, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    diag_v(c, PF_DIAG_WARNING, n->line, n->col, fmt, ap);
    va_end(ap);
}

/* The column of byte `off` of a scalar's value, when the value sits on its line as written. */
static unsigned col_at(const struct node *n, size_t off)
{
    if (n->text_col == 0 || off > n->len)
        return n->col;
    return n->text_col + (unsigned)off;
}

/* ---- tree -------------------------------------------------------------------------------- */

static void node_free(struct node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        node_free(n->kids[i]);
    pf_free(n->kids);
    pf_free(n->value);
    pf_free(n);
}

static int node_add_kid(struct node *parent, struct node *kid)
{
    if (PF_GROW(parent->kids, parent->cap, parent->n + 1) < 0)
        return -ENOMEM;
    parent->kids[parent->n++] = kid;
    return 0;
}

static bool scalar_fits_line(const yaml_event_t *ev)
{
    size_t len = ev->data.scalar.length;
    size_t quotes;

    switch (ev->data.scalar.style) {
    case YAML_PLAIN_SCALAR_STYLE:
        quotes = 0;
        break;
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        quotes = 2;
        break;
    default:
        return false;
    }
    /* Escapes and folding change the length, and non-ASCII changes columns vs bytes: the
     * equality below only holds when the text was copied verbatim. */
    for (size_t i = 0; i < len; i++)
        if (ev->data.scalar.value[i] & 0x80)
            return false;
    return ev->start_mark.line == ev->end_mark.line &&
           ev->end_mark.column - ev->start_mark.column == len + quotes;
}

/* A new node for a scalar or collection start event, or NULL on OOM. */
static struct node *node_from_event(struct ctx *c, const yaml_event_t *ev)
{
    struct node *n = pf_calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    n->line = (unsigned)ev->start_mark.line + 1;
    n->col = (unsigned)ev->start_mark.column + 1;
    if (ev->type == YAML_MAPPING_START_EVENT)
        n->kind = NODE_MAPPING;
    else if (ev->type == YAML_SEQUENCE_START_EVENT)
        n->kind = NODE_SEQUENCE;
    else {
        n->kind = NODE_SCALAR;
        n->len = ev->data.scalar.length;
        n->value = pf_strndup((const char *)ev->data.scalar.value, n->len);
        if (!n->value) {
            pf_free(n);
            return NULL;
        }
        n->plain = ev->data.scalar.plain_implicit &&
                   ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (scalar_fits_line(ev))
            n->text_col = n->col + (n->plain ? 0 : 1);
        if (memchr(ev->data.scalar.value, '\0', n->len))
            error_node(c, n, "strings must not contain NUL characters");
    }
    return n;
}

/* The length of the UTF-8 sequence that lead byte `b` announces; 1 for a byte that cannot
 * lead one (the reader stops there anyway, so it is the character in error). */
static size_t utf8_seq_len(unsigned char b)
{
    if (b >= 0xf0 && b <= 0xf7)
        return 4;
    if (b >= 0xe0)
        return b <= 0xef ? 3 : 1;
    if (b >= 0xc0)
        return 2;
    return 1;
}

/* The code unit of UTF-16 input at buf[i] (i + 1 < len). */
static unsigned utf16_unit(const unsigned char *buf, size_t i, bool big_endian)
{
    return big_endian ? (unsigned)buf[i] << 8 | buf[i + 1] : (unsigned)buf[i + 1] << 8 | buf[i];
}

/*
 * The 1-based line and column of the character holding byte `off` of the raw input, as an
 * editor shows them: a column counts characters (a multi-byte UTF-8 sequence or a UTF-16
 * surrogate pair is one column, a tab is one column), a line ends at LF, CR LF or a lone CR,
 * and a byte order mark at the start takes no column (libyaml's own marks count the same way).
 * libyaml's reader errors carry only `off`, which may point into the middle of a character.
 */
static void reader_position(const char *text, size_t len, size_t off, yaml_encoding_t enc,
                            unsigned *ret_line, unsigned *ret_col)
{
    const unsigned char *buf = (const unsigned char *)text;
    bool utf16 = enc == YAML_UTF16LE_ENCODING || enc == YAML_UTF16BE_ENCODING;
    bool be = enc == YAML_UTF16BE_ENCODING;
    unsigned line = 1, col = 1;
    size_t i = 0;

    if (utf16 && len >= 2)
        i = 2; /* libyaml picks UTF-16 only from its BOM */
    else if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < len && i <= off) {
        size_t n;
        unsigned ch;
        bool crlf;

        if (utf16) {
            if (i + 1 >= len)
                break;
            ch = utf16_unit(buf, i, be);
            n = ch >= 0xd800 && ch <= 0xdbff && i + 3 < len ? 4 : 2;
        } else {
            ch = buf[i];
            n = utf8_seq_len(buf[i]);
        }
        if (off < i + n)
            break; /* `off` is inside this character */
        /* CR LF is one line end: the CR is taken as part of the line, the LF ends it. */
        crlf = ch == '\r' && (utf16 ? i + n + 1 < len && utf16_unit(buf, i + n, be) == '\n'
                                    : i + n < len && buf[i + n] == '\n');
        if (ch == '\n' || (ch == '\r' && !crlf)) {
            line++;
            col = 1;
        } else if (!crlf) {
            col++;
        }
        i += n;
    }
    *ret_line = line;
    *ret_col = col;
}

/* Reports libyaml's error: the problem, where it is, and what libyaml was reading. */
static void report_yaml_error(struct ctx *c, const yaml_parser_t *p, const char *buf, size_t len)
{
    unsigned line = (unsigned)p->problem_mark.line + 1, col = (unsigned)p->problem_mark.column + 1;
    const char *problem = p->problem ? p->problem : "unknown error";

    if (p->error == YAML_READER_ERROR) {
        /* The reader reports a byte offset, not a mark: the position is counted from it. */
        reader_position(buf, len, p->problem_offset, p->encoding, &line, &col);
        error_at(c, line, col, "invalid YAML: %s at byte %zu", problem, p->problem_offset);
        return;
    }
    if (p->context)
        error_at(c, line, col, "invalid YAML: %s (%s at line %u, column %u)", problem, p->context,
                 (unsigned)p->context_mark.line + 1, (unsigned)p->context_mark.column + 1);
    else
        error_at(c, line, col, "invalid YAML: %s", problem);
}

struct builder {
    struct node *root;
    struct node *stack[MAX_DEPTH];
    size_t depth;
    unsigned n_docs;
};

/* Places a new node under the current collection (or as the root). Returns 0, 1 to stop, or
 * -ENOMEM; the node is owned by the tree in every case. */
static int builder_add(struct ctx *c, struct builder *b, struct node *n, bool open)
{
    if (b->depth == 0) {
        if (b->root) {
            node_free(n);
            return 1;
        }
        b->root = n;
    } else if (node_add_kid(b->stack[b->depth - 1], n) < 0) {
        node_free(n);
        return -ENOMEM;
    }
    if (++c->n_nodes > MAX_NODES) {
        error_node(c, n, "too many YAML nodes (limit %d)", MAX_NODES);
        return 1;
    }
    if (open) {
        if (b->depth == MAX_DEPTH) {
            error_node(c, n, "nesting too deep (limit %d levels)", MAX_DEPTH);
            return 1;
        }
        b->stack[b->depth++] = n;
    }
    return 0;
}

/* Handles one event. Returns 0 to go on, 1 to stop reading, 2 at the end of the stream, or
 * -ENOMEM. */
static int builder_event(struct ctx *c, struct builder *b, const yaml_event_t *ev)
{
    struct node *n;
    const unsigned char *anchor = NULL;

    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        return 2;
    case YAML_DOCUMENT_START_EVENT:
        if (++b->n_docs > 1) {
            error_at(c, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
                     "multiple YAML documents in one file: a config holds one PatchConfig");
            return 1;
        }
        return 0;
    case YAML_ALIAS_EVENT:
        error_at(c, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
                 "YAML aliases are not supported ('*%s')", (const char *)ev->data.alias.anchor);
        return 1;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (b->depth > 0)
            b->depth--;
        return 0;
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        break;
    default:
        return 0;
    }
    n = node_from_event(c, ev);
    if (!n)
        return -ENOMEM;
    if (anchor)
        error_node(c, n, "YAML anchors are not supported ('&%s')", (const char *)anchor);
    return builder_add(c, b, n, ev->type != YAML_SCALAR_EVENT);
}

/*
 * Builds the tree of the first document of buf. Returns 0 with the root in *ret (NULL for an
 * empty stream), 1 when the tree is unusable (a syntax error, an alias, a limit; already
 * reported), or -ENOMEM.
 */
static int tree_build(struct ctx *c, const char *buf, size_t len, struct node **ret)
{
    struct builder b = {0};
    yaml_parser_t p;
    int r = 0;

    if (!yaml_parser_initialize(&p))
        return -ENOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    while (r == 0) {
        yaml_event_t ev;

        if (!yaml_parser_parse(&p, &ev)) {
            if (p.error == YAML_MEMORY_ERROR) {
                r = -ENOMEM;
                break;
            }
            report_yaml_error(c, &p, buf, len);
            r = 1;
            break;
        }
        r = builder_event(c, &b, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (r == 2 || (r == 1 && b.n_docs > 1)) {
        /* A second document is an error (reported), but the first is complete: check it too. */
        *ret = b.root;
        return 0;
    }
    node_free(b.root);
    return r < 0 ? r : 1;
}

/* ---- schema helpers ---------------------------------------------------------------------- */

static const char *kind_name(const struct node *n)
{
    switch (n->kind) {
    case NODE_MAPPING:
        return "a mapping";
    case NODE_SEQUENCE:
        return "a sequence";
    default:
        return "a string";
    }
}

static bool node_is_null(const struct node *n)
{
    if (!n)
        return true;
    if (n->kind != NODE_SCALAR || !n->plain)
        return false;
    return n->len == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 ||
           strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0;
}

/* The string at `n`; NULL when absent or null, or (after an error) when not a scalar. */
static const char *node_string(struct ctx *c, const struct node *n, const char *what)
{
    if (node_is_null(n))
        return NULL;
    if (n->kind != NODE_SCALAR) {
        error_node(c, n, "%s must be a string, got %s", what, kind_name(n));
        return NULL;
    }
    return n->value;
}

static char lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* Optimal string alignment distance, case-insensitive: "maxtags" is 0 from "maxTags". */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t d[3][65];

    if (la > 64 || lb > 64)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t *cur = d[i % 3], *prev = d[(i - 1) % 3], *prev2 = d[(i + 1) % 3];
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = lower(a[i - 1]) != lower(b[j - 1]);
            size_t v = prev[j - 1] + cost;
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]) && prev2[j - 2] + 1 < v)
                v = prev2[j - 2] + 1;
            cur[j] = v;
        }
    }
    return d[la % 3][lb];
}

/* The candidate nearest to `s`, or NULL when none is close enough to be a likely typo. */
static const char *nearest(const char *s, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;

    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(s, cands[i]);
        if (d < best_d && d <= 1 + strlen(cands[i]) / 4) {
            best = cands[i];
            best_d = d;
        }
    }
    return best;
}

struct field {
    const char *key;
    const struct node *key_node; /* set when present */
    const struct node *val;
};

/* Sorts a mapping's pairs into `f` by key; unknown, duplicate and non-string keys are errors. */
static void map_fields(struct ctx *c, const struct node *map, const char *where, struct field *f,
                       size_t nf)
{
    const char *keys[8];
    char valid[128];
    size_t used = 0;

    assert(nf <= PF_ARRAY_SIZE(keys));
    for (size_t i = 0; i < nf; i++) {
        int w = snprintf(valid + used, sizeof(valid) - used, "%s%s", i ? ", " : "", f[i].key);
        keys[i] = f[i].key;
        /* Truncation only shortens the hint; never step past the buffer. */
        if (w > 0)
            used += (size_t)w < sizeof(valid) - used ? (size_t)w : sizeof(valid) - used - 1;
    }
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const struct node *k = map->kids[i], *v = map->kids[i + 1];
        const char *hint;
        size_t j;

        if (k->kind != NODE_SCALAR) {
            error_node(c, k, "a key must be a string, got %s", kind_name(k));
            continue;
        }
        for (j = 0; j < nf && strcmp(k->value, f[j].key) != 0; j++)
            ;
        if (j < nf && f[j].key_node) {
            error_node(c, k, "duplicate key '%s' (first at line %u)", f[j].key,
                       f[j].key_node->line);
            continue;
        }
        if (j < nf) {
            f[j].key_node = k;
            f[j].val = v;
            continue;
        }
        hint = nearest(k->value, keys, nf);
        if (hint)
            error_node(c, k, "unknown key '%.*s' %s (did you mean '%s'?)", QUOTE_MAX, k->value,
                       where, hint);
        else
            error_node(c, k, "unknown key '%.*s' %s (valid keys: %s)", QUOTE_MAX, k->value, where,
                       valid);
    }
}

/* Copies a string into *dst unless empty (empty means unset); sticky OOM. */
static void set_string(struct ctx *c, char **dst, const char *s)
{
    if (!s || !*s)
        return;
    *dst = pf_strdup(s);
    if (!*dst)
        c->r = -ENOMEM;
}

/* ---- string lists ------------------------------------------------------------------------ */

struct item {
    const char *s;
    const struct node *n;
    size_t idx;
    bool dup;
};

static int item_cmp(const void *a, const void *b)
{
    const struct item *const *x = a, *const *y = b;
    int r = strcmp((*x)->s, (*y)->s);

    if (r != 0)
        return r;
    return (*x)->idx < (*y)->idx ? -1 : (*x)->idx > (*y)->idx;
}

/*
 * Marks every item whose string appeared before (sorting keeps this O(n log n) for 100000
 * entries) and calls report(first, dup) for each. Sticky OOM.
 */
static void find_duplicates(struct ctx *c, struct item *items, size_t n,
                            void (*report)(struct ctx *, const struct item *, const struct item *,
                                           const void *),
                            const void *userdata)
{
    struct item **sorted;
    size_t first = 0;

    if (n < 2)
        return;
    sorted = pf_calloc(n, sizeof(*sorted));
    if (!sorted) {
        c->r = -ENOMEM;
        return;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = &items[i];
    qsort(sorted, n, sizeof(*sorted), item_cmp);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(sorted[i]->s, sorted[first]->s) != 0) {
            first = i;
            continue;
        }
        sorted[i]->dup = true;
        report(c, sorted[first], sorted[i], userdata);
    }
    pf_free(sorted);
}

static void report_dup_entry(struct ctx *c, const struct item *first, const struct item *dup,
                             const void *userdata)
{
    warn_node(c, dup->n, "duplicate entry '%.*s' in %s (first at line %u), ignoring", QUOTE_MAX,
              dup->s, (const char *)userdata, first->n->line);
}

static bool is_platform_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
           ch == '.';
}

/* Validates "os/arch[/variant]" and returns it normalised (new string), or NULL: *bad says
 * whether the input was refused (else OOM). */
static char *platform_normalise(const char *s, bool *bad)
{
    size_t parts = 1, part_len = 0;

    *bad = true;
    for (const char *p = s;; p++) {
        if (*p == '/' || *p == '\0') {
            if (part_len == 0)
                return NULL;
            if (*p == '\0')
                break;
            parts++;
            part_len = 0;
            continue;
        }
        if (!is_platform_char(*p))
            return NULL;
        part_len++;
    }
    if (parts < 2 || parts > 3)
        return NULL;
    *bad = false;
    /* containerd's Normalize: arm64's only variant is v8, so it carries no information. */
    if (strcmp(s, "linux/arm64/v8") == 0)
        return pf_strdup("linux/arm64");
    return pf_strdup(s);
}

/*
 * Reads a sequence of non-empty strings into `out`; duplicates are warnings and dropped.
 * With `platforms`, entries are validated and normalised first.
 */
static void parse_string_list(struct ctx *c, const struct node *seq, const char *what,
                              bool platforms, struct pf_strv *out)
{
    struct item *items;
    char **owned;
    size_t n = 0;

    if (node_is_null(seq))
        return;
    if (seq->kind != NODE_SEQUENCE) {
        error_node(c, seq, "%s must be a sequence of strings, got %s", what, kind_name(seq));
        return;
    }
    if (seq->n > MAX_ITEMS) {
        error_node(c, seq, "too many entries in %s (limit %d)", what, MAX_ITEMS);
        return;
    }
    items = pf_calloc(seq->n, sizeof(*items));
    owned = pf_calloc(seq->n, sizeof(*owned));
    if (!items || !owned) {
        c->r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < seq->n; i++) {
        const struct node *k = seq->kids[i];
        bool bad;

        if (k->kind != NODE_SCALAR) {
            error_node(c, k, "%s entries must be strings, got %s", what, kind_name(k));
            continue;
        }
        if (node_is_null(k) || k->len == 0) {
            error_node(c, k, "empty entry in %s", what);
            continue;
        }
        if (platforms) {
            owned[i] = platform_normalise(k->value, &bad);
            if (bad) {
                error_node(c, k,
                           "invalid platform '%.*s': expected os/arch[/variant], lowercase, "
                           "non-empty parts",
                           QUOTE_MAX, k->value);
                continue;
            }
            if (!owned[i]) {
                c->r = -ENOMEM;
                continue;
            }
        }
        items[n] = (struct item){.s = owned[i] ? owned[i] : k->value, .n = k, .idx = i};
        n++;
    }
    find_duplicates(c, items, n, report_dup_entry, what);
    for (size_t i = 0; i < n && c->r == 0; i++)
        if (!items[i].dup && pf_strv_push(out, items[i].s) < 0)
            c->r = -ENOMEM;
out:
    for (size_t i = 0; owned && i < seq->n; i++)
        pf_free(owned[i]);
    pf_free(owned);
    pf_free(items);
}

/* ---- schema: targets --------------------------------------------------------------------- */

/* The global or per-image tag template: the subset check, then a trial render (R8). */
static void check_template(struct ctx *c, const struct node *n, const char *tmpl)
{
    char err[256];
    char *out = NULL;
    size_t off = 0;
    int r;

    r = pf_template_check(tmpl, &off, err, sizeof(err));
    if (r < 0) {
        error_at(c, n->line, col_at(n, off), "invalid tag template '%.*s': %s (at offset %zu)",
                 QUOTE_MAX, tmpl, err, off);
        return;
    }
    r = pf_template_render(tmpl, SAMPLE_TAG, &out, err, sizeof(err));
    if (r == -ENOMEM)
        c->r = r;
    else if (r < 0)
        error_node(c, n, "tag template '%.*s' does not give a valid tag for source tag '%s': %s",
                   QUOTE_MAX, tmpl, SAMPLE_TAG, err);
    pf_free(out);
}

/* Parses `s` as a repository (the test for image, target.repository and target.registry).
 * Returns 0, -EINVAL with err set, -EEXIST when it only failed for carrying a tag or digest,
 * or -ENOMEM. */
static int check_repository(const char *s, char *err, size_t errlen)
{
    struct pf_ref ref = {0};
    char unused[8];
    int r;

    r = pf_ref_parse_repository(s, &ref, err, errlen);
    pf_ref_release(&ref);
    if (r != -EINVAL)
        return r;
    r = pf_ref_parse(s, &ref, unused, sizeof(unused));
    pf_ref_release(&ref);
    if (r == -ENOMEM)
        return r;
    return r == 0 ? -EEXIST : -EINVAL;
}

/* A registry prefix is host[:port][/path]: valid exactly when prefix + "/x" is a repository. */
static void check_registry(struct ctx *c, const struct node *n, const char *reg)
{
    size_t len = strlen(reg);
    char err[256];
    char *probe;
    int r;

    while (len > 0 && reg[len - 1] == '/')
        len--;
    if (len == 0) {
        error_node(c, n, "invalid target registry '%s': expected host[:port][/path]", reg);
        return;
    }
    probe = pf_asprintf("%.*s/x", (int)len, reg);
    if (!probe) {
        c->r = -ENOMEM;
        return;
    }
    r = check_repository(probe, err, sizeof(err));
    if (r == -ENOMEM)
        c->r = r;
    else if (r < 0)
        error_node(c, n,
                   "invalid target registry '%.*s': expected host[:port][/path] without tag or "
                   "digest",
                   QUOTE_MAX, reg);
    pf_free(probe);
}

static void parse_target(struct ctx *c, const struct node *n, const char *what, struct pf_target *t)
{
    struct field f[] = {{.key = "registry"}, {.key = "tag"}, {.key = "repository"}};
    const char *reg, *tag, *repo;
    char where[64], err[256];
    int r;

    if (node_is_null(n))
        return;
    if (n->kind != NODE_MAPPING) {
        error_node(c, n, "%s must be a mapping, got %s", what, kind_name(n));
        return;
    }
    (void)snprintf(where, sizeof(where), "in %s", what);
    map_fields(c, n, where, f, PF_ARRAY_SIZE(f));
    reg = node_string(c, f[0].val, "registry");
    tag = node_string(c, f[1].val, "tag");
    repo = node_string(c, f[2].val, "repository");
    if (reg && *reg)
        check_registry(c, f[0].val, reg);
    if (tag && *tag)
        check_template(c, f[1].val, tag);
    if (repo && *repo) {
        r = check_repository(repo, err, sizeof(err));
        if (r == -ENOMEM)
            c->r = r;
        else if (r < 0)
            error_node(c, f[2].val, "invalid target repository: %s%s", err,
                       r == -EEXIST ? "; the tag comes from the tag template" : "");
    }
    if (reg && *reg && repo && *repo) {
        const struct field *later = f[0].key_node->line > f[2].key_node->line ||
                                            (f[0].key_node->line == f[2].key_node->line &&
                                             f[0].key_node->col > f[2].key_node->col)
                                        ? &f[0]
                                        : &f[2];
        error_node(c, later->key_node,
                   "%s sets both registry and repository: set only one (registry keeps the "
                   "source's last path element, repository is used as is)",
                   what);
    }
    set_string(c, &t->registry, reg);
    set_string(c, &t->tag, tag);
    set_string(c, &t->repository, repo);
}

/* ---- schema: tags ------------------------------------------------------------------------ */

enum { F_STRATEGY, F_LIST, F_PATTERN, F_MAX_TAGS, F_EXCLUDE, F__TAGS };

static bool field_set(const struct field *f)
{
    return f->key_node && !node_is_null(f->val);
}

static void parse_strategy(struct ctx *c, const struct node *tags, const struct field *f,
                           enum pf_tag_strategy *ret)
{
    const char *s, *hint;

    if (!f->key_node) {
        error_node(c, tags, "missing strategy in tags: expected one of list, pattern, latest");
        return;
    }
    s = node_string(c, f->val, "strategy");
    if (!s) {
        if (node_is_null(f->val))
            error_node(c, f->val, "strategy is empty: expected one of list, pattern, latest");
        return;
    }
    *ret = pf_tag_strategy_from_string(s);
    if (*ret != PF_STRATEGY_INVALID)
        return;
    hint = nearest(s, strategy_names, PF_ARRAY_SIZE(strategy_names));
    if (hint)
        error_node(c, f->val,
                   "unknown tag strategy '%.*s': must be one of list, pattern, latest (did you "
                   "mean '%s'?)",
                   QUOTE_MAX, s, hint);
    else
        error_node(c, f->val, "unknown tag strategy '%.*s': must be one of list, pattern, latest",
                   QUOTE_MAX, s);
}

static void parse_max_tags(struct ctx *c, const struct node *n, long *ret)
{
    const char *what = "maxTags must be a non-negative integer";
    char *end;
    long v;

    if (node_is_null(n))
        return;
    if (n->kind != NODE_SCALAR) {
        error_node(c, n, "%s, got %s", what, kind_name(n));
        return;
    }
    if (!n->plain) {
        error_node(c, n, "%s, got the quoted or tagged string '%.*s'", what, QUOTE_MAX, n->value);
        return;
    }
    for (size_t i = 0; i < n->len; i++)
        if (n->value[i] < '0' || n->value[i] > '9') {
            error_node(c, n, "%s, got '%.*s'", what, QUOTE_MAX, n->value);
            return;
        }
    errno = 0;
    v = strtol(n->value, &end, 10);
    if (errno == ERANGE || *end != '\0') {
        error_node(c, n, "maxTags '%.*s' is out of range (at most %ld)", QUOTE_MAX, n->value,
                   LONG_MAX);
        return;
    }
    *ret = v;
}

static void parse_pattern(struct ctx *c, const struct node *n, char **ret)
{
    struct pf_regex *re = NULL;
    const char *s = node_string(c, n, "pattern");
    char err[256];
    size_t off = 0;
    int r;

    if (!s || !*s)
        return;
    r = pf_regex_compile(s, &re, &off, err, sizeof(err));
    re = pf_regex_free(re);
    if (r == -ENOMEM) {
        c->r = r;
        return;
    }
    if (r < 0) {
        error_at(c, n->line, col_at(n, off), "invalid pattern '%.*s': %s at offset %zu", QUOTE_MAX,
                 s, err, off);
        return;
    }
    set_string(c, ret, s);
}

/* R6: a field the chosen strategy ignores is an error, not a silent no-op as in Copa. */
static void check_strategy_fields(struct ctx *c, const struct field *f, const struct pf_tag_spec *t)
{
    static const bool allowed[PF_STRATEGY__MAX][F__TAGS] = {
        [PF_STRATEGY_LIST] = {[F_LIST] = true},
        [PF_STRATEGY_PATTERN] = {[F_PATTERN] = true, [F_MAX_TAGS] = true, [F_EXCLUDE] = true},
        [PF_STRATEGY_LATEST] = {[F_EXCLUDE] = true},
    };
    const char *name = strategy_names[t->strategy];

    for (size_t i = F_LIST; i < F__TAGS; i++)
        if (field_set(&f[i]) && !allowed[t->strategy][i])
            error_node(c, f[i].key_node, "%s has no effect with strategy '%s'", f[i].key, name);
    if (t->strategy == PF_STRATEGY_LIST && t->list.n == 0) {
        const struct node *at = field_set(&f[F_LIST]) ? f[F_LIST].val : f[F_STRATEGY].val;
        /* A list that holds only bad entries was reported entry by entry already. */
        if (!field_set(&f[F_LIST]) || (at->kind == NODE_SEQUENCE && at->n == 0))
            error_node(c, at, "strategy 'list' requires a non-empty 'list' of tags");
    }
    if (t->strategy == PF_STRATEGY_PATTERN && !t->pattern) {
        const struct node *at = f[F_PATTERN].key_node ? f[F_PATTERN].val : f[F_STRATEGY].val;
        if (!f[F_PATTERN].key_node || node_is_null(at) || (at->kind == NODE_SCALAR && at->len == 0))
            error_node(c, at, "strategy 'pattern' requires a 'pattern' field");
    }
}

static void parse_tags(struct ctx *c, const struct node *n, struct pf_tag_spec *t)
{
    struct field f[F__TAGS] = {
        [F_STRATEGY] = {.key = "strategy"}, [F_LIST] = {.key = "list"},
        [F_PATTERN] = {.key = "pattern"},   [F_MAX_TAGS] = {.key = "maxTags"},
        [F_EXCLUDE] = {.key = "exclude"},
    };

    map_fields(c, n, "in tags", f, PF_ARRAY_SIZE(f));
    parse_strategy(c, n, &f[F_STRATEGY], &t->strategy);
    parse_string_list(c, f[F_LIST].val, "list", false, &t->list);
    parse_pattern(c, f[F_PATTERN].val, &t->pattern);
    parse_max_tags(c, f[F_MAX_TAGS].val, &t->max_tags);
    parse_string_list(c, f[F_EXCLUDE].val, "exclude", false, &t->exclude);
    if (t->strategy != PF_STRATEGY_INVALID)
        check_strategy_fields(c, f, t);
}

/* ---- schema: images ---------------------------------------------------------------------- */

/* name and image: required, non-empty strings. Returns the value or NULL (reported). */
static const char *required_string(struct ctx *c, const struct node *entry, const struct field *f,
                                   const char *name)
{
    const char *s;

    if (!f->key_node) {
        if (name)
            error_node(c, entry, "image entry '%.*s' has no %s", QUOTE_MAX, name, f->key);
        else
            error_node(c, entry, "image entry has no %s", f->key);
        return NULL;
    }
    s = node_string(c, f->val, f->key);
    if (s && *s)
        return s;
    if (f->val->kind == NODE_SCALAR)
        error_node(c, f->val, "%s must not be empty", f->key);
    return NULL;
}

static void check_image(struct ctx *c, const struct node *n, const char *s)
{
    char err[256];
    int r = check_repository(s, err, sizeof(err));

    if (r == -ENOMEM)
        c->r = r;
    else if (r == -EEXIST)
        error_node(c, n,
                   "invalid image: %s (image must name a repository without tag or digest; put "
                   "tags under tags:)",
                   err);
    else if (r < 0)
        error_node(c, n, "invalid image: %s", err);
}

static void parse_image(struct ctx *c, const struct node *n, struct pf_image_spec *img,
                        const struct node **ret_name)
{
    struct field f[] = {{.key = "name"},
                        {.key = "image"},
                        {.key = "tags"},
                        {.key = "platforms"},
                        {.key = "target"}};
    const char *name, *image;

    img->line = n->line;
    img->tags.strategy = PF_STRATEGY_INVALID;
    if (n->kind != NODE_MAPPING) {
        error_node(c, n, "an image entry must be a mapping, got %s", kind_name(n));
        return;
    }
    map_fields(c, n, "in image entry", f, PF_ARRAY_SIZE(f));
    name = required_string(c, n, &f[0], NULL);
    if (name) {
        set_string(c, &img->name, name);
        *ret_name = f[0].val;
    }
    image = required_string(c, n, &f[1], name);
    if (image) {
        check_image(c, f[1].val, image);
        set_string(c, &img->image, image);
    }
    if (!f[2].key_node)
        error_node(c, n,
                   "image entry%s%.*s%s has no tags: expected a mapping with a strategy "
                   "(list, pattern or latest)",
                   name ? " '" : "", QUOTE_MAX, name ? name : "", name ? "'" : "");
    else if (f[2].val->kind != NODE_MAPPING)
        error_node(c, f[2].val, "tags must be a mapping with a strategy, got %s",
                   node_is_null(f[2].val) ? "nothing" : kind_name(f[2].val));
    else
        parse_tags(c, f[2].val, &img->tags);
    parse_string_list(c, f[3].val, "platforms", true, &img->platforms);
    parse_target(c, f[4].val, "target", &img->target);
}

static void report_dup_name(struct ctx *c, const struct item *first, const struct item *dup,
                            const void *userdata)
{
    (void)userdata;
    error_node(c, dup->n, "duplicate image name '%.*s' (first defined at line %u)", QUOTE_MAX,
               dup->s, first->n->line);
}

static void parse_images(struct ctx *c, const struct node *root, const struct field *f,
                         struct pf_config *cfg)
{
    const struct node *seq = f->val;
    const struct node **names;
    struct item *items;
    size_t n = 0;

    if (!f->key_node) {
        error_node(c, root, "missing images: a PatchConfig needs at least one image");
        return;
    }
    if (!node_is_null(seq) && seq->kind != NODE_SEQUENCE) {
        error_node(c, seq, "images must be a sequence of image entries, got %s", kind_name(seq));
        return;
    }
    if (node_is_null(seq) || seq->n == 0) {
        error_node(c, seq, "images is empty: a PatchConfig needs at least one image");
        return;
    }
    if (seq->n > MAX_IMAGES) {
        error_node(c, seq, "too many images (limit %d)", MAX_IMAGES);
        return;
    }
    cfg->images = pf_calloc(seq->n, sizeof(*cfg->images));
    names = pf_calloc(seq->n, sizeof(*names));
    items = pf_calloc(seq->n, sizeof(*items));
    if (!cfg->images || !names || !items) {
        c->r = -ENOMEM;
        goto out;
    }
    cfg->n_images = seq->n;
    for (size_t i = 0; i < seq->n; i++) {
        parse_image(c, seq->kids[i], &cfg->images[i], &names[i]);
        if (names[i]) {
            items[n] = (struct item){.s = names[i]->value, .n = names[i], .idx = i};
            n++;
        }
    }
    find_duplicates(c, items, n, report_dup_name, NULL);
out:
    pf_free(items);
    pf_free(names);
}

/* ---- schema: top level ------------------------------------------------------------------- */

/* apiVersion and kind: required, with exactly one valid value. */
static void check_fixed(struct ctx *c, const struct node *root, const struct field *f,
                        const char *want, char **ret)
{
    const char *s;

    if (!f->key_node) {
        error_node(c, root, "missing %s: expected '%s'", f->key, want);
        return;
    }
    s = node_string(c, f->val, f->key);
    if (!s || !*s) {
        if (f->val->kind == NODE_SCALAR)
            error_node(c, f->val, "%s is empty: expected '%s'", f->key, want);
        return;
    }
    if (strcmp(s, want) != 0)
        error_node(c, f->val, "invalid %s '%.*s': expected '%s'", f->key, QUOTE_MAX, s, want);
    set_string(c, ret, s);
}

static void parse_root(struct ctx *c, const struct node *root, struct pf_config *cfg)
{
    struct field f[] = {{.key = "apiVersion"},
                        {.key = "kind"},
                        {.key = "target"},
                        {.key = "images"}};

    if (node_is_null(root)) {
        error_at(c, root ? root->line : 1, root ? root->col : 1,
                 "empty config: expected a PatchConfig mapping with apiVersion, kind and images");
        return;
    }
    if (root->kind != NODE_MAPPING) {
        error_node(c, root, "a PatchConfig must be a mapping, got %s", kind_name(root));
        return;
    }
    map_fields(c, root, "at top level", f, PF_ARRAY_SIZE(f));
    check_fixed(c, root, &f[0], PF_CONFIG_API_VERSION, &cfg->api_version);
    check_fixed(c, root, &f[1], PF_CONFIG_KIND, &cfg->kind);
    parse_target(c, f[2].val, "target", &cfg->target);
    parse_images(c, root, &f[3], cfg);
}

/* ---- API --------------------------------------------------------------------------------- */

int pf_config_parse(const char *buf, size_t len, struct pf_diags *diags, struct pf_config **ret)
{
    struct ctx c = {.diags = diags};
    struct pf_config *cfg = NULL;
    struct node *root = NULL;
    int r;

    if (len > PF_CONFIG_MAX_BYTES) {
        error_at(&c, 0, 0, "config is larger than %zu bytes, refusing it", PF_CONFIG_MAX_BYTES);
        goto out;
    }
    /* libyaml asserts on a NULL input even when it is empty. */
    r = tree_build(&c, buf ? buf : "", buf ? len : 0, &root);
    if (r < 0) {
        c.r = r;
        goto out;
    }
    if (r > 0)
        goto out;
    cfg = pf_calloc(1, sizeof(*cfg));
    if (!cfg) {
        c.r = -ENOMEM;
        goto out;
    }
    parse_root(&c, root, cfg);
out:
    node_free(root);
    if (c.r < 0) {
        r = c.r;
    } else if (c.n_errors > 0 || !cfg) {
        r = -EINVAL;
    } else {
        *ret = cfg;
        cfg = NULL;
        r = 0;
    }
    pf_config_free(cfg);
    return r;
}

int pf_config_load(const char *path, struct pf_diags *diags, struct pf_config **ret)
{
    struct pf_buf b;
    char eb[256];
    int r;

    pf_buf_init(&b, PF_CONFIG_MAX_BYTES);
    r = pf_buf_read_file(&b, path);
    if (r == -ENOMEM)
        goto out;
    if (r == -E2BIG) {
        r = pf_diags_add(diags, PF_DIAG_ERROR, 0, 0, "config is larger than %zu bytes, refusing it",
                         PF_CONFIG_MAX_BYTES);
        r = r < 0 ? r : -EINVAL;
        goto out;
    }
    if (r < 0) {
        /* GNU strerror_r (setup.h defines _GNU_SOURCE): thread-safe, returns the text. */
        r = pf_diags_add(diags, PF_DIAG_ERROR, 0, 0, "cannot read config: %s",
                         strerror_r(-r, eb, sizeof(eb)));
        r = r < 0 ? r : -EINVAL;
        goto out;
    }
    r = pf_config_parse(b.p, b.len, diags, ret);
out:
    pf_buf_release(&b);
    return r;
}

static void target_release(struct pf_target *t)
{
    t->registry = pf_free(t->registry);
    t->tag = pf_free(t->tag);
    t->repository = pf_free(t->repository);
}

struct pf_config *pf_config_free(struct pf_config *c)
{
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->n_images; i++) {
        struct pf_image_spec *img = &c->images[i];
        pf_free(img->name);
        pf_free(img->image);
        pf_strv_clear(&img->tags.list);
        pf_free(img->tags.pattern);
        pf_strv_clear(&img->tags.exclude);
        pf_strv_clear(&img->platforms);
        target_release(&img->target);
    }
    pf_free(c->images);
    target_release(&c->target);
    pf_free(c->api_version);
    pf_free(c->kind);
    return pf_free(c);
}

static bool is_set(const char *s)
{
    return s && *s;
}

void pf_config_effective_target(const struct pf_config *c, const struct pf_image_spec *img,
                                struct pf_target *ret)
{
    const struct pf_target *g = &c->target, *own = img ? &img->target : NULL;

    /* registry and repository both say where images go, so they are taken as one unit: an
     * image that sets either one overrides the global destination entirely. */
    if (own && (is_set(own->registry) || is_set(own->repository))) {
        ret->registry = is_set(own->registry) ? own->registry : NULL;
        ret->repository = is_set(own->repository) ? own->repository : NULL;
    } else {
        ret->registry = is_set(g->registry) ? g->registry : NULL;
        ret->repository = is_set(g->repository) ? g->repository : NULL;
    }
    if (own && is_set(own->tag))
        ret->tag = own->tag;
    else if (is_set(g->tag))
        ret->tag = g->tag;
    else
        ret->tag = PF_DEFAULT_TAG_TEMPLATE; /* a literal: never freed through ret */
}
