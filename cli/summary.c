/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Renderers of the `patch` summary (see summary.h). Details come from registries, package
 * indexes and error strings, so a cell may hold newlines, tabs or bytes that are not UTF-8;
 * the table must stay one line per job with aligned columns, and jansson refuses invalid
 * UTF-8 outright, so every string goes through one sanitiser first. Both renderers sort the
 * same way, so the JSON and the table list jobs in the same order.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pf/alloc.h"
#include "pf/json.h"
#include "pf/buf.h"
#include "summary.h"

#define SUMMARY_NCOLS 5

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when s[0] does not start one. Strict
 * like jansson: no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t utf8_seq_len(const unsigned char *s)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        n = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        n = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        n = 4;
    else
        return 0;
    if (s[0] == 0xE0)
        lo = 0xA0;
    else if (s[0] == 0xED)
        hi = 0x9F;
    else if (s[0] == 0xF0)
        lo = 0x90;
    else if (s[0] == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* Returns a new valid-UTF-8 copy of `s`: invalid bytes become '?', and with `one_line` every
 * ASCII control character becomes a space. *ret_width (may be NULL) gets the number of
 * characters, which is the display width for the scripts our tags and errors use. NULL on
 * OOM. */
static char *sanitize(const char *s, bool one_line, size_t *ret_width)
{
    size_t len = strlen(s), width = 0, o = 0;
    char *out = pf_malloc(len + 1);

    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        const unsigned char *u = (const unsigned char *)s + i;
        size_t n = utf8_seq_len(u);

        if (n == 0) {
            out[o++] = '?';
            i++;
        } else if (n == 1) {
            out[o++] = one_line && (u[0] < 0x20 || u[0] == 0x7F) ? ' ' : (char)u[0];
            i++;
        } else {
            memcpy(out + o, u, n);
            o += n;
            i += n;
        }
        width++;
    }
    out[o] = '\0';
    if (ret_width)
        *ret_width = width;
    return out;
}

static bool is_empty(const char *s)
{
    return !s || !s[0];
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

/* Orders row pointers by name, then source, then input position: a total order, so equal
 * keys keep the order the runner produced and the output is deterministic. */
static int cmp_rows(const void *pa, const void *pb)
{
    const struct cli_summary_row *a = *(const struct cli_summary_row *const *)pa;
    const struct cli_summary_row *b = *(const struct cli_summary_row *const *)pb;
    int c = cmp_str(a->name, b->name);

    if (c == 0)
        c = cmp_str(a->source, b->source);
    if (c == 0)
        c = a < b ? -1 : a > b;
    return c;
}

/* Returns a new array of pointers to the rows in summary order, or NULL on OOM (and for
 * n == 0, which callers handle first). */
static const struct cli_summary_row **sorted_rows(const struct cli_summary_row *rows, size_t n)
{
    const struct cli_summary_row **v;

    if (n == 0)
        return NULL;
    v = pf_calloc(n, sizeof(*v));
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = &rows[i];
    qsort(v, n, sizeof(*v), cmp_rows);
    return v;
}

static const char *status_name(enum pf_status s)
{
    const char *name = pf_status_to_string(s);
    return name ? name : "Unknown";
}

const char *cli_summary_tag_of(const char *ref)
{
    const char *slash, *colon;

    if (!ref)
        return NULL;
    slash = strrchr(ref, '/');
    colon = strrchr(slash ? slash : ref, ':');
    /* "host:5000/repo" has no tag: the colon before the last slash is a port. */
    return colon ? colon + 1 : ref;
}

/* Fills the five sanitised cells of one row and their widths; "-" for empty ones. */
static int row_cells(const struct cli_summary_row *r, bool wide, char *cells[SUMMARY_NCOLS],
                     size_t widths[SUMMARY_NCOLS])
{
    const char *raw[SUMMARY_NCOLS] = {r->name, status_name(r->status), r->source,
                                      wide ? r->patched : cli_summary_tag_of(r->patched),
                                      r->details};

    for (size_t c = 0; c < SUMMARY_NCOLS; c++) {
        cells[c] = sanitize(is_empty(raw[c]) ? "-" : raw[c], true, &widths[c]);
        if (!cells[c])
            return -ENOMEM;
    }
    return 0;
}

/* Appends cells separated by two spaces, each padded to its column but the last. */
static int append_line(struct pf_buf *b, char *const cells[SUMMARY_NCOLS],
                       const size_t widths[SUMMARY_NCOLS], const size_t colw[SUMMARY_NCOLS])
{
    int r = 0;

    for (size_t c = 0; c < SUMMARY_NCOLS && r == 0; c++) {
        r = pf_buf_appends(b, cells[c]);
        if (c + 1 < SUMMARY_NCOLS)
            r = r < 0 ? r : pf_buf_appendf(b, "%*s", (int)(colw[c] - widths[c] + 2), "");
    }
    return r < 0 ? r : pf_buf_appends(b, "\n");
}

static void free_cells(char **cells, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cells[i] = pf_free(cells[i]);
}

int cli_summary_table(const struct cli_summary_row *rows, size_t n, bool wide, char **ret)
{
    static const char *const header[SUMMARY_NCOLS] = {"NAME", "STATUS", "SOURCE IMAGE",
                                                      "PATCHED TAG", "DETAILS"};
    const struct cli_summary_row **order = sorted_rows(rows, n);
    char **cells = pf_calloc((n + 1) * SUMMARY_NCOLS, sizeof(*cells));
    size_t *widths = pf_calloc((n + 1) * SUMMARY_NCOLS, sizeof(*widths));
    size_t colw[SUMMARY_NCOLS] = {0};
    struct pf_buf b = PF_BUF_INIT;
    char *text;
    int r = -ENOMEM;

    if (!cells || !widths || (n && !order))
        goto out;
    for (size_t c = 0; c < SUMMARY_NCOLS; c++) {
        cells[c] = pf_strdup(header[c]);
        if (!cells[c])
            goto out;
        widths[c] = strlen(header[c]);
    }
    for (size_t i = 0; i < n; i++)
        if (row_cells(order[i], wide, cells + (i + 1) * SUMMARY_NCOLS,
                      widths + (i + 1) * SUMMARY_NCOLS) < 0)
            goto out;
    for (size_t i = 0; i < (n + 1) * SUMMARY_NCOLS; i++)
        if (widths[i] > colw[i % SUMMARY_NCOLS])
            colw[i % SUMMARY_NCOLS] = widths[i];
    pf_buf_init(&b, 0);
    for (size_t i = 0; i <= n; i++) {
        r = append_line(&b, cells + i * SUMMARY_NCOLS, widths + i * SUMMARY_NCOLS, colw);
        if (r < 0)
            goto out;
    }
    text = pf_buf_steal(&b, NULL);
    r = text ? 0 : -ENOMEM;
    if (text)
        *ret = text;
out:
    if (cells)
        free_cells(cells, (n + 1) * SUMMARY_NCOLS);
    pf_buf_release(&b);
    pf_free(cells);
    pf_free(widths);
    pf_free(order);
    return r;
}

/* Sets o[key] to the sanitised string, or to null for NULL/"". Returns 0 or -ENOMEM. */
static int set_str(json_t *o, const char *key, const char *s)
{
    json_t *v;
    char *clean;

    if (is_empty(s))
        return json_object_set_new(o, key, json_null()) == 0 ? 0 : -ENOMEM;
    clean = sanitize(s, false, NULL);
    if (!clean)
        return -ENOMEM;
    v = json_string(clean);
    pf_free(clean);
    if (!v)
        return -ENOMEM;
    return json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

/* Appends a new object to array `a` and returns it borrowed, or NULL on OOM. */
static json_t *append_object(json_t *a)
{
    json_t *o = json_object();

    if (!o || json_array_append_new(a, o) < 0)
        return NULL;
    return o;
}

static int platform_json(const struct worker_patch_platform_result *p, json_t *platforms)
{
    json_t *o = append_object(platforms), *ups = json_array();
    int r = -ENOMEM;

    if (!o || !ups || set_str(o, "platform", p->platform) < 0 || set_str(o, "os", p->os) < 0 ||
        set_str(o, "error", p->error) < 0)
        goto out;
    for (size_t i = 0; i < p->n_upgrades; i++) {
        const struct worker_engine_upgrade *u = &p->upgrades[i];
        json_t *uo = append_object(ups);
        if (!uo || set_str(uo, "name", u->name) < 0 || set_str(uo, "arch", u->arch) < 0 ||
            set_str(uo, "from", u->from) < 0 || set_str(uo, "to", u->to) < 0)
            goto out;
    }
    r = json_object_set(o, "upgrades", ups) == 0 ? 0 : -ENOMEM;
out:
    json_decref(ups);
    return r;
}

static int row_json(const struct cli_summary_row *row, json_t *results)
{
    json_t *o = append_object(results), *platforms = json_array();
    int r = -ENOMEM;

    if (!o || !platforms || set_str(o, "name", row->name) < 0 ||
        set_str(o, "status", status_name(row->status)) < 0 ||
        set_str(o, "source", row->source) < 0 || set_str(o, "patched", row->patched) < 0 ||
        set_str(o, "patched_tag", cli_summary_tag_of(row->patched)) < 0 ||
        set_str(o, "details", row->details) < 0)
        goto out;
    for (size_t i = 0; i < row->n_platforms; i++)
        if (platform_json(&row->platforms[i], platforms) < 0)
            goto out;
    r = json_object_set(o, "platforms", platforms) == 0 ? 0 : -ENOMEM;
out:
    json_decref(platforms);
    return r;
}

int cli_summary_json(const struct cli_summary_row *rows, size_t n, char **ret)
{
    const struct cli_summary_row **order = sorted_rows(rows, n);
    json_t *doc = json_object(), *results = json_array();
    char *text = NULL;
    int r = -ENOMEM;

    if (!doc || !results || (n && !order) || json_object_set(doc, "results", results) < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (row_json(order[i], results) < 0)
            goto out;
    r = pf_json_dump_pretty(doc, &text, NULL);
    if (r == 0)
        *ret = text;
out:
    json_decref(results);
    json_decref(doc);
    pf_free(order);
    return r;
}

int cli_summary_exit_status(const struct cli_summary_row *rows, size_t n, bool ignore_errors,
                            bool interrupted)
{
    if (interrupted)
        return CLI_EXIT_INTERRUPTED;
    if (ignore_errors)
        return CLI_EXIT_OK;
    for (size_t i = 0; i < n; i++)
        if (rows[i].status == PF_STATUS_FAILED || rows[i].status == PF_STATUS_CANCELLED ||
            rows[i].status == PF_STATUS_ERROR)
            return CLI_EXIT_FAILED;
    return CLI_EXIT_OK;
}
