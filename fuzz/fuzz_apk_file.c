/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the in-memory .apk reader (worker/apk/apk_file.c). The control segment's
 * SHA-1 must match the index, which random bytes never do; so the target asks once with no
 * identity, takes the checksum the refusal names, and opens again with it, which reaches the
 * .PKGINFO and datahash checks. The data segment walker gets the input as a data member of its
 * own, so the tar entry checks are fuzzed whatever the signature says.
 */
#include "pf/setup.h"

#include <stdlib.h>

#include "apk/apk_file.h"
#include "fuzz_common.h"

static int entry_cb(const struct worker_apk_entry *e, void *userdata)
{
    (void)userdata;
    if (!e->path || e->path[0] == '/')
        abort(); /* the walker promised relative paths */
    return 0;
}

/* Copies the "Q1..." the refusal names into `q1`; false when it names none. */
static bool identity_from(const char *err, char q1[31])
{
    const char *p = strstr(err, "checksum Q1");

    if (!p || strlen(p + 9) < 30)
        return false;
    memcpy(q1, p + 9, 30);
    q1[30] = '\0';
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct worker_apk_keys keys = {PF_STRV_INIT, PF_STRV_INIT};
    struct worker_apk_pkgfile f = {0};
    char err[512] = "";
    char q1[31];

    if (worker_apk_file_open(data, size, NULL, &keys, &f, err, sizeof(err)) == 0)
        abort(); /* no identity, no package */
    if (identity_from(err, q1) &&
        worker_apk_file_open(data, size, q1, &keys, &f, err, sizeof(err)) == 0) {
        char *name = worker_apk_pkginfo_get(f.pkginfo, "pkgname", 0);

        pf_free(name);
        (void)worker_apk_file_each(&f, entry_cb, NULL, err, sizeof(err));
        worker_apk_file_release(&f);
    }
    f = (struct worker_apk_pkgfile){.data = data, .data_len = size};
    (void)worker_apk_file_each(&f, entry_cb, NULL, err, sizeof(err));
    return 0;
}
