/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config → jobs. For each image entry: normalise the source repository, name the target
 * repository, ask the catalog for tags, select (pf/tags.h), render the tag template, and
 * refuse a job whose target "repo:tag" another job already claimed (two sources must never
 * race to push the same tag, Copa's R10 gap). Discovery problems become failures or
 * warnings that name the entry, never silent drops.
 */
#include "pf/setup.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/hashmap.h"
#include "pf/strv.h"
#include "pf/tags.h"
#include "pf/template.h"
#include "producer/plan.h"

/* The target references claimed so far, to find collisions in O(1) per job: "repo:tag" (one
 * string per pair, since a valid tag holds no ':') -> index into plan->jobs. The map borrows
 * its keys from `keys`. */
struct target_set {
    struct pf_hashmap m;
    struct pf_strv keys;
};

/* Looks up repo:tag; returns the index of the job that has it, or -1 after inserting `job`. */
static long target_set_claim(struct target_set *s, const struct pf_job *jobs, size_t job)
{
    char *key = pf_asprintf("%s:%s", jobs[job].target_repo, jobs[job].target_tag);
    struct pf_hashmap_slot *hs;

    if (!key)
        return -2;
    hs = pf_hashmap_find(&s->m, key);
    if (hs) {
        pf_free(key);
        return (long)(uintptr_t)hs->value;
    }
    if (pf_strv_push_take(&s->keys, key) < 0 ||
        pf_hashmap_add(&s->m, key, (void *)(uintptr_t)job) < 0)
        return -2;
    return -1;
}

static int add_failure(struct producer_plan *plan, const char *name, const char *source,
                       const char *fmt, ...) PF_PRINTF(4, 5);

static int add_failure(struct producer_plan *plan, const char *name, const char *source,
                       const char *fmt, ...)
{
    struct producer_plan_failure *v, *f;
    va_list ap;

    v = pf_realloc(plan->failures, (plan->n_failures + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    plan->failures = v;
    f = &v[plan->n_failures];
    memset(f, 0, sizeof(*f));
    va_start(ap, fmt);
    f->reason = pf_vasprintf(fmt, ap);
    va_end(ap);
    f->name = pf_strdup(name ? name : "");
    f->source = pf_strdup(source ? source : "");
    plan->n_failures++; /* counted even when half-built, so release frees what exists */
    return f->reason && f->name && f->source ? 0 : -ENOMEM;
}

struct created_adapter {
    const struct producer_catalog *catalog;
    const struct pf_ref *repo;
};

static int created_of_tag(const char *tag, int64_t *ret, void *userdata)
{
    const struct created_adapter *a = userdata;
    struct pf_ref ref = *a->repo;
    char err[256];

    ref.tag = (char *)(uintptr_t)tag; /* borrowed for the call only; ref is never released */
    ref.digest = NULL;
    return a->catalog->created(a->catalog->userdata, &ref, ret, err, sizeof(err));
}

static int push_job(struct producer_plan *plan, const struct pf_image_spec *img,
                    const struct pf_ref *source_repo, const struct pf_ref *target_repo,
                    const char *tag, char *rendered_tag, size_t *cap)
{
    struct pf_job *job;
    struct pf_ref src = *source_repo;

    if (PF_GROW(plan->jobs, *cap, plan->n_jobs + 1) < 0) {
        pf_free(rendered_tag);
        return -ENOMEM;
    }
    job = &plan->jobs[plan->n_jobs++];
    memset(job, 0, sizeof(*job));
    job->target_tag = rendered_tag;
    src.tag = (char *)(uintptr_t)tag; /* borrowed for pf_ref_to_string only */
    job->name = pf_strdup(img->name);
    job->source = pf_ref_to_string(&src);
    job->source_tag = pf_strdup(tag);
    job->target_repo = pf_ref_repository_string(target_repo);
    if (!job->target_tag || !job->name || !job->source || !job->source_tag || !job->target_repo)
        return -ENOMEM;
    return pf_strv_extend(&job->platforms, &img->platforms);
}

static int plan_image(const struct pf_config *cfg, const struct pf_image_spec *img,
                      const struct producer_catalog *catalog, struct producer_plan *plan,
                      struct target_set *targets, size_t *cap)
{
    struct pf_ref source = {0}, target_repo = {0};
    struct pf_tag_selection sel = {0};
    struct pf_strv available = PF_STRV_INIT;
    struct created_adapter adapter;
    struct pf_target target;
    char *repo_str = NULL;
    bool have_available = false;
    char err[512] = "";
    int r;

    pf_config_effective_target(cfg, img, &target);
    r = pf_ref_parse_repository(img->image, &source, err, sizeof(err));
    if (r < 0) {
        r = r == -ENOMEM ? r : add_failure(plan, img->name, img->image, "%s", err);
        goto out;
    }
    repo_str = pf_ref_repository_string(&source);
    if (!repo_str) {
        r = -ENOMEM;
        goto out;
    }
    r = pf_ref_target_repository(&source, &target, &target_repo, err, sizeof(err));
    if (r < 0) {
        r = r == -ENOMEM ? r : add_failure(plan, img->name, repo_str, "%s", err);
        goto out;
    }

    r = catalog->list_tags(catalog->userdata, &source, &available, err, sizeof(err));
    if (r == -ENOMEM)
        goto out;
    /* Credentials that were offered and refused (-EKEYREJECTED) fail the entry whatever the
     * strategy: the pulls would be refused too, and a warning would let a mistyped password
     * pass as exit 0. */
    if (r < 0 && (img->tags.strategy != PF_STRATEGY_LIST || r == -EKEYREJECTED)) {
        r = add_failure(plan, img->name, repo_str, "cannot list tags: %s", err);
        goto out;
    }
    if (r < 0) {
        /* A list names its tags; without the repository's tag list we cannot confirm they
         * exist, so the jobs go ahead and fail on their own if a tag is missing. Some
         * registries refuse anonymous tag listing yet serve anonymous pulls, so an anonymous
         * 401 (-EACCES) stays a warning. */
        r = pf_strv_pushf(&plan->warnings,
                          "image '%s': cannot list tags of '%s' (%s); using the list as written",
                          img->name, repo_str, err);
        if (r < 0)
            goto out;
    } else {
        have_available = true;
    }

    adapter = (struct created_adapter){.catalog = catalog, .repo = &source};
    r = pf_tags_select(&img->tags, have_available ? &available : NULL,
                       catalog->created ? created_of_tag : NULL, &adapter, &sel);
    for (size_t i = 0; r != -ENOMEM && i < sel.warnings.n; i++)
        if (pf_strv_pushf(&plan->warnings, "image '%s': %s", img->name, sel.warnings.v[i]) < 0)
            r = -ENOMEM;
    if (r < 0) {
        if (r != -ENOMEM)
            r = add_failure(plan, img->name, repo_str, "tag selection failed");
        goto out;
    }

    for (size_t i = 0; i < sel.tags.n; i++) {
        char *rendered = NULL;
        long other;

        r = pf_template_render(target.tag, sel.tags.v[i], &rendered, err, sizeof(err));
        if (r == -ENOMEM)
            goto out;
        if (r < 0) {
            r = add_failure(plan, img->name, repo_str, "tag '%s': %s", sel.tags.v[i], err);
            if (r < 0)
                goto out;
            continue;
        }
        r = push_job(plan, img, &source, &target_repo, sel.tags.v[i], rendered, cap);
        if (r < 0)
            goto out;
        other = target_set_claim(targets, plan->jobs, plan->n_jobs - 1);
        if (other == -2) {
            r = -ENOMEM;
            goto out;
        }
        if (other >= 0) {
            struct pf_job dup = plan->jobs[--plan->n_jobs];
            r = add_failure(plan, dup.name, dup.source,
                            "target '%s:%s' is already the target of image '%s' (%s)",
                            dup.target_repo, dup.target_tag, plan->jobs[other].name,
                            plan->jobs[other].source);
            pf_job_release(&dup);
            if (r < 0)
                goto out;
        }
    }
    r = 0;
out:
    pf_tag_selection_release(&sel);
    pf_strv_clear(&available);
    pf_ref_release(&source);
    pf_ref_release(&target_repo);
    pf_free(repo_str);
    return r;
}

int producer_plan_build(const struct pf_config *cfg, const struct producer_catalog *catalog,
                        struct producer_plan *ret)
{
    struct target_set targets = {PF_HASHMAP_INIT, PF_STRV_INIT};
    size_t cap = 0;
    int r = 0;

    for (size_t i = 0; i < cfg->n_images; i++) {
        r = plan_image(cfg, &cfg->images[i], catalog, ret, &targets, &cap);
        if (r < 0)
            break;
    }
    pf_hashmap_release(&targets.m);
    pf_strv_clear(&targets.keys);
    return r;
}

void producer_plan_release(struct producer_plan *plan)
{
    for (size_t i = 0; i < plan->n_jobs; i++)
        pf_job_release(&plan->jobs[i]);
    pf_free(plan->jobs);
    for (size_t i = 0; i < plan->n_failures; i++) {
        pf_free(plan->failures[i].name);
        pf_free(plan->failures[i].source);
        pf_free(plan->failures[i].reason);
    }
    pf_free(plan->failures);
    pf_strv_clear(&plan->warnings);
    memset(plan, 0, sizeof(*plan));
}
