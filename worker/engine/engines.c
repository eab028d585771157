/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The composite engine. Detection order matters only for images that look like two distros at
 * once (a Debian image with an apk database copied in); Debian comes first because its
 * detection needs both os-release and a dpkg database.
 */
#include "pf/setup.h"

#include <string.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "apk/apk_engine.h"
#include "deb/deb_engine.h"
#include "engine/engines.h"
#include "engine/index_freshness.h"

#define MAX_ENGINES 4

struct engines {
    struct worker_engine engine;
    struct worker_engine *member[MAX_ENGINES];
    struct worker_engine *(*free_member[MAX_ENGINES])(struct worker_engine *e);
    size_t n;
    struct worker_index_freshness *freshness; /* shared by every engine */
};

static bool engines_keep(const char *path, void *userdata)
{
    const struct engines *s = userdata;

    for (size_t i = 0; i < s->n; i++)
        if (s->member[i]->keep(path, s->member[i]->ctx))
            return true;
    return false;
}

static const struct worker_engine *pick(const struct engines *s,
                                        const struct worker_layer_view *view)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->member[i]->detect(s->member[i]->ctx, view) > 0)
            return s->member[i];
    return NULL;
}

static int engines_detect(void *ctx, const struct worker_layer_view *view)
{
    return pick(ctx, view) ? 1 : 0;
}

static int engines_patch(void *ctx, const struct worker_engine_request *req,
                         struct worker_engine_result *ret, char *errbuf, size_t errlen)
{
    const struct worker_engine *e = pick(ctx, req->view);

    if (!e)
        return pf_set_error(errbuf, errlen, -ENOTSUP,
                            "no engine recognises the image (supported: Debian, Ubuntu, Alpine)");
    return e->patch(e->ctx, req, ret, errbuf, errlen);
}

int worker_engines_new(const struct worker_engines_options *o, struct worker_engine **ret,
                       char *errbuf, size_t errlen)
{
    struct engines *s;
    char *deb_cache = NULL, *apk_cache = NULL;
    int r;

    if (!o || !o->cache_dir)
        return pf_set_error(errbuf, errlen, -EINVAL, "the engines need a cache directory");
    s = pf_calloc(1, sizeof(*s));
    deb_cache = pf_asprintf("%s/deb", o->cache_dir);
    apk_cache = pf_asprintf("%s/apk", o->cache_dir);
    if (!s || !deb_cache || !apk_cache) {
        r = -ENOMEM;
        goto fail;
    }
    /* One memory of index dates for every engine: the keys say which engine's repository. */
    r = worker_index_freshness_open(o->cache_dir, o->allow_index_rollback, &s->freshness, errbuf,
                                    errlen);
    if (r < 0)
        goto fail;
    r = worker_deb_engine_new(&(struct worker_deb_engine_options){.cache_dir = deb_cache,
                                                                  .mirrors = o->mirrors,
                                                                  .default_keyring = o->keyring,
                                                                  .ca_file = o->ca_file,
                                                                  .freshness = s->freshness},
                              &s->member[s->n], errbuf, errlen);
    if (r < 0)
        goto fail;
    s->free_member[s->n++] = worker_deb_engine_free;
    r = worker_apk_engine_new(&(struct worker_apk_engine_options){.cache_dir = apk_cache,
                                                                  .mirrors = o->mirrors,
                                                                  .keys_dir = o->apk_keys_dir,
                                                                  .ca_file = o->ca_file,
                                                                  .freshness = s->freshness},
                              &s->member[s->n], errbuf, errlen);
    if (r < 0)
        goto fail;
    s->free_member[s->n++] = worker_apk_engine_free;
    pf_free(deb_cache);
    pf_free(apk_cache);
    s->engine = (struct worker_engine){
        .name = "composite",
        .ctx = s,
        .keep = engines_keep,
        .detect = engines_detect,
        .patch = engines_patch,
    };
    *ret = &s->engine;
    return 0;
fail:
    pf_free(deb_cache);
    pf_free(apk_cache);
    if (s)
        worker_engines_free(&s->engine);
    return r;
}

struct worker_engine *worker_engines_free(struct worker_engine *e)
{
    struct engines *s = (struct engines *)(void *)e;

    if (!s)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        s->free_member[i](s->member[i]);
    worker_index_freshness_free(s->freshness);
    pf_free(s);
    return NULL;
}
