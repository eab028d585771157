/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `patchfleet plan --config FILE [--json]`: expand a PatchConfig into the jobs a sweep would
 * run, against the real registries, without patching anything. The expansion is the
 * producer's (producer/plan.h) over the registry catalog of catalog.c; this file only prints
 * the result: a table, or one JSON object per line for scripts.
 */
#include "pf/setup.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "cli.h"
#include "pf/alloc.h"
#include "pf/json.h"
#include "pf/config.h"
#include "pf/registry.h"
#include "producer/plan.h"
#include "registry_opts.h"

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
                r = pf_json_dump(o, &line, NULL);
        }
        if (r == 0)
            puts(line);
        pf_free(line);
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
                 "  --json                           one JSON object per job and "
                 "line\n" PF_REGISTRY_OPTS_HELP
                 "\nexit status: 0 all images discovered, 1 some discovery failed, 2 bad config\n");
}

int cli_plan(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        PF_REGISTRY_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct pf_registry_opts ropts = PF_REGISTRY_OPTS_INIT;
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
        } else if ((r = pf_registry_opts_parse(&ropts, opt, optarg)) <= 0) {
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

    r = cli_load_config(config_path, &cfg);
    if (r < 0) {
        status = r == -ENOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE;
        goto out;
    }
    status = CLI_EXIT_FAILED;
    reg = cli_registry_new(&ropts);
    if (!reg)
        goto out;
    r = cli_catalog_plan(cfg, reg, &plan);
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
    pf_registry_opts_release(&ropts);
    return status;
}
