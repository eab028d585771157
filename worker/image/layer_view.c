/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Merged layer view. Each layer is applied in two phases: first the tar is read completely
 * into a staging list (names normalised and checked, whiteouts recognised, kept content read
 * under its limits), so a hostile layer is refused before the view changes; then the list is
 * merged in OCI order - opaque markers, then whiteouts (which therefore only ever see lower
 * layers), then entries in tar order. The tree keeps each directory's children sorted by name
 * so lookups are binary searches. Parent directories are resolved through the view's symlinks
 * (as containerd's fs.RootPath does), always clamped to the image root.
 */
#include "pf/setup.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/archive.h"
#include "pf/err.h"
#include "pf/strv.h"
#include "image/layer_view.h"

#define LV_READ_CHUNK (64u * 1024)
#define LV_WHITEOUT ".wh."
#define LV_OPAQUE ".wh..wh..opq"

_Static_assert(WORKER_LAYER_MAX_PATH == PF_ARCHIVE_NAME_MAX &&
                   WORKER_LAYER_MAX_DEPTH == PF_ARCHIVE_NAME_MAX_DEPTH,
               "the view's path limits are the entry-name check's");

struct lv_node {
    struct worker_layer_entry e;
    char *path;       /* owned; e.path aliases it */
    const char *name; /* points into path */
    char *link;       /* owned; e.link aliases it */
    char *data;       /* kept content, NUL-terminated */
    size_t data_len;
    struct lv_node *parent;
    struct lv_node **kids;
    size_t n_kids;
    size_t cap_kids;
};

struct worker_layer_view {
    struct worker_layer_view_options opts;
    struct lv_node *root;
    unsigned layers;
    size_t entries;
    size_t skipped;
    size_t content_bytes;
    bool poisoned; /* a merge failed half-way; the tree can no longer be trusted */
};

enum lv_kind { LV_ENTRY, LV_WHITEOUT_KIND, LV_OPAQUE_KIND };

/* One record of a layer between reading and merging. */
struct lv_staged {
    enum lv_kind kind;
    char *name; /* normalised; for a whiteout the path it deletes, for opaque the directory */
    enum worker_layer_type type;
    uint32_t mode, uid, gid;
    uint64_t size;
    char *link;
    char *data;
    size_t data_len;
};

struct lv_stage {
    struct lv_staged *v;
    size_t n, cap;
    size_t skipped;
    size_t content_bytes;
};

/* Path walk state: the resolved path and, per component, the node it names (NULL once the
 * walk has left the existing tree). */
struct lv_walk {
    char out[WORKER_LAYER_MAX_PATH + 1];
    size_t out_len;
    size_t n;
    size_t off[WORKER_LAYER_MAX_PATH / 2 + 1];
    struct lv_node *node[WORKER_LAYER_MAX_PATH / 2 + 1];
};

/* ---- tree ---- */

static int lv_cmp(const char *name, const char *comp, size_t len)
{
    int r = strncmp(name, comp, len);

    if (r != 0)
        return r;
    return name[len] != '\0' ? 1 : 0;
}

/* Binary search; returns true when found, and the index (or the insertion point) in *ret. */
static bool lv_find(const struct lv_node *dir, const char *comp, size_t len, size_t *ret)
{
    size_t lo = 0, hi = dir->n_kids;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = lv_cmp(dir->kids[mid]->name, comp, len);

        if (c == 0) {
            *ret = mid;
            return true;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *ret = lo;
    return false;
}

static struct lv_node *lv_kid(const struct lv_node *dir, const char *comp, size_t len)
{
    size_t i;

    if (!dir || dir->e.type != WORKER_LAYER_DIR)
        return NULL;
    if (!lv_find(dir, comp, len, &i))
        return NULL;
    return dir->kids[i];
}

static void lv_node_free_tree(struct worker_layer_view *v, struct lv_node *n)
{
    size_t i;

    for (i = 0; i < n->n_kids; i++)
        lv_node_free_tree(v, n->kids[i]);
    if (n->parent)
        v->entries--;
    v->content_bytes -= n->data ? n->data_len : 0;
    pf_free(n->kids);
    pf_free(n->path);
    pf_free(n->link);
    pf_free(n->data);
    pf_free(n);
}

/* Unhooks `n` from its parent and frees its subtree. */
static void lv_node_remove(struct worker_layer_view *v, struct lv_node *n)
{
    struct lv_node *p = n->parent;
    size_t i;

    if (lv_find(p, n->name, strlen(n->name), &i)) {
        memmove(&p->kids[i], &p->kids[i + 1], (p->n_kids - i - 1) * sizeof(p->kids[0]));
        p->n_kids--;
    }
    lv_node_free_tree(v, n);
}

static void lv_node_clear_kids(struct worker_layer_view *v, struct lv_node *dir)
{
    size_t i;

    for (i = 0; i < dir->n_kids; i++)
        lv_node_free_tree(v, dir->kids[i]);
    dir->n_kids = 0;
}

/* Creates child `comp` of `dir` (which must not have it yet) as a bare directory. */
static struct lv_node *lv_node_add(struct worker_layer_view *v, struct lv_node *dir,
                                   const char *comp, size_t len)
{
    struct lv_node *n;
    size_t i;

    if (lv_find(dir, comp, len, &i))
        return NULL; /* programmer error; callers look up first */
    if (PF_GROW(dir->kids, dir->cap_kids, dir->n_kids + 1) < 0)
        return NULL;
    n = pf_calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    if (dir->path[0])
        n->path = pf_asprintf("%s/%.*s", dir->path, (int)len, comp);
    else
        n->path = pf_strndup(comp, len);
    if (!n->path) {
        pf_free(n);
        return NULL;
    }
    n->name = n->path + strlen(n->path) - len;
    n->e.path = n->path;
    n->e.type = WORKER_LAYER_DIR;
    n->e.mode = 0755;
    n->e.layer = v->layers;
    n->parent = dir;
    memmove(&dir->kids[i + 1], &dir->kids[i], (dir->n_kids - i) * sizeof(dir->kids[0]));
    dir->kids[i] = n;
    dir->n_kids++;
    v->entries++;
    return n;
}

/* ---- path walking ---- */

static int lv_walk_push(struct lv_walk *w, const char *comp, size_t len, struct lv_node *node)
{
    size_t need = w->out_len + (w->n ? 1 : 0) + len;

    if (need > WORKER_LAYER_MAX_PATH)
        return -ENAMETOOLONG;
    if (w->n)
        w->out[w->out_len++] = '/';
    w->off[w->n] = w->out_len;
    w->node[w->n] = node;
    w->n++;
    memcpy(w->out + w->out_len, comp, len);
    w->out_len += len;
    w->out[w->out_len] = '\0';
    return 0;
}

static void lv_walk_pop(struct lv_walk *w)
{
    w->n--;
    w->out_len = w->off[w->n] ? w->off[w->n] - 1 : 0;
    w->out[w->out_len] = '\0';
}

static struct lv_node *lv_walk_dir(const struct worker_layer_view *v, const struct lv_walk *w)
{
    return w->n ? w->node[w->n - 1] : v->root;
}

/* Resolves `path` inside the view, see worker_layer_view_resolve(). `w` receives the result. */
static int lv_walk(const struct worker_layer_view *v, const char *path, bool nofollow,
                   struct lv_walk *w, char *errbuf, size_t errlen)
{
    char *todo = pf_strdup(path);
    const char *cur = todo;
    unsigned links = 0;
    int r = 0;

    w->n = 0;
    w->out_len = 0;
    w->out[0] = '\0';
    if (!todo)
        return -ENOMEM;
    for (;;) {
        struct lv_node *dir, *node;
        const char *comp;
        size_t len;
        bool last;

        cur += strspn(cur, "/");
        if (!*cur)
            break;
        comp = cur;
        len = strcspn(cur, "/");
        cur += len;
        last = cur[strspn(cur, "/")] == '\0';
        dir = lv_walk_dir(v, w);
        if (dir && dir->e.type != WORKER_LAYER_DIR) {
            r = pf_set_error(errbuf, errlen, -ENOTDIR,
                             "cannot resolve '%s': '%s' is not a "
                             "directory",
                             path, w->out);
            goto out;
        }
        if (len == 1 && comp[0] == '.')
            continue;
        if (len == 2 && comp[0] == '.' && comp[1] == '.') {
            if (w->n) /* ".." at the root stays at the root, as in a chroot */
                lv_walk_pop(w);
            continue;
        }
        node = lv_kid(dir, comp, len);
        if (node && node->e.type == WORKER_LAYER_SYMLINK && !(last && nofollow)) {
            char *next;

            if (++links > WORKER_LAYER_MAX_SYMLINKS) {
                r = pf_set_error(errbuf, errlen, -ELOOP,
                                 "cannot resolve '%s': too many "
                                 "levels of symbolic links",
                                 path);
                goto out;
            }
            if (node->link[0] == '/') {
                w->n = 0;
                w->out_len = 0;
                w->out[0] = '\0';
            }
            next = pf_asprintf("%s/%s", node->link, cur);
            if (!next) {
                r = -ENOMEM;
                goto out;
            }
            pf_free(todo);
            todo = next;
            cur = todo;
            continue;
        }
        r = lv_walk_push(w, comp, len, node);
        if (r < 0) {
            r = pf_set_error(errbuf, errlen, r, "cannot resolve '%s': name too long", path);
            goto out;
        }
    }
out:
    pf_free(todo);
    return r;
}

/* ---- names ---- */

/* Normalises a tar name by the shared rules of pf/archive.h (`flags` as there). `what` names
 * the entry in the error message. Returns 0 and a new string in *ret. */
static int lv_normalise(const char *in, const char *what, unsigned flags, char **ret, char *errbuf,
                        size_t errlen)
{
    char out[PF_ARCHIVE_NAME_MAX + 1], why[512];
    int r = pf_archive_entry_name_normalise(in, flags, out, why, sizeof(why));

    if (r < 0)
        return pf_set_error(errbuf, errlen, r, "refusing layer: %s %s", what, why);
    *ret = pf_strdup(out);
    return *ret ? 0 : -ENOMEM;
}

/* ---- staging ---- */

static void lv_stage_release(struct lv_stage *s)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        pf_free(s->v[i].name);
        pf_free(s->v[i].link);
        pf_free(s->v[i].data);
    }
    pf_free(s->v);
    *s = (struct lv_stage){0};
}

static struct lv_staged *lv_stage_add(struct lv_stage *s)
{
    if (PF_GROW(s->v, s->cap, s->n + 1) < 0)
        return NULL;
    s->v[s->n] = (struct lv_staged){0};
    return &s->v[s->n++];
}

/* Reads the current entry's data into st, under the per-file and total limits. The buffer
 * starts at the size the header claims and grows only if the data runs longer. */
static int lv_stage_content(struct worker_layer_view *v, struct lv_stage *s, struct archive *a,
                            struct lv_staged *st, char *errbuf, size_t errlen)
{
    size_t max = v->opts.max_file_content;
    size_t cap = st->size ? (size_t)st->size : 256;
    size_t len = 0;
    char *buf;
    int r = 0;

    if (st->size > max)
        return pf_set_error(errbuf, errlen, -EFBIG,
                            "refusing layer: '%s' (%llu bytes) is "
                            "over the %zu byte content limit",
                            st->name, (unsigned long long)st->size, max);
    buf = pf_malloc(cap + 1);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        la_ssize_t got;
        char probe;
        char *nb;

        if (len < cap) {
            got = archive_read_data(a, buf + len, cap - len);
        } else {
            got = archive_read_data(a, &probe, 1);
            if (got > 0 && len >= max) {
                r = pf_set_error(errbuf, errlen, -EFBIG,
                                 "refusing layer: '%s' is over the "
                                 "%zu byte content limit",
                                 st->name, max);
                goto out;
            }
        }
        if (got < 0) {
            r = pf_set_error(errbuf, errlen, -EBADMSG, "cannot read '%s' from layer: %s", st->name,
                             pf_archive_error(a));
            goto out;
        }
        if (got == 0)
            break;
        if (len == cap) {
            cap = cap > max / 2 ? max : cap * 2;
            nb = pf_realloc(buf, cap + 1);
            if (!nb) {
                r = -ENOMEM;
                goto out;
            }
            buf = nb;
            buf[len] = probe;
        }
        len += (size_t)got;
    }
    if (v->content_bytes + s->content_bytes + len > v->opts.max_total_content) {
        r = pf_set_error(errbuf, errlen, -EFBIG,
                         "refusing layer: keeping '%s' would exceed "
                         "the %zu byte total content limit",
                         st->name, v->opts.max_total_content);
        goto out;
    }
    buf[len] = '\0';
    st->data = buf;
    st->data_len = len;
    s->content_bytes += len;
    buf = NULL;
out:
    pf_free(buf);
    return r;
}

/* Splits off the last component of a normalised name; returns a pointer to it. */
static const char *lv_base(const char *name)
{
    const char *slash = strrchr(name, '/');

    return slash ? slash + 1 : name;
}

/* Classifies a whiteout name. Returns 1 when `name` was staged as a whiteout or opaque marker
 * (or ignored as aufs metadata), 0 when it is an ordinary entry, or a negative errno. */
static int lv_stage_whiteout(struct lv_stage *s, char *name, char *errbuf, size_t errlen)
{
    const char *base = lv_base(name);
    size_t dir_len = (size_t)(base - name);
    struct lv_staged *st;
    const char *target;

    if (strncmp(base, LV_WHITEOUT, strlen(LV_WHITEOUT)) != 0)
        return 0;
    target = base + strlen(LV_WHITEOUT);
    if (strcmp(base, LV_OPAQUE) != 0 && strncmp(target, LV_WHITEOUT, strlen(LV_WHITEOUT)) == 0)
        return 1; /* other ".wh..wh." names are aufs bookkeeping (plnk, aufs), never content */
    if (strcmp(base, LV_OPAQUE) != 0 &&
        (!*target || strcmp(target, ".") == 0 || strcmp(target, "..") == 0))
        return pf_set_error(errbuf, errlen, -EINVAL, "refusing layer: invalid whiteout '%s'", name);
    st = lv_stage_add(s);
    if (!st)
        return -ENOMEM;
    if (strcmp(base, LV_OPAQUE) == 0) {
        st->kind = LV_OPAQUE_KIND;
        st->name = pf_strndup(name, dir_len ? dir_len - 1 : 0);
    } else {
        st->kind = LV_WHITEOUT_KIND;
        st->name = pf_asprintf("%.*s%s", (int)dir_len, name, target);
    }
    if (!st->name) {
        s->n--;
        return -ENOMEM;
    }
    return 1;
}

/* Stages one archive entry (or skips it). */
static int lv_stage_entry(struct worker_layer_view *v, struct lv_stage *s, struct archive *a,
                          struct archive_entry *ae, char *errbuf, size_t errlen)
{
    const char *raw = archive_entry_pathname(ae);
    const char *hl = archive_entry_hardlink(ae);
    mode_t ft = archive_entry_filetype(ae);
    struct lv_staged *st;
    char *name = NULL;
    int r;

    if (!raw)
        return pf_set_error(errbuf, errlen, -EINVAL,
                            "refusing layer: entry without a "
                            "usable name");
    /* "./", which tar(1) writes first, names the root; checked against the type below. */
    r = lv_normalise(raw, "entry", PF_ARCHIVE_NAME_ROOT, &name, errbuf, errlen);
    if (r < 0)
        return r;
    if (!name[0] && (hl || ft != AE_IFDIR)) {
        pf_free(name);
        return pf_set_error(errbuf, errlen, -EINVAL,
                            "refusing layer: the root entry is not a "
                            "directory");
    }
    if (!hl && (ft == AE_IFCHR || ft == AE_IFBLK || ft == AE_IFIFO || ft == AE_IFSOCK)) {
        s->skipped++;
        pf_free(name);
        return 0;
    }
    r = lv_stage_whiteout(s, name, errbuf, errlen);
    if (r != 0) {
        pf_free(name);
        return r < 0 ? r : 0;
    }
    st = lv_stage_add(s);
    if (!st) {
        pf_free(name);
        return -ENOMEM;
    }
    st->kind = LV_ENTRY;
    st->name = name;
    st->mode = (uint32_t)archive_entry_perm(ae) & 07777;
    st->uid = (uint32_t)archive_entry_uid(ae);
    st->gid = (uint32_t)archive_entry_gid(ae);
    st->size = archive_entry_size(ae) > 0 ? (uint64_t)archive_entry_size(ae) : 0;
    if (hl) {
        char *what = pf_asprintf("target of hard link '%s',", name);

        if (!what)
            return -ENOMEM;
        st->type = WORKER_LAYER_HARDLINK;
        r = lv_normalise(hl, what, 0, &st->link, errbuf, errlen); /* never the root */
        pf_free(what);
        return r;
    }
    switch (ft) {
    case AE_IFDIR:
        st->type = WORKER_LAYER_DIR;
        break;
    case AE_IFLNK: {
        const char *t = archive_entry_symlink(ae);

        st->type = WORKER_LAYER_SYMLINK;
        /* Absolute and ".." targets are fine: the view resolves them clamped to the root. */
        if (pf_archive_entry_name_check_symlink(t, NULL, 0) < 0)
            return pf_set_error(errbuf, errlen, -EINVAL,
                                "refusing layer: symlink '%s' has "
                                "no usable target",
                                name);
        st->link = pf_strdup(t);
        return st->link ? 0 : -ENOMEM;
    }
    case AE_IFREG:
        st->type = WORKER_LAYER_REG;
        break;
    default:
        return pf_set_error(errbuf, errlen, -EINVAL,
                            "refusing layer: entry '%s' has unknown "
                            "type 0%o",
                            name, (unsigned)ft);
    }
    if (st->type == WORKER_LAYER_REG && v->opts.keep && v->opts.keep(name, v->opts.keep_userdata))
        return lv_stage_content(v, s, a, st, errbuf, errlen);
    return 0;
}

/* Reads the whole layer into `s`. */
static int lv_stage_layer(struct worker_layer_view *v, struct lv_stage *s, struct archive *a,
                          char *errbuf, size_t errlen)
{
    size_t count = 0;
    uint64_t bytes = 0;

    for (;;) {
        struct archive_entry *ae;
        int ar = archive_read_next_header(a, &ae);
        int r;

        if (ar == ARCHIVE_EOF)
            return 0;
        if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN)
            return pf_set_error(errbuf, errlen, -EBADMSG, "cannot read layer: %s",
                                pf_archive_error(a));
        if (++count > v->opts.max_entries_per_layer)
            return pf_set_error(errbuf, errlen, -E2BIG, "refusing layer: more than %zu entries",
                                v->opts.max_entries_per_layer);
        if (archive_entry_filetype(ae) == AE_IFREG && archive_entry_size(ae) > 0)
            bytes += (uint64_t)archive_entry_size(ae);
        if (bytes > v->opts.max_layer_size)
            return pf_set_error(errbuf, errlen, -EFBIG,
                                "refusing layer: its files exceed the layer size limit of %" PRIu64
                                " bytes uncompressed (--max-layer-size)",
                                v->opts.max_layer_size);
        r = lv_stage_entry(v, s, a, ae, errbuf, errlen);
        if (r < 0)
            return r;
    }
}

/* ---- merging ---- */

/* Finds (creating bare directories where missing) the directory that holds `name` and returns
 * it with the last component in *ret_base. */
static int lv_merge_parent(struct worker_layer_view *v, const char *name, struct lv_walk *w,
                           struct lv_node **ret_dir, char *errbuf, size_t errlen)
{
    const char *base = lv_base(name);
    size_t dir_len = base > name ? (size_t)(base - name - 1) : 0;
    char *parent = pf_strndup(name, dir_len);
    struct lv_node *dir = v->root;
    size_t i;
    int r;

    if (!parent)
        return -ENOMEM;
    r = lv_walk(v, parent, false, w, errbuf, errlen);
    pf_free(parent);
    if (r < 0)
        return r;
    for (i = 0; i < w->n; i++) {
        struct lv_node *n = w->node[i];

        if (!n) {
            size_t end = i + 1 < w->n ? w->off[i + 1] - 1 : w->out_len;

            n = lv_node_add(v, dir, w->out + w->off[i], end - w->off[i]);
            if (!n)
                return -ENOMEM;
            w->node[i] = n;
        }
        dir = n;
    }
    if (dir->e.type != WORKER_LAYER_DIR)
        return pf_set_error(errbuf, errlen, -ENOTDIR,
                            "cannot apply '%s': parent '%s' is not a "
                            "directory",
                            name, w->out);
    *ret_dir = dir;
    return 0;
}

static int lv_merge_entry(struct worker_layer_view *v, struct lv_staged *st, struct lv_walk *w,
                          char *errbuf, size_t errlen)
{
    const char *base = lv_base(st->name);
    struct lv_node *dir = NULL, *n;
    int r;

    if (!st->name[0]) {
        n = v->root;
    } else {
        r = lv_merge_parent(v, st->name, w, &dir, errbuf, errlen);
        if (r < 0)
            return r;
        n = lv_kid(dir, base, strlen(base));
        if (n && !(n->e.type == WORKER_LAYER_DIR && st->type == WORKER_LAYER_DIR)) {
            lv_node_remove(v, n);
            n = NULL;
        }
        if (!n) {
            n = lv_node_add(v, dir, base, strlen(base));
            if (!n)
                return -ENOMEM;
        }
    }
    n->e.type = st->type;
    n->e.mode = st->mode;
    n->e.uid = st->uid;
    n->e.gid = st->gid;
    n->e.size = st->size;
    n->e.layer = v->layers;
    pf_free(n->link);
    n->link = st->link;
    n->e.link = n->link;
    st->link = NULL;
    v->content_bytes -= n->data ? n->data_len : 0;
    pf_free(n->data);
    n->data = st->data;
    n->data_len = st->data_len;
    n->e.has_content = n->data != NULL;
    v->content_bytes += st->data_len;
    st->data = NULL;
    return 0;
}

/* Deletes what a whiteout or opaque marker names; markers over missing or unresolvable paths
 * have nothing to hide. */
static void lv_merge_whiteout(struct worker_layer_view *v, const struct lv_staged *st,
                              struct lv_walk *w)
{
    struct lv_node *n;

    /* Never follow the final component: an opaque marker on a directory symlink (lib ->
     * usr/lib) must not empty the directory it points to. */
    if (lv_walk(v, st->name, true, w, NULL, 0) < 0)
        return;
    n = lv_walk_dir(v, w);
    if (!n)
        return;
    if (st->kind == LV_OPAQUE_KIND) {
        if (n->e.type == WORKER_LAYER_DIR)
            lv_node_clear_kids(v, n);
    } else if (n != v->root) {
        lv_node_remove(v, n);
    }
}

static int lv_merge(struct worker_layer_view *v, struct lv_stage *s, char *errbuf, size_t errlen)
{
    struct lv_walk *w = pf_malloc(sizeof(*w));
    size_t i;
    int r = 0;

    if (!w)
        return -ENOMEM;
    for (i = 0; i < s->n; i++) {
        if (s->v[i].kind == LV_OPAQUE_KIND)
            lv_merge_whiteout(v, &s->v[i], w);
    }
    for (i = 0; i < s->n; i++) {
        if (s->v[i].kind == LV_WHITEOUT_KIND)
            lv_merge_whiteout(v, &s->v[i], w);
    }
    for (i = 0; i < s->n && r >= 0; i++) {
        if (s->v[i].kind == LV_ENTRY)
            r = lv_merge_entry(v, &s->v[i], w, errbuf, errlen);
    }
    pf_free(w);
    return r;
}

/* ---- public ---- */

int worker_layer_view_new(const struct worker_layer_view_options *opts,
                          struct worker_layer_view **ret)
{
    struct worker_layer_view *v = pf_calloc(1, sizeof(*v));

    if (!v)
        return -ENOMEM;
    if (opts)
        v->opts = *opts;
    if (!v->opts.max_entries_per_layer)
        v->opts.max_entries_per_layer = WORKER_LAYER_MAX_ENTRIES;
    if (!v->opts.max_file_content)
        v->opts.max_file_content = WORKER_LAYER_MAX_FILE_CONTENT;
    if (!v->opts.max_total_content)
        v->opts.max_total_content = WORKER_LAYER_MAX_TOTAL_CONTENT;
    if (!v->opts.max_layer_size)
        v->opts.max_layer_size = WORKER_LAYER_MAX_SIZE;
    v->root = pf_calloc(1, sizeof(*v->root));
    if (v->root)
        v->root->path = pf_strdup("");
    if (!v->root || !v->root->path) {
        if (v->root)
            pf_free(v->root);
        pf_free(v);
        return -ENOMEM;
    }
    v->root->name = v->root->path;
    v->root->e.path = v->root->path;
    v->root->e.type = WORKER_LAYER_DIR;
    v->root->e.mode = 0755;
    *ret = v;
    return 0;
}

struct worker_layer_view *worker_layer_view_free(struct worker_layer_view *v)
{
    if (!v)
        return NULL;
    if (v->root)
        lv_node_free_tree(v, v->root);
    pf_free(v);
    return NULL;
}

/* Stages and merges from an opened archive; closes nothing. */
static int lv_apply(struct worker_layer_view *v, struct archive *a, int open_r, char *errbuf,
                    size_t errlen)
{
    struct lv_stage s = {0};
    int r;

    if (open_r != ARCHIVE_OK)
        return pf_set_error(errbuf, errlen, -EBADMSG, "cannot open layer: %s", pf_archive_error(a));
    r = lv_stage_layer(v, &s, a, errbuf, errlen);
    if (r < 0)
        goto out;
    r = lv_merge(v, &s, errbuf, errlen);
    if (r < 0) {
        v->poisoned = true;
        goto out;
    }
    v->skipped += s.skipped;
    v->layers++;
out:
    lv_stage_release(&s);
    return r;
}

static struct archive *lv_archive_new(void)
{
    struct archive *a = NULL;

    /* OCI layer media types: tar, tar+gzip, tar+zstd; an empty blob is an empty layer. */
    if (pf_archive_read_new(PF_ARCHIVE_FILTER_GZIP | PF_ARCHIVE_FILTER_ZSTD,
                            PF_ARCHIVE_FORMAT_TAR | PF_ARCHIVE_FORMAT_EMPTY, &a) < 0)
        return NULL;
    return a;
}

static int lv_check_usable(const struct worker_layer_view *v, char *errbuf, size_t errlen)
{
    if (v->poisoned)
        return pf_set_error(errbuf, errlen, -ESTALE,
                            "layer view is incomplete after an "
                            "earlier failure");
    return 0;
}

int worker_layer_view_apply_fd(struct worker_layer_view *v, int fd, char *errbuf, size_t errlen)
{
    struct archive *a;
    int r = lv_check_usable(v, errbuf, errlen);

    if (r < 0)
        return r;
    a = lv_archive_new();
    if (!a)
        return -ENOMEM;
    r = lv_apply(v, a, archive_read_open_fd(a, fd, LV_READ_CHUNK), errbuf, errlen);
    archive_read_free(a);
    return r;
}

int worker_layer_view_apply_memory(struct worker_layer_view *v, const void *data, size_t len,
                                   char *errbuf, size_t errlen)
{
    struct archive *a;
    int r = lv_check_usable(v, errbuf, errlen);

    if (r < 0)
        return r;
    a = lv_archive_new();
    if (!a)
        return -ENOMEM;
    r = lv_apply(v, a, archive_read_open_memory(a, data, len), errbuf, errlen);
    archive_read_free(a);
    return r;
}

struct lv_reader {
    worker_layer_read_cb cb;
    void *userdata;
    int err;
    char buf[LV_READ_CHUNK];
};

static la_ssize_t lv_reader_read(struct archive *a, void *ud, const void **ret_buf)
{
    struct lv_reader *rd = ud;
    ssize_t n = rd->cb(rd->userdata, rd->buf, sizeof(rd->buf));

    if (n < 0) {
        rd->err = (int)n;
        archive_set_error(a, (int)-n, "layer read callback failed");
        return -1;
    }
    *ret_buf = rd->buf;
    return n;
}

int worker_layer_view_apply_reader(struct worker_layer_view *v, worker_layer_read_cb cb,
                                   void *userdata, char *errbuf, size_t errlen)
{
    struct lv_reader *rd;
    struct archive *a;
    int r = lv_check_usable(v, errbuf, errlen);

    if (r < 0)
        return r;
    rd = pf_calloc(1, sizeof(*rd));
    if (!rd)
        return -ENOMEM;
    rd->cb = cb;
    rd->userdata = userdata;
    a = lv_archive_new();
    if (!a) {
        pf_free(rd);
        return -ENOMEM;
    }
    r = lv_apply(v, a, archive_read_open(a, rd, NULL, lv_reader_read, NULL), errbuf, errlen);
    if (r < 0 && rd->err < 0)
        r = rd->err; /* the caller's own error beats "corrupt archive" */
    archive_read_free(a);
    pf_free(rd);
    return r;
}

int worker_layer_view_resolve(const struct worker_layer_view *v, const char *path, bool nofollow,
                              char **ret_resolved, char *errbuf, size_t errlen)
{
    struct lv_walk *w = pf_malloc(sizeof(*w));
    char *s;
    int r;

    if (!w)
        return -ENOMEM;
    r = lv_walk(v, path, nofollow, w, errbuf, errlen);
    if (r < 0)
        goto out;
    s = pf_strdup(w->out);
    if (!s) {
        r = -ENOMEM;
        goto out;
    }
    *ret_resolved = s;
out:
    pf_free(w);
    return r;
}

/* Walks `path` and returns its node, NULL when it does not exist, or an error in *ret_err. */
static struct lv_node *lv_lookup(const struct worker_layer_view *v, const char *path, bool nofollow,
                                 int *ret_err)
{
    struct lv_walk *w = pf_malloc(sizeof(*w));
    struct lv_node *n = NULL;
    int r;

    if (!w) {
        *ret_err = -ENOMEM;
        return NULL;
    }
    r = lv_walk(v, path, nofollow, w, NULL, 0);
    if (r >= 0) {
        n = lv_walk_dir(v, w);
        r = n ? 0 : -ENOENT;
    }
    pf_free(w);
    *ret_err = r;
    return n;
}

const struct worker_layer_entry *worker_layer_view_get(const struct worker_layer_view *v,
                                                       const char *path)
{
    int r;
    struct lv_node *n = lv_lookup(v, path, true, &r);

    return n ? &n->e : NULL;
}

int worker_layer_view_read(const struct worker_layer_view *v, const char *path,
                           const char **ret_data, size_t *ret_len)
{
    int r;
    struct lv_node *n = lv_lookup(v, path, false, &r);

    if (!n)
        return r;
    if (n->e.type == WORKER_LAYER_HARDLINK && !n->data) {
        /* One hop only: tar hard links always name a regular file. */
        n = lv_lookup(v, n->link, false, &r);
        if (!n)
            return r;
    }
    if (n->e.type == WORKER_LAYER_DIR)
        return -EISDIR;
    if (!n->data)
        return -ENODATA;
    *ret_data = n->data;
    *ret_len = n->data_len;
    return 0;
}

int worker_layer_view_list(const struct worker_layer_view *v, const char *path, struct pf_strv *ret)
{
    int r;
    struct lv_node *n = lv_lookup(v, path, false, &r);
    size_t i;

    if (!n)
        return r;
    if (n->e.type != WORKER_LAYER_DIR)
        return -ENOTDIR;
    for (i = 0; i < n->n_kids; i++) {
        r = pf_strv_push(ret, n->kids[i]->name);
        if (r < 0)
            return r;
    }
    return (int)n->n_kids;
}

void worker_layer_view_get_stats(const struct worker_layer_view *v,
                                 struct worker_layer_view_stats *ret)
{
    ret->layers = v->layers;
    ret->entries = v->entries;
    ret->skipped_special = v->skipped;
    ret->content_bytes = v->content_bytes;
}
