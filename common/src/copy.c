/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image copy between repositories. The order is what makes it safe to interrupt: blobs first,
 * then child manifests by digest, then the index by digest, and the tag last. A blob that must
 * cross registries is downloaded to an unlinked temporary file (verified) only when the
 * destination lacks it and no mount was possible, then uploaded from that file.
 */
#include "pf/setup.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/io.h"
#include "pf/copy.h"
#include "pf/oci.h"

#define COPY_MAX_DEPTH 2

struct copy_ctx {
    struct pf_registry *r;
    const struct pf_ref *src;
    const struct pf_ref *dst;
    const char *tmpdir;
    struct pf_copy_stats *st;
};

struct blob_fetch {
    struct copy_ctx *c;
    const char *digest;
    int fd;
};

static int write_fd(const void *data, size_t len, void *ud)
{
    return pf_write_all(*(int *)ud, data, len);
}

/* Downloads the blob into an anonymous temp file; called by put_blob only when needed. */
static int fetch_prepare(struct pf_blob_source *s, void *ud, char *errbuf, size_t errlen)
{
    struct blob_fetch *f = ud;
    uint64_t size = 0;
    int rc, tries;

    f->fd = open(f->c->tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (f->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        /* No O_TMPFILE on this filesystem: a named temp file, unlinked at once. */
        char *path = pf_asprintf("%s/pf-blob-XXXXXX", f->c->tmpdir);
        if (!path)
            return -ENOMEM;
        f->fd = mkostemp(path, O_CLOEXEC);
        if (f->fd >= 0)
            (void)unlink(path);
        pf_free(path);
    }
    if (f->fd < 0) {
        rc = -errno;
        (void)snprintf(errbuf, errlen, "cannot create a temporary file in '%s': %s", f->c->tmpdir,
                       strerror(-rc));
        return rc;
    }
    /* get_blob does not retry after the first byte; restart a couple of times here. */
    for (tries = 0;; tries++) {
        rc = pf_registry_get_blob(f->c->r, f->c->src, f->digest, write_fd, &f->fd, &size, errbuf,
                                  errlen);
        if (rc == 0 || rc == -EBADMSG || tries >= 2 || !(rc == -ECONNRESET || rc == -ETIMEDOUT))
            break;
        if (ftruncate(f->fd, 0) < 0)
            return -errno;
        if (lseek(f->fd, 0, SEEK_SET) < 0)
            return -errno;
    }
    if (rc < 0)
        return rc;
    if (size != s->size) {
        (void)snprintf(errbuf, errlen, "blob %s: size %llu differs from the descriptor's %llu",
                       f->digest, (unsigned long long)size, (unsigned long long)s->size);
        return -EBADMSG;
    }
    s->fd = f->fd;
    return 0;
}

static bool same_registry(const struct pf_ref *a, const struct pf_ref *b)
{
    return strcmp(a->registry, b->registry) == 0 && strcmp(a->repository, b->repository) != 0;
}

static int copy_blob(struct copy_ctx *c, const struct pf_descriptor *d, char *errbuf, size_t errlen)
{
    struct blob_fetch f = {c, d->digest, -1};
    struct pf_blob_source s = {NULL, -1, (uint64_t)d->size, fetch_prepare, &f};
    enum pf_blob_put_result res;
    int rc;

    c->st->blobs_total++;
    if (d->urls.n) /* foreign layers (Windows base layers) are not ours to copy */
        return 0;
    rc = pf_registry_blob_exists(c->r, c->dst, d->digest, NULL, errbuf, errlen);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        c->st->blobs_skipped++;
        return 0;
    }
    rc = pf_registry_put_blob(c->r, c->dst, d->digest, &s,
                              same_registry(c->src, c->dst) ? c->src : NULL, &res, errbuf, errlen);
    if (f.fd >= 0)
        (void)close(f.fd);
    if (rc < 0)
        return rc;
    if (res == PF_BLOB_MOUNTED) {
        c->st->blobs_mounted++;
    } else {
        c->st->blobs_uploaded++;
        c->st->bytes_uploaded += (uint64_t)d->size;
    }
    return 0;
}

static int copy_manifest(struct copy_ctx *c, const char *reference, const char *want_digest,
                         int depth, char ret_digest[PF_DIGEST_BUFSZ], char *errbuf, size_t errlen);

static int copy_children(struct copy_ctx *c, const struct pf_raw_manifest *m, int depth,
                         char *errbuf, size_t errlen)
{
    char why[256];
    int rc;

    if (m->kind == PF_MANIFEST_INDEX) {
        struct pf_index ix;
        char child[PF_DIGEST_BUFSZ];

        if (depth >= COPY_MAX_DEPTH) {
            (void)snprintf(errbuf, errlen, "index nesting too deep");
            return -ELOOP;
        }
        rc = pf_index_parse(m->data, m->len, &ix, why, sizeof(why));
        if (rc < 0) {
            (void)snprintf(errbuf, errlen, "index %s: %s", m->digest, why);
            return rc;
        }
        for (size_t i = 0; rc == 0 && i < ix.n_manifests; i++)
            rc = copy_manifest(c, ix.manifests[i].digest, ix.manifests[i].digest, depth + 1, child,
                               errbuf, errlen);
        pf_index_release(&ix);
        return rc;
    }
    struct pf_manifest mf;
    rc = pf_manifest_parse(m->data, m->len, &mf, why, sizeof(why));
    if (rc < 0) {
        (void)snprintf(errbuf, errlen, "manifest %s: %s", m->digest, why);
        return rc;
    }
    rc = copy_blob(c, &mf.config, errbuf, errlen);
    for (size_t i = 0; rc == 0 && i < mf.n_layers; i++)
        rc = copy_blob(c, &mf.layers[i], errbuf, errlen);
    pf_manifest_release(&mf);
    return rc;
}

static int copy_manifest(struct copy_ctx *c, const char *reference, const char *want_digest,
                         int depth, char ret_digest[PF_DIGEST_BUFSZ], char *errbuf, size_t errlen)
{
    struct pf_raw_manifest m = {NULL, 0, NULL, 0, ""};
    char pushed[PF_DIGEST_BUFSZ];
    int rc;

    rc = pf_registry_get_manifest(c->r, c->src, reference, &m, errbuf, errlen);
    if (rc < 0)
        return rc;
    if (want_digest && strcmp(want_digest, m.digest) != 0) {
        (void)snprintf(errbuf, errlen, "manifest digest mismatch: wanted %s, got %s", want_digest,
                       m.digest);
        rc = -EBADMSG;
        goto out;
    }
    rc = copy_children(c, &m, depth, errbuf, errlen);
    if (rc == 0)
        rc = pf_registry_put_manifest(c->r, c->dst, m.digest, m.media_type, m.data, m.len, pushed,
                                      errbuf, errlen);
    if (rc == 0) {
        c->st->manifests_pushed++;
        memcpy(ret_digest, m.digest, PF_DIGEST_BUFSZ);
    }
out:
    pf_raw_manifest_release(&m);
    return rc;
}

int pf_copy_image(struct pf_registry *r, const struct pf_ref *src, const struct pf_ref *dst,
                  const struct pf_copy_options *opts, struct pf_copy_stats *stats, char *errbuf,
                  size_t errlen)
{
    struct pf_copy_stats local;
    struct copy_ctx c = {r, src, dst, NULL, stats ? stats : &local};
    struct pf_raw_manifest top = {NULL, 0, NULL, 0, ""};
    char digest[PF_DIGEST_BUFSZ];
    const char *tmp = getenv("TMPDIR");
    int rc;

    memset(c.st, 0, sizeof(*c.st));
    c.tmpdir = opts && opts->tmpdir ? opts->tmpdir : tmp && *tmp ? tmp : "/tmp";
    if (!src || !dst || (!src->tag && !src->digest)) {
        (void)snprintf(errbuf, errlen, "copy needs a source tag or digest");
        return -EINVAL;
    }
    rc = copy_manifest(&c, src->digest ? src->digest : src->tag, src->digest, 0, digest, errbuf,
                       errlen);
    if (rc == 0 && dst->tag) {
        /* Tag last, with the very bytes pushed by digest. */
        rc = pf_registry_get_manifest(r, dst, digest, &top, errbuf, errlen);
        if (rc == 0)
            rc = pf_registry_put_manifest(r, dst, dst->tag, top.media_type, top.data, top.len, NULL,
                                          errbuf, errlen);
        pf_raw_manifest_release(&top);
    }
    if (rc == 0)
        memcpy(c.st->digest, digest, PF_DIGEST_BUFSZ);
    return rc;
}
