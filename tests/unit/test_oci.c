/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the OCI model: media type detection, schema 1 refusal, manifest/index/config
 * parse + build round trips, platform matching, digests and the image-layout writer. */
#include "pf_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pf/json.h"

#include "pf/digest.h"
#include "pf/oci.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static const char manifest_json[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" PF_MT_OCI_MANIFEST "\","
    "\"config\":{\"mediaType\":\"" PF_MT_OCI_CONFIG "\",\"digest\":\"" D1 "\",\"size\":7},"
    "\"layers\":[{\"mediaType\":\"" PF_MT_OCI_LAYER_GZIP "\",\"digest\":\"" D2 "\",\"size\":32},"
    "{\"mediaType\":\"" PF_MT_OCI_LAYER_GZIP "\",\"digest\":\"" D3 "\",\"size\":64,"
    "\"annotations\":{\"k\":\"v\"}}],"
    "\"annotations\":{\"org.opencontainers.image.created\":\"2024-01-01T00:00:00Z\"}}";

static const char index_json[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" PF_MT_DOCKER_LIST "\",\"manifests\":["
    "{\"mediaType\":\"" PF_MT_DOCKER_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":10,"
    "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
    "{\"mediaType\":\"" PF_MT_DOCKER_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":11,"
    "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
    "{\"mediaType\":\"" PF_MT_OCI_MANIFEST "\",\"digest\":\"" D3 "\",\"size\":12,"
    "\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"},"
    "\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}}]}";

static const char config_json[] =
    "{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\","
    "\"created\":\"2024-01-01T00:00:00Z\","
    "\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sh\"],\"Labels\":{\"a\":\"1\",\"b\":\"2\"}},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\"]},"
    "\"history\":[{\"created\":\"2024-01-01T00:00:00Z\",\"created_by\":\"ADD rootfs\"},"
    "{\"created_by\":\"CMD sh\",\"empty_layer\":true}]}";

static void detect_media_types(void **state)
{
    static const char schema1[] = "{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}";
    static const char bare_index[] = "{\"schemaVersion\":2,\"manifests\":[]}";
    static const char bare_manifest[] = "{\"schemaVersion\":2,\"config\":{},\"layers\":[]}";
    const char *mt = NULL;

    (void)state;
    assert_int_equal(pf_oci_detect_manifest(PF_MT_OCI_INDEX "; charset=utf-8", NULL, 0, &mt),
                     PF_MANIFEST_INDEX);
    assert_string_equal(mt, PF_MT_OCI_INDEX);
    assert_int_equal(pf_oci_detect_manifest(PF_MT_DOCKER_MANIFEST, NULL, 0, &mt),
                     PF_MANIFEST_IMAGE);
    /* Generic content types: decided from the body. */
    assert_int_equal(pf_oci_detect_manifest("application/json", manifest_json,
                                            strlen(manifest_json), &mt),
                     PF_MANIFEST_IMAGE);
    assert_string_equal(mt, PF_MT_OCI_MANIFEST);
    assert_int_equal(pf_oci_detect_manifest("text/plain", index_json, strlen(index_json), &mt),
                     PF_MANIFEST_INDEX);
    assert_string_equal(mt, PF_MT_DOCKER_LIST);
    assert_int_equal(pf_oci_detect_manifest(NULL, bare_index, strlen(bare_index), &mt),
                     PF_MANIFEST_INDEX);
    assert_int_equal(pf_oci_detect_manifest(NULL, bare_manifest, strlen(bare_manifest), &mt),
                     PF_MANIFEST_IMAGE);
    assert_int_equal(pf_oci_detect_manifest(PF_MT_DOCKER_SCHEMA1_SIGNED, NULL, 0, &mt),
                     PF_MANIFEST_SCHEMA1);
    assert_int_equal(pf_oci_detect_manifest("application/json", schema1, strlen(schema1), &mt),
                     PF_MANIFEST_SCHEMA1);
    assert_int_equal(pf_oci_detect_manifest("application/json", "[]", 2, &mt), PF_MANIFEST_INVALID);
    assert_true(pf_oci_media_type_is_index(PF_MT_DOCKER_LIST));
    assert_false(pf_oci_media_type_is_index(PF_MT_OCI_MANIFEST));
    assert_true(pf_oci_media_type_is_manifest(PF_MT_OCI_INDEX));
    assert_false(pf_oci_media_type_is_manifest(PF_MT_OCI_CONFIG));
}

static void schema1_refused(void **state)
{
    static const char schema1[] = "{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}";
    struct pf_manifest m;
    char err[256];

    (void)state;
    assert_int_equal(pf_manifest_parse(schema1, strlen(schema1), &m, err, sizeof(err)),
                     -EPROTONOSUPPORT);
    assert_non_null(strstr(err, "deprecated Docker schema 1 manifest format, which is not "
                                "supported"));
}

static void manifest_round_trip(void **state)
{
    struct pf_manifest m, m2;
    char err[256], *out = NULL;
    size_t len;

    (void)state;
    assert_int_equal(pf_manifest_parse(manifest_json, strlen(manifest_json), &m, err, sizeof(err)),
                     0);
    assert_string_equal(m.media_type, PF_MT_OCI_MANIFEST);
    assert_string_equal(m.config.digest, D1);
    assert_int_equal(m.config.size, 7);
    assert_int_equal(m.n_layers, 2);
    assert_string_equal(m.layers[1].digest, D3);
    assert_string_equal(pf_descriptor_annotation(&m.layers[1], "k"), "v");
    assert_int_equal(m.annotations.n, 2);
    assert_int_equal(pf_manifest_build(&m, &out, &len), 0);
    assert_int_equal(pf_manifest_parse(out, len, &m2, err, sizeof(err)), 0);
    assert_int_equal(m2.n_layers, 2);
    assert_int_equal(m2.layers[0].size, 32);
    assert_string_equal(m2.config.media_type, PF_MT_OCI_CONFIG);
    pf_free(out);
    pf_manifest_release(&m2);
    pf_manifest_release(&m);
}

static void manifest_rejects(void **state)
{
    static const char *const bad[] = {
        "not json",
        "{\"schemaVersion\":2,\"layers\":[]}",
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"md5:1\",\"size\":1},"
        "\"layers\":[]}",
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D1 "\",\"size\":-1},"
        "\"layers\":[]}",
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D1 "\",\"size\":1}}",
        "{\"schemaVersion\":2,\"mediaType\":\"" PF_MT_OCI_INDEX "\",\"config\":{\"mediaType\":"
        "\"x\",\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}",
        "{\"schemaVersion\":2,\"schemaVersion\":2}",
    };
    struct pf_manifest m;
    char err[256];

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(bad); i++) {
        err[0] = '\0';
        assert_int_equal(pf_manifest_parse(bad[i], strlen(bad[i]), &m, err, sizeof(err)), -EINVAL);
        assert_true(err[0] != '\0');
    }
}

static void index_round_trip(void **state)
{
    struct pf_index ix, ix2;
    char err[256], *out = NULL;
    size_t len;

    (void)state;
    assert_int_equal(pf_index_parse(index_json, strlen(index_json), &ix, err, sizeof(err)), 0);
    assert_int_equal(ix.n_manifests, 3);
    assert_string_equal(ix.manifests[1].platform->architecture, "arm64");
    assert_string_equal(ix.manifests[1].platform->variant, "v8");
    assert_false(pf_descriptor_is_attestation(&ix.manifests[0]));
    assert_true(pf_descriptor_is_attestation(&ix.manifests[2]));
    assert_true(pf_platform_is_unknown(ix.manifests[2].platform));
    assert_int_equal(pf_index_build(&ix, &out, &len), 0);
    assert_int_equal(pf_index_parse(out, len, &ix2, err, sizeof(err)), 0);
    assert_int_equal(ix2.n_manifests, 3);
    assert_string_equal(ix2.media_type, PF_MT_DOCKER_LIST);
    assert_string_equal(ix2.manifests[1].platform->variant, "v8");
    assert_string_equal(pf_descriptor_annotation(&ix2.manifests[2], "vnd.docker.reference.type"),
                        "attestation-manifest");
    pf_free(out);
    pf_index_release(&ix2);
    pf_index_release(&ix);
}

static void config_round_trip(void **state)
{
    struct pf_image_config c, c2;
    char err[256], *out = NULL;
    size_t len;
    json_t *root;

    (void)state;
    assert_int_equal(pf_image_config_parse(config_json, strlen(config_json), &c, err, sizeof(err)),
                     0);
    assert_string_equal(c.os, "linux");
    assert_string_equal(c.architecture, "arm");
    assert_string_equal(c.variant, "v7");
    assert_int_equal(c.diff_ids.n, 1);
    assert_int_equal(c.n_history, 2);
    assert_true(c.history[1].empty_layer);
    assert_int_equal(c.labels.n, 4);
    assert_string_equal(c.labels.v[2], "b");
    assert_int_equal(pf_image_config_add_layer(&c, "bad", NULL, NULL, NULL), -EINVAL);
    assert_int_equal(pf_image_config_add_layer(&c, D2, "2025-02-02T00:00:00Z", "patchfleet",
                                               "patched"),
                     0);
    assert_int_equal(pf_image_config_build(&c, &out, &len), 0);
    assert_int_equal(pf_image_config_parse(out, len, &c2, err, sizeof(err)), 0);
    assert_int_equal(c2.diff_ids.n, 2);
    assert_string_equal(c2.diff_ids.v[1], D2);
    assert_int_equal(c2.n_history, 3);
    assert_string_equal(c2.history[2].created_by, "patchfleet");
    assert_string_equal(c2.created, "2025-02-02T00:00:00Z");
    /* Fields we do not model survive. */
    root = json_loads(out, 0, NULL);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(root, "config"), "Env"), 0)),
                        "PATH=/bin");
    json_decref(root);
    pf_free(out);
    pf_image_config_release(&c2);
    pf_image_config_release(&c);
    assert_int_equal(pf_image_config_parse("{\"os\":\"linux\"}", 15, &c, err, sizeof(err)),
                     -EINVAL);
}

static void platforms(void **state)
{
    static const struct {
        const char *want, *have;
        bool match;
    } t[] = {
        {"linux/arm64", "linux/arm64/v8", true},  {"linux/arm64/v8", "linux/arm64", true},
        {"linux/aarch64", "linux/arm64", true},   {"linux/x86_64", "linux/amd64", true},
        {"linux/amd64/v1", "linux/amd64", true},  {"linux/amd64", "linux/amd64/v3", true},
        {"linux/amd64/v3", "linux/amd64", false}, {"linux/arm", "linux/arm/v7", true},
        {"linux/arm/v6", "linux/arm/v7", false},  {"linux/armhf", "linux/arm/7", true},
        {"LINUX/AMD64", "linux/amd64", true},     {"linux/amd64", "windows/amd64", false},
        {"linux/amd64", "linux/arm64", false},
    };
    struct pf_platform p;
    char *s;

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(t); i++) {
        struct pf_platform w, h;
        print_message("platform %s vs %s\n", t[i].want, t[i].have);
        assert_int_equal(pf_platform_parse(t[i].want, &w), 0);
        assert_int_equal(pf_platform_parse(t[i].have, &h), 0);
        assert_int_equal(pf_platform_match(&w, &h), t[i].match);
        pf_platform_release(&w);
        pf_platform_release(&h);
    }
    assert_int_equal(pf_platform_parse("linux/arm64/v8", &p), 0);
    s = pf_platform_format(&p);
    assert_string_equal(s, "linux/arm64");
    pf_free(s);
    pf_platform_release(&p);
    assert_int_equal(pf_platform_parse("linux/arm", &p), 0);
    s = pf_platform_format(&p);
    assert_string_equal(s, "linux/arm/v7");
    pf_free(s);
    pf_platform_release(&p);
    assert_int_equal(pf_platform_parse("linux", &p), -EINVAL);
    assert_int_equal(pf_platform_parse("/amd64", &p), -EINVAL);
    assert_int_equal(pf_platform_parse("linux/amd64/v2/x", &p), -EINVAL);
    assert_int_equal(pf_platform_parse("linux/", &p), -EINVAL);
}

static void digests(void **state)
{
    char d[PF_DIGEST_BUFSZ];
    struct pf_sha256 h = {NULL};

    (void)state;
    assert_int_equal(pf_sha256_digest("", 0, d), 0);
    assert_string_equal(d,
                        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(pf_sha256_init(&h), 0);
    assert_int_equal(pf_sha256_update(&h, "ab", 2), 0);
    assert_int_equal(pf_sha256_update(&h, "c", 1), 0);
    assert_int_equal(pf_sha256_final(&h, d), 0);
    assert_string_equal(d,
                        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    pf_sha256_release(&h);
    assert_non_null(pf_digest_sha256_hex(D1));
    assert_null(pf_digest_sha256_hex("sha256:ABC"));
    assert_null(pf_digest_sha256_hex(D1 "0"));
    assert_null(pf_digest_sha256_hex(
        "sha512:1111111111111111111111111111111111111111111111111111111111111111"));
}

static struct pf_descriptor make_desc(const char *digest, size_t size)
{
    struct pf_descriptor d;

    memset(&d, 0, sizeof(d));
    d.media_type = (char *)(uintptr_t)PF_MT_OCI_MANIFEST;
    d.digest = (char *)(uintptr_t)digest;
    d.size = (int64_t)size;
    return d;
}

static void check_blob(const char *dir, const char *digest)
{
    char path[512], got[PF_DIGEST_BUFSZ];
    int fd;

    (void)snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, digest + 7);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pf_sha256_fd(fd, got, NULL), 0);
    assert_string_equal(got, digest);
    (void)close(fd);
}

static void layout_writer(void **state)
{
    static const char m1[] = "{\"schemaVersion\":2,\"image\":1}";
    static const char m2[] = "{\"schemaVersion\":2,\"image\":2}";
    char dir[] = "/tmp/pf-oci-XXXXXX", d1[PF_DIGEST_BUFSZ], d2[PF_DIGEST_BUFSZ], err[512];
    char path[512], cmd[600];
    struct pf_descriptor a, b;
    struct pf_buf buf = PF_BUF_INIT;
    json_t *root, *arr;
    const char *names[2];

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(pf_oci_layout_init(dir, err, sizeof(err)), 0);
    assert_int_equal(pf_oci_layout_init(dir, err, sizeof(err)), 0); /* idempotent */
    assert_int_equal(pf_oci_layout_put_blob(dir, NULL, m1, strlen(m1), d1, err, sizeof(err)), 0);
    assert_int_equal(pf_oci_layout_put_blob(dir, d1, m1, strlen(m1), NULL, err, sizeof(err)), 0);
    assert_int_equal(pf_oci_layout_put_blob(dir, D1, m2, strlen(m2), d2, err, sizeof(err)),
                     -EBADMSG);
    assert_non_null(strstr(err, "mismatch"));
    assert_int_equal(pf_oci_layout_put_blob(dir, NULL, m2, strlen(m2), d2, err, sizeof(err)), 0);
    check_blob(dir, d1);
    check_blob(dir, d2);

    a = make_desc(d1, strlen(m1));
    b = make_desc(d2, strlen(m2));
    assert_int_equal(pf_oci_layout_add_ref(dir, &a, "app:1.0", err, sizeof(err)), 0);
    assert_int_equal(pf_oci_layout_add_ref(dir, &a, "app:2.0", err, sizeof(err)), 0);
    /* Same ref name again replaces the entry. */
    assert_int_equal(pf_oci_layout_add_ref(dir, &b, "app:2.0", err, sizeof(err)), 0);

    (void)snprintf(path, sizeof(path), "%s/index.json", dir);
    assert_int_equal(pf_buf_read_file(&buf, path), 0);
    root = json_loadb(buf.p, buf.len, 0, NULL);
    assert_non_null(root);
    assert_int_equal(json_integer_value(json_object_get(root, "schemaVersion")), 2);
    arr = json_object_get(root, "manifests");
    assert_int_equal(json_array_size(arr), 2);
    for (size_t i = 0; i < 2; i++)
        names[i] = json_string_value(json_object_get(json_object_get(json_array_get(arr, i),
                                                                     "annotations"),
                                                     PF_ANNOTATION_REF_NAME));
    assert_string_equal(names[0], "app:1.0");
    assert_string_equal(names[1], "app:2.0");
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "digest")), d1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 1), "digest")), d2);
    json_decref(root);
    pf_buf_release(&buf);

    (void)snprintf(path, sizeof(path), "%s/oci-layout", dir);
    assert_int_equal(pf_buf_read_file(&buf, path), 0);
    assert_non_null(strstr(buf.p, "\"imageLayoutVersion\":\"1.0.0\""));
    pf_buf_release(&buf);

    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Issue 14 item 2: a size is checked like a digest, and the error names the descriptor. */
static void descriptor_size_check(void **state)
{
    struct pf_descriptor d = {0};
    char err[512] = "";

    (void)state;
    d.media_type = (char *)(uintptr_t)PF_MT_OCI_LAYER_GZIP;
    d.digest = (char *)(uintptr_t)D2;
    d.size = 32;
    assert_int_equal(pf_descriptor_check_size(&d, 32, err, sizeof(err)), 0);
    assert_int_equal(pf_descriptor_check_size(&d, 33, err, sizeof(err)), -EBADMSG);
    assert_non_null(strstr(err, PF_MT_OCI_LAYER_GZIP " " D2));
    assert_non_null(strstr(err, "declares size 32 but the content is 33 bytes"));
    d.size = -1;
    assert_int_equal(pf_descriptor_check_size(&d, 0, err, sizeof(err)), -EBADMSG);
}

/* Issue 14 item 9: an oversized document names the limit and its size. */
static void oversized_document_named(void **state)
{
    size_t len = (size_t)5 << 20;
    char *big = malloc(len), err[256] = "";
    struct pf_manifest m;
    struct pf_index ix;

    (void)state;
    assert_non_null(big);
    memset(big, ' ', len);
    big[0] = '{';
    big[len - 1] = '}';
    assert_int_equal(pf_manifest_parse(big, len, &m, err, sizeof(err)), -E2BIG);
    assert_non_null(strstr(err, "5242880 bytes"));
    assert_non_null(strstr(err, "limit of 4194304 bytes (4 MiB)"));
    err[0] = '\0';
    assert_int_equal(pf_index_parse(big, len, &ix, err, sizeof(err)), -E2BIG);
    assert_non_null(strstr(err, "5242880 bytes"));
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(detect_media_types),
        cmocka_unit_test(schema1_refused),
        cmocka_unit_test(manifest_round_trip),
        cmocka_unit_test(manifest_rejects),
        cmocka_unit_test(index_round_trip),
        cmocka_unit_test(config_round_trip),
        cmocka_unit_test(platforms),
        cmocka_unit_test(digests),
        cmocka_unit_test(layout_writer),
        cmocka_unit_test(descriptor_size_check),
        cmocka_unit_test(oversized_document_named),
    };

    return cmocka_run_group_tests_name("oci", tests, NULL, NULL);
}
