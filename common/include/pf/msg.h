/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fleet's wire format: a job message on topic patchfleet.jobs (one image tag to patch) and
 * a result message on patchfleet.results (what became of it). Both are versioned JSON objects
 * ("v": 1) so producer, workers and aggregator can be upgraded one at a time: a reader accepts
 * its own major version, ignores fields it does not know, and refuses anything else with a
 * message naming the field. The schemas are documented in docs/fleet.md; these structs are the
 * only way code builds or reads them.
 */
#ifndef PF_MSG_H
#define PF_MSG_H

#include "pf/job.h"
#include "pf/setup.h"
#include "pf/status.h"

#define PF_MSG_VERSION 1
#define PF_MSG_MAX_BYTES ((size_t)1 << 20) /* a message larger than this is refused */

/* What the producer decided from the scanner reports for this job (issue 5). */
enum pf_msg_verdict {
    PF_MSG_VERDICT_PATCH,      /* no report, or fixable vulnerabilities: patch */
    PF_MSG_VERDICT_SKIP_CLEAN, /* the latest patched tag has no fixable vulnerability */
    PF_MSG_VERDICT__MAX,
};

struct pf_msg_job {
    char *run_id;      /* the sweep this job belongs to */
    char *job_id;      /* stable within the run: hex sha256 of source + target (see docs) */
    struct pf_job job; /* name, source, source_tag, target_repo, target_tag, platforms */
    bool push;         /* push to target_repo:target_tag (else oci_dir) */
    char *oci_dir;     /* NULL unless writing an OCI layout (shared storage) */
    bool dry_run;
    int64_t timeout_ms; /* per-job timeout; 0 = worker default */
    enum pf_msg_verdict verdict;
    char *skip_tag;     /* with SKIP_CLEAN: the patched tag reported clean */
    int64_t created_ms; /* when the producer published it (Unix ms) */
};

struct pf_msg_upgrade {
    char *name;
    char *arch;
    char *from; /* NULL for a newly installed package */
    char *to;
};

struct pf_msg_platform {
    char *platform; /* "linux/amd64" */
    char *os;       /* "debian 12", or NULL */
    char *error;    /* NULL unless this platform failed */
    struct pf_msg_upgrade *upgrades;
    size_t n_upgrades;
};

struct pf_msg_result {
    char *run_id;
    char *job_id;
    char *name;           /* the config's image name (summary NAME) */
    char *source;         /* "registry/repo:tag" */
    char *status;         /* a status word of pf/status.h */
    char *patched_tag;    /* the tag pushed or reported, or NULL */
    char *patched_ref;    /* the full reference, or NULL */
    char *patched_digest; /* manifest digest pushed, or NULL */
    char *details;        /* one line */
    char *worker;         /* host:pid of the worker that ran it */
    int64_t started_ms;
    int64_t finished_ms;
    unsigned attempt; /* 1 for the first delivery of the job */
    struct pf_msg_platform *platforms;
    size_t n_platforms;
};

/* Returns true when `s` is a status word (pf/status.h: pf_status_from_string() knows it). */
bool pf_msg_status_known(const char *s);

/* True for the status words that make a run fail (pf_status_is_failure()). */
bool pf_msg_status_is_failure(const char *s);

/* A sweep, announced by the producer on topic patchfleet.runs before its jobs: the aggregator
 * knows how many results complete it. Plan failures (unknown tags, discovery errors) are not
 * jobs: the producer publishes them directly as Failed results, and counts them in `expected`. */
struct pf_msg_run {
    char *run_id;
    char *config_digest;     /* "sha256:<hex>" of the PatchConfig bytes */
    char *config_name;       /* the config's file name, for people */
    size_t expected;         /* jobs + plan-failure results this run will produce */
    struct pf_strv warnings; /* producer warnings, one line each */
    int64_t created_ms;
    char *mode; /* "push", "oci", "dry-run" */
};

int pf_msg_run_encode(const struct pf_msg_run *m, char **ret, size_t *ret_len);
int pf_msg_run_decode(const char *data, size_t len, struct pf_msg_run *ret, char *errbuf,
                      size_t errlen);
void pf_msg_run_release(struct pf_msg_run *m);

/* Encodes `m` as one compact JSON object (new string in *ret, its length in *ret_len).
 * Returns 0, -EINVAL when a required field is missing (run_id, job_id, job.source,
 * job.target_repo, job.target_tag), or -ENOMEM. */
int pf_msg_job_encode(const struct pf_msg_job *m, char **ret, size_t *ret_len);

/* Decodes a job message. Returns 0 and fills *ret (release with pf_msg_job_release()), or
 * -EINVAL / -EPROTONOSUPPORT (other major version) / -E2BIG with the reason, naming the field,
 * in errbuf; *ret untouched on failure. */
int pf_msg_job_decode(const char *data, size_t len, struct pf_msg_job *ret, char *errbuf,
                      size_t errlen);
void pf_msg_job_release(struct pf_msg_job *m);

/* The same pair for results; required: run_id, job_id, source, status (one of the words above). */
int pf_msg_result_encode(const struct pf_msg_result *m, char **ret, size_t *ret_len);
int pf_msg_result_decode(const char *data, size_t len, struct pf_msg_result *ret, char *errbuf,
                         size_t errlen);
void pf_msg_result_release(struct pf_msg_result *m);

#endif
