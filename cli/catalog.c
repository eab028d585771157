/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config loading and the registry-backed expansion for `plan` and `patch`; see catalog.h.
 * The logic lives in the producer library (producer/catalog.h) so patchfleet-producer expands
 * a config exactly as the local run does; these wrappers keep the CLI's names and print the
 * diagnostics on stderr.
 */
#include "pf/setup.h"

#include <stdio.h>

#include "catalog.h"
#include "producer/catalog.h"

int cli_load_config(const char *path, struct pf_config **ret)
{
    return producer_catalog_load_config(path, stderr, ret);
}

int cli_catalog_plan(const struct pf_config *cfg, struct pf_registry *reg,
                     struct producer_plan *ret)
{
    return producer_catalog_plan(cfg, reg, ret);
}
