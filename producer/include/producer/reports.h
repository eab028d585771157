/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Skip detection for re-patch runs: which tags of a target repository are earlier patches of a
 * base tag (BASE, BASE-N; architecture side tags excluded), which tag a re-patch takes next,
 * and what a directory of vulnerability reports (Trivy JSON or Copa's native update list) says
 * about the newest patched tag. Pure: files in, decisions out, no registry and no printing,
 * so the CLI and the fleet producer decide the same way. A report only decides WHETHER a job
 * is patched, never what: nothing here reaches the engine (Copa's §4.5 leak). Rules:
 * docs/reports.md.
 */
#ifndef PRODUCER_REPORTS_H
#define PRODUCER_REPORTS_H

#include "pf/setup.h"
#include "pf/strv.h"

/* Largest report file read (bytes): Trivy reports of big images run to tens of MiB. */
#define PRODUCER_REPORT_MAX_SIZE (256u * 1024u * 1024u)
/* Most report files indexed from one directory. */
#define PRODUCER_REPORT_MAX_FILES 100000u

enum producer_report_scanner {
    PRODUCER_REPORT_TRIVY,  /* Trivy JSON, SchemaVersion 2 (the default, as in Copa) */
    PRODUCER_REPORT_NATIVE, /* Copa's update manifest (v1alpha1 "updates", v1alpha2) */
    PRODUCER_REPORT_SCANNER__MAX,
    PRODUCER_REPORT_SCANNER_INVALID = -EINVAL,
};

/* "trivy" / "native" to the enum, else PRODUCER_REPORT_SCANNER_INVALID. */
enum producer_report_scanner producer_report_scanner_from_string(const char *s);

/* What the report of one image says. */
enum producer_report_verdict {
    PRODUCER_REPORT_NONE,       /* no report names the image */
    PRODUCER_REPORT_CLEAN,      /* a report, with nothing fixable */
    PRODUCER_REPORT_FIXABLE,    /* a report with at least one fixable finding */
    PRODUCER_REPORT_UNREADABLE, /* a report names the image but cannot be judged (or two do) */
    PRODUCER_REPORT_VERDICT__MAX,
};

struct producer_reports;

/*
 * Reads every top-level regular "*.json" file of `dir` (subdirectories and other names are
 * ignored, files are taken in name order) as a `scanner` report and indexes it by its
 * ArtifactName, normalised like every image reference (`alpine:3.14` ≡
 * `docker.io/library/alpine:3.14` ≡ `index.docker.io/library/alpine:3.14`). With `library`,
 * Trivy lang-pkgs findings count as fixable too (--pkg-types os,library). A file that cannot
 * be read, is not JSON or names no image is not an error: it becomes a warning (naming the
 * file) in producer_reports_warnings(). Returns 0 and a new index in *ret
 * (producer_reports_free() it); -ENOENT/-ENOTDIR/-EACCES when `dir` cannot be opened (reason
 * in errbuf); -E2BIG past PRODUCER_REPORT_MAX_FILES; -ENOMEM. *ret untouched on failure.
 */
int producer_reports_load(const char *dir, enum producer_report_scanner scanner, bool library,
                          struct producer_reports **ret, char *errbuf, size_t errlen);

/* Frees the index; accepts NULL; returns NULL. */
struct producer_reports *producer_reports_free(struct producer_reports *reps);

/* The load-time warnings (borrowed; valid until the index is freed). */
const struct pf_strv *producer_reports_warnings(const struct producer_reports *reps);

/* The number of images indexed. */
size_t producer_reports_count(const struct producer_reports *reps);

/*
 * The verdict for image `ref` ("repo:tag", normalised here). *ret_why (may be NULL) gets a
 * borrowed sentence for UNREADABLE and the report's file name otherwise (NULL for NONE).
 * An unparsable `ref` is NONE.
 */
enum producer_report_verdict producer_reports_lookup(const struct producer_reports *reps,
                                                     const char *ref, const char **ret_why);

/*
 * Judges one report held in memory (`name` is used in reasons only). Returns the verdict
 * (CLEAN, FIXABLE or UNREADABLE) and, for UNREADABLE, a reason in errbuf; *ret_artifact
 * (may be NULL) gets a new string holding the report's ArtifactName or NULL when it has none.
 * Returns -ENOMEM on OOM only.
 */
int producer_report_judge(const char *data, size_t len, enum producer_report_scanner scanner,
                          bool library, char **ret_artifact, char *errbuf, size_t errlen);

/* What a job does before any patching. */
struct producer_patch_decision {
    bool skip;     /* true: status Skipped, details "no fixable vulnerabilities" */
    char *tag;     /* skip: the newest patched tag; else the tag the job pushes to */
    char *latest;  /* the newest patched tag present (NULL: none or unknown) */
    char *warning; /* NULL, or the fail-open reason the summary shows */
};

void producer_patch_decision_release(struct producer_patch_decision *d);

/*
 * The decision for one job whose rendered tag is `base` in `target_repo` ("registry/repo").
 * `existing` is the repository's tag list, or NULL when listing failed (then `list_error` says
 * why, the job patches as `base` with a warning: fail-open; the caller must still refuse to
 * overwrite). `reps` may be NULL (no -r): patch as the next tag. Otherwise the report of
 * target_repo:latest decides: CLEAN skips, FIXABLE and NONE patch as the next tag, UNREADABLE
 * patches with a warning naming the file. Returns 0 with *ret filled (release it), -ERANGE
 * (no free tag), or -ENOMEM; *ret untouched on failure.
 */
int producer_patch_decide(const struct producer_reports *reps, const char *target_repo,
                          const char *base, const struct pf_strv *existing,
                          const char *list_error, struct producer_patch_decision *ret);

#endif
