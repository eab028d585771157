/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recording a local run in Redis through the aggregator's store. The store's connection is not
 * shared between threads, so one mutex serialises the pool's writes; each is one EVALSHA, far
 * shorter than any patch job. After the first Redis error recording stops (with one message):
 * the sweep itself must not depend on the dashboard's database.
 */
#include "pf/setup.h"

#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aggregator/store.h"
#include "cli.h"
#include "patch_record.h"
#include "pf/alloc.h"
#include "pf/job.h"
#include "pf/msg.h"
#include "producer/plan.h"
#include "producer/run.h"
#include "job/result_msg.h"

struct cli_patch_record {
    struct aggregator_store *store;
    char *run_id;
    char worker[128]; /* "host:pid", like a fleet worker's id */
    pthread_mutex_t lock;
    bool broken;
};

/* Called with rec->lock held. */
static void record_failed(struct cli_patch_record *rec, int r)
{
    if (!rec->broken)
        fprintf(stderr,
                "patchfleet: warning: cannot record results in redis (%s); the run "
                "goes on unrecorded\n",
                strerror(-r));
    rec->broken = true;
}

static int record_run(struct cli_patch_record *rec, const char *config_path, const char *mode,
                      const struct producer_plan *plan)
{
    char *copy = pf_strdup(config_path);
    struct pf_msg_run run = {
        .run_id = rec->run_id,
        .config_name = copy ? basename(copy) : NULL,
        .expected = plan->n_jobs + plan->n_failures,
        .warnings = plan->warnings,
        .created_ms = producer_now_ms(),
        .mode = (char *)(uintptr_t)mode,
    };
    int r = copy ? producer_config_digest(config_path, &run.config_digest) : -ENOMEM;

    r = r < 0 ? r : aggregator_store_record_run(rec->store, &run);
    for (size_t i = 0; r >= 0 && i < plan->n_failures; i++) {
        struct pf_msg_result m;

        r = producer_plan_failure_result(rec->run_id, &plan->failures[i], run.created_ms, &m);
        if (r < 0)
            break;
        r = aggregator_store_apply_result(rec->store, &m);
        pf_msg_result_release(&m);
    }
    pf_free(run.config_digest);
    pf_free(copy);
    return r < 0 ? r : 0;
}

int cli_patch_record_open(const char *url, const char *config_path, const char *mode,
                          const struct producer_plan *plan, struct cli_patch_record **ret)
{
    struct cli_patch_record *rec = pf_calloc(1, sizeof(*rec));
    char host[64] = "localhost", err[512] = "";
    int r;

    if (!rec)
        return -ENOMEM;
    (void)gethostname(host, sizeof(host) - 1);
    (void)snprintf(rec->worker, sizeof(rec->worker), "%s:%ld", host, (long)getpid());
    (void)pthread_mutex_init(&rec->lock, NULL);
    rec->run_id = producer_run_id_new();
    if (!rec->run_id) {
        cli_patch_record_close(rec);
        return -ENOMEM;
    }
    r = aggregator_store_open(url, NULL, &rec->store, err, sizeof(err));
    if (r < 0) {
        cli_error("patch: --redis: %s", err[0] ? err : strerror(-r));
        cli_patch_record_close(rec);
        return r;
    }
    r = record_run(rec, config_path, mode, plan);
    if (r < 0) {
        cli_error("patch: --redis: cannot record the run: %s", strerror(-r));
        cli_patch_record_close(rec);
        return r;
    }
    *ret = rec;
    return 0;
}

const char *cli_patch_record_run_id(const struct cli_patch_record *rec)
{
    return rec ? rec->run_id : NULL;
}

/* The tag of "registry/repo:tag" (a port's colon comes before the last slash). */
static const char *tag_of(const char *ref)
{
    const char *slash = ref ? strrchr(ref, '/') : NULL;
    const char *colon = ref ? strrchr(slash ? slash : ref, ':') : NULL;

    return colon ? colon + 1 : NULL;
}

void cli_patch_record_job(struct cli_patch_record *rec, const struct pf_job *job,
                          enum pf_status status, const char *patched, const char *details,
                          const struct worker_patch_job_result *res, int64_t started_ms,
                          int64_t finished_ms)
{
    struct pf_msg_platform *plats = NULL;
    struct pf_msg_result m;
    char *job_id;
    int r;

    if (!rec)
        return;
    m = (struct pf_msg_result){
        .run_id = rec->run_id,
        .name = job->name,
        .source = job->source,
        .status = (char *)(uintptr_t)pf_status_to_string(status),
        .patched_tag = (char *)(uintptr_t)tag_of(patched),
        .patched_ref = (char *)(uintptr_t)patched,
        .patched_digest = res ? res->patched_digest : NULL,
        .details = (char *)(uintptr_t)details,
        .worker = rec->worker,
        .started_ms = started_ms,
        .finished_ms = finished_ms,
        .attempt = 1,
    };

    job_id = producer_job_id(rec->run_id, job->source, job->target_repo, job->target_tag);
    m.job_id = job_id;
    r = job_id ? worker_result_msg_platforms(res, &plats) : -ENOMEM;
    if (r == 0) {
        m.platforms = plats;
        m.n_platforms = plats && res ? res->n_platforms : 0;
    }
    (void)pthread_mutex_lock(&rec->lock);
    if (!rec->broken) {
        r = r < 0 ? r : aggregator_store_apply_result(rec->store, &m);
        if (r < 0)
            record_failed(rec, r);
    }
    (void)pthread_mutex_unlock(&rec->lock);
    worker_result_msg_platforms_free(plats, m.n_platforms);
    pf_free(job_id);
}

struct cli_patch_record *cli_patch_record_close(struct cli_patch_record *rec)
{
    if (!rec)
        return NULL;
    aggregator_store_close(rec->store);
    (void)pthread_mutex_destroy(&rec->lock);
    pf_free(rec->run_id);
    pf_free(rec);
    return NULL;
}
