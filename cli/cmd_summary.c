/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `patchfleet summary --redis URL (--run ID | --latest) [--format table|json] [--wait]`: the
 * summary of a fleet run, read back from the Redis store the aggregator writes. The table is
 * the local run's (cli/summary.h), so a fleet sweep and a local one print the same thing; the
 * run line (counts, completion) goes to stderr to keep stdout identical. --wait follows a
 * running sweep, printing live counts to stderr each time they change, until it completes.
 */
#include "pf/setup.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregator/store.h"
#include "cli.h"
#include "pf/alloc.h"
#include "pf/json.h"
#include "pf/msg.h"
#include "summary.h"

struct summary_opts {
    const char *url;
    const char *run;
    bool latest;
    bool json;
    bool wait;
};

static int cmp_results(const void *a, const void *b)
{
    const struct pf_msg_result *x = a, *y = b;
    int c = strcmp(x->name ? x->name : "", y->name ? y->name : "");

    return c ? c : strcmp(x->source, y->source);
}

static int print_table(const struct pf_msg_result *res, size_t n)
{
    struct cli_summary_row *rows = n ? pf_calloc(n, sizeof(*rows)) : NULL;
    char *text = NULL;
    int r;

    if (n && !rows)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        rows[i] = (struct cli_summary_row){.name = res[i].name,
                                           .status = pf_status_from_string(res[i].status),
                                           .source = res[i].source,
                                           .patched = res[i].patched_ref ? res[i].patched_ref
                                                                         : res[i].patched_tag,
                                           .details = res[i].details};
    r = cli_summary_table(rows, n, false, &text);
    if (r == 0)
        fputs(text, stdout);
    pf_free(text);
    pf_free(rows);
    return r;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* {"run": RUN, "jobs": [...]}: RUN is the API's shape (aggregator_run_json()), so a script
 * reads a run the same way from either. */
static int print_json(const struct aggregator_run_info *info, const struct pf_msg_result *res,
                      size_t n)
{
    json_t *root = json_object(), *run = aggregator_run_json(info), *jobs = json_array();
    char *text = NULL;
    int r;

    if (!root || !run || !jobs) {
        json_decref(root);
        json_decref(run);
        json_decref(jobs);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();

        (void)json_object_set_new(o, "name", str_or_null(res[i].name));
        (void)json_object_set_new(o, "status", json_string(res[i].status));
        (void)json_object_set_new(o, "source", json_string(res[i].source));
        (void)json_object_set_new(o, "patched_tag", str_or_null(res[i].patched_tag));
        (void)json_object_set_new(o, "details", str_or_null(res[i].details));
        (void)json_array_append_new(jobs, o);
    }
    (void)json_object_set_new(root, "run", run);
    (void)json_object_set_new(root, "jobs", jobs);
    r = pf_json_dump_pretty(root, &text, NULL);
    json_decref(root);
    if (r < 0)
        return r;
    fputs(text, stdout);
    pf_free(text);
    return 0;
}

/* One stderr line of progress: "run R: 3/5 finished (Failed 1, Patched 2)". */
static void print_progress(const struct aggregator_run_info *info)
{
    fprintf(stderr, "run %s: %" PRId64 "/", info->run_id, info->finished);
    if (info->expected >= 0)
        fprintf(stderr, "%" PRId64, info->expected);
    else
        fputs("?", stderr);
    fputs(" finished (", stderr);
    for (size_t i = 0; i < info->n_counts; i++)
        fprintf(stderr, "%s%s %" PRId64, i ? ", " : "", info->counts[i].status, info->counts[i].n);
    fprintf(stderr, ")%s\n", info->completed_ms >= 0 ? ", complete" : "");
}

/* With --wait, polls once a second until the run completes; prints counts when they change. */
static int read_run_waiting(struct aggregator_store *st, const char *run_id, bool wait,
                            struct aggregator_run_info *ret)
{
    int64_t last = -2;

    for (;;) {
        struct aggregator_run_info info = {0};
        struct timespec ts = {.tv_sec = 1};
        int r = aggregator_store_read_run(st, run_id, &info);

        if (r < 0 && !(wait && r == -ENOENT))
            return r;
        if (r == 0 && (!wait || info.completed_ms >= 0)) {
            *ret = info;
            return 0;
        }
        if (r == 0 && info.finished != last) {
            print_progress(&info);
            last = info.finished;
        }
        aggregator_run_info_release(&info);
        (void)nanosleep(&ts, NULL);
    }
}

static int show(const struct summary_opts *o)
{
    struct aggregator_store *st = NULL;
    struct aggregator_run_info info = {0};
    struct pf_msg_result *res = NULL;
    size_t n = 0;
    char err[256] = "", *run_id = NULL;
    int r, status = CLI_EXIT_FAILED;

    r = aggregator_store_open(o->url, NULL, &st, err, sizeof(err));
    if (r < 0) {
        cli_error("cannot open the redis store: %s", err);
        return r == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
    }
    r = o->latest ? aggregator_store_latest(st, &run_id) : 0;
    if (r == 0 && !o->latest)
        run_id = pf_strdup(o->run);
    if (r == 0 && !run_id)
        r = -ENOMEM;
    r = r < 0 ? r : read_run_waiting(st, run_id, o->wait, &info);
    r = r < 0 ? r : aggregator_store_read_results(st, run_id, &res, &n);
    if (r == -ENOENT) {
        cli_error(o->latest ? "no run is recorded in redis" : "unknown run '%s'", o->run);
        goto out;
    }
    if (r < 0) {
        cli_error("cannot read the run from redis: %s", strerror(-r));
        goto out;
    }
    if (n)
        qsort(res, n, sizeof(*res), cmp_results);
    print_progress(&info);
    r = o->json ? print_json(&info, res, n) : print_table(res, n);
    if (r < 0) {
        cli_error("cannot render the summary: %s", strerror(-r));
        goto out;
    }
    status = info.completed_ms >= 0 && info.n_counts ? CLI_EXIT_OK : CLI_EXIT_FAILED;
    for (size_t i = 0; i < info.n_counts; i++)
        if (pf_msg_status_is_failure(info.counts[i].status))
            status = CLI_EXIT_FAILED;
out:
    for (size_t i = 0; i < n; i++)
        pf_msg_result_release(&res[i]);
    pf_free(res);
    aggregator_run_info_release(&info);
    pf_free(run_id);
    aggregator_store_close(st);
    return status;
}

static void summary_usage(FILE *out)
{
    fprintf(out,
            "usage: patchfleet summary --redis URL (--run ID | --latest) [--format table|json] "
            "[--wait]\n\n"
            "Prints a fleet run's summary from Redis (the local run's table, or JSON).\n\n"
            "  --redis URL        redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]\n"
            "  --run ID           the run to show\n"
            "  --latest           the most recently created run\n"
            "  --format FORMAT    table (default) or json: {run, jobs} (docs/dashboard.md)\n"
            "  --wait             follow a running sweep until it completes\n"
            "\nexit status: 0 run complete and nothing Failed, Cancelled or Error, 1 otherwise, "
            "2 usage\n");
}

int cli_summary(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"redis", required_argument, NULL, 'R'},
        {"run", required_argument, NULL, 'r'},
        {"latest", no_argument, NULL, 'l'},
        {"format", required_argument, NULL, 'f'},
        {"wait", no_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct summary_opts o = {0};
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'R':
            o.url = optarg;
            break;
        case 'r':
            o.run = optarg;
            break;
        case 'l':
            o.latest = true;
            break;
        case 'w':
            o.wait = true;
            break;
        case 'f':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0) {
                cli_error("unknown format '%s' (table, json)", optarg);
                return CLI_EXIT_USAGE;
            }
            o.json = strcmp(optarg, "json") == 0;
            break;
        case 'h':
            summary_usage(stdout);
            return CLI_EXIT_OK;
        default:
            summary_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc || !o.url || (!o.run == !o.latest)) {
        cli_error("summary needs --redis URL and exactly one of --run ID or --latest");
        summary_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return show(&o);
}
