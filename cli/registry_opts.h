/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry options every network subcommand shares (--insecure-registry, --ca-file), so
 * they are spelled and documented once.
 */
#ifndef CLI_REGISTRY_OPTS_H
#define CLI_REGISTRY_OPTS_H

#include "pf/registry.h"
#include "pf/strv.h"

#define CLI_REGISTRY_OPTS_HELP                                                                     \
    "  --insecure-registry HOST[:PORT]  use plain http for this registry (repeatable)\n"          \
    "  --ca-file FILE                   trust this CA bundle; forces https for loopback hosts too\n"

enum {
    CLI_OPT_INSECURE_REGISTRY = 0x1000,
    CLI_OPT_CA_FILE,
};

#define CLI_REGISTRY_LONG_OPTIONS                                                                  \
    {"insecure-registry", required_argument, NULL, CLI_OPT_INSECURE_REGISTRY},                     \
        {"ca-file", required_argument, NULL, CLI_OPT_CA_FILE}

struct cli_registry_opts {
    struct pf_strv insecure;
    const char *ca_file;
};

/* Handles one getopt result; returns 1 if it was a registry option, 0 if not, -ENOMEM. */
int cli_registry_opt(struct cli_registry_opts *o, int opt, const char *arg);
/* Makes the client; prints the reason and returns NULL on failure. */
struct pf_registry *cli_registry_new(const struct cli_registry_opts *o);
void cli_registry_opts_release(struct cli_registry_opts *o);

#endif
