/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Skip detection for re-patch runs: what a directory of vulnerability reports (Trivy JSON or
 * Copa's native update list) says about the newest patched tag of a target repository. Pure:
 * files in, verdicts out, no registry and no printing; the decision they feed (tag
 * versioning, skip, fail-open) is pf/tag_decision.h, shared by the CLI and both fleet roles. A report only decides WHETHER a job
 * is patched, never what: nothing here reaches the engine (Copa's §4.5 leak). Rules:
 * docs/reports.md.
 */
#ifndef PRODUCER_REPORTS_H
#define PRODUCER_REPORTS_H

#include "pf/setup.h"
#include "pf/strv.h"
#include "pf/tag_decision.h"

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
 * The verdict for image `ref` ("repo:tag", normalised here; verdicts in pf/tag_decision.h). *ret_why (may be NULL) gets a
 * borrowed sentence for UNREADABLE and the report's file name otherwise (NULL for NONE).
 * An unparsable `ref` is NONE.
 */
enum pf_report_verdict producer_reports_lookup(const struct producer_reports *reps, const char *ref,
                                               const char **ret_why);

/* The index as the report source of a tag decision (pf/tag_decision.h): its lookup is
 * producer_reports_lookup() over `reps` (borrowed; NULL gives a source with no lookup, so the
 * decision is versioning only). */
struct pf_report_lookup producer_reports_as_lookup(const struct producer_reports *reps);

/*
 * Judges one report held in memory (`name` is used in reasons only). Returns the verdict
 * (CLEAN, FIXABLE or UNREADABLE) and, for UNREADABLE, a reason in errbuf; *ret_artifact
 * (may be NULL) gets a new string holding the report's ArtifactName or NULL when it has none.
 * Returns -ENOMEM on OOM only.
 */
int producer_report_judge(const char *data, size_t len, enum producer_report_scanner scanner,
                          bool library, char **ret_artifact, char *errbuf, size_t errlen);

#endif
