/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the os-release reader (worker/engine/os_release.c), the first file of
 * an image the engines read: it picks the engine. Any bytes must parse or be refused, and the
 * family of a parsed file must have a name.
 */
#include "pf/setup.h"

#include <stdlib.h>

#include "engine/os_release.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct worker_os_release osr;
    char *v = NULL;

    if (worker_os_release_parse((const char *)data, size, &osr) == 0) {
        if (!worker_distro_family_to_string(osr.family))
            abort();
        worker_os_release_release(&osr);
    }
    if (worker_os_release_unquote((const char *)data, size, &v) == 0)
        pf_free(v);
    return 0;
}
