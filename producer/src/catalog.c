/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry-backed producer catalog: answers the expansion's two questions (which tags does
 * a repository have, when was an image built) with the registry client, so the expansion logic
 * in plan.c stays pure and unit-tested. Shared by `patchfleet plan`, `patchfleet patch` and
 * patchfleet-producer, so every one of them expands a config the same way.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pf/alloc.h"
#include "pf/config.h"
#include "pf/diag.h"
#include "pf/oci.h"
#include "pf/registry.h"
#include "producer/catalog.h"
#include "producer/plan.h"

/* Image configs are small JSON documents; a larger one is not an image config. */
#define PLAN_MAX_CONFIG_BYTES ((size_t)4 << 20)

static int catalog_list_tags(void *userdata, const struct pf_ref *repo, struct pf_strv *ret,
                             char *errbuf, size_t errlen)
{
    int r = pf_registry_list_tags(userdata, repo, ret, errbuf, errlen);
    return r < 0 ? r : 0;
}

/* Reads exactly `n` decimal digits at *s and advances past them. sscanf's %2d also took a sign,
 * leading blanks and a single digit, so "+2:0" passed and the fixed-width skip after it ran
 * past the end of the string. */
static bool take_digits(const char **s, int n, int *ret)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        char c = (*s)[i];

        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *s += n;
    *ret = v;
    return true;
}

/* True when *s is `c` (case-insensitively for letters); advances past it. */
static bool take_char(const char **s, char c)
{
    if (**s != c && !(c >= 'A' && c <= 'Z' && **s == c - 'A' + 'a'))
        return false;
    (*s)++;
    return true;
}

int producer_catalog_parse_time(const char *s, int64_t *ret)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    int64_t t;

    if (!take_digits(&s, 4, &y) || !take_char(&s, '-') || !take_digits(&s, 2, &mo) ||
        !take_char(&s, '-') || !take_digits(&s, 2, &d) || !take_char(&s, 'T') ||
        !take_digits(&s, 2, &h) || !take_char(&s, ':') || !take_digits(&s, 2, &mi) ||
        !take_char(&s, ':') || !take_digits(&s, 2, &sec))
        return -EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -EINVAL;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return -EINVAL;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == '+' || *s == '-') {
        sign = *s == '+' ? 1 : -1;
        s++;
        if (!take_digits(&s, 2, &oh) || !take_char(&s, ':') || !take_digits(&s, 2, &om) ||
            oh > 23 || om > 59)
            return -EINVAL;
    } else if (!take_char(&s, 'Z')) {
        return -EINVAL;
    }
    if (*s)
        return -EINVAL;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = (int64_t)timegm(&tm);
    *ret = t - sign * (int64_t)(oh * 3600 + om * 60);
    return 0;
}

/* Picks the manifest whose creation time stands for an index: linux/amd64 when present (the
 * platform most images are built for first), else the first real platform. */
static const struct pf_descriptor *pick_platform(const struct pf_index *ix)
{
    const struct pf_descriptor *first = NULL;

    for (size_t i = 0; i < ix->n_manifests; i++) {
        const struct pf_descriptor *d = &ix->manifests[i];
        if (!d->platform || pf_platform_is_unknown(d->platform))
            continue;
        if (!first)
            first = d;
        if (d->platform->os && strcmp(d->platform->os, "linux") == 0 && d->platform->architecture &&
            strcmp(d->platform->architecture, "amd64") == 0)
            return d;
    }
    return first ? first : (ix->n_manifests ? &ix->manifests[0] : NULL);
}

static int catalog_created(void *userdata, const struct pf_ref *ref, int64_t *ret, char *errbuf,
                           size_t errlen)
{
    struct pf_registry *reg = userdata;
    struct pf_raw_manifest raw = {0}, child = {0};
    struct pf_manifest m = {0};
    struct pf_index ix = {0};
    struct pf_image_config cfg = {0};
    char *cfg_json = NULL;
    size_t cfg_len = 0;
    bool have_m = false, have_ix = false, have_cfg = false;
    const struct pf_raw_manifest *image = &raw;
    int r;

    r = pf_registry_get_manifest(reg, ref, NULL, &raw, errbuf, errlen);
    if (r < 0)
        goto out;
    if (raw.kind == PF_MANIFEST_INDEX) {
        const struct pf_descriptor *d;
        r = pf_index_parse(raw.data, raw.len, &ix, errbuf, errlen);
        if (r < 0)
            goto out;
        have_ix = true;
        d = pick_platform(&ix);
        if (!d) {
            (void)snprintf(errbuf, errlen, "empty index");
            r = -ENOENT;
            goto out;
        }
        r = pf_registry_get_manifest(reg, ref, d->digest, &child, errbuf, errlen);
        if (r < 0)
            goto out;
        image = &child;
    }
    r = pf_manifest_parse(image->data, image->len, &m, errbuf, errlen);
    if (r < 0)
        goto out;
    have_m = true;
    r = pf_registry_get_blob_mem(reg, ref, m.config.digest, PLAN_MAX_CONFIG_BYTES, &cfg_json,
                                 &cfg_len, errbuf, errlen);
    if (r < 0)
        goto out;
    r = pf_image_config_parse(cfg_json, cfg_len, &cfg, errbuf, errlen);
    if (r < 0)
        goto out;
    have_cfg = true;
    if (!cfg.created) {
        (void)snprintf(errbuf, errlen, "image config has no 'created' time");
        r = -ENODATA;
    } else if (producer_catalog_parse_time(cfg.created, ret) < 0) {
        (void)snprintf(errbuf, errlen, "image config 'created' time '%.64s' is not RFC 3339",
                       cfg.created);
        r = -ENODATA;
    }
out:
    if (have_cfg)
        pf_image_config_release(&cfg);
    if (have_m)
        pf_manifest_release(&m);
    if (have_ix)
        pf_index_release(&ix);
    pf_free(cfg_json);
    pf_raw_manifest_release(&child);
    pf_raw_manifest_release(&raw);
    return r;
}

int producer_catalog_load_config(const char *path, FILE *diag_out, struct pf_config **ret)
{
    struct pf_diags diags;
    int r;

    if (pf_diags_init(&diags, path) < 0)
        return -ENOMEM;
    r = pf_config_load(path, &diags, ret);
    pf_diags_sort(&diags);
    if (diag_out)
        pf_diags_print(&diags, diag_out);
    pf_diags_release(&diags);
    return r;
}

void producer_catalog_registry(struct pf_registry *reg, struct producer_catalog *ret)
{
    *ret = (struct producer_catalog){
        .list_tags = catalog_list_tags,
        .created = catalog_created,
        .userdata = reg,
    };
}

int producer_catalog_plan(const struct pf_config *cfg, struct pf_registry *reg,
                          struct producer_plan *ret)
{
    struct producer_catalog catalog;

    producer_catalog_registry(reg, &catalog);
    return producer_plan_build(cfg, &catalog, ret);
}
