/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the Packages index scanner (worker/deb/apt_index.c): the text a mirror
 * serves after its checksum matched the Release. A refused index must leave the index unchanged
 * (its size stays 0), an accepted one must find each package it added by name, and every
 * Provides value must split without a crash.
 */
#include "pf/setup.h"

#include <stdlib.h>

#include "deb/apt_index.h"
#include "fuzz_common.h"

static int provide_cb(const char *name, const char *version, void *userdata)
{
    (void)name;
    (void)version;
    (void)userdata;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct worker_apt_index *idx = NULL;
    char err[512];
    int r;

    if (worker_apt_index_new(&idx) < 0)
        return 0;
    r = worker_apt_index_add_packages(idx, "http://mirror.invalid/debian", (const char *)data, size,
                                      err, sizeof(err));
    if (r < 0 && worker_apt_index_size(idx) != 0)
        abort(); /* on failure the index is unchanged */
    if (r >= 0 && worker_apt_index_size(idx) != (size_t)r)
        abort();
    if (r > 0) {
        const struct worker_apt_candidate *const *c = NULL;
        size_t n = worker_apt_index_lookup(idx, "hello", &c);

        for (size_t i = 0; i < n; i++)
            if (!c[i])
                abort();
        (void)worker_apt_index_providers(idx, "hello", &c);
    }
    {
        char *s = fuzz_cstring(data, size);

        if (s)
            (void)worker_apt_provides_foreach(s, provide_cb, NULL);
        pf_free(s);
    }
    worker_apt_index_free(idx);
    return 0;
}
