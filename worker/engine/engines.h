/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every distro engine of the worker behind one worker_engine, so the job runner, the local run
 * and the fleet worker stay engine-agnostic: the merged view keeps what any engine needs, and
 * the first engine whose detect() recognises the image patches it. Adding a distro means adding
 * it here and nowhere else.
 */
#ifndef WORKER_ENGINE_ENGINES_H
#define WORKER_ENGINE_ENGINES_H

#include "pf/setup.h"
#include "engine/engine.h"

struct pf_strv;

struct worker_engines_options {
    const char *cache_dir; /* each engine caches below it (deb/, apk/); must exist */
    const struct pf_strv
        *mirrors;             /* "FROM=TO" repository URL rewrites (--pkg-mirror); may be NULL */
    const char *keyring;      /* Debian/Ubuntu: keyring for sources without Signed-By, or NULL */
    const char *apk_keys_dir; /* Alpine: extra trusted keys (operator's), or NULL */
    const char *ca_file;      /* extra CA for https repositories, or NULL */
    /* Accept a signed index older than the newest one accepted before for its repository
     * (--allow-index-rollback); see engine/index_freshness.h. */
    bool allow_index_rollback;
};

/* Creates the composite engine, with the index freshness store of cache_dir (a corrupt state
 * file fails here, naming it). Returns 0 and *ret (free with worker_engines_free()), or a
 * negative errno with the reason in errbuf. */
int worker_engines_new(const struct worker_engines_options *o, struct worker_engine **ret,
                       char *errbuf, size_t errlen);

/* Frees the composite and every engine in it; accepts NULL and returns NULL. */
struct worker_engine *worker_engines_free(struct worker_engine *e);

#endif
