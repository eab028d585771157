/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry client of the CLI's network subcommands: the options themselves (spellings,
 * --help lines, PATCHFLEET_FORCE_TLS) are common's pf/registry_opts.h, shared with the
 * daemons; this adds the CLI's way of reporting a client that cannot be made.
 */
#ifndef CLI_REGISTRY_OPTS_H
#define CLI_REGISTRY_OPTS_H

#include "pf/registry.h"
#include "pf/registry_opts.h"

/* Makes the client from `o`; prints the reason and returns NULL on failure. */
struct pf_registry *cli_registry_new(const struct pf_registry_opts *o);

#endif
