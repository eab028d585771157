/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the deterministic layer writer: byte-identical output whatever the insertion
 * order, readback of every field through libarchive, digests against independent hashes,
 * the fixed gzip header, path validation, duplicates, dangling hard links and streamed content.
 */
#include "pf_test.h"

#include "pf/archive.h"
#include <unistd.h>

#include "pf/digest.h"
#include "image/layer_writer.h"

#define BIG_SIZE (20u * 1024 * 1024)

static const struct worker_layer_attr dir_attr = {.mode = 0755};
static const struct worker_layer_attr file_attr = {.mode = 0644, .uid = 1000, .gid = 100};
static const struct worker_layer_attr exec_attr = {.mode = 04755, .uid = 0, .gid = 0};

static int temp_fd(FILE **ret)
{
    FILE *f = tmpfile();

    assert_non_null(f);
    *ret = f;
    return fileno(f);
}

/* Reads all of `fd` from offset 0 into a new buffer. */
static unsigned char *read_all(int fd, size_t *ret_len)
{
    off_t end = lseek(fd, 0, SEEK_END);
    unsigned char *p;

    assert_true(end >= 0);
    p = pf_malloc((size_t)end + 1);
    assert_non_null(p);
    assert_int_equal(pread(fd, p, (size_t)end, 0), end);
    *ret_len = (size_t)end;
    return p;
}

/* One operation of the sample layer, so it can be applied in any order. */
static void sample_op(struct worker_layer_writer *w, int i, int fd)
{
    int r = 0;

    switch (i) {
    case 0:
        r = worker_layer_writer_add_dir(w, "etc", &dir_attr);
        break;
    case 1:
        r = worker_layer_writer_add_file_mem(w, "etc/os-release", &file_attr, "ID=x\n", 5);
        break;
    case 2:
        r = worker_layer_writer_add_dir(w, "a", &dir_attr);
        break;
    case 3:
        r = worker_layer_writer_add_file_mem(w, "a/b", &exec_attr, "bee", 3);
        break;
    case 4:
        r = worker_layer_writer_add_file_mem(w, "a.b", &file_attr, "", 0);
        break;
    case 5:
        r = worker_layer_writer_add_symlink(w, "a/link", &file_attr, "../etc/os-release");
        break;
    case 6:
        r = worker_layer_writer_add_hardlink(w, "a/hard", "a/b");
        break;
    case 7:
        r = worker_layer_writer_add_whiteout(w, "a/zzz");
        break;
    case 8:
        r = worker_layer_writer_add_opaque(w, "a");
        break;
    case 9:
        r = worker_layer_writer_add_whiteout(w, "gone");
        break;
    case 10:
        r = worker_layer_writer_add_file_fd(w, "a/fromfd", &file_attr, fd, 3, 4);
        break;
    default:
        fail();
    }
    assert_int_equal(r, 0);
}

#define SAMPLE_OPS 11

/* Builds the sample layer applying ops in forward or reverse order; returns the blob. */
static unsigned char *build_sample(bool reverse, struct worker_layer_result *res, size_t *ret_len)
{
    struct worker_layer_writer *w = NULL;
    FILE *src, *out;
    int src_fd = temp_fd(&src), out_fd = temp_fd(&out);
    unsigned char *blob;

    assert_int_equal(write(src_fd, "xxxDATAyyy", 10), 10);
    assert_int_equal(worker_layer_writer_new(0, &w), 0);
    for (int i = 0; i < SAMPLE_OPS; i++)
        sample_op(w, reverse ? SAMPLE_OPS - 1 - i : i, src_fd);
    assert_int_equal(worker_layer_writer_finish(w, out_fd, res), 0);
    w = worker_layer_writer_free(w);
    blob = read_all(out_fd, ret_len);
    fclose(src);
    fclose(out);
    return blob;
}

static void same_bytes_any_order(void **state)
{
    struct worker_layer_result r1, r2;
    size_t n1, n2;
    unsigned char *b1, *b2;

    (void)state;
    b1 = build_sample(false, &r1, &n1);
    b2 = build_sample(true, &r2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    assert_string_equal(r1.digest, r2.digest);
    assert_string_equal(r1.diff_id, r2.diff_id);
    assert_int_equal(r1.size, n1);
    pf_free(b1);
    pf_free(b2);
}

/* Decompresses a gzip blob with libarchive's raw reader. */
static unsigned char *gunzip(const unsigned char *blob, size_t len, size_t *ret_len)
{
    struct archive *a = archive_read_new();
    struct archive_entry *ae;
    struct pf_buf out = PF_BUF_INIT;
    char chunk[65536];
    la_ssize_t n;

    assert_non_null(a);
    assert_int_equal(archive_read_support_filter_gzip(a), ARCHIVE_OK);
    assert_int_equal(archive_read_support_format_raw(a), ARCHIVE_OK);
    assert_int_equal(archive_read_open_memory(a, blob, len), ARCHIVE_OK);
    assert_int_equal(archive_read_next_header(a, &ae), ARCHIVE_OK);
    while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0)
        assert_int_equal(pf_buf_append(&out, chunk, (size_t)n), 0);
    assert_int_equal(n, 0);
    archive_read_free(a);
    return (unsigned char *)pf_buf_steal(&out, ret_len);
}

static void digests_and_gzip_header(void **state)
{
    struct worker_layer_result res;
    char want[PF_DIGEST_BUFSZ];
    size_t n, tar_len;
    unsigned char *blob = build_sample(false, &res, &n), *tar;
    static const unsigned char hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};

    (void)state;
    assert_memory_equal(blob, hdr, sizeof(hdr));
    assert_int_equal(pf_sha256_digest(blob, n, want), 0);
    assert_string_equal(res.digest, want);
    assert_int_equal(res.size, n);
    tar = gunzip(blob, n, &tar_len);
    assert_int_equal(res.uncompressed_size, tar_len);
    assert_int_equal(tar_len % 512, 0);
    assert_int_equal(pf_sha256_digest(tar, tar_len, want), 0);
    assert_string_equal(res.diff_id, want);
    /* ustar magic, empty uname/gname, mtime 0 in the first header. */
    assert_memory_equal(tar + 257,
                        "ustar\0"
                        "00",
                        8);
    assert_int_equal(tar[265], 0);
    assert_int_equal(tar[297], 0);
    assert_memory_equal(tar + 136, "00000000000", 12);
    pf_free(tar);
    pf_free(blob);
}

struct want_entry {
    const char *name;
    unsigned type; /* AE_IF* */
    unsigned mode;
    int64_t uid, gid;
    const char *content; /* regular files */
    const char *symlink;
    const char *hardlink;
};

/* Reads the tar.gz in `blob` and compares it entry by entry with `want`. */
static void expect_entries(const unsigned char *blob, size_t len, int64_t mtime,
                           const struct want_entry *want, size_t n_want)
{
    struct archive *a = archive_read_new();
    struct archive_entry *ae;
    size_t i = 0;

    assert_int_equal(archive_read_support_filter_gzip(a), ARCHIVE_OK);
    assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
    assert_int_equal(archive_read_open_memory(a, blob, len), ARCHIVE_OK);
    while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
        const struct want_entry *e = &want[i];
        char data[64] = {0};

        assert_true(i < n_want);
        assert_string_equal(archive_entry_pathname(ae), e->name);
        if (e->hardlink) {
            assert_string_equal(archive_entry_hardlink(ae), e->hardlink);
        } else {
            assert_int_equal(archive_entry_filetype(ae), e->type);
        }
        assert_int_equal(archive_entry_perm(ae), e->mode);
        assert_int_equal(archive_entry_uid(ae), e->uid);
        assert_int_equal(archive_entry_gid(ae), e->gid);
        assert_int_equal(archive_entry_mtime(ae), mtime);
        assert_false(archive_entry_atime_is_set(ae));
        assert_false(archive_entry_ctime_is_set(ae));
        /* Empty uname/gname fields read back as "" or NULL depending on the reader. */
        assert_true(!archive_entry_uname(ae) || !*archive_entry_uname(ae));
        assert_true(!archive_entry_gname(ae) || !*archive_entry_gname(ae));
        if (e->symlink)
            assert_string_equal(archive_entry_symlink(ae), e->symlink);
        if (e->content) {
            assert_int_equal(archive_entry_size(ae), strlen(e->content));
            assert_int_equal(archive_read_data(a, data, sizeof(data) - 1), strlen(e->content));
            assert_string_equal(data, e->content);
        }
        i++;
    }
    assert_int_equal(i, n_want);
    archive_read_free(a);
}

/* Whiteouts rank before their siblings, the opaque one first; then components compare
 * bytewise, a parent before its subtree and the subtree before "a.b". */
static void readback_sorted(void **state)
{
    static const struct want_entry want[] = {
        {".wh.gone", AE_IFREG, 0644, 0, 0, "", NULL, NULL},
        {"a/", AE_IFDIR, 0755, 0, 0, NULL, NULL, NULL},
        {"a/.wh..wh..opq", AE_IFREG, 0644, 0, 0, "", NULL, NULL},
        {"a/.wh.zzz", AE_IFREG, 0644, 0, 0, "", NULL, NULL},
        {"a/b", AE_IFREG, 04755, 0, 0, "bee", NULL, NULL},
        {"a/fromfd", AE_IFREG, 0644, 1000, 100, "DATA", NULL, NULL},
        {"a/hard", AE_IFREG, 04755, 0, 0, NULL, NULL, "a/b"},
        {"a/link", AE_IFLNK, 0644, 1000, 100, NULL, "../etc/os-release", NULL},
        {"a.b", AE_IFREG, 0644, 1000, 100, "", NULL, NULL},
        {"etc/", AE_IFDIR, 0755, 0, 0, NULL, NULL, NULL},
        {"etc/os-release", AE_IFREG, 0644, 1000, 100, "ID=x\n", NULL, NULL},
    };
    struct worker_layer_result res;
    size_t n;
    unsigned char *blob = build_sample(true, &res, &n);

    (void)state;
    expect_entries(blob, n, 0, want, PF_ARRAY_SIZE(want));
    pf_free(blob);
}

static void long_names_ids_and_mtime(void **state)
{
    static const struct worker_layer_attr big_ids = {.mode = 0600, .uid = 3000000, .gid = 70000};
    char deep[400], longname[300], target[300];
    struct worker_layer_writer *w = NULL;
    struct worker_layer_result res;
    FILE *out;
    int out_fd = temp_fd(&out);
    size_t n;
    unsigned char *blob;

    (void)state;
    /* 120 bytes: fits the ustar prefix/name split. */
    snprintf(deep, sizeof(deep), "%s/%s", "d1234567890123456789012345678901234567890",
             "f1234567890123456789012345678901234567890123456789012345678901234567890123456789");
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    memset(target, 't', sizeof(target) - 1);
    target[sizeof(target) - 1] = '\0';
    assert_int_equal(worker_layer_writer_new(1700000000, &w), 0);
    assert_int_equal(worker_layer_writer_add_file_mem(w, deep, &file_attr, "x", 1), 0);
    assert_int_equal(worker_layer_writer_add_file_mem(w, longname, &big_ids, "y", 1), 0);
    assert_int_equal(worker_layer_writer_add_symlink(w, "s", &file_attr, target), 0);
    assert_int_equal(worker_layer_writer_finish(w, out_fd, &res), 0);
    w = worker_layer_writer_free(w);
    blob = read_all(out_fd, &n);
    {
        const struct want_entry want[] = {
            {deep, AE_IFREG, 0644, 1000, 100, "x", NULL, NULL},
            {longname, AE_IFREG, 0600, 3000000, 70000, "y", NULL, NULL},
            {"s", AE_IFLNK, 0644, 1000, 100, NULL, target, NULL},
        };
        expect_entries(blob, n, 1700000000, want, PF_ARRAY_SIZE(want));
    }
    pf_free(blob);
    fclose(out);
}

static void invalid_paths_refused(void **state)
{
    static const char *const bad[] = {
        "", "/etc", "./etc", "etc/", "a//b", "a/../b", "..", ".", "a/.", "a/.wh.x", ".wh..wh..opq",
    };
    char huge[WORKER_LAYER_WRITER_MAX_PATH + 2];
    struct worker_layer_writer *w = NULL;
    int64_t bad_mtime = WORKER_LAYER_WRITER_MAX_MTIME + 1;

    (void)state;
    assert_int_equal(worker_layer_writer_new(-1, &w), -EINVAL);
    assert_int_equal(worker_layer_writer_new(bad_mtime, &w), -EINVAL);
    assert_null(w);
    assert_int_equal(worker_layer_writer_new(0, &w), 0);
    for (size_t i = 0; i < PF_ARRAY_SIZE(bad); i++) {
        assert_int_equal(worker_layer_writer_add_dir(w, bad[i], &dir_attr), -EINVAL);
        assert_int_equal(worker_layer_writer_add_file_mem(w, bad[i], &file_attr, "", 0), -EINVAL);
        assert_int_equal(worker_layer_writer_add_whiteout(w, bad[i]), -EINVAL);
        assert_int_equal(worker_layer_writer_add_hardlink(w, "ok", bad[i]), -EINVAL);
    }
    memset(huge, 'h', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    assert_int_equal(worker_layer_writer_add_dir(w, huge, &dir_attr), -EINVAL);
    huge[WORKER_LAYER_WRITER_MAX_PATH] = '\0';
    assert_int_equal(worker_layer_writer_add_dir(w, huge, &dir_attr), 0);
    assert_int_equal(worker_layer_writer_add_symlink(w, "s", &file_attr, ""), -EINVAL);
    assert_int_equal(worker_layer_writer_add_file_fd(w, "f", &file_attr, -1, 0, 1), -EINVAL);
    assert_int_equal(worker_layer_writer_add_opaque(w, "/x"), -EINVAL);
    assert_int_equal(worker_layer_writer_add_opaque(w, ""), 0);
    w = worker_layer_writer_free(w);
}

static void duplicates_and_dangling_links_refused(void **state)
{
    struct worker_layer_writer *w = NULL;
    struct worker_layer_result res = {.size = 42};
    FILE *out;
    int out_fd = temp_fd(&out);

    (void)state;
    assert_int_equal(worker_layer_writer_new(0, &w), 0);
    assert_int_equal(worker_layer_writer_add_dir(w, "etc", &dir_attr), 0);
    assert_int_equal(worker_layer_writer_add_file_mem(w, "etc", &file_attr, "x", 1), -EEXIST);
    assert_int_equal(worker_layer_writer_add_whiteout(w, "etc/x"), 0);
    assert_int_equal(worker_layer_writer_add_whiteout(w, "etc/x"), -EEXIST);
    assert_int_equal(worker_layer_writer_add_opaque(w, "etc"), 0);
    assert_int_equal(worker_layer_writer_add_opaque(w, "etc"), -EEXIST);
    /* Many entries, so the duplicate check survives hash set growth. */
    for (int i = 0; i < 500; i++) {
        char p[32];

        snprintf(p, sizeof(p), "etc/f%d", i);
        assert_int_equal(worker_layer_writer_add_file_mem(w, p, &file_attr, p, strlen(p)), 0);
    }
    assert_int_equal(worker_layer_writer_add_file_mem(w, "etc/f7", &file_attr, "", 0), -EEXIST);
    assert_int_equal(worker_layer_writer_add_hardlink(w, "etc/h", "etc/missing"), 0);
    assert_int_equal(worker_layer_writer_finish(w, out_fd, &res), -EINVAL);
    assert_int_equal(res.size, 42);
    assert_int_equal(lseek(out_fd, 0, SEEK_END), 0);
    /* A failed finish ends the writer too. */
    assert_int_equal(worker_layer_writer_add_dir(w, "more", &dir_attr), -EINVAL);
    assert_int_equal(worker_layer_writer_finish(w, out_fd, &res), -EINVAL);
    w = worker_layer_writer_free(w);

    /* A hard link to a directory is refused as well. */
    assert_int_equal(worker_layer_writer_new(0, &w), 0);
    assert_int_equal(worker_layer_writer_add_dir(w, "d", &dir_attr), 0);
    assert_int_equal(worker_layer_writer_add_hardlink(w, "h", "d"), 0);
    assert_int_equal(worker_layer_writer_finish(w, out_fd, &res), -EINVAL);
    w = worker_layer_writer_free(w);
    fclose(out);
}

static void short_fd_is_an_error(void **state)
{
    struct worker_layer_writer *w = NULL;
    struct worker_layer_result res;
    FILE *src, *out;
    int src_fd = temp_fd(&src), out_fd = temp_fd(&out);

    (void)state;
    assert_int_equal(write(src_fd, "abc", 3), 3);
    assert_int_equal(worker_layer_writer_new(0, &w), 0);
    assert_int_equal(worker_layer_writer_add_file_fd(w, "f", &file_attr, src_fd, 1, 5), 0);
    assert_int_equal(worker_layer_writer_finish(w, out_fd, &res), -EIO);
    w = worker_layer_writer_free(w);
    fclose(src);
    fclose(out);
}

static void big_file_streamed(void **state)
{
    struct worker_layer_writer *w = NULL;
    struct worker_layer_result res;
    struct pf_sha256 h = {0};
    char want[PF_DIGEST_BUFSZ], got[PF_DIGEST_BUFSZ];
    unsigned char *chunk = pf_malloc(1024 * 1024), *blob;
    FILE *src, *out;
    int src_fd = temp_fd(&src), out_fd = temp_fd(&out);
    struct archive *a;
    struct archive_entry *ae;
    la_ssize_t n;
    size_t blob_len;

    (void)state;
    assert_non_null(chunk);
    for (size_t i = 0; i < 1024 * 1024; i++)
        chunk[i] = (unsigned char)((i * 7919u) >> 3);
    assert_int_equal(write(src_fd, "HEAD", 4), 4);
    for (int i = 0; i < 20; i++)
        assert_int_equal(write(src_fd, chunk, 1024 * 1024), 1024 * 1024);
    assert_int_equal(pf_sha256_init(&h), 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(pf_sha256_update(&h, chunk, 1024 * 1024), 0);
    assert_int_equal(pf_sha256_final(&h, want), 0);

    assert_int_equal(worker_layer_writer_new(0, &w), 0);
    assert_int_equal(worker_layer_writer_add_file_fd(w, "big", &file_attr, src_fd, 4, BIG_SIZE), 0);
    assert_int_equal(worker_layer_writer_finish(w, out_fd, &res), 0);
    w = worker_layer_writer_free(w);
    assert_true(res.uncompressed_size > BIG_SIZE);

    blob = read_all(out_fd, &blob_len);
    a = archive_read_new();
    assert_int_equal(archive_read_support_filter_gzip(a), ARCHIVE_OK);
    assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
    assert_int_equal(archive_read_open_memory(a, blob, blob_len), ARCHIVE_OK);
    assert_int_equal(archive_read_next_header(a, &ae), ARCHIVE_OK);
    assert_string_equal(archive_entry_pathname(ae), "big");
    assert_int_equal(archive_entry_size(ae), BIG_SIZE);
    while ((n = archive_read_data(a, chunk, 1024 * 1024)) > 0)
        assert_int_equal(pf_sha256_update(&h, chunk, (size_t)n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(pf_sha256_final(&h, got), 0);
    assert_string_equal(got, want);
    assert_int_equal(archive_read_next_header(a, &ae), ARCHIVE_EOF);
    archive_read_free(a);
    pf_sha256_release(&h);
    pf_free(blob);
    pf_free(chunk);
    fclose(src);
    fclose(out);
}

/* The patch layer bound counts memory and fd content together; an add past it is -EFBIG and
 * leaves the writer as it was (the path stays free). */
static void size_bound(void **state)
{
    struct worker_layer_writer *w = NULL;
    char mib[1024] = {0};
    FILE *src;
    int fd = temp_fd(&src);

    (void)state;
    assert_int_equal(worker_layer_writer_new(0, &w), 0);
    assert_int_equal(worker_layer_writer_max_size(w), WORKER_LAYER_WRITER_MAX_SIZE);
    worker_layer_writer_set_max_size(w, 2048);
    assert_int_equal(worker_layer_writer_max_size(w), 2048);
    assert_int_equal(worker_layer_writer_add_file_mem(w, "a", &file_attr, mib, sizeof(mib)), 0);
    assert_int_equal(worker_layer_writer_add_file_fd(w, "b", &file_attr, fd, 0, 1025), -EFBIG);
    assert_int_equal(worker_layer_writer_add_file_fd(w, "b", &file_attr, fd, 0, 1024), 0);
    assert_int_equal(worker_layer_writer_add_file_mem(w, "c", &file_attr, mib, 1), -EFBIG);
    assert_int_equal(worker_layer_writer_add_file_mem(w, "c", &file_attr, mib, 0), 0);
    worker_layer_writer_free(w);
    fclose(src);
}

static void empty_layer(void **state)
{
    struct worker_layer_writer *w = NULL;
    struct worker_layer_result res;
    FILE *out;
    int out_fd = temp_fd(&out);
    char want[PF_DIGEST_BUFSZ];
    static const unsigned char zeros[1024];

    (void)state;
    assert_int_equal(worker_layer_writer_new(0, &w), 0);
    assert_int_equal(worker_layer_writer_finish(w, out_fd, &res), 0);
    w = worker_layer_writer_free(w);
    assert_int_equal(res.uncompressed_size, 1024);
    assert_int_equal(pf_sha256_digest(zeros, sizeof(zeros), want), 0);
    assert_string_equal(res.diff_id, want);
    fclose(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_bytes_any_order),
        cmocka_unit_test(digests_and_gzip_header),
        cmocka_unit_test(readback_sorted),
        cmocka_unit_test(long_names_ids_and_mtime),
        cmocka_unit_test(invalid_paths_refused),
        cmocka_unit_test(duplicates_and_dangling_links_refused),
        cmocka_unit_test(short_fd_is_an_error),
        cmocka_unit_test(big_file_streamed),
        cmocka_unit_test(empty_layer),
        cmocka_unit_test(size_bound),
    };

    return cmocka_run_group_tests_name("layer_writer", tests, NULL, NULL);
}
