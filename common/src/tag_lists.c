/* SPDX-License-Identifier: Apache-2.0 */
/* One tag listing per target repository and run (see pf/tag_lists.h). */
#include "pf/setup.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pf/alloc.h"
#include "pf/log.h"
#include "pf/ref.h"
#include "pf/registry.h"
#include "pf/strv.h"
#include "pf/tag_lists.h"

#define WAIT_SLICE_NS 100000000L /* a waiter checks its own stop callback this often */

struct listing {
    struct listing *next; /* bucket chain */
    char *repo;
    bool ready;           /* false while the first caller lists */
    int r;                /* 0, or the listing's error */
    struct pf_strv tags;
    char *why;            /* the error's reason */
};

struct pf_tag_lists {
    pthread_mutex_t lock;
    pthread_cond_t ready; /* broadcast when a listing is settled or abandoned */
    struct listing **buckets;
    size_t n_buckets;     /* a power of two */
    size_t n;
    unsigned long made;
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    (void)nanosleep(&ts, NULL);
}

int pf_tag_lists_fetch(struct pf_registry *reg, const char *target_repo,
                       pf_tag_lists_stop_fn stop, void *userdata, struct pf_strv *ret,
                       char *errbuf, size_t errlen)
{
    struct pf_ref repo = {0};
    int r;

    r = pf_ref_parse_repository(target_repo, &repo, errbuf, errlen);
    for (int attempt = 0; r == 0 && attempt < PF_TAG_LISTS_ATTEMPTS; attempt++) {
        if (attempt)
            sleep_ms(500L * attempt);
        pf_strv_clear(ret);
        r = pf_registry_list_tags(reg, &repo, ret, errbuf, errlen);
        if (r == -ENOENT) {
            pf_strv_clear(ret);
            r = 0;
        }
        if (r >= 0) {
            r = 0;
            break;
        }
        if (r == -ENOMEM || (stop && stop(userdata)))
            break;
        pf_log(LOG_DEBUG, "listing the tags of %s failed (attempt %d): %s", target_repo,
               attempt + 1, errbuf);
        r = attempt + 1 < PF_TAG_LISTS_ATTEMPTS ? 0 : r;
    }
    pf_ref_release(&repo);
    return r;
}

static uint64_t hash_repo(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct listing *listing_free(struct listing *e)
{
    if (e) {
        pf_free(e->repo);
        pf_strv_clear(&e->tags);
        pf_free(e->why);
        pf_free(e);
    }
    return NULL;
}

int pf_tag_lists_new(struct pf_tag_lists **ret)
{
    struct pf_tag_lists *l = pf_calloc(1, sizeof(*l));

    if (!l)
        return -ENOMEM;
    l->n_buckets = 64;
    l->buckets = pf_calloc(l->n_buckets, sizeof(*l->buckets));
    if (!l->buckets) {
        pf_free(l);
        return -ENOMEM;
    }
    (void)pthread_mutex_init(&l->lock, NULL);
    (void)pthread_cond_init(&l->ready, NULL);
    *ret = l;
    return 0;
}

struct pf_tag_lists *pf_tag_lists_free(struct pf_tag_lists *l)
{
    if (!l)
        return NULL;
    for (size_t i = 0; i < l->n_buckets; i++)
        for (struct listing *e = l->buckets[i], *next; e; e = next) {
            next = e->next;
            listing_free(e);
        }
    pf_free(l->buckets);
    (void)pthread_cond_destroy(&l->ready);
    (void)pthread_mutex_destroy(&l->lock);
    pf_free(l);
    return NULL;
}

unsigned long pf_tag_lists_made(struct pf_tag_lists *l)
{
    unsigned long n;

    (void)pthread_mutex_lock(&l->lock);
    n = l->made;
    (void)pthread_mutex_unlock(&l->lock);
    return n;
}

/* Locked. */
static struct listing **find_slot(struct pf_tag_lists *l, const char *repo)
{
    struct listing **p = &l->buckets[hash_repo(repo) & (l->n_buckets - 1)];

    while (*p && strcmp((*p)->repo, repo) != 0)
        p = &(*p)->next;
    return p;
}

/* Doubles the bucket array when chains grow past two entries on average; a failed grow only
 * leaves the chains longer. Locked. */
static void maybe_grow(struct pf_tag_lists *l)
{
    size_t nb = l->n_buckets * 2;
    struct listing **b;

    if (l->n <= l->n_buckets * 2)
        return;
    b = pf_calloc(nb, sizeof(*b));
    if (!b)
        return;
    for (size_t i = 0; i < l->n_buckets; i++)
        for (struct listing *e = l->buckets[i], *next; e; e = next) {
            size_t k = hash_repo(e->repo) & (nb - 1);

            next = e->next;
            e->next = b[k];
            b[k] = e;
        }
    pf_free(l->buckets);
    l->buckets = b;
    l->n_buckets = nb;
}

/* Waits until the listing of `repo` is settled or gone, or the caller is stopped. Returns
 * the settled listing, NULL when there is none (the caller lists), or NULL with *stopped.
 * Locked. */
static struct listing *wait_settled(struct pf_tag_lists *l, const char *repo,
                                    pf_tag_lists_stop_fn stop, void *userdata, bool *stopped)
{
    struct listing *e;

    while ((e = *find_slot(l, repo)) && !e->ready) {
        struct timespec ts;

        if (stop && stop(userdata)) {
            *stopped = true;
            return NULL;
        }
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += WAIT_SLICE_NS;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&l->ready, &l->lock, &ts);
    }
    return e;
}

/* The settled listing's answer to one caller. */
static int answer(const struct listing *e, const struct pf_strv **ret, char *errbuf,
                  size_t errlen)
{
    *ret = e->r == 0 ? &e->tags : NULL;
    if (e->r < 0)
        (void)snprintf(errbuf, errlen, "%s", e->why ? e->why : strerror(-e->r));
    return e->r;
}

int pf_tag_lists_get(struct pf_tag_lists *l, struct pf_registry *reg,
                           const char *target_repo, pf_tag_lists_stop_fn stop, void *userdata,
                           const struct pf_strv **ret, char *errbuf, size_t errlen)
{
    struct listing *e, **slot;
    bool stopped = false;
    char why[512] = "";
    int r;

    *ret = NULL;
    (void)pthread_mutex_lock(&l->lock);
    e = wait_settled(l, target_repo, stop, userdata, &stopped);
    if (e || stopped) {
        r = stopped ? -ECANCELED : answer(e, ret, errbuf, errlen);
        if (stopped)
            (void)snprintf(errbuf, errlen, "stopped while the tags of %s were being listed",
                           target_repo);
        (void)pthread_mutex_unlock(&l->lock);
        return r;
    }
    e = pf_calloc(1, sizeof(*e));
    if (e && !(e->repo = pf_strdup(target_repo)))
        e = listing_free(e);
    if (!e) {
        (void)pthread_mutex_unlock(&l->lock);
        return -ENOMEM;
    }
    e->tags = (struct pf_strv)PF_STRV_INIT;
    *find_slot(l, target_repo) = e; /* not ready: others for this repository wait */
    l->n++;
    l->made++;
    (void)pthread_mutex_unlock(&l->lock);

    r = pf_tag_lists_fetch(reg, target_repo, stop, userdata, &e->tags, why, sizeof(why));

    (void)pthread_mutex_lock(&l->lock);
    slot = find_slot(l, target_repo);
    if (r == -ENOMEM || (r < 0 && stop && stop(userdata))) {
        /* Not an answer about the repository: forget it, so a later caller lists again. */
        *slot = e->next;
        l->n--;
        (void)pthread_cond_broadcast(&l->ready);
        (void)pthread_mutex_unlock(&l->lock);
        (void)snprintf(errbuf, errlen, "%s", why[0] ? why : strerror(-r));
        listing_free(e);
        return r;
    }
    e->r = r < 0 ? r : 0;
    if (r < 0 && !(e->why = pf_strdup(why[0] ? why : strerror(-r))))
        e->r = -ENOMEM;
    e->ready = true;
    maybe_grow(l);
    (void)pthread_cond_broadcast(&l->ready);
    r = answer(e, ret, errbuf, errlen);
    (void)pthread_mutex_unlock(&l->lock);
    return r;
}
