/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for pf/archive.h. The entry-name check is a table: every rule of the union
 * (missing, too long, absolute, control characters, "..", too deep, the root, CANONICAL's
 * "." and empty components) has a case that is refused and, where a boundary exists, a case
 * just inside it that is accepted, so removing or loosening any one rule fails a row. Then
 * the reader and writer policy: only the filters asked for, reproducible gzip, unpadded ustar.
 */
#include "pf_test.h"

#include "pf/archive.h"

#define R PF_ARCHIVE_NAME_ROOT
#define C PF_ARCHIVE_NAME_CANONICAL

/* "<unit>" repeated n times, then `tail`; a new string. */
static char *repeat(const char *unit, size_t n, const char *tail)
{
    size_t ul = strlen(unit), tl = strlen(tail);
    char *s = pf_malloc(ul * n + tl + 1);

    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * ul, unit, ul);
    memcpy(s + ul * n, tail, tl + 1);
    return s;
}

static void entry_name_table(void **state)
{
    char *len_max = repeat("a", PF_ARCHIVE_NAME_MAX, "");
    char *len_over = repeat("a", PF_ARCHIVE_NAME_MAX + 1, "");
    char *len_max_slash = repeat("a", PF_ARCHIVE_NAME_MAX - 1, "/");
    char *depth_max = repeat("d/", PF_ARCHIVE_NAME_MAX_DEPTH - 1, "x");
    char *depth_over = repeat("d/", PF_ARCHIVE_NAME_MAX_DEPTH, "x");
    char *dots_not_depth = repeat("./", PF_ARCHIVE_NAME_MAX_DEPTH + 10, "x");
    const struct {
        const char *in;
        unsigned flags;
        int err;          /* 0: accepted */
        const char *want; /* accepted: the normal form; refused: part of the reason */
    } cases[] = {
        /* missing */
        {NULL, R, -EINVAL, "without a name"},
        /* length: the raw name, at most PF_ARCHIVE_NAME_MAX bytes */
        {len_max, R, 0, len_max},
        {len_max_slash, R, 0, NULL}, /* checked below: the trailing '/' is stripped */
        {len_over, R, -ENAMETOOLONG, "longer than 4096 bytes"},
        /* absolute */
        {"/etc/passwd", R, -EINVAL, "'/etc/passwd' is absolute"},
        {"/", R, -EINVAL, "absolute"},
        {"//etc", C, -EINVAL, "absolute"},
        /* control characters, anywhere, and only those */
        {"a\tb", R, -EINVAL, "control character"},
        {"a/b\n", R, -EINVAL, "control character"},
        {"\x01", R, -EINVAL, "control character"},
        {"del\x7f", C, -EINVAL, "control character"},
        {"caf\xc3\xa9 ~!", C, 0, "caf\xc3\xa9 ~!"},
        /* ".." components */
        {"../etc/passwd", R, -EINVAL, "'..' component"},
        {"a/../../b", R, -EINVAL, "'..' component"},
        {"ok/..", R, -EINVAL, "'..' component"},
        {"ok/../", C, -EINVAL, "'..' component"},
        {"..", R, -EINVAL, "'..' component"},
        {"..a/b..", C, 0, "..a/b.."},
        {"...", C, 0, "..."},
        /* depth: real components only */
        {depth_max, R, 0, NULL},
        {depth_over, R, -ENAMETOOLONG, "deeper than 256 components"},
        {dots_not_depth, R, 0, "x"},
        /* the root */
        {"./", R, 0, ""},
        {".", R, 0, ""},
        {"", R, 0, ""},
        {"./", 0, -EINVAL, "names the archive root"},
        {".//.", 0, -EINVAL, "names the archive root"},
        {"", C, -EINVAL, "names the archive root"},
        {"", C | R, 0, ""},
        /* normalisation, and CANONICAL refusing it */
        {"./usr//bin/./sh", R, 0, "usr/bin/sh"},
        {"./usr//bin/./sh", C, -EINVAL, "'.' component"},
        {"usr//bin", 0, 0, "usr/bin"},
        {"usr//bin", C, -EINVAL, "an empty component"},
        {"usr/./bin", C, -EINVAL, "a '.' component"},
        {"usr/.", C, -EINVAL, "a '.' component"},
        {".", C, -EINVAL, "a '.' component"},
        {"./usr", C, -EINVAL, "a '.' component"},
        {"usr/bin/", C, 0, "usr/bin"},
        {"usr/bin//", C, 0, "usr/bin"},
        {".hidden/.x", C, 0, ".hidden/.x"},
    };
    char *out = pf_malloc(PF_ARCHIVE_NAME_MAX + 1);

    (void)state;
    assert_non_null(out);
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        char eb[256] = "";
        int r = pf_archive_entry_name_normalise(cases[i].in, cases[i].flags, out, eb, sizeof(eb));

        if (r != cases[i].err)
            fail_msg("case %zu: %d, want %d (%s)", i, r, cases[i].err, eb);
        if (r == 0 && cases[i].want && strcmp(out, cases[i].want) != 0)
            fail_msg("case %zu: '%.80s', want '%.80s'", i, out, cases[i].want);
        if (r < 0 && !strstr(eb, cases[i].want))
            fail_msg("case %zu: '%s' does not say '%s'", i, eb, cases[i].want);
    }
    assert_int_equal(pf_archive_entry_name_normalise(len_max_slash, R, out, NULL, 0), 0);
    assert_int_equal(strlen(out), PF_ARCHIVE_NAME_MAX - 1);
    assert_int_equal(pf_archive_entry_name_normalise(depth_max, R, out, NULL, 0), 0);
    assert_string_equal(out, depth_max);
    pf_free(out);
    pf_free(len_max);
    pf_free(len_over);
    pf_free(len_max_slash);
    pf_free(depth_max);
    pf_free(depth_over);
    pf_free(dots_not_depth);
}

static void symlink_targets(void **state)
{
    char *max = repeat("t", PF_ARCHIVE_NAME_MAX, "");
    char *over = repeat("t", PF_ARCHIVE_NAME_MAX + 1, "");
    char eb[128];

    (void)state;
    assert_int_equal(pf_archive_entry_name_check_symlink(NULL, eb, sizeof(eb)), -EINVAL);
    assert_int_equal(pf_archive_entry_name_check_symlink("", eb, sizeof(eb)), -EINVAL);
    assert_string_equal(eb, "symlink target is empty");
    assert_int_equal(pf_archive_entry_name_check_symlink(over, eb, sizeof(eb)), -EINVAL);
    assert_string_equal(eb, "symlink target is longer than 4096 bytes");
    /* Targets are link text, not archive paths: absolute and ".." are allowed. */
    assert_int_equal(pf_archive_entry_name_check_symlink(max, NULL, 0), 0);
    assert_int_equal(pf_archive_entry_name_check_symlink("/usr/lib", NULL, 0), 0);
    assert_int_equal(pf_archive_entry_name_check_symlink("../../x", NULL, 0), 0);
    pf_free(max);
    pf_free(over);
}

static void filter_suffixes(void **state)
{
    (void)state;
    assert_int_equal(pf_archive_filter_by_suffix(""), 0);
    assert_int_equal(pf_archive_filter_by_suffix("gz"), PF_ARCHIVE_FILTER_GZIP);
    assert_int_equal(pf_archive_filter_by_suffix("xz"), PF_ARCHIVE_FILTER_XZ);
    assert_int_equal(pf_archive_filter_by_suffix("zst"), PF_ARCHIVE_FILTER_ZSTD);
    assert_int_equal(pf_archive_filter_by_suffix("bz2"), PF_ARCHIVE_FILTER_BZIP2);
    assert_int_equal(pf_archive_filter_by_suffix("lzma"), PF_ARCHIVE_FILTER_LZMA);
    assert_int_equal(pf_archive_filter_by_suffix("lz"), -ENOTSUP);
    assert_int_equal(pf_archive_filter_by_suffix("GZ"), -ENOTSUP);
    assert_int_equal(pf_archive_filter_by_suffix(NULL), -ENOTSUP);
}

static la_ssize_t to_buf(struct archive *a, void *userdata, const void *data, size_t len)
{
    (void)a;
    return pf_buf_append(userdata, data, len) < 0 ? -1 : (la_ssize_t)len;
}

/* One gzip stream of `text` from the reproducible writer. */
static void gzip_text(const char *text, struct pf_buf *out)
{
    struct archive *a = NULL;
    struct archive_entry *e = archive_entry_new();

    assert_non_null(e);
    assert_int_equal(pf_archive_write_new(PF_ARCHIVE_WRITE_GZIP_RAW, &a), 0);
    assert_int_equal(archive_write_open(a, out, NULL, to_buf, NULL), ARCHIVE_OK);
    archive_entry_set_filetype(e, AE_IFREG);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    assert_int_equal(archive_write_data(a, text, strlen(text)), (la_ssize_t)strlen(text));
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_entry_free(e);
    archive_write_free(a);
}

static void writer_gzip_reproducible_and_reader_filters(void **state)
{
    struct pf_buf one = PF_BUF_INIT, two = PF_BUF_INIT;
    struct archive *a = NULL;
    struct archive_entry *e;
    char got[64];
    la_ssize_t n;

    (void)state;
    gzip_text("hello, layer\n", &one);
    gzip_text("hello, layer\n", &two);
    assert_true(one.len > 18);
    assert_int_equal(one.len, two.len);
    assert_memory_equal(one.p, two.p, one.len);
    assert_int_equal((unsigned char)one.p[0], 0x1f);
    assert_int_equal((unsigned char)one.p[1], 0x8b);
    assert_memory_equal(one.p + 4, "\0\0\0\0", 4); /* no timestamp */

    /* A reader with gzip reads it back ... */
    assert_int_equal(pf_archive_read_new(PF_ARCHIVE_FILTER_GZIP, PF_ARCHIVE_FORMAT_RAW, &a), 0);
    assert_int_equal(archive_read_open_memory(a, one.p, one.len), ARCHIVE_OK);
    assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_OK);
    n = archive_read_data(a, got, sizeof(got));
    assert_int_equal(n, 13);
    assert_memory_equal(got, "hello, layer\n", 13);
    archive_read_free(a);
    /* ... one without it does not decompress: it sees the gzip bytes themselves. */
    assert_int_equal(pf_archive_read_new(PF_ARCHIVE_FILTER_ZSTD, PF_ARCHIVE_FORMAT_RAW, &a), 0);
    assert_int_equal(archive_read_open_memory(a, one.p, one.len), ARCHIVE_OK);
    assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_OK);
    n = archive_read_data(a, got, sizeof(got));
    assert_int_equal(n, (la_ssize_t)one.len);
    archive_read_free(a);
    /* and a tar-only reader refuses what is not a tar. */
    assert_int_equal(pf_archive_read_new(0, PF_ARCHIVE_FORMAT_TAR, &a), 0);
    assert_int_equal(archive_read_open_memory(a, "not a tar", 9), ARCHIVE_FATAL);
    assert_non_null(pf_archive_error(a));
    archive_read_free(a);
    assert_string_equal(pf_archive_error(NULL), "unknown error");
    pf_buf_release(&one);
    pf_buf_release(&two);
}

static void writer_ustar_unpadded(void **state)
{
    struct pf_buf b = PF_BUF_INIT;
    struct archive *a = NULL;
    struct archive_entry *e = archive_entry_new();

    (void)state;
    assert_non_null(e);
    assert_int_equal(pf_archive_write_new(PF_ARCHIVE_WRITE__MAX, &a), -EINVAL);
    assert_int_equal(pf_archive_write_new(PF_ARCHIVE_WRITE_USTAR, &a), 0);
    assert_int_equal(archive_write_open(a, &b, NULL, to_buf, NULL), ARCHIVE_OK);
    archive_entry_set_pathname(e, "x");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 1);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    assert_int_equal(archive_write_data(a, "y", 1), 1);
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    /* header + one data block + the two-block trailer, not padded to 10240 */
    assert_int_equal(b.len, 4 * 512);
    assert_memory_equal(b.p + 257, "ustar", 5);
    archive_entry_free(e);
    archive_write_free(a);
    pf_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(entry_name_table),
        cmocka_unit_test(symlink_targets),
        cmocka_unit_test(filter_suffixes),
        cmocka_unit_test(writer_gzip_reproducible_and_reader_filters),
        cmocka_unit_test(writer_ustar_unpadded),
    };

    return cmocka_run_group_tests_name("archive", tests, NULL, NULL);
}
