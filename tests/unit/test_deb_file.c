/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the .deb reader. Real packages come from tests/data/deb (built by
 * tests/harness/make_deb_fixture.sh with dpkg-deb: gzip, xz and zstd members); broken and
 * hostile packages are assembled here, ar and tars by hand, so each case shows exactly which
 * byte or name is wrong.
 */
#include "pf_test.h"
#include "pf_test_tar.h"

#include <fcntl.h>
#include <unistd.h>

#include "deb/deb822.h"
#include "deb/deb_file.h"

/* .deb members as the tests build them: GNU tar headers, every entry 0644 unless given. */
static const struct pf_test_tar_opts tar_opts = {.gnutar = true};

static void ar_add(struct pf_buf *b, const char *name, const void *data, size_t len)
{
    char h[61];

    (void)snprintf(h, sizeof(h), "%-16s%-12s%-6s%-6s%-8s%-10zu`\n", name, "0", "0", "0", "100644",
                   len);
    assert_int_equal(pf_buf_append(b, h, 60), 0);
    assert_int_equal(pf_buf_append(b, data, len), 0);
    if (len & 1)
        assert_int_equal(pf_buf_append(b, "\n", 1), 0);
}

static const struct pf_test_tent good_control[] = {
    {"./", 'd', NULL},
    {"./control", 'f', "Package: evil\nVersion: 1\nArchitecture: all\n"},
};

/* Writes a .deb whose data.tar holds `data` to a temp file; returns its path (static). The
 * control entries have the modes `ctl_modes` (NULL: all 0644). */
static const char *write_deb_modes(const char *magic, const char *version,
                                   const struct pf_test_tent *ctl, const unsigned *ctl_modes,
                                   size_t nctl, const struct pf_test_tent *data, size_t ndata)
{
    static char path[64];
    struct pf_buf b = PF_BUF_INIT;
    struct pf_test_tar_opts ctl_opts = {.gnutar = true, .modes = ctl_modes};
    size_t cl, dl;
    char *c = pf_test_tar(ctl, nctl, &ctl_opts, &cl);
    char *d = pf_test_tar(data, ndata, &tar_opts, &dl);
    int fd;

    assert_int_equal(pf_buf_appends(&b, magic), 0);
    ar_add(&b, "debian-binary", version, strlen(version));
    ar_add(&b, "_extra", "x", 1);
    ar_add(&b, "control.tar", c, cl);
    ar_add(&b, "data.tar", d, dl);
    (void)snprintf(path, sizeof(path), "/tmp/test_deb_file.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b.p, b.len), (ssize_t)b.len);
    close(fd);
    pf_buf_release(&b);
    pf_free(c);
    pf_free(d);
    return path;
}

static const char *write_deb(const char *magic, const char *version, const struct pf_test_tent *ctl,
                             size_t nctl, const struct pf_test_tent *data, size_t ndata)
{
    return write_deb_modes(magic, version, ctl, NULL, nctl, data, ndata);
}

struct seen {
    struct pf_buf names;
    char content[256];
};

static int collect(const struct worker_deb_data_entry *e, void *ctx, void *userdata)
{
    struct seen *s = userdata;
    char c = "fdlh"[e->type];

    assert_int_equal(pf_buf_appendf(&s->names, "%c %s%s%s\n", c, e->path, e->link ? " -> " : "",
                                    e->link ? e->link : ""),
                     0);
    if (strcmp(e->path, "usr/bin/hello") == 0) {
        ssize_t k = worker_deb_data_read(ctx, s->content, sizeof(s->content) - 1);

        assert_true(k >= 0);
        s->content[k] = '\0';
    }
    return 0;
}

static void open_fixture(const char *name, struct worker_deb_file **ret)
{
    char path[512], eb[256] = "";
    int r;

    (void)snprintf(path, sizeof(path), "%s/deb/%s", PF_TEST_DATA, name);
    r = worker_deb_file_open(path, ret, eb, sizeof(eb));
    if (r != 0)
        fail_msg("open %s: %d %s", name, r, eb);
}

static void test_gzip_and_xz(void **state)
{
    static const char *const files[] = {"hello_1.0-1_amd64.deb", "hello_2.0-1_amd64.deb"};
    static const char *const want[] = {"hello v1\n", "hello v2\n"};

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        struct worker_deb_file *d = NULL;
        struct seen s = {PF_BUF_INIT, ""};
        char eb[256] = "";

        open_fixture(files[i], &d);
        assert_string_equal(worker_deb822_para_get(worker_deb_file_control(d), "Package"), "hello");
        assert_non_null(strstr(worker_deb_file_control_text(d),
                               "Homepage: https://example.org/hello\n"));
        assert_non_null(strstr(worker_deb_file_md5sums(d), "  usr/bin/hello\n"));
        assert_null(strstr(worker_deb_file_md5sums(d), "hello.conf"));
        assert_string_equal(worker_deb_file_conffiles(d), "/etc/hello.conf\n/etc/hello2.conf\n");
        assert_int_equal(worker_deb_file_each_data(d, collect, &s, eb, sizeof(eb)), 0);
        assert_string_equal(s.content, want[i]);
        assert_non_null(strstr(s.names.p, "d \nd etc\nf etc/hello.conf\n"));
        assert_non_null(strstr(s.names.p, "l usr/bin/hi -> hello\n"));
        if (i == 1)
            assert_non_null(strstr(s.names.p, "h usr/bin/hello-hard -> usr/bin/hello\n"));
        /* A second walk sees the same entries. */
        pf_buf_reset(&s.names);
        assert_int_equal(worker_deb_file_each_data(d, collect, &s, eb, sizeof(eb)), 0);
        assert_non_null(strstr(s.names.p, "f lib/x86_64-linux-gnu/libhello.so.1\n"));
        pf_buf_release(&s.names);
        worker_deb_file_free(d);
    }
}

static void test_zstd(void **state)
{
    struct worker_deb_file *d = NULL;
    struct seen s = {PF_BUF_INIT, ""};
    char eb[256] = "";

    (void)state;
    open_fixture("libfoo_2.0-1_amd64.deb", &d);
    assert_string_equal(worker_deb822_para_get(worker_deb_file_control(d), "Multi-Arch"), "same");
    assert_null(worker_deb_file_conffiles(d));
    assert_int_equal(worker_deb_file_each_data(d, collect, &s, eb, sizeof(eb)), 0);
    assert_non_null(strstr(s.names.p, "f usr/lib/x86_64-linux-gnu/libfoo.so.2\n"));
    pf_buf_release(&s.names);
    worker_deb_file_free(d);
}

/* The control members dpkg copies to info/ are kept with their modes; the names dpkg skips are
 * skipped; a member in a subdirectory is refused, as dpkg refuses it. */
static void test_control_members(void **state)
{
    static const struct pf_test_tent data[] = {{"./usr/", 'd', NULL}};
    static const struct pf_test_tent ctl[] = {
        {"./", 'd', NULL},
        {"./control", 'f', "Package: p\nVersion: 1\nArchitecture: all\n"},
        {"./postinst", 'f', "#!/bin/sh\nexit 0\n"},
        {"./shlibs", 'f', "libp 1 p\n"},
        {"./symbols", 'f', "first\n"},
        {"./a.b", 'f', "dotted\n"},
        {"./list", 'f', "/x\n"},
        {"./.hidden", 'f', "h\n"},
        {"./md5sums", 'f', ""},
        {"./symbols", 'f', "second\n"},
    };
    static const struct pf_test_tent sub[] = {
        {"./", 'd', NULL},
        {"./control", 'f', "Package: p\nVersion: 1\nArchitecture: all\n"},
        {"./sub/postinst", 'f', "#!/bin/sh\n"},
    };
    static const unsigned modes[] = {0755, 0644, 0700, 0600, 0644, 0644, 0644, 0644, 0644, 0644};
    const struct worker_deb_control_member *m;
    struct worker_deb_file *d = NULL;
    char eb[256] = "";
    const char *p;
    size_t n = 9;

    (void)state;
    p = write_deb_modes("!<arch>\n", "2.0\n", ctl, modes, PF_ARRAY_SIZE(ctl), data, 1);
    assert_int_equal(worker_deb_file_open(p, &d, eb, sizeof(eb)), 0);
    unlink(p);
    m = worker_deb_file_members(d, &n);
    assert_int_equal(n, 3);
    assert_string_equal(m[0].name, "postinst");
    assert_int_equal(m[0].mode, 0700);
    assert_int_equal(m[0].len, strlen("#!/bin/sh\nexit 0\n"));
    assert_string_equal(m[1].name, "shlibs");
    assert_int_equal(m[1].mode, 0600);
    assert_string_equal(m[1].data, "libp 1 p\n");
    assert_string_equal(m[2].name, "symbols");
    assert_string_equal(m[2].data, "second\n");
    d = worker_deb_file_free(d);
    p = write_deb("!<arch>\n", "2.0\n", sub, PF_ARRAY_SIZE(sub), data, 1);
    assert_int_equal(worker_deb_file_open(p, &d, eb, sizeof(eb)), -EINVAL);
    unlink(p);
    assert_non_null(strstr(eb, "'sub/postinst'"));
    /* A package without other members has none. */
    open_fixture("libfoo_2.0-1_amd64.deb", &d);
    assert_null(worker_deb_file_members(d, &n));
    assert_int_equal(n, 0);
    worker_deb_file_free(d);
}

static void test_corrupt(void **state)
{
    static const struct pf_test_tent data[] = {{"./usr/", 'd', NULL}};
    struct worker_deb_file *d = NULL;
    char path[512], eb[256] = "";
    struct pf_buf b = PF_BUF_INIT;
    const char *p;
    int fd;

    (void)state;
    p = write_deb("!<arch>\n", "2.0\n", good_control, 2, data, 1);
    assert_int_equal(worker_deb_file_open(p, &d, eb, sizeof(eb)), 0);
    d = worker_deb_file_free(d);
    unlink(p);
    p = write_deb("!<arch>\r", "2.0\n", good_control, 2, data, 1);
    assert_int_equal(worker_deb_file_open(p, &d, eb, sizeof(eb)), -EINVAL);
    assert_string_equal(eb, "not an ar archive");
    unlink(p);
    p = write_deb("!<arch>\n", "3.0\n", good_control, 2, data, 1);
    assert_int_equal(worker_deb_file_open(p, &d, eb, sizeof(eb)), -EINVAL);
    unlink(p);
    assert_int_equal(worker_deb_file_open("/nonexistent.deb", &d, eb, sizeof(eb)), -ENOENT);
    /* Truncated: the ar header promises more bytes than the file has. */
    (void)snprintf(path, sizeof(path), "%s/deb/hello_1.0-1_amd64.deb", PF_TEST_DATA);
    assert_int_equal(pf_buf_read_file(&b, path), 0);
    (void)snprintf(path, sizeof(path), "/tmp/test_deb_file.XXXXXX");
    fd = mkstemp(path);
    assert_int_equal(write(fd, b.p, b.len - 100), (ssize_t)(b.len - 100));
    close(fd);
    assert_int_equal(worker_deb_file_open(path, &d, eb, sizeof(eb)), -EINVAL);
    assert_non_null(strstr(eb, "data.tar"));
    /* Corrupt compressed control.tar.gz: flip bytes inside the member. */
    memset(b.p + 8 + 60 + 4 + 60 + 40, 'Z', 40);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, b.p, b.len), (ssize_t)b.len);
    close(fd);
    assert_true(worker_deb_file_open(path, &d, eb, sizeof(eb)) < 0);
    assert_null(d);
    unlink(path);
    pf_buf_release(&b);
}

static int noop(const struct worker_deb_data_entry *e, void *ctx, void *userdata)
{
    (void)e, (void)ctx, (void)userdata;
    return 0;
}

static void test_hostile(void **state)
{
    static const struct {
        struct pf_test_tent ent;
        const char *msg;
    } cases[] = {
        {{"../etc/passwd", 'f', "x"}, "hostile data.tar entry '../etc/passwd'"},
        {{"/etc/passwd", 'f', "x"}, "hostile data.tar entry '/etc/passwd'"},
        {{"./usr/../../x", 'f', "x"}, "hostile data.tar entry './usr/../../x'"},
        {{"./a\nb", 'f', "x"}, "hostile data.tar entry './a\nb'"},
        {{"./x", 'h', "../etc/shadow"}, "hostile data.tar entry './x'"},
        {{"./fifo", 'p', NULL}, "hostile data.tar entry './fifo'"},
    };
    static const struct pf_test_tent bad_ctl[] = {{"../control", 'f', "Package: x\n"}};
    static const struct pf_test_tent data_ok[] = {{"./", 'd', NULL}};
    struct worker_deb_file *d = NULL;
    char eb[256];
    const char *p;

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        p = write_deb("!<arch>\n", "2.0\n", good_control, 2, &cases[i].ent, 1);
        assert_int_equal(worker_deb_file_open(p, &d, eb, sizeof(eb)), 0);
        eb[0] = '\0';
        assert_int_equal(worker_deb_file_each_data(d, noop, NULL, eb, sizeof(eb)), -EINVAL);
        assert_string_equal(eb, cases[i].msg);
        d = worker_deb_file_free(d);
        unlink(p);
    }
    p = write_deb("!<arch>\n", "2.0\n", bad_ctl, 1, data_ok, 1);
    assert_int_equal(worker_deb_file_open(p, &d, eb, sizeof(eb)), -EINVAL);
    assert_string_equal(eb, "hostile control.tar member '../control'");
    unlink(p);
}

/* A package header is data: Package, Version and Architecture are held to dpkg's grammars. */
static void test_control_names(void **state)
{
    static const struct {
        const char *control, *msg;
    } cases[] = {
        {"Package: ../../x\nVersion: 1\nArchitecture: all\n",
         "control file: invalid Package '../../x'"},
        {"Package: x\nVersion: 1/../../y\nArchitecture: all\n",
         "control file: invalid Version '1/../../y': a character outside [0-9A-Za-z.+~:-]"},
        {"Package: x\nVersion: 1\nArchitecture: ../all\n",
         "control file: invalid Architecture '../all'"},
    };
    static const struct pf_test_tent data_ok[] = {{"./", 'd', NULL}};
    struct worker_deb_file *d = NULL;
    char eb[256];

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        const struct pf_test_tent ctl[] = {{"./", 'd', NULL}, {"./control", 'f', cases[i].control}};
        const char *p = write_deb("!<arch>\n", "2.0\n", ctl, 2, data_ok, 1);

        eb[0] = '\0';
        assert_int_equal(worker_deb_file_open(p, &d, eb, sizeof(eb)), -EINVAL);
        assert_string_equal(eb, cases[i].msg);
        assert_null(d);
        unlink(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gzip_and_xz),     cmocka_unit_test(test_zstd),
        cmocka_unit_test(test_control_members), cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_hostile),         cmocka_unit_test(test_control_names),
    };

    return cmocka_run_group_tests_name("deb_file", tests, NULL, NULL);
}
