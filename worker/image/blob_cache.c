/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The blob cache. One mutex guards two small lists: digests being fetched or checked right
 * now (others wait on a condition variable for them) and digests verified by this process
 * (served without re-hashing). The files themselves are written only by
 * pf_registry_get_blob_to_file(), which renames a verified temp file into place, so a reader
 * never sees a partial blob, even with several processes sharing one directory.
 */
#include "pf/setup.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/digest.h"
#include "pf/err.h"
#include "pf/log.h"
#include "pf/registry.h"
#include "pf/strv.h"
#include "image/blob_cache.h"

struct worker_blob_cache {
    char *blobs; /* <dir>/blobs/sha256 */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pf_strv inflight; /* digests one thread is fetching or checking */
    struct pf_strv verified; /* digests whose file this process has verified */
    /* For the worker's /metrics; atomics so a scrape never takes the lock. */
    atomic_ullong hits, misses, bytes_pulled;
};

static int mkdir_one(const char *path, char *errbuf, size_t errlen)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return pf_set_error(errbuf, errlen, -errno, "cannot create '%s': %s", path,
                            strerror(errno));
    return 0;
}

int worker_blob_cache_new(const char *dir, struct worker_blob_cache **ret, char *errbuf,
                          size_t errlen)
{
    struct worker_blob_cache *c;
    char *p = NULL;
    int r;

    if (!dir || !*dir)
        return pf_set_error(errbuf, errlen, -EINVAL, "no blob cache directory given");
    c = pf_calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    r = mkdir_one(dir, errbuf, errlen);
    p = r == 0 ? pf_asprintf("%s/blobs", dir) : NULL;
    if (r == 0 && !p)
        r = -ENOMEM;
    if (r == 0)
        r = mkdir_one(p, errbuf, errlen);
    c->blobs = r == 0 ? pf_asprintf("%s/sha256", p) : NULL;
    if (r == 0 && !c->blobs)
        r = -ENOMEM;
    if (r == 0)
        r = mkdir_one(c->blobs, errbuf, errlen);
    pf_free(p);
    if (r < 0) {
        pf_free(c->blobs);
        pf_free(c);
        return r;
    }
    /* Default attributes cannot fail on Linux; a failure here would be a programmer error. */
    (void)pthread_mutex_init(&c->mu, NULL);
    (void)pthread_cond_init(&c->cv, NULL);
    *ret = c;
    return 0;
}

struct worker_blob_cache *worker_blob_cache_free(struct worker_blob_cache *c)
{
    if (!c)
        return NULL;
    (void)pthread_mutex_destroy(&c->mu);
    (void)pthread_cond_destroy(&c->cv);
    pf_strv_clear(&c->inflight);
    pf_strv_clear(&c->verified);
    pf_free(c->blobs);
    return pf_free(c);
}

char *worker_blob_cache_path(const struct worker_blob_cache *c, const char *digest)
{
    const char *hex = digest ? pf_digest_sha256_hex(digest) : NULL;

    if (!hex)
        return NULL;
    return pf_asprintf("%s/%s", c->blobs, hex);
}

/* Hashes an existing file. Returns 1 when it holds `digest`, 0 when absent or removed for a
 * mismatch, or a negative errno. */
static int check_existing(const char *path, const char *digest, char *errbuf, size_t errlen)
{
    char got[PF_DIGEST_BUFSZ];
    int fd, r;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0)
        return pf_set_error(errbuf, errlen, -errno, "cannot open cached blob '%s': %s", path,
                            strerror(errno));
    r = pf_sha256_fd(fd, got, NULL);
    (void)close(fd);
    if (r < 0)
        return pf_set_error(errbuf, errlen, r, "cannot hash cached blob '%s': %s", path,
                            strerror(-r));
    if (strcmp(got, digest) == 0)
        return 1;
    pf_log(LOG_DEBUG, "cached blob %s holds %s, removing it", digest, got);
    if (unlink(path) < 0 && errno != ENOENT)
        return pf_set_error(errbuf, errlen, -errno, "cannot remove corrupt cached blob '%s': %s",
                            path, strerror(errno));
    return 0;
}

/* Makes `path` hold verified blob `digest`, downloading at most `max` bytes (0 = no bound).
 * Runs without the lock, as the only thread working on this digest. */
static int fill(struct worker_blob_cache *c, struct pf_registry *r, const struct pf_ref *repo,
                const char *digest, uint64_t max, const char *path, char *errbuf, size_t errlen)
{
    struct stat st;
    int rc = check_existing(path, digest, errbuf, errlen);

    if (rc != 0) {
        if (rc > 0)
            atomic_fetch_add(&c->hits, 1);
        return rc < 0 ? rc : 0;
    }
    if (!r || !repo)
        return pf_set_error(errbuf, errlen, -ENOENT, "blob %s is not cached", digest);
    rc = pf_registry_get_blob_to_file_max(r, repo, digest, max, path, NULL, errbuf, errlen);
    if (rc == 0) {
        atomic_fetch_add(&c->misses, 1);
        if (stat(path, &st) == 0)
            atomic_fetch_add(&c->bytes_pulled, (unsigned long long)st.st_size);
    }
    return rc;
}

void worker_blob_cache_get_stats(struct worker_blob_cache *c, struct worker_blob_cache_stats *ret)
{
    ret->hits = atomic_load(&c->hits);
    ret->misses = atomic_load(&c->misses);
    ret->bytes_pulled = atomic_load(&c->bytes_pulled);
}

static void strv_remove(struct pf_strv *sv, const char *s)
{
    long i = pf_strv_find(sv, s);

    if (i < 0)
        return;
    pf_free(sv->v[i]);
    sv->v[i] = sv->v[sv->n - 1];
    sv->v[--sv->n] = NULL;
}

int worker_blob_cache_get(struct worker_blob_cache *c, struct pf_registry *r,
                          const struct pf_ref *repo, const char *digest, char **ret_path,
                          char *errbuf, size_t errlen)
{
    return worker_blob_cache_get_max(c, r, repo, digest, 0, ret_path, errbuf, errlen);
}

int worker_blob_cache_get_max(struct worker_blob_cache *c, struct pf_registry *r,
                              const struct pf_ref *repo, const char *digest, uint64_t max,
                              char **ret_path, char *errbuf, size_t errlen)
{
    struct stat st;
    char *path;
    int rc;

    path = worker_blob_cache_path(c, digest);
    if (!path)
        return digest && pf_digest_sha256_hex(digest)
                   ? -ENOMEM
                   : pf_set_error(errbuf, errlen, -EINVAL, "invalid blob digest '%s'",
                                  digest ? digest : "(null)");
    (void)pthread_mutex_lock(&c->mu);
    while (pf_strv_contains(&c->inflight, digest))
        (void)pthread_cond_wait(&c->cv, &c->mu);
    /* A verified file can still vanish (an operator cleaning the cache): then fetch again. */
    if (pf_strv_contains(&c->verified, digest) && stat(path, &st) == 0) {
        (void)pthread_mutex_unlock(&c->mu);
        atomic_fetch_add(&c->hits, 1);
        *ret_path = path;
        return 0;
    }
    strv_remove(&c->verified, digest);
    rc = pf_strv_push(&c->inflight, digest);
    (void)pthread_mutex_unlock(&c->mu);
    if (rc < 0) {
        pf_free(path);
        return rc;
    }

    rc = fill(c, r, repo, digest, max, path, errbuf, errlen);

    (void)pthread_mutex_lock(&c->mu);
    strv_remove(&c->inflight, digest);
    /* Failing to remember only costs a re-hash next time. */
    if (rc == 0)
        (void)pf_strv_push(&c->verified, digest);
    (void)pthread_cond_broadcast(&c->cv);
    (void)pthread_mutex_unlock(&c->mu);
    if (rc < 0) {
        pf_free(path);
        return rc;
    }
    *ret_path = path;
    return 0;
}
