/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fleet worker: a Kafka consumer-group member that runs patch jobs from patchfleet.jobs on
 * a pool of job slots and publishes their results on patchfleet.results. One poll thread, N
 * slots, one job in flight per partition (pause/resume), a job's offset stored only after its
 * result was delivered (at-least-once), an eager assignor, per-job timeouts, graceful SIGTERM,
 * and a dead-letter topic for jobs that keep failing to finish. Semantics: docs/fleet.md.
 */
#ifndef WORKER_FLEET_FLEET_WORKER_H
#define WORKER_FLEET_FLEET_WORKER_H

#include <stdatomic.h>

#include "pf/setup.h"
#include "job/patch_job.h"

struct pf_registry;
struct worker_blob_cache;
struct worker_engine;

/* Topics, groups and the clients' properties: pf/kafka.h. */

#define WORKER_FLEET_MAX_SLOTS 256

struct worker_metrics;

struct worker_fleet_options {
    const char *brokers;        /* bootstrap list */
    const char *group;          /* consumer group; NULL = "patchfleet-workers" */
    const char *worker_id;      /* "host:pid", put in every result */
    unsigned concurrency;       /* job slots, 1..WORKER_FLEET_MAX_SLOTS */
    int64_t default_timeout_ms; /* for jobs whose message says 0 */
    int64_t grace_ms;           /* after stop: how long in-flight jobs may still run */
    unsigned max_attempts;      /* a job started this often without a result goes to the DLQ */
    /* What every job shares (borrowed; thread-safe as worker_patch_job_run() requires). */
    const struct worker_engine *engine;
    struct pf_registry *registry;
    struct worker_blob_cache *blobs;
    const char *work_root;
    struct worker_metrics *metrics;   /* --http: updated by every job; may be NULL */
    struct worker_size_limits limits; /* --max-*-size; zeros keep the defaults */
    /* Set (e.g. by a SIGTERM handler) to stop taking jobs; read from every thread. */
    const atomic_int *stop;
};

/*
 * Runs the worker until *o->stop turns non-zero, then stops dispatching, lets in-flight jobs
 * finish within o->grace_ms (jobs still running after that are cancelled and their results
 * dropped, so the group redelivers them), flushes results, commits offsets and leaves the
 * group. Returns 0 after a clean stop, or a negative errno with the reason in errbuf when the
 * Kafka clients cannot be created or a fatal Kafka error occurred.
 */
int worker_fleet_run(const struct worker_fleet_options *o, char *errbuf, size_t errlen);

#endif
