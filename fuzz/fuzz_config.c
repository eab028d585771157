/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the PatchConfig reader: any byte string goes through pf_config_parse()
 * with a fresh diagnostics list, and everything is freed, so ASan sees every leak and overrun
 * and UBSan every overflow. A valid config is also pushed through the accessors that later
 * stages use, so the structs the reader builds are exercised, not only built.
 */
#include "pf/setup.h"

#include <stdlib.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/config.h"
#include "pf/diag.h"
#include "pf/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use_config(const struct pf_config *cfg)
{
    for (size_t i = 0; i < cfg->n_images; i++) {
        struct pf_target t;
        char err[256];
        char *tag = NULL;

        pf_config_effective_target(cfg, &cfg->images[i], &t);
        /* The reader promised every template renders: a failure here is a reader bug. */
        if (pf_template_render(t.tag, "1.0.0", &tag, err, sizeof(err)) == -EINVAL)
            abort();
        pf_free(tag);
        if (!pf_tag_strategy_to_string(cfg->images[i].tags.strategy))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pf_config *cfg = NULL;
    struct pf_diags d;
    int r;

    if (pf_diags_init(&d, "fuzz.yaml") < 0)
        return 0;
    r = pf_config_parse((const char *)data, size, &d, &cfg);
    /* The contract: success exactly when no error was reported. */
    if ((r == 0) != (d.n_errors == 0) && r != -ENOMEM)
        abort();
    if (r == 0)
        use_config(cfg);
    for (size_t i = 0; i < d.n; i++) {
        char *line;

        /* Every diagnostic about a place in the file names its line and its column. */
        if (d.v[i].line > 0 && d.v[i].col == 0)
            abort();
        line = pf_diag_format(&d, &d.v[i]);
        pf_free(line);
    }
    pf_config_free(cfg);
    pf_diags_release(&d);
    return 0;
}
