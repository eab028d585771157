/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The producer catalog backed by the real registry client, and config loading with its
 * diagnostics, shared by `patchfleet plan`, `patchfleet patch` and patchfleet-producer: the
 * expansion a user previews with `plan` is exactly the one the local run and the fleet run.
 */
#ifndef PRODUCER_CATALOG_H
#define PRODUCER_CATALOG_H

#include <stdint.h>
#include <stdio.h>

struct pf_config;
struct pf_registry;
struct producer_catalog;
struct producer_plan;

/*
 * Loads the PatchConfig at `path`, printing every diagnostic (sorted, FILE:LINE:COL) on
 * `diag_out` (NULL: not printed). Returns 0 and a new config in *ret (caller frees with
 * pf_config_free()), or a negative errno: -ENOMEM, or the loader's error for an invalid or
 * unreadable file.
 */
int producer_catalog_load_config(const char *path, FILE *diag_out, struct pf_config **ret);

/* Fills *ret with the catalog callbacks answering through `reg` (borrowed: it must outlive
 * every use of the catalog). Cannot fail. */
void producer_catalog_registry(struct pf_registry *reg, struct producer_catalog *ret);

/*
 * Expands `cfg` into jobs with producer_plan_build(), listing tags and reading creation times
 * through `reg` (borrowed). *ret must be zeroed by the caller and is always to be released
 * with producer_plan_release(), also after -ENOMEM. Discovery failures are data in
 * ret->failures, not errors. Returns 0 or -ENOMEM.
 */
int producer_catalog_plan(const struct pf_config *cfg, struct pf_registry *reg,
                          struct producer_plan *ret);

/*
 * Parses an image config's RFC 3339 'created' time ("2024-05-01T10:00:00.123Z",
 * "...+02:00") into unix seconds in *ret. Every field has its exact width and range, so a
 * malformed time is refused rather than misread. Returns 0, or -EINVAL with *ret untouched.
 */
int producer_catalog_parse_time(const char *s, int64_t *ret);

#endif
