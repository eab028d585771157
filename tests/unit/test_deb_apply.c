/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for applying .debs to a layer. The image is one in-memory layer tar (a
 * usr-merged Debian with hello 1.0, libfoo 1.0 Multi-Arch: same and two untouched packages),
 * the packages are the dpkg-deb fixtures of tests/data/deb, and every result is read back from
 * the finished tar.gz, so the tests check what a registry would receive: names, types, link
 * targets, content and whiteouts.
 */
#include "pf_test.h"
#include "pf_test_tar.h"

#include <unistd.h>

#include "pf/strv.h"
#include "deb/deb_apply.h"
#include "deb/dpkg_db.h"
#include "image/layer_view.h"
#include "image/layer_writer.h"

#define MD5_SETTING1 "7d43cb06abb8273056a580aca18d8acb"
#define MD5_SAME1 "5d5a2bac2daf6b6efb151f5f9c0fad12"
#define MD5_SETTING2 "d86dd2060a29aeebf763501ad30702b1"

/* Layers and package members as the tests build them: directories 0750. */
static const struct pf_test_tar_opts tar_opts = {.dir_mode = 0750};

static const char untouched[] = "Package: aaa\n"
                                "Status: install ok installed\n"
                                "Version: 1\n"
                                "Zeta: odd order kept\n"
                                "Architecture: amd64\n"
                                "Maintainer: m\n"
                                "Description: x\n"
                                " y\n";

/* The image's status file; `want` is hello's first status word. */
#define STATUS_TEXT(want)                                                                          \
    "Package: aaa\nStatus: install ok installed\nVersion: 1\nZeta: odd order kept\n"               \
    "Architecture: amd64\nMaintainer: m\nDescription: x\n y\n"                                     \
    "\n"                                                                                           \
    "Package: hello\nStatus: " want " ok installed\nArchitecture: amd64\nVersion: 1.0-1\n"         \
    "Maintainer: Test <test@example.org>\nConffiles:\n /etc/hello.conf " MD5_SETTING1 "\n"         \
    " /etc/hello2.conf " MD5_SAME1 "\nDescription: test package hello\n"                           \
    "\n"                                                                                           \
    "Package: libfoo\nStatus: install ok installed\nMulti-Arch: same\nArchitecture: amd64\n"       \
    "Version: 1.0-1\nMaintainer: m\nDescription: foo\n"                                            \
    "\n"                                                                                           \
    "Package: zzz-other\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n"            \
    "Maintainer: m\nDescription: claims shared.txt\n"

static const char status_text[] = STATUS_TEXT("install");
static const char status_held[] = STATUS_TEXT("hold");

static const struct pf_test_tent image[] = {
    {"./", 'd', NULL},
    {"etc/", 'd', NULL},
    {"etc/hello.conf", 'f', "setting=1\nuser edit\n"},
    {"etc/hello2.conf", 'f', "same=1\n"},
    {"lib", 'l', "usr/lib"},
    {"usr/", 'd', NULL},
    {"usr/bin/", 'd', NULL},
    {"usr/bin/hello", 'f', "hello v1\n"},
    {"usr/bin/hi", 'l', "hello"},
    {"usr/lib/", 'd', NULL},
    {"usr/lib/x86_64-linux-gnu/", 'd', NULL},
    {"usr/lib/x86_64-linux-gnu/libhello.so.1", 'f', "libhello v1\n"},
    {"usr/lib/x86_64-linux-gnu/libfoo.so.1", 'f', "libfoo v1\n"},
    {"usr/share/", 'd', NULL},
    {"usr/share/doc/", 'd', NULL},
    {"usr/share/doc/hello/", 'd', NULL},
    {"usr/share/doc/hello/old.txt", 'f', "old\n"},
    {"usr/share/doc/hello/shared.txt", 'f', "shared\n"},
    {"var/", 'd', NULL},
    {"var/lib/", 'd', NULL},
    {"var/lib/dpkg/", 'd', NULL},
    {"var/lib/dpkg/status", 'f', status_text},
    {"var/lib/dpkg/info/", 'd', NULL},
    {"var/lib/dpkg/info/hello.list", 'f',
     "/.\n/etc\n/etc/hello.conf\n/etc/hello2.conf\n/lib\n/lib/x86_64-linux-gnu\n"
     "/lib/x86_64-linux-gnu/libhello.so.1\n/usr\n/usr/bin\n/usr/bin/hello\n/usr/bin/hi\n/usr/"
     "share\n"
     "/usr/share/doc\n/usr/share/doc/hello\n/usr/share/doc/hello/old.txt\n"
     "/usr/share/doc/hello/shared.txt\n"},
    {"var/lib/dpkg/info/hello.md5sums", 'f', "x  usr/bin/hello\n"},
    /* hello 1.0-1's other control members, as dpkg installed them. */
    {"var/lib/dpkg/info/hello.postinst", 'f', "#!/bin/sh\n# hello 1.0-1\nexit 0\n"},
    {"var/lib/dpkg/info/hello.prerm", 'f', "#!/bin/sh\nexit 0\n"},
    {"var/lib/dpkg/info/hello.shlibs", 'f', "libhello 1 hello (>= 1.0-1)\n"},
    {"var/lib/dpkg/info/hello.triggers", 'f', "activate-noawait ldconfig\n"},
    /* Another package's file: its rest after "hello." holds a dot. */
    {"var/lib/dpkg/info/hello.world.list", 'f', "/.\n"},
    {"var/lib/dpkg/info/libfoo:amd64.list", 'f',
     "/.\n/usr\n/usr/lib\n/usr/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu/libfoo.so.1\n"},
    {"var/lib/dpkg/info/zzz-other.list", 'f', "/.\n/usr/share/doc/hello/shared.txt\n"},
};

static const struct pf_test_tent distroless[] = {
    {"./", 'd', NULL},
    {"lib", 'l', "usr/lib"},
    {"usr/lib/x86_64-linux-gnu/libfoo.so.1", 'f', "libfoo v1\n"},
    {"var/lib/dpkg/status.d/", 'd', NULL},
    {"var/lib/dpkg/status.d/bGliZm9v", 'f',
     "Package: libfoo\nVersion: 1.0-1\nArchitecture: amd64\nMulti-Arch: same\nMaintainer: m\n"
     "Description: foo\n"},
    {"var/lib/dpkg/status.d/bGliZm9v.md5sums", 'f',
     "9b5c47c2f633696e507e2bea25c4e31a  usr/lib/x86_64-linux-gnu/libfoo.so.1\n"},
    {"var/lib/dpkg/status.d/base", 'f', "Package: base-files\nVersion: 12\nArchitecture: amd64\n"},
};

/* The engine's keep set: the dpkg database and everything under etc/. */
static bool keep(const char *path, void *userdata)
{
    (void)userdata;
    return strncmp(path, "etc/", 4) == 0 || strncmp(path, "var/lib/dpkg/", 13) == 0;
}

struct fixture {
    struct worker_layer_view *view;
    struct worker_dpkg_db *db;
    struct worker_layer_writer *w;
};

static void fixture_init(struct fixture *f, const struct pf_test_tent *ents, size_t n, bool statusd)
{
    struct worker_layer_view_options o = {.keep = keep};
    char eb[256] = "", *tar;
    size_t len;
    const char *data;
    size_t dlen;

    memset(f, 0, sizeof(*f));
    assert_int_equal(worker_layer_view_new(&o, &f->view), 0);
    tar = pf_test_tar(ents, n, &tar_opts, &len);
    assert_int_equal(worker_layer_view_apply_memory(f->view, tar, len, eb, sizeof(eb)), 0);
    pf_free(tar);
    if (statusd) {
        struct pf_strv names = PF_STRV_INIT;

        f->db = worker_dpkg_db_new_statusd();
        assert_true(worker_layer_view_list(f->view, "var/lib/dpkg/status.d", &names) > 0);
        for (size_t i = 0; i < names.n; i++) {
            char path[256];

            (void)snprintf(path, sizeof(path), "var/lib/dpkg/status.d/%s", names.v[i]);
            assert_int_equal(worker_layer_view_read(f->view, path, &data, &dlen), 0);
            assert_true(worker_dpkg_db_add_statusd_file(f->db, names.v[i], data, dlen, eb,
                                                        sizeof(eb)) >= 0);
        }
        pf_strv_clear(&names);
    } else {
        assert_int_equal(worker_layer_view_read(f->view, "var/lib/dpkg/status", &data, &dlen), 0);
        assert_int_equal(worker_dpkg_db_parse_status(data, dlen, &f->db, eb, sizeof(eb)), 0);
    }
    assert_int_equal(worker_layer_writer_new(0, &f->w), 0);
}

static void fixture_done(struct fixture *f)
{
    worker_layer_writer_free(f->w);
    worker_dpkg_db_free(f->db);
    worker_layer_view_free(f->view);
}

/* One entry of the produced layer. */
struct out_ent {
    char *name;
    char type; /* 'f', 'd', 'l', 'h' */
    char *link;
    char *data;
    unsigned mode;
    unsigned uid, gid;
};

struct out {
    struct out_ent e[128];
    size_t n;
    char digest[PF_DIGEST_BUFSZ];
};

static void out_free(struct out *o)
{
    for (size_t i = 0; i < o->n; i++) {
        pf_free(o->e[i].name);
        pf_free(o->e[i].link);
        pf_free(o->e[i].data);
    }
    o->n = 0;
}

/* Finishes the writer and reads the layer back. */
static void finish(struct fixture *f, struct out *o)
{
    struct worker_layer_result res;
    char path[] = "/tmp/test_deb_apply.XXXXXX";
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(worker_layer_writer_finish(f->w, fd, &res), 0);
    memcpy(o->digest, res.digest, sizeof(o->digest));
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_fd(a, fd, 4096), ARCHIVE_OK);
    o->n = 0;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        struct out_ent *x = &o->e[o->n++];
        char buf[4096];
        la_ssize_t k;

        assert_true(o->n < PF_ARRAY_SIZE(o->e));
        x->name = pf_strdup(archive_entry_pathname(e));
        x->mode = (unsigned)archive_entry_perm(e);
        x->uid = (unsigned)archive_entry_uid(e);
        x->gid = (unsigned)archive_entry_gid(e);
        x->type = archive_entry_hardlink(e)               ? 'h'
                  : archive_entry_filetype(e) == AE_IFDIR ? 'd'
                  : archive_entry_filetype(e) == AE_IFLNK ? 'l'
                                                          : 'f';
        x->link = archive_entry_hardlink(e)  ? pf_strdup(archive_entry_hardlink(e))
                  : archive_entry_symlink(e) ? pf_strdup(archive_entry_symlink(e))
                                             : NULL;
        k = archive_read_data(a, buf, sizeof(buf) - 1);
        assert_true(k >= 0);
        buf[k] = '\0';
        x->data = pf_strdup(buf);
    }
    archive_read_free(a);
    close(fd);
}

static const struct out_ent *find(const struct out *o, const char *name)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->e[i].name, name) == 0)
            return &o->e[i];
    return NULL;
}

static void assert_file(const struct out *o, const char *name, const char *data)
{
    const struct out_ent *x = find(o, name);

    if (!x)
        fail_msg("'%s' not in the layer", name);
    assert_int_equal(x->type, 'f');
    assert_string_equal(x->data, data);
}

/* The mode, owner and group `name` has in the layer. */
static void assert_attr(const struct out *o, const char *name, unsigned mode, unsigned uid,
                        unsigned gid)
{
    const struct out_ent *x = find(o, name);

    if (!x)
        fail_msg("'%s' not in the layer", name);
    if (x->mode != mode || x->uid != uid || x->gid != gid)
        fail_msg("'%s' is %o %u:%u, want %o %u:%u", name, x->mode, x->uid, x->gid, mode, uid, gid);
}

static const char *deb(const char *name)
{
    static char paths[4][512];
    static unsigned next;
    char *p = paths[next++ % 4];

    (void)snprintf(p, 512, "%s/deb/%s", PF_TEST_DATA, name);
    return p;
}

static int run_classic_with(struct fixture *f, const char *spool,
                            const struct worker_dpkg_statoverrides *so,
                            const struct worker_dpkg_diversions *dv, char *eb, size_t el)
{
    struct worker_deb_apply_item items[] = {
        {deb("hello_2.0-1_amd64.deb"), worker_dpkg_db_find(f->db, "hello", "amd64")},
        {deb("libfoo_2.0-1_amd64.deb"), worker_dpkg_db_find(f->db, "libfoo", "amd64")},
        {deb("newpkg_1.0_all.deb"), NULL},
    };
    int spool_fd = -1;
    struct worker_deb_apply_options o = {.spool_dir = spool,
                                         .ret_spool_fd = &spool_fd,
                                         .native_arch = "amd64",
                                         .statoverrides = so,
                                         .diversions = dv};
    int r = worker_deb_apply(f->view, f->db, items, PF_ARRAY_SIZE(items), &o, f->w, eb, el);

    return r < 0 ? r : spool_fd;
}

static int run_classic(struct fixture *f, const char *spool, char *eb, size_t el)
{
    return run_classic_with(f, spool, NULL, NULL, eb, el);
}

static void test_upgrade(void **state)
{
    struct fixture f;
    struct out o = {.n = 0};
    const struct worker_dpkg_pkg *p;
    const struct out_ent *x;
    char eb[256] = "";
    int r;

    (void)state;
    fixture_init(&f, image, PF_ARRAY_SIZE(image), false);
    r = run_classic(&f, NULL, eb, sizeof(eb));
    if (r != -1)
        fail_msg("apply: %d %s", r, eb);
    finish(&f, &o);
    /* Files routed through lib -> usr/lib; the symlink itself is untouched. */
    assert_file(&o, "usr/lib/x86_64-linux-gnu/libhello.so.1", "libhello v2\n");
    assert_null(find(&o, "lib/"));
    assert_null(find(&o, "lib"));
    assert_null(find(&o, "lib/x86_64-linux-gnu/"));
    /* Parents the layer needs carry the view's attributes (0750 in the image). */
    x = find(&o, "usr/lib/x86_64-linux-gnu/");
    assert_non_null(x);
    assert_int_equal(x->type, 'd');
    assert_int_equal(x->mode, 0750);
    assert_file(&o, "usr/bin/hello", "hello v2\n");
    assert_int_equal(find(&o, "usr/bin/hello")->mode, 0755);
    x = find(&o, "usr/bin/hello-hard");
    assert_non_null(x);
    assert_int_equal(x->type, 'h');
    assert_string_equal(x->link, "usr/bin/hello");
    x = find(&o, "usr/bin/hi");
    assert_non_null(x);
    assert_int_equal(x->type, 'l');
    assert_string_equal(x->link, "hello");
    /* Conffiles: the edited one is kept, the new one lands beside it; the unedited one is
     * rewritten. */
    assert_null(find(&o, "etc/hello.conf"));
    assert_file(&o, "etc/hello.conf.dpkg-dist", "setting=2\n");
    assert_file(&o, "etc/hello2.conf", "same=1\n");
    /* Removed files: whiteout, unless another package still lists them. */
    assert_file(&o, "usr/share/doc/hello/.wh.old.txt", "");
    assert_null(find(&o, "usr/share/doc/hello/.wh.shared.txt"));
    assert_file(&o, "usr/share/doc/hello/new.txt", "new doc\n");
    assert_file(&o, "usr/lib/x86_64-linux-gnu/.wh.libfoo.so.1", "");
    assert_file(&o, "usr/lib/x86_64-linux-gnu/libfoo.so.2", "libfoo v2\n");
    /* Multi-Arch: same names its info files <pkg>:<arch>. */
    assert_file(&o, "var/lib/dpkg/info/libfoo:amd64.list",
                "/.\n/usr\n/usr/lib\n/usr/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu/"
                "libfoo.so.2\n");
    assert_null(find(&o, "var/lib/dpkg/info/libfoo.list"));
    assert_file(&o, "var/lib/dpkg/info/hello.list",
                "/.\n/etc\n/etc/hello.conf\n/etc/hello2.conf\n/lib\n/lib/x86_64-linux-gnu\n"
                "/lib/x86_64-linux-gnu/libhello.so.1\n/usr\n/usr/bin\n/usr/bin/hello\n"
                "/usr/bin/hello-hard\n/usr/share\n/usr/share/doc\n/usr/share/doc/hello\n"
                "/usr/share/doc/hello/new.txt\n/usr/bin/hi\n");
    assert_file(&o, "var/lib/dpkg/info/hello.conffiles", "/etc/hello.conf\n/etc/hello2.conf\n");
    assert_non_null(strstr(find(&o, "var/lib/dpkg/info/hello.md5sums")->data, "  usr/bin/hello\n"));
    /* The other control members are the new version's, with dpkg's modes; those it dropped
     * are gone; another package's look-alike is left alone. */
    assert_file(&o, "var/lib/dpkg/info/hello.postinst", "#!/bin/sh\n# hello 2.0-1\nexit 0\n");
    assert_attr(&o, "var/lib/dpkg/info/hello.postinst", 0755, 0, 0);
    assert_file(&o, "var/lib/dpkg/info/hello.shlibs", "libhello 1 hello (>= 2.0-1)\n");
    assert_attr(&o, "var/lib/dpkg/info/hello.shlibs", 0644, 0, 0);
    assert_file(&o, "var/lib/dpkg/info/hello.symbols",
                "libhello.so.1 hello #MINVER#\n hello_fn@Base 2.0-1\n");
    assert_file(&o, "var/lib/dpkg/info/.wh.hello.prerm", "");
    assert_file(&o, "var/lib/dpkg/info/.wh.hello.triggers", "");
    assert_null(find(&o, "var/lib/dpkg/info/.wh.hello.world.list"));
    assert_null(find(&o, "var/lib/dpkg/info/hello.control"));
    /* A new package. Its archive has a 0700 postinst, a 0600 prerm, a 0640 templates: dpkg
     * makes the postinst it runs 0755 and keeps the others' modes. */
    assert_file(&o, "var/lib/dpkg/info/newpkg.postinst", "#!/bin/sh\nexit 0\n");
    assert_attr(&o, "var/lib/dpkg/info/newpkg.postinst", 0755, 0, 0);
    assert_attr(&o, "var/lib/dpkg/info/newpkg.prerm", 0600, 0, 0);
    assert_attr(&o, "var/lib/dpkg/info/newpkg.templates", 0640, 0, 0);
    assert_file(&o, "usr/share/newpkg/data.txt", "new data\n");
    assert_int_equal(find(&o, "usr/share/newpkg/")->type, 'd');
    assert_file(&o, "var/lib/dpkg/info/newpkg.list",
                "/.\n/usr\n/usr/share\n/usr/share/newpkg\n"
                "/usr/share/newpkg/data.txt\n");
    /* status: untouched stanzas byte for byte, replaced ones in dpkg's field order. */
    x = find(&o, "var/lib/dpkg/status");
    assert_non_null(x);
    assert_memory_equal(x->data, untouched, strlen(untouched));
    assert_non_null(strstr(
        x->data, "\n\nPackage: hello\nStatus: install ok installed\n"
                 "Maintainer: Test <test@example.org>\nArchitecture: amd64\nVersion: 2.0-1\n"
                 "Depends: libfoo (>= 2)\nConffiles:\n /etc/hello.conf " MD5_SETTING2 "\n"
                 " /etc/hello2.conf " MD5_SAME1 "\nDescription: test package hello\n"
                 " long line one\n .\n long line two\nHomepage: https://example.org/hello\n\n"
                 "Package: libfoo\n"));
    assert_non_null(strstr(x->data, "\n\nPackage: newpkg\nStatus: install ok installed\n"));
    assert_non_null(strstr(x->data,
                           "Package: zzz-other\nStatus: install ok installed\nArchitecture: all\n"
                           "Version: 1\nMaintainer: m\nDescription: claims shared.txt\n\n"));
    /* The in-memory database follows. */
    p = worker_dpkg_db_find(f.db, "hello", "amd64");
    assert_string_equal(p->version, "2.0-1");
    assert_int_equal(p->n_conffiles, 2);
    assert_non_null(worker_dpkg_db_find(f.db, "newpkg", "all"));
    assert_int_equal(f.db->n, 5);
    out_free(&o);
    fixture_done(&f);
}

static void test_deterministic_and_spool(void **state)
{
    char digests[3][PF_DIGEST_BUFSZ];
    char eb[256] = "";

    (void)state;
    for (int i = 0; i < 3; i++) {
        struct fixture f;
        struct out o = {.n = 0};
        int fd;

        fixture_init(&f, image, PF_ARRAY_SIZE(image), false);
        fd = run_classic(&f, i == 2 ? "/tmp" : NULL, eb, sizeof(eb));
        if (fd < -1)
            fail_msg("apply: %d %s", fd, eb);
        assert_true(i == 2 ? fd >= 0 : fd == -1);
        finish(&f, &o);
        memcpy(digests[i], o.digest, sizeof(digests[i]));
        if (fd >= 0)
            close(fd);
        out_free(&o);
        fixture_done(&f);
    }
    assert_string_equal(digests[0], digests[1]);
    assert_string_equal(digests[0], digests[2]); /* spooled content gives the same bytes */
}

static void test_distroless(void **state)
{
    struct fixture f;
    struct out o = {.n = 0};
    struct worker_deb_apply_options opt = {.native_arch = "amd64"};
    struct worker_deb_apply_item item = {deb("libfoo_2.0-1_amd64.deb"), NULL};
    const struct worker_dpkg_pkg *p;
    char eb[256] = "";
    int r;

    (void)state;
    fixture_init(&f, distroless, PF_ARRAY_SIZE(distroless), true);
    item.old = worker_dpkg_db_find(f.db, "libfoo", "amd64");
    assert_non_null(item.old);
    r = worker_deb_apply(f.view, f.db, &item, 1, &opt, f.w, eb, sizeof(eb));
    if (r != 0)
        fail_msg("apply: %d %s", r, eb);
    finish(&f, &o);
    /* The existing (base64) file name is kept; the stanza is the control file as shipped. */
    assert_file(&o, "var/lib/dpkg/status.d/bGliZm9v",
                "Package: libfoo\nVersion: 2.0-1\nArchitecture: amd64\nMaintainer: Test "
                "<test@example.org>\n"
                "Multi-Arch: same\nSource: foo (2.0-1)\nDescription: test package libfoo\n long "
                "line one\n"
                " .\n long line two\nHomepage: https://example.org/libfoo\n");
    assert_non_null(strstr(find(&o, "var/lib/dpkg/status.d/bGliZm9v.md5sums")->data,
                           "  usr/lib/x86_64-linux-gnu/libfoo.so.2\n"));
    assert_file(&o, "usr/lib/x86_64-linux-gnu/.wh.libfoo.so.1", "");
    assert_file(&o, "usr/lib/x86_64-linux-gnu/libfoo.so.2", "libfoo v2\n");
    assert_null(find(&o, "var/lib/dpkg/status"));
    assert_null(find(&o, "var/lib/dpkg/info/"));
    assert_null(find(&o, "var/lib/dpkg/status.d/base"));
    p = worker_dpkg_db_find(f.db, "libfoo", "amd64");
    assert_string_equal(p->version, "2.0-1");
    assert_string_equal(p->statusd_file, "bGliZm9v");
    assert_string_equal(p->source_name, "foo");
    out_free(&o);
    fixture_done(&f);
}

/* The package bound: libfoo's data.tar holds 10 bytes of files; a bound of 4 refuses it,
 * naming the package, the limit and its option. */
static void test_package_size_bound(void **state)
{
    struct fixture f;
    struct worker_deb_apply_options opt = {.native_arch = "amd64", .max_package_size = 4};
    struct worker_deb_apply_item item = {deb("libfoo_2.0-1_amd64.deb"), NULL};
    char eb[256] = "";

    (void)state;
    fixture_init(&f, distroless, PF_ARRAY_SIZE(distroless), true);
    item.old = worker_dpkg_db_find(f.db, "libfoo", "amd64");
    assert_int_equal(worker_deb_apply(f.view, f.db, &item, 1, &opt, f.w, eb, sizeof(eb)), -EFBIG);
    if (!strstr(eb, "package 'libfoo'") || !strstr(eb, "4 bytes") ||
        !strstr(eb, "--max-package-size"))
        fail_msg("the error does not name the package and the limit: '%s'", eb);
    fixture_done(&f);
}

/* A held package whose admin deleted one conffile and edited another the distribution kept. */
static void test_conffile_rules(void **state)
{
    struct pf_test_tent ents[PF_ARRAY_SIZE(image)];
    struct fixture f;
    struct out o = {.n = 0};
    size_t n = 0;
    char eb[256] = "";
    int r;

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(image); i++) {
        if (strcmp(image[i].name, "etc/hello.conf") == 0)
            continue;
        ents[n] = image[i];
        if (strcmp(image[i].name, "etc/hello2.conf") == 0)
            ents[n].data = "same=1\nedited\n";
        if (strcmp(image[i].name, "var/lib/dpkg/status") == 0)
            ents[n].data = status_held;
        n++;
    }
    fixture_init(&f, ents, n, false);
    r = run_classic(&f, NULL, eb, sizeof(eb));
    if (r != -1)
        fail_msg("apply: %d %s", r, eb);
    finish(&f, &o);
    assert_null(find(&o, "etc/hello.conf"));
    assert_null(find(&o, "etc/hello.conf.dpkg-dist"));
    assert_null(find(&o, "etc/hello2.conf"));
    assert_null(find(&o, "etc/hello2.conf.dpkg-dist"));
    assert_non_null(strstr(find(&o, "var/lib/dpkg/status")->data,
                           "Package: hello\nStatus: hold ok installed\n"));
    /* Conffiles records the new packaged hashes even for kept files. */
    assert_non_null(strstr(find(&o, "var/lib/dpkg/status")->data,
                           " /etc/hello.conf " MD5_SETTING2 "\n /etc/hello2.conf " MD5_SAME1 "\n"));
    assert_true(worker_dpkg_db_find(f.db, "hello", "amd64")->held);
    out_free(&o);
    fixture_done(&f);
}

static void test_refused(void **state)
{
    struct worker_deb_apply_options opt = {.native_arch = "amd64"};
    struct fixture f;
    char eb[256];

    (void)state;
    fixture_init(&f, image, PF_ARRAY_SIZE(image), false);
    {
        /* A .deb that is not the installed package it claims to replace. */
        struct worker_deb_apply_item item = {deb("libfoo_2.0-1_amd64.deb"),
                                             worker_dpkg_db_find(f.db, "hello", "amd64")};

        assert_int_equal(worker_deb_apply(f.view, f.db, &item, 1, &opt, f.w, eb, sizeof(eb)),
                         -EINVAL);
        assert_non_null(strstr(eb, "holds libfoo:amd64, not the installed hello:amd64"));
    }
    fixture_done(&f);
    fixture_init(&f, image, PF_ARRAY_SIZE(image), false);
    {
        /* Two items writing the same file. */
        const struct worker_dpkg_pkg *hello = worker_dpkg_db_find(f.db, "hello", "amd64");
        struct worker_deb_apply_item items[] = {
            {deb("hello_2.0-1_amd64.deb"), hello},
            {deb("hello_1.0-1_amd64.deb"), hello},
        };

        assert_int_equal(worker_deb_apply(f.view, f.db, items, 2, &opt, f.w, eb, sizeof(eb)),
                         -EINVAL);
        assert_non_null(strstr(eb, "is written by both hello and hello"));
    }
    fixture_done(&f);
    fixture_init(&f, image, PF_ARRAY_SIZE(image), false);
    {
        /* A new package of a foreign architecture. */
        struct worker_deb_apply_options arm = {.native_arch = "arm64"};
        struct worker_deb_apply_item item = {deb("hello_2.0-1_amd64.deb"), NULL};

        assert_int_equal(worker_deb_apply(f.view, f.db, &item, 1, &arm, f.w, eb, sizeof(eb)),
                         -EINVAL);
        assert_non_null(strstr(eb, "is for architecture 'amd64', not 'arm64'"));
    }
    fixture_done(&f);
}

/* Stat overrides, read from the image as the engine reads them, are applied to what the
 * packages unpack: owner, group and permission bits, matched on the packaged path (so also
 * through lib -> usr/lib); the hard link carries its target's; other files keep the archive's. */
static void test_statoverride(void **state)
{
    struct pf_test_tent ents[PF_ARRAY_SIZE(image) + 2];
    struct worker_dpkg_statoverrides so;
    struct fixture f;
    struct out o = {.n = 0};
    char eb[256] = "";
    int r;

    (void)state;
    memcpy(ents, image, sizeof(image));
    ents[PF_ARRAY_SIZE(image)] = (struct pf_test_tent){"etc/group", 'f',
                                                       "root:x:0:\nstaff:x:50:\n"};
    ents[PF_ARRAY_SIZE(image) + 1] = (struct pf_test_tent){"var/lib/dpkg/statoverride", 'f',
                                                           "root staff 4750 /usr/bin/hello\n#7 #8 "
                                                           "0600 "
                                                           "/lib/x86_64-linux-gnu/libhello.so.1\n"};
    fixture_init(&f, ents, PF_ARRAY_SIZE(ents), false);
    assert_int_equal(worker_dpkg_statoverrides_load(f.view, &so, eb, sizeof(eb)), 0);
    assert_int_equal(so.n, 2);
    r = run_classic_with(&f, NULL, &so, NULL, eb, sizeof(eb));
    if (r != -1)
        fail_msg("apply: %d %s", r, eb);
    finish(&f, &o);
    assert_attr(&o, "usr/bin/hello", 04750, 0, 50);
    assert_attr(&o, "usr/bin/hello-hard", 04750, 0, 50); /* a hard link: its target's */
    assert_attr(&o, "usr/lib/x86_64-linux-gnu/libhello.so.1", 0600, 7, 8);
    assert_attr(&o, "usr/share/doc/hello/new.txt", 0644, 0, 0);
    worker_dpkg_statoverrides_release(&so);
    out_free(&o);
    fixture_done(&f);
}

/* A statoverride naming a group the image lacks: the load fails, naming file and line. */
static void test_statoverride_unknown_group(void **state)
{
    struct pf_test_tent ents[PF_ARRAY_SIZE(image) + 1];
    struct worker_dpkg_statoverrides so;
    struct fixture f;
    char eb[256] = "";

    (void)state;
    memcpy(ents, image, sizeof(image));
    ents[PF_ARRAY_SIZE(image)] = (struct pf_test_tent){"var/lib/dpkg/statoverride", 'f',
                                                       "root crontab 2755 /usr/bin/hello\n"};
    fixture_init(&f, ents, PF_ARRAY_SIZE(ents), false);
    assert_int_equal(worker_dpkg_statoverrides_load(f.view, &so, eb, sizeof(eb)), -EINVAL);
    assert_string_equal(eb, "/var/lib/dpkg/statoverride: statoverride line 1: 'crontab' is not "
                            "in the image's etc/group");
    fixture_done(&f);
}

/* Diversions: hello's /usr/bin/hello is diverted by another package, so hello 2.0 lands at
 * hello.distrib (its hard link too) and the other package's file stays; old.txt, dropped by
 * hello 2.0, was diverted locally, so the whiteout is for the diverted name and the
 * administrator's old.txt stays. */
static void test_diversions(void **state)
{
    struct pf_test_tent ents[PF_ARRAY_SIZE(image) + 2];
    struct worker_dpkg_diversions dv;
    struct fixture f;
    struct out o = {.n = 0};
    const struct out_ent *x;
    char eb[256] = "";
    int r;

    (void)state;
    memcpy(ents, image, sizeof(image));
    ents[PF_ARRAY_SIZE(image)] = (struct pf_test_tent){"usr/share/doc/hello/old.txt.div", 'f',
                                                       "old\n"};
    ents[PF_ARRAY_SIZE(image) + 1] =
        (struct pf_test_tent){"var/lib/dpkg/diversions", 'f',
                              "/usr/share/doc/hello/old.txt\n/usr/share/doc/hello/old.txt.div\n:\n"
                              "/usr/bin/hello\n/usr/bin/hello.distrib\nzzz-other\n"
                              "/usr/share/doc/hello/new.txt\n/usr/share/doc/hello/"
                              "new.txt.mine\nhello\n"};
    fixture_init(&f, ents, PF_ARRAY_SIZE(ents), false);
    assert_int_equal(worker_dpkg_diversions_load(f.view, &dv, eb, sizeof(eb)), 0);
    assert_int_equal(dv.n, 3);
    r = run_classic_with(&f, NULL, NULL, &dv, eb, sizeof(eb));
    if (r != -1)
        fail_msg("apply: %d %s", r, eb);
    finish(&f, &o);
    assert_file(&o, "usr/bin/hello.distrib", "hello v2\n");
    assert_null(find(&o, "usr/bin/hello"));
    x = find(&o, "usr/bin/hello-hard");
    assert_non_null(x);
    assert_int_equal(x->type, 'h');
    assert_string_equal(x->link, "usr/bin/hello.distrib");
    /* Diverted by hello itself: hello's own file stays at the packaged name. */
    assert_non_null(find(&o, "usr/share/doc/hello/new.txt"));
    assert_null(find(&o, "usr/share/doc/hello/new.txt.mine"));
    assert_file(&o, "usr/share/doc/hello/.wh.old.txt.div", "");
    assert_null(find(&o, "usr/share/doc/hello/.wh.old.txt"));
    /* The .list keeps the packaged names, as dpkg's does. */
    x = find(&o, "var/lib/dpkg/info/hello.list");
    assert_non_null(x);
    assert_non_null(strstr(x->data, "/usr/bin/hello\n"));
    assert_null(strstr(x->data, "hello.distrib"));
    worker_dpkg_diversions_release(&dv);
    out_free(&o);
    fixture_done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upgrade),        cmocka_unit_test(test_deterministic_and_spool),
        cmocka_unit_test(test_distroless),     cmocka_unit_test(test_package_size_bound),
        cmocka_unit_test(test_conffile_rules), cmocka_unit_test(test_refused),
        cmocka_unit_test(test_statoverride),   cmocka_unit_test(test_statoverride_unknown_group),
        cmocka_unit_test(test_diversions),
    };

    return cmocka_run_group_tests_name("deb_apply", tests, NULL, NULL);
}
