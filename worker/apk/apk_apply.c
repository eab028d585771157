/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apk upgrade by extraction. Each package's data tar is walked once: directories and files are
 * recorded as the new F:/R:/Z: records (Z = SHA-1 of the content or symlink target, what
 * abuild-tar stores) and written to the layer at the path they land on in the merged view.
 * apk's protected-path rule (defaults +etc, !etc/apk) decides between overwrite, keep and
 * ".apk-new" by comparing the image's current content with the old database checksum. Old
 * files that nothing ships any more become whiteouts. Everything is held in memory: packages
 * are bounded by WORKER_APK_FILE_MAX and the writer by its own limit.
 */
#include "pf/setup.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/archive.h"
#include "pf/buf.h"
#include "pf/digest.h"
#include "pf/err.h"
#include "pf/strv.h"
#include "apk/apk_apply.h"
#include "apk/apk_db.h"
#include "apk/apk_file.h"
#include "image/layer_view.h"
#include "image/layer_writer.h"

struct apply {
    const struct worker_layer_view *view;
    struct worker_apk_db *db;
    struct worker_layer_writer *w;
    struct pf_strv written; /* resolved paths written (files and dirs) */
    struct pf_strv dirs;    /* of those, the directories */
    struct pf_strv whiteouts;
    struct worker_apk_pkg *new_pkg; /* being built */
    const struct worker_apk_pkg *old;
    struct pf_strv new_paths; /* package paths the new version ships */
    char *errbuf;
    size_t errlen;
};

static bool is_protected(const char *path)
{
    return strncmp(path, "etc/", 4) == 0 && strncmp(path, "etc/apk/", 8) != 0;
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

static int claim(struct apply *a, const char *res, bool dir)
{
    if (pf_strv_contains(&a->written, res)) {
        if (dir && pf_strv_contains(&a->dirs, res))
            return 0;
        return pf_set_error(a->errbuf, a->errlen, -EINVAL, "'%s' is written twice", res);
    }
    if (dir && pf_strv_push(&a->dirs, res) < 0)
        return -ENOMEM;
    return pf_strv_push(&a->written, res);
}

static int werr(struct apply *a, int r, const char *path)
{
    if (r >= 0)
        return 0;
    if (r == -EFBIG)
        return pf_set_error(a->errbuf, a->errlen, r,
                            "cannot add '%s' to the layer: the patch layer would exceed its "
                            "limit of %" PRIu64 " bytes uncompressed (--max-patch-layer-size)",
                            path, worker_layer_writer_max_size(a->w));
    return pf_set_error(a->errbuf, a->errlen, r == -EEXIST ? -EINVAL : r,
                        "cannot add '%s' to the layer", path);
}

/* The old database checksum of `path`, or NULL. */
static const char *old_csum(const struct worker_apk_pkg *old, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) : 0;
    const char *base = slash ? slash + 1 : path;

    if (!old)
        return NULL;
    for (size_t i = 0; i < old->n_dirs; i++) {
        const struct worker_apk_dir *d = &old->dirs[i];

        if (strlen(d->path) != dlen || strncmp(d->path, path, dlen) != 0)
            continue;
        for (size_t j = 0; j < d->n_files; j++)
            if (strcmp(d->files[j].name, base) == 0)
                return d->files[j].csum;
    }
    return NULL;
}

/* Q1 of the image's current content at resolved `res`, or false when not a kept file. */
static bool current_q1(struct apply *a, const char *res, char q1[31])
{
    const char *data;
    size_t len;
    unsigned char h[PF_DIGEST_MAX_SIZE];

    if (worker_layer_view_read(a->view, res, &data, &len) < 0)
        return false;
    if (pf_digest_buf(PF_DIGEST_SHA1, data, len, h) < 0)
        return false;
    worker_apk_q1(h, q1);
    return true;
}

static struct worker_apk_dir *new_dir(struct apply *a, const char *path)
{
    struct worker_apk_pkg *p = a->new_pkg;
    struct worker_apk_dir *v;

    for (size_t i = 0; i < p->n_dirs; i++)
        if (strcmp(p->dirs[i].path, path) == 0)
            return &p->dirs[i];
    v = pf_realloc(p->dirs, (p->n_dirs + 1) * sizeof(*v));
    if (!v)
        return NULL;
    p->dirs = v;
    v[p->n_dirs] = (struct worker_apk_dir){.path = pf_strdup(path), .mode = 0755};
    if (!v[p->n_dirs].path)
        return NULL;
    return &v[p->n_dirs++];
}

static int record_file(struct apply *a, const struct worker_apk_entry *e, const char *q1)
{
    const char *slash = strrchr(e->path, '/');
    char *dpath = slash ? pf_strndup(e->path, (size_t)(slash - e->path)) : pf_strdup("");
    struct worker_apk_dir *d = dpath ? new_dir(a, dpath) : NULL;
    struct worker_apk_file *v;

    pf_free(dpath);
    if (!d)
        return -ENOMEM;
    v = pf_realloc(d->files, (d->n_files + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    d->files = v;
    v[d->n_files] = (struct worker_apk_file){
        .name = pf_strdup(slash ? slash + 1 : e->path),
        .csum = pf_strdup(q1),
        .uid = e->uid,
        .gid = e->gid,
        .mode = e->mode,
        .has_acl = e->type != 'l' && (e->uid || e->gid || e->mode != 0644),
    };
    d->n_files++;
    if (!v[d->n_files - 1].name || !v[d->n_files - 1].csum)
        return -ENOMEM;
    return pf_strv_push(&a->new_paths, e->path);
}

static int on_dir(struct apply *a, const struct worker_apk_entry *e)
{
    struct worker_apk_dir *d = new_dir(a, e->path);
    const struct worker_layer_entry *ve;
    struct worker_layer_attr at = {e->mode, e->uid, e->gid};
    char *res = NULL;
    int r;

    if (!d)
        return -ENOMEM;
    d->uid = e->uid;
    d->gid = e->gid;
    d->mode = e->mode;
    d->has_acl = e->uid || e->gid || e->mode != 0755;
    /* A symlink to a directory in the image (merged /usr) stays: follow it. */
    r = resolve(a, e->path, false, &res);
    if (r < 0)
        return r;
    ve = worker_layer_view_get(a->view, res);
    if (!ve && !pf_strv_contains(&a->written, res)) {
        r = claim(a, res, true);
        if (r >= 0)
            r = werr(a, worker_layer_writer_add_dir(a->w, res, &at), res);
    } else if (ve && ve->type != WORKER_LAYER_DIR) {
        r = pf_set_error(a->errbuf, a->errlen, -EINVAL,
                         "'%s' is a directory in %s but not in the image", e->path,
                         a->new_pkg->name);
    }
    pf_free(res);
    return r;
}

static int on_entry(const struct worker_apk_entry *e, void *userdata)
{
    struct apply *a = userdata;
    struct worker_layer_attr at = {e->mode, e->uid, e->gid};
    char q1[31], cur[31];
    char *res = NULL, *target = NULL;
    const char *old;
    int r;

    if (e->type == 'd')
        return on_dir(a, e);
    worker_apk_q1(e->sha1, q1);
    r = record_file(a, e, q1);
    if (r >= 0)
        r = resolve(a, e->path, true, &res);
    if (r < 0)
        return r;
    old = old_csum(a->old, e->path);
    if (is_protected(e->path) && e->type == 'f' && current_q1(a, res, cur) && old &&
        strcmp(cur, old) != 0) {
        /* Modified by the user: keep it; install the new content beside it unless equal. */
        char *alt;

        if (strcmp(cur, q1) == 0) {
            pf_free(res);
            return 0;
        }
        alt = pf_asprintf("%s.apk-new", res);
        pf_free(res);
        res = alt;
        if (!res)
            return -ENOMEM;
    }
    r = claim(a, res, false);
    if (r >= 0 && e->type == 'f')
        r = werr(a, worker_layer_writer_add_file_mem(a->w, res, &at, e->data, e->size), res);
    else if (r >= 0 && e->type == 'l')
        r = werr(a, worker_layer_writer_add_symlink(a->w, res, &at, e->link), res);
    else if (r >= 0) {
        r = resolve(a, e->link, true, &target);
        if (r >= 0)
            r = werr(a, worker_layer_writer_add_hardlink(a->w, res, target), res);
    }
    pf_free(target);
    pf_free(res);
    return r;
}

static bool owned_by_other(const struct apply *a, const char *path)
{
    for (size_t i = 0; i < a->db->n; i++) {
        const struct worker_apk_pkg *p = &a->db->v[i];

        if (p == a->old || !p->name || strcmp(p->name, a->new_pkg->name) == 0)
            continue;
        if (old_csum(p, path))
            return true;
        for (size_t j = 0; j < p->n_dirs; j++) {
            size_t dl = strlen(p->dirs[j].path);
            const char *slash = strrchr(path, '/');

            if (slash && (size_t)(slash - path) == dl && strncmp(p->dirs[j].path, path, dl) == 0)
                for (size_t k = 0; k < p->dirs[j].n_files; k++)
                    if (strcmp(p->dirs[j].files[k].name, slash + 1) == 0)
                        return true;
        }
    }
    return false;
}

/* Whiteouts for the old version's files that the new one does not ship. */
static int remove_old(struct apply *a)
{
    const struct worker_apk_pkg *old = a->old;
    int r = 0;

    for (size_t i = 0; old && i < old->n_dirs && r >= 0; i++) {
        const struct worker_apk_dir *d = &old->dirs[i];

        for (size_t j = 0; j < d->n_files && r >= 0; j++) {
            char *path = d->path[0] ? pf_asprintf("%s/%s", d->path, d->files[j].name)
                                    : pf_strdup(d->files[j].name);
            char *res = NULL, cur[31];

            if (!path)
                return -ENOMEM;
            if (pf_strv_contains(&a->new_paths, path) || owned_by_other(a, path))
                goto next;
            r = resolve(a, path, true, &res);
            if (r < 0)
                goto next;
            if (is_protected(path) && d->files[j].csum && current_q1(a, res, cur) &&
                strcmp(cur, d->files[j].csum) != 0)
                goto next; /* a modified protected file is kept */
            if (worker_layer_view_get(a->view, res) && !pf_strv_contains(&a->written, res) &&
                !pf_strv_contains(&a->whiteouts, res)) {
                r = pf_strv_push(&a->whiteouts, res);
                if (r >= 0)
                    r = werr(a, worker_layer_writer_add_whiteout(a->w, res), res);
            }
next:
            pf_free(res);
            pf_free(path);
        }
    }
    return r;
}

static int add_db_file(struct apply *a, const char *dir, const char *name, const void *data,
                       size_t len)
{
    struct worker_layer_attr at = {0644, 0, 0};
    const struct worker_layer_entry *e;
    char *res = pf_asprintf("%s/%s", dir, name);
    int r;

    if (!res)
        return -ENOMEM;
    e = worker_layer_view_get(a->view, res);
    if (e && e->type == WORKER_LAYER_REG)
        at = (struct worker_layer_attr){e->mode, e->uid, e->gid};
    r = claim(a, res, false);
    if (r >= 0)
        r = werr(a, worker_layer_writer_add_file_mem(a->w, res, &at, data, len), res);
    pf_free(res);
    return r;
}

static la_ssize_t buf_write(struct archive *ar, void *userdata, const void *data, size_t len)
{
    (void)ar;
    return pf_buf_append(userdata, data, len) < 0 ? -1 : (la_ssize_t)len;
}

/* The script types apk-tools keeps (its apk_script_types[]); it ignores other control entries
 * whose name starts with a dot, and so does scripts.tar. */
static bool script_known(const char *type)
{
    static const char *const types[] = {"pre-install",    "post-install", "pre-deinstall",
                                        "post-deinstall", "pre-upgrade",  "post-upgrade",
                                        "trigger"};

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(type, types[i]) == 0)
            return true;
    return false;
}

/* The package's builddate from .PKGINFO, which apk gives its scripts.tar entries as mtime; 0
 * when absent or not a plain decimal number (apk's build_time stays 0 then too). */
static int64_t build_time(const char *pkginfo)
{
    char *v = worker_apk_pkginfo_get(pkginfo, "builddate", 0);
    int64_t t = 0;
    size_t i = 0;

    for (; v && v[i] >= '0' && v[i] <= '9' && i < 18; i++)
        t = t * 10 + (v[i] - '0');
    if (!v || i == 0 || v[i] != '\0')
        t = 0;
    pf_free(v);
    return t;
}

/* scripts.tar: the image's entries minus those of replaced versions, plus the new version's
 * scripts, named "<name>-<version>.<identity>.<type>", 0755 and dated at the build, as apk
 * writes them. */
static int write_scripts(struct apply *a, const char *db_dir, const struct pf_strv *drop,
                         const struct worker_apk_apply_item *items, size_t n)
{
    char *path = pf_asprintf("%s/scripts.tar", db_dir);
    struct archive *in = NULL, *out = NULL;
    struct archive_entry *e;
    struct pf_buf b;
    const char *data;
    size_t len;
    int r = -ENOMEM;

    pf_buf_init(&b, WORKER_APK_FILE_MAX_TEXT);
    if (!path || pf_archive_write_new(PF_ARCHIVE_WRITE_USTAR, &out) < 0 ||
        archive_write_open(out, &b, NULL, buf_write, NULL) != ARCHIVE_OK)
        goto out;
    if (worker_layer_view_read(a->view, path, &data, &len) == 0) {
        if (pf_archive_read_new(0, PF_ARCHIVE_FORMAT_TAR, &in) < 0 ||
            archive_read_open_memory(in, data, len) != ARCHIVE_OK)
            goto out;
        while (archive_read_next_header(in, &e) == ARCHIVE_OK) {
            const char *name = archive_entry_pathname(e);
            bool skip = false;
            char chunk[16384];
            la_ssize_t k;

            for (size_t i = 0; name && i < drop->n && !skip; i++)
                skip = strncmp(name, drop->v[i], strlen(drop->v[i])) == 0;
            if (skip || !name)
                continue;
            if (archive_write_header(out, e) != ARCHIVE_OK)
                goto out;
            while ((k = archive_read_data(in, chunk, sizeof(chunk))) > 0)
                if (archive_write_data(out, chunk, (size_t)k) != k)
                    goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct worker_apk_pkg *c = items[i].candidate;
        const struct worker_apk_pkgfile *f = items[i].file;

        int64_t mtime = build_time(f->pkginfo);

        for (size_t j = 0; j < f->script_names.n; j++) {
            char *name;
            size_t sz = strlen(f->script_data.v[j]);

            if (!script_known(f->script_names.v[j] + 1))
                continue;
            name = pf_asprintf("%s-%s.%s.%s", c->name, c->version, c->identity ? c->identity : "",
                               f->script_names.v[j] + 1);
            e = archive_entry_new();
            if (!name || !e) {
                pf_free(name);
                archive_entry_free(e);
                goto out;
            }
            archive_entry_set_pathname(e, name);
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0755);
            archive_entry_set_size(e, (la_int64_t)sz);
            archive_entry_set_mtime(e, (time_t)mtime, 0);
            pf_free(name);
            if (archive_write_header(out, e) != ARCHIVE_OK ||
                archive_write_data(out, f->script_data.v[j], sz) != (la_ssize_t)sz) {
                archive_entry_free(e);
                goto out;
            }
            archive_entry_free(e);
        }
    }
    if (archive_write_close(out) != ARCHIVE_OK)
        goto out;
    r = add_db_file(a, db_dir, "scripts.tar", b.p ? b.p : "", b.len);
out:
    if (r == -ENOMEM)
        (void)pf_set_error(a->errbuf, a->errlen, -EIO, "cannot rewrite scripts.tar");
    archive_read_free(in);
    archive_write_free(out);
    pf_buf_release(&b);
    pf_free(path);
    return r == -ENOMEM ? -EIO : r;
}

/* triggers: one line per package with triggers, keyed by identity. */
static int write_triggers(struct apply *a, const char *db_dir, const struct pf_strv *old_ids,
                          const struct worker_apk_apply_item *items, size_t n)
{
    char *path = pf_asprintf("%s/triggers", db_dir);
    const char *data = "";
    size_t len = 0;
    struct pf_buf b;
    int r = 0;

    if (!path)
        return -ENOMEM;
    pf_buf_init(&b, WORKER_APK_FILE_MAX_TEXT);
    if (worker_layer_view_read(a->view, path, &data, &len) < 0) {
        data = "";
        len = 0;
    }
    for (size_t pos = 0; pos < len && r >= 0;) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - (data + pos)) : len - pos;
        size_t idl = strcspn(data + pos, " \n");
        bool drop = false;

        for (size_t i = 0; i < old_ids->n && !drop; i++)
            drop = idl == strlen(old_ids->v[i]) && strncmp(data + pos, old_ids->v[i], idl) == 0;
        if (!drop && l > 0)
            r = pf_buf_appendf(&b, "%.*s\n", (int)l, data + pos);
        pos += l + 1;
    }
    for (size_t i = 0; i < n && r >= 0; i++) {
        char *t = worker_apk_pkginfo_get(items[i].file->pkginfo, "triggers", 0);

        if (t && items[i].candidate->identity)
            r = pf_buf_appendf(&b, "%s %s\n", items[i].candidate->identity, t);
        pf_free(t);
    }
    if (r >= 0)
        r = add_db_file(a, db_dir, "triggers", b.p ? b.p : "", b.len);
    pf_buf_release(&b);
    pf_free(path);
    return r;
}

static int add_parents(struct apply *a)
{
    struct pf_strv keys = PF_STRV_INIT;
    int r = pf_strv_extend(&keys, &a->written);

    if (r >= 0)
        r = pf_strv_extend(&keys, &a->whiteouts);
    for (size_t i = 0; i < keys.n && r >= 0; i++) {
        char *k = keys.v[i];

        for (char *sl = strchr(k, '/'); sl && r >= 0; sl = strchr(sl + 1, '/')) {
            const struct worker_layer_entry *e;
            struct worker_layer_attr at = {0755, 0, 0};

            *sl = '\0';
            if (!pf_strv_contains(&a->written, k)) {
                e = worker_layer_view_get(a->view, k);
                if (e && e->type == WORKER_LAYER_DIR)
                    at = (struct worker_layer_attr){e->mode, e->uid, e->gid};
                r = claim(a, k, true);
                if (r >= 0)
                    r = werr(a, worker_layer_writer_add_dir(a->w, k, &at), k);
            } else if (!pf_strv_contains(&a->dirs, k)) {
                r = pf_set_error(a->errbuf, a->errlen, -EINVAL, "'%s' is a file and a parent", k);
            }
            *sl = '/';
        }
    }
    pf_strv_clear(&keys);
    return r;
}

/*
 * Frees `p`'s F:/R: records. The new stanza's records come only from walking the data tar:
 * an index entry carries none (the index parser refuses them), and any that a candidate did
 * carry would be listed beside the walked ones, twice or stale.
 */
static void drop_file_records(struct worker_apk_pkg *p)
{
    struct worker_apk_pkg only_dirs = {.dirs = p->dirs, .n_dirs = p->n_dirs};

    worker_apk_pkg_release(&only_dirs);
    p->dirs = NULL;
    p->n_dirs = 0;
}

/* The new stanza: the index header (+ r: from .PKGINFO replaces), files added while walking. */
static int start_pkg(struct apply *a, const struct worker_apk_apply_item *it,
                     struct worker_apk_pkg *ret)
{
    struct worker_apk_pkg p = {0};
    struct worker_apk_db tmp = {0};
    char *rep;
    int r = worker_apk_db_add_copy(&tmp, it->candidate);

    if (r < 0)
        return r;
    p = tmp.v[0];
    pf_free(tmp.v);
    drop_file_records(&p);
    rep = worker_apk_pkginfo_get(it->file->pkginfo, "replaces", 0);
    if (rep) {
        r = pf_strv_pushf(&p.header, "r:%s", rep);
        pf_free(rep);
    }
    if (r < 0) {
        worker_apk_pkg_release(&p);
        return r;
    }
    (void)a;
    *ret = p;
    return 0;
}

static int apply_one(struct apply *a, const struct worker_apk_apply_item *it, struct pf_strv *drop,
                     struct pf_strv *old_ids)
{
    struct worker_apk_pkg np = {0};
    struct worker_apk_pkg *old = worker_apk_db_find(a->db, it->candidate->name);
    char msg[256] = "";
    int r;

    r = start_pkg(a, it, &np);
    if (r < 0)
        return r;
    a->new_pkg = &np;
    a->old = old;
    pf_strv_clear(&a->new_paths);
    r = worker_apk_file_each(it->file, on_entry, a, msg, sizeof(msg));
    if (r < 0 && msg[0])
        (void)pf_set_error(a->errbuf, a->errlen, r, "%s: %s", it->candidate->name, msg);
    if (r >= 0)
        r = remove_old(a);
    if (r >= 0 && old) {
        r = pf_strv_pushf(drop, "%s-%s.%s.", old->name, old->version,
                          old->identity ? old->identity : "");
        if (r >= 0 && old->identity)
            r = pf_strv_push(old_ids, old->identity);
    }
    a->new_pkg = NULL;
    if (r < 0) {
        worker_apk_pkg_release(&np);
        return r;
    }
    if (old) {
        worker_apk_pkg_release(old);
        *old = np;
        return 0;
    }
    r = worker_apk_db_add_copy(a->db, &np);
    worker_apk_pkg_release(&np);
    return r;
}

int worker_apk_apply(const struct worker_layer_view *view, struct worker_apk_db *db,
                     const char *db_dir, const struct worker_apk_apply_item *items, size_t n,
                     struct worker_layer_writer *w, char *errbuf, size_t errlen)
{
    struct apply a = {.view = view, .db = db, .w = w, .errbuf = errbuf, .errlen = errlen};
    struct pf_strv drop = PF_STRV_INIT, old_ids = PF_STRV_INIT;
    char *text = NULL;
    size_t len = 0;
    int r = 0;

    for (size_t i = 0; i < n && r >= 0; i++)
        r = apply_one(&a, &items[i], &drop, &old_ids);
    if (r >= 0)
        r = worker_apk_db_render(db, &text, &len);
    if (r >= 0)
        r = add_db_file(&a, db_dir, "installed", text, len);
    if (r >= 0)
        r = write_scripts(&a, db_dir, &drop, items, n);
    if (r >= 0)
        r = write_triggers(&a, db_dir, &old_ids, items, n);
    if (r >= 0)
        r = add_parents(&a);
    if (r == -ENOMEM)
        (void)pf_set_error(errbuf, errlen, r, "out of memory");
    pf_free(text);
    pf_strv_clear(&drop);
    pf_strv_clear(&old_ids);
    pf_strv_clear(&a.written);
    pf_strv_clear(&a.dirs);
    pf_strv_clear(&a.whiteouts);
    pf_strv_clear(&a.new_paths);
    return r;
}
