/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry options every binary that talks to a registry accepts (the CLI's network
 * subcommands, patchfleet-producer, patchfleet-worker): --insecure-registry, --ca-file and
 * the environment variable PATCHFLEET_FORCE_TLS=1, spelled, documented and turned into
 * pf_registry_options once. Each binary used to carry its own copy, and only the CLI honoured
 * PATCHFLEET_FORCE_TLS. The getopt values sit high (0x1000...) so they never collide with a
 * binary's own short options or option enums.
 */
#ifndef PF_REGISTRY_OPTS_H
#define PF_REGISTRY_OPTS_H

#include <getopt.h>

#include "pf/setup.h"
#include "pf/strv.h"

struct pf_registry;
struct pf_registry_options;

/* The environment variable that makes the client use https even for loopback hosts. */
#define PF_REGISTRY_OPTS_FORCE_TLS_ENV "PATCHFLEET_FORCE_TLS"

/* The --help lines for the options below (two-space indent, column 35). */
#define PF_REGISTRY_OPTS_HELP                                                                      \
    "  --insecure-registry HOST[:PORT]  use plain http for this registry (repeatable)\n"           \
    "  --ca-file FILE                   trust this CA bundle; forces https for loopback hosts "    \
    "too\n"

/* getopt_long() values of the registry options. */
enum {
    PF_REGISTRY_OPT_INSECURE = 0x1000,
    PF_REGISTRY_OPT_CA_FILE,
};

/* The `struct option` entries, for a binary's long-option table. */
#define PF_REGISTRY_LONG_OPTIONS                                                                   \
    {"insecure-registry", required_argument, NULL, PF_REGISTRY_OPT_INSECURE},                      \
    {                                                                                              \
        "ca-file", required_argument, NULL, PF_REGISTRY_OPT_CA_FILE                                \
    }

/* What the options said. Embedded; release with pf_registry_opts_release(). */
struct pf_registry_opts {
    struct pf_strv insecure; /* --insecure-registry, in order */
    const char *ca_file;     /* --ca-file (borrowed from argv), or NULL */
};

#define PF_REGISTRY_OPTS_INIT                                                                      \
    {                                                                                              \
        PF_STRV_INIT, NULL                                                                         \
    }

/*
 * Takes one getopt_long() result `opt` with its argument. Returns 1 when it was a registry
 * option (recorded), 0 when it is not one (the caller handles it), or -ENOMEM.
 */
int pf_registry_opts_parse(struct pf_registry_opts *o, int opt, const char *arg);

/*
 * Fills `ret` (initialised here with pf_registry_options_init()) from `o` and the environment:
 * the insecure hosts (borrowed from `o`, which must outlive `ret`), the CA file, force_tls from
 * PATCHFLEET_FORCE_TLS=1 (any other value is ignored) and libcurl debug when pf_log is at
 * LOG_DEBUG. Cannot fail.
 */
void pf_registry_opts_apply(const struct pf_registry_opts *o, struct pf_registry_options *ret);

/*
 * Makes a registry client from `o` as pf_registry_opts_apply() fills the options. Returns 0
 * and a new client in *ret (pf_registry_free() it), or pf_registry_new()'s error with the
 * reason in errbuf; *ret untouched on failure.
 */
int pf_registry_opts_new_client(const struct pf_registry_opts *o, struct pf_registry **ret,
                                char *errbuf, size_t errlen);

/* Frees what `o` holds and resets it to PF_REGISTRY_OPTS_INIT; accepts NULL. */
void pf_registry_opts_release(struct pf_registry_opts *o);

#endif
