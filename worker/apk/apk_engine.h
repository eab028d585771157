/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The native Alpine engine behind the worker_engine contract: reads os-release, the apk
 * installed database (lib/apk/db, routed through the image's symlinks), /etc/apk/repositories,
 * /etc/apk/world and /etc/apk/keys from the merged view; fetches and verifies each repository's
 * APKINDEX.tar.gz with the image's keys; upgrades every installed package with a newer
 * candidate (new dependencies included) and writes the result as one layer. No package script
 * is ever run. Rules: docs/apk-engine.md.
 */
#ifndef WORKER_APK_APK_ENGINE_H
#define WORKER_APK_APK_ENGINE_H

#include "pf/setup.h"
#include "engine/engine.h"

struct pf_strv;
struct worker_index_freshness;

struct worker_apk_engine_options {
    const char *cache_dir; /* downloaded packages; created if missing */
    const struct pf_strv
        *mirrors;         /* "FROM=TO" repository URL rewrites (--pkg-mirror); may be NULL */
    const char *keys_dir; /* extra trusted keys dir (operator), may be NULL */
    const char *ca_file;  /* extra CA for https repositories; may be NULL */
    /* Remembers each repository's newest APKINDEX date and refuses an older one (borrowed,
     * must outlive the engine); NULL checks nothing. */
    struct worker_index_freshness *freshness;
};

/* Creates the engine. Returns 0 and *ret, or a negative errno with the reason in errbuf. */
int worker_apk_engine_new(const struct worker_apk_engine_options *o, struct worker_engine **ret,
                          char *errbuf, size_t errlen);

/* Frees the engine; accepts NULL and returns NULL. */
struct worker_engine *worker_apk_engine_free(struct worker_engine *e);

/* Maps an OCI architecture (+ variant) to apk's: amd64 -> x86_64, arm64 -> aarch64, arm/v7 ->
 * armv7, arm/v6 -> armhf, 386 -> x86, ppc64le, s390x, riscv64. NULL when Alpine has none. */
const char *worker_apk_arch_from_oci(const char *arch, const char *variant);

#endif
