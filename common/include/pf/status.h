/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The outcome of one job, in one vocabulary for every role: the worker's job runner sets it,
 * the local run's table and the fleet's result messages spell it with the same words, the
 * aggregator and `patchfleet summary` count and filter by them. The worker and the message
 * format each used to keep a list of the same seven words, in different orders.
 */
#ifndef PF_STATUS_H
#define PF_STATUS_H

#include "pf/setup.h"

/* In summary order; the string table is indexed by this enum. */
enum pf_status {
    PF_STATUS_PATCHED,    /* a patched image was pushed / written */
    PF_STATUS_UP_TO_DATE, /* nothing to upgrade on any platform: nothing pushed, not a failure */
    PF_STATUS_SKIPPED,    /* nothing pushed on purpose: unchanged since the latest patched tag
                           * (set by the runner), or a clean report (set by the caller) */
    PF_STATUS_PLANNED,    /* --dry-run: the plan is in the result, nothing pushed */
    PF_STATUS_FAILED,
    PF_STATUS_CANCELLED, /* Ctrl-C or timeout; nothing was pushed for this job's target tag */
    PF_STATUS_ERROR,     /* set by callers: the job could not even be set up (discovery) */
    PF_STATUS__MAX,
    PF_STATUS_INVALID = -EINVAL,
};

/* "Patched", "UpToDate", "Skipped", "Planned", "Failed", "Cancelled", "Error"; NULL for a
 * value out of range. The string is static. */
const char *pf_status_to_string(enum pf_status s);

/* The status spelled `s` (exact case), or PF_STATUS_INVALID for NULL or another word. */
enum pf_status pf_status_from_string(const char *s);

/* True for the statuses that make a run fail (exit status 1): Failed, Cancelled, Error. */
bool pf_status_is_failure(enum pf_status s);

#endif
