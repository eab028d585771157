/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registry operations over the engine in registry_http.c: tags with Link pagination,
 * manifests (Accept negotiation, media type detection, schema 1 refusal, digest checks),
 * blobs (verified streaming downloads, HEAD, monolithic or chunked uploads, cross-repository
 * mounts). Every path element that reaches a URL is validated first, so a hostile tag or
 * repository name cannot rewrite the request.
 */
#include "pf/setup.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pf/json.h"

#include "pf/alloc.h"
#include "pf/io.h"
#include "pf/err.h"
#include "pf/oci.h"
#include "registry_http.h"

#define TAGS_PAGE_MAX ((size_t)32 << 20)
#define TAGS_PAGES_MAX 10000

static const char accept_manifests[] = "Accept: " PF_MT_OCI_INDEX ", " PF_MT_OCI_MANIFEST
                                       ", " PF_MT_DOCKER_LIST ", " PF_MT_DOCKER_MANIFEST;

/* The HTTP host for a registry name: Docker Hub's API lives on registry-1.docker.io. */
static const char *api_host(const struct pf_ref *ref)
{
    if (strcmp(ref->registry, PF_DOCKER_HUB) == 0)
        return PF_DOCKER_HUB_API;
    return ref->registry;
}

static bool repo_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 255 || *s == '/')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
              *s == '-' || *s == '/'))
            return false;
    return true;
}

static bool host_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 255)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '-' || *s == ':' || *s == '[' || *s == ']'))
            return false;
    return true;
}

static bool tag_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 128 || *s == '.' || *s == '-')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return false;
    return true;
}

static int check_ref(const struct pf_ref *ref, char *errbuf, size_t errlen)
{
    if (!ref || !host_ok(ref->registry) || !repo_ok(ref->repository)) {
        (void)snprintf(errbuf, errlen, "invalid registry or repository name");
        return -EINVAL;
    }
    return 0;
}

/* Validates the repository and a blob digest, the arguments of every blob operation. */
static int check_blob_ref(const struct pf_ref *ref, const char *digest, char *errbuf, size_t errlen)
{
    int rc = check_ref(ref, errbuf, errlen);

    if (rc == 0 && !pf_digest_sha256_hex(digest))
        rc = pf_set_error(errbuf, errlen, -EINVAL, "invalid blob digest '%.80s'",
                          digest ? digest : "");
    return rc;
}

/* Picks and validates the manifest reference: explicit, else the ref's digest, else its tag. */
static int pick_reference(const struct pf_ref *ref, const char *reference, const char **ret,
                          char *errbuf, size_t errlen)
{
    const char *s = reference ? reference : ref->digest ? ref->digest : ref->tag;

    if (!s || !(pf_digest_sha256_hex(s) || (strchr(s, ':') == NULL && tag_ok(s)))) {
        (void)snprintf(errbuf, errlen, "invalid or missing tag or digest '%.80s'", s ? s : "");
        return -EINVAL;
    }
    *ret = s;
    return 0;
}

static char *make_url(const struct pf_registry *r, const struct pf_ref *ref, const char *kind,
                      const char *tail)
{
    const char *h = api_host(ref);

    return pf_asprintf("%s://%s/v2/%s/%s%s", pf__reg_scheme(r, h), h, ref->repository, kind,
                       tail ? tail : "");
}

static char *make_what(const char *verb, const struct pf_ref *ref, const char *reference)
{
    if (!reference)
        return pf_asprintf("%s %s/%s", verb, ref->registry, ref->repository);
    return pf_asprintf("%s %s/%s%s%s", verb, ref->registry, ref->repository,
                       pf_digest_sha256_hex(reference) ? "@" : ":", reference);
}

static char *pull_scope(const struct pf_ref *ref, bool push)
{
    return pf_asprintf("repository:%s:%s", ref->repository, push ? "pull,push" : "pull");
}

/* Prepares `q` with url, what, host, registry, scope (owned strings handed back in `own`). */
struct owned {
    char *what;
    char *scope;
};

static int prepare(struct pf_registry *r, struct reg_req *q, const char *method, char *url,
                   char *what, char *scope, const struct pf_ref *ref, struct owned *own)
{
    int rc;

    own->what = what;
    own->scope = scope;
    if (!url || !what || !scope) {
        pf_free(url);
        memset(q, 0, sizeof(*q));
        return -ENOMEM;
    }
    rc = pf__reg_req_init(q, method, url);
    pf_free(url);
    q->what = what;
    q->scope = scope;
    q->host = api_host(ref);
    q->registry = ref->registry;
    return rc;
}

static void owned_release(struct owned *o)
{
    o->what = pf_free(o->what);
    o->scope = pf_free(o->scope);
}

/* --- tags ------------------------------------------------------------------------------- */

static int parse_tags_page(const struct pf_buf *b, struct pf_strv *ret, size_t *count,
                           const char *what, char *errbuf, size_t errlen)
{
    json_t *root = json_loadb(b->p ? b->p : "", b->len, 0, NULL), *tags, *v;
    size_t i;
    int rc = 0;

    tags = json_object_get(root, "tags");
    if (!json_is_object(root) || (tags && !json_is_null(tags) && !json_is_array(tags))) {
        json_decref(root);
        (void)snprintf(errbuf, errlen, "%s: malformed tag list", what);
        return -EPROTO;
    }
    json_array_foreach(tags, i, v)
    {
        if (!json_is_string(v) || !tag_ok(json_string_value(v)))
            continue; /* a tag we could not address anyway */
        if (++*count > PF_REGISTRY_MAX_TAGS) {
            (void)snprintf(errbuf, errlen, "%s: more than %d tags", what, PF_REGISTRY_MAX_TAGS);
            rc = -E2BIG;
            break;
        }
        rc = pf_strv_push(ret, json_string_value(v));
        if (rc < 0)
            break;
    }
    json_decref(root);
    return rc;
}

int pf_registry_list_tags(struct pf_registry *r, const struct pf_ref *repo, struct pf_strv *ret,
                          char *errbuf, size_t errlen)
{
    struct owned own = {NULL, NULL};
    struct pf_buf page;
    struct reg_req q;
    size_t count = 0;
    int rc, pages = 0;

    rc = check_ref(repo, errbuf, errlen);
    if (rc < 0)
        return rc;
    pf_buf_init(&page, TAGS_PAGE_MAX);
    rc = prepare(r, &q, "GET", make_url(r, repo, "tags/list", "?n=1000"),
                 make_what("GET tags", repo, NULL), pull_scope(repo, false), repo, &own);
    q.out = &page;
    while (rc == 0) {
        char *next = NULL;

        if (++pages > TAGS_PAGES_MAX) {
            (void)snprintf(errbuf, errlen, "%s: more than %d pages", q.what, TAGS_PAGES_MAX);
            rc = -E2BIG;
            break;
        }
        rc = pf__reg_do(r, &q, errbuf, errlen);
        if (rc == 0 && q.status != 200)
            rc = pf__reg_http_error(&q, errbuf, errlen);
        if (rc == 0)
            rc = parse_tags_page(&page, ret, &count, q.what, errbuf, errlen);
        if (rc < 0 || !q.link)
            break;
        rc = pf__link_next(q.link, q.url, &next);
        if (rc <= 0) {
            if (rc < 0)
                (void)snprintf(errbuf, errlen, "%s: malformed Link header", q.what);
            rc = rc < 0 ? -EPROTO : 0;
            break;
        }
        if (!pf__url_same_origin(q.url, next) || strcmp(next, q.url) == 0) {
            pf_free(next);
            (void)snprintf(errbuf, errlen, "%s: pagination link to another host or a loop refused",
                           q.what);
            rc = -EPROTO;
            break;
        }
        pf_free(q.url);
        q.url = next;
        rc = 0;
    }
    pf__reg_req_release(&q);
    pf_buf_release(&page);
    owned_release(&own);
    return rc < 0 ? rc : (int)count;
}

/* --- manifests ---------------------------------------------------------------------------- */

void pf_raw_manifest_release(struct pf_raw_manifest *m)
{
    if (!m)
        return;
    m->data = pf_free(m->data);
    m->len = 0;
    m->media_type = NULL;
}

static int judge_manifest(struct reg_req *q, const char *reference, struct pf_buf *body,
                          struct pf_raw_manifest *ret, char *errbuf, size_t errlen)
{
    struct pf_raw_manifest m = {NULL, 0, NULL, 0, ""};
    int kind, rc;

    rc = pf_sha256_digest(body->p ? body->p : "", body->len, m.digest);
    if (rc < 0)
        return rc;
    if (pf_digest_sha256_hex(reference) && strcmp(reference, m.digest) != 0) {
        (void)snprintf(errbuf, errlen, "%s: digest mismatch: the registry served %s", q->what,
                       m.digest);
        return -EBADMSG;
    }
    if (q->docker_digest && pf_digest_sha256_hex(q->docker_digest) &&
        strcmp(q->docker_digest, m.digest) != 0) {
        (void)snprintf(errbuf, errlen, "%s: digest mismatch: header says %s, body is %s", q->what,
                       q->docker_digest, m.digest);
        return -EBADMSG;
    }
    kind = pf_oci_detect_manifest(q->content_type, body->p, body->len, &m.media_type);
    if (kind == PF_MANIFEST_SCHEMA1) {
        (void)snprintf(errbuf, errlen,
                       "%s: the image uses the deprecated Docker schema 1 manifest format, which "
                       "is not supported",
                       q->what);
        return -EPROTONOSUPPORT;
    }
    if (kind < 0) {
        (void)snprintf(errbuf, errlen, "%s: response is not a manifest or index", q->what);
        return -EPROTO;
    }
    m.kind = kind;
    m.data = pf_buf_steal(body, &m.len);
    if (!m.data)
        return -ENOMEM;
    *ret = m;
    return 0;
}

/* Names the limit, and the size when the registry announced it. */
static void manifest_too_large(const struct reg_req *q, const char *what, char *errbuf,
                               size_t errlen)
{
    if (q->content_length > (long long)PF_MANIFEST_MAX)
        (void)snprintf(errbuf, errlen,
                       "%s: the manifest is %lld bytes, over the limit of %zu bytes (4 MiB)", what,
                       q->content_length, PF_MANIFEST_MAX);
    else
        (void)snprintf(errbuf, errlen,
                       "%s: the manifest is larger than the limit of %zu bytes (4 MiB)", what,
                       PF_MANIFEST_MAX);
}

int pf_registry_get_manifest(struct pf_registry *r, const struct pf_ref *ref, const char *reference,
                             struct pf_raw_manifest *ret, char *errbuf, size_t errlen)
{
    struct owned own = {NULL, NULL};
    const char *hdr[] = {accept_manifests};
    struct pf_buf body;
    struct reg_req q;
    char *tail;
    int rc;

    rc = check_ref(ref, errbuf, errlen);
    if (rc == 0)
        rc = pick_reference(ref, reference, &reference, errbuf, errlen);
    if (rc < 0)
        return rc;
    pf_buf_init(&body, PF_MANIFEST_MAX);
    tail = pf_asprintf("/%s", reference);
    rc = prepare(r, &q, "GET", tail ? make_url(r, ref, "manifests", tail) : NULL,
                 make_what("GET manifest", ref, reference), pull_scope(ref, false), ref, &own);
    pf_free(tail);
    q.headers = hdr;
    q.n_headers = 1;
    q.out = &body;
    if (rc == 0)
        rc = pf__reg_do(r, &q, errbuf, errlen);
    if (rc == -E2BIG)
        manifest_too_large(&q, own.what, errbuf, errlen);
    if (rc == 0 && q.status != 200)
        rc = pf__reg_http_error(&q, errbuf, errlen);
    if (rc == 0)
        rc = judge_manifest(&q, reference, &body, ret, errbuf, errlen);
    pf__reg_req_release(&q);
    pf_buf_release(&body);
    owned_release(&own);
    return rc;
}

int pf_registry_head_manifest(struct pf_registry *r, const struct pf_ref *ref,
                              const char *reference, char ret_digest[PF_DIGEST_BUFSZ],
                              char **ret_media_type, uint64_t *ret_size, char *errbuf,
                              size_t errlen)
{
    struct owned own = {NULL, NULL};
    const char *hdr[] = {accept_manifests};
    struct reg_req q;
    char *tail, *mt = NULL;
    int rc;

    rc = check_ref(ref, errbuf, errlen);
    if (rc == 0)
        rc = pick_reference(ref, reference, &reference, errbuf, errlen);
    if (rc < 0)
        return rc;
    tail = pf_asprintf("/%s", reference);
    rc = prepare(r, &q, "HEAD", tail ? make_url(r, ref, "manifests", tail) : NULL,
                 make_what("HEAD manifest", ref, reference), pull_scope(ref, false), ref, &own);
    pf_free(tail);
    q.headers = hdr;
    q.n_headers = 1;
    if (rc == 0)
        rc = pf__reg_do(r, &q, errbuf, errlen);
    if (rc == 0 && q.status != 200)
        rc = pf__reg_http_error(&q, errbuf, errlen);
    if (rc == 0 && !pf_digest_sha256_hex(q.docker_digest)) {
        (void)snprintf(errbuf, errlen, "%s: no sha256 Docker-Content-Digest in the response",
                       q.what);
        rc = -EPROTO;
    }
    if (rc == 0 && pf_digest_sha256_hex(reference) && strcmp(reference, q.docker_digest) != 0) {
        (void)snprintf(errbuf, errlen, "%s: registry reports digest %s", q.what, q.docker_digest);
        rc = -EBADMSG;
    }
    if (rc == 0 && ret_media_type && q.content_type) {
        mt = pf_strndup(q.content_type, strcspn(q.content_type, "; "));
        if (!mt)
            rc = -ENOMEM;
    }
    if (rc == 0) {
        memcpy(ret_digest, q.docker_digest, PF_DIGEST_BUFSZ - 1);
        ret_digest[PF_DIGEST_BUFSZ - 1] = '\0';
        if (ret_media_type)
            *ret_media_type = mt;
        if (ret_size)
            *ret_size = q.content_length >= 0 ? (uint64_t)q.content_length
                                              : PF_REGISTRY_SIZE_UNKNOWN;
    }
    pf__reg_req_release(&q);
    owned_release(&own);
    return rc;
}

int pf_registry_put_manifest(struct pf_registry *r, const struct pf_ref *ref, const char *reference,
                             const char *media_type, const void *data, size_t len,
                             char ret_digest[PF_DIGEST_BUFSZ], char *errbuf, size_t errlen)
{
    struct owned own = {NULL, NULL};
    char digest[PF_DIGEST_BUFSZ], *tail, *ct;
    const char *hdr[1] = {NULL};
    struct reg_req q;
    int rc;

    rc = check_ref(ref, errbuf, errlen);
    if (rc == 0)
        rc = pick_reference(ref, reference, &reference, errbuf, errlen);
    if (rc == 0 && !pf_oci_media_type_is_manifest(media_type)) {
        (void)snprintf(errbuf, errlen, "invalid manifest media type '%.100s'",
                       media_type ? media_type : "");
        rc = -EINVAL;
    }
    if (rc == 0 && len > PF_MANIFEST_MAX) {
        (void)snprintf(errbuf, errlen,
                       "PUT manifest %s/%s: the manifest is %zu bytes, over the limit of %zu "
                       "bytes (4 MiB)",
                       ref->registry, ref->repository, len, PF_MANIFEST_MAX);
        rc = -E2BIG;
    }
    if (rc == 0)
        rc = pf_sha256_digest(data, len, digest);
    if (rc < 0)
        return rc;
    if (pf_digest_sha256_hex(reference) && strcmp(reference, digest) != 0) {
        (void)snprintf(errbuf, errlen, "manifest body does not match digest %s", reference);
        return -EINVAL;
    }
    ct = pf_asprintf("Content-Type: %s", media_type);
    tail = pf_asprintf("/%s", reference);
    rc = prepare(r, &q, "PUT", tail ? make_url(r, ref, "manifests", tail) : NULL,
                 make_what("PUT manifest", ref, reference), pull_scope(ref, true), ref, &own);
    pf_free(tail);
    hdr[0] = ct;
    q.headers = hdr;
    q.n_headers = ct ? 1 : 0;
    q.has_body = true;
    q.body = data;
    q.body_len = len;
    if (rc == 0 && !ct)
        rc = -ENOMEM;
    if (rc == 0)
        rc = pf__reg_do(r, &q, errbuf, errlen);
    if (rc == 0 && q.status != 201 && q.status != 200)
        rc = pf__reg_http_error(&q, errbuf, errlen);
    if (rc == 0 && q.docker_digest && pf_digest_sha256_hex(q.docker_digest) &&
        strcmp(q.docker_digest, digest) != 0) {
        (void)snprintf(errbuf, errlen, "%s: registry stored digest %s, expected %s", q.what,
                       q.docker_digest, digest);
        rc = -EBADMSG;
    }
    if (rc == 0 && ret_digest)
        memcpy(ret_digest, digest, PF_DIGEST_BUFSZ);
    pf__reg_req_release(&q);
    owned_release(&own);
    pf_free(ct);
    return rc;
}

/* --- blob downloads ----------------------------------------------------------------------- */

struct blob_sink {
    struct pf_sha256 h;
    uint64_t n;
    pf_registry_write_cb cb;
    void *ud;
    int fd;             /* to_file */
    struct pf_buf *buf; /* to mem */
    uint64_t max;       /* to_file: more bytes than this stop the download; 0 = no bound */
};

static int sink_write(const void *data, size_t len, void *ud)
{
    struct blob_sink *s = ud;
    int rc = pf_sha256_update(&s->h, data, len);

    if (rc < 0)
        return rc;
    s->n += len;
    if (s->max && s->n > s->max)
        return -EFBIG;
    if (s->buf)
        return pf_buf_append(s->buf, data, len);
    if (s->fd >= 0)
        return pf_write_all(s->fd, data, len);
    return s->cb(data, len, s->ud);
}

static int sink_reset(void *ud)
{
    struct blob_sink *s = ud;
    char dummy[PF_DIGEST_BUFSZ];
    int rc = pf_sha256_final(&s->h, dummy); /* restarts the hash */

    s->n = 0;
    if (rc == 0 && s->buf)
        pf_buf_reset(s->buf);
    if (rc == 0 && s->fd >= 0 && (ftruncate(s->fd, 0) < 0 || lseek(s->fd, 0, SEEK_SET) < 0))
        rc = -errno;
    return rc;
}

static int get_blob(struct pf_registry *r, const struct pf_ref *ref, const char *digest,
                    struct blob_sink *sink, bool restartable, char *errbuf, size_t errlen)
{
    struct owned own = {NULL, NULL};
    char computed[PF_DIGEST_BUFSZ];
    struct reg_req q;
    char *tail;
    int rc;

    rc = check_blob_ref(ref, digest, errbuf, errlen);
    if (rc == 0)
        rc = pf_sha256_init(&sink->h);
    if (rc < 0)
        return rc;
    tail = pf_asprintf("/%s", digest);
    rc = prepare(r, &q, "GET", tail ? make_url(r, ref, "blobs", tail) : NULL,
                 make_what("GET blob", ref, digest), pull_scope(ref, false), ref, &own);
    pf_free(tail);
    q.follow = true;
    q.cb = sink_write;
    q.cb_ud = sink;
    q.reset = restartable ? sink_reset : NULL;
    if (rc == 0)
        rc = pf__reg_do(r, &q, errbuf, errlen);
    if (rc == -E2BIG && sink->buf)
        (void)snprintf(errbuf, errlen, "%s: blob is larger than allowed", own.what);
    if (rc == 0 && q.status != 200)
        rc = pf__reg_http_error(&q, errbuf, errlen);
    if (rc == 0)
        rc = pf_sha256_final(&sink->h, computed);
    if (rc == 0 && strcmp(computed, digest) != 0) {
        (void)snprintf(errbuf, errlen, "%s: digest mismatch: received data hashes to %s", q.what,
                       computed);
        rc = -EBADMSG;
    }
    pf__reg_req_release(&q);
    owned_release(&own);
    pf_sha256_release(&sink->h);
    return rc;
}

int pf_registry_get_blob(struct pf_registry *r, const struct pf_ref *ref, const char *digest,
                         pf_registry_write_cb cb, void *userdata, uint64_t *ret_size, char *errbuf,
                         size_t errlen)
{
    struct blob_sink s = {{NULL}, 0, cb, userdata, -1, NULL, 0};
    int rc = get_blob(r, ref, digest, &s, false, errbuf, errlen);

    if (rc == 0 && ret_size)
        *ret_size = s.n;
    return rc;
}

int pf_registry_get_blob_mem(struct pf_registry *r, const struct pf_ref *ref, const char *digest,
                             size_t max, char **ret, size_t *ret_len, char *errbuf, size_t errlen)
{
    struct pf_buf b;
    struct blob_sink s = {{NULL}, 0, NULL, NULL, -1, &b, 0};
    char *p;
    int rc;

    pf_buf_init(&b, max);
    rc = get_blob(r, ref, digest, &s, true, errbuf, errlen);
    if (rc == 0) {
        p = pf_buf_steal(&b, ret_len);
        if (!p)
            rc = -ENOMEM;
        else
            *ret = p;
    }
    pf_buf_release(&b);
    return rc;
}

int pf_registry_get_blob_to_file(struct pf_registry *r, const struct pf_ref *ref,
                                 const char *digest, const char *path, uint64_t *ret_size,
                                 char *errbuf, size_t errlen)
{
    return pf_registry_get_blob_to_file_max(r, ref, digest, 0, path, ret_size, errbuf, errlen);
}

int pf_registry_get_blob_to_file_max(struct pf_registry *r, const struct pf_ref *ref,
                                     const char *digest, uint64_t max, const char *path,
                                     uint64_t *ret_size, char *errbuf, size_t errlen)
{
    struct blob_sink s = {{NULL}, 0, NULL, NULL, -1, NULL, max};
    char *tmp = pf_asprintf("%s.part.XXXXXX", path);
    int rc;

    if (!tmp)
        return -ENOMEM;
    s.fd = mkostemp(tmp, O_CLOEXEC);
    if (s.fd < 0) {
        rc = -errno;
        (void)snprintf(errbuf, errlen, "cannot create a temporary file for '%s': %s", path,
                       strerror(-rc));
        pf_free(tmp);
        return rc;
    }
    rc = get_blob(r, ref, digest, &s, true, errbuf, errlen);
    if (rc == -EFBIG)
        (void)snprintf(errbuf, errlen,
                       "GET blob %s/%s@%s: more than the %llu bytes expected, download stopped",
                       ref->registry, ref->repository, digest, (unsigned long long)max);
    if (rc == 0 && (fchmod(s.fd, 0644) < 0 || fsync(s.fd) < 0)) {
        rc = -errno;
        (void)snprintf(errbuf, errlen, "cannot write '%s': %s", path, strerror(-rc));
    }
    if (close(s.fd) < 0 && rc == 0) {
        rc = -errno;
        (void)snprintf(errbuf, errlen, "cannot write '%s': %s", path, strerror(-rc));
    }
    if (rc == 0 && rename(tmp, path) < 0) {
        rc = -errno;
        (void)snprintf(errbuf, errlen, "cannot rename into '%s': %s", path, strerror(-rc));
    }
    if (rc < 0)
        (void)unlink(tmp);
    else if (ret_size)
        *ret_size = s.n;
    pf_free(tmp);
    return rc;
}

int pf_registry_blob_exists(struct pf_registry *r, const struct pf_ref *ref, const char *digest,
                            uint64_t *ret_size, char *errbuf, size_t errlen)
{
    struct owned own = {NULL, NULL};
    struct reg_req q;
    char *tail;
    int rc;

    rc = check_blob_ref(ref, digest, errbuf, errlen);
    if (rc < 0)
        return rc;
    tail = pf_asprintf("/%s", digest);
    rc = prepare(r, &q, "HEAD", tail ? make_url(r, ref, "blobs", tail) : NULL,
                 make_what("HEAD blob", ref, digest), pull_scope(ref, false), ref, &own);
    pf_free(tail);
    q.follow = true;
    if (rc == 0)
        rc = pf__reg_do(r, &q, errbuf, errlen);
    if (rc == 0) {
        if (q.status == 200) {
            rc = 1;
            if (ret_size)
                *ret_size = q.content_length >= 0 ? (uint64_t)q.content_length
                                                  : PF_REGISTRY_SIZE_UNKNOWN;
        } else if (q.status != 404) {
            rc = pf__reg_http_error(&q, errbuf, errlen);
        }
    }
    pf__reg_req_release(&q);
    owned_release(&own);
    return rc;
}
