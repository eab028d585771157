/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Applies .deb installs to the one new layer without running anything. Every path a package
 * writes is routed through the merged view's symlinks first (usr-merged images keep their
 * lib -> usr/lib links), and every path the layer gets is recorded in one hash set, so two
 * packages writing the same file is caught here rather than as a writer -EEXIST, and the
 * parent directories the layer needs are added once at the end with the view's attributes.
 * Whiteouts and database updates are decided only after all packages were walked, because a
 * file one package drops may be shipped by another package of the same batch.
 */
#include "pf/setup.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/digest.h"
#include "pf/err.h"
#include "pf/hashmap.h"
#include "pf/strv.h"
#include "deb/deb822.h"
#include "deb/deb_apply.h"
#include "deb/deb_file.h"
#include "deb/dpkg_db.h"
#include "image/layer_view.h"
#include "image/layer_writer.h"

#define INFO_DIR "var/lib/dpkg/info"
#define STATUSD_DIR "var/lib/dpkg/status.d"
#define OWNER_DB (-1) /* set owner of the database files the engine itself writes */
#define MD5_HEX 33

/* ---- a string hash set; each key remembers who added it ---- */

/* One key of a set, with the key in the same allocation (the map borrows it from here). */
struct slot {
    int owner; /* item index, or OWNER_DB */
    bool dir;
    char key[];
};

struct pset {
    struct pf_hashmap m; /* key -> struct slot */
};

static struct slot *pset_find(const struct pset *p, const char *key)
{
    return pf_hashmap_get(&p->m, key);
}

/* Adds a copy of `key` (no-op when present). Returns 1 when added, 0 when present, -ENOMEM. */
static int pset_add(struct pset *p, const char *key, int owner, bool dir)
{
    size_t len = strlen(key);
    struct slot *s;
    int r;

    if (pset_find(p, key))
        return 0;
    s = pf_malloc(sizeof(*s) + len + 1);
    if (!s)
        return -ENOMEM;
    s->owner = owner;
    s->dir = dir;
    memcpy(s->key, key, len + 1);
    r = pf_hashmap_add(&p->m, s->key, s);
    if (r < 0)
        pf_free(s);
    return r;
}

static void pset_clear(struct pset *p)
{
    struct pf_hashmap_slot *hs;
    size_t it = 0;

    while ((hs = pf_hashmap_next(&p->m, &it)))
        pf_free(hs->value);
    pf_hashmap_release(&p->m);
}

/* ---- per-apply state ---- */

struct item {
    struct worker_deb_file *deb;
    const struct worker_dpkg_pkg *old;
    const char *name, *arch;
    char *info_base;                 /* "<pkg>" or "<pkg>:<arch>" */
    struct pf_strv list;             /* "/.", "/usr", ... in archive order */
    struct pset listed;              /* the same, without the leading '/' */
    struct pf_strv conf_paths;       /* new conffiles, absolute */
    struct pset conf_remove;         /* remove-on-upgrade conffiles, absolute */
    struct worker_dpkg_conffile *cf; /* new Conffiles field */
    size_t n_cf;
    uint64_t data_bytes; /* regular file bytes of data.tar so far (the package size bound) */
};

struct apply {
    struct worker_layer_view *view;
    struct worker_dpkg_db *db;
    struct worker_layer_writer *w;
    const struct worker_deb_apply_options *o;
    struct item *items;
    size_t n;
    size_t cur;                /* item being walked */
    struct pset written;       /* resolved paths in the writer */
    struct pset whiteouts;     /* resolved paths whited out */
    struct pf_strv candidates; /* resolved paths the old versions had and the new ones lack */
    int spool_fd;
    uint64_t spool_off;
    char *errbuf;
    size_t errlen;
};

static const char *owner_name(const struct apply *a, int owner)
{
    return owner == OWNER_DB ? "the dpkg database" : a->items[owner].name;
}

/* Records `path` for the layer; a directory twice is fine, anything else twice is refused. */
static int claim(struct apply *a, const char *path, int owner, bool dir)
{
    struct slot *s = pset_find(&a->written, path);

    if (s) {
        if (s->dir && dir)
            return 0;
        return pf_set_error(a->errbuf, a->errlen, -EINVAL, "'%s' is written by both %s and %s",
                            path, owner_name(a, s->owner), owner_name(a, owner));
    }
    return pset_add(&a->written, path, owner, dir);
}

static int resolve(struct apply *a, const char *path, bool nofollow, char **ret)
{
    char msg[256];
    int r = worker_layer_view_resolve(a->view, path, nofollow, ret, msg, sizeof(msg));

    if (r < 0)
        return pf_set_error(a->errbuf, a->errlen, r, "cannot route '%s' through the image: %s",
                            path, msg);
    return 0;
}

/* The path package `pkg` unpacks absolute packaged path `abs` at, relative and before symlinks
 * are followed: `abs` without its slash, or the diversion's target when another package or the
 * administrator diverted it (dpkg-divert). Borrowed from `abs` or the diversions. */
static const char *diverted_abs(const struct apply *a, const char *abs, const char *pkg)
{
    return worker_dpkg_diversions_target(a->o->diversions, abs, pkg) + 1;
}

/* The same for a relative packaged path `rel`. Borrowed from `rel` or the diversions. */
static const char *diverted(const struct apply *a, const char *rel, const char *pkg)
{
    char abs[WORKER_LAYER_MAX_PATH + 2];
    const char *t;

    if (!a->o->diversions || !a->o->diversions->n ||
        (size_t)snprintf(abs, sizeof(abs), "/%s", rel) >= sizeof(abs))
        return rel;
    t = diverted_abs(a, abs, pkg);
    return t == abs + 1 ? rel : t;
}

static int writer_error(struct apply *a, int r, const char *path)
{
    if (r >= 0)
        return r;
    if (r == -EFBIG)
        return pf_set_error(a->errbuf, a->errlen, r,
                            "cannot add '%s' to the layer: the patch layer would exceed its "
                            "limit of %" PRIu64 " bytes uncompressed (--max-patch-layer-size)",
                            path, worker_layer_writer_max_size(a->w));
    return pf_set_error(a->errbuf, a->errlen, r == -EEXIST ? -EINVAL : r,
                        "cannot add '%s' to the layer", path);
}

/* Adds a regular file (content in memory) owned by the database writer, with the attributes
 * `force`, or when NULL those of the file it replaces (0644 root:root for a new one). */
static int add_db_file_attr(struct apply *a, const char *path, const char *data, size_t len,
                            const struct worker_layer_attr *force)
{
    const struct worker_layer_entry *e;
    struct worker_layer_attr at = {0644, 0, 0};
    char *res = NULL;
    int r;

    r = resolve(a, path, true, &res);
    if (r < 0)
        return r;
    e = worker_layer_view_get(a->view, res);
    if (force)
        at = *force;
    else if (e && e->type == WORKER_LAYER_REG)
        at = (struct worker_layer_attr){e->mode, e->uid, e->gid};
    r = claim(a, res, OWNER_DB, false);
    if (r >= 0)
        r = writer_error(a, worker_layer_writer_add_file_mem(a->w, res, &at, data, len), res);
    pf_free(res);
    return r;
}

static int add_db_file(struct apply *a, const char *path, const char *data, size_t len)
{
    return add_db_file_attr(a, path, data, len, NULL);
}

/* Whites out `path` (resolved, parent-wise) if the image has it and nothing writes it. */
static int whiteout_resolved(struct apply *a, const char *res)
{
    const struct worker_layer_entry *e = worker_layer_view_get(a->view, res);
    int r;

    if (!e || pset_find(&a->written, res) || pset_find(&a->whiteouts, res))
        return 0;
    r = pset_add(&a->whiteouts, res, OWNER_DB, false);
    if (r >= 0)
        r = writer_error(a, worker_layer_writer_add_whiteout(a->w, res), res);
    return r;
}

static int whiteout_path(struct apply *a, const char *path)
{
    char *res = NULL;
    int r = resolve(a, path, true, &res);

    if (r >= 0)
        r = whiteout_resolved(a, res);
    pf_free(res);
    return r;
}

/* ---- content of regular files ---- */

/* Reads the current entry's content into the spool (or memory), hashing it on the way. */
static int take_content(struct apply *a, void *ctx, const struct worker_deb_data_entry *e,
                        struct pf_buf *mem, uint64_t *ret_off, char md5[MD5_HEX])
{
    struct pf_digest_ctx c = {0};
    char chunk[64 * 1024];
    uint64_t off = a->spool_off, total = 0;
    ssize_t k;
    int r = pf_digest_init(&c, PF_DIGEST_MD5);

    while (r >= 0 && (k = worker_deb_data_read(ctx, chunk, sizeof(chunk))) != 0) {
        if (k < 0) {
            r = pf_set_error(a->errbuf, a->errlen, (int)k, "corrupt content of '%s'", e->path);
            break;
        }
        r = pf_digest_update(&c, chunk, (size_t)k);
        if (r < 0)
            break;
        if (a->spool_fd >= 0) {
            ssize_t wr = pwrite(a->spool_fd, chunk, (size_t)k, (off_t)(off + total));

            if (wr != k)
                r = pf_set_error(a->errbuf, a->errlen, wr < 0 ? -errno : -EIO, "cannot spool '%s'",
                                 e->path);
        } else {
            r = pf_buf_append(mem, chunk, (size_t)k);
        }
        total += (uint64_t)k;
    }
    if (r >= 0 && total != e->size)
        r = pf_set_error(a->errbuf, a->errlen, -EBADMSG, "short content of '%s'", e->path);
    if (r >= 0)
        r = pf_digest_final_hex(&c, md5);
    pf_digest_release(&c);
    if (r < 0)
        return r;
    a->spool_off += total;
    *ret_off = off;
    return 0;
}

static int add_content(struct apply *a, const char *path, const struct worker_layer_attr *at,
                       const struct pf_buf *mem, uint64_t off, uint64_t size)
{
    int r = claim(a, path, (int)a->cur, false);

    if (r < 0)
        return r;
    if (a->spool_fd >= 0)
        r = worker_layer_writer_add_file_fd(a->w, path, at, a->spool_fd, off, size);
    else
        r = worker_layer_writer_add_file_mem(a->w, path, at, mem->p, mem->len);
    return writer_error(a, r, path);
}

static const struct worker_dpkg_conffile *old_conffile(const struct item *it, const char *abs)
{
    if (!it->old)
        return NULL;
    for (size_t i = 0; i < it->old->n_conffiles; i++)
        if (strcmp(it->old->conffiles[i].path, abs) == 0)
            return &it->old->conffiles[i];
    return NULL;
}

/*
 * dpkg's conffile decision (src/main/configure.c) with --force-confold. Returns 1 to write the
 * new file in place, 0 to keep the image's file, 2 to keep it and write "<path>.dpkg-dist".
 */
static int conffile_action(struct apply *a, const struct item *it, const char *abs, const char *res,
                           const char *newmd5)
{
    const struct worker_dpkg_conffile *oc = old_conffile(it, abs);
    const char *data;
    size_t len;
    char cur[MD5_HEX];
    int r = worker_layer_view_read(a->view, res, &data, &len);

    if (r == -ENOENT)
        return oc ? 0 : 1; /* deleted by the admin stays deleted */
    if (r < 0 || pf_digest_buf_hex(PF_DIGEST_MD5, data, len, cur) < 0)
        return 1; /* content not kept: nothing to compare, install */
    if (strcmp(cur, newmd5) == 0)
        return 1;
    if (oc && strcmp(oc->md5, cur) == 0)
        return 1; /* not edited */
    if (oc && strcmp(oc->md5, newmd5) == 0)
        return 0; /* edited, and the distribution did not change it */
    return 2;
}

static int set_conffile_md5(struct item *it, const char *abs, const char *md5)
{
    for (size_t i = 0; i < it->n_cf; i++) {
        if (strcmp(it->cf[i].path, abs) == 0) {
            char *m = pf_strdup(md5);

            if (!m)
                return -ENOMEM;
            pf_free(it->cf[i].md5);
            it->cf[i].md5 = m;
        }
    }
    return 0;
}

/* The attributes dpkg gives an unpacked file or directory at packaged path `abs`: the
 * archive's, unless the administrator set a stat override for that path (then owner, group and
 * permission bits are the override's; the file type stays). */
static struct worker_layer_attr entry_attr(const struct apply *a,
                                           const struct worker_deb_data_entry *e, const char *abs)
{
    struct worker_layer_attr at = {e->mode, e->uid, e->gid};
    const struct worker_dpkg_statoverride *so = worker_dpkg_statoverrides_find(a->o->statoverrides,
                                                                               abs);

    if (so) {
        at.mode = (e->mode & ~07777u) | so->mode;
        at.uid = so->uid;
        at.gid = so->gid;
    }
    return at;
}

/* A regular file at packaged path `abs` (e->path with its slash) that lands on `res`. */
static int on_reg(struct apply *a, void *ctx, const struct worker_deb_data_entry *e,
                  const char *abs, const char *res)
{
    struct item *it = &a->items[a->cur];
    struct worker_layer_attr at = entry_attr(a, e, abs);
    struct pf_buf mem = PF_BUF_INIT;
    char md5[MD5_HEX], *dist = NULL;
    uint64_t off = 0;
    int r, act = 1;

    pf_buf_init(&mem, WORKER_LAYER_WRITER_MAX_MEM);
    r = take_content(a, ctx, e, &mem, &off, md5);
    if (r < 0)
        goto out;
    if (pf_strv_contains(&it->conf_paths, abs)) {
        r = set_conffile_md5(it, abs, md5);
        if (r < 0)
            goto out;
        act = conffile_action(a, it, abs, res, md5);
    }
    if (act == 1) {
        r = add_content(a, res, &at, &mem, off, e->size);
    } else if (act == 2) {
        dist = pf_asprintf("%s.dpkg-dist", res);
        r = dist ? add_content(a, dist, &at, &mem, off, e->size) : -ENOMEM;
    }
out:
    pf_free(dist);
    pf_buf_release(&mem);
    return r;
}

/* A directory entry: kept when the image already has a directory there (or a symlink to one). */
static int on_dir(struct apply *a, const struct worker_deb_data_entry *e, const char *abs,
                  const char *res)
{
    const struct worker_layer_entry *cur = worker_layer_view_get(a->view, res);
    struct worker_layer_attr at = entry_attr(a, e, abs);
    int r;

    if (cur && cur->type == WORKER_LAYER_DIR)
        return 0;
    if (cur && cur->type == WORKER_LAYER_SYMLINK) {
        char *tgt = NULL;
        const struct worker_layer_entry *t;

        r = resolve(a, res, false, &tgt);
        if (r < 0)
            return r;
        t = worker_layer_view_get(a->view, tgt);
        pf_free(tgt);
        if (t && t->type == WORKER_LAYER_DIR)
            return 0; /* dpkg keeps a symlink to a directory (usr-merge: lib -> usr/lib) */
    }
    if (pset_find(&a->written, res))
        return claim(a, res, (int)a->cur, true); /* shared directory: 0; a file there: refused */
    r = claim(a, res, (int)a->cur, true);
    if (r >= 0)
        r = writer_error(a, worker_layer_writer_add_dir(a->w, res, &at), res);
    return r;
}

static uint64_t max_package(const struct apply *a)
{
    return a->o->max_package_size ? a->o->max_package_size : WORKER_DEB_MAX_PACKAGE_SIZE;
}

static int on_entry(const struct worker_deb_data_entry *e, void *ctx, void *userdata)
{
    struct apply *a = userdata;
    struct item *it = &a->items[a->cur];
    char *res = NULL, *tgt = NULL;
    const char *abs;
    int r;

    r = *e->path ? pf_strv_pushf(&it->list, "/%s", e->path) : pf_strv_push(&it->list, "/.");
    if (r >= 0)
        r = pset_add(&it->listed, e->path, 0, false);
    if (r < 0 || !*e->path)
        return r;
    abs = it->list.v[it->list.n - 1]; /* the packaged path as the .list has it: "/" + e->path */
    r = resolve(a, diverted_abs(a, abs, it->name), true, &res);
    if (r < 0)
        return r;
    switch (e->type) {
    case WORKER_LAYER_DIR:
        r = on_dir(a, e, abs, res);
        break;
    case WORKER_LAYER_REG:
        /* Declared sizes are checked before any content is inflated: a package of zeros is
         * refused at its first header past the bound. */
        it->data_bytes += e->size;
        if (it->data_bytes > max_package(a)) {
            r = pf_set_error(a->errbuf, a->errlen, -EFBIG,
                             "package '%s': data.tar holds more than %" PRIu64
                             " bytes uncompressed, the package size limit (--max-package-size)",
                             it->name, max_package(a));
            break;
        }
        r = on_reg(a, ctx, e, abs, res);
        break;
    case WORKER_LAYER_SYMLINK:
        r = claim(a, res, (int)a->cur, false);
        if (r >= 0)
            r = writer_error(a,
                             worker_layer_writer_add_symlink(
                                 a->w, res, &(struct worker_layer_attr){e->mode, e->uid, e->gid},
                                 e->link),
                             res);
        break;
    default: /* a hard link: to where its target was unpacked */
        r = resolve(a, diverted(a, e->link, it->name), true, &tgt);
        if (r >= 0)
            r = claim(a, res, (int)a->cur, false);
        if (r >= 0)
            r = writer_error(a, worker_layer_writer_add_hardlink(a->w, res, tgt), res);
        break;
    }
    pf_free(tgt);
    pf_free(res);
    return r;
}

/* ---- per item: control checks, conffiles, removed files ---- */

static int parse_conffiles(struct item *it)
{
    const char *t = worker_deb_file_conffiles(it->deb);
    size_t n = 0;
    int r;

    while (t && *t) {
        size_t l = strcspn(t, "\n");
        char *line = pf_strndup(t, l);
        char *p = line;
        bool remove = false;

        if (!line)
            return -ENOMEM;
        while (l > 0 && (line[l - 1] == ' ' || line[l - 1] == '\t' || line[l - 1] == '\r'))
            line[--l] = '\0';
        if (strncmp(p, "remove-on-upgrade ", 18) == 0) {
            remove = true;
            p += 18;
        }
        while (*p == ' ')
            p++;
        r = 0;
        if (*p == '/')
            r = remove ? pset_add(&it->conf_remove, p, 0, false) : pf_strv_push(&it->conf_paths, p);
        pf_free(line);
        if (r < 0)
            return r;
        t += strcspn(t, "\n");
        if (*t)
            t++;
    }
    it->cf = pf_calloc(it->conf_paths.n ? it->conf_paths.n : 1, sizeof(*it->cf));
    if (!it->cf)
        return -ENOMEM;
    for (; n < it->conf_paths.n; n++) {
        it->cf[n].path = pf_strdup(it->conf_paths.v[n]);
        it->cf[n].md5 = pf_strdup("newconffile"); /* replaced once the file is seen */
        it->n_cf = n + 1;
        if (!it->cf[n].path || !it->cf[n].md5)
            return -ENOMEM;
    }
    return 0;
}

static int check_item(struct apply *a, struct item *it, const struct worker_deb_apply_item *in)
{
    const struct worker_deb822_para *c = worker_deb_file_control(it->deb);
    const char *ma = worker_deb822_para_get(c, "Multi-Arch");

    it->name = worker_deb822_para_get(c, "Package");
    it->arch = worker_deb822_para_get(c, "Architecture");
    it->old = in->old;
    if (it->old && (strcmp(it->old->name, it->name) != 0 || strcmp(it->old->arch, it->arch) != 0))
        return pf_set_error(a->errbuf, a->errlen, -EINVAL,
                            "'%s' holds %s:%s, not the installed %s:%s", in->deb_path, it->name,
                            it->arch, it->old->name, it->old->arch);
    if (!it->old && strcmp(it->arch, "all") != 0 &&
        (!a->o->native_arch || strcmp(it->arch, a->o->native_arch) != 0))
        return pf_set_error(a->errbuf, a->errlen, -EINVAL,
                            "'%s' is for architecture '%s', not '%s'", in->deb_path, it->arch,
                            a->o->native_arch ? a->o->native_arch : "?");
    if (!it->old && worker_dpkg_db_find(a->db, it->name, it->arch))
        return pf_set_error(a->errbuf, a->errlen, -EINVAL,
                            "'%s' (%s) is installed but its item names no old package", it->name,
                            it->arch);
    if (strchr(it->name, '/') || strchr(it->arch, '/'))
        return pf_set_error(a->errbuf, a->errlen, -EINVAL, "invalid package name '%s'", it->name);
    it->info_base = ma && strcmp(ma, "same") == 0 ? pf_asprintf("%s:%s", it->name, it->arch)
                                                  : pf_strdup(it->name);
    return it->info_base ? 0 : -ENOMEM;
}

static char *old_info_base(const struct worker_dpkg_pkg *old)
{
    if (old->multi_arch && strcmp(old->multi_arch, "same") == 0)
        return pf_asprintf("%s:%s", old->name, old->arch);
    return pf_strdup(old->name);
}

/* The old version's file list as text: info/<pkg>.list, or status.d/<file>.md5sums. */
static int old_list_text(struct apply *a, const struct worker_dpkg_pkg *old, const char **ret,
                         size_t *ret_len)
{
    char *path, *base = NULL;
    int r;

    if (a->db->kind == WORKER_DPKG_DB_STATUSD) {
        path = pf_asprintf(STATUSD_DIR "/%s.md5sums",
                           old->statusd_file ? old->statusd_file : old->name);
    } else {
        base = old_info_base(old);
        path = base ? pf_asprintf(INFO_DIR "/%s.list", base) : NULL;
    }
    if (!path) {
        pf_free(base);
        return -ENOMEM;
    }
    r = worker_layer_view_read(a->view, path, ret, ret_len);
    pf_free(path);
    pf_free(base);
    return r;
}

/* One path per line: .list lines are "/path", md5sums lines "<md5>  path". */
static const char *line_path(const char *line, size_t *len, bool md5sums)
{
    if (md5sums) {
        const char *sp = memchr(line, ' ', *len);

        if (!sp)
            return NULL;
        while (sp < line + *len && (*sp == ' ' || *sp == '*'))
            sp++;
        *len -= (size_t)(sp - line);
        line = sp;
    }
    while (*len > 0 && *line == '/') {
        line++;
        (*len)--;
    }
    return *len ? line : NULL;
}

/* Collects the old version's paths the new one does not ship as whiteout candidates. */
static int collect_removed(struct apply *a, struct item *it)
{
    bool md5sums = a->db->kind == WORKER_DPKG_DB_STATUSD;
    const char *t, *end;
    size_t len;
    int r;

    if (!it->old)
        return 0;
    r = old_list_text(a, it->old, &t, &len);
    if (r < 0)
        return 0; /* no list in the image: nothing is known to remove */
    for (end = t + len; t < end;) {
        const char *nl = memchr(t, '\n', (size_t)(end - t));
        size_t l = (size_t)((nl ? nl : end) - t);
        const char *p = line_path(t, &l, md5sums);
        char *rel = p ? pf_strndup(p, l) : NULL;
        char *abs = NULL, *res = NULL;
        const struct worker_layer_entry *e;

        t = nl ? nl + 1 : end;
        if (!p)
            continue;
        abs = rel ? pf_asprintf("/%s", rel) : NULL;
        r = abs ? 0 : -ENOMEM;
        /* A conffile that vanished stays on disk (flagged obsolete) unless remove-on-upgrade. */
        if (r >= 0 && !pset_find(&it->listed, rel) &&
            (!old_conffile(it, abs) || pset_find(&it->conf_remove, abs)))
            r = resolve(a, diverted_abs(a, abs, it->old->name), true, &res);
        if (r >= 0 && res) {
            e = worker_layer_view_get(a->view, res);
            if (e && e->type != WORKER_LAYER_DIR)
                r = pf_strv_push(&a->candidates, res);
        }
        pf_free(res);
        pf_free(abs);
        pf_free(rel);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Old conffiles the new version lacks are kept in Conffiles, flagged obsolete. */
static int add_obsolete(struct item *it)
{
    struct worker_dpkg_conffile *nc;
    size_t extra = 0;

    if (!it->old)
        return 0;
    for (size_t i = 0; i < it->old->n_conffiles; i++)
        if (!pf_strv_contains(&it->conf_paths, it->old->conffiles[i].path) &&
            !pset_find(&it->conf_remove, it->old->conffiles[i].path))
            extra++;
    if (!extra)
        return 0;
    nc = pf_realloc(it->cf, (it->n_cf + extra) * sizeof(*nc));
    if (!nc)
        return -ENOMEM;
    it->cf = nc;
    for (size_t i = 0; i < it->old->n_conffiles; i++) {
        const struct worker_dpkg_conffile *oc = &it->old->conffiles[i];
        struct worker_dpkg_conffile *c = &it->cf[it->n_cf];

        if (pf_strv_contains(&it->conf_paths, oc->path) || pset_find(&it->conf_remove, oc->path))
            continue;
        memset(c, 0, sizeof(*c));
        c->path = pf_strdup(oc->path);
        c->md5 = pf_strdup(oc->md5);
        c->obsolete = true;
        it->n_cf++;
        if (!c->path || !c->md5)
            return -ENOMEM;
    }
    return 0;
}

/* ---- whiteouts ---- */

/* The file lists of the versions being replaced: they no longer claim anything. */
static int old_list_files(const struct apply *a, struct pset *ret)
{
    int r = 0;

    for (size_t i = 0; i < a->n && r >= 0; i++) {
        const struct worker_dpkg_pkg *old = a->items[i].old;
        char *name = NULL, *base = NULL;

        if (!old)
            continue;
        if (a->db->kind == WORKER_DPKG_DB_STATUSD) {
            name = pf_asprintf("%s.md5sums", old->statusd_file ? old->statusd_file : old->name);
        } else {
            base = old_info_base(old);
            name = base ? pf_asprintf("%s.list", base) : NULL;
        }
        r = name ? pset_add(ret, name, 0, false) : -ENOMEM;
        pf_free(base);
        pf_free(name);
    }
    return r;
}

/* Adds the paths listed in `t` (a .list, or an md5sums file) to `claims`, resolved through the
 * view and, for a known package `pkg`, through its diversions. */
static int claim_lines(struct apply *a, struct pset *claims, const char *t, size_t len,
                       bool md5sums, const char *pkg)
{
    const char *end = t + len;

    while (t < end) {
        const char *nl = memchr(t, '\n', (size_t)(end - t));
        size_t l = (size_t)((nl ? nl : end) - t);
        const char *p = line_path(t, &l, md5sums);
        char *rel, *res = NULL;
        int r = 0;

        t = nl ? nl + 1 : end;
        if (!p)
            continue;
        rel = pf_strndup(p, l);
        if (!rel)
            return -ENOMEM;
        /* Lines that cannot be routed claim nothing that exists. */
        if (worker_layer_view_resolve(a->view, pkg ? diverted(a, rel, pkg) : rel, true, &res, NULL,
                                      0) >= 0)
            r = pset_add(claims, res, 0, false);
        pf_free(res);
        pf_free(rel);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Every path another installed package still lists, resolved through the view. */
static int other_claims(struct apply *a, struct pset *claims)
{
    bool statusd = a->db->kind == WORKER_DPKG_DB_STATUSD;
    const char *dir = statusd ? STATUSD_DIR : INFO_DIR;
    const char *suffix = statusd ? ".md5sums" : ".list";
    struct pf_strv names = PF_STRV_INIT;
    struct pset skip = {0};
    int r;

    r = old_list_files(a, &skip);
    if (r >= 0)
        r = worker_layer_view_list(a->view, dir, &names);
    if (r < 0) {
        pf_strv_clear(&names);
        pset_clear(&skip);
        return r == -ENOMEM ? r : 0;
    }
    r = 0;
    for (size_t i = 0; i < names.n && r >= 0; i++) {
        size_t nl = strlen(names.v[i]), sl = strlen(suffix);
        const char *t, *colon;
        size_t len;
        char *path, *pkg;

        if (nl <= sl || strcmp(names.v[i] + nl - sl, suffix) != 0 || pset_find(&skip, names.v[i]))
            continue;
        path = pf_asprintf("%s/%s", dir, names.v[i]);
        /* info/<pkg>[:<arch>].list names its package; a status.d file name does not. */
        colon = memchr(names.v[i], ':', nl - sl);
        pkg = statusd ? NULL
                      : pf_strndup(names.v[i], colon ? (size_t)(colon - names.v[i]) : nl - sl);
        if (!path || (!statusd && !pkg)) {
            pf_free(path);
            r = -ENOMEM;
            break;
        }
        if (worker_layer_view_read(a->view, path, &t, &len) >= 0)
            r = claim_lines(a, claims, t, len, statusd, pkg);
        pf_free(path);
        pf_free(pkg);
    }
    pf_strv_clear(&names);
    pset_clear(&skip);
    return r;
}

static int write_whiteouts(struct apply *a)
{
    struct pset claims = {0};
    int r = 0;

    if (a->candidates.n)
        r = other_claims(a, &claims);
    for (size_t i = 0; i < a->candidates.n && r >= 0; i++)
        if (!pset_find(&claims, a->candidates.v[i]))
            r = whiteout_resolved(a, a->candidates.v[i]);
    pset_clear(&claims);
    return r;
}

/* ---- the dpkg database ---- */

/* Writes info/<base>.<ext> from `text`, or whites out an old one when `text` is NULL. */
static int info_file(struct apply *a, const char *base, const char *ext, const char *text)
{
    char *path = pf_asprintf(INFO_DIR "/%s.%s", base, ext);
    int r;

    if (!path)
        return -ENOMEM;
    r = text ? add_db_file(a, path, text, strlen(text)) : whiteout_path(a, path);
    pf_free(path);
    return r;
}

/*
 * The mode dpkg leaves on info/<pkg>.<name>: the archive's (dpkg renames the file its tar
 * extracted), except that a script dpkg runs during the upgrade, the new preinst (unpack) and
 * postinst (configure), is first made 0755 unless everybody may read and execute it (dpkg's
 * setexecute()). prerm and postrm run only at the next upgrade or removal and keep their mode.
 */
static uint32_t member_mode(const struct worker_deb_control_member *m)
{
    bool runs = strcmp(m->name, "preinst") == 0 || strcmp(m->name, "postinst") == 0;

    return runs && (m->mode & 0555) != 0555 ? 0755 : m->mode;
}

/* Writes every other control member of the new version as info/<base>.<name>, root-owned. */
static int write_members(struct apply *a, const struct item *it)
{
    size_t n;
    const struct worker_deb_control_member *m = worker_deb_file_members(it->deb, &n);
    int r = 0;

    for (size_t i = 0; i < n && r >= 0; i++) {
        struct worker_layer_attr at = {member_mode(&m[i]), 0, 0};
        char *path = pf_asprintf(INFO_DIR "/%s.%s", it->info_base, m[i].name);

        r = path ? add_db_file_attr(a, path, m[i].data, m[i].len, &at) : -ENOMEM;
        pf_free(path);
    }
    return r;
}

/*
 * Whites out every info/<oldbase>.<name> of the old version that the new one did not write:
 * dpkg deletes all of a package's control files on upgrade (but .list) before installing the
 * new ones, so a triggers file or prerm the new version dropped must not survive. A name
 * whose rest holds a dot belongs to another package ("foo.bar.list" is not foo's).
 */
static int whiteout_old_info(struct apply *a, const struct item *it, const char *oldbase)
{
    struct pf_strv names = PF_STRV_INIT;
    size_t bl = strlen(oldbase);
    int r = worker_layer_view_list(a->view, INFO_DIR, &names);

    if (r == -ENOENT || r == -ENOTDIR)
        r = 0;
    for (size_t i = 0; i < names.n && r >= 0; i++) {
        const char *nm = names.v[i], *rest = nm + bl + 1;
        char *path;

        if (strncmp(nm, oldbase, bl) != 0 || nm[bl] != '.' || !*rest || strchr(rest, '.'))
            continue;
        if (strcmp(oldbase, it->info_base) == 0 && strcmp(rest, "list") == 0)
            continue; /* rewritten */
        path = pf_asprintf(INFO_DIR "/%s", nm);
        r = path ? whiteout_path(a, path) : -ENOMEM;
        pf_free(path);
    }
    pf_strv_clear(&names);
    return r;
}

static int write_info(struct apply *a, struct item *it)
{
    char *list = pf_strv_join(&it->list, "\n");
    char *listnl = list ? pf_asprintf("%s\n", list) : NULL;
    char *oldbase = NULL;
    int r;

    r = listnl ? info_file(a, it->info_base, "list", listnl) : -ENOMEM;
    if (r >= 0)
        r = info_file(a, it->info_base, "md5sums", worker_deb_file_md5sums(it->deb));
    if (r >= 0)
        r = info_file(a, it->info_base, "conffiles", worker_deb_file_conffiles(it->deb));
    if (r >= 0)
        r = write_members(a, it);
    if (r >= 0 && it->old) {
        oldbase = old_info_base(it->old);
        r = oldbase ? whiteout_old_info(a, it, oldbase) : -ENOMEM;
    }
    pf_free(oldbase);
    pf_free(listnl);
    pf_free(list);
    return r;
}

static int write_statusd(struct apply *a, struct item *it, char **ret_file)
{
    const char *file = it->old && it->old->statusd_file ? it->old->statusd_file : it->name;
    const char *md5sums = worker_deb_file_md5sums(it->deb);
    char *path = pf_asprintf(STATUSD_DIR "/%s", file);
    char *mpath = pf_asprintf(STATUSD_DIR "/%s.md5sums", file);
    const char *ctl = worker_deb_file_control_text(it->deb);
    int r = path && mpath ? 0 : -ENOMEM;

    if (r >= 0)
        r = add_db_file(a, path, ctl, strlen(ctl));
    if (r >= 0)
        r = md5sums ? add_db_file(a, mpath, md5sums, strlen(md5sums)) : whiteout_path(a, mpath);
    if (r >= 0) {
        *ret_file = pf_strdup(file);
        r = *ret_file ? 0 : -ENOMEM;
    }
    pf_free(mpath);
    pf_free(path);
    return r;
}

/* Renders the new stanza of every item (before `db` changes), then puts them all. */
static int update_db(struct apply *a)
{
    bool statusd = a->db->kind == WORKER_DPKG_DB_STATUSD;
    struct pf_strv stanzas = PF_STRV_INIT, files = PF_STRV_INIT;
    char msg[256], *text = NULL;
    size_t len;
    int r = 0;

    for (size_t i = 0; i < a->n && r >= 0; i++) {
        struct item *it = &a->items[i];
        char *s = NULL, *file = NULL;
        const char *st = it->old && it->old->held ? "hold ok installed" : "install ok installed";

        if (statusd) {
            r = write_statusd(a, it, &file);
            if (r >= 0)
                r = pf_strv_push(&stanzas, worker_deb_file_control_text(it->deb));
            if (r >= 0)
                r = pf_strv_push_take(&files, file);
            continue;
        }
        r = write_info(a, it);
        if (r >= 0)
            r = worker_dpkg_render_stanza(worker_deb_file_control(it->deb), st, it->cf, it->n_cf,
                                          &s, &len);
        if (r >= 0)
            r = pf_strv_push_take(&stanzas, s);
    }
    for (size_t i = 0; i < stanzas.n && r >= 0; i++) {
        a->items[i].old = NULL; /* freed by the put */
        r = worker_dpkg_db_put(a->db, stanzas.v[i], strlen(stanzas.v[i]),
                               statusd ? files.v[i] : NULL, NULL, msg, sizeof(msg));
        if (r < 0)
            r = pf_set_error(a->errbuf, a->errlen, r, "cannot record '%s' in the database: %s",
                             a->items[i].name, msg);
    }
    if (r >= 0 && !statusd) {
        r = worker_dpkg_db_render_status(a->db, &text, &len);
        if (r >= 0)
            r = add_db_file(a, "var/lib/dpkg/status", text, len);
    }
    pf_free(text);
    pf_strv_clear(&stanzas);
    pf_strv_clear(&files);
    return r;
}

/* ---- parents ---- */

static int add_parents(struct apply *a)
{
    struct pf_strv keys = PF_STRV_INIT;
    struct pf_hashmap_slot *hs;
    size_t it = 0;
    int r = 0;

    while (r >= 0 && (hs = pf_hashmap_next(&a->written.m, &it)))
        r = pf_strv_push(&keys, hs->key);
    it = 0;
    while (r >= 0 && (hs = pf_hashmap_next(&a->whiteouts.m, &it)))
        r = pf_strv_push(&keys, hs->key);
    for (size_t i = 0; i < keys.n && r >= 0; i++) {
        char *k = keys.v[i];

        for (char *sl = strchr(k, '/'); sl && r >= 0; sl = strchr(sl + 1, '/')) {
            const struct worker_layer_entry *e;
            struct worker_layer_attr at = {0755, 0, 0};
            struct slot *s;

            *sl = '\0';
            s = pset_find(&a->written, k);
            if (!s) {
                e = worker_layer_view_get(a->view, k);
                if (e && e->type == WORKER_LAYER_DIR)
                    at = (struct worker_layer_attr){e->mode, e->uid, e->gid};
                r = claim(a, k, OWNER_DB, true);
                if (r >= 0)
                    r = writer_error(a, worker_layer_writer_add_dir(a->w, k, &at), k);
            } else if (!s->dir) {
                r = pf_set_error(a->errbuf, a->errlen, -EINVAL,
                                 "'%s' is a file and a parent directory", k);
            }
            *sl = '/';
        }
    }
    pf_strv_clear(&keys);
    return r;
}

/* ---- driver ---- */

static void item_release(struct item *it)
{
    worker_deb_file_free(it->deb);
    pf_free(it->info_base);
    pf_strv_clear(&it->list);
    pset_clear(&it->listed);
    pf_strv_clear(&it->conf_paths);
    pset_clear(&it->conf_remove);
    worker_dpkg_conffiles_free(it->cf, it->n_cf);
}

static int open_spool(struct apply *a)
{
    char *tmpl;
    int fd;

    if (!a->o->spool_dir)
        return 0;
    if (!a->o->ret_spool_fd)
        return pf_set_error(a->errbuf, a->errlen, -EINVAL, "spool_dir needs ret_spool_fd");
    tmpl = pf_asprintf("%s/deb-apply-XXXXXX", a->o->spool_dir);
    if (!tmpl)
        return -ENOMEM;
    fd = mkstemp(tmpl);
    if (fd < 0) {
        int r = pf_set_error(a->errbuf, a->errlen, -errno, "cannot create a spool file in '%s'",
                             a->o->spool_dir);

        pf_free(tmpl);
        return r;
    }
    (void)unlink(tmpl); /* lives as long as the fd: nothing to clean up after a crash */
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    pf_free(tmpl);
    a->spool_fd = fd;
    return 0;
}

static int walk_item(struct apply *a, size_t i, const struct worker_deb_apply_item *in)
{
    struct item *it = &a->items[i];
    char msg[512];
    int r;

    r = worker_deb_file_open(in->deb_path, &it->deb, msg, sizeof(msg));
    if (r < 0)
        return pf_set_error(a->errbuf, a->errlen, r, "cannot read '%s': %s", in->deb_path, msg);
    r = check_item(a, it, in);
    if (r >= 0)
        r = a->db->kind == WORKER_DPKG_DB_STATUSD ? 0 : parse_conffiles(it);
    if (r < 0)
        return r;
    a->cur = i;
    msg[0] = '\0';
    r = worker_deb_file_each_data(it->deb, on_entry, a, msg, sizeof(msg));
    if (r < 0 && msg[0])
        return pf_set_error(a->errbuf, a->errlen, r, "cannot unpack '%s': %s", in->deb_path, msg);
    if (r >= 0)
        r = add_obsolete(it);
    if (r >= 0)
        r = collect_removed(a, it);
    return r;
}

int worker_deb_apply(struct worker_layer_view *view, struct worker_dpkg_db *db,
                     const struct worker_deb_apply_item *items, size_t n,
                     const struct worker_deb_apply_options *o, struct worker_layer_writer *w,
                     char *errbuf, size_t errlen)
{
    struct apply a = {
        .view = view,
        .db = db,
        .w = w,
        .o = o,
        .n = n,
        .spool_fd = -1,
        .errbuf = errbuf,
        .errlen = errlen,
    };
    int r;

    a.items = pf_calloc(n ? n : 1, sizeof(*a.items));
    if (!a.items)
        return -ENOMEM;
    r = open_spool(&a);
    for (size_t i = 0; i < n && r >= 0; i++)
        r = walk_item(&a, i, &items[i]);
    if (r >= 0)
        r = write_whiteouts(&a);
    if (r >= 0)
        r = update_db(&a);
    if (r >= 0)
        r = add_parents(&a);
    if (o->ret_spool_fd) {
        if (r < 0 && a.spool_fd >= 0) {
            (void)close(a.spool_fd);
            a.spool_fd = -1;
        }
        *o->ret_spool_fd = a.spool_fd;
    }
    for (size_t i = 0; i < n; i++)
        item_release(&a.items[i]);
    pf_free(a.items);
    pset_clear(&a.written);
    pset_clear(&a.whiteouts);
    pf_strv_clear(&a.candidates);
    return r;
}
