/* SPDX-License-Identifier: Apache-2.0 */
/* One tag listing per target repository and run (see pf/tag_lists.h). */
#include "pf/setup.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pf/alloc.h"
#include "pf/hashmap.h"
#include "pf/log.h"
#include "pf/ref.h"
#include "pf/registry.h"
#include "pf/strv.h"
#include "pf/tag_lists.h"

#define WAIT_SLICE_NS 100000000L /* a waiter checks its own stop callback this often */

struct listing {
    char *repo;
    bool ready; /* false while the first caller lists */
    int r;      /* 0, or the listing's error */
    struct pf_strv tags;
    char *why; /* the error's reason */
};

struct pf_tag_lists {
    pthread_mutex_t lock;
    pthread_cond_t ready;       /* broadcast when a listing is settled or abandoned */
    struct pf_hashmap listings; /* repo (borrowed from the listing) -> struct listing */
    unsigned long made;
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    (void)nanosleep(&ts, NULL);
}

int pf_tag_lists_fetch(struct pf_registry *reg, const char *target_repo, pf_tag_lists_stop_fn stop,
                       void *userdata, struct pf_strv *ret, char *errbuf, size_t errlen)
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
        if (r == -ENOMEM || r == -EKEYREJECTED || (stop && stop(userdata)))
            break; /* (refused credentials stay refused: no retry) */
        pf_log(LOG_DEBUG, "listing the tags of %s failed (attempt %d): %s", target_repo,
               attempt + 1, errbuf);
        r = attempt + 1 < PF_TAG_LISTS_ATTEMPTS ? 0 : r;
    }
    pf_ref_release(&repo);
    return r;
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
    (void)pthread_mutex_init(&l->lock, NULL);
    (void)pthread_cond_init(&l->ready, NULL);
    *ret = l;
    return 0;
}

struct pf_tag_lists *pf_tag_lists_free(struct pf_tag_lists *l)
{
    struct pf_hashmap_slot *hs;
    size_t it = 0;

    if (!l)
        return NULL;
    while ((hs = pf_hashmap_next(&l->listings, &it)))
        listing_free(hs->value);
    pf_hashmap_release(&l->listings);
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

/* Waits until the listing of `repo` is settled or gone, or the caller is stopped. Returns
 * the settled listing, NULL when there is none (the caller lists), or NULL with *stopped.
 * Locked. */
static struct listing *wait_settled(struct pf_tag_lists *l, const char *repo,
                                    pf_tag_lists_stop_fn stop, void *userdata, bool *stopped)
{
    struct listing *e;

    while ((e = pf_hashmap_get(&l->listings, repo)) && !e->ready) {
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
static int answer(const struct listing *e, const struct pf_strv **ret, char *errbuf, size_t errlen)
{
    *ret = e->r == 0 ? &e->tags : NULL;
    if (e->r < 0)
        (void)snprintf(errbuf, errlen, "%s", e->why ? e->why : strerror(-e->r));
    return e->r;
}

int pf_tag_lists_get(struct pf_tag_lists *l, struct pf_registry *reg, const char *target_repo,
                     pf_tag_lists_stop_fn stop, void *userdata, const struct pf_strv **ret,
                     char *errbuf, size_t errlen)
{
    struct listing *e;
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
    r = pf_hashmap_add(&l->listings, e->repo, e); /* not ready: others for this repository wait */
    if (r < 0) {
        (void)pthread_mutex_unlock(&l->lock);
        listing_free(e);
        return r;
    }
    l->made++;
    (void)pthread_mutex_unlock(&l->lock);

    r = pf_tag_lists_fetch(reg, target_repo, stop, userdata, &e->tags, why, sizeof(why));

    (void)pthread_mutex_lock(&l->lock);
    if (r == -ENOMEM || (r < 0 && stop && stop(userdata))) {
        /* Not an answer about the repository: forget it, so a later caller lists again. */
        (void)pf_hashmap_remove(&l->listings, e->repo, NULL);
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
    (void)pthread_cond_broadcast(&l->ready);
    r = answer(e, ret, errbuf, errlen);
    (void)pthread_mutex_unlock(&l->lock);
    return r;
}
