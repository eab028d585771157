/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared registry options for the CLI; see registry_opts.h.
 */
#include "pf/setup.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pf/log.h"
#include "registry_opts.h"

int cli_registry_opt(struct cli_registry_opts *o, int opt, const char *arg)
{
    switch (opt) {
    case CLI_OPT_INSECURE_REGISTRY:
        return pf_strv_push(&o->insecure, arg) < 0 ? -ENOMEM : 1;
    case CLI_OPT_CA_FILE:
        o->ca_file = arg;
        return 1;
    default:
        return 0;
    }
}

struct pf_registry *cli_registry_new(const struct cli_registry_opts *o)
{
    struct pf_registry_options ro;
    struct pf_registry *reg = NULL;
    const char *force = getenv("PATCHFLEET_FORCE_TLS");
    char err[512] = "";

    pf_registry_options_init(&ro);
    ro.insecure_hosts = &o->insecure;
    ro.ca_file = o->ca_file;
    ro.force_tls = force && strcmp(force, "1") == 0;
    ro.debug = pf_log_get_level() >= LOG_DEBUG;
    if (pf_registry_new(&ro, &reg, err, sizeof(err)) < 0) {
        cli_error("cannot create the registry client: %s", err[0] ? err : "out of memory");
        return NULL;
    }
    return reg;
}

void cli_registry_opts_release(struct cli_registry_opts *o)
{
    pf_strv_clear(&o->insecure);
}
