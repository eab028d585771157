/* SPDX-License-Identifier: Apache-2.0 */
/* The per-job skip/tag decision (see pf/tag_decision.h). */
#include "pf/setup.h"

#include <stdio.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/job.h"
#include "pf/patched_tags.h"
#include "pf/strv.h"
#include "pf/tag_decision.h"
#include "pf/tag_lists.h"

void pf_tag_decision_release(struct pf_tag_decision *d)
{
    if (!d)
        return;
    pf_free(d->tag);
    pf_free(d->latest);
    pf_free(d->warning);
    *d = (struct pf_tag_decision){0};
}

/* The fail-open decision when the tags could not be listed: patch as `base`, with a warning. */
static int fail_open(const char *target_repo, const char *base, const char *list_error,
                     struct pf_tag_decision *ret)
{
    struct pf_tag_decision d = {0};

    d.tag = pf_strdup(base);
    d.warning = pf_asprintf("cannot list the tags of %s (%s): patching as %s (fail-open)",
                            target_repo, list_error ? list_error : "unknown error", base);
    if (!d.tag || !d.warning) {
        pf_tag_decision_release(&d);
        return -ENOMEM;
    }
    *ret = d;
    return 0;
}

int pf_tag_decision_from_tags(const struct pf_report_lookup *reports, const char *target_repo,
                              const char *base, const struct pf_strv *existing,
                              const char *list_error, struct pf_tag_decision *ret)
{
    struct pf_tag_decision d = {0};
    enum pf_report_verdict v = PF_REPORT_NONE;
    const char *why = NULL;
    char *ref;
    int r;

    if (!existing)
        return fail_open(target_repo, base, list_error, ret);
    r = pf_patched_tags_find(base, existing, &d.latest, &d.tag);
    if (r < 0)
        return r;
    if (reports && reports->lookup && d.latest) {
        ref = pf_asprintf("%s:%s", target_repo, d.latest);
        if (!ref) {
            pf_tag_decision_release(&d);
            return -ENOMEM;
        }
        v = reports->lookup(reports->userdata, ref, &why);
        pf_free(ref);
    }
    if (v == PF_REPORT_CLEAN) {
        pf_free(d.tag);
        d.tag = pf_strdup(d.latest);
        d.skip = true;
    } else if (v == PF_REPORT_UNREADABLE) {
        d.warning = pf_asprintf("%s: patching (fail-open)", why ? why : "unreadable report");
        if (!d.warning) {
            pf_tag_decision_release(&d);
            return -ENOMEM;
        }
    }
    if (!d.tag) {
        pf_tag_decision_release(&d);
        return -ENOMEM;
    }
    *ret = d;
    return 0;
}

int pf_tag_decision_for_job(struct pf_registry *reg, struct pf_tag_lists *lists,
                            const struct pf_report_lookup *reports, const struct pf_job *job,
                            pf_tag_lists_stop_fn stop, void *userdata, struct pf_tag_decision *ret,
                            char *errbuf, size_t errlen)
{
    struct pf_strv own = PF_STRV_INIT;
    const struct pf_strv *tags = &own;
    char why[512] = "";
    int r;

    if (lists)
        r = pf_tag_lists_get(lists, reg, job->target_repo, stop, userdata, &tags, why, sizeof(why));
    else
        r = pf_tag_lists_fetch(reg, job->target_repo, stop, userdata, &own, why, sizeof(why));
    if (r == -ENOMEM) {
        pf_strv_clear(&own);
        return r;
    }
    if (r == -EKEYREJECTED) {
        /* Refused credentials are not an outage to patch through: the push would be refused
         * too, and the operator must hear it as an error for this image, not a warning. */
        (void)snprintf(errbuf, errlen, "%s", why[0] ? why : strerror(-r));
        pf_strv_clear(&own);
        return r;
    }
    r = pf_tag_decision_from_tags(reports, job->target_repo, job->target_tag, r < 0 ? NULL : tags,
                                  why[0] ? why : strerror(-r), ret);
    if (r == -ERANGE)
        (void)snprintf(errbuf, errlen, "no free versioned tag after '%s'", job->target_tag);
    pf_strv_clear(&own);
    return r;
}
