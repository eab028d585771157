/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `patchfleet plan --config FILE [--json]`: expand a PatchConfig into the jobs a sweep would
 * run, against the real registries, without patching anything. The expansion is the
 * producer's (producer/plan.h); this file only wires the registry client in as its catalog
 * and prints the result: a table, or one JSON object per line for scripts.
 */
#include "pf/setup.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "pf/alloc.h"
#include "pf/config.h"
#include "pf/oci.h"
#include "pf/registry.h"
#include "producer/plan.h"
#include "registry_opts.h"

/* Image configs are small JSON documents; a larger one is not an image config. */
#define PLAN_MAX_CONFIG_BYTES ((size_t)4 << 20)

static int catalog_list_tags(void *userdata, const struct pf_ref *repo, struct pf_strv *ret,
                             char *errbuf, size_t errlen)
{
    int r = pf_registry_list_tags(userdata, repo, ret, errbuf, errlen);
    return r < 0 ? r : 0;
}

/* Parses RFC 3339 ("2024-05-01T10:00:00.123Z", "...+02:00") into unix seconds. */
static int parse_rfc3339(const char *s, int64_t *ret)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, sec, n = 0;
    int64_t t;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n == 0)
        return -EINVAL;
    s += n;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            ;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = (int64_t)timegm(&tm);
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int oh, om;
        if (sscanf(s + 1, "%2d:%2d", &oh, &om) != 2)
            return -EINVAL;
        t -= (*s == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
        s += 6;
    }
    if (*s)
        return -EINVAL;
    *ret = t;
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
        if (d->platform->os && strcmp(d->platform->os, "linux") == 0 &&
            d->platform->architecture && strcmp(d->platform->architecture, "amd64") == 0)
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
    if (!cfg.created || parse_rfc3339(cfg.created, ret) < 0) {
        (void)snprintf(errbuf, errlen, "image config has no valid 'created' time");
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

static int print_json(const struct producer_plan *plan)
{
    for (size_t i = 0; i < plan->n_jobs; i++) {
        const struct pf_job *j = &plan->jobs[i];
        json_t *o = json_object(), *platforms = json_array();
        char *target = pf_asprintf("%s:%s", j->target_repo, j->target_tag);
        char *line = NULL;
        int r = -ENOMEM;

        if (o && platforms && target) {
            for (size_t p = 0; p < j->platforms.n; p++)
                (void)json_array_append_new(platforms, json_string(j->platforms.v[p]));
            if (json_object_set_new(o, "name", json_string(j->name)) == 0 &&
                json_object_set_new(o, "source", json_string(j->source)) == 0 &&
                json_object_set_new(o, "target", json_string(target)) == 0 &&
                json_object_set(o, "platforms", platforms) == 0)
                line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        }
        if (line) {
            puts(line);
            r = 0;
        }
        free(line); /* jansson allocates with malloc */
        pf_free(target);
        json_decref(platforms);
        json_decref(o);
        if (r < 0)
            return r;
    }
    return 0;
}

static void print_table(const struct producer_plan *plan)
{
    int wn = (int)strlen("NAME"), ws = (int)strlen("SOURCE");

    for (size_t i = 0; i < plan->n_jobs; i++) {
        int n = (int)strlen(plan->jobs[i].name), s = (int)strlen(plan->jobs[i].source);
        wn = n > wn ? n : wn;
        ws = s > ws ? s : ws;
    }
    printf("%-*s  %-*s  %s\n", wn, "NAME", ws, "SOURCE", "TARGET");
    for (size_t i = 0; i < plan->n_jobs; i++) {
        const struct pf_job *j = &plan->jobs[i];
        printf("%-*s  %-*s  %s:%s\n", wn, j->name, ws, j->source, j->target_repo, j->target_tag);
    }
}

static void plan_usage(FILE *out)
{
    fprintf(out, "usage: patchfleet plan --config FILE [--json] [options]\n\n"
                 "Lists the jobs a PatchConfig expands to: NAME SOURCE TARGET, one per line.\n\n"
                 "  --config FILE                    the PatchConfig (required)\n"
                 "  --json                           one JSON object per job and line\n" CLI_REGISTRY_OPTS_HELP
                 "\nexit status: 0 all images discovered, 1 some discovery failed, 2 bad config\n");
}

static int load_config(const char *path, struct pf_config **ret)
{
    struct pf_diags diags;
    int r;

    if (pf_diags_init(&diags, path) < 0)
        return -ENOMEM;
    r = pf_config_load(path, &diags, ret);
    pf_diags_sort(&diags);
    pf_diags_print(&diags, stderr);
    pf_diags_release(&diags);
    return r;
}

int cli_plan(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        CLI_REGISTRY_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct cli_registry_opts ropts = {PF_STRV_INIT, NULL};
    struct producer_plan plan = {0};
    struct pf_config *cfg = NULL;
    struct pf_registry *reg = NULL;
    const char *config_path = NULL;
    bool json = false;
    int status = CLI_EXIT_USAGE, opt, r;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:jh", options, NULL)) != -1) {
        if (opt == 'c') {
            config_path = optarg;
        } else if (opt == 'j') {
            json = true;
        } else if (opt == 'h') {
            plan_usage(stdout);
            status = CLI_EXIT_OK;
            goto out;
        } else if ((r = cli_registry_opt(&ropts, opt, optarg)) <= 0) {
            if (r < 0)
                cli_error("out of memory");
            else
                plan_usage(stderr);
            goto out;
        }
    }
    if (!config_path || optind != argc) {
        cli_error("plan: %s", config_path ? "unexpected argument" : "--config FILE is required");
        plan_usage(stderr);
        goto out;
    }

    r = load_config(config_path, &cfg);
    if (r < 0) {
        status = r == -ENOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE;
        goto out;
    }
    status = CLI_EXIT_FAILED;
    reg = cli_registry_new(&ropts);
    if (!reg)
        goto out;
    r = producer_plan_build(cfg,
                            &(struct producer_catalog){.list_tags = catalog_list_tags,
                                                       .created = catalog_created,
                                                       .userdata = reg},
                            &plan);
    if (r < 0) {
        cli_error("plan: out of memory");
        goto out;
    }
    for (size_t i = 0; i < plan.warnings.n; i++)
        fprintf(stderr, "patchfleet: warning: %s\n", plan.warnings.v[i]);
    for (size_t i = 0; i < plan.n_failures; i++)
        fprintf(stderr, "patchfleet: error: image '%s' (%s): %s\n", plan.failures[i].name,
                plan.failures[i].source, plan.failures[i].reason);
    if (json) {
        if (print_json(&plan) < 0) {
            cli_error("plan: out of memory");
            goto out;
        }
    } else {
        print_table(&plan);
    }
    status = plan.n_failures ? CLI_EXIT_FAILED : CLI_EXIT_OK;
out:
    if (fflush(stdout) != 0 && status == CLI_EXIT_OK)
        status = CLI_EXIT_FAILED;
    producer_plan_release(&plan);
    reg = pf_registry_free(reg);
    cfg = pf_config_free(cfg);
    cli_registry_opts_release(&ropts);
    return status;
}
