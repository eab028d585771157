/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every subcommand that expands a PatchConfig shares (plan, patch): loading the config
 * with its diagnostics printed, and the producer catalog backed by the real registry client,
 * so the expansion a user previews with `plan` is exactly the one `patch` runs.
 */
#ifndef CLI_CATALOG_H
#define CLI_CATALOG_H

struct pf_config;
struct pf_registry;
struct producer_plan;

/*
 * Loads the PatchConfig at `path`, printing every diagnostic (sorted, FILE:LINE:COL) on
 * stderr. Returns 0 and a new config in *ret (caller frees with pf_config_free()), or a
 * negative errno: -ENOMEM, or the loader's error for an invalid or unreadable file.
 */
int cli_load_config(const char *path, struct pf_config **ret);

/*
 * Expands `cfg` into jobs with producer_plan_build(), listing tags and reading creation times
 * through `reg` (borrowed; must outlive the call). *ret must be zeroed by the caller and is
 * always to be released with producer_plan_release(), also after -ENOMEM. Discovery failures
 * are data in ret->failures, not errors. Returns 0 or -ENOMEM.
 */
int cli_catalog_plan(const struct pf_config *cfg, struct pf_registry *reg,
                     struct producer_plan *ret);

#endif
