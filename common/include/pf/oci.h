/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OCI image model: descriptors, image manifests, indexes (and their Docker twins: schema 2
 * manifests and manifest lists), image configs, platforms, and the OCI image-layout writer.
 * Parsing is strict about what we rely on (digests, sizes, media types) and tolerant of
 * fields we do not know. The image config keeps its whole JSON document, because patching
 * must append a layer without losing Env, Cmd or anything else an image carries.
 * Docker schema 1 is recognised only so that it can be refused with a clear message.
 */
#ifndef PF_OCI_H
#define PF_OCI_H

#include "pf/digest.h"
#include "pf/setup.h"
#include "pf/strv.h"

struct json_t;

#define PF_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define PF_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define PF_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define PF_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define PF_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define PF_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define PF_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define PF_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define PF_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define PF_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define PF_MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define PF_MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

#define PF_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"

/* Manifests and indexes larger than this are refused (the distribution spec's own limit). */
#define PF_MANIFEST_MAX ((size_t)4 << 20)
/* Image configs larger than this are refused. */
#define PF_CONFIG_MAX ((size_t)8 << 20)

enum pf_manifest_kind {
    PF_MANIFEST_IMAGE,   /* OCI image manifest or Docker schema 2 */
    PF_MANIFEST_INDEX,   /* OCI index or Docker manifest list */
    PF_MANIFEST_SCHEMA1, /* Docker schema 1: recognised, never supported */
    PF_MANIFEST_KIND__MAX,
    PF_MANIFEST_INVALID = -EINVAL,
};

struct pf_platform {
    char *os;           /* "linux" */
    char *architecture; /* "amd64", "arm64", "arm" */
    char *variant;      /* "v7"; NULL when absent */
    char *os_version;   /* Windows only; NULL when absent */
};

/* Annotations and labels are kept as alternating key, value strings in a pf_strv. */
struct pf_descriptor {
    char *media_type;
    char *digest; /* "sha256:<hex>" */
    int64_t size;
    struct pf_platform *platform; /* NULL when absent */
    struct pf_strv annotations;   /* k, v, k, v ... */
    struct pf_strv urls;          /* foreign layers; usually empty */
    char *artifact_type;          /* NULL when absent */
};

struct pf_manifest {
    int schema_version;
    char *media_type; /* as in the document; NULL if absent (allowed by OCI) */
    char *artifact_type;
    struct pf_descriptor config;
    struct pf_descriptor *layers;
    size_t n_layers;
    struct pf_descriptor *subject; /* NULL when absent */
    struct pf_strv annotations;
};

struct pf_index {
    int schema_version;
    char *media_type;
    struct pf_descriptor *manifests;
    size_t n_manifests;
    struct pf_strv annotations;
};

struct pf_history {
    char *created;
    char *created_by;
    char *comment;
    bool empty_layer;
};

/* The parsed fields are views for convenience; `json` is the whole document (owned). */
struct pf_image_config {
    char *os;
    char *architecture;
    char *variant; /* NULL when absent */
    char *created; /* NULL when absent */
    struct pf_strv diff_ids;
    struct pf_history *history;
    size_t n_history;
    struct pf_strv labels; /* config.Labels as k, v, k, v ... */
    struct json_t *json;
};

/* --- media types ------------------------------------------------------------------------- */

/*
 * Works out what a manifest document is. `content_type` is the HTTP Content-Type (parameters
 * ignored; may be NULL); when it is missing or generic (application/json, text/plain,
 * application/octet-stream) the body's mediaType is used, then its shape (manifests[] → index,
 * config → image, schemaVersion 1 → schema 1). On success *ret_media_type is set to a static
 * string (one of the PF_MT_* manifest types). Returns the kind, or PF_MANIFEST_INVALID.
 */
int pf_oci_detect_manifest(const char *content_type, const char *body, size_t len,
                           const char **ret_media_type);
/* True for the four manifest/index media types we support. */
bool pf_oci_media_type_is_manifest(const char *mt);
bool pf_oci_media_type_is_index(const char *mt);

/* --- descriptors, manifests, indexes --------------------------------------------------- */

void pf_descriptor_release(struct pf_descriptor *d);
/* Deep copy into *ret. Returns 0 or -ENOMEM. */
int pf_descriptor_copy(const struct pf_descriptor *src, struct pf_descriptor *ret);
/*
 * Checks that `actual` (the bytes read, or the size a registry reports for a blob it holds)
 * equals the size `d` declares. A digest proves the bytes but not the declared size, and a
 * wrong size copied into a pushed manifest makes an image other tools cannot unpack. Returns 0,
 * or -EBADMSG with the descriptor named (media type, digest, declared and actual) in errbuf.
 */
int pf_descriptor_check_size(const struct pf_descriptor *d, uint64_t actual, char *errbuf,
                             size_t errlen);
/* Borrowed value of annotation `key`, or NULL. */
const char *pf_descriptor_annotation(const struct pf_descriptor *d, const char *key);
/* Sets (replaces) annotation `key`. Returns 0 or -ENOMEM. */
int pf_descriptor_set_annotation(struct pf_descriptor *d, const char *key, const char *value);
/*
 * True for index entries that are not runnable images: BuildKit attestation manifests
 * (platform unknown/unknown, or annotation vnd.docker.reference.type=attestation-manifest).
 */
bool pf_descriptor_is_attestation(const struct pf_descriptor *d);

/*
 * Parses an image manifest (OCI or Docker schema 2) into *ret. Returns 0, -EINVAL with the
 * reason in errbuf (bad JSON, missing config, bad digest...), -EPROTONOSUPPORT for schema 1,
 * or -ENOMEM. *ret is untouched on failure.
 */
int pf_manifest_parse(const char *body, size_t len, struct pf_manifest *ret, char *errbuf,
                      size_t errlen);
void pf_manifest_release(struct pf_manifest *m);
/* Serialises `m` to compact JSON in a new string (*ret, *ret_len). Returns 0, -EINVAL, -ENOMEM. */
int pf_manifest_build(const struct pf_manifest *m, char **ret, size_t *ret_len);

/* Same contract as pf_manifest_parse, for an OCI index or a Docker manifest list. */
int pf_index_parse(const char *body, size_t len, struct pf_index *ret, char *errbuf, size_t errlen);
void pf_index_release(struct pf_index *ix);
int pf_index_build(const struct pf_index *ix, char **ret, size_t *ret_len);

/* --- image config ------------------------------------------------------------------------ */

/* Parses an image config. Returns 0, -EINVAL (reason in errbuf) or -ENOMEM; *ret untouched on
 * failure. */
int pf_image_config_parse(const char *body, size_t len, struct pf_image_config *ret, char *errbuf,
                          size_t errlen);
void pf_image_config_release(struct pf_image_config *c);
/*
 * Appends a layer: `diff_id` to rootfs.diff_ids and a history entry (created, created_by,
 * comment may be NULL), both in the JSON document and in the parsed view; also sets
 * "created" when `created` is given. Returns 0, -EINVAL (bad digest) or -ENOMEM.
 */
int pf_image_config_add_layer(struct pf_image_config *c, const char *diff_id, const char *created,
                              const char *created_by, const char *comment);
/* Serialises the (possibly modified) document. Returns 0 or -ENOMEM. */
int pf_image_config_build(const struct pf_image_config *c, char **ret, size_t *ret_len);

/* --- platforms --------------------------------------------------------------------------- */

/*
 * Parses "os/arch[/variant]" into *ret, normalised (see pf_platform_normalize). Returns 0,
 * -EINVAL (malformed) or -ENOMEM.
 */
int pf_platform_parse(const char *s, struct pf_platform *ret);
/* "os/arch[/variant]" as a new string, or NULL on OOM. */
char *pf_platform_format(const struct pf_platform *p);
void pf_platform_release(struct pf_platform *p);
int pf_platform_copy(const struct pf_platform *src, struct pf_platform *ret);
/*
 * Normalises like containerd: lowercase; x86_64/x86-64 → amd64, aarch64 → arm64, armhf →
 * arm/v7, armel → arm/v6, i386/i686 → 386; arm64's "v8" and amd64's "v1" variants dropped;
 * arm without a variant becomes arm/v7. Returns 0 or -ENOMEM.
 */
int pf_platform_normalize(struct pf_platform *p);
/*
 * True when an image for `have` satisfies a request for `want`: same os and architecture after
 * normalisation, and the same variant unless `want` has none (then any variant matches).
 */
bool pf_platform_match(const struct pf_platform *want, const struct pf_platform *have);
/* True for "unknown/unknown", the platform BuildKit puts on attestation manifests. */
bool pf_platform_is_unknown(const struct pf_platform *p);

/* --- OCI image layout writer ------------------------------------------------------------ */

/*
 * Creates (or opens) an OCI image layout at `dir`: the directory, `oci-layout` and
 * blobs/sha256. Idempotent. Returns 0 or a negative errno with the reason in errbuf.
 */
int pf_oci_layout_init(const char *dir, char *errbuf, size_t errlen);
/*
 * Stores a blob: written to a temp file, fsync'ed, its digest checked against `digest` (when
 * not NULL) and renamed to blobs/sha256/<hex>. An existing blob is kept. The computed digest
 * goes to `ret_digest` (may be NULL). Returns 0, -EBADMSG on mismatch, or a negative errno.
 */
int pf_oci_layout_put_blob(const char *dir, const char *digest, const void *data, size_t len,
                           char ret_digest[PF_DIGEST_BUFSZ], char *errbuf, size_t errlen);
/* Like pf_oci_layout_put_blob() but copies everything readable from `fd` (pread from 0). */
int pf_oci_layout_put_blob_fd(const char *dir, const char *digest, int fd,
                              char ret_digest[PF_DIGEST_BUFSZ], char *errbuf, size_t errlen);
/*
 * Adds `desc` (a manifest or index already stored as a blob) to index.json, annotated with
 * org.opencontainers.image.ref.name = `ref_name`; an existing entry with the same ref name is
 * replaced. index.json is rewritten atomically (temp file, fsync, rename) under an flock on
 * `<dir>/.index.lock`, so concurrent writers in several processes do not lose entries.
 * Returns 0 or a negative errno with the reason in errbuf.
 */
int pf_oci_layout_add_ref(const char *dir, const struct pf_descriptor *desc, const char *ref_name,
                          char *errbuf, size_t errlen);

#endif
