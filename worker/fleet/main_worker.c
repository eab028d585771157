/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patchfleet-worker: a fleet worker process (fleet_worker.h). Sets up what `patchfleet patch`
 * sets up for its thread pool (registry client, blob cache, every distro engine, a work
 * directory) and hands it to worker_fleet_run(). SIGTERM/SIGINT stop taking jobs and start the
 * grace period; a second signal exits at once (unfinished jobs are redelivered anyway).
 */
#include "pf/setup.h"

#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/duration.h"
#include "pf/fs.h"
#include "pf/http_server.h"
#include "pf/log.h"
#include "pf/registry.h"
#include "pf/registry_opts.h"
#include "pf/strv.h"
#include "image/blob_cache.h"
#include "engine/engines.h"
#include "fleet/fleet_worker.h"
#include "fleet/metrics.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

enum {
    OPT_BROKERS = 0x100,
    OPT_GROUP,
    OPT_CONCURRENCY,
    OPT_CACHE_DIR,
    OPT_WORK_DIR,
    OPT_KEYRING,
    OPT_PKG_MIRROR,
    OPT_TIMEOUT,
    OPT_GRACE,
    OPT_MAX_ATTEMPTS,
    OPT_HTTP,
    OPT_ALLOW_INDEX_ROLLBACK,
    OPT_MAX_PACKAGE,
    OPT_MAX_LAYER,
    OPT_MAX_PATCH_LAYER,
};

struct args {
    const char *brokers, *group, *cache_dir, *work_dir, *keyring, *http;
    long concurrency, max_attempts;
    int64_t timeout_ms, grace_ms;
    bool allow_index_rollback;
    struct pf_strv mirrors;
    struct pf_registry_opts registry; /* --insecure-registry, --ca-file */
    struct worker_size_limits limits; /* --max-package-size ...; zeros keep the defaults */
};

static atomic_int stop_flag;

static void on_signal(int sig)
{
    static const char msg[] = "patchfleet-worker: stopping (signal again to exit now)\n";
    ssize_t n;

    (void)sig;
    if (atomic_exchange(&stop_flag, 1))
        _exit(130);
    n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)n;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: patchfleet-worker --brokers HOST:PORT[,...] [options]\n"
            "\nRuns patch jobs from Kafka topic patchfleet.jobs; results go to\n"
            "patchfleet.results.\n\n"
            "  --group NAME               consumer group (default patchfleet-workers)\n"
            "  --concurrency N            job slots (default 2)\n"
            "  --timeout DURATION         per-job timeout when the job names none (default 5m)\n"
            "  --grace DURATION           on SIGTERM: time in-flight jobs may still take\n"
            "                             (default 30s)\n"
            "  --max-attempts N           starts without a result before the DLQ (default 3)\n"
            "  --max-package-size SIZE    uncompressed bytes of one package (default 16G)\n"
            "  --max-layer-size SIZE      uncompressed file bytes of one source layer\n"
            "                             (default 64G)\n"
            "  --max-patch-layer-size SIZE  file bytes of the patch layer (default 64G)\n"
            "  --cache-dir DIR            blobs and package indexes\n"
            "                             (default $XDG_CACHE_HOME/patchfleet or\n"
            "                             $HOME/.cache/patchfleet)\n"
            "  --work-dir DIR             scratch space (default $TMPDIR/patchfleet-worker-PID)\n"
            "  --keyring FILE             apt keyring for sources without Signed-By\n"
            "  --pkg-mirror FROM=TO       rewrite package repository URLs "
            "(repeatable)\n"
            "  --allow-index-rollback     accept a signed package index older than the newest\n"
            "                             one this cache dir accepted "
            "before\n" PF_REGISTRY_OPTS_HELP
            "  --http HOST:PORT           serve /metrics (Prometheus) and /healthz there\n");
}

static int parse_count(const char *s, long max, long *ret)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > max)
        return -EINVAL;
    *ret = v;
    return 0;
}

static int parse_opt(struct args *a, int opt, const char *arg)
{
    switch (opt) {
    case OPT_BROKERS:
        a->brokers = arg;
        return 0;
    case OPT_GROUP:
        a->group = arg;
        return 0;
    case OPT_CACHE_DIR:
        a->cache_dir = arg;
        return 0;
    case OPT_WORK_DIR:
        a->work_dir = arg;
        return 0;
    case OPT_KEYRING:
        a->keyring = arg;
        return 0;
    case OPT_HTTP:
        a->http = arg;
        return 0;
    case OPT_ALLOW_INDEX_ROLLBACK:
        a->allow_index_rollback = true;
        return 0;
    case OPT_CONCURRENCY:
        return parse_count(arg, WORKER_FLEET_MAX_SLOTS, &a->concurrency);
    case OPT_MAX_ATTEMPTS:
        return parse_count(arg, 1000, &a->max_attempts);
    case OPT_TIMEOUT:
        return pf_duration_parse_ms(arg, &a->timeout_ms, NULL, 0);
    case OPT_MAX_PACKAGE:
        return worker_size_parse(arg, &a->limits.package);
    case OPT_MAX_LAYER:
        return worker_size_parse(arg, &a->limits.layer);
    case OPT_MAX_PATCH_LAYER:
        return worker_size_parse(arg, &a->limits.patch_layer);
    case OPT_GRACE:
        return pf_duration_parse_ms(arg, &a->grace_ms, NULL, 0);
    case PF_REGISTRY_OPT_INSECURE:
    case PF_REGISTRY_OPT_CA_FILE:
        return pf_registry_opts_parse(&a->registry, opt, arg) < 0 ? -ENOMEM : 0;
    case OPT_PKG_MIRROR:
        if (!strchr(arg, '=') || arg[0] == '=')
            return -EINVAL;
        return pf_strv_push(&a->mirrors, arg) < 0 ? -ENOMEM : 0;
    default:
        return -EINVAL;
    }
}

static int parse_args(int argc, char **argv, struct args *a)
{
    static const struct option options[] = {
        {"brokers", required_argument, NULL, OPT_BROKERS},
        {"group", required_argument, NULL, OPT_GROUP},
        {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
        {"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
        {"work-dir", required_argument, NULL, OPT_WORK_DIR},
        {"keyring", required_argument, NULL, OPT_KEYRING},
        {"pkg-mirror", required_argument, NULL, OPT_PKG_MIRROR},
        PF_REGISTRY_LONG_OPTIONS,
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"max-package-size", required_argument, NULL, OPT_MAX_PACKAGE},
        {"max-layer-size", required_argument, NULL, OPT_MAX_LAYER},
        {"max-patch-layer-size", required_argument, NULL, OPT_MAX_PATCH_LAYER},
        {"grace", required_argument, NULL, OPT_GRACE},
        {"max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS},
        {"http", required_argument, NULL, OPT_HTTP},
        {"allow-index-rollback", no_argument, NULL, OPT_ALLOW_INDEX_ROLLBACK},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 1;
        }
        if (opt == '?' || parse_opt(a, opt, optarg) < 0) {
            if (opt != '?')
                fprintf(stderr, "patchfleet-worker: invalid value '%s'\n", optarg);
            usage(stderr);
            return -EINVAL;
        }
    }
    if (optind != argc || !a->brokers) {
        fprintf(stderr, "patchfleet-worker: --brokers is required\n");
        return -EINVAL;
    }
    return 0;
}

struct env {
    struct pf_registry *reg;
    struct worker_blob_cache *blobs;
    struct worker_engine *engine;
    char *cache_dir, *work_dir, *worker_id;
    bool work_dir_created;
    struct worker_metrics *metrics; /* --http */
    struct pf_http_server *http;
};

static int env_open(const struct args *a, struct env *e)
{
    char err[512] = "", host[256] = "localhost";
    int r;

    (void)gethostname(host, sizeof(host) - 1);
    e->worker_id = pf_asprintf("%s:%ld", host, (long)getpid());
    e->cache_dir = a->cache_dir ? pf_strdup(a->cache_dir) : pf_fs_cache_dir_default();
    e->work_dir = a->work_dir ? pf_strdup(a->work_dir)
                              : pf_fs_work_dir_default("patchfleet-worker");
    if (!e->worker_id || !e->cache_dir || !e->work_dir)
        return -ENOMEM;
    r = pf_fs_mkdir_p(e->cache_dir, 0700);
    if (r < 0)
        return pf_log_errno(LOG_ERR, r, "cannot create the cache directory '%s'", e->cache_dir);
    /* A default path that exists is a stale run's or someone else's: refuse, never adopt it. */
    r = pf_fs_make_work_dir(e->work_dir, a->work_dir != NULL, &e->work_dir_created);
    if (r < 0)
        return pf_log_errno(LOG_ERR, r, "cannot create the work directory '%s'", e->work_dir);
    r = pf_registry_opts_new_client(&a->registry, &e->reg, err, sizeof(err));
    if (r < 0)
        return pf_log_errno(LOG_ERR, r, "cannot create the registry client: %s", err);
    r = worker_blob_cache_new(e->cache_dir, &e->blobs, err, sizeof(err));
    if (r < 0)
        return pf_log_errno(LOG_ERR, r, "cannot open the blob cache: %s", err);
    r = worker_engines_new(
        &(struct worker_engines_options){.cache_dir = e->cache_dir,
                                         .mirrors = &a->mirrors,
                                         .keyring = a->keyring,
                                         .ca_file = a->registry.ca_file,
                                         .allow_index_rollback = a->allow_index_rollback},
        &e->engine, err, sizeof(err));
    if (r < 0)
        return pf_log_errno(LOG_ERR, r, "cannot set up the patch engines: %s", err);
    return 0;
}

/* /metrics and /healthz. The worker is healthy while its process serves: a wedged Kafka loop
 * shows as a consumer-group member that stops consuming, which the lag (KEDA) already sees. */
static int serve(void *userdata, const char *method, const char *path,
                 const struct pf_http_request *req, struct pf_http_response *ret)
{
    (void)req;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        *ret = (struct pf_http_response){.status = 405,
                                         .content_type = "text/plain",
                                         .body = (char *)(uintptr_t) "method not allowed\n",
                                         .len = 19,
                                         .body_static = true};
        return 0;
    }
    if (strcmp(path, "/metrics") == 0) {
        const struct env *e = userdata;
        struct worker_blob_cache_stats bs;
        int r;

        worker_blob_cache_get_stats(e->blobs, &bs);
        r = worker_metrics_render(e->metrics, &bs, &ret->body, &ret->len);

        if (r < 0)
            return r;
        ret->status = 200;
        ret->content_type = "text/plain; version=0.0.4; charset=utf-8";
        return 0;
    }
    *ret = strcmp(path, "/healthz") == 0
               ? (struct pf_http_response){.status = 200,
                                           .content_type = "text/plain",
                                           .body = (char *)(uintptr_t) "ok\n",
                                           .len = 3,
                                           .body_static = true}
               : (struct pf_http_response){.status = 404,
                                           .content_type = "text/plain",
                                           .body = (char *)(uintptr_t) "not found\n",
                                           .len = 10,
                                           .body_static = true};
    return 0;
}

static int http_open(const struct args *a, struct env *e)
{
    char bound[300], err[512] = "";
    int r;

    if (!a->http)
        return 0;
    e->metrics = worker_metrics_new();
    if (!e->metrics)
        return -ENOMEM;
    r = pf_http_server_start(a->http, serve, e, &e->http, bound, sizeof(bound), err, sizeof(err));
    if (r < 0)
        return pf_log_errno(LOG_ERR, r, "--http: %s", err);
    fprintf(stderr, "patchfleet-worker: listening on http://%s\n", bound);
    return 0;
}

static void env_close(struct env *e)
{
    e->http = pf_http_server_stop(e->http);
    e->metrics = worker_metrics_free(e->metrics);
    e->engine = worker_engines_free(e->engine);
    e->blobs = worker_blob_cache_free(e->blobs);
    e->reg = pf_registry_free(e->reg);
    if (e->work_dir && e->work_dir_created)
        (void)pf_fs_remove_tree(e->work_dir);
    pf_free(e->work_dir);
    pf_free(e->cache_dir);
    pf_free(e->worker_id);
}

int main(int argc, char **argv)
{
    struct args a = {.concurrency = 2,
                     .max_attempts = 3,
                     .timeout_ms = 300000,
                     .grace_ms = 30000,
                     .mirrors = PF_STRV_INIT,
                     .registry = PF_REGISTRY_OPTS_INIT};
    struct env e = {0};
    struct sigaction sa;
    const char *lvl = getenv("PATCHFLEET_LOG");
    char err[512] = "";
    int status = EXIT_FAILED, r;

    pf_log_set_sink(pf_log_stderr_sink, NULL);
    pf_log_set_level(LOG_NOTICE);
    if (lvl && pf_log_level_from_string(lvl) >= 0)
        pf_log_set_level(pf_log_level_from_string(lvl));
    r = parse_args(argc, argv, &a);
    if (r != 0) {
        status = r > 0 ? EXIT_OK : EXIT_USAGE;
        goto out;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    (void)sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    (void)sigaction(SIGPIPE, &sa, NULL);
    if (env_open(&a, &e) < 0 || http_open(&a, &e) < 0)
        goto out;
    pf_log(LOG_NOTICE, "worker %s: %ld slots, group %s", e.worker_id, a.concurrency,
           a.group ? a.group : "patchfleet-workers");
    r = worker_fleet_run(&(struct worker_fleet_options){.brokers = a.brokers,
                                                        .group = a.group,
                                                        .worker_id = e.worker_id,
                                                        .concurrency = (unsigned)a.concurrency,
                                                        .default_timeout_ms = a.timeout_ms,
                                                        .grace_ms = a.grace_ms,
                                                        .max_attempts = (unsigned)a.max_attempts,
                                                        .engine = e.engine,
                                                        .registry = e.reg,
                                                        .blobs = e.blobs,
                                                        .work_root = e.work_dir,
                                                        .metrics = e.metrics,
                                                        .limits = a.limits,
                                                        .stop = &stop_flag},
                         err, sizeof(err));
    if (r < 0)
        pf_log(LOG_ERR, "worker stopped: %s", err);
    status = r < 0 ? EXIT_FAILED : EXIT_OK;
    if (r == -EBUSY)
        return status; /* job threads still run: what they use is not freed */
out:
    env_close(&e);
    pf_strv_clear(&a.mirrors);
    pf_registry_opts_release(&a.registry);
    return status;
}
