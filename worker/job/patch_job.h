/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job runner: one job (one source image tag -> one target tag) from pull to push. It
 * resolves the source (single manifest or index), builds the merged layer view of each
 * selected platform from cached, verified layers, lets the distro engine decide and build the
 * patch layer, assembles the patched config, manifests and index, and publishes them blobs
 * first, manifests by digest next and the tag last, so no half-pushed image is ever visible
 * under the target tag. Statuses and what is pushed when: docs/patching.md.
 */
#ifndef WORKER_JOB_PATCH_JOB_H
#define WORKER_JOB_PATCH_JOB_H

#include "pf/setup.h"
#include "pf/status.h"
#include "engine/engine.h"

struct pf_job;
struct pf_platform;
struct pf_registry;
struct worker_blob_cache;
struct worker_plan_cache;

/*
 * The DETAILS cell of a job's row, the same in the local run's table and in the fleet's
 * summary: Copa's "OK" for Patched (the upgrades are in the JSON), else `details`; then
 * "; warning: " and each warning given (the tag decision's fail-open reason, the result's
 * warnings). Returns a new string, or NULL when out of memory.
 */
char *worker_patch_details(enum pf_status status, const char *details, const char *decision_warning,
                           const char *result_warnings);

struct worker_patch_platform_result {
    char *platform;                         /* "linux/amd64" */
    char *os;                               /* from the engine ("debian 12"), or NULL */
    struct worker_engine_upgrade *upgrades; /* owned; sorted as the engine gave them */
    size_t n_upgrades;
    char *error; /* NULL unless this platform failed */
};

struct worker_patch_job_result {
    enum pf_status status;
    char *patched_ref;    /* "registry/repo:tag" (or "oci:<dir>:<tag>") when Patched, else NULL */
    char *patched_digest; /* digest of what the tag points at when Patched, else NULL */
    char *source_digest;  /* digest of the source manifest or index, when it was fetched */
    char *details;        /* one line for the summary table: "3 upgraded" / the error */
    char *warnings;       /* NULL, or "; "-joined notes (a requested platform the image lacks) */
    struct worker_patch_platform_result *platforms;
    size_t n_platforms;
    uint64_t bytes_pushed; /* blob bytes uploaded (mounted or present blobs cost nothing) */
};

/* Frees the members of `r` (not the struct) and zeroes it; accepts a zeroed struct. */
void worker_patch_job_result_release(struct worker_patch_job_result *r);

#define WORKER_PATCH_PLATFORM_THREADS 2
#define WORKER_PATCH_PLATFORM_THREADS_MAX 8

/* Bounds on the uncompressed sizes a job handles (docs/security.md); 0 keeps each default:
 * a package (per .deb data member or .apk data segment), a source layer read into the view,
 * and the patch layer written. Set by --max-package-size, --max-layer-size and
 * --max-patch-layer-size of `patchfleet patch` and `patchfleet-worker`. */
struct worker_size_limits {
    uint64_t package, layer, patch_layer;
};

/*
 * Parses a size option: a decimal byte count with an optional binary suffix K, M, G, T (also
 * KiB, MiB, GiB, TiB). Returns 0 and *ret (at least 1), or -EINVAL for anything else (zero, an
 * overflow, an unknown suffix).
 */
int worker_size_parse(const char *s, uint64_t *ret);

struct worker_patch_job_options {
    const struct worker_engine *engine;
    struct pf_registry *registry;    /* shared, thread-safe */
    struct worker_blob_cache *blobs; /* shared */
    const char *work_root; /* a per-job private dir is made below it and removed after (a dry
                            * run makes it only when some platform needs the engine) */
    const char *oci_dir;   /* non-NULL: write into this OCI layout (ref name = the target
                            * reference "registry/repo:tag", so one layout holds many jobs) */
    bool push;             /* push to job->target_repo:job->target_tag */
    bool dry_run;
    worker_engine_cancelled_fn cancelled; /* polled between steps, passed to the engine; or NULL */
    /* With push: the newest patched tag already in the target repository, or NULL. When the
     * image this run built has the same digest as that tag, nothing is pushed and the result
     * is Skipped, "unchanged since TAG" (our layers are reproducible). */
    const char *unchanged_tag;
    /* With push: right before tagging, refuse (Failed) when the target tag exists already. */
    bool no_overwrite;
    /* With push, a redone fleet job: the tag an earlier attempt of this same job recorded it
     * was about to push (docs/fleet.md, "A job redone after its push"), or NULL. When it is
     * unchanged_tag and the image built equals it, that push was this job's own: the result is
     * Patched with that tag (nothing pushed again), not Skipped "unchanged since" it. */
    const char *own_tag;
    /* With push: called right before the target tag is written (after every blob and the
     * overwrite check), with that tag; a negative return fails the job with nothing tagged.
     * NULL: no call. */
    int (*before_tag)(void *userdata, const char *tag);
    /* Platforms of one index patched at once: 0 means WORKER_PATCH_PLATFORM_THREADS; capped
     * at WORKER_PATCH_PLATFORM_THREADS_MAX (each holds one merged view in memory). */
    unsigned platform_threads;
    void *cancelled_userdata;
    /* Dry runs only: plans already made by this process, shared by every job (see
     * job/plan_cache.h); NULL plans every job from scratch. Ignored without dry_run. */
    struct worker_plan_cache *plan_cache;
    struct worker_size_limits limits;
};

/*
 * Runs one job to completion and fills *ret (the caller releases it). A job failure is not an
 * error of this function: the result says Failed with the reason in details (naming the image
 * and platform), or Cancelled when o->cancelled() turned true. With neither push nor oci_dir
 * (and no dry run) a job that has something to patch fails: the patched image would have
 * nowhere to go. Returns 0, or -ENOMEM only (*ret untouched then).
 */
int worker_patch_job_run(const struct worker_patch_job_options *o, const struct pf_job *job,
                         struct worker_patch_job_result *ret);

#endif
