/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CLI's registry client; see registry_opts.h.
 */
#include "pf/setup.h"

#include "cli.h"
#include "registry_opts.h"

struct pf_registry *cli_registry_new(const struct pf_registry_opts *o)
{
    struct pf_registry *reg = NULL;
    char err[512] = "";

    if (pf_registry_opts_new_client(o, &reg, err, sizeof(err)) < 0) {
        cli_error("cannot create the registry client: %s", err[0] ? err : "out of memory");
        return NULL;
    }
    return reg;
}
