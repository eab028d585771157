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
#include "pf/err.h"
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
    const struct pf_descriptor *d;
    int fd;
    uint64_t got; /* bytes of this attempt */
};

/* Writes a chunk to the temp file; a blob growing past its declared size stops at once
 * rather than after the whole download. */
static int write_fd(const void *data, size_t len, void *ud)
{
    struct blob_fetch *f = ud;

    f->got += len;
    if (f->d->size < 0 || f->got > (uint64_t)f->d->size)
        return -EFBIG;
    return pf_write_all(f->fd, data, len);
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
        f->got = 0;
        rc = pf_registry_get_blob(f->c->r, f->c->src, f->d->digest, write_fd, f, &size, errbuf,
                                  errlen);
        if (rc == 0 || rc == -EBADMSG || tries >= 2 || !(rc == -ECONNRESET || rc == -ETIMEDOUT))
            break;
        if (ftruncate(f->fd, 0) < 0)
            return -errno;
        if (lseek(f->fd, 0, SEEK_SET) < 0)
            return -errno;
    }
    if (rc == -EFBIG)
        return pf_set_error(errbuf, errlen, -EBADMSG,
                            "descriptor %s %s declares size %lld but the content is larger "
                            "(download stopped after %llu bytes)",
                            f->d->media_type, f->d->digest, (long long)f->d->size,
                            (unsigned long long)f->got);
    if (rc == 0)
        rc = pf_descriptor_check_size(f->d, size, errbuf, errlen);
    if (rc < 0)
        return rc;
    s->fd = f->fd;
    return 0;
}

static bool same_registry(const struct pf_ref *a, const struct pf_ref *b)
{
    return strcmp(a->registry, b->registry) == 0 && strcmp(a->repository, b->repository) != 0;
}

/* A blob the destination holds without our reading it (there already, or mounted) is checked
 * by the size its HEAD reports; a registry that reports none leaves only the digest check. */
static int check_held_size(struct copy_ctx *c, const struct pf_descriptor *d, char *errbuf,
                           size_t errlen)
{
    uint64_t size = 0;
    int rc = pf_registry_blob_exists(c->r, c->dst, d->digest, &size, errbuf, errlen);

    if (rc == 0)
        return pf_set_error(errbuf, errlen, -EPROTO,
                            "blob %s: the registry reported it mounted but does not have it",
                            d->digest);
    if (rc < 0 || size == PF_REGISTRY_SIZE_UNKNOWN)
        return rc < 0 ? rc : 0;
    return pf_descriptor_check_size(d, size, errbuf, errlen);
}

static int copy_blob(struct copy_ctx *c, const struct pf_descriptor *d, char *errbuf, size_t errlen)
{
    struct blob_fetch f = {c, d, -1, 0};
    struct pf_blob_source s = {NULL, -1, (uint64_t)d->size, fetch_prepare, &f};
    enum pf_blob_put_result res;
    uint64_t size = 0;
    int rc;

    c->st->blobs_total++;
    if (d->urls.n) /* foreign layers (Windows base layers) are not ours to copy */
        return 0;
    if (d->size < 0)
        return pf_descriptor_check_size(d, 0, errbuf, errlen);
    rc = pf_registry_blob_exists(c->r, c->dst, d->digest, &size, errbuf, errlen);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        c->st->blobs_skipped++;
        return size == PF_REGISTRY_SIZE_UNKNOWN ? 0
                                                : pf_descriptor_check_size(d, size, errbuf, errlen);
    }
    rc = pf_registry_put_blob(c->r, c->dst, d->digest, &s,
                              same_registry(c->src, c->dst) ? c->src : NULL, &res, errbuf, errlen);
    if (f.fd >= 0)
        (void)close(f.fd);
    if (rc == 0 && res == PF_BLOB_MOUNTED)
        rc = check_held_size(c, d, errbuf, errlen);
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

static int copy_manifest(struct copy_ctx *c, const char *reference,
                         const struct pf_descriptor *want, int depth,
                         char ret_digest[PF_DIGEST_BUFSZ], char *errbuf, size_t errlen);

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
            rc = copy_manifest(c, ix.manifests[i].digest, &ix.manifests[i], depth + 1, child,
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

/* Copies manifest `reference`; `want` (an index entry, NULL at the top) is what it must be. */
static int copy_manifest(struct copy_ctx *c, const char *reference,
                         const struct pf_descriptor *want, int depth,
                         char ret_digest[PF_DIGEST_BUFSZ], char *errbuf, size_t errlen)
{
    const char *want_digest = want ? want->digest : c->src->digest;
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
    if (want)
        rc = pf_descriptor_check_size(want, m.len, errbuf, errlen);
    if (rc == 0)
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
    rc = copy_manifest(&c, src->digest ? src->digest : src->tag, NULL, 0, digest, errbuf, errlen);
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
