/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `patchfleet config validate FILE`: parse a PatchConfig strictly and print every problem as
 * FILE:LINE:COL: severity: message. Exit 0 and "ok" when valid, 2 otherwise.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pf/config.h"
#include "pf/diag.h"

static int config_validate(const char *path)
{
    struct pf_diags diags;
    struct pf_config *cfg = NULL;
    int r;

    if (pf_diags_init(&diags, path) < 0) {
        cli_error("out of memory");
        return CLI_EXIT_FAILED;
    }
    r = pf_config_load(path, &diags, &cfg);
    pf_diags_sort(&diags);
    pf_diags_print(&diags, stderr);
    pf_diags_release(&diags);
    if (r == -ENOMEM) {
        cli_error("out of memory");
        return CLI_EXIT_FAILED;
    }
    if (r < 0)
        return CLI_EXIT_USAGE;
    cfg = pf_config_free(cfg);
    printf("ok\n");
    return CLI_EXIT_OK;
}

int cli_config(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: patchfleet config validate FILE\n");
        return CLI_EXIT_OK;
    }
    if (argc != 3 || strcmp(argv[1], "validate") != 0) {
        cli_error("usage: patchfleet config validate FILE");
        return CLI_EXIT_USAGE;
    }
    return config_validate(argv[2]);
}
