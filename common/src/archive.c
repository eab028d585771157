/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libarchive wrapper (see pf/archive.h): reader and writer setup with the shared policy,
 * and the one entry-name check for hostile tars. Each setting is checked for ARCHIVE_OK, not
 * just "not fatal": libarchive answers ARCHIVE_WARN when it falls back to an external program,
 * and that is exactly what must not happen with hostile input or reproducible output.
 */
#include "pf/setup.h"

#include <string.h>

#include "pf/archive.h"
#include "pf/err.h"

int pf_archive_read_new(unsigned filters, unsigned formats, struct archive **ret)
{
    struct archive *a = archive_read_new();
    bool ok = true;

    if (!a)
        return -ENOMEM;
    if (filters & PF_ARCHIVE_FILTER_GZIP)
        ok = ok && archive_read_support_filter_gzip(a) == ARCHIVE_OK;
    if (filters & PF_ARCHIVE_FILTER_ZSTD)
        ok = ok && archive_read_support_filter_zstd(a) == ARCHIVE_OK;
    if (filters & PF_ARCHIVE_FILTER_XZ)
        ok = ok && archive_read_support_filter_xz(a) == ARCHIVE_OK;
    if (filters & PF_ARCHIVE_FILTER_BZIP2)
        ok = ok && archive_read_support_filter_bzip2(a) == ARCHIVE_OK;
    if (filters & PF_ARCHIVE_FILTER_LZMA)
        ok = ok && archive_read_support_filter_lzma(a) == ARCHIVE_OK;
    if (formats & PF_ARCHIVE_FORMAT_TAR)
        ok = ok && archive_read_support_format_tar(a) == ARCHIVE_OK;
    if (formats & PF_ARCHIVE_FORMAT_RAW)
        ok = ok && archive_read_support_format_raw(a) == ARCHIVE_OK;
    if (formats & PF_ARCHIVE_FORMAT_EMPTY)
        ok = ok && archive_read_support_format_empty(a) == ARCHIVE_OK;
    if (!ok) {
        archive_read_free(a);
        return -ENOTSUP;
    }
    *ret = a;
    return 0;
}

int pf_archive_filter_by_suffix(const char *suffix)
{
    static const struct {
        const char *suffix;
        unsigned filter;
    } map[] = {
        {"", 0},
        {"gz", PF_ARCHIVE_FILTER_GZIP},
        {"xz", PF_ARCHIVE_FILTER_XZ},
        {"zst", PF_ARCHIVE_FILTER_ZSTD},
        {"bz2", PF_ARCHIVE_FILTER_BZIP2},
        {"lzma", PF_ARCHIVE_FILTER_LZMA},
    };

    for (size_t i = 0; suffix && i < PF_ARRAY_SIZE(map); i++)
        if (strcmp(suffix, map[i].suffix) == 0)
            return (int)map[i].filter;
    return -ENOTSUP;
}

static bool setup_gzip_raw(struct archive *a)
{
    return archive_write_add_filter_gzip(a) == ARCHIVE_OK &&
           archive_write_set_format_raw(a) == ARCHIVE_OK &&
           archive_write_set_filter_option(a, "gzip", "timestamp", NULL) == ARCHIVE_OK &&
           archive_write_set_filter_option(a, "gzip", "compression-level", "6") == ARCHIVE_OK &&
           archive_write_set_bytes_per_block(a, 0) == ARCHIVE_OK;
}

static bool setup_ustar(struct archive *a)
{
    return archive_write_set_format_ustar(a) == ARCHIVE_OK &&
           archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK;
}

int pf_archive_write_new(enum pf_archive_writer kind, struct archive **ret)
{
    struct archive *a;
    bool ok;

    if ((unsigned)kind >= PF_ARCHIVE_WRITE__MAX)
        return -EINVAL;
    a = archive_write_new();
    if (!a)
        return -ENOMEM;
    ok = kind == PF_ARCHIVE_WRITE_GZIP_RAW ? setup_gzip_raw(a) : setup_ustar(a);
    if (!ok) {
        archive_write_free(a);
        return -EIO;
    }
    *ret = a;
    return 0;
}

const char *pf_archive_error(struct archive *a)
{
    const char *s = a ? archive_error_string(a) : NULL;

    return s ? s : "unknown error";
}

/* Refuses what can be refused on the raw name: length, absolute, control characters. */
static int name_precheck(const char *in, char *errbuf, size_t errlen)
{
    if (strlen(in) > PF_ARCHIVE_NAME_MAX)
        return pf_set_error(errbuf, errlen, -ENAMETOOLONG, "'%.64s...' is longer than %u bytes", in,
                            PF_ARCHIVE_NAME_MAX);
    if (in[0] == '/')
        return pf_set_error(errbuf, errlen, -EINVAL, "'%s' is absolute", in);
    for (const unsigned char *p = (const unsigned char *)in; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return pf_set_error(errbuf, errlen, -EINVAL, "'%s' contains a control character", in);
    return 0;
}

int pf_archive_entry_name_normalise(const char *in, unsigned flags,
                                    char out[PF_ARCHIVE_NAME_MAX + 1], char *errbuf, size_t errlen)
{
    bool canonical = flags & PF_ARCHIVE_NAME_CANONICAL;
    size_t end, n = 0, depth = 0;
    const char *p;
    int r;

    if (!in)
        return pf_set_error(errbuf, errlen, -EINVAL, "entry without a name");
    r = name_precheck(in, errbuf, errlen);
    if (r < 0)
        return r;
    end = strlen(in);
    while (end > 0 && in[end - 1] == '/')
        end--; /* a directory's trailing '/' (the only '/' a name may end with) */
    for (p = in; p < in + end;) {
        const char *slash = memchr(p, '/', (size_t)(in + end - p));
        size_t c = slash ? (size_t)(slash - p) : (size_t)(in + end - p);

        if (c == 2 && p[0] == '.' && p[1] == '.')
            return pf_set_error(errbuf, errlen, -EINVAL, "'%s' has a '..' component", in);
        if (c == 0 || (c == 1 && p[0] == '.')) {
            if (canonical)
                return pf_set_error(errbuf, errlen, -EINVAL, "'%s' has %s component", in,
                                    c ? "a '.'" : "an empty");
        } else {
            if (++depth > PF_ARCHIVE_NAME_MAX_DEPTH)
                return pf_set_error(errbuf, errlen, -ENAMETOOLONG,
                                    "'%.64s...' is deeper than %u components", in,
                                    PF_ARCHIVE_NAME_MAX_DEPTH);
            if (n)
                out[n++] = '/';
            memcpy(out + n, p, c);
            n += c;
        }
        p += c + (slash ? 1 : 0);
    }
    out[n] = '\0';
    if (n == 0 && !(flags & PF_ARCHIVE_NAME_ROOT))
        return pf_set_error(errbuf, errlen, -EINVAL, "'%s' names the archive root", in);
    return 0;
}

int pf_archive_entry_name_check_symlink(const char *target, char *errbuf, size_t errlen)
{
    if (!target || !*target)
        return pf_set_error(errbuf, errlen, -EINVAL, "symlink target is empty");
    if (strlen(target) > PF_ARCHIVE_NAME_MAX)
        return pf_set_error(errbuf, errlen, -EINVAL, "symlink target is longer than %u bytes",
                            PF_ARCHIVE_NAME_MAX);
    return 0;
}
