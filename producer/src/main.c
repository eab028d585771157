/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patchfleet-producer: expands a PatchConfig exactly as `patchfleet patch` does (the same
 * registry-backed catalog), then publishes the run on Kafka (publish.h): the run message with
 * the expected result count, one job message per job and one Failed result per plan failure.
 * Workers need no shared disk: everything a job needs is in its message. The run id is the
 * last line on stdout so scripts can capture it; progress and errors go to stderr.
 */
#include "pf/setup.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/config.h"
#include "pf/digest.h"
#include "pf/duration.h"
#include "pf/log.h"
#include "pf/msg.h"
#include "pf/registry.h"
#include "pf/registry_opts.h"
#include "pf/tag_decision.h"
#include "pf/tag_lists.h"
#include "producer/catalog.h"
#include "producer/plan.h"
#include "producer/publish.h"
#include "producer/reports.h"
#include "producer/run.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

enum {
    OPT_BROKERS = 0x100,
    OPT_PUSH,
    OPT_OCI_DIR,
    OPT_DRY_RUN,
    OPT_TIMEOUT,
    OPT_IGNORE_ERRORS,
    OPT_RUN_ID,
    OPT_DELIVERY_TIMEOUT,
    OPT_SCANNER,
    OPT_PKG_TYPES,
};

struct args {
    const char *config, *brokers, *oci_dir, *run_id, *reports, *scanner, *pkg_types;
    bool push, dry_run, ignore_errors;
    int64_t timeout_ms, delivery_timeout_ms;
    struct pf_registry_opts registry; /* --insecure-registry, --ca-file */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: patchfleet-producer --config FILE --brokers HOST:PORT[,...]\n"
            "                           (--push | --oci-dir DIR | --dry-run) [options]\n"
            "\nExpands a PatchConfig and publishes its jobs to Kafka (topic patchfleet.jobs).\n\n"
            "  --timeout DURATION        per-job timeout carried in each job (e.g. 90s, 15m)\n"
            "  --ignore-errors           exit 0 even when the plan had failures\n"
            "  --run-id ID               use this run id (default: time + random)\n"
            "  -r, --report DIR          scanner reports of patched images: jobs whose newest\n"
            "                            patched tag has no fixable vulnerability are published\n"
            "                            with a skip verdict (workers report them Skipped)\n"
            "  --scanner trivy|native    format of the reports (default trivy)\n"
            "  --pkg-types os|os,library findings that count as fixable (default os)\n"
            "  --delivery-timeout D      wait this long for the broker's acks (default "
            "60s)\n" PF_REGISTRY_OPTS_HELP "\nThe run id is printed as the last line on stdout.\n"
            "exit status: 0 published, 1 a delivery or plan failure, 2 usage or config error\n");
}

static int parse_args(int argc, char **argv, struct args *a)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"brokers", required_argument, NULL, OPT_BROKERS},
        {"push", no_argument, NULL, OPT_PUSH},
        {"oci-dir", required_argument, NULL, OPT_OCI_DIR},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"ignore-errors", no_argument, NULL, OPT_IGNORE_ERRORS},
        {"run-id", required_argument, NULL, OPT_RUN_ID},
        {"report", required_argument, NULL, 'r'},
        {"report-dir", required_argument, NULL, 'r'},
        {"scanner", required_argument, NULL, OPT_SCANNER},
        {"pkg-types", required_argument, NULL, OPT_PKG_TYPES},
        PF_REGISTRY_LONG_OPTIONS,
        {"delivery-timeout", required_argument, NULL, OPT_DELIVERY_TIMEOUT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, r;

    while ((opt = getopt_long(argc, argv, "c:r:h", options, NULL)) != -1) {
        r = pf_registry_opts_parse(&a->registry, opt, optarg);
        if (r < 0)
            return r;
        if (r > 0)
            continue;
        switch (opt) {
        case 'h':
            usage(stdout);
            return 1;
        case 'c':
            a->config = optarg;
            break;
        case 'r':
            a->reports = optarg;
            break;
        case OPT_SCANNER:
            a->scanner = optarg;
            break;
        case OPT_PKG_TYPES:
            a->pkg_types = optarg;
            break;
        case OPT_BROKERS:
            a->brokers = optarg;
            break;
        case OPT_PUSH:
            a->push = true;
            break;
        case OPT_OCI_DIR:
            a->oci_dir = optarg;
            break;
        case OPT_DRY_RUN:
            a->dry_run = true;
            break;
        case OPT_IGNORE_ERRORS:
            a->ignore_errors = true;
            break;
        case OPT_RUN_ID:
            a->run_id = optarg;
            break;
        case OPT_TIMEOUT:
        case OPT_DELIVERY_TIMEOUT:
            if (pf_duration_parse_ms(optarg,
                                     opt == OPT_TIMEOUT ? &a->timeout_ms : &a->delivery_timeout_ms,
                                     NULL, 0) < 0) {
                fprintf(stderr, "patchfleet-producer: invalid duration '%s' (e.g. 90s, 15m)\n",
                        optarg);
                return -EINVAL;
            }
            break;
        default:
            usage(stderr);
            return -EINVAL;
        }
    }
    if (optind != argc || !a->config || !a->brokers ||
        (int)a->push + (int)(a->oci_dir != NULL) + (int)a->dry_run != 1) {
        fprintf(stderr, "patchfleet-producer: --config, --brokers and exactly one of --push, "
                        "--oci-dir and --dry-run are required\n");
        return -EINVAL;
    }
    if (!a->reports && (a->scanner || a->pkg_types)) {
        fprintf(stderr, "patchfleet-producer: %s needs -r DIR\n",
                a->scanner ? "--scanner" : "--pkg-types");
        return -EINVAL;
    }
    if (a->scanner && (int)producer_report_scanner_from_string(a->scanner) < 0) {
        fprintf(stderr, "patchfleet-producer: --scanner wants 'trivy' or 'native', not '%s'\n",
                a->scanner);
        return -EINVAL;
    }
    if (a->pkg_types && strcmp(a->pkg_types, "os") != 0 &&
        strcmp(a->pkg_types, "os,library") != 0) {
        fprintf(stderr, "patchfleet-producer: --pkg-types wants 'os' or 'os,library', not '%s'\n",
                a->pkg_types);
        return -EINVAL;
    }
    if (a->run_id && (!a->run_id[0] || strlen(a->run_id) > 128 ||
                      strspn(a->run_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789._-") != strlen(a->run_id))) {
        fprintf(stderr, "patchfleet-producer: --run-id wants 1-128 of [A-Za-z0-9._-]\n");
        return -EINVAL;
    }
    return 0;
}

/* With -r: the report verdict of job `j` (Copa's skip rule, docs/reports.md) into `m`. A
 * decision that cannot be made leaves the verdict "patch": the worker decides the tag itself. */
static int judge_job(struct pf_registry *reg, struct pf_tag_lists *lists,
                     const struct producer_reports *reps, const struct pf_job *j,
                     struct pf_msg_job *m)
{
    struct pf_report_lookup reports = producer_reports_as_lookup(reps);
    struct pf_tag_decision dec = {0};
    char err[512] = "";
    int r = pf_tag_decision_for_job(reg, lists, &reports, j, NULL, NULL, &dec, err, sizeof(err));

    if (r == -ENOMEM)
        return r;
    if (r < 0)
        fprintf(stderr, "patchfleet-producer: warning: %s: %s\n", j->source, err);
    else if (dec.skip) {
        m->verdict = PF_MSG_VERDICT_SKIP_CLEAN;
        m->skip_tag = pf_strdup(dec.tag);
        r = m->skip_tag ? 0 : -ENOMEM;
    }
    pf_tag_decision_release(&dec);
    return r == -ENOMEM ? r : 0;
}

/* Fills msgs[i] from plan->jobs[i] (deep copies, so the plan can be released separately). */
static int make_jobs(const struct args *a, struct pf_registry *reg,
                     const struct producer_reports *reps, const char *run,
                     const struct producer_plan *plan, struct pf_msg_job *msgs)
{
    struct pf_tag_lists *lists = NULL;
    int64_t now = producer_now_ms();
    int r = 0;

    if (reps && !a->oci_dir && pf_tag_lists_new(&lists) < 0)
        return -ENOMEM;

    for (size_t i = 0; i < plan->n_jobs; i++) {
        const struct pf_job *j = &plan->jobs[i];
        struct pf_msg_job *m = &msgs[i];

        m->run_id = pf_strdup(run);
        m->job_id = producer_job_id(run, j->source, j->target_repo, j->target_tag);
        m->job.name = j->name ? pf_strdup(j->name) : NULL;
        m->job.source = pf_strdup(j->source);
        m->job.source_tag = j->source_tag ? pf_strdup(j->source_tag) : NULL;
        m->job.target_repo = pf_strdup(j->target_repo);
        m->job.target_tag = pf_strdup(j->target_tag);
        m->oci_dir = a->oci_dir ? pf_strdup(a->oci_dir) : NULL;
        m->push = a->push;
        m->dry_run = a->dry_run;
        m->timeout_ms = a->timeout_ms;
        m->verdict = PF_MSG_VERDICT_PATCH;
        m->created_ms = now;
        if (!m->run_id || !m->job_id || !m->job.source || !m->job.target_repo ||
            !m->job.target_tag || (j->name && !m->job.name) || (a->oci_dir && !m->oci_dir) ||
            (j->source_tag && !m->job.source_tag) ||
            pf_strv_extend(&m->job.platforms, &j->platforms) < 0 ||
            (lists && judge_job(reg, lists, reps, j, m) < 0)) {
            r = -ENOMEM;
            break;
        }
    }
    pf_tag_lists_free(lists);
    return r;
}

static int make_failures(const char *run, const struct producer_plan *plan,
                         struct pf_msg_result *res)
{
    int64_t now = producer_now_ms();

    for (size_t i = 0; i < plan->n_failures; i++) {
        int r = producer_plan_failure_result(run, &plan->failures[i], now, &res[i]);

        if (r < 0)
            return r;
    }
    return 0;
}

static struct pf_registry *registry_new(const struct args *a)
{
    struct pf_registry *reg = NULL;
    char err[256] = "";

    if (pf_registry_opts_new_client(&a->registry, &reg, err, sizeof(err)) < 0)
        fprintf(stderr, "patchfleet-producer: cannot create the registry client: %s\n", err);
    return reg;
}

/* Reads the -r directory once; an unreadable directory is a usage error (a typo must not mean
 * "no reports"), a bad file in it a warning. Returns an exit status. */
static int load_reports(const struct args *a, struct producer_reports **ret)
{
    enum producer_report_scanner sc = a->scanner ? producer_report_scanner_from_string(a->scanner)
                                                 : PRODUCER_REPORT_TRIVY;
    const struct pf_strv *w;
    char err[512] = "";
    int r = producer_reports_load(a->reports, sc, a->pkg_types && strcmp(a->pkg_types, "os") != 0,
                                  ret, err, sizeof(err));

    if (r < 0) {
        fprintf(stderr, "patchfleet-producer: -r: %s\n", err[0] ? err : strerror(-r));
        return r == -ENOMEM ? EXIT_FAILED : EXIT_USAGE;
    }
    w = producer_reports_warnings(*ret);
    for (size_t i = 0; i < w->n; i++)
        fprintf(stderr, "patchfleet-producer: warning: %s\n", w->v[i]);
    return EXIT_OK;
}

/* Builds and publishes the run. Returns an exit status. */
static int run(const struct args *a, struct pf_registry *reg, const struct producer_reports *reps,
               const struct producer_plan *plan)
{
    struct pf_msg_run rm = {.warnings = PF_STRV_INIT};
    struct pf_msg_job *jobs = pf_calloc(plan->n_jobs + 1, sizeof(*jobs));
    struct pf_msg_result *fails = pf_calloc(plan->n_failures + 1, sizeof(*fails));
    struct producer_publish_options po = {.brokers = a->brokers,
                                          .timeout_ms = a->delivery_timeout_ms};
    struct producer_publish_stats st = {0};
    const char *base = strrchr(a->config, '/');
    char err[512] = "";
    int status = EXIT_FAILED, r;

    rm.run_id = a->run_id ? pf_strdup(a->run_id) : producer_run_id_new();
    rm.config_name = pf_strdup(base ? base + 1 : a->config);
    rm.mode = pf_strdup(a->push ? "push" : a->oci_dir ? "oci" : "dry-run");
    rm.expected = plan->n_jobs + plan->n_failures;
    rm.created_ms = producer_now_ms();
    r = jobs && fails && rm.run_id && rm.config_name && rm.mode ? 0 : -ENOMEM;
    r = r < 0 ? r : producer_config_digest(a->config, &rm.config_digest);
    r = r < 0 ? r : pf_strv_extend(&rm.warnings, &plan->warnings);
    r = r < 0 ? r : make_jobs(a, reg, reps, rm.run_id, plan, jobs);
    r = r < 0 ? r : make_failures(rm.run_id, plan, fails);
    if (r < 0) {
        fprintf(stderr, "patchfleet-producer: cannot build the messages: %s\n", strerror(-r));
        goto out;
    }
    r = producer_publish(&po, &rm, jobs, plan->n_jobs, fails, plan->n_failures, &st, err,
                         sizeof(err));
    fprintf(stderr,
            "patchfleet-producer: run %s: %zu jobs, %zu plan failures, %zu messages "
            "delivered\n",
            rm.run_id, plan->n_jobs, plan->n_failures, st.delivered);
    if (r < 0) {
        fprintf(stderr, "patchfleet-producer: publishing failed: %s\n",
                err[0] ? err : strerror(-r));
        goto out;
    }
    printf("%s\n", rm.run_id);
    status = plan->n_failures && !a->ignore_errors ? EXIT_FAILED : EXIT_OK;
out:
    for (size_t i = 0; jobs && i < plan->n_jobs; i++)
        pf_msg_job_release(&jobs[i]);
    for (size_t i = 0; fails && i < plan->n_failures; i++)
        pf_msg_result_release(&fails[i]);
    pf_free(jobs);
    pf_free(fails);
    pf_msg_run_release(&rm);
    return fflush(stdout) == 0 ? status : EXIT_FAILED;
}

int main(int argc, char **argv)
{
    struct args a = {.registry = PF_REGISTRY_OPTS_INIT};
    struct producer_plan plan = {0};
    struct pf_config *cfg = NULL;
    struct pf_registry *reg = NULL;
    struct producer_reports *reps = NULL;
    const char *lvl = getenv("PATCHFLEET_LOG");
    int status, r;

    pf_log_set_sink(pf_log_stderr_sink, NULL);
    if (lvl && pf_log_level_from_string(lvl) >= 0)
        pf_log_set_level(pf_log_level_from_string(lvl));
    r = parse_args(argc, argv, &a);
    if (r != 0) {
        status = r > 0 ? EXIT_OK : EXIT_USAGE;
        goto out;
    }
    r = producer_catalog_load_config(a.config, stderr, &cfg);
    if (r < 0) {
        status = r == -ENOMEM ? EXIT_FAILED : EXIT_USAGE;
        goto out;
    }
    reg = registry_new(&a);
    if (!reg) {
        status = EXIT_FAILED;
        goto out;
    }
    if (producer_catalog_plan(cfg, reg, &plan) < 0) {
        fprintf(stderr, "patchfleet-producer: out of memory\n");
        status = EXIT_FAILED;
        goto out;
    }
    for (size_t i = 0; i < plan.warnings.n; i++)
        fprintf(stderr, "patchfleet-producer: warning: %s\n", plan.warnings.v[i]);
    for (size_t i = 0; i < plan.n_failures; i++)
        fprintf(stderr, "patchfleet-producer: error: image '%s' (%s): %s\n", plan.failures[i].name,
                plan.failures[i].source, plan.failures[i].reason);
    if (a.reports) {
        status = load_reports(&a, &reps);
        if (status != EXIT_OK)
            goto out;
    }
    status = run(&a, reg, reps, &plan);
out:
    reps = producer_reports_free(reps);
    producer_plan_release(&plan);
    reg = pf_registry_free(reg);
    cfg = pf_config_free(cfg);
    pf_registry_opts_release(&a.registry);
    return status;
}
