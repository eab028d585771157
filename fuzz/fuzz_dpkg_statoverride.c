/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for dpkg's statoverride reader (worker/deb/dpkg_statoverride.c). The image
 * supplies the file and its passwd/group, so all three come from the input: it is split at the
 * first two NUL bytes into statoverride, passwd and group. Every accepted override must be
 * found again by its path.
 */
#include "pf/setup.h"

#include <stdlib.h>

#include "deb/dpkg_statoverride.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct worker_dpkg_statoverrides s = {0};
    char *buf = fuzz_cstring(data, size);
    const char *passwd = NULL, *group = NULL;
    size_t text_len;
    char err[512];

    if (!buf)
        return 0;
    text_len = strlen(buf);
    if (text_len < size) {
        passwd = buf + text_len + 1;
        if ((size_t)(passwd - buf) + strlen(passwd) < size)
            group = passwd + strlen(passwd) + 1;
    }
    if (worker_dpkg_statoverrides_parse(buf, text_len, passwd, group, &s, err, sizeof(err)) == 0) {
        for (size_t i = 0; i < s.n; i++)
            if (!worker_dpkg_statoverrides_find(&s, s.v[i].path))
                abort();
        worker_dpkg_statoverrides_release(&s);
    }
    pf_free(buf);
    return 0;
}
