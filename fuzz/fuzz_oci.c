/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the OCI model (common/src/oci.c): manifest-kind detection, the image
 * manifest, the index / manifest list and the image config parsers, all fed what a registry
 * serves. A parsed manifest or index must build and parse back with the same descriptors
 * (patchfleet pushes what it builds).
 */
#include "pf/setup.h"

#include <stdlib.h>

#include "fuzz_common.h"
#include "pf/oci.h"

static void manifest(const char *body, size_t len)
{
    struct pf_manifest m, again;
    char err[512];
    char *out = NULL;
    size_t out_len = 0;

    if (pf_manifest_parse(body, len, &m, err, sizeof(err)) != 0)
        return;
    if (pf_manifest_build(&m, &out, &out_len) == 0) {
        if (pf_manifest_parse(out, out_len, &again, err, sizeof(err)) != 0)
            abort();
        if (again.n_layers != m.n_layers)
            abort();
        pf_manifest_release(&again);
        pf_free(out);
    }
    pf_manifest_release(&m);
}

static void index_(const char *body, size_t len)
{
    struct pf_index ix, again;
    char err[512];
    char *out = NULL;
    size_t out_len = 0;

    if (pf_index_parse(body, len, &ix, err, sizeof(err)) != 0)
        return;
    if (pf_index_build(&ix, &out, &out_len) == 0) {
        if (pf_index_parse(out, out_len, &again, err, sizeof(err)) != 0)
            abort();
        if (again.n_manifests != ix.n_manifests)
            abort();
        pf_index_release(&again);
        pf_free(out);
    }
    pf_index_release(&ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    const char *mt = NULL;
    struct pf_image_config c;
    char err[512];

    (void)pf_oci_detect_manifest(NULL, body, size, &mt);
    (void)pf_oci_detect_manifest("application/vnd.oci.image.index.v1+json", body, size, &mt);
    manifest(body, size);
    index_(body, size);
    if (pf_image_config_parse(body, size, &c, err, sizeof(err)) == 0)
        pf_image_config_release(&c);
    return 0;
}
