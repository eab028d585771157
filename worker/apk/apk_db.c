/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parser and renderer of apk's stanza text (APKINDEX and lib/apk/db/installed). The parser is
 * strict where a mistake would make the patch write a wrong database (file records, owner and
 * mode fields, flags it does not know) and lenient where apk itself is (unknown lower-case
 * letters). Header lines are stored verbatim so rendering an untouched package gives back the
 * bytes apk wrote; only file records are rebuilt from the parsed form.
 */
#include "pf/setup.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "apk/apk_db.h"

void worker_apk_pkg_release(struct worker_apk_pkg *p)
{
    if (!p)
        return;
    pf_free(p->name);
    pf_free(p->version);
    pf_free(p->arch);
    pf_free(p->identity);
    pf_free(p->origin);
    pf_strv_clear(&p->depends);
    pf_strv_clear(&p->provides);
    pf_strv_clear(&p->header);
    for (size_t i = 0; i < p->n_dirs; i++) {
        struct worker_apk_dir *d = &p->dirs[i];

        for (size_t j = 0; j < d->n_files; j++) {
            pf_free(d->files[j].name);
            pf_free(d->files[j].csum);
        }
        pf_free(d->files);
        pf_free(d->path);
    }
    pf_free(p->dirs);
    *p = (struct worker_apk_pkg){0};
}

void worker_apk_db_release(struct worker_apk_db *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->n; i++)
        worker_apk_pkg_release(&db->v[i]);
    pf_free(db->v);
    *db = (struct worker_apk_db){0};
}

static struct worker_apk_pkg *db_push(struct worker_apk_db *db)
{
    if (PF_GROW(db->v, db->cap, db->n + 1) < 0)
        return NULL;
    db->v[db->n] = (struct worker_apk_pkg){0};
    return &db->v[db->n++];
}

/* "uid:gid:mode[:xattrhash]" with decimal ids and an octal mode. */
static int parse_acl(const char *s, uint32_t *uid, uint32_t *gid, uint32_t *mode)
{
    unsigned long v[3];
    const char *p = s;

    for (int i = 0; i < 3; i++) {
        char *end;

        if (*p < '0' || *p > '9')
            return -EBADMSG;
        errno = 0;
        v[i] = strtoul(p, &end, i == 2 ? 8 : 10);
        if (errno || end == p || (*end != ':' && *end != '\0') || (i < 2 && *end != ':'))
            return -EBADMSG;
        if (v[i] > (i == 2 ? 07777ul : 0xfffffffful))
            return -EBADMSG;
        p = *end ? end + 1 : end;
    }
    *uid = (uint32_t)v[0];
    *gid = (uint32_t)v[1];
    *mode = (uint32_t)v[2];
    return 0;
}

static int split_atoms(struct pf_strv *sv, const char *s)
{
    while (*s) {
        size_t n;
        int r;

        while (*s == ' ')
            s++;
        n = strcspn(s, " ");
        if (n == 0)
            break;
        r = pf_strv_push_take(sv, pf_strndup(s, n));
        if (r < 0)
            return r;
        s += n;
    }
    return 0;
}

struct parser {
    struct worker_apk_pkg *pkg;
    struct worker_apk_dir *dir;
    struct worker_apk_file *file;
    bool installed;
    char why[256]; /* the reason of a refused field value, naming the field */
};

static int file_record(struct parser *ps, char key, const char *val)
{
    struct worker_apk_pkg *p = ps->pkg;
    int r;

    switch (key) {
    case 'F': {
        struct worker_apk_dir *v = pf_realloc(p->dirs, (p->n_dirs + 1) * sizeof(*v));

        if (!v)
            return -ENOMEM;
        p->dirs = v;
        ps->dir = &v[p->n_dirs];
        *ps->dir = (struct worker_apk_dir){.path = pf_strdup(val), .mode = 0755};
        p->n_dirs++;
        ps->file = NULL;
        return ps->dir->path ? 0 : -ENOMEM;
    }
    case 'M':
        if (!ps->dir || ps->file)
            return -EBADMSG;
        ps->dir->has_acl = true;
        return parse_acl(val, &ps->dir->uid, &ps->dir->gid, &ps->dir->mode);
    case 'R': {
        struct worker_apk_dir *d = ps->dir;
        struct worker_apk_file *v;

        if (!d || !*val || strchr(val, '/'))
            return -EBADMSG;
        v = pf_realloc(d->files, (d->n_files + 1) * sizeof(*v));
        if (!v)
            return -ENOMEM;
        d->files = v;
        ps->file = &v[d->n_files];
        *ps->file = (struct worker_apk_file){.name = pf_strdup(val), .mode = 0644};
        d->n_files++;
        return ps->file->name ? 0 : -ENOMEM;
    }
    case 'a':
        if (!ps->file)
            return -EBADMSG;
        ps->file->has_acl = true;
        return parse_acl(val, &ps->file->uid, &ps->file->gid, &ps->file->mode);
    case 'Z':
        if (!ps->file || ps->file->csum)
            return -EBADMSG;
        ps->file->csum = pf_strdup(val);
        return ps->file->csum ? 0 : -ENOMEM;
    default:
        r = 0;
    }
    return r;
}

bool worker_apk_name_valid(const char *s)
{
    /* apk-tools' package-name class (A-Z a-z 0-9 + - . _); a leading '.' or '-' is refused
     * as well, so no name is ever "." or ".." or looks like an option. */
    if (!s || !*s || *s == '.' || *s == '-')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("+-._", *s))
            return false;
    return true;
}

bool worker_apk_version_safe(const char *s)
{
    /* Not apk's version grammar: apk-tools orders versions it calls invalid and so do we
     * (docs/versions.md). Refused are only the bytes that would break the stanza or a D: atom
     * (blanks, control bytes) or that mean something in a path or URL ('/', backslash). */
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f || *s == '/' || *s == '\\')
            return false;
    return true;
}

bool worker_apk_arch_valid(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
            return false;
    return true;
}

/* C: is "Q" + a digit + base64 ("Q1" = SHA-1 of the control member). */
static bool identity_valid(const char *s)
{
    return s[0] == 'Q' && s[1] >= '0' && s[1] <= '9' && s[2] &&
           strspn(s + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
               strlen(s + 2);
}

/* Checks the value of a field that names a package; on a bad value leaves the reason (naming
 * the field and the value) in ps->why and returns -EBADMSG. */
static int check_field(struct parser *ps, char key, const char *val)
{
    bool ok = key == 'P'   ? worker_apk_name_valid(val)
              : key == 'V' ? worker_apk_version_safe(val)
              : key == 'A' ? worker_apk_arch_valid(val)
              : key == 'C' ? identity_valid(val)
                           : true;

    if (ok)
        return 0;
    (void)snprintf(ps->why, sizeof(ps->why), "invalid %c:%.100s%s (%s)", key, val,
                   strlen(val) > 100 ? "..." : "",
                   key == 'P'   ? "not an apk package name"
                   : key == 'V' ? "a version with a blank, a control byte, '/' or a backslash"
                   : key == 'A' ? "not an architecture"
                                : "not a package identity");
    return -EBADMSG;
}

static int set_str(char **dst, const char *val)
{
    pf_free(*dst);
    *dst = pf_strdup(val);
    return *dst ? 0 : -ENOMEM;
}

/* One header line of the current package. */
static int header_line(struct parser *ps, const char *line, char key, const char *val)
{
    struct worker_apk_pkg *p = ps->pkg;
    int r = check_field(ps, key, val);

    if (r >= 0)
        r = pf_strv_push(&p->header, line);
    if (r < 0)
        return r;
    switch (key) {
    case 'P':
        return set_str(&p->name, val);
    case 'V':
        return set_str(&p->version, val);
    case 'A':
        return set_str(&p->arch, val);
    case 'C':
        return set_str(&p->identity, val);
    case 'o':
        return set_str(&p->origin, val);
    case 'D':
        return split_atoms(&p->depends, val);
    case 'p':
        return split_atoms(&p->provides, val);
    case 'f':
        /* Flags apk knows; any other means a newer apk wrote the database. */
        if (ps->installed && val[strspn(val, "fsxS")] != '\0')
            return -EBADMSG;
        return 0;
    case 'S':
    case 'I':
    case 'T':
    case 'U':
    case 'L':
    case 'i':
    case 'm':
    case 't':
    case 'c':
    case 'k':
    case 'r':
    case 'q':
    case 's':
    case 'g':
        return 0;
    default:
        if (key >= 'A' && key <= 'Z')
            p->uninstallable = true;
        return 0;
    }
}

static int end_pkg(struct worker_apk_db *db, struct parser *ps)
{
    if (!ps->pkg)
        return 0;
    ps->pkg = NULL;
    ps->dir = NULL;
    ps->file = NULL;
    if (!db->v[db->n - 1].name || !db->v[db->n - 1].version)
        return -EBADMSG;
    return 1;
}

static int parse_line(struct worker_apk_db *db, struct parser *ps, char *line)
{
    char key;
    const char *val;

    if (line[0] == '\0')
        return end_pkg(db, ps);
    if (line[1] != ':')
        return -EBADMSG;
    key = line[0];
    val = line + 2;
    if (!ps->pkg) {
        ps->pkg = db_push(db);
        if (!ps->pkg)
            return -ENOMEM;
    }
    if (strchr("FMRaZ", key)) {
        if (!ps->installed && key != 'M')
            return -EBADMSG;
        if (ps->installed || key != 'M')
            return file_record(ps, key, val);
    }
    return header_line(ps, line, key, val);
}

int worker_apk_db_parse(struct worker_apk_db *db, const char *text, size_t len, bool installed,
                        char *errbuf, size_t errlen)
{
    struct parser ps = {.installed = installed};
    size_t pos = 0, lineno = 0;
    int added = 0, r = 0;
    char *line = NULL;

    if (len > WORKER_APK_DB_MAX_TEXT)
        return pf_set_error(errbuf, errlen, -E2BIG, "database text over %zu bytes",
                            WORKER_APK_DB_MAX_TEXT);
    while (pos < len || ps.pkg) {
        const char *nl = pos < len ? memchr(text + pos, '\n', len - pos) : NULL;
        size_t n = pos < len ? (nl ? (size_t)(nl - (text + pos)) : len - pos) : 0;

        lineno++;
        if (n > WORKER_APK_DB_MAX_LINE) {
            r = -E2BIG;
            break;
        }
        if (memchr(text + pos, '\0', n)) {
            r = -EBADMSG;
            break;
        }
        line = pf_strndup(text + pos, n);
        if (!line) {
            r = -ENOMEM;
            break;
        }
        pos += n + (nl ? 1 : 0);
        if (n > 0 && line[n - 1] == '\r')
            line[n - 1] = '\0';
        r = parse_line(db, &ps, line);
        line = pf_free(line);
        if (r < 0)
            break;
        added += r;
        if (pos >= len && !nl && ps.pkg) {
            /* text without a final blank line: close the last package */
            r = end_pkg(db, &ps);
            if (r < 0)
                break;
            added += r;
        }
    }
    if (r < 0 && ps.why[0])
        return pf_set_error(errbuf, errlen, r, "line %zu: %s", lineno, ps.why);
    if (r < 0)
        return pf_set_error(errbuf, errlen, r, "line %zu: %s", lineno,
                            r == -E2BIG    ? "line too long"
                            : r == -ENOMEM ? "out of memory"
                                           : "malformed record");
    return added;
}

static int render_acl(struct pf_buf *b, char key, uint32_t uid, uint32_t gid, uint32_t mode)
{
    return pf_buf_appendf(b, "%c:%u:%u:%o\n", key, uid, gid, mode);
}

static int render_pkg(struct pf_buf *b, const struct worker_apk_pkg *p)
{
    int r = 0;

    for (size_t i = 0; i < p->header.n && r >= 0; i++)
        r = pf_buf_appendf(b, "%s\n", p->header.v[i]);
    for (size_t i = 0; i < p->n_dirs && r >= 0; i++) {
        const struct worker_apk_dir *d = &p->dirs[i];

        r = pf_buf_appendf(b, "F:%s\n", d->path);
        if (r >= 0 && d->has_acl)
            r = render_acl(b, 'M', d->uid, d->gid, d->mode);
        for (size_t j = 0; j < d->n_files && r >= 0; j++) {
            const struct worker_apk_file *f = &d->files[j];

            r = pf_buf_appendf(b, "R:%s\n", f->name);
            if (r >= 0 && f->has_acl)
                r = render_acl(b, 'a', f->uid, f->gid, f->mode);
            if (r >= 0 && f->csum)
                r = pf_buf_appendf(b, "Z:%s\n", f->csum);
        }
    }
    if (r >= 0)
        r = pf_buf_appends(b, "\n");
    return r;
}

int worker_apk_db_render(const struct worker_apk_db *db, char **ret, size_t *ret_len)
{
    struct pf_buf b;
    int r = 0;

    pf_buf_init(&b, WORKER_APK_DB_MAX_TEXT);
    for (size_t i = 0; i < db->n && r >= 0; i++)
        r = render_pkg(&b, &db->v[i]);
    if (r >= 0 && !b.p)
        r = pf_buf_append(&b, "", 0);
    if (r < 0) {
        pf_buf_release(&b);
        return r;
    }
    *ret = pf_buf_steal(&b, ret_len);
    return *ret ? 0 : -ENOMEM;
}

struct worker_apk_pkg *worker_apk_db_find(const struct worker_apk_db *db, const char *name)
{
    for (size_t i = 0; i < db->n; i++)
        if (db->v[i].name && strcmp(db->v[i].name, name) == 0)
            return &db->v[i];
    return NULL;
}

static int copy_part(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return -EINVAL;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

int worker_apk_atom_parse(const char *s, struct worker_apk_atom *ret)
{
    struct worker_apk_atom a = {0};
    size_t n;

    if (*s == '!') {
        a.conflict = true;
        s++;
    }
    n = strcspn(s, "@=<>~");
    if (n == 0 || copy_part(a.name, sizeof(a.name), s, n) < 0)
        return -EINVAL;
    s += n;
    if (*s == '@') {
        s++;
        n = strcspn(s, "=<>~");
        if (n == 0 || copy_part(a.tag, sizeof(a.tag), s, n) < 0)
            return -EINVAL;
        s += n;
    }
    n = strspn(s, "=<>~");
    if (copy_part(a.op, sizeof(a.op), s, n) < 0)
        return -EINVAL;
    s += n;
    if (n > 0 && (*s == '\0' || copy_part(a.version, sizeof(a.version), s, strlen(s)) < 0))
        return -EINVAL;
    *ret = a;
    return 0;
}

static int copy_strv(struct pf_strv *dst, const struct pf_strv *src)
{
    return pf_strv_extend(dst, src);
}

static int copy_dirs(struct worker_apk_pkg *q, const struct worker_apk_pkg *p)
{
    if (p->n_dirs == 0)
        return 0;
    q->dirs = pf_calloc(p->n_dirs, sizeof(*q->dirs));
    if (!q->dirs)
        return -ENOMEM;
    for (size_t i = 0; i < p->n_dirs; i++) {
        const struct worker_apk_dir *d = &p->dirs[i];
        struct worker_apk_dir *e = &q->dirs[q->n_dirs++];

        *e = *d;
        e->files = NULL;
        e->n_files = 0;
        e->path = pf_strdup(d->path);
        if (!e->path)
            return -ENOMEM;
        if (d->n_files == 0)
            continue;
        e->files = pf_calloc(d->n_files, sizeof(*e->files));
        if (!e->files)
            return -ENOMEM;
        for (size_t j = 0; j < d->n_files; j++) {
            struct worker_apk_file *f = &e->files[e->n_files++];

            *f = d->files[j];
            f->name = pf_strdup(d->files[j].name);
            f->csum = d->files[j].csum ? pf_strdup(d->files[j].csum) : NULL;
            if (!f->name || (d->files[j].csum && !f->csum))
                return -ENOMEM;
        }
    }
    return 0;
}

int worker_apk_db_add_copy(struct worker_apk_db *db, const struct worker_apk_pkg *p)
{
    struct worker_apk_pkg *q = db_push(db);
    int r = 0;

    if (!q)
        return -ENOMEM;
#define DUP(f)                                                                                     \
    do {                                                                                           \
        if (p->f && !(q->f = pf_strdup(p->f)))                                                     \
            r = -ENOMEM;                                                                           \
    } while (0)
    DUP(name);
    DUP(version);
    DUP(arch);
    DUP(identity);
    DUP(origin);
#undef DUP
    q->uninstallable = p->uninstallable;
    q->repo = p->repo;
    if (r >= 0)
        r = copy_strv(&q->depends, &p->depends);
    if (r >= 0)
        r = copy_strv(&q->provides, &p->provides);
    if (r >= 0)
        r = copy_strv(&q->header, &p->header);
    if (r >= 0)
        r = copy_dirs(q, p);
    if (r < 0) {
        worker_apk_pkg_release(q);
        db->n--;
    }
    return r;
}

void worker_apk_q1(const unsigned char sha1[20], char out[31])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 2;

    out[0] = 'Q';
    out[1] = '1';
    for (size_t i = 0; i < 20; i += 3) {
        uint32_t v = (uint32_t)sha1[i] << 16;

        if (i + 1 < 20)
            v |= (uint32_t)sha1[i + 1] << 8;
        if (i + 2 < 20)
            v |= sha1[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < 20 ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < 20 ? b64[v & 63] : '=';
    }
    out[o] = '\0';
}
