/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes the dpkg database back as text. Untouched packages are emitted from their raw stanza,
 * byte for byte, so a patch changes only the stanzas of the packages it installs; installed
 * stanzas are rendered in dpkg's own field order so the file looks as if dpkg had written it.
 * A new stanza enters the in-memory database by being parsed like any status text, which keeps
 * one parser (dpkg_db.c) as the only judge of what a valid package is.
 */
#include "pf/setup.h"

#include <string.h>
#include <strings.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "deb/dpkg_db.h"

/* lib/dpkg/parse.c fieldinfos[]: the order dpkg writes known fields in. */
static const char *const field_order[] = {
    "Package",          "Essential",      "Protected", "Status",      "Priority",
    "Section",          "Installed-Size", "Origin",    "Maintainer",  "Bugs",
    "Architecture",     "Multi-Arch",     "Source",    "Version",     "Config-Version",
    "Replaces",         "Provides",       "Depends",   "Pre-Depends", "Recommends",
    "Suggests",         "Breaks",         "Conflicts", "Enhances",    "Conffiles",
    "Filename",         "Size",           "MD5sum",    "Description", "Triggers-Pending",
    "Triggers-Awaited",
};

#define N_FIELDS (sizeof(field_order) / sizeof(field_order[0]))
/* A status file is bounded by what the parser accepts. */
#define STATUS_MAX ((size_t)256 << 20)

int worker_dpkg_db_render_status(const struct worker_dpkg_db *db, char **ret, size_t *ret_len)
{
    struct pf_buf b = PF_BUF_INIT;
    char *s;
    size_t len;
    int r;

    pf_buf_init(&b, STATUS_MAX);
    r = pf_buf_append(&b, "", 0);
    for (size_t i = 0; i < db->n && r >= 0; i++) {
        const struct worker_deb822_para *p = &db->pkgs[i]->para;

        r = pf_buf_append(&b, p->raw, p->raw_len);
        if (r >= 0)
            r = pf_buf_append(&b, "\n", 1);
    }
    if (r < 0) {
        pf_buf_release(&b);
        return r;
    }
    s = pf_buf_steal(&b, &len);
    if (!s)
        return -ENOMEM;
    *ret = s;
    *ret_len = len;
    return 0;
}

static bool is_known(const char *name)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        if (strcasecmp(name, field_order[i]) == 0)
            return true;
    return false;
}

/* "Name: value" or, for a value that starts on the next line, "Name:\n...". */
static int put_field(struct pf_buf *b, const char *name, const char *value)
{
    if (!*value || value[0] == '\n')
        return pf_buf_appendf(b, "%s:%s\n", name, value);
    return pf_buf_appendf(b, "%s: %s\n", name, value);
}

static int put_conffiles(struct pf_buf *b, const struct worker_dpkg_conffile *c, size_t n)
{
    int r = pf_buf_appends(b, "Conffiles:\n");

    for (size_t i = 0; i < n && r >= 0; i++)
        r = pf_buf_appendf(b, " %s %s%s%s\n", c[i].path, c[i].md5, c[i].obsolete ? " obsolete" : "",
                           c[i].remove_on_upgrade ? " remove-on-upgrade" : "");
    return r;
}

int worker_dpkg_render_stanza(const struct worker_deb822_para *control, const char *status,
                              const struct worker_dpkg_conffile *conffiles, size_t n_conffiles,
                              char **ret, size_t *ret_len)
{
    struct pf_buf b = PF_BUF_INIT;
    char *s;
    size_t len;
    int r = 0;

    pf_buf_init(&b, STATUS_MAX);
    for (size_t i = 0; i < N_FIELDS && r >= 0; i++) {
        const char *v;

        if (strcmp(field_order[i], "Status") == 0) {
            if (status)
                r = put_field(&b, "Status", status);
        } else if (strcmp(field_order[i], "Conffiles") == 0) {
            if (n_conffiles)
                r = put_conffiles(&b, conffiles, n_conffiles);
        } else if (strcmp(field_order[i], "Config-Version") != 0) {
            v = worker_deb822_para_get(control, field_order[i]);
            if (v)
                r = put_field(&b, field_order[i], v);
        }
    }
    for (size_t i = 0; i < control->n_fields && r >= 0; i++)
        if (!is_known(control->fields[i].name))
            r = put_field(&b, control->fields[i].name, control->fields[i].value);
    if (r < 0) {
        pf_buf_release(&b);
        return r;
    }
    s = pf_buf_steal(&b, &len);
    if (!s)
        return -ENOMEM;
    *ret = s;
    *ret_len = len;
    return 0;
}

/* Index of the first package >= (name, arch), the order dpkg_db.c keeps. */
static size_t lower_bound(const struct worker_dpkg_db *db, const char *name, const char *arch)
{
    size_t lo = 0, hi = db->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, db->pkgs[mid]->name);

        if (c == 0)
            c = strcmp(arch, db->pkgs[mid]->arch);
        if (c > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int worker_dpkg_db_put(struct worker_dpkg_db *db, const char *stanza, size_t len,
                       const char *statusd_file, const struct worker_dpkg_pkg **ret_pkg,
                       char *errbuf, size_t errlen)
{
    struct worker_dpkg_db *tmp = NULL;
    struct worker_dpkg_pkg *p;
    size_t i;
    int r;

    if (db->kind == WORKER_DPKG_DB_STATUSD) {
        tmp = worker_dpkg_db_new_statusd();
        if (!tmp)
            return -ENOMEM;
        r = statusd_file
                ? worker_dpkg_db_add_statusd_file(tmp, statusd_file, stanza, len, errbuf, errlen)
                : pf_set_error(errbuf, errlen, -EINVAL, "status.d stanza without a file name");
    } else {
        r = worker_dpkg_db_parse_status(stanza, len, &tmp, errbuf, errlen);
    }
    if (r >= 0 && tmp->n != 1)
        r = pf_set_error(errbuf, errlen, -EINVAL, "expected one stanza, got %zu", tmp->n);
    if (r < 0)
        goto out;
    p = tmp->pkgs[0];
    i = lower_bound(db, p->name, p->arch);
    if (i < db->n && strcmp(db->pkgs[i]->name, p->name) == 0 &&
        strcmp(db->pkgs[i]->arch, p->arch) == 0) {
        /* Swap: the old package leaves with the temporary database. */
        tmp->pkgs[0] = db->pkgs[i];
        db->pkgs[i] = p;
        r = 1;
    } else {
        r = PF_GROW(db->pkgs, db->cap, db->n + 1);
        if (r < 0)
            goto out;
        memmove(&db->pkgs[i + 1], &db->pkgs[i], (db->n - i) * sizeof(db->pkgs[0]));
        db->pkgs[i] = p;
        db->n++;
        tmp->n = 0;
        r = 0;
    }
    if (ret_pkg)
        *ret_pkg = p;
out:
    worker_dpkg_db_free(tmp);
    return r;
}
