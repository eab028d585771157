/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The native Debian/Ubuntu engine behind the worker_engine contract: reads os-release, the dpkg
 * database (status or distroless status.d) and the apt sources from the merged view, fetches
 * and verifies the repositories' indexes, plans the upgrades and writes them as one layer. No
 * program from the image is ever run. One engine serves every job of a process; its caches of
 * indexes and .debs are shared. Rules: docs/deb-engine.md.
 */
#ifndef WORKER_DEB_DEB_ENGINE_H
#define WORKER_DEB_DEB_ENGINE_H

#include "pf/setup.h"
#include "engine/engine.h"

struct pf_strv;
struct worker_index_freshness;

struct worker_deb_engine_options {
    const char *cache_dir; /* indexes and .debs; created if missing */
    const struct pf_strv
        *mirrors;                /* "FROM=TO" repository URL rewrites (--pkg-mirror); may be NULL */
    const char *default_keyring; /* for sources without Signed-By; NULL picks the distro keyring
                                      installed on the worker (debian-archive-keyring,
                                      ubuntu-keyring) */
    const char *ca_file;         /* extra CA for https repositories; may be NULL */
    struct worker_index_freshness *freshness; /* replay memory (borrowed), or NULL for none */
};

/* Creates the engine. Returns 0 and *ret, or a negative errno with the reason in errbuf. */
int worker_deb_engine_new(const struct worker_deb_engine_options *o, struct worker_engine **ret,
                          char *errbuf, size_t errlen);

/* Frees the engine; accepts NULL and returns NULL. */
struct worker_engine *worker_deb_engine_free(struct worker_engine *e);

/* Maps an OCI architecture (+ variant) to dpkg's name: amd64 -> amd64, arm64 -> arm64,
 * arm/v7 -> armhf, arm/v6 and arm/v5 -> armel, 386 -> i386, ppc64le -> ppc64el, s390x, riscv64,
 * mips64le -> mips64el. Returns NULL for an architecture Debian does not build. */
const char *worker_deb_arch_from_oci(const char *arch, const char *variant);

#endif
