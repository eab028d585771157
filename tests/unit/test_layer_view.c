/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the merged layer view. Layers are built in memory with libarchive's writer
 * (plain and gzip), so every case states its tar contents next to what it expects: merging,
 * whiteouts and opaque directories, symlink resolution inside the image root, and refusal of
 * hostile layers, which must leave the view untouched.
 */
#include "pf_test.h"

#include "pf/archive.h"
#include <fnmatch.h>
#include <unistd.h>

#include "pf/strv.h"
#include "image/layer_view.h"

/* One tar member: type 'f' file (data), 'd' dir, 'l' symlink (target), 'h' hard link
 * (target), 'c' char device, 'p' fifo. */
struct tent {
    const char *name;
    char type;
    const char *data;
};

#define TAR_CAP (4u * 1024 * 1024)

static char *mk_tar(const struct tent *ents, size_t n, bool gzip, size_t *ret_len)
{
    struct archive *a = archive_write_new();
    char *buf = pf_malloc(TAR_CAP);
    size_t used = 0;
    size_t i;

    assert_non_null(a);
    assert_non_null(buf);
    assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    if (gzip)
        assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_memory(a, buf, TAR_CAP, &used), ARCHIVE_OK);
    for (i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        size_t len = ents[i].type == 'f' && ents[i].data ? strlen(ents[i].data) : 0;

        archive_entry_set_pathname(e, ents[i].name);
        archive_entry_set_perm(e, ents[i].type == 'd' ? 0755 : 0644);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        switch (ents[i].type) {
        case 'f':
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, (la_int64_t)len);
            break;
        case 'd':
            archive_entry_set_filetype(e, AE_IFDIR);
            break;
        case 'l':
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, ents[i].data);
            break;
        case 'h':
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_hardlink(e, ents[i].data);
            break;
        case 'c':
            archive_entry_set_filetype(e, AE_IFCHR);
            archive_entry_set_rdevmajor(e, 1);
            archive_entry_set_rdevminor(e, 3);
            break;
        default:
            archive_entry_set_filetype(e, AE_IFIFO);
            break;
        }
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        if (len)
            assert_int_equal(archive_write_data(a, ents[i].data, len), (la_ssize_t)len);
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    *ret_len = used;
    return buf;
}

/* Applies `ents` as one layer; returns what apply returned. */
static int apply(struct worker_layer_view *v, const struct tent *ents, size_t n, bool gzip,
                 char *errbuf, size_t errlen)
{
    size_t len;
    char *tar = mk_tar(ents, n, gzip, &len);
    int r = worker_layer_view_apply_memory(v, tar, len, errbuf, errlen);

    pf_free(tar);
    return r;
}

#define APPLY_OK(v, ents, gz)                                                                      \
    do {                                                                                           \
        char eb_[256] = "";                                                                        \
        int r_ = apply((v), (ents), PF_ARRAY_SIZE(ents), (gz), eb_, sizeof(eb_));                  \
        if (r_ != 0)                                                                               \
            fail_msg("apply failed: %d %s", r_, eb_);                                              \
    } while (0)

/* The engine's sort of selection: os-release, the dpkg database, apt configuration. */
static bool keep_debian(const char *path, void *userdata)
{
    static const char *const pats[] = {"etc/os-release", "var/lib/dpkg/status",
                                       "var/lib/dpkg/status.d/*", "etc/apt/*", "usr/lib/*"};
    size_t i;

    (void)userdata;
    for (i = 0; i < PF_ARRAY_SIZE(pats); i++) {
        if (fnmatch(pats[i], path, 0) == 0)
            return true;
    }
    return false;
}

static struct worker_layer_view *view_new(size_t max_entries, size_t max_file, size_t max_total)
{
    struct worker_layer_view_options o = {
        .max_entries_per_layer = max_entries,
        .max_file_content = max_file,
        .max_total_content = max_total,
        .keep = keep_debian,
    };
    struct worker_layer_view *v = NULL;

    assert_int_equal(worker_layer_view_new(&o, &v), 0);
    return v;
}

static void assert_content(const struct worker_layer_view *v, const char *path, const char *want)
{
    const char *data = NULL;
    size_t len = 0;

    assert_int_equal(worker_layer_view_read(v, path, &data, &len), 0);
    assert_int_equal(len, strlen(want));
    assert_string_equal(data, want);
}

static void assert_resolves(const struct worker_layer_view *v, const char *path, bool nofollow,
                            const char *want)
{
    char *got = NULL;
    char eb[256] = "";

    if (worker_layer_view_resolve(v, path, nofollow, &got, eb, sizeof(eb)) != 0)
        fail_msg("resolve '%s': %s", path, eb);
    assert_string_equal(got, want);
    pf_free(got);
}

static void basic_merge(void **state)
{
    const struct tent l0[] = {
        {"./", 'd', NULL},
        {"./etc/", 'd', NULL},
        {"./etc/os-release", 'f', "ID=debian\n"},
        {"./usr//bin/ls", 'f', "ELF"},
    };
    const struct tent l1[] = {
        {"etc/os-release", 'f', "ID=debian\nVERSION_ID=\"12\"\n"},
        {"etc/hostname", 'f', "box\n"},
    };
    struct worker_layer_view *v = view_new(0, 0, 0);
    const struct worker_layer_entry *e;
    struct worker_layer_view_stats st;
    struct pf_strv names = PF_STRV_INIT;
    const char *data;
    size_t len;

    (void)state;
    APPLY_OK(v, l0, false);
    APPLY_OK(v, l1, true);
    assert_content(v, "etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
    assert_content(v, "/etc//./os-release", "ID=debian\nVERSION_ID=\"12\"\n");
    e = worker_layer_view_get(v, "etc/os-release");
    assert_non_null(e);
    assert_int_equal(e->layer, 1);
    assert_int_equal(e->type, WORKER_LAYER_REG);
    assert_int_equal(e->size, 26);
    assert_true(e->has_content);
    e = worker_layer_view_get(v, "usr/bin/ls");
    assert_non_null(e);
    assert_string_equal(e->path, "usr/bin/ls");
    assert_int_equal(e->layer, 0);
    assert_false(e->has_content);
    assert_int_equal(worker_layer_view_read(v, "usr/bin/ls", &data, &len), -ENODATA);
    assert_int_equal(worker_layer_view_read(v, "usr/bin", &data, &len), -EISDIR);
    assert_int_equal(worker_layer_view_read(v, "nope", &data, &len), -ENOENT);
    /* usr/ and usr/bin/ had no tar entries: they exist as implied directories. */
    e = worker_layer_view_get(v, "usr");
    assert_non_null(e);
    assert_int_equal(e->type, WORKER_LAYER_DIR);
    assert_null(worker_layer_view_get(v, "etc/passwd"));
    assert_int_equal(worker_layer_view_list(v, "etc", &names), 2);
    assert_string_equal(names.v[0], "hostname");
    assert_string_equal(names.v[1], "os-release");
    pf_strv_clear(&names);
    assert_int_equal(worker_layer_view_list(v, "etc/hostname", &names), -ENOTDIR);
    worker_layer_view_get_stats(v, &st);
    assert_int_equal(st.layers, 2);
    assert_int_equal(st.entries, 6); /* etc, os-release, hostname, usr, bin, ls */
    assert_int_equal(st.content_bytes, 26);
    worker_layer_view_free(v);
}

static void whiteout_file_and_dir(void **state)
{
    const struct tent l0[] = {
        {"a/f", 'f', "x"},
        {"a/keep", 'f', "y"},
        {"d/x", 'f', "1"},
        {"d/y/z", 'f', "2"},
    };
    const struct tent l1[] = {
        {"a/.wh.f", 'f', NULL},
        {".wh.d", 'f', NULL},
        {"a/.wh.missing", 'f', NULL},
    };
    struct worker_layer_view *v = view_new(0, 0, 0);
    struct worker_layer_view_stats st;

    (void)state;
    APPLY_OK(v, l0, false);
    APPLY_OK(v, l1, false);
    assert_null(worker_layer_view_get(v, "a/f"));
    assert_null(worker_layer_view_get(v, "a/.wh.f"));
    assert_non_null(worker_layer_view_get(v, "a/keep"));
    assert_null(worker_layer_view_get(v, "d"));
    assert_null(worker_layer_view_get(v, "d/y/z"));
    worker_layer_view_get_stats(v, &st);
    assert_int_equal(st.entries, 2); /* a, a/keep */
    worker_layer_view_free(v);
}

static void opaque_dir(void **state)
{
    const struct tent l0[] = {{"d/x", 'f', "1"}, {"d/sub/y", 'f', "2"}, {"e/x", 'f', "3"}};
    /* The marker comes after the new child: it must still hide only the lower ones. */
    const struct tent l1[] = {{"d/", 'd', NULL}, {"d/z", 'f', "3"}, {"d/.wh..wh..opq", 'f', NULL}};
    struct worker_layer_view *v = view_new(0, 0, 0);
    struct pf_strv names = PF_STRV_INIT;

    (void)state;
    APPLY_OK(v, l0, false);
    APPLY_OK(v, l1, true);
    assert_int_equal(worker_layer_view_list(v, "d", &names), 1);
    assert_string_equal(names.v[0], "z");
    assert_non_null(worker_layer_view_get(v, "e/x"));
    pf_strv_clear(&names);
    worker_layer_view_free(v);
}

static void same_layer_whiteout_order(void **state)
{
    const struct tent l0[] = {{"a/old", 'f', "o"}, {"d/lower", 'f', "l"}};
    const struct tent l1[] = {
        {"a/new", 'f', "n"}, /* added before its own whiteout: survives */
        {"a/.wh.new", 'f', NULL}, {"a/.wh.old", 'f', NULL},
        {"d/upper", 'f', "u"}, /* directory recreated in the same layer */
        {".wh.d", 'f', NULL},
    };
    struct worker_layer_view *v = view_new(0, 0, 0);

    (void)state;
    APPLY_OK(v, l0, false);
    APPLY_OK(v, l1, false);
    assert_non_null(worker_layer_view_get(v, "a/new"));
    assert_null(worker_layer_view_get(v, "a/old"));
    assert_non_null(worker_layer_view_get(v, "d/upper"));
    assert_null(worker_layer_view_get(v, "d/lower"));
    worker_layer_view_free(v);
}

static void replace_rules(void **state)
{
    const struct tent l0[] = {
        {"d/", 'd', NULL},
        {"d/child", 'f', "c"},
        {"f/sub", 'f', "s"},
        {"lib", 'l', "usr/lib"},
        {"usr/lib/libc.so", 'f', "libc"},
    };
    const struct tent l1[] = {
        {"d/", 'd', NULL},        /* dir over dir: attributes only, children stay */
        {"f", 'f', "now a file"}, /* file over dir: the subtree goes */
        {"lib/", 'd', NULL},      /* dir over symlink (rules_oci #857): the symlink goes */
    };
    struct worker_layer_view *v = view_new(0, 0, 0);
    const struct worker_layer_entry *e;

    (void)state;
    APPLY_OK(v, l0, false);
    APPLY_OK(v, l1, false);
    assert_non_null(worker_layer_view_get(v, "d/child"));
    assert_int_equal(worker_layer_view_get(v, "d")->layer, 1);
    e = worker_layer_view_get(v, "f");
    assert_int_equal(e->type, WORKER_LAYER_REG);
    assert_null(worker_layer_view_get(v, "f/sub"));
    assert_int_equal(worker_layer_view_get(v, "lib")->type, WORKER_LAYER_DIR);
    assert_null(worker_layer_view_get(v, "lib/libc.so"));
    assert_content(v, "usr/lib/libc.so", "libc");
    worker_layer_view_free(v);
}

static void merged_usr_symlink(void **state)
{
    const struct tent l0[] = {
        {"usr/lib/x86_64-linux-gnu/libc.so.6", 'f', "libc6"},
        {"lib", 'l', "usr/lib"},
        {"bin", 'l', "/usr/bin"},
    };
    /* A later layer writes through the symlink without a directory entry for lib/. */
    const struct tent l1[] = {{"lib/x86_64-linux-gnu/libz.so.1", 'f', "zlib"}};
    struct worker_layer_view *v = view_new(0, 0, 0);
    const struct worker_layer_entry *e;

    (void)state;
    APPLY_OK(v, l0, false);
    APPLY_OK(v, l1, true);
    assert_resolves(v, "lib/x86_64-linux-gnu/libc.so.6", false,
                    "usr/lib/x86_64-linux-gnu/libc.so.6");
    assert_resolves(v, "/lib/x86_64-linux-gnu/new.so", false, "usr/lib/x86_64-linux-gnu/new.so");
    assert_resolves(v, "lib", true, "lib");
    assert_resolves(v, "lib", false, "usr/lib");
    assert_resolves(v, "bin/sh", false, "usr/bin/sh");
    assert_content(v, "lib/x86_64-linux-gnu/libc.so.6", "libc6");
    e = worker_layer_view_get(v, "lib");
    assert_int_equal(e->type, WORKER_LAYER_SYMLINK);
    assert_string_equal(e->link, "usr/lib");
    e = worker_layer_view_get(v, "lib/x86_64-linux-gnu/libz.so.1");
    assert_non_null(e);
    assert_string_equal(e->path, "usr/lib/x86_64-linux-gnu/libz.so.1");
    assert_int_equal(e->layer, 1);
    worker_layer_view_free(v);
}

static void symlink_targets_clamped(void **state)
{
    const struct tent l0[] = {
        {"etc/alternatives/editor", 'l', "/usr/bin/vim.basic"},
        {"a/b/up", 'l', "../../../../../etc"},
        {"etc/passwd", 'f', "root"},
        {"etc/self", 'l', "."},
        {"loop1", 'l', "loop2"},
        {"loop2", 'l', "/loop1"},
        {"file", 'f', "x"},
    };
    struct worker_layer_view *v = view_new(0, 0, 0);
    char *got = NULL;
    char eb[256] = "";

    (void)state;
    APPLY_OK(v, l0, false);
    assert_resolves(v, "etc/alternatives/editor", false, "usr/bin/vim.basic");
    assert_resolves(v, "etc/alternatives/editor", true, "etc/alternatives/editor");
    assert_resolves(v, "a/b/up/passwd", false, "etc/passwd");
    assert_resolves(v, "../../../etc/self/self/passwd", false, "etc/passwd");
    assert_resolves(v, "", false, "");
    assert_resolves(v, "/..", false, "");
    assert_int_equal(worker_layer_view_resolve(v, "loop1/x", false, &got, eb, sizeof(eb)), -ELOOP);
    assert_non_null(strstr(eb, "loop1/x"));
    assert_null(got);
    assert_int_equal(worker_layer_view_resolve(v, "file/x", false, &got, eb, sizeof(eb)), -ENOTDIR);
    assert_non_null(worker_layer_view_get(v, "loop1")); /* the link itself is still there */
    assert_null(worker_layer_view_get(v, "loop1/x"));
    worker_layer_view_free(v);
}

static void hardlink_recorded(void **state)
{
    const struct tent l0[] = {{"etc/apt/a.conf", 'f', "A"},
                              {"etc/apt/b.conf", 'h', "./etc/apt/a.conf"}};
    struct worker_layer_view *v = view_new(0, 0, 0);
    const struct worker_layer_entry *e;

    (void)state;
    APPLY_OK(v, l0, false);
    e = worker_layer_view_get(v, "etc/apt/b.conf");
    assert_non_null(e);
    assert_int_equal(e->type, WORKER_LAYER_HARDLINK);
    assert_string_equal(e->link, "etc/apt/a.conf");
    assert_content(v, "etc/apt/b.conf", "A");
    worker_layer_view_free(v);
}

static char *repeat(const char *unit, size_t n)
{
    size_t ul = strlen(unit);
    char *s = pf_malloc(ul * n + 2);
    size_t i;

    assert_non_null(s);
    for (i = 0; i < n; i++)
        memcpy(s + i * ul, unit, ul);
    s[ul * n] = 'x';
    s[ul * n + 1] = '\0';
    return s;
}

static void hostile_layers_refused(void **state)
{
    char *deep = repeat("a/", 300);
    char *longname = repeat("abcdefghijklmnop", 300);
    const struct {
        struct tent bad;
        int err;
        const char *mention;
    } cases[] = {
        {{"../etc/passwd", 'f', "x"}, -EINVAL, "../etc/passwd"},
        {{"/etc/passwd", 'f', "x"}, -EINVAL, "/etc/passwd"},
        {{"a/../../b", 'f', "x"}, -EINVAL, "a/../../b"},
        {{"ok/..", 'd', NULL}, -EINVAL, "ok/.."},
        {{"h", 'h', "../x"}, -EINVAL, "'h'"},
        {{"h", 'h', "/etc/shadow"}, -EINVAL, "/etc/shadow"},
        {{"tab\tname", 'f', "x"}, -EINVAL, "control"},
        {{"etc/.wh.", 'f', NULL}, -EINVAL, "etc/.wh."},
        {{"etc/.wh...", 'f', NULL}, -EINVAL, "etc/.wh..."},
        {{"./", 'l', "/"}, -EINVAL, "root"},
        {{deep, 'f', "x"}, -ENAMETOOLONG, "deeper"},
        {{longname, 'f', "x"}, -ENAMETOOLONG, "longer"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct tent layer[3] = {{"etc/os-release", 'f', "ID=evil\n"},
                                cases[i].bad,
                                {"etc/after", 'f', "z"}};
        struct worker_layer_view *v = view_new(0, 0, 0);
        struct worker_layer_view_stats st;
        char eb[256] = "";

        assert_int_equal(apply(v, layer, 3, i % 2 == 0, eb, sizeof(eb)), cases[i].err);
        if (!strstr(eb, cases[i].mention))
            fail_msg("case %zu: '%s' does not mention '%s'", i, eb, cases[i].mention);
        /* Refused whole: nothing of the layer is visible. */
        worker_layer_view_get_stats(v, &st);
        assert_int_equal(st.layers, 0);
        assert_int_equal(st.entries, 0);
        assert_int_equal(st.content_bytes, 0);
        assert_null(worker_layer_view_get(v, "etc/os-release"));
        worker_layer_view_free(v);
    }
    pf_free(deep);
    pf_free(longname);
}

static void entry_count_cap(void **state)
{
    struct tent ents[11];
    char names[11][8];
    struct worker_layer_view *v = view_new(10, 0, 0);
    char eb[256] = "";
    size_t i;

    (void)state;
    for (i = 0; i < PF_ARRAY_SIZE(ents); i++) {
        snprintf(names[i], sizeof(names[i]), "f%zu", i);
        ents[i] = (struct tent){names[i], 'f', "x"};
    }
    assert_int_equal(apply(v, ents, 11, false, eb, sizeof(eb)), -E2BIG);
    assert_non_null(strstr(eb, "more than 10 entries"));
    assert_int_equal(apply(v, ents, 10, false, eb, sizeof(eb)), 0);
    assert_non_null(worker_layer_view_get(v, "f9"));
    worker_layer_view_free(v);
}

static void special_files_skipped(void **state)
{
    const struct tent l0[] = {{"dev/null", 'c', NULL},
                              {"run/fifo", 'p', NULL},
                              {"etc/x", 'f', "1"}};
    struct worker_layer_view *v = view_new(0, 0, 0);
    struct worker_layer_view_stats st;

    (void)state;
    APPLY_OK(v, l0, true);
    worker_layer_view_get_stats(v, &st);
    assert_int_equal(st.skipped_special, 2);
    assert_null(worker_layer_view_get(v, "dev/null"));
    assert_non_null(worker_layer_view_get(v, "etc/x"));
    worker_layer_view_free(v);
}

static void content_caps(void **state)
{
    const struct tent fits[] = {{"etc/os-release", 'f', "0123456789abcdef"}};
    const struct tent too_big[] = {{"etc/os-release", 'f', "0123456789abcdefg"}};
    const struct tent second[] = {{"var/lib/dpkg/status", 'f', "0123456789"}};
    const struct tent not_kept[] = {{"usr/share/big", 'f', "0123456789abcdef0123456789"}};
    struct worker_layer_view *v = view_new(0, 16, 20);
    struct worker_layer_view_stats st;
    char eb[256] = "";

    (void)state;
    assert_int_equal(apply(v, too_big, 1, true, eb, sizeof(eb)), -EFBIG);
    assert_non_null(strstr(eb, "etc/os-release"));
    APPLY_OK(v, fits, true);
    APPLY_OK(v, not_kept, false); /* limits only bind kept content */
    assert_int_equal(apply(v, second, 1, false, eb, sizeof(eb)), -EFBIG);
    assert_non_null(strstr(eb, "total"));
    assert_null(worker_layer_view_get(v, "var/lib/dpkg/status"));
    assert_content(v, "etc/os-release", "0123456789abcdef");
    worker_layer_view_get_stats(v, &st);
    assert_int_equal(st.content_bytes, 16);
    worker_layer_view_free(v);
}

/* The layer size bound counts every regular file, kept or not, by its declared size, and
 * refuses the layer (naming the limit and its option) before reading past the bound; a layer
 * within it is applied. */
static void layer_size_bound(void **state)
{
    const struct tent fits[] = {{"usr/a", 'f', "0123456789"}, {"usr/b", 'f', "0123456789"}};
    const struct tent over[] = {{"usr/a", 'f', "0123456789"}, {"usr/big", 'f', "0123456789abcdef"}};
    struct worker_layer_view_options o = {.keep = keep_debian, .max_layer_size = 20};
    struct worker_layer_view *v = NULL;
    char eb[256] = "";

    (void)state;
    assert_int_equal(worker_layer_view_new(&o, &v), 0);
    APPLY_OK(v, fits, true);
    assert_int_equal(apply(v, over, PF_ARRAY_SIZE(over), true, eb, sizeof(eb)), -EFBIG);
    if (!strstr(eb, "20 bytes") || !strstr(eb, "--max-layer-size"))
        fail_msg("the error does not name the limit: '%s'", eb);
    assert_null(worker_layer_view_get(v, "usr/big"));
    worker_layer_view_free(v);
}

struct chunked {
    const char *p;
    size_t left;
};

static ssize_t read_chunked(void *userdata, void *buf, size_t cap)
{
    struct chunked *c = userdata;
    size_t n = c->left < 7 ? c->left : 7;

    (void)cap;
    memcpy(buf, c->p, n);
    c->p += n;
    c->left -= n;
    return (ssize_t)n;
}

static ssize_t read_fails(void *userdata, void *buf, size_t cap)
{
    (void)userdata;
    (void)buf;
    (void)cap;
    return -EIO;
}

static void reader_fd_and_garbage(void **state)
{
    const struct tent l0[] = {{"etc/os-release", 'f', "ID=debian\n"}};
    const struct tent l1[] = {{"etc/apt/sources.list", 'f', "deb x y z\n"}};
    struct worker_layer_view *v = view_new(0, 0, 0);
    struct chunked c;
    char eb[256] = "";
    size_t len;
    char *tar = mk_tar(l0, 1, true, &len);
    FILE *f = tmpfile();

    (void)state;
    c = (struct chunked){tar, len};
    assert_int_equal(worker_layer_view_apply_reader(v, read_chunked, &c, eb, sizeof(eb)), 0);
    assert_content(v, "etc/os-release", "ID=debian\n");
    pf_free(tar);
    assert_int_equal(worker_layer_view_apply_reader(v, read_fails, NULL, eb, sizeof(eb)), -EIO);

    tar = mk_tar(l1, 1, false, &len);
    assert_non_null(f);
    assert_int_equal(fwrite(tar, 1, len, f), len);
    assert_int_equal(fflush(f), 0);
    assert_int_equal(lseek(fileno(f), 0, SEEK_SET), 0);
    assert_int_equal(worker_layer_view_apply_fd(v, fileno(f), eb, sizeof(eb)), 0);
    assert_content(v, "etc/apt/sources.list", "deb x y z\n");
    fclose(f);
    pf_free(tar);

    assert_int_equal(worker_layer_view_apply_memory(v, "not a tar at all, honestly", 26, eb,
                                                    sizeof(eb)),
                     -EBADMSG);
    assert_int_equal(worker_layer_view_get(v, "etc/apt/sources.list")->layer, 1);
    worker_layer_view_free(v);
}

static void merge_failure_poisons(void **state)
{
    const struct tent l0[] = {{"f", 'f', "x"}};
    const struct tent l1[] = {{"f/x", 'f', "y"}};
    struct worker_layer_view *v = view_new(0, 0, 0);
    char eb[256] = "";

    (void)state;
    APPLY_OK(v, l0, false);
    assert_int_equal(apply(v, l1, 1, false, eb, sizeof(eb)), -ENOTDIR);
    assert_non_null(strstr(eb, "f/x"));
    assert_int_equal(apply(v, l0, 1, false, eb, sizeof(eb)), -ESTALE);
    worker_layer_view_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(basic_merge),
        cmocka_unit_test(layer_size_bound),
        cmocka_unit_test(whiteout_file_and_dir),
        cmocka_unit_test(opaque_dir),
        cmocka_unit_test(same_layer_whiteout_order),
        cmocka_unit_test(replace_rules),
        cmocka_unit_test(merged_usr_symlink),
        cmocka_unit_test(symlink_targets_clamped),
        cmocka_unit_test(hardlink_recorded),
        cmocka_unit_test(hostile_layers_refused),
        cmocka_unit_test(entry_count_cap),
        cmocka_unit_test(special_files_skipped),
        cmocka_unit_test(content_caps),
        cmocka_unit_test(reader_fd_and_garbage),
        cmocka_unit_test(merge_failure_poisons),
    };
    return cmocka_run_group_tests_name("layer_view", tests, NULL, NULL);
}
