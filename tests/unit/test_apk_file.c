/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the apk stanza parser/renderer and the v2 file reader against fixtures made by
 * tests/data/apk/generate.sh (abuild's recipe): a signed index verifies with the test key and
 * is refused when tampered or when the key is not trusted; a package matches its index
 * identity and datahash and is refused when tampered; the installed database round-trips.
 */
#include "pf_test.h"

#include <errno.h>

#include "apk/apk_db.h"
#include "apk/apk_file.h"

static void load_keys(struct worker_apk_keys *k)
{
    size_t len;
    char *pem = pf_test_read_data("apk/test@patchfleet-5f00.rsa.pub", &len);

    *k = (struct worker_apk_keys){PF_STRV_INIT, PF_STRV_INIT};
    assert_int_equal(pf_strv_push(&k->names, "test@patchfleet-5f00.rsa.pub"), 0);
    assert_int_equal(pf_strv_push_take(&k->pems, pem), 0);
}

static void index_verifies_and_parses(void **state)
{
    struct worker_apk_keys keys;
    struct worker_apk_db db = {0};
    size_t len, tlen, elen;
    char *raw = pf_test_read_data("apk/APKINDEX.tar.gz", &len);
    char *expect = pf_test_read_data("apk/APKINDEX.txt", &elen);
    char *text = NULL, err[256] = "";

    (void)state;
    load_keys(&keys);
    assert_int_equal(worker_apk_index_open(raw, len, &keys, &text, &tlen, err, sizeof(err)), 0);
    assert_int_equal(tlen, elen);
    assert_memory_equal(text, expect, elen);
    assert_int_equal(worker_apk_db_parse(&db, text, tlen, false, err, sizeof(err)), 5);
    struct worker_apk_pkg *p = worker_apk_db_find(&db, "demo-new");
    assert_non_null(p);
    assert_string_equal(p->version, "2.0-r0");
    assert_int_equal(p->provides.n, 2);
    assert_string_equal(p->provides.v[0], "so:libnew.so.1=1");
    assert_false(p->uninstallable);
    worker_apk_db_release(&db);
    pf_free(text);
    pf_free(raw);
    pf_free(expect);
    worker_apk_keys_clear(&keys);
}

static void index_refused(void **state)
{
    struct worker_apk_keys keys, other = {PF_STRV_INIT, PF_STRV_INIT};
    size_t len, tlen = 0;
    char *raw = pf_test_read_data("apk/APKINDEX-tampered.tar.gz", &len);
    char *text = NULL, err[256] = "";

    (void)state;
    load_keys(&keys);
    assert_int_equal(worker_apk_index_open(raw, len, &keys, &text, &tlen, err, sizeof(err)),
                     -EBADMSG);
    assert_non_null(strstr(err, "signature"));
    assert_null(text);
    pf_free(raw);
    raw = pf_test_read_data("apk/APKINDEX.tar.gz", &len);
    assert_int_equal(worker_apk_index_open(raw, len, &other, &text, &tlen, err, sizeof(err)),
                     -ENOKEY);
    /* a package is not an index: its first member is signed but carries .PKGINFO, not APKINDEX */
    assert_int_equal(worker_apk_index_open("junk", 4, &keys, &text, &tlen, err, sizeof(err)),
                     -EBADMSG);
    pf_free(raw);
    worker_apk_keys_clear(&keys);
}

/* The signed member's mtime is the index date that rollback protection compares: the fixture
 * generator stamps every member with 1700000000. */
static void index_date(void **state)
{
    struct worker_apk_keys keys;
    size_t len, tlen = 0;
    char *raw = pf_test_read_data("apk/APKINDEX.tar.gz", &len);
    char *text = NULL, err[256] = "";
    time_t mtime = 0;

    (void)state;
    load_keys(&keys);
    assert_int_equal(worker_apk_index_open_dated(raw, len, &keys, &text, &tlen, &mtime, err,
                                                 sizeof(err)),
                     0);
    assert_int_equal(mtime, 1700000000);
    pf_free(text);
    pf_free(raw);
    worker_apk_keys_clear(&keys);
}

struct seen {
    int files, dirs, links;
    bool saw_lib;
};

static int count_entry(const struct worker_apk_entry *e, void *userdata)
{
    struct seen *s = userdata;

    if (e->type == 'd')
        s->dirs++;
    else if (e->type == 'l')
        s->links++;
    else
        s->files++;
    if (strcmp(e->path, "usr/lib/libdemo.so.1") == 0) {
        assert_int_equal(e->size, 3);
        assert_memory_equal(e->data, "v1\n", 3);
        s->saw_lib = true;
    }
    return 0;
}

static void package_checks(void **state)
{
    struct worker_apk_keys keys;
    struct worker_apk_db db = {0};
    struct worker_apk_pkgfile f = {0};
    struct seen s = {0};
    size_t len, ilen, tlen;
    char *raw = pf_test_read_data("apk/demo-base-1.0-r1.apk", &len);
    char *bad = NULL;
    char *idx = pf_test_read_data("apk/APKINDEX.txt", &ilen);
    char err[256] = "", *v;

    (void)state;
    load_keys(&keys);
    assert_true(worker_apk_db_parse(&db, idx, ilen, false, err, sizeof(err)) > 0);
    const struct worker_apk_pkg *p = NULL;
    for (size_t i = 0; i < db.n; i++)
        if (strcmp(db.v[i].name, "demo-base") == 0 && strcmp(db.v[i].version, "1.0-r1") == 0)
            p = &db.v[i];
    assert_non_null(p);
    assert_int_equal(worker_apk_file_open(raw, len, p->identity, &keys, &f, err, sizeof(err)), 0);
    v = worker_apk_pkginfo_get(f.pkginfo, "pkgver", 0);
    assert_string_equal(v, "1.0-r1");
    pf_free(v);
    assert_int_equal(worker_apk_file_each(&f, count_entry, &s, err, sizeof(err)), 0);
    assert_true(s.saw_lib);
    assert_int_equal(s.links, 1);
    assert_true(s.dirs >= 4);
    worker_apk_file_release(&f);
    /* the wrong identity (another version's C:) and a tampered data member are refused */
    assert_int_equal(worker_apk_file_open(raw, len, db.v[0].identity, &keys, &f, err, sizeof(err)),
                     -EBADMSG);
    assert_non_null(strstr(err, "control"));
    bad = pf_test_read_data("apk/demo-base-tampered.apk", &tlen);
    assert_int_equal(worker_apk_file_open(bad, tlen, p->identity, &keys, &f, err, sizeof(err)),
                     -EBADMSG);
    assert_non_null(strstr(err, "datahash"));
    pf_free(bad);
    pf_free(raw);
    pf_free(idx);
    worker_apk_db_release(&db);
    worker_apk_keys_clear(&keys);
}

static void installed_roundtrip(void **state)
{
    static const char text[] = "C:Q1QxtcNktUgc8E2MrJpAPxSa5rC5o=\nP:demo\nV:1.0-r0\nA:x86_64\n"
                               "x:unknown lower case kept\nF:etc\nM:0:0:700\nR:demo.conf\n"
                               "a:0:42:640\nZ:Q1K875NJU/B32kNJJGfs7a+I087lM=\nF:usr/bin\nR:demo\n"
                               "Z:Q1Z2P3lH5KqG8CkxRA4PmKctdDbdY=\n\n"
                               "P:other\nV:2\nF:\nR:rootfile\n\n";
    struct worker_apk_db db = {0}, copy = {0};
    char *out = NULL, err[128];
    size_t n;

    (void)state;
    assert_int_equal(worker_apk_db_parse(&db, text, strlen(text), true, err, sizeof(err)), 2);
    assert_int_equal(db.v[0].n_dirs, 2);
    assert_true(db.v[0].dirs[0].has_acl);
    assert_int_equal(db.v[0].dirs[0].mode, 0700);
    assert_int_equal(db.v[0].dirs[0].files[0].gid, 42);
    assert_int_equal(db.v[0].dirs[0].files[0].mode, 0640);
    assert_int_equal(worker_apk_db_add_copy(&copy, &db.v[0]), 0);
    assert_int_equal(worker_apk_db_add_copy(&copy, &db.v[1]), 0);
    assert_int_equal(worker_apk_db_render(&copy, &out, &n), 0);
    assert_int_equal(n, strlen(text));
    assert_string_equal(out, text);
    pf_free(out);
    worker_apk_db_release(&db);
    worker_apk_db_release(&copy);
}

static void malformed_refused(void **state)
{
    static const char *const bad[] = {
        "P:x\nV:1\nR:file-before-dir\n\n",
        "P:x\nV:1\nF:d\nM:0:0:99999\n\n",
        "P:x\nV:1\nf:Q\n\n",
        "no colon\n\n",
        "P:x\n\n",
        "P:x\nV:1\nF:d\nR:a/b\n\n",
        "P:x\nV:1\nF:d\nR:f\nZ:Q1a\nZ:Q1b\n\n",
    };
    char err[128];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct worker_apk_db db = {0};

        assert_int_equal(worker_apk_db_parse(&db, bad[i], strlen(bad[i]), true, err, sizeof(err)),
                         -EBADMSG);
        worker_apk_db_release(&db);
    }
    struct worker_apk_db db = {0};
    /* an index stanza with an unknown upper-case field is parsed but not installable */
    assert_int_equal(worker_apk_db_parse(&db, "P:x\nV:1\nQ:new\n", 14, false, err, sizeof(err)), 1);
    assert_true(db.v[0].uninstallable);
    worker_apk_db_release(&db);
}

static void atoms(void **state)
{
    static const struct {
        const char *in, *name, *tag, *op, *ver;
        bool conflict;
    } t[] = {
        {"busybox", "busybox", "", "", "", false},
        {"busybox=1.36.1-r0", "busybox", "", "=", "1.36.1-r0", false},
        {"foo@edge", "foo", "edge", "", "", false},
        {"!bar", "bar", "", "", "", true},
        {"so:libc.musl-x86_64.so.1>=1", "so:libc.musl-x86_64.so.1", "", ">=", "1", false},
        {"foo@testing~1.2", "foo", "testing", "~", "1.2", false},
    };
    struct worker_apk_atom a;

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_int_equal(worker_apk_atom_parse(t[i].in, &a), 0);
        assert_string_equal(a.name, t[i].name);
        assert_string_equal(a.tag, t[i].tag);
        assert_string_equal(a.op, t[i].op);
        assert_string_equal(a.version, t[i].ver);
        assert_int_equal(a.conflict, t[i].conflict);
    }
    assert_int_equal(worker_apk_atom_parse("", &a), -EINVAL);
    assert_int_equal(worker_apk_atom_parse("x=", &a), -EINVAL);
    assert_int_equal(worker_apk_atom_parse("@tag", &a), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(index_verifies_and_parses),
        cmocka_unit_test(index_refused),
        cmocka_unit_test(index_date),
        cmocka_unit_test(package_checks),
        cmocka_unit_test(installed_roundtrip),
        cmocka_unit_test(malformed_refused),
        cmocka_unit_test(atoms),
    };

    return cmocka_run_group_tests_name("apk_file", tests, NULL, NULL);
}
