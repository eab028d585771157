/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job runner. Three phases: select (which entries of the source are patched, preserved or
 * dropped), patch (per selected platform: layers through the blob cache into a merged view,
 * then the engine, then config and manifest assembly) and publish (registry and/or OCI
 * layout). Publishing writes everything by digest before the one write that makes the result
 * visible (the tag put, or the index.json entry), and polls for cancellation right before it,
 * so a cancelled or failed job never leaves its target tag pointing at a partial image. A dry
 * run may answer a platform from the caller's plan cache (job/plan_cache.h): its plan depends
 * only on the manifest and the engine's indexes, so 10,000 tags of one image are planned once.
 */
#include "pf/setup.h"

#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/copy.h"
#include "pf/digest.h"
#include "pf/err.h"
#include "pf/job.h"
#include "pf/log.h"
#include "pf/oci.h"
#include "pf/ref.h"
#include "pf/registry.h"
#include "pf/strv.h"
#include "image/blob_cache.h"
#include "engine/engine.h"
#include "image/image_patch.h"
#include "image/layer_view.h"
#include "engine/os_release.h"
#include "job/patch_job.h"
#include "job/plan_cache.h"

#define ERRLEN 1024

/* One selected platform image of the source and, once patched, its new documents. */
struct plat {
    const struct pf_descriptor *entry; /* index entry (borrowed), NULL for a single manifest */
    struct pf_raw_manifest own;        /* the fetched platform manifest (index case) */
    struct pf_manifest mf;
    struct pf_platform platform; /* normalised */
    char *config;                /* source config */
    size_t config_len;
    bool patched; /* the documents below are set */
    bool cached;  /* dry run: the plan came from o->plan_cache */
    char *new_config;
    size_t new_config_len;
    char new_config_digest[PF_DIGEST_BUFSZ];
    char *new_manifest;
    size_t new_manifest_len;
    char new_manifest_digest[PF_DIGEST_BUFSZ];
    char *layer_path; /* the engine's layer blob, inside the job's workdir */
    struct worker_layer_result layer;
};

struct run {
    const struct worker_patch_job_options *o;
    const struct pf_job *job;
    struct pf_ref src; /* source repository and tag */
    struct pf_ref dst; /* target repository, no tag */
    char *workdir;
    struct pf_raw_manifest top;
    bool is_index;
    struct pf_index ix;
    struct plat *plats; /* parallel to res->platforms */
    size_t n_plats;
    struct worker_patch_job_result *res;
    long failed_plat; /* index of the platform the error belongs to, or -1 */
    char err[ERRLEN];
};

char *worker_patch_details(enum pf_status status, const char *details, const char *decision_warning,
                           const char *result_warnings)
{
    const char *base = status == PF_STATUS_PATCHED ? "OK" : details ? details : "-";
    const char *w1 = decision_warning, *w2 = result_warnings;

    return pf_asprintf("%s%s%s%s%s", base, w1 ? "; warning: " : "", w1 ? w1 : "",
                       w2 ? "; warning: " : "", w2 ? w2 : "");
}

static void platform_result_release(struct worker_patch_platform_result *p)
{
    struct worker_engine_result er = {0};

    /* The upgrades came from an engine result: let its destructor free them. */
    er.upgrades = p->upgrades;
    er.n_upgrades = p->n_upgrades;
    worker_engine_result_release(&er);
    pf_free(p->platform);
    pf_free(p->os);
    pf_free(p->error);
    *p = (struct worker_patch_platform_result){0};
}

void worker_patch_job_result_release(struct worker_patch_job_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_platforms; i++)
        platform_result_release(&r->platforms[i]);
    pf_free(r->platforms);
    pf_free(r->patched_ref);
    pf_free(r->patched_digest);
    pf_free(r->source_digest);
    pf_free(r->details);
    pf_free(r->warnings);
    *r = (struct worker_patch_job_result){0};
}

static void plat_release(struct plat *p)
{
    pf_raw_manifest_release(&p->own);
    pf_manifest_release(&p->mf);
    pf_platform_release(&p->platform);
    pf_free(p->config);
    pf_free(p->new_config);
    pf_free(p->new_manifest);
    pf_free(p->layer_path);
}

/* The source manifest of `p`: its own (index case) or the job's top manifest. Not stored in
 * the plat, which moves when the array grows. */
static const struct pf_raw_manifest *src_of(const struct run *run, const struct plat *p)
{
    return p->entry ? &p->own : &run->top;
}

static bool cancelled(const struct run *run)
{
    return run->o->cancelled && run->o->cancelled(run->o->cancelled_userdata);
}

static int check_cancelled(struct run *run, const char *before)
{
    if (cancelled(run))
        return pf_set_error(run->err, sizeof(run->err), -ECANCELED, "cancelled before %s", before);
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) < 0)
        pf_log(LOG_DEBUG, "cannot remove '%s': %s, ignoring", path, strerror(errno));
    return 0;
}

/* Removes the job's private directory; symlinks an engine left there are not followed. */
static void remove_tree(const char *dir)
{
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
        pf_log(LOG_WARNING, "cannot remove work directory '%s': %s, ignoring", dir,
               strerror(errno));
}

/* --- selection --------------------------------------------------------------------------- */

/* Adds a selected platform (an empty plat and its result entry). Steals nothing. */
static int add_plat(struct run *run, const struct pf_descriptor *entry,
                    const struct pf_platform *pl)
{
    struct worker_patch_job_result *res = run->res;
    struct worker_patch_platform_result *np;
    struct plat *pp;
    size_t n = run->n_plats;

    pp = pf_realloc(run->plats, (n + 1) * sizeof(*pp));
    if (!pp)
        return -ENOMEM;
    run->plats = pp;
    np = pf_realloc(res->platforms, (n + 1) * sizeof(*np));
    if (!np)
        return -ENOMEM;
    res->platforms = np;
    memset(&pp[n], 0, sizeof(pp[n]));
    memset(&np[n], 0, sizeof(np[n]));
    pp[n].entry = entry;
    np[n].platform = pf_platform_format(pl);
    if (!np[n].platform || pf_platform_copy(pl, &pp[n].platform) < 0 ||
        pf_platform_normalize(&pp[n].platform) < 0) {
        pf_free(np[n].platform);
        pf_platform_release(&pp[n].platform);
        return -ENOMEM;
    }
    run->n_plats = n + 1;
    res->n_platforms = n + 1;
    return 0;
}

/* Returns 1 when `have` is wanted by the job (every platform when it names none), 0 if not,
 * -ENOMEM or -EINVAL (a job platform that does not parse). */
static int wanted(struct run *run, const struct pf_platform *have)
{
    const struct pf_strv *want = &run->job->platforms;
    int r = want->n ? 0 : 1;

    for (size_t i = 0; r == 0 && i < want->n; i++) {
        struct pf_platform w = {0};
        r = pf_platform_parse(want->v[i], &w);
        if (r == -EINVAL)
            return pf_set_error(run->err, sizeof(run->err), r, "invalid platform '%s'", want->v[i]);
        if (r < 0)
            return r;
        r = pf_platform_match(&w, have) ? 1 : 0;
        pf_platform_release(&w);
    }
    return r;
}

static int no_match(struct run *run, const char *have)
{
    char *w = pf_strv_join(&run->job->platforms, ", ");

    if (!w)
        return -ENOMEM;
    (void)pf_set_error(run->err, sizeof(run->err), -ENOENT,
                       "none of the platforms [%s] is in the image (it has: %s)", w, have);
    pf_free(w);
    return -ENOENT;
}

static int select_index(struct run *run)
{
    struct pf_strv have = PF_STRV_INIT;
    char why[256], *s;
    int r;

    r = pf_index_parse(run->top.data, run->top.len, &run->ix, why, sizeof(why));
    if (r < 0)
        return pf_set_error(run->err, sizeof(run->err), r, "index %s: %s", run->top.digest, why);
    run->is_index = true;
    for (size_t i = 0; i < run->ix.n_manifests; i++) {
        const struct pf_descriptor *d = &run->ix.manifests[i];

        if (pf_descriptor_is_attestation(d))
            continue; /* dropped from the output: it describes the unpatched image */
        if (!d->platform || !pf_oci_media_type_is_manifest(d->media_type) ||
            pf_oci_media_type_is_index(d->media_type) || !d->platform->os ||
            strcmp(d->platform->os, "linux") != 0) {
            pf_log(LOG_INFO, "%s: entry %s is not a linux image, preserved as is", run->job->source,
                   d->digest);
            continue;
        }
        s = pf_platform_format(d->platform);
        r = s ? pf_strv_push_take(&have, s) : -ENOMEM;
        if (r == 0)
            r = wanted(run, d->platform);
        if (r > 0)
            r = add_plat(run, d, d->platform);
        if (r < 0)
            goto out;
    }
    r = 0;
    if (run->n_plats == 0) {
        s = pf_strv_join(&have, ", ");
        r = !s       ? -ENOMEM
            : have.n ? no_match(run, s)
                     : pf_set_error(run->err, sizeof(run->err), -ENOENT,
                                    "index %s has no linux image", run->top.digest);
        pf_free(s);
    }
out:
    pf_strv_clear(&have);
    return r;
}

/* Fetches the single manifest's config, whose os/architecture/variant is its platform. */
static int single_config(struct run *run, char **ret, size_t *ret_len)
{
    struct pf_manifest mf;
    char why[256];
    int r;

    r = pf_manifest_parse(run->top.data, run->top.len, &mf, why, sizeof(why));
    if (r < 0)
        return pf_set_error(run->err, sizeof(run->err), r, "manifest %s: %s", run->top.digest, why);
    r = pf_registry_get_blob_mem(run->o->registry, &run->src, mf.config.digest, PF_CONFIG_MAX, ret,
                                 ret_len, run->err, sizeof(run->err));
    if (r == 0) {
        r = pf_descriptor_check_size(&mf.config, *ret_len, run->err, sizeof(run->err));
        if (r < 0)
            *ret = pf_free(*ret);
    }
    pf_manifest_release(&mf);
    return r;
}

/* A dry run whose manifest was planned before: its platform and plan from the cache, without
 * fetching the config. Returns 1 on a hit (*pl and *plan filled), 0 on a miss, -ENOMEM. */
static int single_cached(struct run *run, struct pf_platform *pl,
                         struct worker_patch_platform_result *plan)
{
    char *key;
    int r;

    if (!run->o->dry_run || !run->o->plan_cache)
        return 0;
    key = worker_plan_cache_key(run->o->engine->name, run->top.digest, NULL);
    if (!key)
        return -ENOMEM;
    r = worker_plan_cache_get(run->o->plan_cache, key, plan, pl);
    pf_free(key);
    return r;
}

static int select_single(struct run *run)
{
    struct pf_image_config cfg;
    struct pf_platform pl = {0};
    struct worker_patch_platform_result plan = {0};
    char why[256], *s = NULL, *config = NULL;
    size_t config_len = 0;
    int r;

    r = single_cached(run, &pl, &plan);
    if (r < 0)
        return r;
    if (r > 0) {
        r = wanted(run, &pl);
        if (r == 0) {
            s = pf_platform_format(&pl);
            r = s ? no_match(run, s) : -ENOMEM;
        } else if (r > 0) {
            r = add_plat(run, NULL, &pl);
        }
        if (r == 0) { /* the plan moves to the result, as patch_platform() would put it */
            run->res->platforms[0].os = plan.os;
            run->res->platforms[0].upgrades = plan.upgrades;
            run->res->platforms[0].n_upgrades = plan.n_upgrades;
            run->plats[0].cached = true;
            plan = (struct worker_patch_platform_result){0};
        }
        platform_result_release(&plan);
        pf_free(s);
        pf_platform_release(&pl);
        return r;
    }
    r = single_config(run, &config, &config_len);
    if (r < 0)
        return r;
    r = pf_image_config_parse(config, config_len, &cfg, why, sizeof(why));
    if (r < 0) {
        pf_free(config);
        return pf_set_error(run->err, sizeof(run->err), r, "image config: %s", why);
    }
    pl.os = cfg.os;
    pl.architecture = cfg.architecture;
    pl.variant = cfg.variant;
    cfg.os = cfg.architecture = cfg.variant = NULL; /* now owned by pl */
    pf_image_config_release(&cfg);
    r = pf_platform_normalize(&pl);
    if (r == 0)
        r = wanted(run, &pl);
    if (r == 0) {
        s = pf_platform_format(&pl);
        r = s ? no_match(run, s) : -ENOMEM;
    } else if (r > 0) {
        r = add_plat(run, NULL, &pl);
    }
    if (r == 0) {
        run->plats[0].config = config;
        run->plats[0].config_len = config_len;
        config = NULL;
    }
    pf_free(s);
    pf_free(config);
    pf_platform_release(&pl);
    return r;
}

/* --- patching one platform ---------------------------------------------------------------- */

/* True for the layer media types the view reads (tar, gzip or zstd; detected from the data). */
static bool readable_layer(const struct pf_descriptor *d)
{
    static const char oci[] = "application/vnd.oci.image.layer.";
    static const char docker[] = "application/vnd.docker.image.rootfs.";
    const char *mt = d->media_type;

    if (d->urls.n || strstr(mt, "encrypted") || strstr(mt, "foreign"))
        return false;

    return strncmp(mt, oci, sizeof(oci) - 1) == 0 || strncmp(mt, docker, sizeof(docker) - 1) == 0;
}

/* The verified cache file of blob `d` in *ret_path (new string), after checking that its size
 * is the one `d` declares: the digest proves the bytes, not the size written in the manifest
 * we copy it from. */
static int cached_blob(struct run *run, const struct pf_descriptor *d, char **ret_path)
{
    struct stat st;
    char *path = NULL;
    int r;

    if (d->size < 0) { /* refused by the parser; checked again, as this is our only guard */
        (void)pf_descriptor_check_size(d, 0, run->err, sizeof(run->err));
        return -EBADMSG;
    }
    r = worker_blob_cache_get_max(run->o->blobs, run->o->registry, &run->src, d->digest,
                                  (uint64_t)d->size, &path, run->err, sizeof(run->err));
    if (r == -EFBIG)
        return pf_set_error(run->err, sizeof(run->err), -EBADMSG,
                            "descriptor %s %s declares size %lld but the content is larger "
                            "(download stopped past it)",
                            d->media_type, d->digest, (long long)d->size);
    if (r < 0)
        return r;
    if (stat(path, &st) < 0)
        r = pf_set_error(run->err, sizeof(run->err), -errno, "cannot stat '%s': %s", path,
                         strerror(errno));
    else
        r = pf_descriptor_check_size(d, (uint64_t)st.st_size, run->err, sizeof(run->err));
    if (r < 0) {
        pf_free(path);
        return r;
    }
    *ret_path = path;
    return 0;
}

static int apply_layers(struct run *run, struct plat *p, struct worker_layer_view *view)
{
    char why[512], *path = NULL;
    int fd, r = 0;

    for (size_t i = 0; r == 0 && i < p->mf.n_layers; i++) {
        const struct pf_descriptor *d = &p->mf.layers[i];

        r = check_cancelled(run, "reading the layers");
        if (r < 0)
            break;
        if (!readable_layer(d))
            return pf_set_error(run->err, sizeof(run->err), -ENOTSUP,
                                "layer %s has an unsupported media type '%s'", d->digest,
                                d->media_type);
        r = cached_blob(run, d, &path);
        if (r < 0)
            break;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            r = pf_set_error(run->err, sizeof(run->err), -errno, "cannot open '%s': %s", path,
                             strerror(errno));
        } else {
            r = worker_layer_view_apply_fd(view, fd, why, sizeof(why));
            (void)close(fd);
            if (r < 0 && r != -ENOMEM)
                (void)pf_set_error(run->err, sizeof(run->err), r, "layer %s: %s", d->digest, why);
        }
        path = pf_free(path);
    }
    return r;
}

/* The "unsupported OS" reason: the os-release name when the engine kept the file. */
static int unsupported_os(struct run *run, const struct worker_layer_view *view)
{
    static const char *const files[] = {"etc/os-release", "usr/lib/os-release"};
    struct worker_os_release osr = {0};
    const char *data = NULL, *name = NULL;
    size_t len = 0;
    int r = -ENOENT;

    for (size_t i = 0; r < 0 && i < PF_ARRAY_SIZE(files); i++)
        r = worker_layer_view_read(view, files[i], &data, &len);
    if (r == 0 && worker_os_release_parse(data, len, &osr) == 0)
        name = osr.pretty_name ? osr.pretty_name : osr.id;
    (void)pf_set_error(run->err, sizeof(run->err), -ENOTSUP, "unsupported OS: %s (engine '%s')",
                       name ? name : "no os-release found", run->o->engine->name);
    worker_os_release_release(&osr);
    return -ENOTSUP;
}

/* Runs the engine on the merged view of platform `i`; fills its result entry. */
static int run_engine(struct run *run, size_t i, struct worker_layer_view *view,
                      struct worker_engine_result *ret)
{
    const struct worker_engine *e = run->o->engine;
    struct plat *p = &run->plats[i];
    struct worker_engine_request req = {0};
    char *dir;
    int r;

    r = e->detect(e->ctx, view);
    if (r == 0)
        return unsupported_os(run, view);
    if (r < 0)
        return pf_set_error(run->err, sizeof(run->err), r, "OS detection failed: %s", strerror(-r));
    dir = pf_asprintf("%s/p%zu", run->workdir, i);
    if (!dir)
        return -ENOMEM;
    if (mkdir(dir, 0700) < 0) {
        r = pf_set_error(run->err, sizeof(run->err), -errno, "cannot create '%s': %s", dir,
                         strerror(errno));
        pf_free(dir);
        return r;
    }
    req.view = view;
    req.arch = p->platform.architecture;
    req.variant = p->platform.variant;
    req.workdir = dir;
    req.dry_run = run->o->dry_run;
    req.cancelled = run->o->cancelled;
    req.cancelled_userdata = run->o->cancelled_userdata;
    req.max_package_size = run->o->limits.package;
    req.max_patch_layer_size = run->o->limits.patch_layer;
    r = e->patch(e->ctx, &req, ret, run->err, sizeof(run->err));
    pf_free(dir);
    return r;
}

/* Builds the patched config and manifest of platform `p` from its new layer. */
static int assemble(struct run *run, struct plat *p, const struct worker_patch_platform_result *pr)
{
    const struct pf_raw_manifest *m = src_of(run, p);
    struct pf_descriptor cfg = {0}, layer = {0};
    char *hist;
    int r;

    hist = worker_image_patch_history_text(pr->upgrades, pr->n_upgrades,
                                           WORKER_IMAGE_PATCH_HISTORY_MAX);
    if (!hist)
        return -ENOMEM;
    r = worker_image_patch_config(p->config, p->config_len, p->layer.diff_id, m->digest, hist,
                                  &p->new_config, &p->new_config_len, run->err, sizeof(run->err));
    pf_free(hist);
    if (r == 0)
        r = pf_sha256_digest(p->new_config, p->new_config_len, p->new_config_digest);
    if (r < 0)
        return r;
    cfg.digest = p->new_config_digest;
    cfg.size = (int64_t)p->new_config_len;
    layer.digest = p->layer.digest;
    layer.size = (int64_t)p->layer.size;
    r = worker_image_patch_manifest(m->data, m->len, &cfg, &layer, m->digest, run->job->source,
                                    &p->new_manifest, &p->new_manifest_len, run->err,
                                    sizeof(run->err));
    if (r == 0)
        r = pf_sha256_digest(p->new_manifest, p->new_manifest_len, p->new_manifest_digest);
    if (r == 0)
        p->patched = true;
    return r;
}

/* Fetches and parses platform `p`'s manifest and config (the index case). */
static int load_platform(struct run *run, struct plat *p)
{
    const struct pf_raw_manifest *m;
    char why[256];
    int r;

    if (p->entry) {
        r = pf_registry_get_manifest(run->o->registry, &run->src, p->entry->digest, &p->own,
                                     run->err, sizeof(run->err));
        if (r < 0)
            return r;
        if (p->own.kind != PF_MANIFEST_IMAGE)
            return pf_set_error(run->err, sizeof(run->err), -EINVAL,
                                "index entry %s is not an image manifest", p->entry->digest);
        r = pf_descriptor_check_size(p->entry, p->own.len, run->err, sizeof(run->err));
        if (r < 0)
            return r;
    }
    m = src_of(run, p);
    r = pf_manifest_parse(m->data, m->len, &p->mf, why, sizeof(why));
    if (r < 0)
        return pf_set_error(run->err, sizeof(run->err), r, "manifest %s: %s", m->digest, why);
    if (p->config)
        return 0; /* the single-manifest case, checked in single_config() */
    r = pf_registry_get_blob_mem(run->o->registry, &run->src, p->mf.config.digest, PF_CONFIG_MAX,
                                 &p->config, &p->config_len, run->err, sizeof(run->err));
    if (r == 0)
        r = pf_descriptor_check_size(&p->mf.config, p->config_len, run->err, sizeof(run->err));
    return r;
}

/* The plan cache key of platform `p` (see worker_plan_cache_key()), or NULL (no memory). */
static char *plat_key(const struct run *run, const struct plat *p,
                      const struct worker_patch_platform_result *pr)
{
    const char *engine = run->o->engine->name;

    return p->entry ? worker_plan_cache_key(engine, p->entry->digest, pr->platform)
                    : worker_plan_cache_key(engine, run->top.digest, NULL);
}

/* Dry run: offers the plan just made to the cache. A failure to remember costs only speed. */
static void remember_plan(const struct run *run, const struct plat *p,
                          const struct worker_patch_platform_result *pr)
{
    char *key;

    if (!run->o->plan_cache)
        return;
    key = plat_key(run, p, pr);
    if (!key || worker_plan_cache_put(run->o->plan_cache, key, &p->platform, pr) < 0)
        pf_log(LOG_DEBUG, "%s: plan not cached: out of memory", run->job->source);
    pf_free(key);
}

/* Dry run: answers every selected platform planned before from the cache. Returns the number
 * of platforms still to plan, or -ENOMEM. */
static long cached_plans(struct run *run)
{
    long left = 0;
    int r;

    for (size_t i = 0; i < run->n_plats; i++) {
        struct plat *p = &run->plats[i];
        struct worker_patch_platform_result *pr = &run->res->platforms[i];
        char *key;

        if (p->cached)
            continue;
        r = 0;
        if (run->o->plan_cache) {
            key = plat_key(run, p, pr);
            r = key ? worker_plan_cache_get(run->o->plan_cache, key, pr, NULL) : -ENOMEM;
            pf_free(key);
        }
        if (r < 0)
            return r;
        p->cached = r > 0;
        left += r == 0;
    }
    return left;
}

static int patch_platform(struct run *run, size_t i)
{
    const struct worker_engine *e = run->o->engine;
    struct worker_layer_view_options vo = {0};
    struct worker_patch_platform_result *pr = &run->res->platforms[i];
    struct plat *p = &run->plats[i];
    struct worker_engine_result er = {0};
    struct worker_layer_view *view = NULL;
    int r;

    if (p->cached)
        return 0;
    r = load_platform(run, p);
    if (r < 0)
        return r;
    vo.keep = e->keep;
    vo.keep_userdata = e->ctx;
    vo.max_layer_size = run->o->limits.layer;
    r = worker_layer_view_new(&vo, &view);
    if (r < 0)
        return r;
    r = apply_layers(run, p, view);
    if (r == 0)
        r = run_engine(run, i, view, &er);
    view = worker_layer_view_free(view);
    if (r < 0)
        return r;
    /* Hand the plan to the result whatever happens next: the summary shows it. */
    pr->os = er.os;
    pr->upgrades = er.upgrades;
    pr->n_upgrades = er.n_upgrades;
    p->layer_path = er.layer_path;
    p->layer = er.layer;
    er = (struct worker_engine_result){0};
    if (run->o->dry_run) {
        remember_plan(run, p, pr);
        return 0;
    }
    if (!p->layer_path && pr->n_upgrades == 0)
        return 0;
    if (!p->layer_path)
        return pf_set_error(run->err, sizeof(run->err), -EIO,
                            "engine '%s' planned %zu upgrades but produced no layer", e->name,
                            pr->n_upgrades);
    return assemble(run, p, pr);
}

/* A platform the job asks for that no selected platform matches is a warning, not a failure
 * (the image may simply not be built for it); none matching at all failed in selection. */
static int absent_platforms(struct run *run)
{
    const struct pf_strv *want = &run->job->platforms;
    struct pf_strv absent = PF_STRV_INIT;
    int r = 0;

    for (size_t i = 0; r == 0 && i < want->n; i++) {
        struct pf_platform w = {0};
        bool found = false;

        r = pf_platform_parse(want->v[i], &w);
        if (r < 0)
            break;
        for (size_t k = 0; !found && k < run->n_plats; k++)
            found = pf_platform_match(&w, &run->plats[k].platform);
        pf_platform_release(&w);
        if (!found)
            r = pf_strv_pushf(&absent, "platform %s is not in the image", want->v[i]);
    }
    if (r == 0 && absent.n) {
        run->res->warnings = pf_strv_join(&absent, "; ");
        r = run->res->warnings ? 0 : -ENOMEM;
    }
    pf_strv_clear(&absent);
    return r == -EINVAL ? 0 : r; /* an unparsable platform already failed selection */
}

/* The platforms of one index run on a few threads. Each thread works on a shallow copy of
 * the run with its own error buffer: plats[i] and res->platforms[i] are touched only by the
 * thread that took i, and the workdir subdirectory is per platform. */
struct plat_pool {
    struct run *run;
    pthread_mutex_t lock;
    size_t next;
    atomic_bool failed; /* stop taking platforms after the first failure */
    int first_r;
    long first_i;
    char first_err[ERRLEN];
};

static void *plat_worker(void *arg)
{
    struct plat_pool *pp = arg;

    for (;;) {
        struct run sub = *pp->run;
        size_t i;
        int r;

        (void)pthread_mutex_lock(&pp->lock);
        i = pp->next++;
        (void)pthread_mutex_unlock(&pp->lock);
        if (i >= sub.n_plats || atomic_load(&pp->failed))
            return NULL;
        sub.err[0] = '\0';
        r = check_cancelled(&sub, "patching");
        if (r == 0)
            r = patch_platform(&sub, i);
        if (r == 0)
            continue;
        (void)pthread_mutex_lock(&pp->lock);
        /* Keep the failure of the lowest platform index: the same one every run. */
        if (!atomic_load(&pp->failed) || (long)i < pp->first_i) {
            pp->first_r = r;
            pp->first_i = (long)i;
            memcpy(pp->first_err, sub.err, sizeof(pp->first_err));
        }
        atomic_store(&pp->failed, true);
        (void)pthread_mutex_unlock(&pp->lock);
    }
}

/* Patches every selected platform, up to o->platform_threads at once. Returns 0 or the first
 * failure (reason in run->err, run->failed_plat set). */
static int patch_platforms(struct run *run)
{
    unsigned want = run->o->platform_threads ? run->o->platform_threads
                                             : WORKER_PATCH_PLATFORM_THREADS;
    pthread_t threads[WORKER_PATCH_PLATFORM_THREADS_MAX];
    struct plat_pool *pp;
    size_t n = 0;
    int r;

    if (want > WORKER_PATCH_PLATFORM_THREADS_MAX)
        want = WORKER_PATCH_PLATFORM_THREADS_MAX;
    if (want > run->n_plats)
        want = (unsigned)run->n_plats;
    pp = pf_calloc(1, sizeof(*pp)); /* first_err is large: not on a thread's stack */
    if (!pp)
        return -ENOMEM;
    pp->run = run;
    pp->first_i = -1;
    (void)pthread_mutex_init(&pp->lock, NULL);
    for (; want > 1 && n < want; n++)
        if (pthread_create(&threads[n], NULL, plat_worker, pp) != 0)
            break;
    if (n == 0)
        (void)plat_worker(pp); /* one platform, or no thread could start: run them here */
    for (size_t i = 0; i < n; i++)
        (void)pthread_join(threads[i], NULL);
    (void)pthread_mutex_destroy(&pp->lock);
    r = atomic_load(&pp->failed) ? pp->first_r : 0;
    if (r < 0) {
        run->failed_plat = pp->first_i;
        memcpy(run->err, pp->first_err, sizeof(run->err));
    }
    pf_free(pp);
    return r;
}

/* --- publishing --------------------------------------------------------------------------- */

static bool same_repository(const struct run *run)
{
    return strcmp(run->src.registry, run->dst.registry) == 0 &&
           strcmp(run->src.repository, run->dst.repository) == 0;
}

/* Uploads `len` bytes of `data` or, when data is NULL, the file `path`, unless the target has
 * the blob; tries a mount from the source repository when both are on one registry. */
static int push_blob(struct run *run, const char *digest, const void *data, uint64_t len,
                     const char *path, bool mountable)
{
    struct pf_blob_source s = {data, -1, len, NULL, NULL};
    bool same_reg = strcmp(run->src.registry, run->dst.registry) == 0;
    enum pf_blob_put_result how = PF_BLOB_MOUNTED;
    int r;

    r = pf_registry_blob_exists(run->o->registry, &run->dst, digest, NULL, run->err,
                                sizeof(run->err));
    if (r != 0)
        return r < 0 ? r : 0;
    if (!data) {
        if (!path)
            return -EINVAL; /* neither bytes nor a file: a caller's mistake */
        s.fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s.fd < 0)
            return pf_set_error(run->err, sizeof(run->err), -errno, "cannot open '%s': %s", path,
                                strerror(errno));
    }
    r = pf_registry_put_blob(run->o->registry, &run->dst, digest, &s,
                             mountable && same_reg ? &run->src : NULL, &how, run->err,
                             sizeof(run->err));
    if (s.fd >= 0)
        (void)close(s.fd);
    if (r == 0 && how == PF_BLOB_UPLOADED)
        run->res->bytes_pushed += len;
    return r;
}

/* Pushes platform `p`'s blobs and its manifest by digest. */
static int push_platform(struct run *run, struct plat *p)
{
    char *path = NULL;
    int r = 0;

    for (size_t i = 0; r == 0 && !same_repository(run) && i < p->mf.n_layers; i++) {
        const struct pf_descriptor *d = &p->mf.layers[i];

        r = check_cancelled(run, "pushing the layers");
        if (r == 0)
            r = cached_blob(run, d, &path);
        if (r == 0)
            r = push_blob(run, d->digest, NULL, (uint64_t)d->size, path, true);
        path = pf_free(path);
    }
    if (r == 0)
        r = push_blob(run, p->layer.digest, NULL, p->layer.size, p->layer_path, false);
    if (r == 0)
        r = push_blob(run, p->new_config_digest, p->new_config, p->new_config_len, NULL, false);
    if (r == 0)
        r = pf_registry_put_manifest(run->o->registry, &run->dst, p->new_manifest_digest,
                                     src_of(run, p)->media_type, p->new_manifest,
                                     p->new_manifest_len, NULL, run->err, sizeof(run->err));
    return r;
}

static const struct plat *find_patched(const struct run *run, const char *digest)
{
    for (size_t i = 0; i < run->n_plats; i++)
        if (run->plats[i].patched && run->plats[i].entry &&
            strcmp(run->plats[i].entry->digest, digest) == 0)
            return &run->plats[i];
    return NULL;
}

/* True for the index entries kept unchanged in the output (not dropped, not patched). */
static bool preserved(const struct run *run, const struct pf_descriptor *d)
{
    return !pf_descriptor_is_attestation(d) && !find_patched(run, d->digest);
}

/* Copies the preserved entries to another target repository (R27): the new index must not
 * point at manifests the target lacks. */
static int copy_preserved(struct run *run)
{
    struct pf_copy_options co = {run->workdir};
    struct pf_ref from = {run->src.registry, run->src.repository, NULL, NULL};

    if (!run->is_index || same_repository(run))
        return 0;
    for (size_t i = 0; i < run->ix.n_manifests; i++) {
        const struct pf_descriptor *d = &run->ix.manifests[i];
        int r;

        if (!preserved(run, d))
            continue;
        r = check_cancelled(run, "copying the preserved platforms");
        if (r < 0)
            return r;
        from.digest = d->digest;
        r = pf_copy_image(run->o->registry, &from, &run->dst, &co, NULL, run->err,
                          sizeof(run->err));
        if (r < 0)
            return r;
    }
    return 0;
}

/* Builds the new index (index case) into *ret, swapping in the patched platforms. */
static int build_index(struct run *run, char **ret, size_t *ret_len)
{
    struct worker_image_patch_swap *sw;
    size_t n = 0;
    int r;

    sw = pf_calloc(run->n_plats ? run->n_plats : 1, sizeof(*sw));
    if (!sw)
        return -ENOMEM;
    for (size_t i = 0; i < run->n_plats; i++) {
        const struct plat *p = &run->plats[i];
        if (!p->patched)
            continue;
        sw[n].old_digest = p->entry->digest;
        sw[n].new_digest = p->new_manifest_digest;
        sw[n].new_size = (int64_t)p->new_manifest_len;
        n++;
    }
    r = worker_image_patch_index(run->top.data, run->top.len, sw, n, run->top.digest,
                                 run->job->source, ret, ret_len, run->err, sizeof(run->err));
    pf_free(sw);
    return r;
}

/* What the tag points at: the new index, or the single platform's new manifest. */
struct top_doc {
    char *owned; /* the index; NULL when `data` is borrowed from the plat */
    const char *data;
    size_t len;
    const char *media_type;
    char digest[PF_DIGEST_BUFSZ];
};

static int build_top(struct run *run, struct top_doc *ret)
{
    int r;

    memset(ret, 0, sizeof(*ret));
    ret->media_type = run->top.media_type;
    if (!run->is_index) {
        ret->data = run->plats[0].new_manifest;
        ret->len = run->plats[0].new_manifest_len;
        memcpy(ret->digest, run->plats[0].new_manifest_digest, PF_DIGEST_BUFSZ);
        return 0;
    }
    r = build_index(run, &ret->owned, &ret->len);
    if (r == 0)
        r = pf_sha256_digest(ret->owned, ret->len, ret->digest);
    ret->data = ret->owned;
    return r;
}

/* Never overwrite a tag (Copa's tag versioning): checked right before the tag put, so a tag
 * that appeared after the listing (another run, a listing that failed) is still kept. */
static int refuse_existing(struct run *run)
{
    char digest[PF_DIGEST_BUFSZ], why[256] = "";
    int r;

    r = pf_registry_head_manifest(run->o->registry, &run->dst, run->job->target_tag, digest, NULL,
                                  NULL, why, sizeof(why));
    if (r == 0)
        return pf_set_error(run->err, sizeof(run->err), -EEXIST,
                            "target tag %s:%s exists already (%s): not overwritten",
                            run->job->target_repo, run->job->target_tag, digest);
    if (r == -ENOENT)
        return 0;
    return pf_set_error(run->err, sizeof(run->err), r,
                        "cannot check whether %s:%s exists (%s): not pushing, so as never to "
                        "overwrite it",
                        run->job->target_repo, run->job->target_tag, why[0] ? why : strerror(-r));
}

/* True when the newest patched tag (o->unchanged_tag) already holds exactly `top`: pushing
 * again would only mint a new tag for identical content (R13). A failed check is "changed". */
static bool unchanged(struct run *run, const struct top_doc *top)
{
    char digest[PF_DIGEST_BUFSZ], why[256] = "";
    int r;

    if (!run->o->push || !run->o->unchanged_tag)
        return false;
    r = pf_registry_head_manifest(run->o->registry, &run->dst, run->o->unchanged_tag, digest, NULL,
                                  NULL, why, sizeof(why));
    if (r < 0) {
        pf_log(LOG_DEBUG, "%s: cannot read %s:%s: %s", run->job->source, run->job->target_repo,
               run->o->unchanged_tag, why[0] ? why : strerror(-r));
        return false;
    }
    return strcmp(digest, top->digest) == 0;
}

/* The index we push keeps the preserved entries' descriptors as the source wrote them: each
 * one's size is checked against what the source registry serves (HEAD), read or not. */
static int check_preserved_sizes(struct run *run)
{
    char digest[PF_DIGEST_BUFSZ];
    uint64_t size;
    int r;

    for (size_t i = 0; run->is_index && i < run->ix.n_manifests; i++) {
        const struct pf_descriptor *d = &run->ix.manifests[i];

        if (!preserved(run, d))
            continue;
        size = 0;
        r = pf_registry_head_manifest(run->o->registry, &run->src, d->digest, digest, NULL, &size,
                                      run->err, sizeof(run->err));
        if (r == 0 && size != PF_REGISTRY_SIZE_UNKNOWN)
            r = pf_descriptor_check_size(d, size, run->err, sizeof(run->err));
        if (r < 0)
            return r;
    }
    return 0;
}

static int publish_registry(struct run *run, const struct top_doc *top)
{
    int r = check_preserved_sizes(run);

    for (size_t i = 0; r == 0 && i < run->n_plats; i++)
        if (run->plats[i].patched)
            r = push_platform(run, &run->plats[i]);
    if (r == 0)
        r = copy_preserved(run);
    if (r == 0 && run->is_index)
        r = pf_registry_put_manifest(run->o->registry, &run->dst, top->digest, top->media_type,
                                     top->data, top->len, NULL, run->err, sizeof(run->err));
    if (r == 0)
        r = check_cancelled(run, "tagging");
    if (r == 0 && run->o->no_overwrite)
        r = refuse_existing(run);
    if (r == 0 && run->o->before_tag) {
        r = run->o->before_tag(run->o->cancelled_userdata, run->job->target_tag);
        if (r < 0)
            r = pf_set_error(run->err, sizeof(run->err), r,
                             "cannot record the push of %s:%s before tagging it: %s",
                             run->job->target_repo, run->job->target_tag, strerror(-r));
    }
    if (r == 0)
        r = pf_registry_put_manifest(run->o->registry, &run->dst, run->job->target_tag,
                                     top->media_type, top->data, top->len, NULL, run->err,
                                     sizeof(run->err));
    return r;
}

/* Copies the cached blob `d` into the layout. */
static int oci_put_cached(struct run *run, const struct pf_descriptor *d)
{
    const char *digest = d->digest;
    char *path = NULL;
    int fd, r;

    r = cached_blob(run, d, &path);
    if (r < 0)
        return r;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        r = pf_set_error(run->err, sizeof(run->err), -errno, "cannot open '%s': %s", path,
                         strerror(errno));
    } else {
        r = pf_oci_layout_put_blob_fd(run->o->oci_dir, digest, fd, NULL, run->err,
                                      sizeof(run->err));
        (void)close(fd);
    }
    pf_free(path);
    return r;
}

static int oci_put_platform(struct run *run, const struct plat *p)
{
    const char *dir = run->o->oci_dir;
    int fd, r = 0;

    for (size_t i = 0; r == 0 && i < p->mf.n_layers; i++)
        r = oci_put_cached(run, &p->mf.layers[i]);
    if (r < 0)
        return r;
    fd = open(p->layer_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pf_set_error(run->err, sizeof(run->err), -errno, "cannot open '%s': %s",
                            p->layer_path, strerror(errno));
    r = pf_oci_layout_put_blob_fd(dir, p->layer.digest, fd, NULL, run->err, sizeof(run->err));
    (void)close(fd);
    if (r == 0)
        r = pf_oci_layout_put_blob(dir, p->new_config_digest, p->new_config, p->new_config_len,
                                   NULL, run->err, sizeof(run->err));
    if (r == 0)
        r = pf_oci_layout_put_blob(dir, p->new_manifest_digest, p->new_manifest,
                                   p->new_manifest_len, NULL, run->err, sizeof(run->err));
    return r;
}

/* Writes a preserved index entry (manifest, config, layers) into the layout, so the layout
 * holds a complete image (R30). */
static int oci_put_preserved(struct run *run, const struct pf_descriptor *d)
{
    struct pf_raw_manifest m = {0};
    struct pf_manifest mf;
    char why[256];
    int r;

    r = pf_registry_get_manifest(run->o->registry, &run->src, d->digest, &m, run->err,
                                 sizeof(run->err));
    if (r < 0)
        return r;
    if (m.kind != PF_MANIFEST_IMAGE) {
        r = pf_set_error(run->err, sizeof(run->err), -ENOTSUP,
                         "index entry %s is a nested index: not supported in an OCI layout",
                         d->digest);
        goto out;
    }
    r = pf_descriptor_check_size(d, m.len, run->err, sizeof(run->err));
    if (r < 0)
        goto out;
    r = pf_manifest_parse(m.data, m.len, &mf, why, sizeof(why));
    if (r < 0) {
        (void)pf_set_error(run->err, sizeof(run->err), r, "manifest %s: %s", d->digest, why);
        goto out;
    }
    r = oci_put_cached(run, &mf.config);
    for (size_t i = 0; r == 0 && i < mf.n_layers; i++)
        r = mf.layers[i].urls.n ? 0 : oci_put_cached(run, &mf.layers[i]);
    pf_manifest_release(&mf);
    if (r == 0)
        r = pf_oci_layout_put_blob(run->o->oci_dir, d->digest, m.data, m.len, NULL, run->err,
                                   sizeof(run->err));
out:
    pf_raw_manifest_release(&m);
    return r;
}

static int publish_oci(struct run *run, const struct top_doc *top)
{
    const char *dir = run->o->oci_dir;
    struct pf_descriptor desc = {0};
    char *ref;
    int r;

    r = pf_oci_layout_init(dir, run->err, sizeof(run->err));
    for (size_t i = 0; r == 0 && i < run->n_plats; i++)
        if (run->plats[i].patched)
            r = oci_put_platform(run, &run->plats[i]);
    for (size_t i = 0; r == 0 && run->is_index && i < run->ix.n_manifests; i++) {
        const struct pf_descriptor *d = &run->ix.manifests[i];
        if (preserved(run, d))
            r = oci_put_preserved(run, d);
        if (r == 0)
            r = check_cancelled(run, "writing the OCI layout");
    }
    if (r == 0)
        r = pf_oci_layout_put_blob(dir, top->digest, top->data, top->len, NULL, run->err,
                                   sizeof(run->err));
    if (r == 0)
        r = check_cancelled(run, "adding the OCI layout reference");
    if (r < 0)
        return r;
    /* pf_descriptor holds mutable strings: give it copies rather than cast const away. */
    desc.media_type = pf_strdup(top->media_type);
    desc.digest = pf_strdup(top->digest);
    desc.size = (int64_t)top->len;
    if (!run->is_index)
        desc.platform = &run->plats[0].platform;
    ref = pf_asprintf("%s:%s", run->job->target_repo, run->job->target_tag);
    r = desc.media_type && desc.digest && ref
            ? pf_oci_layout_add_ref(dir, &desc, ref, run->err, sizeof(run->err))
            : -ENOMEM;
    pf_free(desc.media_type);
    pf_free(desc.digest);
    pf_free(ref);
    return r;
}

/* --- the job ------------------------------------------------------------------------------ */

/* Publishes the patched image wherever the options say; sets patched_ref and patched_digest. */
static int publish(struct run *run)
{
    const struct worker_patch_job_options *o = run->o;
    struct worker_patch_job_result *res = run->res;
    struct top_doc top;
    bool same;
    int r;

    if (!o->push && !o->oci_dir)
        return pf_set_error(run->err, sizeof(run->err), -EINVAL,
                            "the patched image has nowhere to go: neither push nor an OCI "
                            "layout was asked for");
    r = build_top(run, &top);
    same = r == 0 && unchanged(run, &top);
    if (same && o->own_tag && strcmp(o->own_tag, o->unchanged_tag) == 0) {
        /* An earlier attempt of this job pushed this very image to this tag and died before
         * its result: the run's row is what that attempt would have said. */
        res->status = PF_STATUS_PATCHED;
        res->patched_ref = pf_asprintf("%s:%s", run->job->target_repo, o->own_tag);
        res->patched_digest = pf_strdup(top.digest);
        pf_free(top.owned);
        return res->patched_ref && res->patched_digest ? 0 : -ENOMEM;
    }
    if (same) {
        res->status = PF_STATUS_SKIPPED;
        res->details = pf_asprintf("unchanged since %s", o->unchanged_tag);
        res->patched_ref = pf_asprintf("%s:%s", run->job->target_repo, o->unchanged_tag);
        res->patched_digest = pf_strdup(top.digest);
        pf_free(top.owned);
        return res->details && res->patched_ref && res->patched_digest ? 0 : -ENOMEM;
    }
    if (r == 0 && o->push)
        r = publish_registry(run, &top);
    if (r == 0 && o->oci_dir)
        r = publish_oci(run, &top);
    if (r == 0) {
        res->status = PF_STATUS_PATCHED;
        res->patched_ref = o->push
                               ? pf_asprintf("%s:%s", run->job->target_repo, run->job->target_tag)
                               : pf_asprintf("oci:%s:%s:%s", o->oci_dir, run->job->target_repo,
                                             run->job->target_tag);
        res->patched_digest = pf_strdup(top.digest);
        if (!res->patched_ref || !res->patched_digest)
            r = -ENOMEM;
    }
    pf_free(top.owned);
    return r;
}

/* One summary line: "3 upgraded", or per platform when there are several. */
static char *summarise(const struct worker_patch_job_result *res, const char *verb)
{
    struct pf_buf b;
    int r = 0;

    pf_buf_init(&b, 512);
    if (res->n_platforms == 1)
        r = pf_buf_appendf(&b, "%zu %s", res->platforms[0].n_upgrades, verb);
    for (size_t i = 0; r == 0 && res->n_platforms > 1 && i < res->n_platforms; i++) {
        const struct worker_patch_platform_result *p = &res->platforms[i];
        r = p->n_upgrades ? pf_buf_appendf(&b, "%s%s: %zu %s", i ? ", " : "", p->platform,
                                           p->n_upgrades, verb)
                          : pf_buf_appendf(&b, "%s%s: up to date", i ? ", " : "", p->platform);
    }
    if (r == -E2BIG)
        r = 0; /* a long line is cut, not lost: the per-platform results hold everything */
    if (r < 0) {
        pf_buf_release(&b);
        return NULL;
    }
    return pf_buf_steal(&b, NULL);
}

static int make_workdir(struct run *run)
{
    char *d = pf_asprintf("%s/job-XXXXXX", run->o->work_root);

    if (!d)
        return -ENOMEM;
    if (!mkdtemp(d)) {
        int r = pf_set_error(run->err, sizeof(run->err), -errno,
                             "cannot create a work directory in '%s': %s", run->o->work_root,
                             strerror(errno));
        pf_free(d);
        return r;
    }
    run->workdir = d;
    return 0;
}

static int parse_refs(struct run *run)
{
    const struct pf_job *job = run->job;
    char why[256];
    int r;

    r = pf_ref_parse(job->source, &run->src, why, sizeof(why));
    if (r == 0 && !run->src.tag && !run->src.digest)
        r = pf_set_error(why, sizeof(why), -EINVAL, "no tag or digest");
    if (r < 0)
        return pf_set_error(run->err, sizeof(run->err), r, "source '%s': %s", job->source, why);
    r = pf_ref_parse_repository(job->target_repo, &run->dst, why, sizeof(why));
    if (r < 0)
        return pf_set_error(run->err, sizeof(run->err), r, "target '%s': %s", job->target_repo,
                            why);
    if (!job->target_tag || !pf_tag_is_valid(job->target_tag))
        return pf_set_error(run->err, sizeof(run->err), -EINVAL, "invalid target tag '%s'",
                            job->target_tag ? job->target_tag : "(null)");
    return 0;
}

/* The number of package changes planned across every platform of the result. */
static size_t count_upgrades(const struct worker_patch_job_result *res)
{
    size_t n = 0;

    for (size_t i = 0; i < res->n_platforms; i++)
        n += res->platforms[i].n_upgrades;
    return n;
}

/* Runs the three phases. Returns 0 with the status set, or a negative errno with the reason
 * in run->err (and run->failed_plat naming the platform, when one is to blame). */
static int run_phases(struct run *run)
{
    const struct worker_patch_job_options *o = run->o;
    struct worker_patch_job_result *res = run->res;
    size_t patched = 0;
    int r;

    if (!o->engine || !o->registry || !o->blobs || !o->work_root)
        return pf_set_error(run->err, sizeof(run->err), -EINVAL,
                            "job runner options lack an engine, registry, blob cache or work root");
    r = parse_refs(run);
    if (r == 0 && !o->dry_run)
        r = make_workdir(run); /* a dry run makes one only when a platform needs the engine */
    if (r == 0)
        r = check_cancelled(run, "fetching the source");
    if (r == 0)
        r = pf_registry_get_manifest(o->registry, &run->src, NULL, &run->top, run->err,
                                     sizeof(run->err));
    if (r < 0)
        return r;
    res->source_digest = pf_strdup(run->top.digest);
    if (!res->source_digest)
        return -ENOMEM;
    r = run->top.kind == PF_MANIFEST_INDEX ? select_index(run) : select_single(run);
    if (r == 0)
        r = absent_platforms(run);
    if (r == 0 && o->dry_run) {
        long left = cached_plans(run);

        r = left < 0 ? (int)left : left > 0 ? make_workdir(run) : 0;
    }
    if (r == 0)
        r = patch_platforms(run);
    if (r < 0)
        return r;
    for (size_t i = 0; i < run->n_plats; i++)
        if (run->plats[i].patched)
            patched++;
    if (o->dry_run && count_upgrades(res) > 0) {
        res->status = PF_STATUS_PLANNED;
        res->details = summarise(res, "to upgrade");
    } else if (patched == 0 || o->dry_run) {
        res->status = PF_STATUS_UP_TO_DATE;
        res->details = pf_strdup("up to date");
    } else {
        r = publish(run);
        if (r < 0)
            return r;
        if (res->status == PF_STATUS_PATCHED)
            res->details = summarise(res, "upgraded");
    }
    return res->details ? 0 : -ENOMEM;
}

/* Turns a failed run into its result: Cancelled or Failed, with a details line that names
 * the image and, when one is to blame, the platform. */
static int set_failure(struct run *run, int r)
{
    struct worker_patch_job_result *res = run->res;
    const char *plat = NULL;

    if (!run->err[0])
        (void)snprintf(run->err, sizeof(run->err), "%s", strerror(-r));
    if (run->failed_plat >= 0) {
        struct worker_patch_platform_result *p = &res->platforms[run->failed_plat];
        plat = p->platform;
        p->error = pf_strdup(run->err);
        if (!p->error)
            return -ENOMEM;
    }
    res->status = r == -ECANCELED || cancelled(run) ? PF_STATUS_CANCELLED : PF_STATUS_FAILED;
    res->details = pf_asprintf("%s%s%s: %s", run->job->source ? run->job->source : "(no source)",
                               plat ? " " : "", plat ? plat : "", run->err);
    res->patched_ref = pf_free(res->patched_ref);
    res->patched_digest = pf_free(res->patched_digest);
    return res->details ? 0 : -ENOMEM;
}

int worker_size_parse(const char *s, uint64_t *ret)
{
    static const struct {
        const char *suffix;
        unsigned shift;
    } units[] = {{"", 0},   {"K", 10},   {"KiB", 10}, {"M", 20},  {"MiB", 20},
                 {"G", 30}, {"GiB", 30}, {"T", 40},   {"TiB", 40}};
    uint64_t v = 0;
    const char *p = s;

    if (!s || *p < '0' || *p > '9')
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return -EINVAL;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    for (size_t i = 0; i < PF_ARRAY_SIZE(units); i++)
        if (strcmp(p, units[i].suffix) == 0) {
            if (v == 0 || v > (UINT64_MAX >> units[i].shift))
                return -EINVAL;
            *ret = v << units[i].shift;
            return 0;
        }
    return -EINVAL;
}

int worker_patch_job_run(const struct worker_patch_job_options *o, const struct pf_job *job,
                         struct worker_patch_job_result *ret)
{
    struct worker_patch_job_result res = {0};
    struct run run;
    int r;

    memset(&run, 0, sizeof(run));
    run.o = o;
    run.job = job;
    run.res = &res;
    run.failed_plat = -1;
    r = run_phases(&run);
    if (r < 0 && r != -ENOMEM)
        r = set_failure(&run, r);
    if (run.workdir)
        remove_tree(run.workdir);
    for (size_t i = 0; i < run.n_plats; i++)
        plat_release(&run.plats[i]);
    pf_free(run.plats);
    pf_index_release(&run.ix);
    pf_raw_manifest_release(&run.top);
    pf_ref_release(&run.src);
    pf_ref_release(&run.dst);
    pf_free(run.workdir);
    if (r < 0) {
        worker_patch_job_result_release(&res);
        return -ENOMEM;
    }
    pf_log(LOG_INFO, "%s: %s, %s", job->source, pf_status_to_string(res.status), res.details);
    *ret = res;
    return 0;
}
