/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Assembly of a patched image from its source documents: the new image config (one more
 * diff_id, one history entry, the base label), the new manifest (new config descriptor, one
 * more layer) and the new index (patched platforms swapped in, attestations dropped). Pure
 * functions on JSON text, no I/O: every field we do not know is kept through a jansson round
 * trip, because an image carries more than our model (Env, Cmd, healthchecks, vendor fields)
 * and a patch must change only what it means to change. Rules: docs/patching.md.
 */
#ifndef WORKER_IMAGE_IMAGE_PATCH_H
#define WORKER_IMAGE_IMAGE_PATCH_H

#include "pf/digest.h"
#include "pf/setup.h"

struct pf_descriptor;
struct worker_engine_upgrade;

/* The label put on every patched image config: the digest of the manifest it was patched from. */
#define WORKER_IMAGE_PATCH_LABEL_BASE "sh.patchfleet.base.digest"
#define WORKER_IMAGE_PATCH_ANN_BASE_DIGEST "org.opencontainers.image.base.digest"
#define WORKER_IMAGE_PATCH_ANN_BASE_NAME "org.opencontainers.image.base.name"
/* The history comment of the patch layer. */
#define WORKER_IMAGE_PATCH_COMMENT "patchfleet"
/* Bound on a history entry's created_by (bytes, the "patchfleet: " prefix included): a patch
 * of hundreds of packages must not bloat the config every pull downloads. */
#define WORKER_IMAGE_PATCH_HISTORY_MAX 1024u

/*
 * Returns the new config for `config` (`len` bytes): rootfs.diff_ids gets `layer_diff_id`
 * appended; history (when the source has one: inventing it would misalign history and layers)
 * gets {created: the config's own "created" when present, created_by: "patchfleet: " +
 * `history_text` cut to WORKER_IMAGE_PATCH_HISTORY_MAX bytes on a UTF-8 boundary, comment:
 * "patchfleet"}; config.Labels gets WORKER_IMAGE_PATCH_LABEL_BASE = `base_manifest_digest`.
 * Everything else is kept. `history_text` may be NULL ("patch layer"). Returns 0 with a new
 * pf_malloc'ed string in *ret and its length in *ret_len, -EINVAL (malformed config or
 * digest; reason in errbuf), -E2BIG (config over PF_CONFIG_MAX) or -ENOMEM. *ret untouched on
 * failure.
 */
int worker_image_patch_config(const char *config, size_t len, const char *layer_diff_id,
                              const char *base_manifest_digest, const char *history_text,
                              char **ret, size_t *ret_len, char *errbuf, size_t errlen);

/*
 * Returns the new manifest for `manifest`: "config" replaced by `new_config` (its media type,
 * or the source config's when new_config->media_type is NULL), `new_layer` appended to
 * "layers" with the layer media type of the manifest's family (OCI tar+gzip, or Docker
 * rootfs.diff.tar.gzip for a Docker schema 2 manifest) whatever new_layer->media_type says;
 * the manifest's mediaType is kept. On OCI manifests only, the annotations
 * WORKER_IMAGE_PATCH_ANN_BASE_DIGEST = `base_digest` and (when `base_name` is not NULL)
 * WORKER_IMAGE_PATCH_ANN_BASE_NAME = `base_name` are set. Unknown fields are kept. Returns 0
 * with a new string in *ret / *ret_len, -EINVAL (not an image manifest, bad descriptor; reason
 * in errbuf), -E2BIG (over PF_MANIFEST_MAX) or -ENOMEM. *ret untouched on failure.
 */
int worker_image_patch_manifest(const char *manifest, size_t len,
                                const struct pf_descriptor *new_config,
                                const struct pf_descriptor *new_layer, const char *base_digest,
                                const char *base_name, char **ret, size_t *ret_len, char *errbuf,
                                size_t errlen);

/* One index entry to swap: the entry whose digest is `old_digest` gets `new_digest` and
 * `new_size` (media type, platform and annotations are kept). */
struct worker_image_patch_swap {
    const char *old_digest;
    const char *new_digest;
    int64_t new_size;
};

/*
 * Returns the new index for `index` (OCI index or Docker manifest list): every entry named in
 * `swaps` gets its new digest and size; attestation entries (pf_descriptor_is_attestation:
 * unknown/unknown platform or attestation annotation) are dropped, because they describe the
 * unpatched image; every other entry is kept as is. On an OCI index, the annotations
 * base.digest = `base_digest` and base.name = `base_name` (when not NULL) are set. Unknown
 * fields are kept. Returns 0 with a new string in *ret / *ret_len, -EINVAL (not an index, or
 * a swap that names no entry), -E2BIG or -ENOMEM. *ret untouched on failure.
 */
int worker_image_patch_index(const char *index, size_t len,
                             const struct worker_image_patch_swap *swaps, size_t n_swaps,
                             const char *base_digest, const char *base_name, char **ret,
                             size_t *ret_len, char *errbuf, size_t errlen);

/*
 * Formats the history text of a patch: "upgraded N packages: a 1.0 -> 1.1, b (new) 2.0, ..."
 * (a package the patch newly installs shows "(new)"), cut so that it fits `max` bytes with a
 * final ", ... (K more)" when packages were left out. Returns a new string, or NULL on OOM.
 */
char *worker_image_patch_history_text(const struct worker_engine_upgrade *upgrades, size_t n,
                                      size_t max);

#endif
