/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apt fetching on top of the verified-reading modules (gpgv.c, apt_release.c, apt_keyrings.c)
 * and the common mirror fetcher (pf/mirror_fetch.h, which moves the bytes): this file decides
 * which bytes to ask for and keeps what was verified. Trust never comes
 * from the cache: a cached Release is keyed by its URL and the digest of the keyring material
 * that verified it, a cached index by the SHA256 the Release lists, and a cached .deb is hashed
 * again before use. Caches only grow during a fetcher's life (entries are immutable), so
 * readers can keep borrowed pointers after dropping the lock; fetches run unlocked, so two jobs
 * may occasionally fetch the same file at once, which costs bandwidth but never correctness.
 */
#include "pf/setup.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/archive.h"
#include "pf/io.h"
#include "pf/err.h"
#include "pf/buf.h"
#include "pf/digest.h"
#include "pf/log.h"
#include "pf/mirror_fetch.h"
#include "pf/strv.h"
#include "deb/apt_fetch.h"
#include "deb/apt_index.h"
#include "deb/apt_keyrings.h"
#include "deb/apt_release.h"
#include "deb/apt_sources.h"
#include "engine/gpgv.h"
#include "engine/index_freshness.h"
#include "image/layer_view.h"
#include "engine/os_release.h"

/* A cached blob: a verified Release text, or a decompressed Packages text. */
struct cache_entry {
    char *key;
    char *data; /* NUL-terminated */
    size_t len;
};

struct cache {
    struct cache_entry **v; /* entries are heap objects so borrowed pointers survive growth */
    size_t n, cap;
    size_t bytes;
};

struct worker_apt_fetcher {
    char *cache_dir;
    char *deb_dir;
    char *index_dir;
    struct pf_strv mirrors;
    char *default_keyring;
    char *ca_file;
    struct pf_mirror_fetch_options mopts; /* borrows ca_file */
    time_t now;
    struct worker_index_freshness *freshness; /* borrowed, or NULL */
    pthread_mutex_t lock;
    struct cache releases;
    struct cache indexes;
};

/* ---- caches ---- */

static void cache_clear(struct cache *c)
{
    for (size_t i = 0; i < c->n; i++) {
        pf_free(c->v[i]->key);
        pf_free(c->v[i]->data);
        pf_free(c->v[i]);
    }
    pf_free(c->v);
    memset(c, 0, sizeof(*c));
}

/* Finds `key`; returns a borrowed, immutable entry (valid until the fetcher is freed) or NULL. */
static const struct cache_entry *cache_get(struct worker_apt_fetcher *f, struct cache *c,
                                           const char *key)
{
    const struct cache_entry *e = NULL;

    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < c->n && !e; i++)
        if (strcmp(c->v[i]->key, key) == 0)
            e = c->v[i];
    pthread_mutex_unlock(&f->lock);
    return e;
}

/* Adds a copy of `data` under `key` unless present or over the memory bound (then nothing is
 * cached, which is not an error). Returns 0 or -ENOMEM. */
static int cache_put(struct worker_apt_fetcher *f, struct cache *c, const char *key,
                     const char *data, size_t len)
{
    struct cache_entry *e = pf_calloc(1, sizeof(*e));
    int r = -ENOMEM;

    if (!e)
        return -ENOMEM;
    e->key = pf_strdup(key);
    e->data = pf_malloc(len + 1);
    if (!e->key || !e->data)
        goto fail;
    memcpy(e->data, data, len);
    e->data[len] = '\0';
    e->len = len;
    pthread_mutex_lock(&f->lock);
    r = 0;
    for (size_t i = 0; i < c->n && r == 0; i++)
        if (strcmp(c->v[i]->key, key) == 0)
            r = 1;
    if (r == 0 && c->bytes + len > WORKER_APT_FETCH_MEMCACHE_MAX)
        r = 1;
    if (r == 0)
        r = PF_GROW(c->v, c->cap, c->n + 1);
    if (r == 0) {
        c->v[c->n++] = e;
        c->bytes += len;
        e = NULL;
    }
    pthread_mutex_unlock(&f->lock);
    r = r < 0 ? r : 0;
fail:
    if (e) {
        pf_free(e->key);
        pf_free(e->data);
        pf_free(e);
    }
    return r;
}

/* Moves the NUL-terminated `*data` (`len` bytes, from pf_malloc) into the cache under `key`,
 * setting *data to NULL. Returns the entry holding `key` (borrowed): the new one, or the one
 * already there (then *data stays the caller's). Returns NULL and leaves *data alone when the
 * entry does not fit the memory bound or memory is short: caching is an optimisation. */
static const struct cache_entry *cache_take(struct worker_apt_fetcher *f, struct cache *c,
                                            const char *key, char **data, size_t len)
{
    struct cache_entry *e = pf_calloc(1, sizeof(*e)), *found = NULL;

    if (!e)
        return NULL;
    e->key = pf_strdup(key);
    if (!e->key) {
        pf_free(e);
        return NULL;
    }
    e->data = *data;
    e->len = len;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < c->n && !found; i++)
        if (strcmp(c->v[i]->key, key) == 0)
            found = c->v[i];
    if (!found && c->bytes + len <= WORKER_APT_FETCH_MEMCACHE_MAX)
        (void)PF_GROW(c->v, c->cap, c->n + 1);
    if (!found && c->bytes + len <= WORKER_APT_FETCH_MEMCACHE_MAX && c->n < c->cap) {
        c->v[c->n++] = e;
        c->bytes += len;
        found = e;
        e = NULL;
        *data = NULL;
    }
    pthread_mutex_unlock(&f->lock);
    if (e) {
        pf_free(e->key);
        pf_free(e);
    }
    return found;
}

/* ---- transport ---- */

/* Fetches `url` (file:, http:, https:) through the common mirror fetcher: its size cap,
 * timeouts, redirect cap and retries. */
static int fetch(const struct worker_apt_fetcher *f, const char *url, uint64_t max,
                 const struct pf_mirror_sink *sink, char *errbuf, size_t errlen)
{
    pf_log(LOG_DEBUG, "apt: fetching '%s'", url);
    return pf_mirror_fetch(&f->mopts, url, max, sink, errbuf, errlen);
}

static int fetch_buf(const struct worker_apt_fetcher *f, const char *url, size_t max,
                     struct pf_buf *out, char *errbuf, size_t errlen)
{
    pf_log(LOG_DEBUG, "apt: fetching '%s'", url);
    pf_buf_init(out, max + 1);
    return pf_mirror_fetch_buf(&f->mopts, url, max, out, errbuf, errlen);
}

/*
 * Decompresses a bare .xz/.gz stream (libarchive's raw format) into a new NUL-terminated buffer
 * of at most `max` bytes. `hint` is the expected size (the Release lists the plain file's):
 * the buffer is sized once from it and libarchive writes straight into it, where growing a
 * buffer through a bounce chunk used to copy a 45 MiB index about three times.
 */
static int decompress_from(struct archive *a, int opened, size_t hint, size_t max, char **ret,
                           size_t *ret_len)
{
    struct archive_entry *ae = NULL;
    size_t cap = hint > 0 && hint <= max ? hint + 1 : 1 << 20, n = 0;
    char *out = pf_malloc(cap);
    int r = 0;

    if (!out) {
        r = -ENOMEM;
        goto out;
    }
    if (opened != ARCHIVE_OK || archive_read_next_header(a, &ae) != ARCHIVE_OK) {
        r = -EBADMSG;
        goto out;
    }
    for (;;) {
        la_ssize_t got;

        if (cap - n < 2) {
            char *grown = cap > max ? NULL : pf_realloc(out, cap * 2);

            r = cap > max ? -E2BIG : -ENOMEM;
            if (!grown)
                goto out;
            out = grown;
            cap *= 2;
            r = 0;
        }
        got = archive_read_data(a, out + n, cap - n - 1);
        if (got < 0) {
            r = -EBADMSG;
            goto out;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n > max) {
            r = -E2BIG;
            goto out;
        }
    }
    out[n] = '\0';
    *ret = out;
    *ret_len = n;
    out = NULL;
out:
    pf_free(out);
    return r;
}

/* Says in errbuf why <dist_url>/<path> could not be decompressed (decompress()'s `r`). */
static void decompress_error(int r, const char *dist_url, const char *path, char *errbuf,
                             size_t errlen)
{
    (void)pf_set_error(errbuf, errlen, r, "cannot decompress '%s/%s': %s", dist_url, path,
                       r == -E2BIG    ? "too large"
                       : r == -ENOMEM ? "out of memory"
                                      : "corrupt data");
}

/* The compressions an apt index may come in (apt's own list: gz, xz, bz2, lzma, zst), decoded
 * in-process only: libarchive's "all filters" would also run external programs on data from a
 * mirror. Uncompressed input is always accepted. */
#define APT_INDEX_FILTERS                                                                          \
    (PF_ARCHIVE_FILTER_GZIP | PF_ARCHIVE_FILTER_XZ | PF_ARCHIVE_FILTER_BZIP2 |                     \
     PF_ARCHIVE_FILTER_LZMA | PF_ARCHIVE_FILTER_ZSTD)

static int decompress(const char *data, size_t len, size_t hint, size_t max, char **ret,
                      size_t *ret_len)
{
    struct archive *a;
    int r = pf_archive_read_new(APT_INDEX_FILTERS, PF_ARCHIVE_FORMAT_RAW, &a);

    if (r < 0)
        return r;
    r = decompress_from(a, archive_read_open_memory(a, data, len), hint, max, ret, ret_len);
    (void)archive_read_free(a);
    return r;
}

/*
 * Decompressing while downloading: a fetch thread appends the body to `raw` (kept whole, for the
 * Release hash check at the end) and the decompressing thread copies out what has arrived, so
 * the xz of a 9 MB index runs during its transfer instead of after it. Nothing decompressed is
 * used before the whole compressed file has matched its Release hash.
 */
struct stream {
    pthread_mutex_t lock;
    pthread_cond_t more;
    struct pf_buf raw; /* the body so far; grows (and moves) under `lock` */
    size_t taken;      /* bytes handed to the decompressor */
    bool done;         /* the fetch returned */
    int fetch_r;
    const struct worker_apt_fetcher *f;
    const char *url;
    char err[512];
    char chunk[65536]; /* the decompressor's copy of the next piece */
};

static int stream_append(const void *data, size_t len, void *userdata)
{
    struct stream *st = userdata;
    int r;

    pthread_mutex_lock(&st->lock);
    r = pf_buf_append(&st->raw, data, len);
    pthread_cond_signal(&st->more);
    pthread_mutex_unlock(&st->lock);
    return r;
}

static void *stream_fetch_main(void *arg)
{
    struct stream *st = arg;
    /* No reset: what was handed to the decompressor cannot be taken back, so a transient
     * failure is retried only before the first byte. */
    struct pf_mirror_sink s = {stream_append, NULL, st};
    int r = fetch(st->f, st->url, WORKER_APT_FETCH_MAX_INDEX, &s, st->err, sizeof(st->err));

    pthread_mutex_lock(&st->lock);
    st->done = true;
    st->fetch_r = r;
    pthread_cond_signal(&st->more);
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

static la_ssize_t stream_read(struct archive *a, void *arg, const void **ret)
{
    struct stream *st = arg;
    size_t n = 0;
    int r;

    pthread_mutex_lock(&st->lock);
    while (st->taken == st->raw.len && !st->done)
        pthread_cond_wait(&st->more, &st->lock);
    if (st->taken < st->raw.len) {
        n = st->raw.len - st->taken;
        n = n < sizeof(st->chunk) ? n : sizeof(st->chunk);
        memcpy(st->chunk, st->raw.p + st->taken, n);
        st->taken += n;
    }
    r = st->fetch_r;
    pthread_mutex_unlock(&st->lock);
    *ret = st->chunk;
    if (n == 0 && r < 0) {
        archive_set_error(a, EIO, "fetch failed");
        return -1;
    }
    return (la_ssize_t)n;
}

/*
 * Fetches `url` into `raw` (a new buffer, the whole body) while decompressing it into *ret_text
 * (as decompress()). Returns the fetch's result (errbuf set from it); *dec_r is the
 * decompression's (0 with *ret_text set, or a negative errno) and is only meaningful after a
 * successful fetch. 1 when no thread could be started (nothing was fetched).
 */
static int fetch_decompressing(const struct worker_apt_fetcher *f, const char *url, uint64_t hint,
                               struct pf_buf *raw, char **ret_text, size_t *ret_len, int *dec_r,
                               char *errbuf, size_t errlen)
{
    struct stream *st = pf_calloc(1, sizeof(*st));
    struct archive *a = NULL;
    pthread_t tid;
    int r;

    if (!st)
        return -ENOMEM;
    (void)pthread_mutex_init(&st->lock, NULL);
    (void)pthread_cond_init(&st->more, NULL);
    pf_buf_init(&st->raw, WORKER_APT_FETCH_MAX_INDEX + 1);
    st->f = f;
    st->url = url;
    if (pthread_create(&tid, NULL, stream_fetch_main, st) != 0) {
        r = 1;
        goto out;
    }
    *dec_r = pf_archive_read_new(APT_INDEX_FILTERS, PF_ARCHIVE_FORMAT_RAW, &a);
    if (*dec_r == 0) {
        *dec_r = decompress_from(a, archive_read_open(a, st, NULL, stream_read, NULL), hint,
                                 WORKER_APT_INDEX_MAX_INPUT, ret_text, ret_len);
        (void)archive_read_free(a);
    }
    /* The fetch always runs to its end, even past a decompression error: the Release hash
     * check of the whole file decides which error is reported, as for a plain fetch. */
    (void)pthread_join(tid, NULL);
    r = st->fetch_r;
    if (r < 0)
        (void)pf_set_error(errbuf, errlen, 0, "%s", st->err);
    if (r < 0 && *dec_r == 0)
        *ret_text = pf_free(*ret_text);
    *raw = st->raw;
    pf_buf_init(&st->raw, 0);
out:
    pf_buf_release(&st->raw);
    pthread_cond_destroy(&st->more);
    pthread_mutex_destroy(&st->lock);
    pf_free(st);
    return r;
}

/* ---- Release and indexes ---- */

/* Writes `data` to dir/name through a temp file, fsync and rename (readers never see a part). */
static int write_atomic(const char *dir, const char *name, const void *data, size_t len)
{
    char *tmp = pf_asprintf("%s/.tmp-XXXXXX", dir), *dst = pf_asprintf("%s/%s", dir, name);
    int fd = -1, r = -ENOMEM;

    if (!tmp || !dst)
        goto out;
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        r = -errno;
        goto out;
    }
    r = pf_write_all(fd, data, len);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, dst) < 0)
        r = -errno;
    if (r < 0)
        (void)unlink(tmp);
out:
    pf_free(tmp);
    pf_free(dst);
    return r;
}

/*
 * Whether the verified Release text says "No-Support-for-Architecture-all: Packages": its
 * arch-all packages are listed in every binary-<arch>/Packages, so apt does not read binary-all/
 * (debmetaindex.cc) although Architectures names "all" (bookworm's does; its binary-all index
 * is a second 0.4 s of fetch and xz on a cold run, for candidates already listed).
 * The Release is one stanza, so a field is a line starting with its name.
 */
static bool release_all_in_arch(const char *text, size_t len)
{
    static const char field[] = "No-Support-for-Architecture-all:";
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *v;

        eol = eol ? eol : end;
        if ((size_t)(eol - p) > sizeof(field) - 1 &&
            strncasecmp(p, field, sizeof(field) - 1) == 0) {
            v = p + sizeof(field) - 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            while (eol > v && (eol[-1] == ' ' || eol[-1] == '\t' || eol[-1] == '\r'))
                eol--;
            /* cppcheck-suppress knownConditionTrueFalse ; false positive: any length remains */
            return eol - v == 8 && memcmp(v, "Packages", 8) == 0;
        }
        p = eol + 1;
    }
    return false;
}

/* Fetches and verifies InRelease (or takes the verified text from the cache), then parses it
 * and checks Valid-Until. *ret_all_in_arch is release_all_in_arch() of the text. */
static int load_release(struct worker_apt_fetcher *f, const struct worker_apt_source *src,
                        const struct worker_layer_view *view, const char *workdir,
                        const char *dist_url, struct worker_apt_release **ret,
                        bool *ret_all_in_arch, char *errbuf, size_t errlen)
{
    char *url = pf_asprintf("%s/InRelease", dist_url), *key = NULL, *signed_text = NULL;
    struct worker_apt_keyring kr = {NULL, NULL, NULL};
    struct pf_buf raw = PF_BUF_INIT;
    const struct cache_entry *ce;
    struct worker_apt_release *rel = NULL;
    char gerr[512] = "";
    size_t len = 0;
    int r = -ENOMEM;

    if (!url)
        return -ENOMEM;
    r = worker_apt_keyring_prepare(src, f->default_keyring, view, workdir, &kr, errbuf, errlen);
    if (r < 0)
        goto out;
    key = pf_asprintf("%s|%s", url, kr.id);
    if (!key) {
        r = -ENOMEM;
        goto out;
    }
    ce = cache_get(f, &f->releases, key);
    if (!ce) {
        r = fetch_buf(f, url, WORKER_APT_FETCH_MAX_INRELEASE, &raw, errbuf, errlen);
        if (r < 0)
            goto out;
        r = worker_gpgv_verify_clearsigned(kr.ring, raw.p ? raw.p : "", raw.len, &signed_text, &len,
                                           gerr, sizeof(gerr));
        if (r == -EBADMSG || r == -ENOKEY) {
            r = -EBADMSG;
            (void)pf_set_error(errbuf, errlen, 0, "InRelease '%s' failed verification: %s", url,
                               gerr);
        } else if (r < 0) {
            (void)pf_set_error(errbuf, errlen, 0, "cannot verify InRelease '%s': %s", url, gerr);
        }
        if (r < 0)
            goto out;
        r = cache_put(f, &f->releases, key, signed_text, len);
        if (r < 0)
            goto out;
    }
    r = worker_apt_release_parse(ce ? ce->data : signed_text, ce ? ce->len : len, &rel, gerr,
                                 sizeof(gerr));
    if (r == 0)
        r = worker_apt_release_check_valid_until(rel, f->now ? f->now : time(NULL), gerr,
                                                 sizeof(gerr));
    if (r < 0) {
        (void)pf_set_error(errbuf, errlen, 0, "Release of '%s' refused: %s", url, gerr);
        goto out;
    }
    *ret = rel;
    *ret_all_in_arch = release_all_in_arch(ce ? ce->data : signed_text, ce ? ce->len : len);
    rel = NULL;
out:
    worker_apt_release_free(rel);
    worker_apt_keyring_release(&kr);
    pf_buf_release(&raw);
    pf_free(signed_text);
    pf_free(url);
    pf_free(key);
    return r;
}

/* Gets the listed bytes of `path`: from the disk cache when they still match, else fetched
 * (by hash first when the Release offers it) and verified against the Release; written to the
 * disk cache when `keep`. */
static int fetch_index_file(struct worker_apt_fetcher *f, const struct worker_apt_release *rel,
                            const char *dist_url, const char *path, const char *hex, bool keep,
                            struct pf_buf *out, char *errbuf, size_t errlen)
{
    char *cached = pf_asprintf("%s/%s", f->index_dir, hex), *url = NULL, *by_hash = NULL;
    char verr[512] = "";
    int r;

    if (!cached)
        return -ENOMEM;
    pf_buf_init(out, WORKER_APT_FETCH_MAX_INDEX + 1);
    r = pf_buf_read_file(out, cached);
    if (r == 0 && worker_apt_verify_index(rel, path, out->p, out->len, NULL, 0) == 0)
        goto out;
    pf_buf_release(out);
    if (rel->acquire_by_hash && worker_apt_release_by_hash_path(rel, path, &by_hash) == 0) {
        url = pf_asprintf("%s/%s", dist_url, by_hash);
        r = url ? fetch_buf(f, url, WORKER_APT_FETCH_MAX_INDEX, out, errbuf, errlen) : -ENOMEM;
        if (r == -ENOENT) {
            pf_buf_release(out);
            url = pf_free(url);
        }
    }
    if (!url) {
        url = pf_asprintf("%s/%s", dist_url, path);
        r = url ? fetch_buf(f, url, WORKER_APT_FETCH_MAX_INDEX, out, errbuf, errlen) : -ENOMEM;
    }
    if (r < 0)
        goto out;
    r = worker_apt_verify_index(rel, path, out->p, out->len, verr, sizeof(verr));
    if (r < 0) {
        (void)pf_set_error(errbuf, errlen, 0, "index '%s' does not match its Release: %s", url,
                           verr);
        r = r == -ENOENT ? -EBADMSG : r;
        goto out;
    }
    if (keep && write_atomic(f->index_dir, hex, out->p, out->len) < 0)
        pf_log(LOG_DEBUG, "apt: cannot cache '%s' in '%s', ignoring", url, f->index_dir);
out:
    if (r < 0)
        pf_buf_release(out);
    pf_free(cached);
    pf_free(url);
    pf_free(by_hash);
    return r;
}

/* Reads the cache file `path` whole into a new NUL-terminated buffer, sized once from fstat
 * (a cached index is tens of MiB). Returns 0, -E2BIG past `max`, or a negative errno. */
static int read_cache_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;
    struct stat st;
    size_t n = 0, size;
    char *p = NULL;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size > max) {
        r = -E2BIG;
        goto out;
    }
    size = (size_t)st.st_size;
    p = pf_malloc(size + 1);
    if (!p) {
        r = -ENOMEM;
        goto out;
    }
    while (n < size) {
        ssize_t got = read(fd, p + n, size - n);

        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            r = got < 0 ? -errno : -EIO; /* shrunk under us: a writer is not atomic, refuse */
            goto out;
        }
        n += (size_t)got;
    }
    p[n] = '\0';
    *ret = p;
    *ret_len = n;
    p = NULL;
out:
    pf_free(p);
    (void)close(fd);
    return r;
}

/* Where an index's text comes from and goes to: the Release path and hash of the file fetched
 * (`path`, `hex`) and, when that file is compressed and the Release also lists the plain
 * Packages (Debian's does even when the mirror serves only .xz), the plain path and hash. */
struct index_ref {
    const char *path, *hex;
    const char *plain_path, *plain_hex; /* NULL when `path` is plain or not listed */
    uint64_t plain_size;
    bool compressed;
};

/*
 * fetch_index_file() and decompress() overlapped, for a compressed index whose plain text has a
 * Release entry (the usual case; such a compressed file is never disk-cached, so there is no
 * cache to look at first). Returns 0 with the text in *ret, 1 when no thread could be started
 * (the caller takes the sequential path), or a negative errno with the same precedence as that
 * path: fetch errors, then a Release mismatch, then decompression errors.
 */
static int stream_index_text(struct worker_apt_fetcher *f, const struct worker_apt_release *rel,
                             const char *dist_url, const struct index_ref *ref, char **ret,
                             size_t *ret_len, char *errbuf, size_t errlen)
{
    struct pf_buf raw = PF_BUF_INIT;
    char *url = NULL, *by_hash = NULL, *text = NULL;
    char verr[512] = "";
    size_t len = 0;
    int r = 0, dec_r = 0;

    if (rel->acquire_by_hash && worker_apt_release_by_hash_path(rel, ref->path, &by_hash) == 0) {
        url = pf_asprintf("%s/%s", dist_url, by_hash);
        r = url ? fetch_decompressing(f, url, ref->plain_size, &raw, &text, &len, &dec_r, errbuf,
                                      errlen)
                : -ENOMEM;
        if (r == -ENOENT) {
            pf_buf_release(&raw);
            url = pf_free(url);
        }
    }
    if (!url) {
        url = pf_asprintf("%s/%s", dist_url, ref->path);
        r = url ? fetch_decompressing(f, url, ref->plain_size, &raw, &text, &len, &dec_r, errbuf,
                                      errlen)
                : -ENOMEM;
    }
    if (r != 0)
        goto out;
    r = worker_apt_verify_index(rel, ref->path, raw.p, raw.len, verr, sizeof(verr));
    if (r < 0) {
        (void)pf_set_error(errbuf, errlen, 0, "index '%s' does not match its Release: %s", url,
                           verr);
        r = r == -ENOENT ? -EBADMSG : r;
        goto out;
    }
    r = dec_r;
    if (r < 0) {
        decompress_error(r, dist_url, ref->path, errbuf, errlen);
        goto out;
    }
    *ret = text;
    *ret_len = len;
    text = NULL;
out:
    pf_free(text);
    pf_free(url);
    pf_free(by_hash);
    pf_buf_release(&raw);
    return r;
}

/*
 * Gets the decompressed text of one index into *ret (a new buffer). The disk cache holds the
 * plain text under its Release SHA256, re-hashed on every read like every cached file (45 MiB
 * hash in ~25 ms, where xz took ~0.5 s): a warm run never decompresses. Without a plain entry
 * the compressed file is cached as before.
 */
static int index_text(struct worker_apt_fetcher *f, const struct worker_apt_release *rel,
                      const char *dist_url, const struct index_ref *ref, char **ret,
                      size_t *ret_len, char *errbuf, size_t errlen)
{
    struct pf_buf raw = PF_BUF_INIT;
    char *cached = NULL, *text = NULL;
    size_t len = 0;
    int r;

    if (ref->plain_hex) {
        cached = pf_asprintf("%s/%s", f->index_dir, ref->plain_hex);
        if (!cached)
            return -ENOMEM;
        r = read_cache_file(cached, WORKER_APT_INDEX_MAX_INPUT, &text, &len);
        if (r == 0 && worker_apt_verify_index(rel, ref->plain_path, text, len, NULL, 0) == 0)
            goto done;
        text = pf_free(text);
        /* Cold: the download and the xz of the index overlap (text stays NULL on fallback). */
        r = ref->compressed ? stream_index_text(f, rel, dist_url, ref, &text, &len, errbuf, errlen)
                            : 0;
        if (r < 0)
            goto out;
    }
    if (!text) {
        r = fetch_index_file(f, rel, dist_url, ref->path, ref->hex, !ref->plain_hex, &raw, errbuf,
                             errlen);
        if (r < 0)
            goto out;
        if (!ref->compressed) {
            text = pf_buf_steal(&raw, &len);
            r = text ? 0 : -ENOMEM;
            goto done;
        }
        r = decompress(raw.p, raw.len, ref->plain_size, WORKER_APT_INDEX_MAX_INPUT, &text, &len);
        if (r < 0) {
            decompress_error(r, dist_url, ref->path, errbuf, errlen);
            goto out;
        }
    }
    r = 0;
    /* Only text that matches the plain entry is cached under its hash; a mismatch (an archive
     * bug) still uses the text, vouched for by the compressed file's hash, just uncached. */
    if (ref->plain_hex && worker_apt_verify_index(rel, ref->plain_path, text, len, NULL, 0) == 0 &&
        write_atomic(f->index_dir, ref->plain_hex, text, len) < 0)
        pf_log(LOG_DEBUG, "apt: cannot cache '%s/%s' in '%s', ignoring", dist_url, ref->plain_path,
               f->index_dir);
done:
    *ret = text;
    *ret_len = len;
    text = NULL;
out:
    pf_free(text);
    pf_free(cached);
    pf_buf_release(&raw);
    return r;
}

/* Loads <base>{.xz,.gz,} of one component and arch into `idx`; with `idx` NULL only brings its
 * text into the memory cache (a prefetch). Returns 1 when loaded, 0 when the Release lists none
 * of them, or a negative errno. */
static int load_index(struct worker_apt_fetcher *f, const struct worker_apt_release *rel,
                      const char *dist_url, const char *base, const char *base_url,
                      struct worker_apt_index *idx, char *errbuf, size_t errlen)
{
    static const char *const exts[] = {".xz", ".gz", ""};
    struct index_ref ref = {.plain_path = base};
    const struct cache_entry *ce;
    char *path = NULL, *text = NULL;
    char perr[512] = "";
    uint64_t size = 0;
    size_t e, len = 0;
    int r = 0;

    for (e = 0; e < PF_ARRAY_SIZE(exts) && !ref.hex; e++) {
        path = pf_free(path);
        path = pf_asprintf("%s%s", base, exts[e]);
        if (!path)
            return -ENOMEM;
        if (worker_apt_release_find(rel, path, &ref.hex, &size) < 0)
            ref.hex = NULL;
    }
    if (!ref.hex)
        goto out;
    ref.path = path;
    ref.compressed = *exts[e - 1] != '\0';
    if (!ref.compressed ||
        worker_apt_release_find(rel, base, &ref.plain_hex, &ref.plain_size) < 0) {
        ref.plain_hex = NULL;
        ref.plain_size = 0;
    }
    /* Keyed by the plain text's hash when known, so a .xz and a .gz of one index are one entry. */
    ce = cache_get(f, &f->indexes, ref.plain_hex ? ref.plain_hex : ref.hex);
    if (!ce) {
        r = index_text(f, rel, dist_url, &ref, &text, &len, errbuf, errlen);
        if (r < 0)
            goto out;
        ce = cache_take(f, &f->indexes, ref.plain_hex ? ref.plain_hex : ref.hex, &text, len);
    }
    if (!idx) /* a prefetch: the text is in the memory cache now (or could not be kept) */
        goto loaded;
    r = worker_apt_index_add_packages(idx, base_url, ce ? ce->data : text, ce ? ce->len : len, perr,
                                      sizeof(perr));
    if (r < 0) {
        (void)pf_set_error(errbuf, errlen, 0, "'%s/%s': %s", dist_url, path, perr);
        goto out;
    }
loaded:
    r = 1;
out:
    pf_free(text);
    pf_free(path);
    return r;
}

static char *strip_slashes(char *s)
{
    size_t n = s ? strlen(s) : 0;

    while (n > 0 && s[n - 1] == '/')
        s[--n] = '\0';
    return s;
}

/* The URL of the directory holding InRelease: <uri>/dists/<suite>, or for a flat repository
 * <uri>/<suite> ("./" meaning <uri> itself). */
static char *dist_url_of(const char *uri, const struct worker_apt_source *src)
{
    char *suite;
    char *u;

    if (!src->flat)
        return pf_asprintf("%s/dists/%s", uri, src->suite);
    suite = strip_slashes(pf_strdup(src->suite));
    if (!suite)
        return NULL;
    u = strcmp(suite, ".") == 0 || !*suite ? pf_strdup(uri) : pf_asprintf("%s/%s", uri, suite);
    pf_free(suite);
    return u;
}

/*
 * Refuses a Release dated before the newest one accepted for its repository (a mirror
 * replaying an old, validly signed Release). The repository is the dist URL as the image's
 * sources name it, BEFORE --pkg-mirror rewriting: every mirror of one suite shares one memory,
 * and a mirror cannot pick a fresh key by its own URL. Signed fields (Origin, Suite, Codename)
 * are not part of the key: a mirror serving another suite's older Release at this URL is
 * compared with this URL's memory and refused. `url` is the InRelease fetched, for messages.
 */
static int check_fresh(struct worker_apt_fetcher *f, const struct worker_apt_source *src,
                       const struct worker_apt_release *rel, const char *url, char *errbuf,
                       size_t errlen)
{
    char *uri, *dist = NULL, *key = NULL;
    char ferr[256] = "", a[40], b[40];
    time_t newest = 0;
    int r = -ENOMEM;

    if (!f->freshness)
        return 0;
    uri = strip_slashes(pf_strdup(src->uri));
    dist = uri ? dist_url_of(uri, src) : NULL;
    key = dist ? pf_asprintf("apt %s", dist) : NULL;
    if (key)
        r = worker_index_freshness_check(f->freshness, key, rel->date, &newest, ferr, sizeof(ferr));
    if (r == -ESTALE)
        (void)pf_set_error(errbuf, errlen, r,
                           "Release of '%s' refused: %s for repository '%s': an older index "
                           "replayed? (--allow-index-rollback accepts it)",
                           url, ferr, dist);
    else if (r == 1)
        pf_log(LOG_WARNING,
               "Release of '%s' dated %s is older than %s, accepted for repository '%s' "
               "(--allow-index-rollback)",
               url, worker_index_freshness_format(rel->date, a, sizeof(a)),
               worker_index_freshness_format(newest, b, sizeof(b)), dist);
    else if (r < 0 && r != -ENOMEM)
        (void)pf_set_error(errbuf, errlen, r, "Release of '%s' refused: %s", url, ferr);
    pf_free(uri);
    pf_free(dist);
    pf_free(key);
    return r < 0 ? r : 0;
}

/* One index of a source fetched ahead on its own thread (see struct prefetch). */
struct index_prefetch {
    struct worker_apt_fetcher *f;
    const struct worker_apt_release *rel;
    const char *dist, *base, *uri;
    pthread_t tid;
    bool started;
};

/* Index files of one source fetched ahead at once. */
#define INDEX_PREFETCH_MAX 8

static void *index_prefetch_main(void *arg)
{
    struct index_prefetch *p = arg;
    char err[512];

    (void)load_index(p->f, p->rel, p->dist, p->base, p->uri, NULL, err, sizeof(err));
    return NULL;
}

static int load_source(struct worker_apt_fetcher *f, const struct worker_apt_source *src,
                       const struct worker_layer_view *view, const char *arch, const char *workdir,
                       struct worker_apt_index *idx, char *errbuf, size_t errlen)
{
    struct index_prefetch pre[INDEX_PREFETCH_MAX];
    struct pf_strv bases = PF_STRV_INIT;
    struct worker_apt_release *rel = NULL;
    char *uri = NULL, *dist = NULL;
    size_t n_archs, n_pre = 0;
    bool all_in_arch = false;
    int r = pf_mirror_rewrite(&f->mirrors, src->uri, &uri);

    if (r < 0) {
        (void)pf_set_error(errbuf, errlen, 0, "cannot rewrite '%s'", src->uri);
        return r;
    }
    strip_slashes(uri);
    dist = dist_url_of(uri, src);
    r = dist ? load_release(f, src, view, workdir, dist, &rel, &all_in_arch, errbuf, errlen)
             : -ENOMEM;
    if (r == 0) {
        char *in_release = pf_asprintf("%s/InRelease", dist);

        r = in_release ? check_fresh(f, src, rel, in_release, errbuf, errlen) : -ENOMEM;
        pf_free(in_release);
    }
    if (r < 0)
        goto out;
    if (src->flat) {
        r = load_index(f, rel, dist, "Packages", dist, idx, errbuf, errlen);
        goto out;
    }
    /* As apt: binary-all/ only when the Release lists "all" among its architectures and does
     * not say its arch-all packages are in every binary-<arch>/Packages (Debian's and Ubuntu's
     * say so); a mirror's stale binary-all/ must not fail a patch apt itself would not read. */
    n_archs = pf_strv_contains(&rel->architectures, "all") && !all_in_arch ? 2 : 1;
    for (size_t c = 0; c < src->components.n && r >= 0; c++) {
        r = pf_strv_pushf(&bases, "%s/binary-%s/Packages", src->components.v[c], arch);
        if (r >= 0 && n_archs == 2)
            r = pf_strv_pushf(&bases, "%s/binary-all/Packages", src->components.v[c]);
    }
    /* Every index after the first is fetched and decompressed on a thread of its own while
     * this one does the first (bookworm's binary-amd64 and binary-all overlap); they are
     * still added to `idx` in order, and their errors met again in order. */
    memset(pre, 0, sizeof(pre));
    for (size_t i = 1; i < bases.n && r >= 0 && n_pre < INDEX_PREFETCH_MAX; i++, n_pre++) {
        pre[n_pre] = (struct index_prefetch){.f = f,
                                             .rel = rel,
                                             .dist = dist,
                                             .base = bases.v[i],
                                             .uri = uri};
        pre[n_pre].started = pthread_create(&pre[n_pre].tid, NULL, index_prefetch_main,
                                            &pre[n_pre]) == 0;
    }
    for (size_t i = 0; i < bases.n && r >= 0; i++) {
        if (i >= 1 && i - 1 < n_pre && pre[i - 1].started) {
            (void)pthread_join(pre[i - 1].tid, NULL);
            pre[i - 1].started = false;
        }
        r = load_index(f, rel, dist, bases.v[i], uri, idx, errbuf, errlen);
    }
    for (size_t k = 0; k < n_pre; k++)
        if (pre[k].started)
            (void)pthread_join(pre[k].tid, NULL);
out:
    worker_apt_release_free(rel);
    pf_strv_clear(&bases);
    pf_free(uri);
    pf_free(dist);
    return r < 0 ? r : 0;
}

/*
 * One source fetched ahead on its own thread: its verified Release and index texts land in the
 * fetcher's memory caches, and the in-order pass that builds the index then finds them there.
 * A prefetch's errors are dropped: the in-order pass meets them again and reports them as a
 * sequential load would, so results and messages do not depend on thread timing.
 */
struct prefetch {
    struct worker_apt_fetcher *f;
    const struct worker_apt_source *src;
    const struct worker_layer_view *view;
    const char *arch, *workdir;
    pthread_t tid;
    bool started;
};

/* Sources fetched ahead at once; more wait for the in-order pass (a sources.list rarely has
 * more than a handful, and each thread holds a whole index while it decompresses). */
#define PREFETCH_MAX 8

static void *prefetch_main(void *arg)
{
    struct prefetch *p = arg;
    char err[512];

    (void)load_source(p->f, p->src, p->view, p->arch, p->workdir, NULL, err, sizeof(err));
    return NULL;
}

static bool source_applies(const struct worker_apt_source *src, const char *arch)
{
    /* arch= restricts a source; a source not built for this arch has nothing for us. */
    return src->archs.n == 0 || pf_strv_contains(&src->archs, arch);
}

int worker_apt_fetcher_load(struct worker_apt_fetcher *f, const struct worker_apt_sources *sources,
                            const struct worker_layer_view *view, const char *arch,
                            const char *workdir, struct worker_apt_index **ret, char *errbuf,
                            size_t errlen)
{
    struct prefetch pre[PREFETCH_MAX];
    struct worker_apt_index *idx = NULL;
    size_t n_pre = 0;
    int r = worker_apt_index_new(&idx);

    /* Every applicable source after the first is fetched (and xz-decompressed) on a thread of its
     * own while this thread loads and parses the first: on a cold cache the fetches and the
     * decompression of bookworm, -updates and -security overlap instead of queueing. */
    memset(pre, 0, sizeof(pre));
    for (size_t i = 0, seen = 0; i < sources->n && r >= 0 && n_pre < PREFETCH_MAX; i++) {
        if (!source_applies(&sources->v[i], arch) || seen++ == 0)
            continue;
        pre[n_pre] = (struct prefetch){.f = f,
                                       .src = &sources->v[i],
                                       .view = view,
                                       .arch = arch,
                                       .workdir = workdir};
        pre[n_pre].started = pthread_create(&pre[n_pre].tid, NULL, prefetch_main, &pre[n_pre]) == 0;
        n_pre++;
    }
    for (size_t i = 0; i < sources->n && r >= 0; i++) {
        const struct worker_apt_source *src = &sources->v[i];

        if (!source_applies(src, arch))
            continue;
        /* Wait for this source's prefetch so its files are not fetched twice at once. */
        for (size_t k = 0; k < n_pre; k++)
            if (pre[k].src == src && pre[k].started) {
                (void)pthread_join(pre[k].tid, NULL);
                pre[k].started = false;
            }
        r = load_source(f, src, view, arch, workdir, idx, errbuf, errlen);
    }
    for (size_t k = 0; k < n_pre; k++)
        if (pre[k].started)
            (void)pthread_join(pre[k].tid, NULL);
    if (r < 0) {
        worker_apt_index_free(idx);
        return r;
    }
    *ret = idx;
    return 0;
}

/* ---- .debs ---- */

/* Checks the file at `path` against the candidate's size and SHA256. */
static int check_deb(const char *path, const struct worker_apt_candidate *c, char *got_hex,
                     size_t got_len, uint64_t *got_size)
{
    char digest[PF_DIGEST_BUFSZ];
    const char *hex;
    int fd = open(path, O_RDONLY | O_CLOEXEC), r;

    if (fd < 0)
        return -errno;
    r = pf_sha256_fd(fd, digest, got_size);
    (void)close(fd);
    if (r < 0)
        return r;
    hex = pf_digest_sha256_hex(digest);
    snprintf(got_hex, got_len, "%s", hex ? hex : "?");
    return *got_size == c->size && hex && strcmp(hex, c->sha256) == 0 ? 0 : -EBADMSG;
}

int worker_apt_fetcher_get_deb(struct worker_apt_fetcher *f, const struct worker_apt_candidate *c,
                               char **ret_path, char *errbuf, size_t errlen)
{
    char *path = NULL, *tmp = NULL, *url = NULL;
    char got[80] = "";
    uint64_t got_size = 0;
    int fd = -1, r = -ENOMEM;

    if (!c->sha256 || strlen(c->sha256) != 64 || strspn(c->sha256, "0123456789abcdef") != 64) {
        (void)pf_set_error(errbuf, errlen, 0, "package '%s' has a malformed SHA256", c->package);
        return -EINVAL;
    }
    path = pf_asprintf("%s/%s.deb", f->deb_dir, c->sha256);
    if (!path)
        goto out;
    /* A cached file is hashed again: the cache directory is not part of the chain of trust. */
    r = check_deb(path, c, got, sizeof(got), &got_size);
    if (r == 0)
        goto done;
    if (r == -EBADMSG)
        (void)unlink(path);
    r = -ENOMEM;
    url = pf_asprintf("%s/%s", c->base_url, c->filename);
    tmp = pf_asprintf("%s/.tmp-XXXXXX", f->deb_dir);
    if (!url || !tmp)
        goto out;
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        r = -errno;
        (void)pf_set_error(errbuf, errlen, 0, "cannot create a file in '%s': %s", f->deb_dir,
                           strerror(-r));
        tmp = pf_free(tmp);
        goto out;
    }
    pf_log(LOG_DEBUG, "apt: fetching '%s'", url);
    r = pf_mirror_fetch_fd(&f->mopts, url, c->size, fd, errbuf, errlen);
    if (r == -E2BIG)
        r = -EBADMSG;
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (r == 0) {
        r = check_deb(tmp, c, got, sizeof(got), &got_size);
        if (r == -EBADMSG)
            (void)pf_set_error(errbuf, errlen, 0,
                               "package '%s' %s from '%s' does not match its index: %" PRIu64
                               " bytes sha256 %s, expected %" PRIu64 " bytes sha256 %s",
                               c->package, c->version, url, got_size, got, c->size, c->sha256);
    } else if (r == -EBADMSG) {
        (void)pf_set_error(errbuf, errlen, 0,
                           "package '%s' %s from '%s' is larger than its index says (%" PRIu64
                           " bytes)",
                           c->package, c->version, url, c->size);
    }
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0)
        goto out;
    tmp = pf_free(tmp);
done:
    *ret_path = path;
    path = NULL;
    r = 0;
out:
    if (fd >= 0)
        (void)close(fd);
    if (tmp)
        (void)unlink(tmp);
    pf_free(tmp);
    pf_free(path);
    pf_free(url);
    return r;
}

/* ---- sources and mirrors ---- */

static int append_source(struct worker_apt_sources *s, const char *uri, const char *suite)
{
    struct worker_apt_source e = {0};

    if (PF_GROW(s->v, s->cap, s->n + 1) < 0)
        return -ENOMEM;
    e.uri = pf_strdup(uri);
    e.suite = pf_strdup(suite);
    e.file = pf_strdup("(default)");
    if (!e.uri || !e.suite || !e.file || pf_strv_push(&e.components, "main") < 0) {
        pf_free(e.uri);
        pf_free(e.suite);
        pf_free(e.file);
        pf_strv_clear(&e.components);
        return -ENOMEM;
    }
    s->v[s->n++] = e;
    return 0;
}

int worker_apt_default_sources(const struct worker_os_release *osr, const char *arch,
                               struct worker_apt_sources *ret)
{
    static const char *const debian_sfx[] = {"", "-updates"};
    static const char *const ubuntu_sfx[] = {"", "-updates", "-security"};
    const char *code = osr->version_codename;
    const char *const *sfx;
    const char *uri;
    size_t n_sfx, before = ret->n;
    char suite[128];
    int r = 0;

    if (osr->family == WORKER_DISTRO_UBUNTU) {
        if (!code || !*code)
            code = osr->ubuntu_codename;
        bool x86 = arch && (strcmp(arch, "amd64") == 0 || strcmp(arch, "i386") == 0);

        uri = x86 ? "http://archive.ubuntu.com/ubuntu" : "http://ports.ubuntu.com/ubuntu-ports";
        sfx = ubuntu_sfx;
        n_sfx = PF_ARRAY_SIZE(ubuntu_sfx);
    } else if (osr->family == WORKER_DISTRO_DEBIAN) {
        uri = "http://deb.debian.org/debian";
        sfx = debian_sfx;
        n_sfx = PF_ARRAY_SIZE(debian_sfx);
    } else {
        return -ENOTSUP;
    }
    /* The codename becomes part of a URL: lowercase letters, digits and '-' only. */
    if (!code || !*code || strlen(code) > 64 ||
        strspn(code, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(code))
        return -ENOTSUP;
    /* sid (unstable) has neither -updates nor -security suites. */
    if (strcmp(code, "sid") == 0)
        n_sfx = 1;
    for (size_t i = 0; i < n_sfx && r == 0; i++) {
        snprintf(suite, sizeof(suite), "%s%s", code, sfx[i]);
        r = append_source(ret, uri, suite);
    }
    if (r == 0 && osr->family == WORKER_DISTRO_DEBIAN && strcmp(code, "sid") != 0) {
        snprintf(suite, sizeof(suite), "%s-security", code);
        r = append_source(ret, "http://deb.debian.org/debian-security", suite);
    }
    if (r < 0) {
        while (ret->n > before) {
            struct worker_apt_source *e = &ret->v[--ret->n];

            pf_free(e->uri);
            pf_free(e->suite);
            pf_free(e->file);
            pf_strv_clear(&e->components);
        }
        return r;
    }
    return (int)(ret->n - before);
}

/* ---- lifecycle ---- */

static int mkdir_p(const char *path)
{
    char *p = pf_strdup(path);
    int r = 0;

    if (!p)
        return -ENOMEM;
    for (char *s = p + 1; r == 0; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;

        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            r = -errno;
        *s = c;
        if (c == '\0')
            break;
    }
    pf_free(p);
    return r;
}

int worker_apt_fetcher_new(const struct worker_apt_fetch_options *o,
                           struct worker_apt_fetcher **ret, char *errbuf, size_t errlen)
{
    struct worker_apt_fetcher *f;
    char *probe = NULL;
    int r = -ENOMEM;

    if (!o || !o->cache_dir || !*o->cache_dir) {
        (void)pf_set_error(errbuf, errlen, 0, "the apt fetcher needs a cache directory");
        return -EINVAL;
    }
    if (o->mirrors && pf_mirror_rewrite(o->mirrors, "", &probe) == -EINVAL) {
        (void)pf_set_error(errbuf, errlen, 0, "malformed package mirror rule (want FROM=TO)");
        return -EINVAL;
    }
    pf_free(probe);
    f = pf_calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    (void)pthread_mutex_init(&f->lock, NULL);
    f->now = o->now;
    f->freshness = o->freshness;
    f->cache_dir = pf_strdup(o->cache_dir);
    f->deb_dir = pf_asprintf("%s/debs", o->cache_dir);
    f->index_dir = pf_asprintf("%s/indexes", o->cache_dir);
    if (o->default_keyring)
        f->default_keyring = pf_strdup(o->default_keyring);
    if (o->ca_file)
        f->ca_file = pf_strdup(o->ca_file);
    if (!f->cache_dir || !f->deb_dir || !f->index_dir ||
        (o->default_keyring && !f->default_keyring) || (o->ca_file && !f->ca_file) ||
        (o->mirrors && pf_strv_extend(&f->mirrors, o->mirrors) < 0))
        goto fail;
    r = mkdir_p(f->deb_dir);
    if (r == 0)
        r = mkdir_p(f->index_dir);
    if (r < 0) {
        (void)pf_set_error(errbuf, errlen, 0, "cannot create cache directory '%s': %s",
                           o->cache_dir, strerror(-r));
        goto fail;
    }
    f->mopts.ca_file = f->ca_file;
    *ret = f;
    return 0;
fail:
    if (r == -ENOMEM)
        (void)pf_set_error(errbuf, errlen, 0, "out of memory");
    worker_apt_fetcher_free(f);
    return r;
}

struct worker_apt_fetcher *worker_apt_fetcher_free(struct worker_apt_fetcher *f)
{
    if (!f)
        return NULL;
    cache_clear(&f->releases);
    cache_clear(&f->indexes);
    pthread_mutex_destroy(&f->lock);
    pf_strv_clear(&f->mirrors);
    pf_free(f->cache_dir);
    pf_free(f->deb_dir);
    pf_free(f->index_dir);
    pf_free(f->default_keyring);
    pf_free(f->ca_file);
    return pf_free(f);
}
