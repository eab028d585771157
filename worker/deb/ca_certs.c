/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ca-certificates' postinst as data (see ca_certs.h and docs/deb-apply.md). The work happens on
 * a small in-memory copy of /etc/ssl/certs (name, type, link target), changed step by step as
 * the shell script and `openssl rehash` change the real directory, and then compared with the
 * view: what differs becomes links, files and whiteouts of the patch layer. Certificates are
 * few (Debian ships about 150), so plain arrays and linear searches are enough.
 */
#include "pf/setup.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "pf/log.h"
#include "pf/signature.h"
#include "pf/strv.h"
#include "deb/ca_certs.h"
#include "deb/deb_file.h"
#include "image/layer_view.h"
#include "image/layer_writer.h"

#define MAX_LINK_DEPTH 8
#define MAX_LOCAL_DEPTH 16

struct cert_file {
    char *name; /* relative to its directory: "mozilla/X.crt" */
    char *data;
    size_t len;
};

struct cert_set {
    struct cert_file *v;
    size_t n, cap;
};

/* One name of /etc/ssl/certs as the scripts would leave it. */
struct etc_entry {
    char *name;
    char *link;   /* symlink target, else NULL */
    bool is_link; /* else whatever the view holds (a file, a directory) */
    bool live;    /* false once removed */
    bool in_view; /* the view has this name */
    bool changed; /* differs from the view */
};

struct ca {
    const struct worker_layer_view *view;
    struct cert_set pkg;   /* the new package's usr/share/ca-certificates */
    struct etc_entry *etc; /* sorted by name once loaded; new names are appended */
    size_t n_etc, cap_etc;
    struct pf_buf bundle;
    bool bundle_made;
    unsigned added, removed;
};

/* One entry of openssl rehash's table: a certificate file or an existing hash link. */
struct rh_entry {
    uint32_t hash;
    bool crl;
    const char *filename; /* borrowed from the etc entries, which outlive the table */
    unsigned char fp[PF_X509_FINGERPRINT_LEN];
    bool has_fp, need;
    int old_id; /* INT_MAX when there is no link yet */
};

struct rh_table {
    struct rh_entry *v;
    size_t n, cap;
};

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void cert_set_release(struct cert_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        pf_free(s->v[i].name);
        pf_free(s->v[i].data);
    }
    pf_free(s->v);
    *s = (struct cert_set){0};
}

static int cert_set_add(struct cert_set *s, const char *name, const char *data, size_t len)
{
    struct cert_file f = {0};

    if (s->n >= WORKER_CA_CERTS_MAX_FILES)
        return -EFBIG;
    if (PF_GROW(s->v, s->cap, s->n + 1) < 0)
        return -ENOMEM;
    f.name = pf_strdup(name);
    f.data = pf_malloc(len + 1);
    if (!f.name || !f.data) {
        pf_free(f.name);
        pf_free(f.data);
        return -ENOMEM;
    }
    if (len > 0)
        memcpy(f.data, data, len);
    f.data[len] = '\0';
    f.len = len;
    s->v[s->n++] = f;
    return 0;
}

static const struct cert_file *cert_set_find(const struct cert_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}

static int cmp_cert(const void *a, const void *b)
{
    return strcmp(((const struct cert_file *)a)->name, ((const struct cert_file *)b)->name);
}

/* worker_deb_file_each_data() callback: keeps the regular *.crt files under the certs dir. */
static int on_data(const struct worker_deb_data_entry *e, void *ctx, void *userdata)
{
    struct cert_set *s = userdata;
    const char *name;
    char *buf;
    size_t len = 0;
    int r;

    if (e->type != WORKER_LAYER_REG || !has_prefix(e->path, WORKER_CA_CERTS_DIR "/") ||
        !has_suffix(e->path, ".crt"))
        return 0;
    name = e->path + strlen(WORKER_CA_CERTS_DIR "/");
    if (e->size > WORKER_CA_CERTS_MAX_FILE_SIZE)
        return -EFBIG;
    buf = pf_malloc((size_t)e->size + 1);
    if (!buf)
        return -ENOMEM;
    while (len < e->size) {
        ssize_t k = worker_deb_data_read(ctx, buf + len, (size_t)e->size - len);

        if (k <= 0) {
            pf_free(buf);
            return k < 0 ? (int)k : -EBADMSG;
        }
        len += (size_t)k;
    }
    r = cert_set_add(s, name, buf, len);
    pf_free(buf);
    return r;
}

static int read_package(const char *deb_path, struct cert_set *s, char *errbuf, size_t errlen)
{
    struct worker_deb_file *d = NULL;
    int r = worker_deb_file_open(deb_path, &d, errbuf, errlen);

    if (r < 0)
        return r;
    r = worker_deb_file_each_data(d, on_data, s, errbuf, errlen);
    worker_deb_file_free(d);
    if (r == -EFBIG)
        return pf_set_error(errbuf, errlen, r,
                            "ca-certificates: more than %u certificates or one over %u bytes",
                            WORKER_CA_CERTS_MAX_FILES, WORKER_CA_CERTS_MAX_FILE_SIZE);
    if (r < 0)
        return r;
    if (s->n > 1)
        qsort(s->v, s->n, sizeof(*s->v), cmp_cert);
    return 0;
}

static struct etc_entry *etc_find(struct ca *c, const char *name)
{
    for (size_t i = 0; i < c->n_etc; i++)
        if (strcmp(c->etc[i].name, name) == 0)
            return &c->etc[i];
    return NULL;
}

static struct etc_entry *etc_live(struct ca *c, const char *name)
{
    struct etc_entry *e = etc_find(c, name);

    return e && e->live ? e : NULL;
}

static int etc_push(struct ca *c, const char *name, struct etc_entry **ret)
{
    struct etc_entry e = {0};

    if (c->n_etc >= WORKER_CA_CERTS_MAX_FILES * 4)
        return -EFBIG;
    if (PF_GROW(c->etc, c->cap_etc, c->n_etc + 1) < 0)
        return -ENOMEM;
    e.name = pf_strdup(name);
    if (!e.name)
        return -ENOMEM;
    c->etc[c->n_etc] = e;
    *ret = &c->etc[c->n_etc++];
    return 0;
}

static int etc_load(struct ca *c)
{
    struct pf_strv names = PF_STRV_INIT;
    int r = worker_layer_view_list(c->view, WORKER_CA_CERTS_ETC_DIR, &names);

    if (r == -ENOENT || r == -ENOTDIR)
        r = 0;
    for (size_t i = 0; r >= 0 && i < names.n; i++) {
        char *path = pf_asprintf(WORKER_CA_CERTS_ETC_DIR "/%s", names.v[i]);
        const struct worker_layer_entry *v = path ? worker_layer_view_get(c->view, path) : NULL;
        struct etc_entry *e = NULL;

        pf_free(path);
        if (!v)
            continue;
        r = etc_push(c, names.v[i], &e);
        if (r < 0)
            break;
        e->live = e->in_view = true;
        e->is_link = v->type == WORKER_LAYER_SYMLINK;
        if (e->is_link) {
            e->link = pf_strdup(v->link);
            if (!e->link)
                r = -ENOMEM;
        }
    }
    pf_strv_clear(&names);
    return r < 0 ? r : 0;
}

/* `ln -sf target name` in /etc/ssl/certs. */
static int etc_symlink(struct ca *c, const char *name, const char *target)
{
    struct etc_entry *e = etc_find(c, name);
    char *t = pf_strdup(target);
    int r;

    if (!t)
        return -ENOMEM;
    if (!e) {
        r = etc_push(c, name, &e);
        if (r < 0) {
            pf_free(t);
            return r;
        }
    }
    pf_free(e->link);
    e->link = t;
    e->is_link = e->live = e->changed = true;
    return 0;
}

static void etc_remove(struct etc_entry *e)
{
    e->live = false;
    e->changed = true;
}

/* Where the content of an absolute link target comes from: the new package for the certs
 * dir (the old package's files there are gone after the unpack), the view elsewhere. */
static int read_abs(struct ca *c, const char *target, const char **ret, size_t *ret_len)
{
    const char *p = target + 1;

    if (has_prefix(p, WORKER_CA_CERTS_DIR "/")) {
        const struct cert_file *f = cert_set_find(&c->pkg, p + strlen(WORKER_CA_CERTS_DIR "/"));

        if (!f)
            return -ENOENT;
        *ret = f->data;
        *ret_len = f->len;
        return 0;
    }
    return worker_layer_view_read(c->view, p, ret, ret_len);
}

/* Reads /etc/ssl/certs/<name> following links; -ENOENT when it dangles. */
static int etc_read(struct ca *c, const char *name, unsigned depth, const char **ret,
                    size_t *ret_len)
{
    struct etc_entry *e = etc_live(c, name);
    char *path;
    int r;

    if (!e || depth > MAX_LINK_DEPTH)
        return -ENOENT;
    if (!e->is_link) {
        path = pf_asprintf(WORKER_CA_CERTS_ETC_DIR "/%s", name);
        if (!path)
            return -ENOMEM;
        r = worker_layer_view_read(c->view, path, ret, ret_len);
        pf_free(path);
        return r;
    }
    if (e->link[0] == '/') {
        if (has_prefix(e->link + 1, WORKER_CA_CERTS_ETC_DIR "/"))
            return etc_read(c, e->link + 1 + strlen(WORKER_CA_CERTS_ETC_DIR "/"), depth + 1, ret,
                            ret_len);
        return read_abs(c, e->link, ret, ret_len);
    }
    if (strchr(e->link, '/'))
        return -ENOENT; /* a relative link out of the directory: not a certificate rehash sees */
    return etc_read(c, e->link, depth + 1, ret, ret_len);
}

/* `test -e` on a link of /etc/ssl/certs: its target exists. */
static bool etc_exists(struct ca *c, const char *name)
{
    struct etc_entry *e = etc_live(c, name);
    const char *data;
    size_t len;
    int r;

    if (!e)
        return false;
    if (!e->is_link)
        return true;
    if (e->link[0] == '/' && !has_prefix(e->link + 1, WORKER_CA_CERTS_DIR "/") &&
        !has_prefix(e->link + 1, WORKER_CA_CERTS_ETC_DIR "/"))
        return worker_layer_view_get(c->view, e->link) != NULL;
    r = etc_read(c, name, 0, &data, &len);
    return r == 0 || r == -ENODATA || r == -EISDIR;
}

/* Trims spaces and tabs at both ends, as the shell's `read` does. */
static char *trim(char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int split_lines(const char *text, size_t len, struct pf_strv *ret)
{
    size_t i = 0;

    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        char *line = pf_strndup(text + i, end - i);
        int r;

        if (!line)
            return -ENOMEM;
        r = pf_strv_push(ret, trim(line));
        pf_free(line);
        if (r < 0)
            return r;
        i = end + 1;
    }
    return 0;
}

static bool line_starts(const struct pf_strv *lines, const char *prefix)
{
    for (size_t i = 0; i < lines->n; i++)
        if (has_prefix(lines->v[i], prefix))
            return true;
    return false;
}

/*
 * The postinst's conf update with debconf's defaults (trust new certificates): available are
 * the package's certificates, enabled those of them the old conf does not deselect. A line
 * naming an enabled one stays trusted, one naming an available or deselected one becomes
 * "!name", one naming a file still present stays, the rest (gone with the old version) become
 * "!name". Enabled ones missing from the file are appended in sorted order.
 */
static int conf_update(struct ca *c, const struct pf_strv *old, struct pf_strv *ret)
{
    struct pf_strv disabled = PF_STRV_INIT;
    int r = 0;

    for (size_t i = 0; r >= 0 && i < old->n; i++)
        if (old->v[i][0] == '!')
            r = pf_strv_push(&disabled, old->v[i] + 1);
    for (size_t i = 0; r >= 0 && i < old->n; i++) {
        const char *l = old->v[i], *ca = l[0] == '!' ? l + 1 : l;
        bool avail = cert_set_find(&c->pkg, ca) != NULL;
        char *local;

        if (l[0] == '#') {
            r = pf_strv_push(ret, l);
            continue;
        }
        if (avail && !pf_strv_contains(&disabled, ca)) {
            r = pf_strv_push(ret, ca);
            continue;
        }
        if (avail || l[0] == '!' || ca[0] == '\0') {
            r = pf_strv_pushf(ret, "!%s", ca);
            continue;
        }
        local = pf_asprintf(WORKER_CA_CERTS_LOCAL_DIR "/%s", ca);
        if (!local) {
            r = -ENOMEM;
            break;
        }
        r = worker_layer_view_read(c->view, local, &(const char *){NULL}, &(size_t){0});
        pf_free(local);
        r = r == 0 || r == -ENODATA ? pf_strv_push(ret, ca) : pf_strv_pushf(ret, "!%s", ca);
    }
    for (size_t i = 0; r >= 0 && i < c->pkg.n; i++) {
        const char *ca = c->pkg.v[i].name;
        char *bang;

        if (!pf_strv_contains(&disabled, ca)) {
            if (!line_starts(ret, ca))
                r = pf_strv_push(ret, ca);
            continue;
        }
        bang = pf_asprintf("!%s", ca);
        if (!bang) {
            r = -ENOMEM;
            break;
        }
        if (!line_starts(ret, bang))
            r = pf_strv_push(ret, bang);
        pf_free(bang);
    }
    pf_strv_clear(&disabled);
    return r < 0 ? r : 0;
}

/* The .pem name update-ca-certificates gives a certificate: its basename without ".crt",
 * spaces and commas as '_', parentheses as '=' (`mangle` false: remove()'s plain name). */
static char *pem_name(const char *cert, bool mangle)
{
    const char *base = strrchr(cert, '/');
    size_t n;
    char *s;

    base = base ? base + 1 : cert;
    n = strlen(base);
    if (n > 4 && has_suffix(base, ".crt")) /* basename(1) never strips the whole name */
        n -= 4;
    s = pf_asprintf("%.*s.pem", (int)n, base);
    for (char *p = s; mangle && p && p < s + n; p++) {
        if (*p == ' ' || *p == ',')
            *p = '_';
        else if (*p == '(' || *p == ')')
            *p = '=';
    }
    return s;
}

/* update-ca-certificates' add(): the link, then the certificate into the bundle. */
static int add_cert(struct ca *c, const char *target, const char *data, size_t len)
{
    char *name = pem_name(target, true);
    struct etc_entry *e;
    int r = 0;

    if (!name)
        return -ENOMEM;
    e = etc_live(c, name);
    if (!e || !etc_exists(c, name) || !e->is_link || strcmp(e->link, target) != 0) {
        r = etc_symlink(c, name, target);
        c->added++;
    }
    pf_free(name);
    c->bundle_made = true;
    if (r == 0 && len > 0)
        r = pf_buf_append(&c->bundle, data, len);
    if (r == 0 && len > 0 && data[len - 1] != '\n')
        r = pf_buf_append(&c->bundle, "\n", 1);
    return r;
}

static int walk_local(struct ca *c, const char *dir, unsigned depth, struct cert_set *ret)
{
    struct pf_strv names = PF_STRV_INIT;
    int r = depth > MAX_LOCAL_DEPTH ? 0 : worker_layer_view_list(c->view, dir, &names);

    if (r == -ENOENT || r == -ENOTDIR)
        r = 0;
    for (size_t i = 0; r >= 0 && i < names.n; i++) {
        char *path = pf_asprintf("%s/%s", dir, names.v[i]);
        const struct worker_layer_entry *e = path ? worker_layer_view_get(c->view, path) : NULL;
        const char *data;
        size_t len;

        if (!path) {
            r = -ENOMEM;
            break;
        }
        if (e && e->type == WORKER_LAYER_DIR)
            r = walk_local(c, path, depth + 1, ret);
        else if (e && has_suffix(names.v[i], ".crt") &&
                 worker_layer_view_read(c->view, path, &data, &len) == 0)
            r = len > WORKER_CA_CERTS_MAX_FILE_SIZE ? -EFBIG : cert_set_add(ret, path, data, len);
        pf_free(path);
    }
    pf_strv_clear(&names);
    return r < 0 ? r : 0;
}

/* Parses "%08x.%d" or "%08x.r%d", the names rehash owns. */
static bool hash_name(const char *s, uint32_t *ret_hash, bool *ret_crl, int *ret_id)
{
    uint32_t h = 0;
    long id = 0;

    for (int i = 0; i < 8; i++) {
        char ch = s[i];

        if (ch >= '0' && ch <= '9')
            h = h * 16 + (uint32_t)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            h = h * 16 + (uint32_t)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            h = h * 16 + (uint32_t)(ch - 'A' + 10);
        else
            return false;
    }
    if (s[8] != '.')
        return false;
    s += 9;
    /* As rehash reads them: the CRL mark in either case, and no digits at all meaning 0. */
    *ret_crl = *s == 'r' || *s == 'R';
    if (*ret_crl)
        s++;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || id > 65535)
            return false;
        id = id * 10 + (*s - '0');
    }
    *ret_hash = h;
    *ret_id = (int)id;
    return true;
}

/* Returns 0, 1 when the certificate is a duplicate (skipped), or -ENOMEM. */
static int rh_add(struct rh_table *t, uint32_t hash, bool crl, const char *filename,
                  const unsigned char *fp, int old_id)
{
    struct rh_entry *found = NULL;

    for (size_t i = 0; i < t->n; i++) {
        struct rh_entry *e = &t->v[i];

        if (e->hash != hash || e->crl != crl)
            continue;
        if (fp && e->has_fp && memcmp(e->fp, fp, PF_X509_FINGERPRINT_LEN) == 0) {
            pf_log(LOG_WARNING, "ca-certificates: skipping duplicate certificate in %s", filename);
            return 1;
        }
        if (!found && strcmp(e->filename, filename) == 0)
            found = e;
    }
    if (!found) {
        if (PF_GROW(t->v, t->cap, t->n + 1) < 0)
            return -ENOMEM;
        found = &t->v[t->n++];
        *found =
            (struct rh_entry){.hash = hash, .crl = crl, .filename = filename, .old_id = INT_MAX};
    }
    if (old_id < found->old_id)
        found->old_id = old_id;
    if (fp && !found->need) {
        found->need = true;
        found->has_fp = true;
        memcpy(found->fp, fp, PF_X509_FINGERPRINT_LEN);
    }
    return 0;
}

static bool rehash_ext(const char *name)
{
    const char *dot = strrchr(name, '.');

    return dot && (strcasecmp(dot + 1, "pem") == 0 || strcasecmp(dot + 1, "crt") == 0 ||
                   strcasecmp(dot + 1, "cer") == 0 || strcasecmp(dot + 1, "crl") == 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reads the directory into rehash's table, in rehash's order (names sorted bytewise). */
static int rehash_scan(struct ca *c, struct rh_table *t)
{
    const char **names = pf_calloc(c->n_etc + 1, sizeof(*names));
    size_t n = 0;

    if (!names)
        return -ENOMEM;
    for (size_t i = 0; i < c->n_etc; i++)
        if (c->etc[i].live)
            names[n++] = c->etc[i].name;
    qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        struct etc_entry *e = etc_live(c, names[i]);
        unsigned char fp[PF_X509_FINGERPRINT_LEN];
        char msg[256] = "";
        const char *data;
        uint32_t hash;
        size_t len;
        bool crl;
        int id;

        if (e->is_link && hash_name(e->name, &hash, &crl, &id)) {
            if (rh_add(t, hash, crl, e->link, NULL, id) < 0)
                goto oom;
            continue;
        }
        if (!rehash_ext(e->name) || etc_read(c, e->name, 0, &data, &len) < 0)
            continue;
        if (pf_x509_subject_hash(data, len, &hash, fp, msg, sizeof(msg)) < 0) {
            pf_log(LOG_WARNING, "ca-certificates: %s/%s: %s, skipping", WORKER_CA_CERTS_ETC_DIR,
                   e->name, msg);
            continue;
        }
        if (rh_add(t, hash, false, e->name, fp, INT_MAX) < 0)
            goto oom;
    }
    pf_free(names);
    return 0;
oom:
    pf_free(names);
    return -ENOMEM;
}

/* `openssl rehash .`: numbers kept where they are still in range, new links fill the gaps in
 * the bucket's order, links no longer needed are removed. */
static int rehash(struct ca *c)
{
    struct rh_table t = {0};
    int r = rehash_scan(c, &t);

    for (size_t i = 0; r >= 0 && i < t.n; i++) {
        size_t needed = 0, nextid = 0;
        bool *used, seen = false;

        for (size_t j = 0; j < i && !seen; j++)
            seen = t.v[j].hash == t.v[i].hash && t.v[j].crl == t.v[i].crl;
        if (seen)
            continue;
        for (size_t j = i; j < t.n; j++)
            if (t.v[j].hash == t.v[i].hash && t.v[j].crl == t.v[i].crl && t.v[j].need)
                needed++;
        used = pf_calloc(needed + 1, sizeof(*used));
        if (!used) {
            r = -ENOMEM;
            break;
        }
        for (size_t j = i; j < t.n; j++)
            if (t.v[j].hash == t.v[i].hash && t.v[j].crl == t.v[i].crl &&
                (size_t)t.v[j].old_id < needed)
                used[t.v[j].old_id] = true;
        for (size_t j = i; r >= 0 && j < t.n; j++) {
            struct rh_entry *e = &t.v[j];
            char name[32];

            if (e->hash != t.v[i].hash || e->crl != t.v[i].crl || (size_t)e->old_id < needed)
                continue;
            if (e->need) {
                while (used[nextid])
                    nextid++;
                used[nextid] = true;
                (void)snprintf(name, sizeof(name), "%08x.%s%zu", e->hash, e->crl ? "r" : "",
                               nextid);
                r = etc_symlink(c, name, e->filename);
            } else {
                (void)snprintf(name, sizeof(name), "%08x.%s%d", e->hash, e->crl ? "r" : "",
                               e->old_id);
                if (etc_live(c, name))
                    etc_remove(etc_live(c, name));
            }
        }
        pf_free(used);
    }
    pf_free(t.v);
    return r;
}

/* update-ca-certificates without --fresh, on the new conf. */
static int update(struct ca *c, const struct pf_strv *conf)
{
    struct cert_set local = {0};
    int r = 0;

    for (size_t i = 0; i < conf->n; i++) {
        const char *l = conf->v[i];
        struct etc_entry *e;
        char *name;

        if (l[0] != '!')
            continue;
        name = pem_name(l + 1, false);
        if (!name)
            return -ENOMEM;
        e = etc_live(c, name);
        if (e && e->is_link) {
            etc_remove(e);
            c->removed++;
        }
        pf_free(name);
    }
    for (size_t i = 0; r >= 0 && i < conf->n; i++) {
        const char *l = conf->v[i];
        const struct cert_file *f;
        char *target;

        if (l[0] == '\0' || l[0] == '#' || l[0] == '!')
            continue;
        f = cert_set_find(&c->pkg, l);
        if (!f) {
            pf_log(LOG_WARNING, "ca-certificates: /%s/%s not found, but listed in /%s",
                   WORKER_CA_CERTS_DIR, l, WORKER_CA_CERTS_CONF);
            continue;
        }
        target = pf_asprintf("/" WORKER_CA_CERTS_DIR "/%s", l);
        r = target ? add_cert(c, target, f->data, f->len) : -ENOMEM;
        pf_free(target);
    }
    if (r >= 0)
        r = walk_local(c, WORKER_CA_CERTS_LOCAL_DIR, 0, &local);
    if (r >= 0 && local.n > 1)
        qsort(local.v, local.n, sizeof(*local.v), cmp_cert);
    for (size_t i = 0; r >= 0 && i < local.n; i++) {
        char *target = pf_asprintf("/%s", local.v[i].name);

        r = target ? add_cert(c, target, local.v[i].data, local.v[i].len) : -ENOMEM;
        pf_free(target);
    }
    cert_set_release(&local);
    if (r < 0 || c->added + c->removed == 0)
        return r;
    /* Orphan links go before rehash, which would otherwise fail on them. */
    for (size_t i = 0; i < c->n_etc; i++)
        if (c->etc[i].live && c->etc[i].is_link && !etc_exists(c, c->etc[i].name))
            etc_remove(&c->etc[i]);
    return rehash(c);
}

static int write_conf(struct ca *c, const struct pf_strv *old, const struct pf_strv *conf,
                      const char *old_text, size_t old_len, struct worker_layer_writer *w)
{
    const struct worker_layer_entry *v = worker_layer_view_get(c->view, WORKER_CA_CERTS_CONF);
    struct worker_layer_attr old_attr = {.mode = v->mode, .uid = v->uid, .gid = v->gid};
    struct worker_layer_attr attr = {.mode = 0644};
    struct pf_buf b = PF_BUF_INIT;
    int r = 0;

    (void)old;
    for (size_t i = 0; r >= 0 && i < conf->n; i++)
        r = pf_buf_appendf(&b, "%s\n", conf->v[i]);
    /* The postinst replaces the file only when `cmp` finds a difference. */
    if (r >= 0 && b.len == old_len && (old_len == 0 || memcmp(b.p, old_text, old_len) == 0)) {
        pf_buf_release(&b);
        return 0;
    }
    if (r >= 0)
        r = worker_layer_writer_add_file_mem(w, WORKER_CA_CERTS_CONF, &attr, b.p, b.len);
    if (r >= 0)
        r = worker_layer_writer_add_file_mem(w, WORKER_CA_CERTS_CONF ".dpkg-old", &old_attr,
                                             old_text, old_len);
    pf_buf_release(&b);
    return r;
}

static int write_etc(struct ca *c, struct worker_layer_writer *w)
{
    static const struct worker_layer_attr link_attr = {.mode = 0777};
    static const struct worker_layer_attr bundle_attr = {.mode = 0644};
    int r = 0;

    for (size_t i = 0; r >= 0 && i < c->n_etc; i++) {
        const struct etc_entry *e = &c->etc[i];
        char *path;

        if (!e->changed)
            continue;
        path = pf_asprintf(WORKER_CA_CERTS_ETC_DIR "/%s", e->name);
        if (!path)
            return -ENOMEM;
        if (e->live)
            r = worker_layer_writer_add_symlink(w, path, &link_attr, e->link);
        else if (e->in_view)
            r = worker_layer_writer_add_whiteout(w, path);
        pf_free(path);
    }
    if (r >= 0 && c->bundle_made)
        r = worker_layer_writer_add_file_mem(w, WORKER_CA_CERTS_ETC_DIR "/ca-certificates.crt",
                                             &bundle_attr, c->bundle.p, c->bundle.len);
    return r;
}

int worker_ca_certs_apply(const struct worker_layer_view *view, const char *deb_path,
                          struct worker_layer_writer *w, char *errbuf, size_t errlen)
{
    struct pf_strv old = PF_STRV_INIT, conf = PF_STRV_INIT;
    struct ca c = {.view = view};
    const struct worker_layer_entry *v = worker_layer_view_get(view, WORKER_CA_CERTS_CONF);
    const char *text;
    size_t len;
    int r;

    if (!v || v->type != WORKER_LAYER_REG) {
        pf_log(LOG_INFO, "ca-certificates: the image has no /%s, bundle left as it is",
               WORKER_CA_CERTS_CONF);
        return 0;
    }
    r = worker_layer_view_read(view, WORKER_CA_CERTS_CONF, &text, &len);
    if (r < 0)
        return pf_set_error(errbuf, errlen, r, "cannot read /%s", WORKER_CA_CERTS_CONF);
    pf_buf_init(&c.bundle, 0);
    r = read_package(deb_path, &c.pkg, errbuf, errlen);
    if (r >= 0)
        r = split_lines(text, len, &old);
    if (r >= 0)
        r = conf_update(&c, &old, &conf);
    if (r >= 0)
        r = etc_load(&c);
    if (r >= 0)
        r = update(&c, &conf);
    if (r >= 0)
        r = write_conf(&c, &old, &conf, text, len, w);
    if (r >= 0)
        r = write_etc(&c, w);
    if (r == -EFBIG)
        (void)pf_set_error(errbuf, errlen, r, "ca-certificates: more than %u files",
                           WORKER_CA_CERTS_MAX_FILES);
    else if (r == -ENOMEM)
        (void)pf_set_error(errbuf, errlen, r, "out of memory");
    else if (r < 0 && (!errbuf || !errbuf[0]))
        (void)pf_set_error(errbuf, errlen, r, "ca-certificates: cannot write the layer");
    pf_strv_clear(&old);
    pf_strv_clear(&conf);
    cert_set_release(&c.pkg);
    for (size_t i = 0; i < c.n_etc; i++) {
        pf_free(c.etc[i].name);
        pf_free(c.etc[i].link);
    }
    pf_free(c.etc);
    pf_buf_release(&c.bundle);
    return r;
}
