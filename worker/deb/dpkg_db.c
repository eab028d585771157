/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpkg database reader on top of deb822. Each stanza's paragraph is moved into its package so
 * the raw text and every field stay available for rewriting; the few fields the patch engine
 * decides on (name, version, arch, status triple, source, conffiles) are lifted into members.
 * Malformed stanzas fail the whole parse: patching a database we only half understood could
 * corrupt it, and dpkg itself refuses such a database.
 */
#include "pf/setup.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "deb/dpkg_db.h"
#include "deb/version_deb.h"

static const char *const want_table[WORKER_DPKG_WANT__MAX] = {
    [WORKER_DPKG_WANT_UNKNOWN] = "unknown", [WORKER_DPKG_WANT_INSTALL] = "install",
    [WORKER_DPKG_WANT_HOLD] = "hold",       [WORKER_DPKG_WANT_DEINSTALL] = "deinstall",
    [WORKER_DPKG_WANT_PURGE] = "purge",
};

static const char *const eflag_table[WORKER_DPKG_EFLAG__MAX] = {
    [WORKER_DPKG_EFLAG_OK] = "ok",
    [WORKER_DPKG_EFLAG_REINSTREQ] = "reinstreq",
};

static const char *const state_table[WORKER_DPKG_STATE__MAX] = {
    [WORKER_DPKG_STATE_NOT_INSTALLED] = "not-installed",
    [WORKER_DPKG_STATE_CONFIG_FILES] = "config-files",
    [WORKER_DPKG_STATE_HALF_INSTALLED] = "half-installed",
    [WORKER_DPKG_STATE_UNPACKED] = "unpacked",
    [WORKER_DPKG_STATE_HALF_CONFIGURED] = "half-configured",
    [WORKER_DPKG_STATE_TRIGGERS_AWAITED] = "triggers-awaited",
    [WORKER_DPKG_STATE_TRIGGERS_PENDING] = "triggers-pending",
    [WORKER_DPKG_STATE_INSTALLED] = "installed",
};

static int table_lookup(const char *const *table, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (table[i] && strcmp(table[i], s) == 0)
            return (int)i;
    return -EINVAL;
}

enum worker_dpkg_want worker_dpkg_want_from_string(const char *s)
{
    return (enum worker_dpkg_want)table_lookup(want_table, PF_ARRAY_SIZE(want_table), s);
}

enum worker_dpkg_eflag worker_dpkg_eflag_from_string(const char *s)
{
    return (enum worker_dpkg_eflag)table_lookup(eflag_table, PF_ARRAY_SIZE(eflag_table), s);
}

enum worker_dpkg_state worker_dpkg_state_from_string(const char *s)
{
    return (enum worker_dpkg_state)table_lookup(state_table, PF_ARRAY_SIZE(state_table), s);
}

const char *worker_dpkg_want_to_string(enum worker_dpkg_want w)
{
    return w >= 0 && w < WORKER_DPKG_WANT__MAX ? want_table[w] : NULL;
}

const char *worker_dpkg_state_to_string(enum worker_dpkg_state s)
{
    return s >= 0 && s < WORKER_DPKG_STATE__MAX ? state_table[s] : NULL;
}

void worker_dpkg_conffiles_free(struct worker_dpkg_conffile *c, size_t n)
{
    if (!c)
        return;
    for (size_t i = 0; i < n; i++) {
        pf_free(c[i].path);
        pf_free(c[i].md5);
    }
    pf_free(c);
}

/* Splits [s, e) at its last blank: the word after it goes to [*ws, e). */
static const char *last_word(const char *s, const char *e, const char **ret_ws)
{
    const char *w;

    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    w = e;
    while (w > s && w[-1] != ' ' && w[-1] != '\t')
        w--;
    *ret_ws = w;
    return e;
}

static bool word_is(const char *w, const char *e, const char *lit)
{
    size_t n = strlen(lit);

    return (size_t)(e - w) == n && memcmp(w, lit, n) == 0;
}

/* Parses one Conffiles line [s, e); paths may contain blanks, so words are taken from the end. */
static int conffile_line(const char *s, const char *e, struct worker_dpkg_conffile *c)
{
    const char *w, *we;

    memset(c, 0, sizeof(*c));
    for (;;) {
        we = last_word(s, e, &w);
        if (word_is(w, we, "obsolete") && !c->obsolete)
            c->obsolete = true;
        else if (word_is(w, we, "remove-on-upgrade") && !c->remove_on_upgrade)
            c->remove_on_upgrade = true;
        else
            break;
        e = w;
    }
    if (w == we)
        return -EINVAL;
    e = w;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    if (s == e || *s != '/')
        return -EINVAL;
    c->path = pf_strndup(s, (size_t)(e - s));
    c->md5 = pf_strndup(w, (size_t)(we - w));
    if (!c->path || !c->md5) {
        c->path = pf_free(c->path);
        c->md5 = pf_free(c->md5);
        return -ENOMEM;
    }
    return 0;
}

int worker_dpkg_conffiles_parse(const char *value, struct worker_dpkg_conffile **ret, size_t *ret_n)
{
    struct worker_dpkg_conffile *v = NULL;
    size_t n = 0, lines = 1;
    const char *s = value;
    int r = 0;

    for (const char *c = value; *c; c++)
        lines += *c == '\n';
    v = pf_calloc(lines, sizeof(*v));
    if (!v)
        return -ENOMEM;
    while (*s) {
        const char *e = strchr(s, '\n'), *c;

        if (!e)
            e = s + strlen(s);
        for (c = s; c < e && (*c == ' ' || *c == '\t'); c++)
            ;
        if (c < e) {
            r = conffile_line(s, e, &v[n]);
            if (r < 0)
                goto out;
            n++;
        }
        s = *e ? e + 1 : e;
    }
    *ret = v;
    *ret_n = n;
    v = NULL;
out:
    worker_dpkg_conffiles_free(v, n);
    return r;
}

static struct worker_dpkg_pkg *pkg_free(struct worker_dpkg_pkg *p)
{
    if (!p)
        return NULL;
    pf_free(p->source_name);
    pf_free(p->source_version);
    worker_dpkg_conffiles_free(p->conffiles, p->n_conffiles);
    pf_free(p->statusd_file);
    worker_deb822_para_clear(&p->para);
    return pf_free(p);
}

static int parse_status_field(struct worker_dpkg_pkg *p, const char *st)
{
    char w[3][32];
    int n = 0;
    const char *s = st;

    while (*s && n < 3) {
        size_t l;

        while (*s == ' ')
            s++;
        l = strcspn(s, " ");
        if (l == 0)
            break;
        if (l >= sizeof(w[0]))
            return -EINVAL;
        memcpy(w[n], s, l);
        w[n][l] = '\0';
        n++;
        s += l;
    }
    while (*s == ' ')
        s++;
    if (n != 3 || *s)
        return -EINVAL;
    p->want = worker_dpkg_want_from_string(w[0]);
    p->eflag = worker_dpkg_eflag_from_string(w[1]);
    p->state = worker_dpkg_state_from_string(w[2]);
    if ((int)p->want < 0 || (int)p->eflag < 0 || (int)p->state < 0)
        return -EINVAL;
    p->has_status = true;
    return 0;
}

/* Splits "Source: name (version)"; both default to the binary package's. */
static int parse_source(struct worker_dpkg_pkg *p)
{
    const char *src = worker_deb822_para_get(&p->para, "Source");
    const char *sp, *open, *close;

    if (!src || !*src) {
        p->source_name = pf_strdup(p->name);
        p->source_version = p->version ? pf_strdup(p->version) : NULL;
        return p->source_name && (p->source_version || !p->version) ? 0 : -ENOMEM;
    }
    sp = src + strcspn(src, " \t(");
    p->source_name = pf_strndup(src, (size_t)(sp - src));
    if (!p->source_name)
        return -ENOMEM;
    open = strchr(sp, '(');
    if (!open) {
        p->source_version = p->version ? pf_strdup(p->version) : NULL;
        return p->source_version || !p->version ? 0 : -ENOMEM;
    }
    close = strchr(open, ')');
    if (!close || close == open + 1)
        return -EINVAL;
    p->source_version = pf_strndup(open + 1, (size_t)(close - open - 1));
    return p->source_version ? 0 : -ENOMEM;
}

static bool valid_token(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s > '~')
            return false;
    return true;
}

bool worker_dpkg_name_valid(const char *s)
{
    if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr("+-.", *s)))
            return false;
    return true;
}

bool worker_dpkg_arch_valid(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return false;
    return true;
}

int worker_dpkg_version_check(const char *s, char *errbuf, size_t errlen)
{
    struct worker_deb_version v = {0};
    int r = worker_deb_version_parse(s, &v, errbuf, errlen);

    worker_deb_version_release(&v);
    if (r < 0)
        return r;
    /* dpkg only warns about a character outside its version alphabet; here it is an error,
     * so no Version carries '/' or a blank into a file or URL name. */
    if (strspn(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+~:-") !=
        strlen(s))
        return pf_set_error(errbuf, errlen, -EINVAL, "a character outside [0-9A-Za-z.+~:-]");
    return 0;
}

/* Checks Package (tokens only, so the old message stays for a missing one), Version by dpkg's
 * grammar, Architecture; returns 0 or -EINVAL with the field and value named. */
static int check_names(const struct worker_dpkg_pkg *p, size_t line, char *errbuf, size_t errlen)
{
    char why[128] = "";
    int r;

    if (!worker_dpkg_name_valid(p->name))
        return pf_set_error(errbuf, errlen, -EINVAL, "line %zu: invalid Package '%s'", line,
                            p->name);
    if (p->arch[0] && !worker_dpkg_arch_valid(p->arch))
        return pf_set_error(errbuf, errlen, -EINVAL,
                            "line %zu: package '%s' has invalid Architecture '%s'", line, p->name,
                            p->arch);
    r = p->version ? worker_dpkg_version_check(p->version, why, sizeof(why)) : 0;
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return pf_set_error(errbuf, errlen, -EINVAL,
                            "line %zu: package '%s' has invalid Version '%s': %s", line, p->name,
                            p->version, why);
    return 0;
}

/* Lifts the known fields out of p->para; returns 0, -EINVAL with a message, or -ENOMEM. */
static int pkg_fill(struct worker_dpkg_pkg *p, bool need_status, char *errbuf, size_t errlen)
{
    const char *st, *cf;
    size_t line = p->para.line;
    int r;

    p->name = worker_deb822_para_get(&p->para, "Package");
    if (!valid_token(p->name)) {
        (void)pf_set_error(errbuf, errlen, 0, "line %zu: stanza without a valid Package field",
                           line);
        return -EINVAL;
    }
    p->version = worker_deb822_para_get(&p->para, "Version");
    p->arch = worker_deb822_para_get(&p->para, "Architecture");
    if (!p->arch)
        p->arch = "";
    p->multi_arch = worker_deb822_para_get(&p->para, "Multi-Arch");
    p->depends = worker_deb822_para_get(&p->para, "Depends");
    p->pre_depends = worker_deb822_para_get(&p->para, "Pre-Depends");
    st = worker_deb822_para_get(&p->para, "Status");
    if (st) {
        r = parse_status_field(p, st);
        if (r < 0) {
            (void)pf_set_error(errbuf, errlen, 0, "line %zu: invalid Status '%s' for '%s'", line,
                               st, p->name);
            return r;
        }
    } else if (need_status) {
        (void)pf_set_error(errbuf, errlen, 0, "line %zu: package '%s' has no Status", line,
                           p->name);
        return -EINVAL;
    } else {
        p->want = WORKER_DPKG_WANT_INSTALL;
        p->eflag = WORKER_DPKG_EFLAG_OK;
        p->state = WORKER_DPKG_STATE_INSTALLED;
    }
    p->held = p->want == WORKER_DPKG_WANT_HOLD;
    p->installed = p->eflag == WORKER_DPKG_EFLAG_OK && p->state == WORKER_DPKG_STATE_INSTALLED &&
                   (p->want == WORKER_DPKG_WANT_INSTALL || p->held);
    /* dpkg keeps a Version for every package that has files on disk. */
    if (p->state != WORKER_DPKG_STATE_NOT_INSTALLED && !valid_token(p->version)) {
        (void)pf_set_error(errbuf, errlen, 0, "line %zu: package '%s' has no valid Version", line,
                           p->name);
        return -EINVAL;
    }
    r = check_names(p, line, errbuf, errlen);
    if (r < 0)
        return r;
    r = parse_source(p);
    if (r == -EINVAL)
        (void)pf_set_error(errbuf, errlen, 0, "line %zu: invalid Source for '%s'", line, p->name);
    if (r < 0)
        return r;
    cf = worker_deb822_para_get(&p->para, "Conffiles");
    if (cf) {
        r = worker_dpkg_conffiles_parse(cf, &p->conffiles, &p->n_conffiles);
        if (r == -EINVAL)
            (void)pf_set_error(errbuf, errlen, 0, "line %zu: invalid Conffiles for '%s'", line,
                               p->name);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Moves `para` (zeroed afterwards) into a new package. */
static int pkg_from_para(struct worker_deb822_para *para, bool need_status, const char *file,
                         struct worker_dpkg_pkg **ret, char *errbuf, size_t errlen)
{
    struct worker_dpkg_pkg *p = pf_calloc(1, sizeof(*p));
    int r;

    if (!p)
        return -ENOMEM;
    p->para = *para;
    memset(para, 0, sizeof(*para));
    if (file) {
        p->statusd_file = pf_strdup(file);
        if (!p->statusd_file) {
            r = -ENOMEM;
            goto fail;
        }
    }
    r = pkg_fill(p, need_status, errbuf, errlen);
    if (r < 0)
        goto fail;
    *ret = p;
    return 0;
fail:
    pkg_free(p);
    return r;
}

static int pkg_cmp(const char *name, const char *arch, const struct worker_dpkg_pkg *p)
{
    int c = strcmp(name, p->name);

    return c ? c : strcmp(arch, p->arch);
}

/* Returns the index of the first package >= (name, arch); *ret_eq tells an exact match. */
static size_t lower_bound(const struct worker_dpkg_db *db, const char *name, const char *arch,
                          bool *ret_eq)
{
    size_t lo = 0, hi = db->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (pkg_cmp(name, arch, db->pkgs[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *ret_eq = lo < db->n && pkg_cmp(name, arch, db->pkgs[lo]) == 0;
    return lo;
}

static int reserve(struct worker_dpkg_db *db, size_t extra)
{
    if (extra > SIZE_MAX - db->n)
        return -ENOMEM;
    return PF_GROW(db->pkgs, db->cap, db->n + extra);
}

/* Inserts in sort order; capacity must have been reserved. */
static void insert_sorted(struct worker_dpkg_db *db, struct worker_dpkg_pkg *p)
{
    bool eq;
    size_t i = lower_bound(db, p->name, p->arch, &eq);

    memmove(&db->pkgs[i + 1], &db->pkgs[i], (db->n - i) * sizeof(db->pkgs[0]));
    db->pkgs[i] = p;
    db->n++;
}

struct worker_dpkg_db *worker_dpkg_db_free(struct worker_dpkg_db *db)
{
    if (!db)
        return NULL;
    for (size_t i = 0; i < db->n; i++)
        pkg_free(db->pkgs[i]);
    pf_free(db->pkgs);
    return pf_free(db);
}

struct worker_dpkg_db *worker_dpkg_db_new_statusd(void)
{
    struct worker_dpkg_db *db = pf_calloc(1, sizeof(*db));

    if (db)
        db->kind = WORKER_DPKG_DB_STATUSD;
    return db;
}

const struct worker_dpkg_pkg *worker_dpkg_db_find(const struct worker_dpkg_db *db, const char *name,
                                                  const char *arch)
{
    bool eq;
    size_t i = lower_bound(db, name, arch ? arch : "", &eq);

    if (eq)
        return db->pkgs[i];
    if (!arch && i < db->n && strcmp(db->pkgs[i]->name, name) == 0)
        return db->pkgs[i];
    return NULL;
}

/*
 * Turns every paragraph of `doc` into a package and adds them all to `db`, or none of them.
 * Paragraphs are moved out of `doc`.
 */
static int add_doc(struct worker_dpkg_db *db, struct worker_deb822_doc *doc, bool need_status,
                   const char *file, char *errbuf, size_t errlen)
{
    struct worker_dpkg_pkg **batch = NULL;
    size_t n = 0;
    int r;

    batch = pf_calloc(doc->n ? doc->n : 1, sizeof(*batch));
    if (!batch)
        return -ENOMEM;
    for (; n < doc->n; n++) {
        r = pkg_from_para(&doc->paras[n], need_status, file, &batch[n], errbuf, errlen);
        if (r < 0)
            goto out;
    }
    for (size_t i = 0; i < n; i++) {
        bool eq;

        (void)lower_bound(db, batch[i]->name, batch[i]->arch, &eq);
        for (size_t j = 0; j < i && !eq; j++)
            eq = pkg_cmp(batch[i]->name, batch[i]->arch, batch[j]) == 0;
        if (eq) {
            (void)pf_set_error(errbuf, errlen, 0, "line %zu: duplicate package '%s' (%s)",
                               batch[i]->para.line, batch[i]->name, batch[i]->arch);
            r = -EINVAL;
            goto out;
        }
    }
    r = reserve(db, n);
    if (r < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        insert_sorted(db, batch[i]);
    r = (int)n;
    n = 0;
out:
    for (size_t i = 0; i < n; i++)
        pkg_free(batch[i]);
    pf_free(batch);
    return r;
}

int worker_dpkg_db_parse_status(const char *text, size_t len, struct worker_dpkg_db **ret,
                                char *errbuf, size_t errlen)
{
    struct worker_deb822_doc doc = WORKER_DEB822_DOC_INIT;
    struct worker_dpkg_db *db = NULL;
    int r;

    r = worker_deb822_parse(text, len, NULL, &doc, errbuf, errlen);
    if (r < 0)
        return r;
    db = pf_calloc(1, sizeof(*db));
    if (!db) {
        r = -ENOMEM;
        goto out;
    }
    db->kind = WORKER_DPKG_DB_STATUS;
    r = add_doc(db, &doc, true, NULL, errbuf, errlen);
    if (r < 0)
        goto out;
    *ret = db;
    db = NULL;
    r = 0;
out:
    worker_deb822_doc_clear(&doc);
    worker_dpkg_db_free(db);
    return r;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int worker_dpkg_db_add_statusd_file(struct worker_dpkg_db *db, const char *file_name,
                                    const char *text, size_t len, char *errbuf, size_t errlen)
{
    struct worker_deb822_doc doc = WORKER_DEB822_DOC_INIT;
    int r;

    if (!*file_name || strchr(file_name, '/') || strcmp(file_name, ".") == 0 ||
        strcmp(file_name, "..") == 0) {
        (void)pf_set_error(errbuf, errlen, 0, "invalid status.d file name '%s'", file_name);
        return -EINVAL;
    }
    if (has_suffix(file_name, ".md5sums"))
        return 0;
    r = worker_deb822_parse(text, len, NULL, &doc, errbuf, errlen);
    if (r < 0)
        return r;
    r = add_doc(db, &doc, false, file_name, errbuf, errlen);
    worker_deb822_doc_clear(&doc);
    return r;
}
