/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract between the image side of a patch (pull, merged view, assembly, push) and a
 * distro engine (Debian today, Alpine next). The job runner builds the merged view of one
 * platform image with the engine's keep callback, hands it to the engine, and gets back the
 * list of upgrades and, unless nothing changed or the run is a dry run, ONE layer blob in a
 * file the runner uploads or writes into an OCI layout. Engines never see a registry; the
 * runner never sees a package.
 */
#ifndef WORKER_ENGINE_ENGINE_H
#define WORKER_ENGINE_ENGINE_H

#include "pf/setup.h"
#include "image/layer_writer.h"

struct worker_layer_view;

/* Polled by long engine steps (downloads, extraction); returns true when the job must stop
 * (Ctrl-C or the per-job timeout). An engine that sees true returns -ECANCELED. */
typedef bool (*worker_engine_cancelled_fn)(void *userdata);

struct worker_engine_request {
    struct worker_layer_view *view; /* merged view of the source image, built with ->keep */
    const char *arch;               /* platform architecture in OCI terms: amd64, arm64, ... */
    const char *variant;            /* "v8", or NULL */
    const char *workdir;            /* private scratch directory of this job, removed after */
    bool dry_run;                   /* decide only: no layer is produced */
    worker_engine_cancelled_fn cancelled; /* may be NULL */
    void *cancelled_userdata;
    uint64_t max_package_size;     /* uncompressed bytes of one package; 0: the engine's default */
    uint64_t max_patch_layer_size; /* file bytes of the patch layer; 0: the writer's default */
};

/* One package change. `from` is NULL for a package the patch newly installs (a new
 * dependency). All strings owned by the result. */
struct worker_engine_upgrade {
    char *name;
    char *arch;
    char *from;
    char *to;
};

struct worker_engine_result {
    char *os;                               /* "debian 12", "ubuntu 22.04": for the report */
    struct worker_engine_upgrade *upgrades; /* sorted by name, then arch */
    size_t n_upgrades;
    char *layer_path;                 /* the gzip tar blob in workdir, or NULL */
    struct worker_layer_result layer; /* valid when layer_path != NULL */
};

/* Frees the members of `r` (not the struct) and zeroes it; accepts a zeroed struct. */
void worker_engine_result_release(struct worker_engine_result *r);

/* What every engine does last: finishes `w` into "<workdir>/patch-layer.tar.gz" (created
 * exclusively, fsynced) and records it in res->layer and res->layer_path. Returns 0, or a
 * negative errno with the reason in errbuf (no file is left behind then). */
int worker_engine_write_layer(struct worker_layer_writer *w, const char *workdir,
                              struct worker_engine_result *res, char *errbuf, size_t errlen);

/*
 * One engine. `ctx` is the engine's own shared state (caches of indexes and packages,
 * mirrors, keyrings), made once per process and used by every job concurrently, so an
 * engine's patch function must be thread-safe for one ctx.
 */
struct worker_engine {
    const char *name; /* "deb", "apk" */
    void *ctx;
    /* Returns true when the content of `path` must be kept in the view (a
     * worker_layer_keep_cb; userdata is ctx). */
    bool (*keep)(const char *path, void *userdata);
    /* Returns 1 when the view holds an image this engine patches, 0 when not. */
    int (*detect)(void *ctx, const struct worker_layer_view *view);
    /* Decides and (unless dry_run) builds the patch layer. Returns 0 with *ret filled (no
     * layer and zero upgrades means up to date), or a negative errno with the reason in
     * errbuf: -ECANCELED, -ENOTSUP (unsupported distro or release), -EBADMSG (a bad signature,
     * checksum or database), -ENOENT, -EIO, -ENOMEM. *ret is untouched on failure. */
    int (*patch)(void *ctx, const struct worker_engine_request *req,
                 struct worker_engine_result *ret, char *errbuf, size_t errlen);
};

#endif
