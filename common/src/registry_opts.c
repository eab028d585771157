/* SPDX-License-Identifier: Apache-2.0 */
/* The registry options all binaries share (see pf/registry_opts.h). */
#include "pf/setup.h"

#include <stdlib.h>
#include <string.h>

#include "pf/log.h"
#include "pf/registry.h"
#include "pf/registry_opts.h"

int pf_registry_opts_parse(struct pf_registry_opts *o, int opt, const char *arg)
{
    switch (opt) {
    case PF_REGISTRY_OPT_INSECURE:
        return pf_strv_push(&o->insecure, arg) < 0 ? -ENOMEM : 1;
    case PF_REGISTRY_OPT_CA_FILE:
        o->ca_file = arg;
        return 1;
    default:
        return 0;
    }
}

void pf_registry_opts_apply(const struct pf_registry_opts *o, struct pf_registry_options *ret)
{
    const char *force = getenv(PF_REGISTRY_OPTS_FORCE_TLS_ENV);

    pf_registry_options_init(ret);
    ret->insecure_hosts = &o->insecure;
    ret->ca_file = o->ca_file;
    /* A CA file forces https too (pf_registry_new() reads it so); set it here as well, so the
     * options say what the client will do. */
    ret->force_tls = (force && strcmp(force, "1") == 0) || (o->ca_file && o->ca_file[0]);
    ret->debug = pf_log_get_level() >= LOG_DEBUG;
}

int pf_registry_opts_new_client(const struct pf_registry_opts *o, struct pf_registry **ret,
                                char *errbuf, size_t errlen)
{
    struct pf_registry_options ro;

    pf_registry_opts_apply(o, &ro);
    return pf_registry_new(&ro, ret, errbuf, errlen);
}

void pf_registry_opts_release(struct pf_registry_opts *o)
{
    if (!o)
        return;
    pf_strv_clear(&o->insecure);
    *o = (struct pf_registry_opts)PF_REGISTRY_OPTS_INIT;
}
