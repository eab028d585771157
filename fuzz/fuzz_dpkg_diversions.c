/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for dpkg's diversions reader (worker/deb/dpkg_diversions.c), a file the image
 * supplies. Every accepted diversion must be applied to its own source path for another package
 * (the engine asks exactly that while unpacking).
 */
#include "pf/setup.h"

#include <stdlib.h>

#include "deb/dpkg_diversions.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct worker_dpkg_diversions d = {0};
    char err[512];

    if (worker_dpkg_diversions_parse((const char *)data, size, &d, err, sizeof(err)) != 0)
        return 0;
    for (size_t i = 0; i < d.n; i++)
        if (!worker_dpkg_diversions_target(&d, d.v[i].from, "fuzz-other-package"))
            abort();
    worker_dpkg_diversions_release(&d);
    return 0;
}
