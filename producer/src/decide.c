/* SPDX-License-Identifier: Apache-2.0 */
/* The per-job skip/tag decision (see producer/decide.h). */
#include "pf/setup.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pf/job.h"
#include "pf/log.h"
#include "pf/ref.h"
#include "pf/registry.h"
#include "pf/strv.h"
#include "producer/decide.h"
#include "producer/tag_lists.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    (void)nanosleep(&ts, NULL);
}

int producer_list_target_tags(struct pf_registry *reg, const char *target_repo,
                              producer_stop_fn stop, void *userdata, struct pf_strv *ret,
                              char *errbuf, size_t errlen)
{
    struct pf_ref repo = {0};
    int r;

    r = pf_ref_parse_repository(target_repo, &repo, errbuf, errlen);
    for (int attempt = 0; r == 0 && attempt < PRODUCER_LIST_ATTEMPTS; attempt++) {
        if (attempt)
            sleep_ms(500L * attempt);
        pf_strv_clear(ret);
        r = pf_registry_list_tags(reg, &repo, ret, errbuf, errlen);
        if (r == -ENOENT) {
            pf_strv_clear(ret);
            r = 0;
        }
        if (r >= 0) {
            r = 0;
            break;
        }
        if (r == -ENOMEM || (stop && stop(userdata)))
            break;
        pf_log(LOG_DEBUG, "listing the tags of %s failed (attempt %d): %s", target_repo,
               attempt + 1, errbuf);
        r = attempt + 1 < PRODUCER_LIST_ATTEMPTS ? 0 : r;
    }
    pf_ref_release(&repo);
    return r;
}

int producer_decide_job(struct pf_registry *reg, struct producer_tag_lists *lists,
                        const struct producer_reports *reps, const struct pf_job *job,
                        producer_stop_fn stop, void *userdata,
                        struct producer_patch_decision *ret, char *errbuf, size_t errlen)
{
    struct pf_strv own = PF_STRV_INIT;
    const struct pf_strv *tags = &own;
    char why[512] = "";
    int r;

    if (lists)
        r = producer_tag_lists_get(lists, reg, job->target_repo, stop, userdata, &tags, why,
                                   sizeof(why));
    else
        r = producer_list_target_tags(reg, job->target_repo, stop, userdata, &own, why,
                                      sizeof(why));
    if (r == -ENOMEM) {
        pf_strv_clear(&own);
        return r;
    }
    r = producer_patch_decide(reps, job->target_repo, job->target_tag, r < 0 ? NULL : tags,
                              why[0] ? why : strerror(-r), ret);
    if (r == -ERANGE)
        (void)snprintf(errbuf, errlen, "no free versioned tag after '%s'", job->target_tag);
    pf_strv_clear(&own);
    return r;
}
