/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every engine shares: releasing a result. Kept apart from the engines so the job runner
 * links against the contract alone.
 */
#include "pf/setup.h"

#include "pf/alloc.h"
#include "worker/engine.h"

void worker_engine_result_release(struct worker_engine_result *r) {
    if (!r)
        return;
    for (size_t i = 0; i < r->n_upgrades; i++) {
        pf_free(r->upgrades[i].name);
        pf_free(r->upgrades[i].arch);
        pf_free(r->upgrades[i].from);
        pf_free(r->upgrades[i].to);
    }
    pf_free(r->upgrades);
    pf_free(r->os);
    pf_free(r->layer_path);
    *r = (struct worker_engine_result){0};
}
