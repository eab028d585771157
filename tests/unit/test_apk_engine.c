/* SPDX-License-Identifier: Apache-2.0 */
/*
 * End-to-end test of the Alpine engine on tests/data/apk/image.tar (v1 packages installed,
 * /lib -> usr/lib, a user-modified etc/demo/demo.conf) against the signed repository
 * tests/data/apk/repo, reached through a --pkg-mirror rewrite to file://. The patch layer is
 * applied back onto the view and checked: upgrades and the new dependency, the removed file
 * whited out, the modified conffile kept with .apk-new beside it, and every R: of the new
 * database present with the checksum its Z: line gives.
 */
#include "pf_test.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "pf/digest.h"
#include "pf/strv.h"
#include "apk/apk_db.h"
#include "apk/apk_engine.h"
#include "image/layer_view.h"

/* Keeps every file, so the oracle can hash all of them (the engine needs less). */
static bool keep_all(const char *path, void *userdata)
{
    (void)path;
    (void)userdata;
    return true;
}

static struct worker_layer_view *image_view(void)
{
    struct worker_layer_view_options o = {.keep = keep_all};
    struct worker_layer_view *v = NULL;
    size_t len;
    char *tar = pf_test_read_data("apk/image.tar", &len), err[256];

    assert_int_equal(worker_layer_view_new(&o, &v), 0);
    assert_int_equal(worker_layer_view_apply_memory(v, tar, len, err, sizeof(err)), 0);
    pf_free(tar);
    return v;
}

static void check_db_files(const struct worker_layer_view *v)
{
    struct worker_apk_db db = {0};
    const char *text, *data;
    size_t len, dlen;
    char err[128], q1[31];
    int checked = 0;

    assert_int_equal(worker_layer_view_read(v, "lib/apk/db/installed", &text, &len), 0);
    assert_int_equal(worker_apk_db_parse(&db, text, len, true, err, sizeof(err)), 3);
    for (size_t i = 0; i < db.n; i++)
        for (size_t j = 0; j < db.v[i].n_dirs; j++)
            for (size_t k = 0; k < db.v[i].dirs[j].n_files; k++) {
                const struct worker_apk_dir *d = &db.v[i].dirs[j];
                char *path = pf_asprintf("%s/%s", d->path, d->files[k].name);
                const struct worker_layer_entry *e = worker_layer_view_get(v, path);
                unsigned char h[20];

                assert_non_null(e);
                if (e->type == WORKER_LAYER_SYMLINK) {
                    data = e->link;
                    dlen = strlen(e->link);
                } else {
                    const struct worker_layer_entry *r;
                    char *res = NULL;

                    assert_int_equal(worker_layer_view_resolve(v, path, true, &res, err,
                                                               sizeof(err)),
                                     0);
                    r = worker_layer_view_get(v, res);
                    assert_non_null(r);
                    pf_free(res);
                    assert_int_equal(worker_layer_view_read(v, path, &data, &dlen), 0);
                }
                assert_int_equal(pf_digest_buf(PF_DIGEST_SHA1, data, dlen, h), 20);
                worker_apk_q1(h, q1);
                if (strcmp(path, "etc/demo/demo.conf") != 0) /* kept user edit */
                    assert_string_equal(q1, d->files[k].csum);
                checked++;
                pf_free(path);
            }
    assert_int_equal(checked, 8); /* every R: of the three packages */
    worker_apk_db_release(&db);
}

static void patches_image(void **state)
{
    char cache[] = "/tmp/test-apk-cache-XXXXXX", work[] = "/tmp/test-apk-work-XXXXXX";
    struct pf_strv mirrors = PF_STRV_INIT;
    struct worker_engine *e = NULL;
    struct worker_engine_result res = {0};
    struct worker_layer_view *v;
    char err[512] = "", *rule, *lp;
    const char *data;
    size_t len;
    int fd;

    (void)state;
    assert_non_null(mkdtemp(cache));
    assert_non_null(mkdtemp(work));
    rule = pf_asprintf("http://dl-cdn.alpinelinux.org/alpine/v3.20/main=file://%s/apk/repo",
                       PF_TEST_DATA);
    assert_int_equal(pf_strv_push_take(&mirrors, rule), 0);
    struct worker_apk_engine_options o = {.cache_dir = cache, .mirrors = &mirrors};
    assert_int_equal(worker_apk_engine_new(&o, &e, err, sizeof(err)), 0);
    v = image_view();
    assert_int_equal(e->detect(e->ctx, v), 1);
    struct worker_engine_request req = {.view = v, .arch = "amd64", .workdir = work};
    int r = e->patch(e->ctx, &req, &res, err, sizeof(err));
    if (r < 0)
        fail_msg("patch: %s", err);
    assert_int_equal(res.n_upgrades, 3);
    assert_string_equal(res.upgrades[0].name, "demo-base");
    assert_string_equal(res.upgrades[0].to, "1.0-r1");
    assert_string_equal(res.upgrades[2].name, "demo-new");
    assert_null(res.upgrades[2].from);
    assert_non_null(res.layer_path);
    fd = open(res.layer_path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(worker_layer_view_apply_fd(v, fd, err, sizeof(err)), 0);
    close(fd);
    /* removed file gone, symlinked /lib kept, user's conffile kept, .apk-new beside it */
    assert_null(worker_layer_view_get(v, "usr/share/demo/OLDFILE"));
    assert_int_equal(worker_layer_view_get(v, "lib")->type, WORKER_LAYER_SYMLINK);
    assert_int_equal(worker_layer_view_read(v, "etc/demo/demo.conf", &data, &len), 0);
    assert_memory_equal(data, "setting=user-edit\n", len);
    assert_int_equal(worker_layer_view_read(v, "etc/demo/demo.conf.apk-new", &data, &len), 0);
    assert_memory_equal(data, "setting=1.0-r1\n", len);
    assert_int_equal(worker_layer_view_read(v, "etc/demo/keep.conf", &data, &len), 0);
    assert_memory_equal(data, "keep=1.0-r1\n", len);
    check_db_files(v);
    assert_int_equal(worker_layer_view_read(v, "lib/apk/db/triggers", &data, &len), 0);
    assert_non_null(strstr(data, " /usr/lib/demo"));
    lp = res.layer_path;
    (void)unlink(lp);
    worker_engine_result_release(&res);
    worker_layer_view_free(v);
    worker_apk_engine_free(e);
    pf_strv_clear(&mirrors);
    (void)rmdir(work);
    {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache);
        assert_int_equal(system(cmd), 0);
    }
}

/* One layer holding `path` with `text`, as a tar in memory (pf_free() it). */
static char *one_file_tar(const char *path, const char *text, size_t *ret_len)
{
    size_t cap = 65536, used = 0, len = strlen(text);
    char *buf = pf_malloc(cap);
    struct archive *a = archive_write_new();
    struct archive_entry *ae = archive_entry_new();

    assert_non_null(buf);
    assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
    archive_entry_set_pathname(ae, path);
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_perm(ae, 0644);
    archive_entry_set_size(ae, (la_int64_t)len);
    assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
    assert_int_equal(archive_write_data(a, text, len), (la_ssize_t)len);
    archive_entry_free(ae);
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    *ret_len = used;
    return buf;
}

/* An image's /etc/apk/repositories naming file:// (a path on the worker's host, here one
 * holding a validly signed repository) must not make the worker read it: the line is skipped
 * like a local path, so nothing is planned from it. */
static void image_cannot_name_host_paths(void **state)
{
    char cache[] = "/tmp/test-apk-cache-XXXXXX";
    struct worker_engine *e = NULL;
    struct worker_engine_result res = {0};
    struct worker_layer_view *v = image_view();
    char err[512] = "", *repos = pf_asprintf("file://%s/apk/repo\n", PF_TEST_DATA), *tar;
    size_t len;
    int r;

    (void)state;
    assert_non_null(mkdtemp(cache));
    tar = one_file_tar("etc/apk/repositories", repos, &len);
    assert_int_equal(worker_layer_view_apply_memory(v, tar, len, err, sizeof(err)), 0);
    struct worker_apk_engine_options o = {.cache_dir = cache};
    assert_int_equal(worker_apk_engine_new(&o, &e, err, sizeof(err)), 0);
    struct worker_engine_request req = {.view = v,
                                        .arch = "amd64",
                                        .workdir = cache,
                                        .dry_run = true};
    r = e->patch(e->ctx, &req, &res, err, sizeof(err));
    if (r < 0)
        fail_msg("patch: %s", err);
    if (res.n_upgrades != 0)
        fail_msg("%zu upgrades planned from a host path the image named", res.n_upgrades);
    worker_engine_result_release(&res);
    worker_layer_view_free(v);
    worker_apk_engine_free(e);
    pf_free(tar);
    pf_free(repos);
    {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache);
        assert_int_equal(system(cmd), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(patches_image),
        cmocka_unit_test(image_cannot_name_host_paths),
    };

    return cmocka_run_group_tests_name("apk_engine", tests, NULL, NULL);
}
