/* SPDX-License-Identifier: Apache-2.0 */
/* Job results as message platforms (see worker/result_msg.h). */
#include "pf/setup.h"

#include "pf/alloc.h"
#include "job/result_msg.h"

int worker_result_msg_platforms(const struct worker_patch_job_result *res,
                                struct pf_msg_platform **ret)
{
    struct pf_msg_platform *v;

    if (!res || res->n_platforms == 0) {
        *ret = NULL;
        return 0;
    }
    v = pf_calloc(res->n_platforms, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < res->n_platforms; i++) {
        const struct worker_patch_platform_result *p = &res->platforms[i];

        v[i] = (struct pf_msg_platform){.platform = p->platform, .os = p->os, .error = p->error};
        if (p->n_upgrades == 0)
            continue;
        v[i].upgrades = pf_calloc(p->n_upgrades, sizeof(*v[i].upgrades));
        if (!v[i].upgrades) {
            worker_result_msg_platforms_free(v, i);
            return -ENOMEM;
        }
        v[i].n_upgrades = p->n_upgrades;
        for (size_t k = 0; k < p->n_upgrades; k++)
            v[i].upgrades[k] = (struct pf_msg_upgrade){.name = p->upgrades[k].name,
                                                       .arch = p->upgrades[k].arch,
                                                       .from = p->upgrades[k].from,
                                                       .to = p->upgrades[k].to};
    }
    *ret = v;
    return 0;
}

void worker_result_msg_platforms_free(struct pf_msg_platform *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++)
        pf_free(p[i].upgrades);
    pf_free(p);
}
