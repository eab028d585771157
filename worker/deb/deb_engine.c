/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Debian engine's glue: each step is a module of its own (os_release, dpkg_db,
 * apt_sources, apt_fetch, apt_plan, deb_apply, layer_writer); this file only reads their
 * inputs out of the merged view, runs them in order, and checks for cancellation between the
 * slow ones. Debian and Ubuntu images get separate fetchers because their sources without
 * Signed-By are trusted by different keyrings, and a sweep mixes both.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "pf/log.h"
#include "pf/strv.h"
#include "deb/apt_fetch.h"
#include "deb/apt_index.h"
#include "deb/apt_plan.h"
#include "deb/apt_sources.h"
#include "deb/ca_certs.h"
#include "deb/deb_apply.h"
#include "deb/deb_engine.h"
#include "deb/dpkg_db.h"
#include "image/layer_view.h"
#include "image/layer_writer.h"
#include "engine/os_release.h"

#define DEBIAN_KEYRING "/usr/share/keyrings/debian-archive-keyring.gpg"
#define UBUNTU_KEYRING "/usr/share/keyrings/ubuntu-archive-keyring.gpg"
#define DPKG_STATUS "var/lib/dpkg/status"
#define DPKG_STATUSD "var/lib/dpkg/status.d"
#define DPKG_UPDATES "var/lib/dpkg/updates"
#define APT_SOURCES_LIST "etc/apt/sources.list"
#define APT_SOURCES_DIR "etc/apt/sources.list.d"

struct deb_engine {
    struct worker_engine engine;
    struct worker_apt_fetcher *debian; /* sources without Signed-By trust the Debian keyring */
    struct worker_apt_fetcher *ubuntu; /* ... or the Ubuntu one */
};

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* What the engine reads from the view: os-release, apt configuration and keyrings, the dpkg
 * database with its per-package file lists, stat overrides and diversions, local CA
 * certificates (deb/ca_certs.h), and every file under etc/ (a conffile's current content decides whether the user modified it; passwd and
 * group name the owners of stat overrides). */
static bool deb_keep(const char *path, void *userdata)
{
    (void)userdata;
    if (has_prefix(path, "etc/") || strcmp(path, "usr/lib/os-release") == 0 ||
        has_prefix(path, "usr/share/keyrings/") || has_prefix(path, WORKER_CA_CERTS_LOCAL_DIR "/"))
        return true;
    if (strcmp(path, DPKG_STATUS) == 0 || has_prefix(path, DPKG_STATUSD "/") ||
        strcmp(path, WORKER_DPKG_STATOVERRIDE_FILE) == 0 ||
        strcmp(path, WORKER_DPKG_DIVERSIONS_FILE) == 0)
        return true;
    if (has_prefix(path, "var/lib/dpkg/info/"))
        return has_suffix(path, ".list") || has_suffix(path, ".md5sums") ||
               has_suffix(path, ".conffiles");
    return false;
}

const char *worker_deb_arch_from_oci(const char *arch, const char *variant)
{
    static const struct {
        const char *oci, *variant, *deb;
    } map[] = {
        {"amd64", NULL, "amd64"},     {"arm64", NULL, "arm64"},       {"arm", "v7", "armhf"},
        {"arm", "v6", "armel"},       {"arm", "v5", "armel"},         {"arm", NULL, "armhf"},
        {"386", NULL, "i386"},        {"ppc64le", NULL, "ppc64el"},   {"s390x", NULL, "s390x"},
        {"riscv64", NULL, "riscv64"}, {"mips64le", NULL, "mips64el"},
    };

    if (!arch)
        return NULL;
    for (size_t i = 0; i < PF_ARRAY_SIZE(map); i++) {
        if (strcmp(map[i].oci, arch) != 0)
            continue;
        if (!map[i].variant || (variant && strcmp(map[i].variant, variant) == 0))
            return map[i].deb;
    }
    return NULL;
}

static int read_os_release(const struct worker_layer_view *view, struct worker_os_release *ret,
                           char *errbuf, size_t errlen)
{
    static const char *const paths[] = {"etc/os-release", "usr/lib/os-release"};

    for (size_t i = 0; i < PF_ARRAY_SIZE(paths); i++) {
        const char *text;
        size_t len;
        int r = worker_layer_view_read(view, paths[i], &text, &len);

        if (r == -ENOENT)
            continue;
        if (r < 0)
            return pf_set_error(errbuf, errlen, r, "cannot read /%s: %s", paths[i], strerror(-r));
        r = worker_os_release_parse(text, len, ret);
        if (r < 0)
            return pf_set_error(errbuf, errlen, r, "malformed /%s", paths[i]);
        return 0;
    }
    return pf_set_error(errbuf, errlen, -ENOTSUP, "no /etc/os-release or /usr/lib/os-release");
}

static bool is_debian_like(const struct worker_os_release *osr)
{
    return osr->family == WORKER_DISTRO_DEBIAN || osr->family == WORKER_DISTRO_UBUNTU;
}

/* dpkg journals each status change in updates/NNNN and folds the journal into `status` when
 * it next starts; an image whose last dpkg run was interrupted still holds entries there. The
 * status alone is then not the truth, and a status this engine wrote would be overruled by the
 * journal at the next dpkg run, so such an image is refused, saying what to do. */
static int check_journal(const struct worker_layer_view *view, char *errbuf, size_t errlen)
{
    struct pf_strv names = PF_STRV_INIT;
    int r = worker_layer_view_list(view, DPKG_UPDATES, &names);

    if (r == -ENOENT || r == -ENOTDIR)
        return 0;
    if (r < 0 && r != -ENOMEM)
        r = pf_set_error(errbuf, errlen, r, "cannot read /%s: %s", DPKG_UPDATES, strerror(-r));
    for (size_t i = 0; r >= 0 && i < names.n; i++) {
        const char *n = names.v[i];

        if (n[0] && strspn(n, "0123456789") == strlen(n))
            r = pf_set_error(errbuf, errlen, -EBUSY,
                             "the dpkg database has unapplied journal entries (/%s/%s): the "
                             "image's last dpkg run was interrupted; finish it (dpkg "
                             "--configure -a) in the image, then patch it",
                             DPKG_UPDATES, n);
    }
    pf_strv_clear(&names);
    return r < 0 ? r : 0;
}

/* The dpkg database: the classic status file (with no journal pending), else the distroless
 * status.d directory. */
static int read_dpkg_db(const struct worker_layer_view *view, struct worker_dpkg_db **ret,
                        char *errbuf, size_t errlen)
{
    struct pf_strv names = PF_STRV_INIT;
    struct worker_dpkg_db *db = NULL;
    const char *text;
    size_t len;
    int r;

    r = worker_layer_view_read(view, DPKG_STATUS, &text, &len);
    if (r == 0) {
        r = check_journal(view, errbuf, errlen);
        if (r < 0)
            return r;
        r = worker_dpkg_db_parse_status(text, len, ret, errbuf, errlen);
        return r < 0 ? pf_prefix_error(errbuf, errlen, r, "/%s: ", DPKG_STATUS) : r;
    }
    if (r != -ENOENT)
        return pf_set_error(errbuf, errlen, r, "cannot read /%s: %s", DPKG_STATUS, strerror(-r));
    r = worker_layer_view_list(view, DPKG_STATUSD, &names);
    if (r == -ENOENT || r == -ENOTDIR || r == 0) {
        pf_strv_clear(&names);
        return pf_set_error(errbuf, errlen, -ENOTSUP, "no dpkg database (/%s or /%s/)", DPKG_STATUS,
                            DPKG_STATUSD);
    }
    if (r < 0)
        goto fail_errno;
    db = worker_dpkg_db_new_statusd();
    if (!db) {
        r = -ENOMEM;
        goto fail_errno;
    }
    for (size_t i = 0; i < names.n; i++) {
        char *path = pf_asprintf("%s/%s", DPKG_STATUSD, names.v[i]);
        const struct worker_layer_entry *e;
        char inner[256] = "";

        if (!path) {
            r = -ENOMEM;
            goto fail_errno;
        }
        e = worker_layer_view_get(view, path);
        r = e && e->type == WORKER_LAYER_REG ? worker_layer_view_read(view, path, &text, &len)
                                             : -ENOENT;
        pf_free(path);
        if (r == -ENOENT)
            continue; /* directories or links in status.d are not package files */
        if (r < 0)
            goto fail_errno;
        r = worker_dpkg_db_add_statusd_file(db, names.v[i], text, len, inner, sizeof(inner));
        if (r < 0) {
            (void)pf_set_error(errbuf, errlen, r, "/%s/%s: %s", DPKG_STATUSD, names.v[i], inner);
            goto fail;
        }
    }
    pf_strv_clear(&names);
    *ret = db;
    return 0;
fail_errno:
    (void)pf_set_error(errbuf, errlen, r, "cannot read /%s: %s", DPKG_STATUSD, strerror(-r));
fail:
    pf_strv_clear(&names);
    worker_dpkg_db_free(db);
    return r;
}

/* One sources file of the image, in the syntax its name says. */
static int add_sources_file(const struct worker_layer_view *view, const char *path,
                            struct worker_apt_sources *sources, char *errbuf, size_t errlen)
{
    const char *text;
    size_t len;
    char *abs;
    int r;

    r = worker_layer_view_read(view, path, &text, &len);
    if (r == -ENOENT || r == -EISDIR)
        return 0;
    if (r < 0)
        return pf_set_error(errbuf, errlen, r, "cannot read /%s: %s", path, strerror(-r));
    abs = pf_asprintf("/%s", path);
    if (!abs)
        return -ENOMEM;
    if (has_suffix(path, ".sources"))
        r = worker_apt_sources_parse_deb822(sources, abs, text, len, errbuf, errlen);
    else
        r = worker_apt_sources_parse_list(sources, abs, text, len, errbuf, errlen);
    pf_free(abs);
    return r;
}

/* A file: source names a directory inside the image, which apt in a container would read; here
 * it would name the worker's own filesystem, so such sources are dropped. Operators point
 * repositories at local copies with --pkg-mirror instead. */
static void drop_local_sources(struct worker_apt_sources *s)
{
    size_t kept = 0;

    for (size_t i = 0; i < s->n; i++) {
        struct worker_apt_source *src = &s->v[i];

        if (strncmp(src->uri, "file:", 5) == 0 || strncmp(src->uri, "cdrom:", 6) == 0) {
            pf_log(LOG_WARNING, "%s:%zu: ignoring local repository %s", src->file ? src->file : "?",
                   src->line, src->uri);
            worker_apt_source_release(src);
            continue;
        }
        s->v[kept++] = *src;
    }
    s->n = kept;
}

/* The image's own sources (sources.list, then sources.list.d/ in name order, as apt reads
 * them); none at all (distroless) means the release's default suites. */
static int read_sources(const struct worker_layer_view *view, const struct worker_os_release *osr,
                        const char *arch, struct worker_apt_sources *ret, char *errbuf,
                        size_t errlen)
{
    struct pf_strv names = PF_STRV_INIT;
    int r;

    r = add_sources_file(view, APT_SOURCES_LIST, ret, errbuf, errlen);
    if (r < 0)
        return r;
    r = worker_layer_view_list(view, APT_SOURCES_DIR, &names);
    if (r < 0 && r != -ENOENT && r != -ENOTDIR) {
        pf_strv_clear(&names);
        return pf_set_error(errbuf, errlen, r, "cannot list /%s: %s", APT_SOURCES_DIR,
                            strerror(-r));
    }
    r = 0; /* no sources.list.d/ is fine */
    for (size_t i = 0; i < names.n && r >= 0; i++) {
        char *path;

        if (!has_suffix(names.v[i], ".list") && !has_suffix(names.v[i], ".sources"))
            continue; /* apt ignores other names too */
        path = pf_asprintf("%s/%s", APT_SOURCES_DIR, names.v[i]);
        r = path ? add_sources_file(view, path, ret, errbuf, errlen) : -ENOMEM;
        pf_free(path);
    }
    pf_strv_clear(&names);
    if (r < 0)
        return r;
    drop_local_sources(ret);
    if (ret->n > 0)
        return 0;
    r = worker_apt_default_sources(osr, arch, ret);
    if (r == -ENOTSUP)
        return pf_set_error(errbuf, errlen, r,
                            "the image has no apt sources and %s %s has no known default suites",
                            osr->id ? osr->id : "?", osr->version_id ? osr->version_id : "");
    if (r < 0)
        return pf_set_error(errbuf, errlen, r, "cannot set default apt sources: %s", strerror(-r));
    return 0;
}

static bool cancelled(const struct worker_engine_request *req)
{
    return req->cancelled && req->cancelled(req->cancelled_userdata);
}

static int deb_detect(void *ctx, const struct worker_layer_view *view)
{
    struct worker_os_release osr = {0};
    int r;

    (void)ctx;
    if (read_os_release(view, &osr, NULL, 0) < 0)
        return 0;
    r = is_debian_like(&osr) &&
        (worker_layer_view_get(view, DPKG_STATUS) || worker_layer_view_get(view, DPKG_STATUSD));
    worker_os_release_release(&osr);
    return r;
}

static int fill_upgrades(const struct worker_apt_plan *plan, struct worker_engine_result *res)
{
    if (plan->n == 0)
        return 0;
    res->upgrades = pf_calloc(plan->n, sizeof(*res->upgrades));
    if (!res->upgrades)
        return -ENOMEM;
    for (size_t i = 0; i < plan->n; i++) {
        const struct worker_apt_plan_item *it = &plan->items[i];
        struct worker_engine_upgrade *u = &res->upgrades[res->n_upgrades++];

        u->name = pf_strdup(it->candidate->package);
        u->arch = pf_strdup(it->candidate->arch);
        u->to = pf_strdup(it->candidate->version);
        u->from = it->installed ? pf_strdup(it->installed->version) : NULL;
        if (!u->name || !u->arch || !u->to || (it->installed && !u->from))
            return -ENOMEM;
    }
    return 0;
}

/* Downloads the .debs, applies them into a new layer and writes it to workdir. */
static int build_layer(struct worker_apt_fetcher *f, const struct worker_engine_request *req,
                       const char *arch, struct worker_dpkg_db *db,
                       const struct worker_apt_plan *plan, struct worker_engine_result *res,
                       char *errbuf, size_t errlen)
{
    struct worker_deb_apply_item *items = NULL;
    struct worker_deb_apply_options ao = {.native_arch = arch};
    struct worker_dpkg_statoverrides so = {0};
    struct worker_dpkg_diversions dv = {0};
    struct worker_layer_writer *w = NULL;
    char *spool = NULL;
    int spool_fd = -1, r;

    items = pf_calloc(plan->n, sizeof(*items));
    spool = pf_asprintf("%s/spool", req->workdir);
    if (!items || !spool) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < plan->n; i++) {
        char *path = NULL;

        if (cancelled(req)) {
            r = pf_set_error(errbuf, errlen, -ECANCELED, "cancelled while fetching packages");
            goto out;
        }
        r = worker_apt_fetcher_get_deb(f, plan->items[i].candidate, &path, errbuf, errlen);
        if (r < 0)
            goto out;
        items[i].deb_path = path;
        items[i].old = plan->items[i].installed;
    }
    if (mkdir(spool, 0700) < 0 && errno != EEXIST) {
        r = -errno;
        (void)pf_set_error(errbuf, errlen, r, "cannot create %s: %s", spool, strerror(-r));
        goto out;
    }
    ao.spool_dir = spool;
    ao.ret_spool_fd = &spool_fd;
    r = worker_dpkg_statoverrides_load(req->view, &so, errbuf, errlen);
    if (r == 0)
        r = worker_dpkg_diversions_load(req->view, &dv, errbuf, errlen);
    if (r < 0)
        goto out;
    ao.statoverrides = &so;
    ao.diversions = &dv;
    ao.max_package_size = req->max_package_size;
    r = worker_layer_writer_new(0, &w);
    if (r < 0)
        goto out;
    worker_layer_writer_set_max_size(w, req->max_patch_layer_size);
    r = worker_deb_apply(req->view, db, items, plan->n, &ao, w, errbuf, errlen);
    if (r < 0)
        goto out;
    /* ca-certificates' postinst rebuilds the bundle and links; scripts never run, so the
     * engine makes their result itself (deb/ca_certs.h). */
    for (size_t i = 0; i < plan->n; i++) {
        if (strcmp(plan->items[i].candidate->package, WORKER_CA_CERTS_PACKAGE) != 0)
            continue;
        r = worker_ca_certs_apply(req->view, items[i].deb_path, w, errbuf, errlen);
        if (r < 0)
            goto out;
    }
    if (cancelled(req)) {
        r = pf_set_error(errbuf, errlen, -ECANCELED, "cancelled before writing the layer");
        goto out;
    }
    r = worker_engine_write_layer(w, req->workdir, res, errbuf, errlen);
out:
    if (spool_fd >= 0) /* the writer borrowed it until finish; the file is already unlinked */
        (void)close(spool_fd);
    if (items)
        for (size_t i = 0; i < plan->n; i++)
            pf_free((char *)(uintptr_t)items[i].deb_path);
    pf_free(items);
    pf_free(spool);
    worker_layer_writer_free(w);
    worker_dpkg_statoverrides_release(&so);
    worker_dpkg_diversions_release(&dv);
    return r;
}

static char *os_name(const struct worker_os_release *osr)
{
    const char *v = osr->version_id ? osr->version_id : osr->version_codename;

    return pf_asprintf("%s %s", osr->id ? osr->id : "debian", v ? v : "unknown");
}

static int deb_patch(void *ctx, const struct worker_engine_request *req,
                     struct worker_engine_result *ret, char *errbuf, size_t errlen)
{
    struct deb_engine *e = ctx;
    struct worker_engine_result res = {0};
    struct worker_os_release osr = {0};
    struct worker_apt_sources sources = WORKER_APT_SOURCES_INIT;
    struct worker_apt_index *idx = NULL;
    struct worker_apt_plan plan = {0};
    struct worker_dpkg_db *db = NULL;
    struct worker_apt_fetcher *f;
    const char *arch = worker_deb_arch_from_oci(req->arch, req->variant);
    int r;

    if (!arch)
        return pf_set_error(errbuf, errlen, -ENOTSUP, "architecture %s%s%s is not a Debian one",
                            req->arch ? req->arch : "?", req->variant ? "/" : "",
                            req->variant ? req->variant : "");
    r = read_os_release(req->view, &osr, errbuf, errlen);
    if (r < 0)
        return r;
    if (!is_debian_like(&osr)) {
        r = pf_set_error(errbuf, errlen, -ENOTSUP, "%s is not a Debian-family distribution",
                         osr.id ? osr.id : "the image");
        goto out;
    }
    f = osr.family == WORKER_DISTRO_UBUNTU ? e->ubuntu : e->debian;
    res.os = os_name(&osr);
    if (!res.os) {
        r = -ENOMEM;
        goto out;
    }
    r = read_dpkg_db(req->view, &db, errbuf, errlen);
    if (r < 0)
        goto out;
    /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): read_dpkg_db() sets db on success. */
    pf_log(LOG_DEBUG, "deb: %s, %zu packages in the dpkg database (%s)", res.os, db->n,
           db->kind == WORKER_DPKG_DB_STATUSD ? "status.d" : "status");
    r = read_sources(req->view, &osr, arch, &sources, errbuf, errlen);
    if (r < 0)
        goto out;
    pf_log(LOG_DEBUG, "deb: %zu apt sources", sources.n);
    if (cancelled(req)) {
        r = pf_set_error(errbuf, errlen, -ECANCELED, "cancelled before fetching indexes");
        goto out;
    }
    r = worker_apt_fetcher_load(f, &sources, req->view, arch, req->workdir, &idx, errbuf, errlen);
    if (r < 0)
        goto out;
    r = worker_apt_plan_build(db, idx, arch, &plan, errbuf, errlen);
    if (r < 0)
        goto out;
    pf_log(LOG_DEBUG, "deb: %zu packages to install", plan.n);
    r = fill_upgrades(&plan, &res);
    if (r < 0)
        goto out;
    if (!req->dry_run && plan.n > 0) {
        r = build_layer(f, req, arch, db, &plan, &res, errbuf, errlen);
        if (r < 0)
            goto out;
    }
    *ret = res;
    res = (struct worker_engine_result){0};
out:
    if (r == -ENOMEM)
        (void)pf_set_error(errbuf, errlen, r, "out of memory");
    worker_engine_result_release(&res);
    worker_apt_plan_release(&plan);
    worker_apt_index_free(idx);
    worker_dpkg_db_free(db);
    worker_apt_sources_clear(&sources);
    worker_os_release_release(&osr);
    return r;
}

static const char *keyring_or_null(const char *path)
{
    return access(path, R_OK) == 0 ? path : NULL;
}

int worker_deb_engine_new(const struct worker_deb_engine_options *o, struct worker_engine **ret,
                          char *errbuf, size_t errlen)
{
    struct worker_apt_fetch_options fo = {0};
    struct deb_engine *e;
    int r;

    if (!o || !o->cache_dir)
        return pf_set_error(errbuf, errlen, -EINVAL, "the Debian engine needs a cache directory");
    e = pf_calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    fo.cache_dir = o->cache_dir;
    fo.mirrors = o->mirrors;
    fo.ca_file = o->ca_file;
    fo.freshness = o->freshness;
    fo.default_keyring = o->default_keyring ? o->default_keyring : keyring_or_null(DEBIAN_KEYRING);
    r = worker_apt_fetcher_new(&fo, &e->debian, errbuf, errlen);
    if (r < 0)
        goto fail;
    fo.default_keyring = o->default_keyring ? o->default_keyring : keyring_or_null(UBUNTU_KEYRING);
    r = worker_apt_fetcher_new(&fo, &e->ubuntu, errbuf, errlen);
    if (r < 0)
        goto fail;
    e->engine = (struct worker_engine){
        .name = "deb",
        .ctx = e,
        .keep = deb_keep,
        .detect = deb_detect,
        .patch = deb_patch,
    };
    *ret = &e->engine;
    return 0;
fail:
    worker_deb_engine_free(&e->engine);
    return r;
}

struct worker_engine *worker_deb_engine_free(struct worker_engine *engine)
{
    struct deb_engine *e;

    if (!engine)
        return NULL;
    e = (struct deb_engine *)engine->ctx;
    if (!e)
        e = (struct deb_engine *)(void *)engine;
    worker_apt_fetcher_free(e->debian);
    worker_apt_fetcher_free(e->ubuntu);
    pf_free(e);
    return NULL;
}
