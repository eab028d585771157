/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for patched image assembly (config, manifest, index, history text), the blob
 * cache's path and verification logic, and the job runner's paths that need no registry
 * (bad options, bad references, cancellation before the first fetch). */
#include "pf_test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pf/json.h"

#include "pf/digest.h"
#include "pf/job.h"
#include "pf/oci.h"
#include "pf/registry.h"
#include "image/blob_cache.h"
#include "engine/engine.h"
#include "image/image_patch.h"
#include "job/patch_job.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define D4 "sha256:4444444444444444444444444444444444444444444444444444444444444444"
#define D5 "sha256:5555555555555555555555555555555555555555555555555555555555555555"
#define D9 "sha256:9999999999999999999999999999999999999999999999999999999999999999"

static const char config_json[] =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-01T00:00:00Z\","
    "\"x-vendor\":{\"keep\":[1,2,3]},"
    "\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sh\"],\"Labels\":{\"a\":\"1\"}},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\"]},"
    "\"history\":[{\"created\":\"2024-01-01T00:00:00Z\",\"created_by\":\"ADD rootfs\"}]}";

static const char oci_manifest[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" PF_MT_OCI_MANIFEST "\","
    "\"config\":{\"mediaType\":\"" PF_MT_OCI_CONFIG "\",\"digest\":\"" D1 "\",\"size\":7},"
    "\"layers\":[{\"mediaType\":\"" PF_MT_OCI_LAYER_GZIP "\",\"digest\":\"" D2 "\",\"size\":32}],"
    "\"x-unknown\":\"kept\",\"annotations\":{\"org.example\":\"v\"}}";

static const char docker_manifest[] = "{\"schemaVersion\":2,\"mediaType\":\"" PF_MT_DOCKER_MANIFEST
                                      "\","
                                      "\"config\":{\"mediaType\":\"" PF_MT_DOCKER_CONFIG
                                      "\",\"digest\":\"" D1 "\",\"size\":7},"
                                      "\"layers\":[{\"mediaType\":\"" PF_MT_DOCKER_LAYER_GZIP
                                      "\",\"digest\":\"" D2 "\","
                                      "\"size\":32}]}";

static const char oci_index[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" PF_MT_OCI_INDEX "\",\"manifests\":["
    "{\"mediaType\":\"" PF_MT_OCI_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":10,"
    "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"},\"x-e\":1},"
    "{\"mediaType\":\"" PF_MT_OCI_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":11,"
    "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}},"
    "{\"mediaType\":\"" PF_MT_OCI_MANIFEST "\",\"digest\":\"" D3 "\",\"size\":12,"
    "\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"},"
    "\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}}],"
    "\"x-top\":true}";

static json_t *load(const char *s, size_t len)
{
    json_t *j = json_loadb(s, len, 0, NULL);

    assert_non_null(j);
    return j;
}

static const char *jstr(json_t *root, const char *path1, const char *path2)
{
    json_t *o = json_object_get(root, path1);

    if (path2)
        o = json_object_get(o, path2);
    return json_string_value(o);
}

/* --- config ---------------------------------------------------------------------------- */

static void config_appends_layer_history_label(void **state)
{
    char *out = NULL, err[256];
    size_t len = 0;
    json_t *j, *ids, *hist, *h;

    (void)state;
    assert_int_equal(worker_image_patch_config(config_json, strlen(config_json), D4, D9,
                                               "upgraded 1 package: a 1.0 -> 1.1", &out, &len, err,
                                               sizeof(err)),
                     0);
    assert_int_equal(strlen(out), len);
    j = load(out, len);
    ids = json_object_get(json_object_get(j, "rootfs"), "diff_ids");
    assert_int_equal(json_array_size(ids), 2);
    assert_string_equal(json_string_value(json_array_get(ids, 0)), D1);
    assert_string_equal(json_string_value(json_array_get(ids, 1)), D4);
    hist = json_object_get(j, "history");
    assert_int_equal(json_array_size(hist), 2);
    h = json_array_get(hist, 1);
    assert_string_equal(jstr(h, "created", NULL), "2024-01-01T00:00:00Z");
    assert_string_equal(jstr(h, "created_by", NULL),
                        "patchfleet: upgraded 1 package: a 1.0 -> 1.1");
    assert_string_equal(jstr(h, "comment", NULL), "patchfleet");
    /* Label added, other labels and unknown fields kept. */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(json_object_get(j, "config"), "Labels"),
                                          WORKER_IMAGE_PATCH_LABEL_BASE)),
        D9);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(j, "config"), "Labels"), "a")),
                        "1");
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "x-vendor"), "keep")), 3);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(json_object_get(j, "config"), "Env"), 0)),
        "PATH=/bin");
    assert_string_equal(jstr(j, "created", NULL), "2024-01-01T00:00:00Z");
    json_decref(j);
    pf_free(out);
}

static void config_is_reproducible_and_bounded(void **state)
{
    char *a = NULL, *b = NULL, err[256], *big;
    size_t la, lb;
    json_t *j;
    const char *cb;

    (void)state;
    big = pf_malloc(5000);
    assert_non_null(big);
    memset(big, 'x', 4999);
    big[4999] = '\0';
    /* A multi-byte character straddling the bound must not be split. */
    memcpy(big + WORKER_IMAGE_PATCH_HISTORY_MAX - 14, "\xc3\xa9\xc3\xa9", 4);
    assert_int_equal(worker_image_patch_config(config_json, strlen(config_json), D4, D9, big, &a,
                                               &la, err, sizeof(err)),
                     0);
    assert_int_equal(worker_image_patch_config(config_json, strlen(config_json), D4, D9, big, &b,
                                               &lb, err, sizeof(err)),
                     0);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    j = load(a, la);
    cb = jstr(json_array_get(json_object_get(j, "history"), 1), "created_by", NULL);
    assert_non_null(cb);
    assert_true(strlen(cb) <= WORKER_IMAGE_PATCH_HISTORY_MAX);
    assert_true(strlen(cb) >= WORKER_IMAGE_PATCH_HISTORY_MAX - 1);
    json_decref(j);
    pf_free(a);
    pf_free(b);
    pf_free(big);
}

static void config_without_history_or_labels(void **state)
{
    static const char bare[] = "{\"architecture\":\"arm64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                               "\"layers\","
                               "\"diff_ids\":[]},\"config\":null}";
    char *out = NULL, err[256];
    size_t len;
    json_t *j;

    (void)state;
    assert_int_equal(worker_image_patch_config(bare, strlen(bare), D4, D9, NULL, &out, &len, err,
                                               sizeof(err)),
                     0);
    j = load(out, len);
    /* No history invented: it would be out of step with the layers. */
    assert_null(json_object_get(j, "history"));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(json_object_get(j, "config"), "Labels"),
                                          WORKER_IMAGE_PATCH_LABEL_BASE)),
        D9);
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "rootfs"), "diff_ids")), 1);
    json_decref(j);
    pf_free(out);
}

static void config_malformed(void **state)
{
    static const struct {
        const char *json;
        const char *diff_id;
        const char *base;
        int want;
    } cases[] = {
        {"{not json", D4, D9, -EINVAL},
        {"[1,2]", D4, D9, -EINVAL},
        {"{\"os\":\"linux\"}", D4, D9, -EINVAL},
        {"{\"rootfs\":{\"diff_ids\":\"x\"}}", D4, D9, -EINVAL},
        {"{\"rootfs\":{\"diff_ids\":[]},\"history\":{}}", D4, D9, -EINVAL},
        {"{\"rootfs\":{\"diff_ids\":[]},\"config\":{\"Labels\":[1]}}", D4, D9, -EINVAL},
        {"{\"rootfs\":{\"diff_ids\":[]}}", "sha256:abc", D9, -EINVAL},
        {"{\"rootfs\":{\"diff_ids\":[]}}", D4, "md5:00", -EINVAL},
        {"{\"a\":1,\"a\":2,\"rootfs\":{\"diff_ids\":[]}}", D4, D9, -EINVAL},
    };
    char *out = NULL, err[256];
    size_t len = 0;

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        err[0] = '\0';
        assert_int_equal(worker_image_patch_config(cases[i].json, strlen(cases[i].json),
                                                   cases[i].diff_id, cases[i].base, "t", &out, &len,
                                                   err, sizeof(err)),
                         cases[i].want);
        assert_null(out);
        assert_true(err[0] != '\0');
    }
}

/* --- manifest -------------------------------------------------------------------------- */

static void manifest_oci(void **state)
{
    struct pf_descriptor cfg = {0}, layer = {0};
    struct pf_manifest mf;
    char *out = NULL, err[256];
    size_t len;
    json_t *j;

    (void)state;
    cfg.digest = (char *)D4;
    cfg.size = 99;
    layer.digest = (char *)D5;
    layer.size = 1234;
    layer.media_type = (char *)"application/x-ignored";
    assert_int_equal(worker_image_patch_manifest(oci_manifest, strlen(oci_manifest), &cfg, &layer,
                                                 D9, "docker.io/library/debian:12", &out, &len, err,
                                                 sizeof(err)),
                     0);
    assert_int_equal(pf_manifest_parse(out, len, &mf, err, sizeof(err)), 0);
    assert_string_equal(mf.media_type, PF_MT_OCI_MANIFEST);
    assert_string_equal(mf.config.digest, D4);
    assert_string_equal(mf.config.media_type, PF_MT_OCI_CONFIG);
    assert_int_equal(mf.config.size, 99);
    assert_int_equal(mf.n_layers, 2);
    assert_string_equal(mf.layers[0].digest, D2);
    assert_string_equal(mf.layers[1].digest, D5);
    assert_string_equal(mf.layers[1].media_type, PF_MT_OCI_LAYER_GZIP);
    assert_int_equal(mf.layers[1].size, 1234);
    pf_manifest_release(&mf);
    j = load(out, len);
    assert_string_equal(jstr(j, "x-unknown", NULL), "kept");
    assert_string_equal(jstr(j, "annotations", "org.example"), "v");
    assert_string_equal(jstr(j, "annotations", WORKER_IMAGE_PATCH_ANN_BASE_DIGEST), D9);
    assert_string_equal(jstr(j, "annotations", WORKER_IMAGE_PATCH_ANN_BASE_NAME),
                        "docker.io/library/debian:12");
    json_decref(j);
    pf_free(out);
}

static void manifest_docker(void **state)
{
    struct pf_descriptor cfg = {0}, layer = {0};
    char *out = NULL, err[256];
    size_t len;
    json_t *j, *layers;

    (void)state;
    cfg.digest = (char *)D4;
    cfg.size = 5;
    layer.digest = (char *)D5;
    layer.size = 6;
    assert_int_equal(worker_image_patch_manifest(docker_manifest, strlen(docker_manifest), &cfg,
                                                 &layer, D9, "x", &out, &len, err, sizeof(err)),
                     0);
    j = load(out, len);
    assert_string_equal(jstr(j, "mediaType", NULL), PF_MT_DOCKER_MANIFEST);
    assert_string_equal(jstr(j, "config", "mediaType"), PF_MT_DOCKER_CONFIG);
    layers = json_object_get(j, "layers");
    assert_int_equal(json_array_size(layers), 2);
    assert_string_equal(jstr(json_array_get(layers, 1), "mediaType", NULL),
                        PF_MT_DOCKER_LAYER_GZIP);
    /* Docker schema 2 has no annotations. */
    assert_null(json_object_get(j, "annotations"));
    json_decref(j);
    pf_free(out);
}

static void manifest_malformed(void **state)
{
    static const char *const bad[] = {
        "nope",
        "{\"schemaVersion\":1,\"config\":{},\"layers\":[]}",
        "{\"schemaVersion\":2,\"mediaType\":\"" PF_MT_OCI_INDEX "\",\"config\":{},\"layers\":[]}",
        "{\"schemaVersion\":2,\"layers\":[]}",
        "{\"schemaVersion\":2,\"config\":{},\"layers\":{}}",
        "{\"schemaVersion\":2,\"config\":{},\"layers\":[],\"annotations\":[]}",
    };
    struct pf_descriptor cfg = {0}, layer = {0};
    char *out = NULL, err[256];
    size_t len;

    (void)state;
    cfg.digest = (char *)D4;
    layer.digest = (char *)D5;
    for (size_t i = 0; i < PF_ARRAY_SIZE(bad); i++) {
        assert_int_equal(worker_image_patch_manifest(bad[i], strlen(bad[i]), &cfg, &layer, D9, NULL,
                                                     &out, &len, err, sizeof(err)),
                         -EINVAL);
        assert_null(out);
    }
    layer.digest = (char *)"sha256:short";
    assert_int_equal(worker_image_patch_manifest(oci_manifest, strlen(oci_manifest), &cfg, &layer,
                                                 D9, NULL, &out, &len, err, sizeof(err)),
                     -EINVAL);
    assert_null(out);
}

/* --- index ----------------------------------------------------------------------------- */

static void index_swaps_and_drops_attestations(void **state)
{
    struct worker_image_patch_swap sw[] = {{D2, D5, 77}};
    struct pf_index ix;
    char *out = NULL, err[256];
    size_t len;
    json_t *j;

    (void)state;
    assert_int_equal(worker_image_patch_index(oci_index, strlen(oci_index), sw, 1, D9, "src:1",
                                              &out, &len, err, sizeof(err)),
                     0);
    assert_int_equal(pf_index_parse(out, len, &ix, err, sizeof(err)), 0);
    assert_int_equal(ix.n_manifests, 2);
    assert_string_equal(ix.manifests[0].digest, D1); /* not patched: unchanged */
    assert_int_equal(ix.manifests[0].size, 10);
    assert_string_equal(ix.manifests[1].digest, D5);
    assert_int_equal(ix.manifests[1].size, 77);
    assert_string_equal(ix.manifests[1].platform->architecture, "arm64");
    pf_index_release(&ix);
    j = load(out, len);
    assert_true(json_is_true(json_object_get(j, "x-top")));
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(j, "manifests"), 0), "x-e")),
                     1);
    assert_string_equal(jstr(j, "annotations", WORKER_IMAGE_PATCH_ANN_BASE_DIGEST), D9);
    assert_string_equal(jstr(j, "annotations", WORKER_IMAGE_PATCH_ANN_BASE_NAME), "src:1");
    json_decref(j);
    out = pf_free(out);

    /* A swap for an entry the index does not have is an error. */
    sw[0].old_digest = D4;
    assert_int_equal(worker_image_patch_index(oci_index, strlen(oci_index), sw, 1, D9, NULL, &out,
                                              &len, err, sizeof(err)),
                     -EINVAL);
    assert_null(out);
    assert_int_equal(worker_image_patch_index(oci_manifest, strlen(oci_manifest), NULL, 0, D9, NULL,
                                              &out, &len, err, sizeof(err)),
                     -EINVAL);
    assert_null(out);
}

/* --- history text ---------------------------------------------------------------------- */

static void history_text_bounded(void **state)
{
    struct worker_engine_upgrade up[40];
    char names[40][16], *s;

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(up); i++) {
        (void)snprintf(names[i], sizeof(names[i]), "pkg%02zu", i);
        up[i].name = names[i];
        up[i].arch = (char *)"amd64";
        up[i].from = i == 1 ? NULL : (char *)"1.0";
        up[i].to = (char *)"1.1";
    }
    s = worker_image_patch_history_text(up, 2, 1024);
    assert_string_equal(s, "upgraded 2 packages: pkg00 1.0 -> 1.1, pkg01 (new) 1.1");
    pf_free(s);
    s = worker_image_patch_history_text(up, 1, 1024);
    assert_string_equal(s, "upgraded 1 package: pkg00 1.0 -> 1.1");
    pf_free(s);
    s = worker_image_patch_history_text(up, 40, 120);
    assert_non_null(s);
    assert_true(strlen(s) <= 120);
    assert_non_null(strstr(s, " more)"));
    assert_memory_equal(s, "upgraded 40 packages: pkg00 1.0 -> 1.1", 38);
    pf_free(s);
    s = worker_image_patch_history_text(NULL, 0, 1024);
    assert_string_equal(s, "upgraded 0 packages");
    pf_free(s);
}

/* --- blob cache ------------------------------------------------------------------------ */

static char *make_tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    char *d = pf_asprintf("%s/pf-test-XXXXXX", t && *t ? t : "/tmp");

    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

static void write_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(content, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void rm_cache(const char *dir, const char *hex1, const char *hex2)
{
    char p[4096];

    (void)snprintf(p, sizeof(p), "%s/blobs/sha256/%s", dir, hex1);
    (void)unlink(p);
    (void)snprintf(p, sizeof(p), "%s/blobs/sha256/%s", dir, hex2);
    (void)unlink(p);
    (void)snprintf(p, sizeof(p), "%s/blobs/sha256", dir);
    assert_int_equal(rmdir(p), 0);
    (void)snprintf(p, sizeof(p), "%s/blobs", dir);
    assert_int_equal(rmdir(p), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void blob_cache_paths_and_verification(void **state)
{
    struct worker_blob_cache_stats stats;
    struct worker_blob_cache *c = NULL;
    char good[PF_DIGEST_BUFSZ], other[PF_DIGEST_BUFSZ], err[256];
    char *dir = make_tmpdir(), *p, *got = NULL, *want;
    struct stat st;

    (void)state;
    assert_int_equal(worker_blob_cache_new(dir, &c, err, sizeof(err)), 0);
    assert_int_equal(pf_sha256_digest("hello", 5, good), 0);
    assert_int_equal(pf_sha256_digest("world", 5, other), 0);

    want = pf_asprintf("%s/blobs/sha256/%s", dir, pf_digest_sha256_hex(good));
    p = worker_blob_cache_path(c, good);
    assert_string_equal(p, want);
    assert_null(worker_blob_cache_path(c, "sha256:nothex"));
    assert_null(worker_blob_cache_path(
        c, "sha512:1111111111111111111111111111111111111111111111111111111111111111"));

    /* Not cached and no registry: -ENOENT, nothing returned. */
    assert_int_equal(worker_blob_cache_get(c, NULL, NULL, good, &got, err, sizeof(err)), -ENOENT);
    assert_null(got);
    assert_int_equal(worker_blob_cache_get(c, NULL, NULL, "sha256:zz", &got, err, sizeof(err)),
                     -EINVAL);

    /* A pre-placed, correct file is verified and served (twice: second from memory). */
    write_file(p, "hello");
    assert_int_equal(worker_blob_cache_get(c, NULL, NULL, good, &got, err, sizeof(err)), 0);
    assert_string_equal(got, want);
    got = pf_free(got);
    assert_int_equal(worker_blob_cache_get(c, NULL, NULL, good, &got, err, sizeof(err)), 0);
    got = pf_free(got);
    pf_free(p);
    /* Both were hits (disk, then memory); nothing was downloaded. */
    worker_blob_cache_get_stats(c, &stats);
    assert_int_equal(stats.hits, 2);
    assert_int_equal(stats.misses, 0);
    assert_int_equal(stats.bytes_pulled, 0);

    /* A corrupt pre-placed file is detected, removed and not returned. */
    p = worker_blob_cache_path(c, other);
    write_file(p, "not world");
    assert_int_equal(worker_blob_cache_get(c, NULL, NULL, other, &got, err, sizeof(err)), -ENOENT);
    assert_null(got);
    assert_int_equal(stat(p, &st), -1);

    /* A verified file that vanished is fetched again (here: -ENOENT, no registry). */
    assert_int_equal(unlink(want), 0);
    assert_int_equal(worker_blob_cache_get(c, NULL, NULL, good, &got, err, sizeof(err)), -ENOENT);

    c = worker_blob_cache_free(c);
    assert_null(c);
    rm_cache(dir, pf_digest_sha256_hex(good), pf_digest_sha256_hex(other));
    pf_free(p);
    pf_free(want);
    pf_free(dir);
}

/* --- runner paths without a registry ----------------------------------------------------- */

static bool always(void *ud)
{
    (void)ud;
    return true;
}

static int detect_never(void *ctx, const struct worker_layer_view *v)
{
    (void)ctx;
    (void)v;
    return 0;
}

static void job_runner_early_outcomes(void **state)
{
    struct worker_engine eng = {"fake", NULL, NULL, detect_never, NULL};
    struct pf_registry_options ro;
    struct pf_registry *reg = NULL;
    struct worker_blob_cache *bc = NULL;
    struct worker_patch_job_options o = {0};
    struct worker_patch_job_result res;
    struct pf_job job = {0};
    char err[256], *dir = make_tmpdir(), *cache = pf_asprintf("%s/cache", dir);

    (void)state;
    assert_string_equal(pf_status_to_string(PF_STATUS_UP_TO_DATE), "UpToDate");
    assert_string_equal(pf_status_to_string(PF_STATUS_CANCELLED), "Cancelled");
    assert_null(pf_status_to_string(PF_STATUS__MAX));
    memset(&res, 0, sizeof(res));
    worker_patch_job_result_release(&res);

    pf_registry_options_init(&ro);
    assert_int_equal(pf_registry_new(&ro, &reg, err, sizeof(err)), 0);
    assert_int_equal(worker_blob_cache_new(cache, &bc, err, sizeof(err)), 0);
    job.source = (char *)"127.0.0.1:1/lib/debian:12";
    job.target_repo = (char *)"127.0.0.1:1/lib/debian";
    job.target_tag = (char *)"12-patched";

    /* Missing options: Failed, naming the image. */
    assert_int_equal(worker_patch_job_run(&o, &job, &res), 0);
    assert_int_equal(res.status, PF_STATUS_FAILED);
    assert_non_null(strstr(res.details, "127.0.0.1:1/lib/debian:12: "));
    assert_null(res.patched_ref);
    worker_patch_job_result_release(&res);

    o.engine = &eng;
    o.registry = reg;
    o.blobs = bc;
    o.work_root = dir;
    o.push = true;

    /* An invalid target tag fails before any network access. */
    job.target_tag = (char *)"-bad tag";
    assert_int_equal(worker_patch_job_run(&o, &job, &res), 0);
    assert_int_equal(res.status, PF_STATUS_FAILED);
    assert_non_null(strstr(res.details, "invalid target tag"));
    worker_patch_job_result_release(&res);
    job.target_tag = (char *)"12-patched";

    /* Cancelled before the first fetch: Cancelled, nothing pushed, workdir removed. */
    o.cancelled = always;
    assert_int_equal(worker_patch_job_run(&o, &job, &res), 0);
    assert_int_equal(res.status, PF_STATUS_CANCELLED);
    assert_null(res.patched_ref);
    assert_non_null(strstr(res.details, "cancelled"));
    worker_patch_job_result_release(&res);

    bc = worker_blob_cache_free(bc);
    reg = pf_registry_free(reg);
    /* Only the cache dir is left below the work root: the job directories are gone. */
    {
        char p[4096];
        (void)snprintf(p, sizeof(p), "%s/blobs/sha256", cache);
        assert_int_equal(rmdir(p), 0);
        (void)snprintf(p, sizeof(p), "%s/blobs", cache);
        assert_int_equal(rmdir(p), 0);
    }
    assert_int_equal(rmdir(cache), 0);
    assert_int_equal(rmdir(dir), 0);
    pf_free(cache);
    pf_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_appends_layer_history_label),
        cmocka_unit_test(config_is_reproducible_and_bounded),
        cmocka_unit_test(config_without_history_or_labels),
        cmocka_unit_test(config_malformed),
        cmocka_unit_test(manifest_oci),
        cmocka_unit_test(manifest_docker),
        cmocka_unit_test(manifest_malformed),
        cmocka_unit_test(index_swaps_and_drops_attestations),
        cmocka_unit_test(history_text_bounded),
        cmocka_unit_test(blob_cache_paths_and_verification),
        cmocka_unit_test(job_runner_early_outcomes),
    };

    return cmocka_run_group_tests_name("image_patch", tests, NULL, NULL);
}
