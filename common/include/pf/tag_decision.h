/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-job decision Copa makes before patching (docs/reports.md): list the target
 * repository's tags (retried, fail-open), then let the scanner reports and the tag versioning
 * rules (pf/patched_tags.h) say skip or patch, and as which tag. The local run makes it in its
 * pool, the fleet producer before publishing (so a skip verdict travels inside the job
 * message), and the fleet worker before a push. Reports are reached through a lookup
 * callback, so this module needs no report loader and no role's code: the producer plugs its
 * report index in (producer/reports.h), a worker passes none.
 */
#ifndef PF_TAG_DECISION_H
#define PF_TAG_DECISION_H

#include "pf/setup.h"
#include "pf/tag_lists.h"

struct pf_job;
struct pf_registry;
struct pf_strv;

/* What the scanner report of one image says. */
enum pf_report_verdict {
    PF_REPORT_NONE,       /* no report names the image */
    PF_REPORT_CLEAN,      /* a report, with nothing fixable */
    PF_REPORT_FIXABLE,    /* a report with at least one fixable finding */
    PF_REPORT_UNREADABLE, /* a report names the image but cannot be judged (or two do) */
    PF_REPORT_VERDICT__MAX,
};

/* The verdict for image `ref` ("registry/repository:tag"); *ret_why (may be NULL) gets a
 * borrowed sentence naming the report, required for UNREADABLE. */
typedef enum pf_report_verdict (*pf_report_lookup_fn)(const void *userdata, const char *ref,
                                                      const char **ret_why);

/* A source of report verdicts: `lookup` called with `userdata` (borrowed). */
struct pf_report_lookup {
    pf_report_lookup_fn lookup;
    const void *userdata;
};

/* What a job does before any patching. */
struct pf_tag_decision {
    bool skip;     /* true: status Skipped, details "no fixable vulnerabilities" */
    char *tag;     /* skip: the newest patched tag; else the tag the job pushes to */
    char *latest;  /* the newest patched tag present (NULL: none or unknown) */
    char *warning; /* NULL, or the fail-open reason the summary shows */
};

/* Frees the members of `d` and zeroes it; accepts NULL. */
void pf_tag_decision_release(struct pf_tag_decision *d);

/*
 * The decision for one job whose rendered tag is `base` in `target_repo` ("registry/repo").
 * `existing` is the repository's tag list, or NULL when listing failed (then `list_error` says
 * why, the job patches as `base` with a warning: fail-open; the caller must still refuse to
 * overwrite). `reports` may be NULL (no -r): patch as the next tag. Otherwise the report of
 * target_repo:latest decides: CLEAN skips, FIXABLE and NONE patch as the next tag, UNREADABLE
 * patches with a warning naming the file. Returns 0 with *ret filled (release it), -ERANGE
 * (no free tag), or -ENOMEM; *ret untouched on failure.
 */
int pf_tag_decision_from_tags(const struct pf_report_lookup *reports, const char *target_repo,
                              const char *base, const struct pf_strv *existing,
                              const char *list_error, struct pf_tag_decision *ret);

/*
 * The decision for `job` (`reports` may be NULL: versioning only), from the run's shared
 * listing in `lists`, or from a listing made for this job when `lists` is NULL; `stop` (may
 * be NULL) cuts the listing's retries short. Returns 0 with *ret filled (release with
 * pf_tag_decision_release()), -ERANGE when no versioned tag is free (the reason in errbuf),
 * -EKEYREJECTED when the registry refused the configured credentials (the reason in errbuf), or
 * -ENOMEM. Any other failed listing is not an error: it is the fail-open warning in
 * ret->warning.
 */
int pf_tag_decision_for_job(struct pf_registry *reg, struct pf_tag_lists *lists,
                            const struct pf_report_lookup *reports, const struct pf_job *job,
                            pf_tag_lists_stop_fn stop, void *userdata, struct pf_tag_decision *ret,
                            char *errbuf, size_t errlen);

#endif
