/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `patchfleet patch --config FILE`: Copa's bulk mode on one host. The config is expanded by the
 * same code as `plan` (catalog.c), then a pool of pthreads takes jobs from a shared queue and
 * runs each through worker_patch_job_run() with one engine, registry client and blob cache
 * shared by all. Cancellation is cooperative: the runner polls a per-job callback that turns
 * true past the job's deadline (--timeout) or after SIGINT/SIGTERM, so a timed-out job really
 * stops and nothing is left running behind the summary (Copa's R22/R23 gaps). Results and plan
 * failures become summary rows (summary.c); progress goes to stderr, the summary to stdout.
 */
#include "pf/setup.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "cli.h"
#include "pf/alloc.h"
#include "pf/config.h"
#include "pf/duration.h"
#include "pf/fs.h"
#include "pf/job.h"
#include "pf/log.h"
#include "pf/oci.h"
#include "pf/ref.h"
#include "pf/registry.h"
#include "pf/tag_decision.h"
#include "pf/tag_lists.h"
#include "producer/plan.h"
#include "producer/reports.h"
#include "producer/run.h"
#include "registry_opts.h"
#include "patch_record.h"
#include "summary.h"
#include "image/blob_cache.h"
#include "engine/engines.h"
#include "job/patch_job.h"
#include "job/plan_cache.h"

#define PATCH_DEFAULT_TIMEOUT "5m" /* Copa's default */
#define PATCH_MAX_CONCURRENCY 256

enum {
    OPT_PUSH = 0x2000,
    OPT_OCI_DIR,
    OPT_DRY_RUN,
    OPT_TIMEOUT,
    OPT_IGNORE_ERRORS,
    OPT_CONCURRENCY,
    OPT_FORMAT,
    OPT_PKG_MIRROR,
    OPT_CACHE_DIR,
    OPT_WORK_DIR,
    OPT_KEYRING,
    OPT_SCANNER,
    OPT_PKG_TYPES,
    OPT_REDIS,
    OPT_ALLOW_INDEX_ROLLBACK,
    OPT_MAX_PACKAGE,
    OPT_MAX_LAYER,
    OPT_MAX_PATCH_LAYER,
};

struct patch_args {
    const char *config;
    const char *oci_dir;
    const char *timeout; /* as typed, for "timed out after 15m" */
    uint64_t timeout_ns;
    long concurrency; /* 0: online CPUs */
    bool push, dry_run, ignore_errors, json, wide;
    const char *report_dir, *scanner, *pkg_types; /* skip detection (-r) */
    bool library;                                 /* --pkg-types os,library */
    const char *image_flag, *tag_flag;            /* single-image flags, refused in bulk mode */
    struct pf_strv mirrors;
    const char *cache_dir, *work_dir, *keyring;
    const char *redis; /* --redis URL: record the run like the fleet's aggregator */
    bool allow_index_rollback;
    struct pf_registry_opts reg;
    struct worker_size_limits limits; /* --max-package-size ...; zeros keep the defaults */
};

/* One queued job and what became of it. The runner may poll the callback from helper
 * threads of its own, hence the atomics. */
struct slot {
    const struct pf_job *job;
    uint64_t deadline_ns;
    atomic_bool timed_out;
    atomic_bool interrupted;
    struct worker_patch_job_result res;
    struct pf_tag_decision dec; /* tag and skip decision, before the run */
    enum pf_status status;      /* final, after timeout/interrupt accounting */
    const char *details;        /* borrowed from res, `owned` or a literal */
    char *owned;
    char *patched; /* Skipped by a report: target_repo:tag */
    char *shown;   /* the DETAILS cell: "OK" / reason, plus warnings */
};

struct pool {
    struct worker_patch_job_options base;
    const struct producer_reports *reports; /* -r, or NULL */
    struct pf_tag_lists *tag_lists;         /* target tags, listed once per repository */
    const char *timeout;                    /* as typed */
    uint64_t timeout_ns;
    struct slot *slots;
    size_t n;
    pthread_mutex_t lock; /* guards next, done and the progress lines */
    size_t next, done;
    struct cli_patch_record *record; /* --redis, or NULL */
};

/* Set by the first SIGINT/SIGTERM; read by every job's cancelled() callback from any thread,
 * hence a lock-free atomic rather than a volatile sig_atomic_t (both are signal-safe, only the
 * atomic is race-free across threads). */
static atomic_int patch_interrupted;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the signal handler needs a lock-free atomic_int");

static void on_signal(int sig)
{
    static const char first[] = "patchfleet: interrupted: cancelling running jobs (signal again to "
                                "force exit)\n";
    static const char second[] = "patchfleet: second signal: exiting now\n";
    ssize_t n;

    (void)sig;
    if (atomic_exchange(&patch_interrupted, 1)) {
        n = write(STDERR_FILENO, second, sizeof(second) - 1);
        (void)n;
        _exit(CLI_EXIT_INTERRUPTED);
    }
    n = write(STDERR_FILENO, first, sizeof(first) - 1);
    (void)n;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static bool slot_cancelled(void *userdata)
{
    struct slot *s = userdata;

    if (atomic_load(&patch_interrupted)) {
        atomic_store(&s->interrupted, true);
        return true;
    }
    if (now_ns() >= s->deadline_ns) {
        atomic_store(&s->timed_out, true);
        return true;
    }
    return false;
}

/* Copa's per-job decision before any patching (tag versioning, then the report of the newest
 * patched tag): fills s->dec. Returns 0 or a negative errno with the reason in errbuf. */
static int decide(struct pool *p, struct slot *s, char *errbuf, size_t errlen)
{
    struct pf_report_lookup reports = producer_reports_as_lookup(p->reports);

    return pf_tag_decision_for_job(p->base.registry, p->tag_lists, &reports, s->job, slot_cancelled,
                                   s, &s->dec, errbuf, errlen);
}

/* Runs one job and settles its final status: a job that failed or stopped after its
 * cancellation fired is Cancelled with the reason, whatever error the abort surfaced as. */
static void run_slot(struct pool *p, struct slot *s)
{
    struct worker_patch_job_options o = p->base;
    struct pf_job job = *s->job; /* shallow: only target_tag may point elsewhere (s->dec) */
    char err[512] = "";
    bool stopped;
    int r;

    if (atomic_load(&patch_interrupted)) {
        s->status = PF_STATUS_CANCELLED;
        s->details = "not started: interrupted";
        return;
    }
    o.cancelled = slot_cancelled;
    o.cancelled_userdata = s;
    s->deadline_ns = now_ns() + p->timeout_ns;
    r = o.push || o.dry_run ? decide(p, s, err, sizeof(err)) : 0;
    if (r < 0) {
        s->status = PF_STATUS_ERROR;
        s->owned = pf_asprintf("cannot pick the patched tag in %s: %s", s->job->target_repo,
                               err[0] ? err : strerror(-r));
        s->details = s->owned ? s->owned : "cannot pick the patched tag";
        return;
    }
    if (s->dec.skip) {
        s->status = PF_STATUS_SKIPPED;
        s->details = "no fixable vulnerabilities";
        s->patched = pf_asprintf("%s:%s", s->job->target_repo, s->dec.tag);
        return;
    }
    if (s->dec.tag && o.push) {
        job.target_tag = s->dec.tag;
        o.unchanged_tag = s->dec.latest;
        o.no_overwrite = true;
    }
    r = worker_patch_job_run(&o, &job, &s->res);
    if (r < 0) {
        s->status = PF_STATUS_FAILED;
        s->details = "out of memory";
        return;
    }
    s->status = s->res.status;
    s->details = s->res.details;
    stopped = s->status == PF_STATUS_FAILED || s->status == PF_STATUS_CANCELLED;
    if (stopped && atomic_load(&s->timed_out)) {
        s->status = PF_STATUS_CANCELLED;
        s->owned = pf_asprintf("timed out after %s", p->timeout);
        s->details = s->owned ? s->owned : "timed out";
    } else if (stopped && atomic_load(&s->interrupted)) {
        s->status = PF_STATUS_CANCELLED;
        s->details = "interrupted";
    }
}

/* The DETAILS cell (worker_patch_details(): the same text the fleet's summary shows). */
static void compose_details(struct slot *s)
{
    if (!s->dec.warning && !s->res.warnings && s->status != PF_STATUS_PATCHED)
        return;
    s->shown = worker_patch_details(s->status, s->details, s->dec.warning, s->res.warnings);
}

/* What the PATCHED TAG cell shows for a settled slot: the reference pushed, or the patched
 * tag a report found clean; NULL otherwise. */
static const char *slot_patched(const struct slot *s)
{
    if (s->status != PF_STATUS_PATCHED && s->status != PF_STATUS_SKIPPED)
        return NULL;
    return s->patched ? s->patched : s->res.patched_ref;
}

static void *pool_worker(void *arg)
{
    struct pool *p = arg;

    for (;;) {
        struct slot *s = NULL;
        int64_t started;

        (void)pthread_mutex_lock(&p->lock);
        if (p->next < p->n)
            s = &p->slots[p->next++];
        (void)pthread_mutex_unlock(&p->lock);
        if (!s)
            return NULL;
        started = producer_now_ms();
        if (!s->details) /* not settled before the run (an OCI ref collision) */
            run_slot(p, s);
        compose_details(s);
        cli_patch_record_job(p->record, s->job, s->status, slot_patched(s),
                             s->shown ? s->shown : s->details, &s->res, started, producer_now_ms());
        (void)pthread_mutex_lock(&p->lock);
        p->done++;
        fprintf(stderr, "[%zu/%zu] %s %s %s\n", p->done, p->n, s->job->name, s->job->source,
                pf_status_to_string(s->status));
        (void)pthread_mutex_unlock(&p->lock);
    }
}

/* Runs every slot on up to `nthreads` threads and waits for all. The threads block
 * SIGINT/SIGTERM so the handler runs in the main thread and never interrupts a transfer.
 * When no thread can be created the jobs run in the calling thread: slower, still complete. */
static void pool_run(struct pool *p, size_t nthreads)
{
    pthread_t *threads = pf_calloc(nthreads, sizeof(*threads));
    sigset_t block, old;
    size_t started = 0;

    (void)sigemptyset(&block);
    (void)sigaddset(&block, SIGINT);
    (void)sigaddset(&block, SIGTERM);
    (void)pthread_sigmask(SIG_BLOCK, &block, &old);
    for (size_t i = 0; threads && i < nthreads; i++) {
        if (pthread_create(&threads[started], NULL, pool_worker, p) != 0)
            break;
        started++;
    }
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started < nthreads)
        pf_log(LOG_WARNING, "started %zu of %zu worker threads", started, nthreads);
    if (started == 0)
        (void)pool_worker(p);
    for (size_t i = 0; i < started; i++)
        (void)pthread_join(threads[i], NULL);
    pf_free(threads);
}

/* --- directories ------------------------------------------------------------------------- */

/* Makes the work root: --work-dir (created when missing), else a fresh $TMPDIR/patchfleet-<pid>.
 * *ret_created tells whether this run made it, and so must remove it at exit. */
static int make_work_dir(const char *arg, char **ret, bool *ret_created)
{
    char *dir = arg ? pf_strdup(arg) : pf_fs_work_dir_default("patchfleet");
    bool created = false;
    int r;

    if (!dir)
        return -ENOMEM;
    /* A default path that exists is not ours (a stale run, or someone else's in a shared
     * /tmp): refuse it rather than write into or later delete it. */
    r = pf_fs_make_work_dir(dir, arg != NULL, &created);
    if (r < 0) {
        cli_error("patch: cannot create the work directory '%s': %s", dir, strerror(-r));
        pf_free(dir);
        return r;
    }
    *ret = dir;
    *ret_created = created;
    return 0;
}

/* --- command line ------------------------------------------------------------------------ */

static void patch_usage(FILE *out)
{
    fprintf(out,
            "usage: patchfleet patch --config FILE (--push | --oci-dir DIR | --dry-run) [options]\n"
            "\nPatches every image a PatchConfig expands to and prints a summary table.\n\n"
            "  --config FILE                    the PatchConfig (required; bulk mode)\n"
            "  --push                           push each patched image to its target tag\n"
            "  --oci-dir DIR                    write every patched image into this OCI layout\n"
            "  --dry-run                        plan the upgrades only; nothing is written\n"
            "  --timeout DURATION               per-job timeout, e.g. 90s, 15m, 1h30m "
            "(default " PATCH_DEFAULT_TIMEOUT ")\n"
            "  --max-package-size SIZE          uncompressed bytes of one package (default 16G)\n"
            "  --max-layer-size SIZE            uncompressed file bytes of one source layer\n"
            "                                   (default 64G)\n"
            "  --max-patch-layer-size SIZE      file bytes of the patch layer (default 64G)\n"
            "  --ignore-errors                  exit 0 even when jobs failed\n"
            "  --concurrency N                  jobs run at once (default: online CPUs)\n"
            "  --format table|wide|json         summary format on stdout (default table; wide:\n"
            "                                   full reference in PATCHED TAG)\n"
            "  -r, --report DIR                 vulnerability reports of patched images: skip\n"
            "                                   jobs whose newest patched tag has none fixable\n"
            "  --scanner trivy|native           format of the reports (default trivy)\n"
            "  --pkg-types os|os,library        findings that count as fixable (default os)\n"
            "  --pkg-mirror FROM=TO             rewrite package repository URLs (repeatable)\n"
            "  --cache-dir DIR                  blobs and package indexes (default "
            "$XDG_CACHE_HOME/patchfleet)\n"
            "  --work-dir DIR                   scratch space (default $TMPDIR/patchfleet-PID)\n"
            "  --keyring FILE                   apt keyring for sources without Signed-By\n"
            "  --allow-index-rollback           accept a signed package index older than the\n"
            "                                   newest one this cache dir accepted before\n"
            "  --redis URL                      record the run in Redis (redis://HOST:PORT[/DB]),\n"
            "                                   as the fleet does: `patchfleet summary`, "
            "dashboard\n" PF_REGISTRY_OPTS_HELP
            "\nexit status: 0 no job failed, 1 a job failed or was cancelled, 2 usage or config "
            "error,\n130 interrupted\n");
}

/* Handles one patch-specific option. Returns 1 when taken, 0 when unknown, -EINVAL with the
 * message printed. */
static int patch_opt(struct patch_args *a, int opt, const char *arg)
{
    char *end = NULL;

    switch (opt) {
    case 'c':
        a->config = arg;
        return 1;
    case 'i':
        a->image_flag = arg;
        return 1;
    case 't':
        a->tag_flag = arg;
        return 1;
    case OPT_PUSH:
        a->push = true;
        return 1;
    case OPT_OCI_DIR:
        a->oci_dir = arg;
        return 1;
    case OPT_DRY_RUN:
        a->dry_run = true;
        return 1;
    case OPT_TIMEOUT:
        a->timeout = arg;
        return 1;
    case OPT_MAX_PACKAGE:
    case OPT_MAX_LAYER:
    case OPT_MAX_PATCH_LAYER:
        if (worker_size_parse(arg, opt == OPT_MAX_PACKAGE ? &a->limits.package
                                   : opt == OPT_MAX_LAYER ? &a->limits.layer
                                                          : &a->limits.patch_layer) < 0) {
            cli_error("patch: --%s: invalid size '%s' (bytes, or a number with K, M, G or T)",
                      opt == OPT_MAX_PACKAGE ? "max-package-size"
                      : opt == OPT_MAX_LAYER ? "max-layer-size"
                                             : "max-patch-layer-size",
                      arg);
            return -EINVAL;
        }
        return 1;
    case OPT_IGNORE_ERRORS:
        a->ignore_errors = true;
        return 1;
    case OPT_CACHE_DIR:
        a->cache_dir = arg;
        return 1;
    case OPT_WORK_DIR:
        a->work_dir = arg;
        return 1;
    case OPT_KEYRING:
        a->keyring = arg;
        return 1;
    case 'r':
        a->report_dir = arg;
        return 1;
    case OPT_SCANNER:
        a->scanner = arg;
        return 1;
    case OPT_PKG_TYPES:
        a->pkg_types = arg;
        return 1;
    case OPT_REDIS:
        a->redis = arg;
        return 1;
    case OPT_ALLOW_INDEX_ROLLBACK:
        a->allow_index_rollback = true;
        return 1;
    case OPT_CONCURRENCY:
        errno = 0;
        a->concurrency = strtol(arg, &end, 10);
        if (errno || end == arg || *end || a->concurrency < 1 ||
            a->concurrency > PATCH_MAX_CONCURRENCY) {
            cli_error("patch: --concurrency wants a number from 1 to %d, not '%s'",
                      PATCH_MAX_CONCURRENCY, arg);
            return -EINVAL;
        }
        return 1;
    case OPT_FORMAT:
        if (strcmp(arg, "table") != 0 && strcmp(arg, "json") != 0 && strcmp(arg, "wide") != 0) {
            cli_error("patch: --format wants 'table', 'wide' or 'json', not '%s'", arg);
            return -EINVAL;
        }
        a->json = strcmp(arg, "json") == 0;
        a->wide = strcmp(arg, "wide") == 0;
        return 1;
    case OPT_PKG_MIRROR: {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg || !eq[1]) {
            cli_error("patch: --pkg-mirror wants FROM=TO (two URLs), not '%s'", arg);
            return -EINVAL;
        }
        return pf_strv_push(&a->mirrors, arg) < 0 ? -ENOMEM : 1;
    }
    default:
        return 0;
    }
}

/* Checks the combination of flags once all are read. Returns 0 or -EINVAL (message printed). */
static int patch_check_args(struct patch_args *a)
{
    char err[256] = "";
    int outputs = (int)a->push + (int)(a->oci_dir != NULL) + (int)a->dry_run;

    if (a->config && (a->image_flag || a->tag_flag)) {
        cli_error("patch: --config cannot be combined with %s (bulk mode takes its images and "
                  "tags from the config)",
                  a->image_flag ? "--image/-i" : "--tag/-t");
        return -EINVAL;
    }
    if (!a->config) {
        cli_error("patch: --config FILE is required (patchfleet patches in bulk mode only)");
        return -EINVAL;
    }
    if (outputs != 1) {
        cli_error("patch: give exactly one of --push, --oci-dir DIR and --dry-run");
        return -EINVAL;
    }
    if ((a->scanner || a->pkg_types) && !a->report_dir) {
        cli_error("patch: %s only applies with -r/--report DIR (skip detection)",
                  a->scanner ? "--scanner" : "--pkg-types");
        return -EINVAL;
    }
    if (a->scanner && producer_report_scanner_from_string(a->scanner) < 0) {
        cli_error("patch: --scanner wants 'trivy' or 'native', not '%s'", a->scanner);
        return -EINVAL;
    }
    if (a->pkg_types && strcmp(a->pkg_types, "os") != 0 &&
        strcmp(a->pkg_types, "os,library") != 0 && strcmp(a->pkg_types, "library,os") != 0) {
        cli_error("patch: --pkg-types wants 'os' or 'os,library', not '%s'", a->pkg_types);
        return -EINVAL;
    }
    a->library = a->pkg_types && strcmp(a->pkg_types, "os") != 0;
    if (pf_duration_parse(a->timeout, &a->timeout_ns, err, sizeof(err)) < 0) {
        cli_error("patch: --timeout: %s", err);
        return -EINVAL;
    }
    return 0;
}

static int patch_parse_args(int argc, char **argv, struct patch_args *a)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"image", required_argument, NULL, 'i'},
        {"tag", required_argument, NULL, 't'},
        {"push", no_argument, NULL, OPT_PUSH},
        {"oci-dir", required_argument, NULL, OPT_OCI_DIR},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"max-package-size", required_argument, NULL, OPT_MAX_PACKAGE},
        {"max-layer-size", required_argument, NULL, OPT_MAX_LAYER},
        {"max-patch-layer-size", required_argument, NULL, OPT_MAX_PATCH_LAYER},
        {"ignore-errors", no_argument, NULL, OPT_IGNORE_ERRORS},
        {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"pkg-mirror", required_argument, NULL, OPT_PKG_MIRROR},
        {"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
        {"work-dir", required_argument, NULL, OPT_WORK_DIR},
        {"keyring", required_argument, NULL, OPT_KEYRING},
        {"report", required_argument, NULL, 'r'},
        {"scanner", required_argument, NULL, OPT_SCANNER},
        {"pkg-types", required_argument, NULL, OPT_PKG_TYPES},
        {"redis", required_argument, NULL, OPT_REDIS},
        {"allow-index-rollback", no_argument, NULL, OPT_ALLOW_INDEX_ROLLBACK},
        {"help", no_argument, NULL, 'h'},
        PF_REGISTRY_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    int opt, r;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:i:t:r:h", options, NULL)) != -1) {
        if (opt == 'h') {
            patch_usage(stdout);
            return 1;
        }
        r = patch_opt(a, opt, optarg);
        if (r == 0)
            r = pf_registry_opts_parse(&a->reg, opt, optarg);
        if (r == -ENOMEM)
            cli_error("out of memory");
        if (r == 0)
            patch_usage(stderr);
        if (r <= 0)
            return -EINVAL;
    }
    if (optind != argc) {
        cli_error("patch: unexpected argument '%s'", argv[optind]);
        return -EINVAL;
    }
    return patch_check_args(a);
}

/* --- the run ----------------------------------------------------------------------------- */

struct patch_env {
    struct pf_registry *reg;
    struct producer_reports *reports;
    struct worker_blob_cache *blobs;
    struct worker_engine *engine;
    char *cache_dir, *work_dir;
    bool work_dir_created;
    struct cli_patch_record *record; /* --redis */
};

/* Creates what every job shares besides the registry client (made by expand()). Returns 0, or
 * a negative errno with the reason printed. */
static int env_open(const struct patch_args *a, struct patch_env *env)
{
    char err[512] = "";
    int r;

    env->cache_dir = a->cache_dir ? pf_strdup(a->cache_dir) : pf_fs_cache_dir_default();
    if (!env->cache_dir)
        return -ENOMEM;
    r = pf_fs_mkdir_p(env->cache_dir, 0700);
    if (r < 0) {
        cli_error("patch: cannot create the cache directory '%s': %s", env->cache_dir,
                  strerror(-r));
        return r;
    }
    r = make_work_dir(a->work_dir, &env->work_dir, &env->work_dir_created);
    if (r < 0)
        return r;
    if (a->oci_dir && pf_oci_layout_init(a->oci_dir, err, sizeof(err)) < 0) {
        cli_error("patch: cannot create the OCI layout '%s': %s", a->oci_dir, err);
        return -EIO;
    }
    r = worker_blob_cache_new(env->cache_dir, &env->blobs, err, sizeof(err));
    if (r < 0) {
        cli_error("patch: cannot open the blob cache in '%s': %s", env->cache_dir, err);
        return r;
    }
    r = worker_engines_new(
        &(struct worker_engines_options){.cache_dir = env->cache_dir,
                                         .mirrors = &a->mirrors,
                                         .keyring = a->keyring,
                                         .ca_file = a->reg.ca_file,
                                         .allow_index_rollback = a->allow_index_rollback},
        &env->engine, err, sizeof(err));
    if (r < 0)
        cli_error("patch: cannot set up the patch engines: %s", err[0] ? err : strerror(-r));
    return r;
}

static void env_close(struct patch_env *env)
{
    env->engine = worker_engines_free(env->engine);
    env->reports = producer_reports_free(env->reports);
    env->record = cli_patch_record_close(env->record);
    env->blobs = worker_blob_cache_free(env->blobs);
    env->reg = pf_registry_free(env->reg);
    if (env->work_dir && env->work_dir_created)
        (void)pf_fs_remove_tree(env->work_dir);
    env->work_dir = pf_free(env->work_dir);
    env->cache_dir = pf_free(env->cache_dir);
}

/* One OCI layout holds every job's result under its target reference as the ref name, so two
 * jobs with one target (which the plan normally refuses already) would overwrite each other:
 * the later ones fail up front instead, naming the first. */
static void mark_oci_collisions(struct slot *slots, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < i; j++) {
            if (slots[j].details ||
                strcmp(slots[i].job->target_tag, slots[j].job->target_tag) != 0 ||
                strcmp(slots[i].job->target_repo, slots[j].job->target_repo) != 0)
                continue;
            slots[i].status = PF_STATUS_FAILED;
            slots[i].owned = pf_asprintf("OCI layout ref '%s:%s' is also the target of %s",
                                         slots[i].job->target_repo, slots[i].job->target_tag,
                                         slots[j].job->source);
            slots[i].details = slots[i].owned ? slots[i].owned : "OCI layout ref collision";
            break;
        }
}

/* Runs every job of `plan`; slots[i] (zeroed) gets job i's outcome. */
static void run_jobs(const struct patch_args *a, const struct patch_env *env,
                     const struct producer_plan *plan, struct slot *slots)
{
    struct pool p = {
        .base = {.engine = env->engine,
                 .registry = env->reg,
                 .blobs = env->blobs,
                 .work_root = env->work_dir,
                 .oci_dir = a->oci_dir,
                 .push = a->push,
                 .dry_run = a->dry_run,
                 .limits = a->limits},
        .reports = env->reports,
        .record = env->record,
        .timeout = a->timeout,
        .timeout_ns = a->timeout_ns,
        .slots = slots,
        .n = plan->n_jobs,
    };
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t want = a->concurrency > 0 ? (size_t)a->concurrency : (cpus > 0 ? (size_t)cpus : 1);

    for (size_t i = 0; i < plan->n_jobs; i++)
        slots[i].job = &plan->jobs[i];
    if (a->oci_dir)
        mark_oci_collisions(slots, plan->n_jobs);
    if (p.n == 0)
        return;
    /* Dry runs of tags that share a manifest plan it once (worker_plan_cache). */
    if (a->dry_run)
        (void)worker_plan_cache_new(4096, &p.base.plan_cache);
    /* Without a set, each job lists its target repository itself (slower, same decisions). */
    (void)pf_tag_lists_new(&p.tag_lists);
    (void)pthread_mutex_init(&p.lock, NULL);
    pool_run(&p, want < p.n ? want : p.n);
    (void)pthread_mutex_destroy(&p.lock);
    p.tag_lists = pf_tag_lists_free(p.tag_lists);
    p.base.plan_cache = worker_plan_cache_free(p.base.plan_cache);
}

/* Prints the summary of plan failures and job outcomes on stdout; returns the exit status. */
static int print_summary(const struct patch_args *a, const struct producer_plan *plan,
                         const struct slot *slots)
{
    size_t n = plan->n_failures + plan->n_jobs, k = 0;
    struct cli_summary_row *rows = pf_calloc(n ? n : 1, sizeof(*rows));
    char *text = NULL;
    int r, status;

    if (!rows) {
        cli_error("patch: out of memory");
        return CLI_EXIT_FAILED;
    }
    for (size_t i = 0; i < plan->n_failures; i++)
        rows[k++] = (struct cli_summary_row){
            .name = plan->failures[i].name,
            .status = PF_STATUS_ERROR,
            .source = plan->failures[i].source,
            .details = plan->failures[i].reason,
        };
    for (size_t i = 0; i < plan->n_jobs; i++) {
        const struct slot *s = &slots[i];

        rows[k++] = (struct cli_summary_row){
            .name = plan->jobs[i].name,
            .status = s->status,
            .source = plan->jobs[i].source,
            .patched = slot_patched(s),
            .details = s->shown ? s->shown : s->details,
            .platforms = s->res.platforms,
            .n_platforms = s->res.n_platforms,
        };
    }
    r = a->json ? cli_summary_json(rows, n, &text) : cli_summary_table(rows, n, a->wide, &text);
    status = cli_summary_exit_status(rows, n, a->ignore_errors,
                                     atomic_load(&patch_interrupted) != 0);
    if (r < 0) {
        cli_error("patch: out of memory printing the summary");
        status = status == CLI_EXIT_OK ? CLI_EXIT_FAILED : status;
    } else if (fputs(text, stdout) < 0 || fflush(stdout) != 0) {
        cli_error("patch: cannot write the summary: %s", strerror(errno));
        status = status == CLI_EXIT_OK ? CLI_EXIT_FAILED : status;
    }
    pf_free(text);
    pf_free(rows);
    return status;
}

/* Installs the SIGINT/SIGTERM handler (saving the old actions) and ignores SIGPIPE, which a
 * closed registry connection must not turn into a silent death. */
static void signals_install(struct sigaction old[3])
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    (void)sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, &old[0]);
    (void)sigaction(SIGTERM, &sa, &old[1]);
    sa.sa_handler = SIG_IGN;
    (void)sigaction(SIGPIPE, &sa, &old[2]);
}

static void signals_restore(const struct sigaction old[3])
{
    (void)sigaction(SIGINT, &old[0], NULL);
    (void)sigaction(SIGTERM, &old[1], NULL);
    (void)sigaction(SIGPIPE, &old[2], NULL);
}

/* Reads the -r directory once for all jobs. A directory that cannot be read is a usage error
 * (a typo must not silently mean "no reports"); a bad file inside is a warning. Returns 0 or
 * an exit status. */
static int load_reports(const struct patch_args *a, struct patch_env *env)
{
    enum producer_report_scanner sc = a->scanner ? producer_report_scanner_from_string(a->scanner)
                                                 : PRODUCER_REPORT_TRIVY;
    const struct pf_strv *w;
    char err[512] = "";
    int r;

    r = producer_reports_load(a->report_dir, sc, a->library, &env->reports, err, sizeof(err));
    if (r == -ENOMEM) {
        cli_error("patch: out of memory");
        return CLI_EXIT_FAILED;
    }
    if (r < 0) {
        cli_error("patch: -r: %s", err[0] ? err : strerror(-r));
        return CLI_EXIT_USAGE;
    }
    w = producer_reports_warnings(env->reports);
    for (size_t i = 0; i < w->n; i++)
        fprintf(stderr, "patchfleet: warning: %s\n", w->v[i]);
    pf_log(LOG_INFO, "indexed %zu reports from '%s'", producer_reports_count(env->reports),
           a->report_dir);
    return 0;
}

/* Expands the config; plan failures stay in *plan as rows-to-be. Returns 0 or an exit status. */
static int expand(const struct patch_args *a, struct patch_env *env, struct pf_config **cfg,
                  struct producer_plan *plan)
{
    int r = cli_load_config(a->config, cfg);

    if (r < 0)
        return r == -ENOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE;
    env->reg = cli_registry_new(&a->reg);
    if (!env->reg)
        return CLI_EXIT_FAILED;
    r = cli_catalog_plan(*cfg, env->reg, plan);
    if (r < 0) {
        cli_error("patch: out of memory");
        return CLI_EXIT_FAILED;
    }
    for (size_t i = 0; i < plan->warnings.n; i++)
        fprintf(stderr, "patchfleet: warning: %s\n", plan->warnings.v[i]);
    if (a->report_dir) {
        r = load_reports(a, env);
        if (r != 0)
            return r;
    }
    for (size_t i = 0; i < plan->n_failures; i++)
        fprintf(stderr, "patchfleet: error: image '%s' (%s): %s\n", plan->failures[i].name,
                plan->failures[i].source, plan->failures[i].reason);
    return 0;
}

int cli_patch(int argc, char **argv)
{
    struct patch_args a = {.timeout = PATCH_DEFAULT_TIMEOUT,
                           .mirrors = PF_STRV_INIT,
                           .reg = PF_REGISTRY_OPTS_INIT};
    struct patch_env env = {0};
    struct producer_plan plan = {0};
    struct pf_config *cfg = NULL;
    struct slot *slots = NULL;
    struct sigaction old[3];
    bool handlers = false;
    int status, r;

    atomic_store(&patch_interrupted, 0);
    r = patch_parse_args(argc, argv, &a);
    if (r != 0) {
        status = r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
        goto out;
    }
    signals_install(old);
    handlers = true;
    status = expand(&a, &env, &cfg, &plan);
    if (status != 0)
        goto out;
    slots = pf_calloc(plan.n_jobs ? plan.n_jobs : 1, sizeof(*slots));
    if (!slots) {
        cli_error("patch: out of memory");
        status = CLI_EXIT_FAILED;
        goto out;
    }
    if (a.redis && cli_patch_record_open(a.redis, a.config,
                                         a.push      ? "push"
                                         : a.oci_dir ? "oci"
                                                     : "dry-run",
                                         &plan, &env.record) < 0) {
        status = CLI_EXIT_FAILED;
        goto out;
    }
    /* Nothing to run needs no engine: an all-failed or empty plan still gets its summary. */
    if (plan.n_jobs && env_open(&a, &env) < 0) {
        status = CLI_EXIT_FAILED;
        goto out;
    }
    run_jobs(&a, &env, &plan, slots);
    status = print_summary(&a, &plan, slots);
    if (env.record)
        fprintf(stderr, "patchfleet: run %s recorded in redis\n",
                cli_patch_record_run_id(env.record));
out:
    for (size_t i = 0; slots && i < plan.n_jobs; i++) {
        worker_patch_job_result_release(&slots[i].res);
        pf_tag_decision_release(&slots[i].dec);
        pf_free(slots[i].owned);
        pf_free(slots[i].patched);
        pf_free(slots[i].shown);
    }
    pf_free(slots);
    env_close(&env);
    producer_plan_release(&plan);
    cfg = pf_config_free(cfg);
    if (handlers)
        signals_restore(old);
    pf_strv_clear(&a.mirrors);
    pf_registry_opts_release(&a.reg);
    return status;
}
