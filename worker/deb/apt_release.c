/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Release parsing and index verification for the apt patch path. The text comes from gpgv's
 * --output (worker/gpgv.c), so it is signed, but it is still parsed as hostile: one deb822
 * stanza (worker/deb822.c does the line rules and limits), strict RFC 2822 dates, and strict
 * " <64 hex> <size> <path>" hash lines. Only the SHA256 list is kept; MD5Sum and SHA1 are
 * ignored because they prove nothing, which is also why a Release without SHA256 is refused.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "pf/digest.h"
#include "deb/apt_release.h"
#include "deb/deb822.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads minlen..maxlen decimal digits at *p. */
static bool read_uint(const char **p, int minlen, int maxlen, int *ret)
{
    int v = 0, n = 0;

    while (n < maxlen && is_digit((*p)[n])) {
        v = v * 10 + ((*p)[n] - '0');
        n++;
    }
    if (n < minlen || is_digit((*p)[n]))
        return false;
    *p += n;
    *ret = v;
    return true;
}

static bool skip_blanks(const char **p)
{
    const char *s = *p;

    while (is_blank(**p))
        (*p)++;
    return *p != s;
}

/* Parses the zone of an RFC 2822 date into seconds east of UTC. */
static bool parse_zone(const char *p, long *ret)
{
    int hh, mm;
    char sign = *p;

    if (strcmp(p, "UTC") == 0 || strcmp(p, "GMT") == 0 || strcmp(p, "Z") == 0) {
        *ret = 0;
        return true;
    }
    if (sign != '+' && sign != '-')
        return false;
    p++;
    if (strlen(p) != 4 || !is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]) || !is_digit(p[3]))
        return false;
    hh = (p[0] - '0') * 10 + (p[1] - '0');
    mm = (p[2] - '0') * 10 + (p[3] - '0');
    if (hh > 23 || mm > 59)
        return false;
    *ret = (sign == '-' ? -1 : 1) * (long)(hh * 3600 + mm * 60);
    return true;
}

/*
 * Parses "[Day, ]DD Mon YYYY HH:MM:SS ZONE" as Release files write it ("Sat, 25 Nov 2026
 * 10:00:00 UTC", apt-ftparchive's "+0000"). The weekday is not checked; impossible dates are.
 */
static bool parse_date(const char *s, time_t *ret)
{
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm = {0};
    const char *p = s;
    int day, year, hh, mi, ss, mon = -1;
    long zone;
    char zbuf[8];
    size_t zlen;
    time_t t;

    if (!is_digit(*p)) {
        const char *comma = strchr(p, ',');
        if (!comma || comma - p != 3)
            return false;
        p = comma + 1;
        (void)skip_blanks(&p);
    }
    if (!read_uint(&p, 1, 2, &day) || !skip_blanks(&p))
        return false;
    for (int i = 0; i < 12; i++)
        if (strncmp(p, months[i], 3) == 0)
            mon = i;
    if (mon < 0)
        return false;
    p += 3;
    if (!skip_blanks(&p) || !read_uint(&p, 4, 4, &year) || !skip_blanks(&p))
        return false;
    if (!read_uint(&p, 2, 2, &hh) || *p++ != ':' || !read_uint(&p, 2, 2, &mi) || *p++ != ':' ||
        !read_uint(&p, 2, 2, &ss) || !skip_blanks(&p))
        return false;
    zlen = strcspn(p, " \t");
    if (zlen == 0 || zlen >= sizeof(zbuf) || p[zlen + strspn(p + zlen, " \t")] != '\0')
        return false;
    memcpy(zbuf, p, zlen);
    zbuf[zlen] = '\0';
    if (!parse_zone(zbuf, &zone) || hh > 23 || mi > 59 || ss > 60 || day < 1 || year < 1970)
        return false;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mi;
    tm.tm_sec = ss;
    t = timegm(&tm);
    /* timegm() normalises 31 Feb to 3 Mar; a changed day means the date did not exist. */
    if (t == (time_t)-1 || tm.tm_mday != day || tm.tm_mon != mon)
        return false;
    *ret = t - (time_t)zone;
    return true;
}

/* Splits a whitespace-separated field value into `ret`. */
static int split_words(const char *value, struct pf_strv *ret)
{
    const char *p = value;

    while (p && *p) {
        size_t n;
        char *w;
        int r;

        p += strspn(p, " \t\n");
        n = strcspn(p, " \t\n");
        if (n == 0)
            break;
        w = pf_strndup(p, n);
        if (!w)
            return -ENOMEM;
        r = pf_strv_push_take(ret, w);
        if (r < 0)
            return r;
        p += n;
    }
    return 0;
}

/* A listed path is a lookup key that callers turn into URLs and file names: keep it tame. */
static bool path_ok(const char *p, size_t n)
{
    if (n == 0 || p[0] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c == 0x7f)
            return false;
        if (c == '.' && i + 1 < n && p[i + 1] == '.' && (i == 0 || p[i - 1] == '/') &&
            (i + 2 == n || p[i + 2] == '/'))
            return false;
    }
    return true;
}

/* Parses one " <hex> <size> <path>" line (`n` bytes, no newline) into `f`. */
static int parse_hash_line(const char *line, size_t n, struct worker_apt_release_file *f)
{
    const char *p = line, *end = line + n, *tok;
    char num[24];
    char *numend;
    size_t tlen;
    unsigned long long size;

    while (p < end && is_blank(*p))
        p++;
    for (tlen = 0; p + tlen < end && !is_blank(p[tlen]); tlen++)
        ;
    if (tlen != 64)
        return -EINVAL;
    for (size_t i = 0; i < 64; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!is_digit(c) && !(c >= 'a' && c <= 'f'))
            return -EINVAL;
        f->sha256[i] = c;
    }
    f->sha256[64] = '\0';
    p += 64;
    while (p < end && is_blank(*p))
        p++;
    for (tlen = 0; p + tlen < end && is_digit(p[tlen]); tlen++)
        ;
    if (tlen == 0 || tlen >= sizeof(num) || p + tlen == end || !is_blank(p[tlen]))
        return -EINVAL;
    memcpy(num, p, tlen);
    num[tlen] = '\0';
    errno = 0;
    size = strtoull(num, &numend, 10);
    if (errno != 0 || *numend != '\0')
        return -EINVAL;
    p += tlen;
    while (p < end && is_blank(*p))
        p++;
    tok = p;
    for (tlen = 0; p + tlen < end && !is_blank(p[tlen]); tlen++)
        ;
    for (const char *q = tok + tlen; q < end; q++)
        if (!is_blank(*q))
            return -EINVAL;
    if (!path_ok(tok, tlen))
        return -EINVAL;
    f->path = pf_strndup(tok, tlen);
    if (!f->path)
        return -ENOMEM;
    f->size = (uint64_t)size;
    return 0;
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct worker_apt_release_file *)a)->path,
                  ((const struct worker_apt_release_file *)b)->path);
}

/* Fills rel->files from the SHA256 field value, sorted by path; duplicates are refused. */
static int parse_sha256(struct worker_apt_release *rel, const char *value, char *errbuf,
                        size_t errlen)
{
    size_t cap = 1, line = 0;

    for (const char *q = value; *q; q++)
        cap += *q == '\n';
    rel->files = pf_calloc(cap, sizeof(*rel->files));
    if (!rel->files)
        return -ENOMEM;
    for (const char *p = value; p; line++) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        int r;

        if (strspn(p, " \t") < n) {
            r = parse_hash_line(p, n, &rel->files[rel->n_files]);
            if (r == -EINVAL)
                (void)pf_set_error(errbuf, errlen, 0, "malformed SHA256 entry %zu of Release",
                                   line);
            if (r < 0)
                return r;
            rel->n_files++;
        }
        p = nl ? nl + 1 : NULL;
    }
    if (rel->n_files == 0) {
        (void)pf_set_error(errbuf, errlen, 0, "Release has an empty SHA256 list");
        return -EBADMSG;
    }
    qsort(rel->files, rel->n_files, sizeof(*rel->files), cmp_file);
    for (size_t i = 1; i < rel->n_files; i++) {
        if (strcmp(rel->files[i - 1].path, rel->files[i].path) == 0) {
            (void)pf_set_error(errbuf, errlen, 0, "Release lists '%s' twice", rel->files[i].path);
            return -EINVAL;
        }
    }
    return 0;
}

static int dup_field(const struct worker_deb822_para *para, const char *name, char **ret)
{
    const char *v = worker_deb822_para_get(para, name);

    if (!v)
        return 0;
    *ret = pf_strdup(v);
    return *ret ? 0 : -ENOMEM;
}

static int fill_dates(struct worker_apt_release *rel, const struct worker_deb822_para *para,
                      char *errbuf, size_t errlen)
{
    static const char *const names[] = {"Date", "Valid-Until"};
    time_t *dst[] = {&rel->date, &rel->valid_until};

    for (size_t i = 0; i < PF_ARRAY_SIZE(names); i++) {
        const char *v = worker_deb822_para_get(para, names[i]);
        if (v && !parse_date(v, dst[i])) {
            (void)pf_set_error(errbuf, errlen, 0, "Release has a malformed %s date", names[i]);
            return -EINVAL;
        }
    }
    return 0;
}

static int fill(struct worker_apt_release *rel, const struct worker_deb822_para *para, char *errbuf,
                size_t errlen)
{
    const char *abh = worker_deb822_para_get(para, "Acquire-By-Hash");
    const char *sha = worker_deb822_para_get(para, "SHA256");
    int r = 0;

    r = dup_field(para, "Origin", &rel->origin);
    r = r ? r : dup_field(para, "Label", &rel->label);
    r = r ? r : dup_field(para, "Suite", &rel->suite);
    r = r ? r : dup_field(para, "Codename", &rel->codename);
    r = r ? r : split_words(worker_deb822_para_get(para, "Architectures"), &rel->architectures);
    r = r ? r : split_words(worker_deb822_para_get(para, "Components"), &rel->components);
    if (r < 0)
        return r;
    rel->acquire_by_hash = abh && strcasecmp(abh, "yes") == 0;
    r = fill_dates(rel, para, errbuf, errlen);
    if (r < 0)
        return r;
    if (!sha) {
        (void)pf_set_error(errbuf, errlen, 0, "Release has no SHA256 list");
        return -EBADMSG;
    }
    return parse_sha256(rel, sha, errbuf, errlen);
}

/* See apt_release.h. */
int worker_apt_release_parse(const char *text, size_t len, struct worker_apt_release **ret,
                             char *errbuf, size_t errlen)
{
    struct worker_deb822_opts opts = {
        .max_input = WORKER_APT_RELEASE_MAX,
        .max_paras = 2,
        .max_para_bytes = WORKER_APT_RELEASE_MAX,
    };
    struct worker_deb822_doc doc = WORKER_DEB822_DOC_INIT;
    struct worker_apt_release *rel = NULL;
    char msg[200] = "";
    int r;

    if ((!text && len > 0) || !ret)
        return -EINVAL;
    r = worker_deb822_parse(text ? text : "", len, &opts, &doc, msg, sizeof(msg));
    if (r < 0) {
        (void)pf_set_error(errbuf, errlen, 0, "cannot parse Release: %s", msg);
        goto out;
    }
    if (doc.n != 1) {
        (void)pf_set_error(errbuf, errlen, 0, "Release has %zu stanzas, expected one", doc.n);
        r = -EINVAL;
        goto out;
    }
    rel = pf_calloc(1, sizeof(*rel));
    if (!rel) {
        r = -ENOMEM;
        goto out;
    }
    r = fill(rel, &doc.paras[0], errbuf, errlen);
    if (r < 0)
        goto out;
    *ret = rel;
    rel = NULL;
out:
    (void)worker_apt_release_free(rel);
    worker_deb822_doc_clear(&doc);
    return r;
}

/* See apt_release.h. */
struct worker_apt_release *worker_apt_release_free(struct worker_apt_release *rel)
{
    if (!rel)
        return NULL;
    pf_free(rel->origin);
    pf_free(rel->label);
    pf_free(rel->suite);
    pf_free(rel->codename);
    pf_strv_clear(&rel->architectures);
    pf_strv_clear(&rel->components);
    for (size_t i = 0; rel->files && i < rel->n_files; i++)
        pf_free(rel->files[i].path);
    pf_free(rel->files);
    return pf_free(rel);
}

/* See apt_release.h. */
int worker_apt_release_check_valid_until(const struct worker_apt_release *rel, time_t now,
                                         char *errbuf, size_t errlen)
{
    if (!rel)
        return -EINVAL;
    if (rel->valid_until != 0 && now >= rel->valid_until) {
        (void)pf_set_error(errbuf, errlen, 0, "Release expired %lld seconds ago (Valid-Until)",
                           (long long)now - (long long)rel->valid_until);
        return -ESTALE;
    }
    if (rel->date != 0 && rel->date > now && rel->date - now > WORKER_APT_RELEASE_MAX_FUTURE) {
        (void)pf_set_error(errbuf, errlen, 0, "Release Date is %lld seconds in the future",
                           (long long)rel->date - (long long)now);
        return -ERANGE;
    }
    return 0;
}

static const struct worker_apt_release_file *find(const struct worker_apt_release *rel,
                                                  const char *path)
{
    struct worker_apt_release_file key = {.path = (char *)(uintptr_t)path};

    if (!rel || !path || rel->n_files == 0)
        return NULL;
    return bsearch(&key, rel->files, rel->n_files, sizeof(*rel->files), cmp_file);
}

/* See apt_release.h. */
int worker_apt_release_find(const struct worker_apt_release *rel, const char *path,
                            const char **ret_hex, uint64_t *ret_size)
{
    const struct worker_apt_release_file *f = find(rel, path);

    if (!f)
        return -ENOENT;
    if (ret_hex)
        *ret_hex = f->sha256;
    if (ret_size)
        *ret_size = f->size;
    return 0;
}

/* See apt_release.h. */
int worker_apt_verify_index(const struct worker_apt_release *rel, const char *path,
                            const void *data, size_t len, char *errbuf, size_t errlen)
{
    const struct worker_apt_release_file *f = find(rel, path);
    char digest[PF_DIGEST_BUFSZ];
    const char *hex;
    int r;

    if (!f) {
        (void)pf_set_error(errbuf, errlen, 0, "Release does not list '%s'", path ? path : "(null)");
        return -ENOENT;
    }
    if ((uint64_t)len != f->size) {
        (void)pf_set_error(errbuf, errlen, 0, "'%s' has %zu bytes, Release says %llu", path, len,
                           (unsigned long long)f->size);
        return -EBADMSG;
    }
    r = pf_sha256_digest(data ? data : "", len, digest);
    if (r < 0) {
        (void)pf_set_error(errbuf, errlen, 0, "cannot hash '%s'", path);
        return r;
    }
    hex = pf_digest_sha256_hex(digest);
    if (!hex || strcmp(hex, f->sha256) != 0) {
        (void)pf_set_error(errbuf, errlen, 0, "'%s' has SHA256 %s, Release says %s", path,
                           hex ? hex : "(none)", f->sha256);
        return -EBADMSG;
    }
    return 0;
}

/* See apt_release.h. */
int worker_apt_release_by_hash_path(const struct worker_apt_release *rel, const char *path,
                                    char **ret)
{
    const struct worker_apt_release_file *f = find(rel, path);
    const char *slash;
    char *p;

    if (!f || !ret)
        return -ENOENT;
    slash = strrchr(f->path, '/');
    if (slash)
        p = pf_asprintf("%.*s/by-hash/SHA256/%s", (int)(slash - f->path), f->path, f->sha256);
    else
        p = pf_asprintf("by-hash/SHA256/%s", f->sha256);
    if (!p)
        return -ENOMEM;
    *ret = p;
    return 0;
}
