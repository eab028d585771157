/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Deterministic layer writer. Entries wait in an array (plus a hash set that refuses duplicate
 * paths at add time); finish sorts them by path components, writes ustar headers by hand (pax
 * records only for what ustar cannot hold) and pipes the tar through sha256 (diff_id) into
 * libarchive's gzip filter, whose output goes through a second sha256 (digest) to out_fd.
 * The tar is hand-written because libarchive's pax writer names its extended headers after the
 * process id; libarchive only provides deflate (zlib is not on the link line, see
 * docs/layer-writer.md) and its 10-byte gzip header is replaced by our fixed one.
 */
#include "pf/setup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/archive.h"
#include "pf/hashmap.h"
#include "pf/io.h"
#include "pf/buf.h"
#include "image/layer_writer.h"

#define TAR_BLOCK 512u
#define CHUNK (64u * 1024)
#define USTAR_NAME 100u
#define USTAR_PREFIX 155u
#define USTAR_MAX_ID 07777777u
#define USTAR_MAX_SIZE 077777777777ULL
#define GZ_HDR_LEN 10u
#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define PAX_DIR "PaxHeaders.0/"

enum lw_kind {
    LW_FILE,
    LW_DIR,
    LW_SYMLINK,
    LW_HARDLINK,
    LW_WHITEOUT,
};

struct lw_entry {
    char *path; /* stored name, without the trailing "/" of directories */
    enum lw_kind kind;
    struct worker_layer_attr attr;
    char *link;          /* symlink or hard link target */
    unsigned char *data; /* owned copy (LW_FILE from memory) */
    int fd;              /* borrowed (LW_FILE from fd), else -1 */
    uint64_t offset;
    uint64_t size;
};

struct worker_layer_writer {
    struct lw_entry *v;
    size_t n, cap;
    struct pf_hashmap paths; /* the entries' paths (borrowed from v[i].path), to refuse twins */
    size_t mem;
    uint64_t content, max_content; /* file bytes added (memory and fd alike), and their bound */
    int64_t mtime;
    bool finished;
};

/* The output pipeline of one finish call. */
struct lw_sink {
    struct archive *a;
    int fd;
    int err;
    struct pf_sha256 tar_hash;
    struct pf_sha256 gz_hash;
    uint64_t tar_size;
    uint64_t gz_size;
    unsigned char hdr[GZ_HDR_LEN]; /* libarchive's header, checked then replaced */
    size_t hdr_len;
};

/* gzip header: magic, deflate, no flags (no name, no comment), mtime 0, XFL 0, OS 255. */
static const unsigned char gz_fixed_header[GZ_HDR_LEN] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff,
};

int worker_layer_writer_new(int64_t mtime, struct worker_layer_writer **ret)
{
    struct worker_layer_writer *w;

    if (mtime < 0 || mtime > WORKER_LAYER_WRITER_MAX_MTIME)
        return -EINVAL;
    w = pf_calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->mtime = mtime;
    w->max_content = WORKER_LAYER_WRITER_MAX_SIZE;
    *ret = w;
    return 0;
}

void worker_layer_writer_set_max_size(struct worker_layer_writer *w, uint64_t max)
{
    w->max_content = max ? max : WORKER_LAYER_WRITER_MAX_SIZE;
}

uint64_t worker_layer_writer_max_size(const struct worker_layer_writer *w)
{
    return w->max_content;
}

/* Whether `len` more file bytes keep the layer within its bound. */
static bool content_fits(const struct worker_layer_writer *w, uint64_t len)
{
    return len <= w->max_content && w->content <= w->max_content - len;
}

static void entry_release(struct lw_entry *e)
{
    pf_free(e->path);
    pf_free(e->link);
    pf_free(e->data);
}

struct worker_layer_writer *worker_layer_writer_free(struct worker_layer_writer *w)
{
    if (!w)
        return NULL;
    for (size_t i = 0; i < w->n; i++)
        entry_release(&w->v[i]);
    pf_free(w->v);
    pf_hashmap_release(&w->paths);
    return pf_free(w);
}

/* Checks one user-supplied path against the rules in layer_writer.h. */
static int path_check(const char *path, bool allow_empty)
{
    size_t len;
    const char *p = path;

    if (!path)
        return -EINVAL;
    len = strnlen(path, WORKER_LAYER_WRITER_MAX_PATH + 1);
    if (len > WORKER_LAYER_WRITER_MAX_PATH)
        return -EINVAL;
    if (len == 0)
        return allow_empty ? 0 : -EINVAL;
    for (;;) {
        size_t c = strcspn(p, "/");

        if (c == 0 || (c == 1 && p[0] == '.') || (c == 2 && p[0] == '.' && p[1] == '.'))
            return -EINVAL;
        if (c >= strlen(WH_PREFIX) && memcmp(p, WH_PREFIX, strlen(WH_PREFIX)) == 0)
            return -EINVAL;
        if (p[c] == '\0')
            return 0;
        p += c + 1;
    }
}

/* Takes `e` (its strings and data) into the writer on success; on failure `e` still belongs
 * to the caller. */
static int entry_push(struct worker_layer_writer *w, struct lw_entry *e)
{
    int r;

    if (w->finished)
        return -EINVAL;
    if (w->n >= WORKER_LAYER_WRITER_MAX_ENTRIES)
        return -E2BIG;
    r = PF_GROW(w->v, w->cap, w->n + 1);
    if (r < 0)
        return r;
    /* The map borrows e->path, which moves into v[] with the entry. */
    r = pf_hashmap_add(&w->paths, e->path, NULL);
    if (r <= 0)
        return r == 0 ? -EEXIST : r;
    w->v[w->n++] = *e;
    return 0;
}

/* Builds and pushes an entry whose name is the (checked) `path`; steals `data`. */
static int entry_add(struct worker_layer_writer *w, const char *path, enum lw_kind kind,
                     const struct worker_layer_attr *attr, const char *link, unsigned char *data)
{
    struct lw_entry e = {.kind = kind, .fd = -1, .data = data};
    int r;

    e.attr = *attr;
    e.attr.mode &= 07777;
    e.path = pf_strdup(path);
    if (!e.path) {
        r = -ENOMEM;
        goto fail;
    }
    if (link) {
        e.link = pf_strdup(link);
        if (!e.link) {
            r = -ENOMEM;
            goto fail;
        }
    }
    r = entry_push(w, &e);
    if (r < 0)
        goto fail;
    return 0;
fail:
    entry_release(&e);
    return r;
}

int worker_layer_writer_add_dir(struct worker_layer_writer *w, const char *path,
                                const struct worker_layer_attr *attr)
{
    int r = path_check(path, false);

    if (r < 0 || !attr)
        return -EINVAL;
    return entry_add(w, path, LW_DIR, attr, NULL, NULL);
}

int worker_layer_writer_add_file_mem(struct worker_layer_writer *w, const char *path,
                                     const struct worker_layer_attr *attr, const void *data,
                                     size_t len)
{
    unsigned char *copy = NULL;
    int r = path_check(path, false);

    if (r < 0 || !attr || (!data && len > 0))
        return -EINVAL;
    if (len > WORKER_LAYER_WRITER_MAX_MEM - w->mem)
        return -E2BIG;
    if (!content_fits(w, len))
        return -EFBIG;
    if (len > 0) {
        copy = pf_malloc(len);
        if (!copy)
            return -ENOMEM;
        memcpy(copy, data, len);
    }
    r = entry_add(w, path, LW_FILE, attr, NULL, copy);
    if (r < 0)
        return r;
    w->v[w->n - 1].size = len;
    w->mem += len;
    w->content += len;
    return 0;
}

int worker_layer_writer_add_file_fd(struct worker_layer_writer *w, const char *path,
                                    const struct worker_layer_attr *attr, int fd, uint64_t offset,
                                    uint64_t length)
{
    int r = path_check(path, false);

    if (r < 0 || !attr || fd < 0 || offset > (uint64_t)INT64_MAX ||
        length > (uint64_t)INT64_MAX - offset)
        return -EINVAL;
    if (!content_fits(w, length))
        return -EFBIG;
    r = entry_add(w, path, LW_FILE, attr, NULL, NULL);
    if (r < 0)
        return r;
    w->v[w->n - 1].fd = fd;
    w->v[w->n - 1].offset = offset;
    w->v[w->n - 1].size = length;
    w->content += length;
    return 0;
}

int worker_layer_writer_add_symlink(struct worker_layer_writer *w, const char *path,
                                    const struct worker_layer_attr *attr, const char *target)
{
    int r = path_check(path, false);
    size_t len;

    if (r < 0 || !attr || !target)
        return -EINVAL;
    len = strnlen(target, WORKER_LAYER_WRITER_MAX_PATH + 1);
    if (len == 0 || len > WORKER_LAYER_WRITER_MAX_PATH)
        return -EINVAL;
    return entry_add(w, path, LW_SYMLINK, attr, target, NULL);
}

int worker_layer_writer_add_hardlink(struct worker_layer_writer *w, const char *path,
                                     const char *target)
{
    static const struct worker_layer_attr none = {0};
    int r = path_check(path, false);

    if (r < 0)
        return r;
    r = path_check(target, false);
    if (r < 0)
        return r;
    return entry_add(w, path, LW_HARDLINK, &none, target, NULL);
}

/* Adds the whiteout file `<dir>/<name>` (dir may be ""). */
static int whiteout_add(struct worker_layer_writer *w, const char *dir, size_t dir_len,
                        const char *name)
{
    static const struct worker_layer_attr wh_attr = {.mode = 0644};
    char *path;
    int r;

    if (dir_len > 0)
        path = pf_asprintf("%.*s/%s", (int)dir_len, dir, name);
    else
        path = pf_strdup(name);
    if (!path)
        return -ENOMEM;
    r = entry_add(w, path, LW_WHITEOUT, &wh_attr, NULL, NULL);
    pf_free(path);
    return r;
}

int worker_layer_writer_add_whiteout(struct worker_layer_writer *w, const char *path)
{
    const char *slash;
    char *name;
    int r = path_check(path, false);

    if (r < 0)
        return r;
    slash = strrchr(path, '/');
    name = pf_asprintf(WH_PREFIX "%s", slash ? slash + 1 : path);
    if (!name)
        return -ENOMEM;
    r = whiteout_add(w, path, slash ? (size_t)(slash - path) : 0, name);
    pf_free(name);
    return r;
}

int worker_layer_writer_add_opaque(struct worker_layer_writer *w, const char *dir)
{
    int r = path_check(dir, true);

    if (r < 0)
        return r;
    return whiteout_add(w, dir, strlen(dir), WH_OPAQUE);
}

/* Whiteouts sort before their siblings (the OCI image spec asks for that), the opaque one
 * first of all; other components compare bytewise. */
static int component_rank(const char *c, size_t len)
{
    if (len == strlen(WH_OPAQUE) && memcmp(c, WH_OPAQUE, len) == 0)
        return 0;
    if (len >= strlen(WH_PREFIX) && memcmp(c, WH_PREFIX, strlen(WH_PREFIX)) == 0)
        return 1;
    return 2;
}

/* Orders paths component by component, a parent before everything below it, and a whole
 * subtree before the next sibling: "a" < "a/b" < "a.b". */
static int path_cmp(const char *a, const char *b)
{
    for (;;) {
        size_t la = strcspn(a, "/"), lb = strcspn(b, "/");

        if (la != lb || memcmp(a, b, la) != 0) {
            int ra = component_rank(a, la), rb = component_rank(b, lb);
            int c = memcmp(a, b, la < lb ? la : lb);

            if (ra != rb)
                return ra < rb ? -1 : 1;
            if (c != 0)
                return c;
            return la < lb ? -1 : 1;
        }
        a += la;
        b += lb;
        if (*a == '\0' || *b == '\0')
            return (*a != '\0') - (*b != '\0');
        a++;
        b++;
    }
}

static int entry_cmp(const void *x, const void *y)
{
    const struct lw_entry *a = x, *b = y;

    return path_cmp(a->path, b->path);
}

static int entry_key_cmp(const void *key, const void *y)
{
    const struct lw_entry *b = y;

    return path_cmp(key, b->path);
}

/* Sorts, then copies each hard link's header fields from its target, which must be a regular
 * file of this layer. */
static int entries_prepare(struct worker_layer_writer *w)
{
    /* Entries are written in sorted order, so no add may follow the sort, even after an error. */
    w->finished = true;
    if (w->n > 1)
        qsort(w->v, w->n, sizeof(*w->v), entry_cmp);
    for (size_t i = 0; i < w->n; i++) {
        struct lw_entry *e = &w->v[i];
        const struct lw_entry *t;

        if (e->kind != LW_HARDLINK)
            continue;
        t = bsearch(e->link, w->v, w->n, sizeof(*w->v), entry_key_cmp);
        if (!t || t->kind != LW_FILE)
            return -EINVAL;
        e->attr = t->attr;
    }
    return 0;
}

static int sink_emit(struct lw_sink *s, const void *buf, size_t len)
{
    int r = pf_sha256_update(&s->gz_hash, buf, len);

    if (r < 0)
        return r;
    r = pf_write_all(s->fd, buf, len);
    if (r < 0)
        return r;
    s->gz_size += len;
    return 0;
}

/* libarchive's output callback: swaps its gzip header for ours, then hashes and writes. */
static la_ssize_t sink_write_cb(struct archive *a, void *userdata, const void *buf, size_t len)
{
    struct lw_sink *s = userdata;
    const unsigned char *p = buf;
    size_t done = 0;
    int r = 0;

    while (s->hdr_len < GZ_HDR_LEN && done < len)
        s->hdr[s->hdr_len++] = p[done++];
    if (s->hdr_len == GZ_HDR_LEN && done > 0) {
        /* Flags must be 0: an optional name or comment field would follow the header. */
        if (memcmp(s->hdr, gz_fixed_header, 4) != 0)
            r = -EIO;
        else
            r = sink_emit(s, gz_fixed_header, GZ_HDR_LEN);
    }
    if (r == 0 && done < len)
        r = sink_emit(s, p + done, len - done);
    if (r < 0) {
        s->err = r;
        archive_set_error(a, -r, "cannot write layer");
        return -1;
    }
    return (la_ssize_t)len;
}

/* Feeds tar bytes to the diff_id hash and the compressor. */
static int tar_emit(struct lw_sink *s, const void *buf, size_t len)
{
    la_ssize_t n;
    int r;

    if (len == 0)
        return 0;
    r = pf_sha256_update(&s->tar_hash, buf, len);
    if (r < 0)
        return r;
    n = archive_write_data(s->a, buf, len);
    if (n < 0 || (size_t)n != len)
        return s->err < 0 ? s->err : -EIO;
    s->tar_size += len;
    return 0;
}

static int tar_pad(struct lw_sink *s, uint64_t size)
{
    static const unsigned char zero[TAR_BLOCK];
    size_t rem = (size_t)(size % TAR_BLOCK);

    return rem ? tar_emit(s, zero, TAR_BLOCK - rem) : 0;
}

/* Writes `v` as width-1 zero-padded octal digits and a NUL; the caller checked the range. */
static void put_octal(unsigned char *field, size_t width, uint64_t v)
{
    char tmp[32];

    (void)snprintf(tmp, sizeof(tmp), "%0*" PRIo64, (int)(width - 1), v);
    memcpy(field, tmp, width);
}

/* Splits `name` into ustar prefix and name fields; returns false when it cannot fit. */
static bool ustar_split(const char *name, size_t len, size_t *ret_prefix)
{
    if (len <= USTAR_NAME) {
        *ret_prefix = 0;
        return true;
    }
    for (size_t i = 1; i <= USTAR_PREFIX && i < len; i++) {
        if (name[i] == '/' && len - i - 1 <= USTAR_NAME && len - i - 1 > 0) {
            *ret_prefix = i;
            return true;
        }
    }
    return false;
}

struct tar_hdr {
    const char *name; /* full stored name */
    char type;
    uint32_t mode, uid, gid;
    uint64_t size;
    const char *link;
    bool pax; /* name, link, ids or size are in a preceding pax header */
};

static int tar_header(struct lw_sink *s, const struct tar_hdr *h, int64_t mtime)
{
    unsigned char b[TAR_BLOCK] = {0};
    size_t len = strlen(h->name), prefix = 0;
    unsigned sum = 0;

    if (!h->pax && ustar_split(h->name, len, &prefix) && prefix > 0) {
        memcpy(b + 345, h->name, prefix);
        memcpy(b, h->name + prefix + 1, len - prefix - 1);
    } else {
        memcpy(b, h->name, len < USTAR_NAME ? len : USTAR_NAME);
    }
    put_octal(b + 100, 8, h->mode);
    put_octal(b + 108, 8, h->uid <= USTAR_MAX_ID ? h->uid : 0);
    put_octal(b + 116, 8, h->gid <= USTAR_MAX_ID ? h->gid : 0);
    put_octal(b + 124, 12, h->size <= USTAR_MAX_SIZE ? h->size : 0);
    put_octal(b + 136, 12, (uint64_t)mtime);
    memset(b + 148, ' ', 8);
    b[156] = (unsigned char)h->type;
    if (h->link) {
        size_t l = strlen(h->link);

        memcpy(b + 157, h->link, l < USTAR_NAME ? l : USTAR_NAME);
    }
    memcpy(b + 257, "ustar", 6);
    /* NOLINTNEXTLINE(bugprone-not-null-terminated-result): the ustar version is "00", no NUL. */
    memcpy(b + 263, "00", 2);
    put_octal(b + 329, 8, 0);
    put_octal(b + 337, 8, 0);
    for (size_t i = 0; i < TAR_BLOCK; i++)
        sum += b[i];
    put_octal(b + 148, 7, sum);
    b[155] = ' ';
    return tar_emit(s, b, TAR_BLOCK);
}

/* Appends one "<len> key=value\n" pax record, where len counts the whole record. */
static int pax_record(struct pf_buf *b, const char *key, const char *val)
{
    size_t base = strlen(key) + strlen(val) + 3, len = base + 1;

    for (;;) {
        size_t digits = (size_t)snprintf(NULL, 0, "%zu", len);

        if (base + digits == len)
            break;
        len = base + digits;
    }
    return pf_buf_appendf(b, "%zu %s=%s\n", len, key, val);
}

/* Writes the pax extended header for what `h` cannot hold in ustar fields. */
static int pax_header(struct lw_sink *s, const struct tar_hdr *h, int64_t mtime)
{
    struct pf_buf rec;
    char num[32], name[USTAR_NAME + 1];
    const char *base = strrchr(h->name, '/');
    size_t prefix;
    struct tar_hdr ph = {.name = name, .type = 'x', .mode = 0644};
    int r = 0;

    pf_buf_init(&rec, 4 * WORKER_LAYER_WRITER_MAX_PATH);
    /* A directory's name ends in "/": name the pax header after the last real component. */
    if (base && base[1] == '\0') {
        base = h->name;
        for (const char *p = h->name; p + 1 < h->name + strlen(h->name); p++)
            if (*p == '/')
                base = p + 1;
    } else {
        base = base ? base + 1 : h->name;
    }
    (void)snprintf(name, sizeof(name), PAX_DIR "%s", base);
    if (!ustar_split(h->name, strlen(h->name), &prefix))
        r = pax_record(&rec, "path", h->name);
    if (r == 0 && h->link && strlen(h->link) > USTAR_NAME)
        r = pax_record(&rec, "linkpath", h->link);
    if (r == 0 && h->uid > USTAR_MAX_ID) {
        (void)snprintf(num, sizeof(num), "%" PRIu32, h->uid);
        r = pax_record(&rec, "uid", num);
    }
    if (r == 0 && h->gid > USTAR_MAX_ID) {
        (void)snprintf(num, sizeof(num), "%" PRIu32, h->gid);
        r = pax_record(&rec, "gid", num);
    }
    if (r == 0 && h->size > USTAR_MAX_SIZE) {
        (void)snprintf(num, sizeof(num), "%" PRIu64, h->size);
        r = pax_record(&rec, "size", num);
    }
    if (r < 0)
        goto out;
    ph.size = rec.len;
    r = tar_header(s, &ph, mtime);
    if (r == 0)
        r = tar_emit(s, rec.p, rec.len);
    if (r == 0)
        r = tar_pad(s, rec.len);
out:
    pf_buf_release(&rec);
    return r;
}

static int content_from_fd(struct lw_sink *s, const struct lw_entry *e, unsigned char *chunk)
{
    uint64_t done = 0;

    while (done < e->size) {
        size_t want = e->size - done < CHUNK ? (size_t)(e->size - done) : CHUNK;
        ssize_t n = pread(e->fd, chunk, want, (off_t)(e->offset + done));
        int r;

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO; /* the file ended before the range the caller promised */
        r = tar_emit(s, chunk, (size_t)n);
        if (r < 0)
            return r;
        done += (uint64_t)n;
    }
    return 0;
}

static int entry_write(struct lw_sink *s, const struct lw_entry *e, int64_t mtime,
                       unsigned char *chunk)
{
    static const char types[] = {[LW_FILE] = '0',
                                 [LW_DIR] = '5',
                                 [LW_SYMLINK] = '2',
                                 [LW_HARDLINK] = '1',
                                 [LW_WHITEOUT] = '0'};
    struct tar_hdr h = {.type = types[e->kind],
                        .mode = e->attr.mode,
                        .uid = e->attr.uid,
                        .gid = e->attr.gid,
                        .link = e->link};
    char *dir_name = NULL;
    size_t prefix;
    int r;

    h.size = e->kind == LW_FILE ? e->size : 0;
    h.name = e->path;
    if (e->kind == LW_DIR) {
        dir_name = pf_asprintf("%s/", e->path);
        if (!dir_name)
            return -ENOMEM;
        h.name = dir_name;
    }
    h.pax = !ustar_split(h.name, strlen(h.name), &prefix) ||
            (h.link && strlen(h.link) > USTAR_NAME) || h.uid > USTAR_MAX_ID ||
            h.gid > USTAR_MAX_ID || h.size > USTAR_MAX_SIZE;
    r = h.pax ? pax_header(s, &h, mtime) : 0;
    if (r == 0)
        r = tar_header(s, &h, mtime);
    pf_free(dir_name);
    if (r < 0 || h.size == 0)
        return r;
    r = e->data ? tar_emit(s, e->data, (size_t)e->size) : content_from_fd(s, e, chunk);
    return r < 0 ? r : tar_pad(s, h.size);
}

/* Opens libarchive as a pure gzip compressor: raw format, no blocking, no timestamp. */
static int sink_open(struct lw_sink *s)
{
    struct archive_entry *ae;
    int r;

    /* The reproducible settings (level 6, no timestamp, no blocking) are the wrapper's; an
     * external gzip program, whose output cannot be pinned, is refused there. */
    r = pf_archive_write_new(PF_ARCHIVE_WRITE_GZIP_RAW, &s->a);
    if (r < 0)
        return r;
    if (archive_write_open(s->a, s, NULL, sink_write_cb, NULL) != ARCHIVE_OK)
        return s->err < 0 ? s->err : -EIO;
    ae = archive_entry_new();
    if (!ae)
        return -ENOMEM;
    archive_entry_set_filetype(ae, AE_IFREG);
    r = archive_write_header(s->a, ae);
    archive_entry_free(ae);
    return r == ARCHIVE_OK ? 0 : -EIO;
}

int worker_layer_writer_finish(struct worker_layer_writer *w, int out_fd,
                               struct worker_layer_result *ret)
{
    static const unsigned char trailer[2 * TAR_BLOCK];
    struct lw_sink s = {.fd = out_fd};
    struct worker_layer_result res = {0};
    unsigned char *chunk = NULL;
    int r;

    if (!w || w->finished || out_fd < 0 || !ret)
        return -EINVAL;
    r = entries_prepare(w);
    if (r < 0)
        return r;
    chunk = pf_malloc(CHUNK);
    if (!chunk)
        return -ENOMEM;
    r = pf_sha256_init(&s.tar_hash);
    if (r == 0)
        r = pf_sha256_init(&s.gz_hash);
    if (r == 0)
        r = sink_open(&s);
    for (size_t i = 0; r == 0 && i < w->n; i++)
        r = entry_write(&s, &w->v[i], w->mtime, chunk);
    if (r == 0)
        r = tar_emit(&s, trailer, sizeof(trailer));
    if (r < 0)
        goto out;
    if (archive_write_close(s.a) != ARCHIVE_OK || s.hdr_len != GZ_HDR_LEN) {
        r = s.err < 0 ? s.err : -EIO;
        goto out;
    }
    r = pf_sha256_final(&s.tar_hash, res.diff_id);
    if (r == 0)
        r = pf_sha256_final(&s.gz_hash, res.digest);
    if (r < 0)
        goto out;
    res.size = s.gz_size;
    res.uncompressed_size = s.tar_size;
    *ret = res;
out:
    if (s.a)
        archive_write_free(s.a);
    pf_sha256_release(&s.tar_hash);
    pf_sha256_release(&s.gz_hash);
    pf_free(chunk);
    return r;
}
