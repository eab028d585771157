/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Blob uploads: POST to open a session (or try a cross-repository mount), then one PUT with
 * ?digest= for small blobs, or PATCH chunks with Content-Range and a final PUT for large ones.
 * A session is a sequence of non-idempotent steps, so no single step is retried: a transient
 * failure anywhere restarts the whole session from the POST, bounded by max_retries.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pf/alloc.h"
#include "pf/log.h"
#include "registry_http.h"

#undef PF_LOG_COMPONENT
#define PF_LOG_COMPONENT "registry"

struct upload {
    struct pf_registry *r;
    const struct pf_ref *ref;
    const char *digest;
    struct pf_blob_source *src;
    bool prepared;
    char *what;
    char *scope;
};

static const char *api_host(const struct pf_ref *ref)
{
    return strcmp(ref->registry, PF_DOCKER_HUB) == 0 ? PF_DOCKER_HUB_API : ref->registry;
}

static void req_common(struct upload *u, struct reg_req *q)
{
    q->what = u->what;
    q->scope = u->scope;
    q->host = api_host(u->ref);
    q->registry = u->ref->registry;
    q->retry = false;
}

/* Runs one session step; `ok` is the expected status. Moves Location into *ret_loc. */
static int step(struct upload *u, struct reg_req *q, long ok, char **ret_loc, char *errbuf,
                size_t errlen)
{
    int rc = pf__reg_do(u->r, q, errbuf, errlen);

    if (rc < 0)
        return rc;
    if (q->status != ok)
        return pf__reg_http_error(q, errbuf, errlen);
    if (ret_loc) {
        if (!q->location) {
            (void)snprintf(errbuf, errlen, "%s: upload response without Location", u->what);
            return -EPROTO;
        }
        pf_free(*ret_loc);
        *ret_loc = NULL;
        return pf__url_resolve(q->url, q->location, ret_loc);
    }
    return 0;
}

static int ensure_source(struct upload *u, char *errbuf, size_t errlen)
{
    int rc = 0;

    if (!u->prepared && u->src->prepare)
        rc = u->src->prepare(u->src, u->src->userdata, errbuf, errlen);
    if (rc == 0)
        u->prepared = true;
    if (rc == 0 && !u->src->data && u->src->fd < 0) {
        (void)snprintf(errbuf, errlen, "%s: no data to upload", u->what);
        rc = -EINVAL;
    }
    return rc;
}

static char *with_digest(const char *loc, const char *digest)
{
    return pf_asprintf("%s%sdigest=%s", loc, strchr(loc, '?') ? "&" : "?", digest);
}

/* Sends the data to the session at *loc (PUT, or PATCHes then PUT). */
static int send_data(struct upload *u, char **loc, char *errbuf, size_t errlen)
{
    const char *hdrs[] = {"Content-Type: application/octet-stream", NULL};
    uint64_t size = u->src->size, off = 0;
    struct reg_req q;
    char *url, crange[64];
    int rc;

    while (size > PF_REGISTRY_CHUNKED_THRESHOLD && off < size) {
        uint64_t n = size - off < PF_REGISTRY_CHUNK_SIZE ? size - off : PF_REGISTRY_CHUNK_SIZE;
        (void)snprintf(crange, sizeof(crange), "Content-Range: %llu-%llu", (unsigned long long)off,
                       (unsigned long long)(off + n - 1));
        hdrs[1] = crange;
        rc = pf__reg_req_init(&q, "PATCH", *loc);
        req_common(u, &q);
        q.headers = hdrs;
        q.n_headers = 2;
        q.has_body = true;
        q.body = u->src->data;
        q.body_fd = u->src->fd;
        q.body_off = off;
        q.body_len = n;
        if (rc == 0)
            rc = step(u, &q, 202, loc, errbuf, errlen);
        pf__reg_req_release(&q);
        if (rc < 0)
            return rc;
        off += n;
    }
    url = with_digest(*loc, u->digest);
    if (!url)
        return -ENOMEM;
    rc = pf__reg_req_init(&q, "PUT", url);
    pf_free(url);
    req_common(u, &q);
    q.headers = hdrs;
    q.n_headers = 1;
    q.has_body = true;
    q.body = u->src->data;
    q.body_fd = u->src->fd;
    q.body_off = off;
    q.body_len = size - off;
    if (rc == 0)
        rc = step(u, &q, 201, NULL, errbuf, errlen);
    pf__reg_req_release(&q);
    return rc;
}

/* One session. Returns 1 mounted, 0 uploaded, or a negative errno. */
static int session(struct upload *u, const struct pf_ref *mount_from, char *errbuf, size_t errlen)
{
    const char *h = api_host(u->ref);
    char *url = NULL, *loc = NULL, *from = NULL;
    struct reg_req q;
    int rc;

    if (mount_from) {
        from = pf__url_escape(mount_from->repository);
        url = from ? pf_asprintf("%s://%s/v2/%s/blobs/uploads/?mount=%s&from=%s",
                                 pf__reg_scheme(u->r, h), h, u->ref->repository, u->digest, from)
                   : NULL;
    } else {
        url = pf_asprintf("%s://%s/v2/%s/blobs/uploads/", pf__reg_scheme(u->r, h), h,
                          u->ref->repository);
    }
    pf_free(from);
    if (!url)
        return -ENOMEM;
    rc = pf__reg_req_init(&q, "POST", url);
    pf_free(url);
    req_common(u, &q);
    q.retry = true; /* opening a session is safe to repeat */
    q.has_body = true;
    if (rc == 0)
        rc = pf__reg_do(u->r, &q, errbuf, errlen);
    if (rc == 0 && mount_from && q.status == 201) {
        pf__reg_req_release(&q);
        return 1;
    }
    if (rc == 0 && q.status != 202)
        rc = pf__reg_http_error(&q, errbuf, errlen);
    if (rc == 0 && !q.location) {
        (void)snprintf(errbuf, errlen, "%s: upload response without Location", u->what);
        rc = -EPROTO;
    }
    if (rc == 0)
        rc = pf__url_resolve(q.url, q.location, &loc);
    pf__reg_req_release(&q);
    if (rc == 0)
        rc = ensure_source(u, errbuf, errlen);
    if (rc == 0)
        rc = send_data(u, &loc, errbuf, errlen);
    pf_free(loc);
    return rc;
}

static bool transient(int rc)
{
    return rc == -ETIMEDOUT || rc == -ECONNRESET || rc == -ECONNREFUSED || rc == -EIO ||
           rc == -EBUSY || rc == -EHOSTUNREACH;
}

int pf_registry_put_blob(struct pf_registry *r, const struct pf_ref *ref, const char *digest,
                         struct pf_blob_source *src, const struct pf_ref *mount_from,
                         enum pf_blob_put_result *ret_result, char *errbuf, size_t errlen)
{
    struct upload u = {r, ref, digest, src, false, NULL, NULL};
    int rc = 0, tries = 0;

    if (!ref || !ref->registry || !ref->repository || !pf_digest_sha256_hex(digest) ||
        strchr(ref->repository, '?') || strchr(ref->repository, '#') ||
        (mount_from &&
         (!mount_from->repository || strcmp(mount_from->registry, ref->registry) != 0))) {
        (void)snprintf(errbuf, errlen, "invalid blob upload request");
        return -EINVAL;
    }
    u.what = pf_asprintf("PUT blob %s/%s@%s", ref->registry, ref->repository, digest);
    if (mount_from)
        u.scope = pf_asprintf("repository:%s:pull,push repository:%s:pull", ref->repository,
                              mount_from->repository);
    else
        u.scope = pf_asprintf("repository:%s:pull,push", ref->repository);
    if (!u.what || !u.scope)
        rc = -ENOMEM;
    while (rc == 0) {
        rc = session(&u, mount_from, errbuf, errlen);
        if (rc >= 0 || !transient(rc) || tries >= r->max_retries)
            break;
        struct timespec ts = {.tv_sec = 1L << (tries < 4 ? tries : 4), .tv_nsec = 0};
        pf_log(LOG_DEBUG, "%s: %s; restarting the upload", u.what, strerror(-rc));
        tries++;
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
        rc = 0;
    }
    if (rc >= 0 && ret_result)
        *ret_result = rc == 1 ? PF_BLOB_MOUNTED : PF_BLOB_UPLOADED;
    pf_free(u.what);
    pf_free(u.scope);
    return rc < 0 ? rc : 0;
}
