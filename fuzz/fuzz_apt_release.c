/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the apt Release parser (worker/deb/apt_release.c). The parser only ever
 * sees text gpgv verified, but a mirror's signing key is not a promise that the text is sane:
 * any byte string must be parsed or refused without a crash or a leak, and a parsed Release
 * must answer lookups of the paths it lists.
 */
#include "pf/setup.h"

#include <stdlib.h>

#include "deb/apt_release.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct worker_apt_release *rel = NULL;
    char err[512];
    int r;

    r = worker_apt_release_parse((const char *)data, size, &rel, err, sizeof(err));
    if (r < 0) {
        if (rel)
            abort(); /* *ret untouched on failure */
        return 0;
    }
    (void)worker_apt_release_check_valid_until(rel, 1700000000, err, sizeof(err));
    for (size_t i = 0; i < rel->n_files; i++) {
        const char *hex = NULL;
        uint64_t sz = 0;
        char *by_hash = NULL;

        if (worker_apt_release_find(rel, rel->files[i].path, &hex, &sz) != 0)
            abort(); /* every listed path is found again */
        if (worker_apt_release_by_hash_path(rel, rel->files[i].path, &by_hash) == 0)
            pf_free(by_hash);
        (void)worker_apt_verify_index(rel, rel->files[i].path, data, size, err, sizeof(err));
    }
    worker_apt_release_free(rel);
    return 0;
}
