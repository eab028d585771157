/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reader of .deb files. The ar layer is parsed by hand with pread() because it is tiny and
 * its rules (common ar format only, fixed member order) are stricter than libarchive's ar
 * reader; the tars inside go through libarchive. control.tar is read once at open, since the
 * engine needs control, md5sums and conffiles before touching data; data.tar is re-read from
 * the file on each walk through a bounded pread() window, so its size never matters. The
 * package is hostile input: names are normalised and refused exactly like layer entries.
 */
#include "pf/setup.h"

#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/archive.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "deb/deb822.h"
#include "deb/deb_file.h"
#include "deb/dpkg_db.h"

#define AR_MAGIC "!<arch>\n"
#define AR_HDR 60
#define READ_CHUNK (64u * 1024)

_Static_assert(WORKER_DEB_MAX_PATH == PF_ARCHIVE_NAME_MAX,
               "entry names are checked by pf_archive_entry_name_normalise into path buffers");

struct member {
    uint64_t off;
    uint64_t size;
    char comp[8]; /* "", "gz", "xz", "zst", "bz2", "lzma" */
};

struct worker_deb_file {
    int fd;
    uint64_t file_size;
    struct member control;
    struct member data;
    struct worker_deb822_doc doc; /* exactly one paragraph */
    char *control_text;
    char *md5sums;
    char *conffiles;
    struct worker_deb_control_member *members; /* the other control members, owned */
    size_t n_members, cap_members;
    size_t members_bytes;
};

/* The state of one pread() window over a member, for libarchive's read callback. */
struct window {
    int fd;
    uint64_t pos, end;
    char buf[READ_CHUNK];
};

struct worker_deb_file *worker_deb_file_free(struct worker_deb_file *d)
{
    if (!d)
        return NULL;
    if (d->fd >= 0)
        (void)close(d->fd);
    worker_deb822_doc_clear(&d->doc);
    pf_free(d->control_text);
    pf_free(d->md5sums);
    pf_free(d->conffiles);
    for (size_t i = 0; i < d->n_members; i++) {
        pf_free(d->members[i].name);
        pf_free(d->members[i].data);
    }
    pf_free(d->members);
    return pf_free(d);
}

/* Parses a space-padded decimal ar field; returns 0 or -EINVAL. */
static int ar_number(const char *f, size_t n, uint64_t *ret)
{
    uint64_t v = 0;
    size_t i = 0;

    if (n == 0 || f[0] < '0' || f[0] > '9')
        return -EINVAL;
    for (; i < n && f[i] >= '0' && f[i] <= '9'; i++) {
        if (v > (UINT64_MAX - 9) / 10)
            return -EINVAL;
        v = v * 10 + (uint64_t)(f[i] - '0');
    }
    for (; i < n; i++)
        if (f[i] != ' ')
            return -EINVAL;
    *ret = v;
    return 0;
}

static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    size_t got = 0;

    while (got < len) {
        ssize_t k = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            return -EINVAL;
        got += (size_t)k;
    }
    return 0;
}

/* Reads the ar header at `off` into name (NUL-terminated, trailing '/' and blanks cut). */
static int ar_header(struct worker_deb_file *d, uint64_t off, char name[17], uint64_t *ret_size,
                     char *errbuf, size_t errlen)
{
    char h[AR_HDR];
    size_t n = 16;
    uint64_t size;
    int r;

    if (off + AR_HDR > d->file_size)
        return pf_set_error(errbuf, errlen, -EINVAL, "truncated ar header at offset %" PRIu64, off);
    r = pread_full(d->fd, h, sizeof(h), off);
    if (r < 0)
        return pf_set_error(errbuf, errlen, r, "cannot read ar header at offset %" PRIu64, off);
    if (h[58] != '`' || h[59] != '\n')
        return pf_set_error(errbuf, errlen, -EINVAL, "bad ar header magic at offset %" PRIu64, off);
    while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '/'))
        n--;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)h[i] <= ' ' || (unsigned char)h[i] > '~')
            return pf_set_error(errbuf, errlen, -EINVAL, "bad ar member name at offset %" PRIu64,
                                off);
    memcpy(name, h, n);
    name[n] = '\0';
    r = ar_number(h + 48, 10, &size);
    if (r < 0 || size > d->file_size - off - AR_HDR)
        return pf_set_error(errbuf, errlen, -EINVAL, "bad size of ar member '%s'", name);
    *ret_size = size;
    return 0;
}

/* Accepts "<base>" and "<base>.<known compression>"; fills m->comp. */
static bool member_is(const char *name, const char *base, struct member *m)
{
    static const char *const comps[] = {"gz", "xz", "zst", "bz2", "lzma"};
    size_t bl = strlen(base);

    if (strncmp(name, base, bl) != 0)
        return false;
    if (name[bl] == '\0') {
        m->comp[0] = '\0';
        return true;
    }
    if (name[bl] != '.')
        return false;
    for (size_t i = 0; i < sizeof(comps) / sizeof(comps[0]); i++) {
        if (strcmp(name + bl + 1, comps[i]) == 0) {
            (void)snprintf(m->comp, sizeof(m->comp), "%s", comps[i]);
            return true;
        }
    }
    return false;
}

/* Walks the ar members: debian-binary, [_*], control.tar*, [_*], data.tar*. */
static int parse_ar(struct worker_deb_file *d, char *errbuf, size_t errlen)
{
    char magic[8], name[17], ver[16];
    uint64_t off = 8, size = 0;
    int stage = 0, r;

    if (d->file_size < 8 || pread_full(d->fd, magic, 8, 0) < 0 || memcmp(magic, AR_MAGIC, 8) != 0)
        return pf_set_error(errbuf, errlen, -EINVAL, "not an ar archive");
    while (stage < 3) {
        r = ar_header(d, off, name, &size, errbuf, errlen);
        if (r < 0)
            return r;
        off += AR_HDR;
        if (stage == 0) {
            if (strcmp(name, "debian-binary") != 0 || size < 4 || size >= sizeof(ver))
                return pf_set_error(errbuf, errlen, -EINVAL,
                                    "first member is '%s', not debian-binary", name);
            r = pread_full(d->fd, ver, (size_t)size, off);
            if (r < 0)
                return pf_set_error(errbuf, errlen, r, "cannot read debian-binary");
            if (memcmp(ver, "2.", 2) != 0 || ver[size - 1] != '\n')
                return pf_set_error(errbuf, errlen, -EINVAL, "unsupported .deb format version");
            stage = 1;
        } else if (name[0] == '_') {
            /* Reserved for tools; dpkg ignores these. */
        } else if (stage == 1 && member_is(name, "control.tar", &d->control)) {
            d->control.off = off;
            d->control.size = size;
            stage = 2;
        } else if (stage == 2 && member_is(name, "data.tar", &d->data)) {
            d->data.off = off;
            d->data.size = size;
            stage = 3;
        } else {
            return pf_set_error(errbuf, errlen, -EINVAL, "unexpected ar member '%s'", name);
        }
        off += size + (size & 1);
    }
    return 0;
}

static la_ssize_t window_read(struct archive *a, void *userdata, const void **ret_buf)
{
    struct window *w = userdata;
    size_t want = sizeof(w->buf);
    ssize_t k;

    if (w->pos >= w->end)
        return 0;
    if (w->end - w->pos < want)
        want = (size_t)(w->end - w->pos);
    do
        k = pread(w->fd, w->buf, want, (off_t)w->pos);
    while (k < 0 && errno == EINTR);
    if (k <= 0) {
        archive_set_error(a, k < 0 ? errno : EIO, "short read of .deb member");
        return -1;
    }
    w->pos += (uint64_t)k;
    *ret_buf = w->buf;
    return k;
}

/* Creates a tar reader for member `m` with only the decompressor its name says. */
static int open_member(struct worker_deb_file *d, const struct member *m, struct window *w,
                       struct archive **ret, char *errbuf, size_t errlen)
{
    struct archive *a = NULL;
    int filter = pf_archive_filter_by_suffix(m->comp);
    int r = filter < 0 ? filter : pf_archive_read_new((unsigned)filter, PF_ARCHIVE_FORMAT_TAR, &a);

    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return pf_set_error(errbuf, errlen, -ENOTSUP, "no in-process decompressor for '.%s'",
                            m->comp);
    w->fd = d->fd;
    w->pos = m->off;
    w->end = m->off + m->size;
    if (archive_read_open(a, w, NULL, window_read, NULL) != ARCHIVE_OK) {
        (void)pf_set_error(errbuf, errlen, -EBADMSG, "corrupt .deb member: %s",
                           pf_archive_error(a));
        archive_read_free(a);
        return -EBADMSG;
    }
    *ret = a;
    return 0;
}

/*
 * Normalises a tar name into `out` (WORKER_DEB_MAX_PATH + 1 bytes): the shared rules of
 * pf/archive.h, the package root ("./", which dpkg-deb writes first) allowed.
 */
static int norm_name(const char *in, char *out)
{
    return pf_archive_entry_name_normalise(in, PF_ARCHIVE_NAME_ROOT, out, NULL, 0);
}

/* Reads the current member whole into a new NUL-terminated *ret (freeing the old one); a text
 * member may not hold a NUL byte. */
static int read_small(struct archive *a, const char *what, int64_t size, bool text, char **ret,
                      size_t *ret_len, char *errbuf, size_t errlen)
{
    struct pf_buf b = PF_BUF_INIT;
    char chunk[4096];
    la_ssize_t k;
    int r;

    if (size < 0 || (uint64_t)size > WORKER_DEB_MAX_CONTROL_FILE)
        return pf_set_error(errbuf, errlen, -EFBIG, "control member '%s' is too large", what);
    pf_buf_init(&b, WORKER_DEB_MAX_CONTROL_FILE + 1);
    r = pf_buf_append(&b, "", 0);
    while (r >= 0 && (k = archive_read_data(a, chunk, sizeof(chunk))) != 0) {
        if (k < 0) {
            r = pf_set_error(errbuf, errlen, -EBADMSG, "corrupt control member '%s': %s", what,
                             pf_archive_error(a));
            break;
        }
        r = pf_buf_append(&b, chunk, (size_t)k);
    }
    if (r >= 0 && text && memchr(b.p, '\0', b.len))
        r = pf_set_error(errbuf, errlen, -EINVAL, "control member '%s' holds a NUL byte", what);
    if (r < 0) {
        pf_buf_release(&b);
        return r == -E2BIG
                   ? pf_set_error(errbuf, errlen, -EFBIG, "control member '%s' is too large", what)
                   : r;
    }
    pf_free(*ret); /* a repeated member: the last one wins, as tar extraction would */
    *ret = pf_buf_steal(&b, ret_len);
    return *ret ? 0 : -ENOMEM;
}

/* The member names dpkg installs into info/: it skips dot files, names with a dot (it could not
 * tell them from another package's files) and "list" (its own file list). */
static bool member_installed(const char *name)
{
    return name[0] != '.' && !strchr(name, '.') && strcmp(name, "list") != 0;
}

/* Keeps another control member (the last copy of a repeated name wins). */
static int keep_member(struct worker_deb_file *d, struct archive *a, struct archive_entry *e,
                       const char *name, char *errbuf, size_t errlen)
{
    struct worker_deb_control_member *m = NULL;
    int64_t size = archive_entry_size(e);
    int r;

    for (size_t i = 0; i < d->n_members && !m; i++)
        if (strcmp(d->members[i].name, name) == 0)
            m = &d->members[i];
    if (!m && d->n_members >= WORKER_DEB_MAX_CONTROL_MEMBERS)
        return pf_set_error(errbuf, errlen, -EFBIG, "control.tar has more than %u members",
                            WORKER_DEB_MAX_CONTROL_MEMBERS);
    if (size > 0 && d->members_bytes + (uint64_t)size > WORKER_DEB_MAX_CONTROL_TOTAL)
        return pf_set_error(errbuf, errlen, -EFBIG, "control members exceed %u bytes together",
                            WORKER_DEB_MAX_CONTROL_TOTAL);
    if (!m) {
        r = PF_GROW(d->members, d->cap_members, d->n_members + 1);
        if (r < 0)
            return r;
        m = &d->members[d->n_members];
        *m = (struct worker_deb_control_member){.name = pf_strdup(name)};
        if (!m->name)
            return -ENOMEM;
        d->n_members++;
    } else {
        d->members_bytes -= m->len;
    }
    r = read_small(a, name, size, false, &m->data, &m->len, errbuf, errlen);
    if (r < 0)
        return r;
    d->members_bytes += m->len;
    m->mode = (uint32_t)archive_entry_perm(e) & 07777;
    return 0;
}

static int read_control(struct worker_deb_file *d, char *errbuf, size_t errlen)
{
    struct window *w = pf_malloc(sizeof(*w));
    struct archive *a = NULL;
    struct archive_entry *e;
    char name[WORKER_DEB_MAX_PATH + 1];
    int r, ar;

    if (!w)
        return -ENOMEM;
    if (d->control.size > WORKER_DEB_MAX_CONTROL_TAR) {
        r = pf_set_error(errbuf, errlen, -EFBIG, "control.tar is too large");
        goto out;
    }
    r = open_member(d, &d->control, w, &a, errbuf, errlen);
    if (r < 0)
        goto out;
    while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        char **dst = NULL;

        if (norm_name(archive_entry_pathname(e), name) < 0) {
            r = pf_set_error(errbuf, errlen, -EINVAL, "hostile control.tar member '%s'",
                             archive_entry_pathname(e) ? archive_entry_pathname(e) : "(null)");
            goto out;
        }
        if (archive_entry_filetype(e) != AE_IFREG)
            continue;
        if (strchr(name, '/')) {
            /* dpkg refuses a package whose control part has a directory. */
            r = pf_set_error(errbuf, errlen, -EINVAL, "control.tar member '%s' is in a directory",
                             name);
            goto out;
        }
        if (strcmp(name, "control") == 0)
            dst = &d->control_text;
        else if (strcmp(name, "md5sums") == 0)
            dst = &d->md5sums;
        else if (strcmp(name, "conffiles") == 0)
            dst = &d->conffiles;
        if (!dst && member_installed(name))
            r = keep_member(d, a, e, name, errbuf, errlen);
        else if (dst)
            r = read_small(a, name, archive_entry_size(e), true, dst, NULL, errbuf, errlen);
        if (r < 0)
            goto out;
    }
    if (ar != ARCHIVE_EOF) {
        r = pf_set_error(errbuf, errlen, -EBADMSG, "corrupt control.tar: %s", pf_archive_error(a));
        goto out;
    }
    if (!d->control_text) {
        r = pf_set_error(errbuf, errlen, -EINVAL, "control.tar has no control file");
        goto out;
    }
    r = 0;
out:
    if (a)
        archive_read_free(a);
    pf_free(w);
    return r;
}

static int check_control(struct worker_deb_file *d, char *errbuf, size_t errlen)
{
    const struct worker_deb822_para *p;
    char msg[256];
    int r;

    r = worker_deb822_parse(d->control_text, strlen(d->control_text), NULL, &d->doc, msg,
                            sizeof(msg));
    if (r < 0)
        return pf_set_error(errbuf, errlen, r, "invalid control file: %s", msg);
    if (d->doc.n != 1)
        return pf_set_error(errbuf, errlen, -EINVAL, "control file has %zu paragraphs, not 1",
                            d->doc.n);
    p = &d->doc.paras[0];
    if (!worker_deb822_para_get(p, "Package") || !worker_deb822_para_get(p, "Version") ||
        !worker_deb822_para_get(p, "Architecture"))
        return pf_set_error(errbuf, errlen, -EINVAL,
                            "control file lacks Package, Version or Architecture");
    /* A package header is data like an index: its names reach file names in the layer. */
    if (!worker_dpkg_name_valid(worker_deb822_para_get(p, "Package")))
        return pf_set_error(errbuf, errlen, -EINVAL, "control file: invalid Package '%s'",
                            worker_deb822_para_get(p, "Package"));
    if (worker_dpkg_version_check(worker_deb822_para_get(p, "Version"), msg, sizeof(msg)) < 0)
        return pf_set_error(errbuf, errlen, -EINVAL, "control file: invalid Version '%s': %s",
                            worker_deb822_para_get(p, "Version"), msg);
    if (!worker_dpkg_arch_valid(worker_deb822_para_get(p, "Architecture")))
        return pf_set_error(errbuf, errlen, -EINVAL, "control file: invalid Architecture '%s'",
                            worker_deb822_para_get(p, "Architecture"));
    return 0;
}

int worker_deb_file_open(const char *path, struct worker_deb_file **ret, char *errbuf,
                         size_t errlen)
{
    struct worker_deb_file *d = pf_calloc(1, sizeof(*d));
    struct stat st;
    int r;

    if (!d)
        return -ENOMEM;
    d->doc = (struct worker_deb822_doc)WORKER_DEB822_DOC_INIT;
    d->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (d->fd < 0) {
        r = pf_set_error(errbuf, errlen, -errno, "cannot open '%s'", path);
        goto fail;
    }
    if (fstat(d->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        r = pf_set_error(errbuf, errlen, -EINVAL, "'%s' is not a regular file", path);
        goto fail;
    }
    d->file_size = (uint64_t)st.st_size;
    r = parse_ar(d, errbuf, errlen);
    if (r >= 0)
        r = read_control(d, errbuf, errlen);
    if (r >= 0)
        r = check_control(d, errbuf, errlen);
    if (r < 0)
        goto fail;
    *ret = d;
    return 0;
fail:
    worker_deb_file_free(d);
    return r;
}

const struct worker_deb822_para *worker_deb_file_control(const struct worker_deb_file *d)
{
    return &d->doc.paras[0];
}

const char *worker_deb_file_control_text(const struct worker_deb_file *d)
{
    return d->control_text;
}

const char *worker_deb_file_md5sums(const struct worker_deb_file *d)
{
    return d->md5sums;
}

const char *worker_deb_file_conffiles(const struct worker_deb_file *d)
{
    return d->conffiles;
}

const struct worker_deb_control_member *worker_deb_file_members(const struct worker_deb_file *d,
                                                                size_t *ret_n)
{
    *ret_n = d->n_members;
    return d->members;
}

/* Fills `out` from a tar header; `path` and `link` are caller buffers. */
static int data_entry(struct archive_entry *e, char *path, char *link,
                      struct worker_deb_data_entry *out)
{
    const char *hl = archive_entry_hardlink(e);
    int r = norm_name(archive_entry_pathname(e), path);

    if (r < 0)
        return r;
    memset(out, 0, sizeof(*out));
    out->path = path;
    out->mode = (uint32_t)archive_entry_perm(e) & 07777;
    out->uid = (uint32_t)archive_entry_uid(e);
    out->gid = (uint32_t)archive_entry_gid(e);
    if (hl) {
        /* A hard link names a file shipped before it, never the root. */
        r = pf_archive_entry_name_normalise(hl, 0, link, NULL, 0);
        if (r < 0)
            return -EINVAL;
        out->type = WORKER_LAYER_HARDLINK;
        out->link = link;
        return 0;
    }
    switch (archive_entry_filetype(e)) {
    case AE_IFREG:
        out->type = WORKER_LAYER_REG;
        out->size = archive_entry_size(e) < 0 ? 0 : (uint64_t)archive_entry_size(e);
        return 0;
    case AE_IFDIR:
        out->type = WORKER_LAYER_DIR;
        return 0;
    case AE_IFLNK:
        hl = archive_entry_symlink(e);
        if (pf_archive_entry_name_check_symlink(hl, NULL, 0) < 0)
            return -EINVAL;
        out->type = WORKER_LAYER_SYMLINK;
        out->link = hl;
        return 0;
    default:
        return -EINVAL; /* device nodes, fifos: never shipped by the packages we patch */
    }
}

int worker_deb_file_each_data(struct worker_deb_file *d, worker_deb_data_cb cb, void *userdata,
                              char *errbuf, size_t errlen)
{
    struct window *w = pf_malloc(sizeof(*w));
    char *path = pf_malloc(2 * (WORKER_DEB_MAX_PATH + 1));
    struct archive *a = NULL;
    struct archive_entry *e;
    size_t count = 0;
    int r, ar;

    if (!w || !path) {
        r = -ENOMEM;
        goto out;
    }
    r = open_member(d, &d->data, w, &a, errbuf, errlen);
    if (r < 0)
        goto out;
    while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        struct worker_deb_data_entry de;
        const char *name = archive_entry_pathname(e);

        if (++count > WORKER_DEB_MAX_DATA_ENTRIES) {
            r = pf_set_error(errbuf, errlen, -EINVAL, "data.tar has too many entries");
            goto out;
        }
        r = data_entry(e, path, path + WORKER_DEB_MAX_PATH + 1, &de);
        if (r < 0) {
            r = pf_set_error(errbuf, errlen, -EINVAL, "hostile data.tar entry '%s'",
                             name ? name : "(null)");
            goto out;
        }
        r = cb(&de, a, userdata);
        if (r < 0)
            goto out;
    }
    if (ar != ARCHIVE_EOF) {
        r = pf_set_error(errbuf, errlen, -EBADMSG, "corrupt data.tar: %s", pf_archive_error(a));
        goto out;
    }
    r = 0;
out:
    if (a)
        archive_read_free(a);
    pf_free(path);
    pf_free(w);
    return r;
}

ssize_t worker_deb_data_read(void *ctx, void *buf, size_t cap)
{
    la_ssize_t k = archive_read_data(ctx, buf, cap);

    return k < 0 ? -EBADMSG : (ssize_t)k;
}
