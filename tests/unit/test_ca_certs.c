/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for deb/ca_certs.h against tests/data/ca_certs (its generate.sh): an image
 * without /etc/ca-certificates.conf is left alone; an upgrade that drops A and ships B and C
 * deselects A in the conf, whites out A's links (its .pem link and the hash link that now
 * dangles), links and bundles C, and keeps a local file that is no certificate in the bundle
 * but out of the hash links, as update-ca-certificates and openssl rehash do. The integration
 * test patch_ca_certificates.sh compares the whole result with the real tools.
 */
#include "pf_test.h"
#include "pf_test_tar.h"

#include <unistd.h>

#include "pf/signature.h"
#include "deb/ca_certs.h"
#include "image/layer_view.h"
#include "image/layer_writer.h"

/* The Debian engine's keep set, as far as this step reads it. */
/* Image layers as the tests build them: directories 0755. */
static const struct pf_test_tar_opts tar_opts = {.dir_mode = 0755};

static bool keep(const char *path, void *userdata)
{
    (void)userdata;
    return strncmp(path, "etc/", 4) == 0 ||
           strncmp(path, WORKER_CA_CERTS_LOCAL_DIR "/", strlen(WORKER_CA_CERTS_LOCAL_DIR) + 1) == 0;
}

struct out {
    char *name[64];
    char *body[64]; /* link target or file content */
    size_t n;
};

/* Runs the step on a view of `ents` and reads the layer back into `o`. */
static int run(const struct pf_test_tent *ents, size_t n, struct out *o)
{
    struct worker_layer_view_options opts = {.keep = keep};
    struct worker_layer_view *view = NULL;
    struct worker_layer_writer *w = NULL;
    struct worker_layer_result res;
    char eb[256] = "", path[] = "/tmp/test_ca_certs.XXXXXX";
    char deb[4096];
    struct archive *a;
    struct archive_entry *e;
    size_t len;
    char *tar = pf_test_tar(ents, n, &tar_opts, &len);
    int fd, r;

    assert_int_equal(worker_layer_view_new(&opts, &view), 0);
    assert_int_equal(worker_layer_view_apply_memory(view, tar, len, eb, sizeof(eb)), 0);
    pf_free(tar);
    assert_int_equal(worker_layer_writer_new(0, &w), 0);
    (void)snprintf(deb, sizeof(deb), "%s/ca_certs/ca-certificates_2.0-1_all.deb", PF_TEST_DATA);
    r = worker_ca_certs_apply(view, deb, w, eb, sizeof(eb));
    fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(worker_layer_writer_finish(w, fd, &res), 0);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_fd(a, fd, 4096), ARCHIVE_OK);
    o->n = 0;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        char buf[8192];
        la_ssize_t k = archive_read_data(a, buf, sizeof(buf) - 1);

        assert_true(o->n < PF_ARRAY_SIZE(o->name) && k >= 0);
        buf[k] = '\0';
        o->name[o->n] = pf_strdup(archive_entry_pathname(e));
        o->body[o->n] = pf_strdup(archive_entry_symlink(e) ? archive_entry_symlink(e) : buf);
        o->n++;
    }
    archive_read_free(a);
    close(fd);
    worker_layer_writer_free(w);
    worker_layer_view_free(view);
    return r;
}

static void out_free(struct out *o)
{
    for (size_t i = 0; i < o->n; i++) {
        pf_free(o->name[i]);
        pf_free(o->body[i]);
    }
    o->n = 0;
}

static const char *body(const struct out *o, const char *name)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->name[i], name) == 0)
            return o->body[i];
    return NULL;
}

static void no_conf(void **state)
{
    static const struct pf_test_tent ents[] = {
        {"etc/", 'd', NULL},
        {"etc/ssl/", 'd', NULL},
        {"etc/ssl/certs/", 'd', NULL},
        {"etc/ssl/certs/ca-certificates.crt", 'f', "prebuilt bundle\n"},
    };
    struct out o = {0};

    (void)state;
    assert_int_equal(run(ents, PF_ARRAY_SIZE(ents), &o), 0);
    assert_int_equal(o.n, 0);
}

static void upgrade(void **state)
{
    size_t blen, clen;
    char *b = pf_test_read_data("ca_certs/B.crt", &blen);
    char *c = pf_test_read_data("ca_certs/C.crt", &clen);
    const struct pf_test_tent ents[] = {
        {"etc/", 'd', NULL},
        {"etc/ca-certificates.conf", 'f', "# comment\ntest/A.crt\ntest/B.crt\n"},
        {"etc/ssl/", 'd', NULL},
        {"etc/ssl/certs/", 'd', NULL},
        {"etc/ssl/certs/0a0a0a0a.0", 'l', "A.pem"},
        {"etc/ssl/certs/A.pem", 'l', "/usr/share/ca-certificates/test/A.crt"},
        {"etc/ssl/certs/B.pem", 'l', "/usr/share/ca-certificates/test/B.crt"},
        {"etc/ssl/certs/ca-certificates.crt", 'f', "old bundle\n"},
        {"usr/", 'd', NULL},
        {"usr/local/", 'd', NULL},
        {"usr/local/share/", 'd', NULL},
        {"usr/local/share/ca-certificates/", 'd', NULL},
        {"usr/local/share/ca-certificates/junk.crt", 'f', "no certificate"},
    };
    char hash_c[32], *bundle;
    uint32_t h = 0;
    struct out o = {0};

    (void)state;
    assert_int_equal(run(ents, PF_ARRAY_SIZE(ents), &o), 0);
    assert_string_equal(body(&o, "etc/ca-certificates.conf"),
                        "# comment\n!test/A.crt\ntest/B.crt\ntest/C.crt\n");
    assert_string_equal(body(&o, "etc/ca-certificates.conf.dpkg-old"),
                        "# comment\ntest/A.crt\ntest/B.crt\n");
    assert_non_null(body(&o, "etc/ssl/certs/.wh.A.pem"));
    assert_non_null(body(&o, "etc/ssl/certs/.wh.0a0a0a0a.0"));
    assert_null(body(&o, "etc/ssl/certs/B.pem")); /* unchanged, so not in the layer */
    assert_string_equal(body(&o, "etc/ssl/certs/C.pem"), "/usr/share/ca-certificates/test/C.crt");
    assert_string_equal(body(&o, "etc/ssl/certs/junk.pem"),
                        "/usr/local/share/ca-certificates/junk.crt");
    assert_int_equal(pf_x509_subject_hash(c, clen, &h, NULL, NULL, 0), 0);
    (void)snprintf(hash_c, sizeof(hash_c), "etc/ssl/certs/%08x.0", (unsigned)h);
    assert_string_equal(body(&o, hash_c), "C.pem");
    /* B's hash link is new too (the view had none); junk gets none. */
    assert_int_equal(pf_x509_subject_hash(b, blen, &h, NULL, NULL, 0), 0);
    (void)snprintf(hash_c, sizeof(hash_c), "etc/ssl/certs/%08x.0", (unsigned)h);
    assert_string_equal(body(&o, hash_c), "B.pem");
    assert_int_equal(o.n, 9);
    bundle = pf_asprintf("%s%s%s", b, c, "no certificate\n");
    assert_string_equal(body(&o, "etc/ssl/certs/ca-certificates.crt"), bundle);
    pf_free(bundle);
    pf_free(b);
    pf_free(c);
    out_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_conf),
        cmocka_unit_test(upgrade),
    };

    return cmocka_run_group_tests_name("ca_certs", tests, NULL, NULL);
}
