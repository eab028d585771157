/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Alpine engine's glue: reads its inputs out of the merged view, fetches and verifies the
 * repositories' indexes (trust root: the image's own /etc/apk/keys plus the operator's keys
 * dir), plans the upgrades, fetches and checks each package against its index identity, and
 * has apk_apply write the layer. Packages are cached by identity (C:), which names the control
 * member's SHA-1, so a cached file is re-checked like a downloaded one.
 */
#include "pf/setup.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "pf/log.h"
#include "pf/mirror_fetch.h"
#include "pf/strv.h"
#include "apk/apk_apply.h"
#include "apk/apk_db.h"
#include "apk/apk_engine.h"
#include "apk/apk_file.h"
#include "image/layer_view.h"
#include "image/layer_writer.h"
#include "engine/index_freshness.h"
#include "engine/os_release.h"
#include "apk/version_apk.h"

#define APK_DB_DIR "lib/apk/db"
#define MAX_NEW_DEPS 4096

struct apk_engine {
    struct worker_engine engine;
    char *cache_dir;
    char *keys_dir;
    char *ca_file;
    struct pf_strv mirrors;
    struct worker_index_freshness *freshness; /* borrowed, or NULL */
};

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static bool apk_keep(const char *path, void *userdata)
{
    (void)userdata;
    return has_prefix(path, "etc/") || strcmp(path, "usr/lib/os-release") == 0 ||
           has_prefix(path, "lib/apk/") || has_prefix(path, "usr/lib/apk/");
}

const char *worker_apk_arch_from_oci(const char *arch, const char *variant)
{
    static const struct {
        const char *oci, *variant, *apk;
    } map[] = {
        {"amd64", NULL, "x86_64"}, {"arm64", NULL, "aarch64"},   {"arm", "v6", "armhf"},
        {"arm", NULL, "armv7"},    {"386", NULL, "x86"},         {"ppc64le", NULL, "ppc64le"},
        {"s390x", NULL, "s390x"},  {"riscv64", NULL, "riscv64"},
    };

    for (size_t i = 0; arch && i < PF_ARRAY_SIZE(map); i++)
        if (strcmp(map[i].oci, arch) == 0 &&
            (!map[i].variant || (variant && strcmp(map[i].variant, variant) == 0)))
            return map[i].apk;
    return NULL;
}

static int read_os_release(const struct worker_layer_view *view, struct worker_os_release *ret)
{
    static const char *const paths[] = {"etc/os-release", "usr/lib/os-release"};

    for (size_t i = 0; i < PF_ARRAY_SIZE(paths); i++) {
        const char *text;
        size_t len;

        if (worker_layer_view_read(view, paths[i], &text, &len) == 0)
            return worker_os_release_parse(text, len, ret);
    }
    return -ENOTSUP;
}

static int apk_detect(void *ctx, const struct worker_layer_view *view)
{
    struct worker_os_release osr = {0};
    const char *t;
    size_t l;
    int r;

    (void)ctx;
    if (read_os_release(view, &osr) < 0)
        return 0;
    r = osr.family == WORKER_DISTRO_ALPINE &&
        worker_layer_view_read(view, APK_DB_DIR "/installed", &t, &l) == 0;
    worker_os_release_release(&osr);
    return r;
}

/* GET `url` (http, https, file) into `b`, within b's bound, through the common mirror fetcher
 * (size cap, timeouts, redirect cap, user agent, retries). The job's cancellation also ends a
 * wait for a mirror's Retry-After. */
static int fetch(const struct apk_engine *e, const struct worker_engine_request *req,
                 const char *url, struct pf_buf *b, char *errbuf, size_t errlen)
{
    struct pf_mirror_fetch_options o = {
        .ca_file = e->ca_file,
        .cancelled = req->cancelled,
        .cancelled_userdata = req->cancelled_userdata,
    };

    pf_log(LOG_DEBUG, "apk: fetching '%s'", url);
    return pf_mirror_fetch_buf(&o, url, WORKER_APK_FILE_MAX, b, errbuf, errlen);
}

/* Trusted keys: the image's etc/apk/keys and lib/apk/keys, then the operator's dir. */
static int load_keys(const struct apk_engine *e, const struct worker_layer_view *view,
                     struct worker_apk_keys *k)
{
    static const char *const dirs[] = {"etc/apk/keys", "lib/apk/keys"};
    int r = 0;

    for (size_t d = 0; d < PF_ARRAY_SIZE(dirs) && r >= 0; d++) {
        struct pf_strv names = PF_STRV_INIT;

        (void)worker_layer_view_list(view, dirs[d], &names);
        for (size_t i = 0; i < names.n && r >= 0; i++) {
            char *p = pf_asprintf("%s/%s", dirs[d], names.v[i]);
            const char *t;
            size_t l;

            if (!p)
                r = -ENOMEM;
            else if (worker_layer_view_read(view, p, &t, &l) == 0 &&
                     !pf_strv_contains(&k->names, names.v[i])) {
                r = pf_strv_push(&k->names, names.v[i]);
                if (r >= 0)
                    r = pf_strv_push(&k->pems, t);
            }
            pf_free(p);
        }
        pf_strv_clear(&names);
    }
    if (r >= 0 && e->keys_dir) {
        DIR *dir = opendir(e->keys_dir);
        struct dirent *de;

        while (dir && r >= 0 && (de = readdir(dir)) != NULL) {
            struct pf_buf b = PF_BUF_INIT;
            char *p;

            if (de->d_name[0] == '.' || pf_strv_contains(&k->names, de->d_name))
                continue;
            p = pf_asprintf("%s/%s", e->keys_dir, de->d_name);
            if (p && pf_buf_read_file(&b, p) == 0 && b.p) {
                r = pf_strv_push(&k->names, de->d_name);
                if (r >= 0)
                    r = pf_strv_push(&k->pems, b.p);
            }
            pf_buf_release(&b);
            pf_free(p);
        }
        if (dir)
            (void)closedir(dir);
    }
    return r;
}

struct repo {
    char *tag;  /* "" untagged */
    char *url;  /* rewritten base */
    char *orig; /* the base as the image names it, before --pkg-mirror: the replay memory key */
};

struct ctx {
    struct apk_engine *e;
    const struct worker_engine_request *req;
    const char *arch;
    enum worker_apk_gen gen;
    struct worker_apk_keys keys;
    struct repo *repos;
    size_t n_repos;
    struct worker_apk_db installed, index;
    struct pf_strv world;
    char *errbuf;
    size_t errlen;
};

static char *strip_slashes(char *s)
{
    size_t n = s ? strlen(s) : 0;

    while (n > 0 && s[n - 1] == '/')
        s[--n] = '\0';
    return s;
}

static int read_repos(struct ctx *c)
{
    const char *t;
    size_t len;
    int r = worker_layer_view_read(c->req->view, "etc/apk/repositories", &t, &len);

    if (r < 0)
        return pf_set_error(c->errbuf, c->errlen, -ENOENT, "no /etc/apk/repositories");
    for (size_t pos = 0; pos < len;) {
        size_t l = strcspn(t + pos, "\n");
        char *line = pf_strndup(t + pos, l), *s, *tag = NULL, *url = NULL, *orig = NULL;
        struct repo *v;

        pos += l + 1;
        if (!line)
            return -ENOMEM;
        s = line + strspn(line, " \t");
        s[strcspn(s, "\r#")] = '\0';
        if (*s == '@') {
            size_t n = strcspn(s, " \t");

            tag = pf_strndup(s + 1, n - 1);
            s += n + strspn(s + n, " \t");
        }
        s[strcspn(s, " \t")] = '\0';
        if (*s && strstr(s, "://") && pf_mirror_rewrite(&c->e->mirrors, s, &url) < 0) {
            pf_free(line);
            pf_free(tag);
            return -ENOMEM;
        }
        /* A URL the image names is a place on a mirror; one that is not http(s) after the
         * operator's rewrites (file://...) would name a path on the worker's own host, which
         * the image must not steer: skipped like a local path, unless --pkg-mirror mapped it. */
        if (url && strcmp(url, s) == 0 && !has_prefix(url, "http://") &&
            !has_prefix(url, "https://")) {
            pf_log(LOG_DEBUG, "apk: repository '%s' is not http(s), skipped", s);
            url = pf_free(url);
        }
        if (url)
            orig = strip_slashes(pf_strdup(s));
        pf_free(line);
        if (!url) { /* blank, comment or a local path: skipped like the Debian engine does */
            pf_free(tag);
            continue;
        }
        v = pf_realloc(c->repos, (c->n_repos + 1) * sizeof(*v));
        if (!v || !orig || (!tag && !(tag = pf_strdup("")))) {
            pf_free(tag);
            pf_free(url);
            pf_free(orig);
            if (v)
                c->repos = v;
            return -ENOMEM;
        }
        c->repos = v;
        c->repos[c->n_repos++] = (struct repo){.tag = tag, .url = url, .orig = orig};
    }
    return 0;
}

/*
 * Refuses an APKINDEX older than the newest one accepted for its repository. apk-tools itself
 * has no rollback protection: it takes whatever validly signed index a mirror serves. The only
 * signed date an APKINDEX.tar.gz carries is the mtime of its members (the tar headers are in
 * the signed gzip member; `apk index` stamps them with the build time); per-package t: fields
 * are build times of packages, whose maximum can go down when a package is removed. The key is
 * the repository as /etc/apk/repositories names it (before --pkg-mirror) plus the arch.
 */
static int check_fresh(const struct ctx *c, const struct repo *repo, const char *url, time_t mtime)
{
    char *key, ferr[256] = "", a[40], b[40];
    time_t newest = 0;
    int r;

    if (!c->e->freshness)
        return 0;
    key = pf_asprintf("apk %s/%s", repo->orig, c->arch);
    if (!key)
        return -ENOMEM;
    r = worker_index_freshness_check(c->e->freshness, key, mtime, &newest, ferr, sizeof(ferr));
    if (r == -ESTALE)
        (void)pf_set_error(c->errbuf, c->errlen, r,
                           "index %s refused: %s for repository '%s/%s': an older index "
                           "replayed? (--allow-index-rollback accepts it)",
                           url, ferr, repo->orig, c->arch);
    else if (r == 1)
        pf_log(LOG_WARNING,
               "index %s dated %s is older than %s, accepted for repository '%s/%s' "
               "(--allow-index-rollback)",
               url, worker_index_freshness_format(mtime, a, sizeof(a)),
               worker_index_freshness_format(newest, b, sizeof(b)), repo->orig, c->arch);
    else if (r < 0 && r != -ENOMEM)
        (void)pf_set_error(c->errbuf, c->errlen, r, "index %s refused: %s", url, ferr);
    pf_free(key);
    return r < 0 ? r : 0;
}

static int load_indexes(struct ctx *c)
{
    for (size_t i = 0; i < c->n_repos; i++) {
        struct pf_buf b;
        char *url = pf_asprintf("%s/%s/APKINDEX.tar.gz", c->repos[i].url, c->arch);
        char *text = NULL, msg[256];
        size_t len = 0, before = c->index.n;
        time_t mtime = 0;
        int r;

        if (!url)
            return -ENOMEM;
        pf_buf_init(&b, WORKER_APK_FILE_MAX);
        r = fetch(c->e, c->req, url, &b, c->errbuf, c->errlen);
        if (r >= 0) {
            r = worker_apk_index_open_dated(b.p ? b.p : "", b.len, &c->keys, &text, &len, &mtime,
                                            msg, sizeof(msg));
            if (r < 0)
                (void)pf_set_error(c->errbuf, c->errlen, r == -ENOKEY ? -EBADMSG : r,
                                   "index %s refused: %s", url, msg);
        }
        if (r >= 0)
            r = check_fresh(c, &c->repos[i], url, mtime);
        if (r >= 0) {
            r = worker_apk_db_parse(&c->index, text, len, false, msg, sizeof(msg));
            if (r < 0)
                (void)pf_set_error(c->errbuf, c->errlen, r, "index %s: %s", url, msg);
        }
        for (size_t j = before; r >= 0 && j < c->index.n; j++)
            c->index.v[j].repo = i;
        pf_buf_release(&b);
        pf_free(text);
        pf_free(url);
        if (r < 0)
            return r;
    }
    return 0;
}

static int vcmp(const struct ctx *c, const char *a, const char *b)
{
    int cmp = 0;

    (void)worker_apk_version_compare(a, b, c->gen, &cmp);
    return cmp;
}

/* The world constraint on `name`, if any. */
static bool world_atom(const struct ctx *c, const char *name, struct worker_apk_atom *ret)
{
    for (size_t i = 0; i < c->world.n; i++)
        if (worker_apk_atom_parse(c->world.v[i], ret) == 0 && strcmp(ret->name, name) == 0)
            return true;
    return false;
}

static bool satisfies(const struct ctx *c, const char *ver, const struct worker_apk_atom *a)
{
    int cmp;

    if (!a->op[0])
        return true;
    if (strchr(a->op, '~')) {
        cmp = 0;
        (void)worker_apk_version_compare_fuzzy(ver, a->version, c->gen, &cmp);
        if (cmp == 0)
            return true;
    } else {
        cmp = vcmp(c, ver, a->version);
    }
    return (cmp < 0 && strchr(a->op, '<')) || (cmp > 0 && strchr(a->op, '>')) ||
           (cmp == 0 && strchr(a->op, '='));
}

/* The best index package named `name`, or providing it when `by_provides`, that the world's
 * pin and the repository tags allow. */
static const struct worker_apk_pkg *best(const struct ctx *c, const char *name, bool by_provides)
{
    struct worker_apk_atom pin;
    bool pinned = world_atom(c, name, &pin);
    const struct worker_apk_pkg *b = NULL;

    for (size_t i = 0; i < c->index.n; i++) {
        const struct worker_apk_pkg *p = &c->index.v[i];
        const char *tag = c->repos[p->repo].tag;
        bool match = strcmp(p->name, name) == 0;

        if (p->uninstallable ||
            (p->arch && strcmp(p->arch, c->arch) != 0 && strcmp(p->arch, "noarch") != 0))
            continue;
        for (size_t j = 0; !match && by_provides && j < p->provides.n; j++) {
            size_t n = strcspn(p->provides.v[j], "=");

            match = strlen(name) == n && strncmp(p->provides.v[j], name, n) == 0;
        }
        if (!match || (tag[0] && (!pinned || strcmp(pin.tag, tag) != 0)))
            continue;
        if (pinned && !satisfies(c, p->version, &pin))
            continue;
        if (!b || vcmp(c, p->version, b->version) > 0)
            b = p;
    }
    return b;
}

static bool provided(const struct worker_apk_db *db, const struct worker_apk_pkg *const *plan,
                     size_t n, const char *name)
{
    for (size_t i = 0; i < db->n + n; i++) {
        const struct worker_apk_pkg *p = i < db->n ? &db->v[i] : plan[i - db->n];

        if (strcmp(p->name, name) == 0)
            return true;
        for (size_t j = 0; j < p->provides.n; j++) {
            size_t k = strcspn(p->provides.v[j], "=");

            if (strlen(name) == k && strncmp(p->provides.v[j], name, k) == 0)
                return true;
        }
    }
    return false;
}

/* Upgrades, then new dependencies of what is installed after them. */
static int plan(struct ctx *c, const struct worker_apk_pkg ***ret, size_t *ret_n)
{
    const struct worker_apk_pkg **v = pf_calloc(c->installed.n + MAX_NEW_DEPS, sizeof(*v));
    size_t n = 0;

    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < c->installed.n; i++) {
        const struct worker_apk_pkg *cand = best(c, c->installed.v[i].name, false);

        if (cand && vcmp(c, cand->version, c->installed.v[i].version) > 0)
            v[n++] = cand;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < v[i]->depends.n; j++) {
            struct worker_apk_atom a;
            const struct worker_apk_pkg *p;

            if (worker_apk_atom_parse(v[i]->depends.v[j], &a) < 0 || a.conflict)
                continue;
            if (provided(&c->installed, v, n, a.name))
                continue;
            p = best(c, a.name, false);
            if (!p)
                p = best(c, a.name, true);
            if (!p) {
                pf_free(v);
                return pf_set_error(c->errbuf, c->errlen, -ENOENT,
                                    "%s-%s needs %s, which no repository provides", v[i]->name,
                                    v[i]->version, a.name);
            }
            if (n >= c->installed.n + MAX_NEW_DEPS) {
                pf_free(v);
                return pf_set_error(c->errbuf, c->errlen, -E2BIG, "too many new dependencies");
            }
            v[n++] = p;
        }
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

/* The cache file of a package: named by its content hash, the SHA-1 of its control member
 * that the index identity "Q1<base64>" carries, in hex; never by a field of the index, so no
 * name or version can steer where it is written. NULL (no caching) for another identity form,
 * or on -ENOMEM. */
static char *cache_path(const struct apk_engine *e, const char *identity)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char hex[41];
    uint32_t acc = 0;
    size_t bits = 0, n = 0;

    if (!identity || strncmp(identity, "Q1", 2) != 0 || strlen(identity) != 30 ||
        identity[29] != '=')
        return NULL;
    for (const char *s = identity + 2; *s && *s != '=' && n < 20; s++) {
        const char *k = strchr(b64, *s);

        if (!k)
            return NULL;
        acc = (acc << 6) | (uint32_t)(k - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            (void)snprintf(hex + 2 * n++, 3, "%02x", (acc >> bits) & 0xffu);
        }
    }
    if (n != 20)
        return NULL;
    return pf_asprintf("%s/apks/%s.apk", e->cache_dir, hex);
}

/* Fetches a package (or takes it from the cache) into `b` and opens it. */
static int get_package(struct ctx *c, const struct worker_apk_pkg *p, struct pf_buf *b,
                       struct worker_apk_pkgfile *f)
{
    char *url = pf_asprintf("%s/%s/%s-%s.apk", c->repos[p->repo].url, c->arch, p->name, p->version);
    char *cache = cache_path(c->e, p->identity), msg[256];
    int r;

    if (!url) {
        pf_free(cache);
        return -ENOMEM;
    }
    r = cache && pf_buf_read_file(b, cache) == 0 ? 0 : -ENOENT;
    if (r < 0) {
        pf_buf_reset(b);
        r = fetch(c->e, c->req, url, b, c->errbuf, c->errlen);
    }
    if (r >= 0) {
        r = worker_apk_file_open(b->p ? b->p : "", b->len, p->identity, &c->keys, f, msg,
                                 sizeof(msg));
        if (r < 0)
            (void)pf_set_error(c->errbuf, c->errlen, r, "package %s refused: %s", url, msg);
    }
    if (r >= 0 && cache) {
        FILE *out = fopen(cache, "wbx");

        if (out) {
            if (fwrite(b->p, 1, b->len, out) != b->len)
                (void)unlink(cache);
            (void)fclose(out);
        }
    }
    pf_free(cache);
    pf_free(url);
    return r;
}

static bool cancelled(const struct worker_engine_request *req)
{
    return req->cancelled && req->cancelled(req->cancelled_userdata);
}

static int build_layer(struct ctx *c, const struct worker_apk_pkg **v, size_t n,
                       struct worker_engine_result *res)
{
    struct worker_apk_apply_item *items = pf_calloc(n, sizeof(*items));
    struct worker_apk_pkgfile *files = pf_calloc(n, sizeof(*files));
    struct pf_buf *bufs = pf_calloc(n, sizeof(*bufs));
    struct worker_layer_writer *w = NULL;
    char *db_dir = NULL;
    int r = -ENOMEM;

    if (!items || !files || !bufs)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (cancelled(c->req)) {
            r = pf_set_error(c->errbuf, c->errlen, -ECANCELED, "cancelled while fetching packages");
            goto out;
        }
        pf_buf_init(&bufs[i], WORKER_APK_FILE_MAX);
        r = get_package(c, v[i], &bufs[i], &files[i]);
        if (r < 0)
            goto out;
        files[i].max_size = c->req->max_package_size;
        items[i] = (struct worker_apk_apply_item){v[i], &files[i]};
    }
    r = worker_layer_view_resolve(c->req->view, APK_DB_DIR, false, &db_dir, c->errbuf, c->errlen);
    if (r >= 0)
        r = worker_layer_writer_new(0, &w);
    if (r >= 0) {
        worker_layer_writer_set_max_size(w, c->req->max_patch_layer_size);
        r = worker_apk_apply(c->req->view, &c->installed, db_dir, items, n, w, c->errbuf,
                             c->errlen);
    }
    if (r >= 0)
        r = worker_engine_write_layer(w, c->req->workdir, res, c->errbuf, c->errlen);
out:
    for (size_t i = 0; files && bufs && i < n; i++) {
        worker_apk_file_release(&files[i]);
        pf_buf_release(&bufs[i]);
    }
    pf_free(items);
    pf_free(files);
    pf_free(bufs);
    pf_free(db_dir);
    worker_layer_writer_free(w);
    return r;
}

static int fill_upgrades(struct ctx *c, const struct worker_apk_pkg **v, size_t n,
                         struct worker_engine_result *res)
{
    if (n == 0)
        return 0;
    res->upgrades = pf_calloc(n, sizeof(*res->upgrades));
    if (!res->upgrades)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct worker_apk_pkg *old = worker_apk_db_find(&c->installed, v[i]->name);
        struct worker_engine_upgrade *u = &res->upgrades[res->n_upgrades++];

        u->name = pf_strdup(v[i]->name);
        u->arch = pf_strdup(v[i]->arch ? v[i]->arch : c->arch);
        u->to = pf_strdup(v[i]->version);
        u->from = old ? pf_strdup(old->version) : NULL;
        if (!u->name || !u->arch || !u->to || (old && !u->from))
            return -ENOMEM;
    }
    for (size_t i = 1; i < n; i++) /* sorted by name (insertion sort: plans are small) */
        for (size_t j = i; j > 0 && strcmp(res->upgrades[j - 1].name, res->upgrades[j].name) > 0;
             j--) {
            struct worker_engine_upgrade t = res->upgrades[j];

            res->upgrades[j] = res->upgrades[j - 1];
            res->upgrades[j - 1] = t;
        }
    return 0;
}

static int read_inputs(struct ctx *c)
{
    const char *t;
    size_t len;
    char msg[256];
    int r;

    r = worker_layer_view_read(c->req->view, APK_DB_DIR "/installed", &t, &len);
    if (r < 0)
        return pf_set_error(c->errbuf, c->errlen, -ENOTSUP, "no apk database (/%s/installed)",
                            APK_DB_DIR);
    r = worker_apk_db_parse(&c->installed, t, len, true, msg, sizeof(msg));
    if (r < 0)
        return pf_set_error(c->errbuf, c->errlen, r == -ENOMEM ? r : -EBADMSG, "/%s/installed: %s",
                            APK_DB_DIR, msg);
    if (worker_layer_view_read(c->req->view, "etc/apk/world", &t, &len) == 0) {
        for (size_t pos = 0; pos < len;) {
            size_t skip = strspn(t + pos, " \t\r\n"), n;

            pos += skip;
            n = strcspn(t + pos, " \t\r\n");
            if (n > 0 && pf_strv_push_take(&c->world, pf_strndup(t + pos, n)) < 0)
                return -ENOMEM;
            pos += n;
        }
    }
    /* apk-tools 3 wrote the database: follow its version rules. */
    for (size_t i = 0; i < c->installed.n; i++)
        if (strcmp(c->installed.v[i].name, "apk-tools") == 0 &&
            vcmp(c, c->installed.v[i].version, "3") >= 0)
            c->gen = WORKER_APK_GEN_V3;
    r = load_keys(c->e, c->req->view, &c->keys);
    if (r >= 0)
        r = read_repos(c);
    return r;
}

static int apk_patch(void *ctx, const struct worker_engine_request *req,
                     struct worker_engine_result *ret, char *errbuf, size_t errlen)
{
    struct ctx c = {.e = ctx,
                    .req = req,
                    .gen = WORKER_APK_GEN_V2,
                    .errbuf = errbuf,
                    .errlen = errlen,
                    .keys = {PF_STRV_INIT, PF_STRV_INIT},
                    .world = PF_STRV_INIT};
    struct worker_engine_result res = {0};
    struct worker_os_release osr = {0};
    const struct worker_apk_pkg **v = NULL;
    size_t n = 0;
    int r;

    c.arch = worker_apk_arch_from_oci(req->arch, req->variant);
    if (!c.arch)
        return pf_set_error(errbuf, errlen, -ENOTSUP, "architecture %s is not an Alpine one",
                            req->arch ? req->arch : "?");
    r = read_os_release(req->view, &osr);
    if (r < 0 || osr.family != WORKER_DISTRO_ALPINE) {
        worker_os_release_release(&osr);
        return pf_set_error(errbuf, errlen, -ENOTSUP, "not an Alpine image");
    }
    res.os = pf_asprintf("%s %s", osr.id ? osr.id : "alpine",
                         osr.version_id ? osr.version_id : "unknown");
    r = res.os ? read_inputs(&c) : -ENOMEM;
    if (r >= 0 && cancelled(req))
        r = pf_set_error(errbuf, errlen, -ECANCELED, "cancelled before fetching indexes");
    if (r >= 0)
        r = load_indexes(&c);
    if (r >= 0)
        r = plan(&c, &v, &n);
    if (r >= 0)
        r = fill_upgrades(&c, v, n, &res);
    pf_log(LOG_DEBUG, "apk: %zu installed, %zu indexed, %zu to install", c.installed.n, c.index.n,
           n);
    if (r >= 0 && !req->dry_run && n > 0)
        r = build_layer(&c, v, n, &res);
    if (r >= 0) {
        *ret = res;
        res = (struct worker_engine_result){0};
    } else if (r == -ENOMEM) {
        (void)pf_set_error(errbuf, errlen, r, "out of memory");
    }
    worker_engine_result_release(&res);
    worker_os_release_release(&osr);
    pf_free(v);
    for (size_t i = 0; i < c.n_repos; i++) {
        pf_free(c.repos[i].tag);
        pf_free(c.repos[i].url);
        pf_free(c.repos[i].orig);
    }
    pf_free(c.repos);
    worker_apk_db_release(&c.installed);
    worker_apk_db_release(&c.index);
    worker_apk_keys_clear(&c.keys);
    pf_strv_clear(&c.world);
    return r;
}

int worker_apk_engine_new(const struct worker_apk_engine_options *o, struct worker_engine **ret,
                          char *errbuf, size_t errlen)
{
    struct apk_engine *e;
    char *apks;
    int r = 0;

    if (!o || !o->cache_dir)
        return pf_set_error(errbuf, errlen, -EINVAL, "the Alpine engine needs a cache directory");
    e = pf_calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->cache_dir = pf_strdup(o->cache_dir);
    e->keys_dir = o->keys_dir ? pf_strdup(o->keys_dir) : NULL;
    e->ca_file = o->ca_file ? pf_strdup(o->ca_file) : NULL;
    e->freshness = o->freshness;
    if (!e->cache_dir || (o->keys_dir && !e->keys_dir) || (o->ca_file && !e->ca_file) ||
        (o->mirrors && pf_strv_extend(&e->mirrors, o->mirrors) < 0))
        r = -ENOMEM;
    apks = r >= 0 ? pf_asprintf("%s/apks", o->cache_dir) : NULL;
    if (r >= 0 && !apks)
        r = -ENOMEM;
    if (r >= 0 && (mkdir(o->cache_dir, 0700) < 0 && errno != EEXIST))
        r = pf_set_error(errbuf, errlen, -errno, "cannot create %s", o->cache_dir);
    if (r >= 0 && (mkdir(apks, 0700) < 0 && errno != EEXIST))
        r = pf_set_error(errbuf, errlen, -errno, "cannot create %s", apks);
    pf_free(apks);
    if (r < 0) {
        e->engine.ctx = e;
        worker_apk_engine_free(&e->engine);
        return r;
    }
    e->engine = (struct worker_engine){
        .name = "apk",
        .ctx = e,
        .keep = apk_keep,
        .detect = apk_detect,
        .patch = apk_patch,
    };
    *ret = &e->engine;
    return 0;
}

struct worker_engine *worker_apk_engine_free(struct worker_engine *engine)
{
    struct apk_engine *e;

    if (!engine)
        return NULL;
    e = engine->ctx ? engine->ctx : (void *)engine;
    pf_free(e->cache_dir);
    pf_free(e->keys_dir);
    pf_free(e->ca_file);
    pf_strv_clear(&e->mirrors);
    pf_free(e);
    return NULL;
}
