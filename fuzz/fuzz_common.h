/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the libFuzzer targets: the prototype libFuzzer calls, and a NUL-terminated
 * copy of the input for the parsers that take a C string. Each target stays one parser; only
 * this boilerplate is shared.
 */
#ifndef PF_FUZZ_COMMON_H
#define PF_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pf/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A new NUL-terminated copy of the input (pf_free() it), or NULL on OOM. */
static inline char *fuzz_cstring(const uint8_t *data, size_t size)
{
    char *s = pf_malloc(size + 1);

    if (!s)
        return NULL;
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
