/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the APKINDEX text reader (worker/apk/apk_db.c with installed = false):
 * the text inside a signed APKINDEX.tar.gz. Every package accepted must be found by name, and
 * the signed-archive opener gets the raw bytes too (with no trusted key it must refuse them,
 * without a crash, whatever their shape).
 */
#include "pf/setup.h"

#include <stdlib.h>

#include "apk/apk_db.h"
#include "apk/apk_file.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct worker_apk_db db = {0};
    struct worker_apk_keys keys = {PF_STRV_INIT, PF_STRV_INIT};
    char err[512];
    char *text = NULL;
    size_t text_len = 0;
    int r;

    r = worker_apk_db_parse(&db, (const char *)data, size, false, err, sizeof(err));
    if (r >= 0) {
        if ((size_t)r != db.n)
            abort();
        for (size_t i = 0; i < db.n; i++)
            if (!worker_apk_db_find(&db, db.v[i].name))
                abort();
    }
    worker_apk_db_release(&db);
    if (worker_apk_index_open(data, size, &keys, &text, &text_len, err, sizeof(err)) == 0)
        abort(); /* nothing verifies without a key */
    return 0;
}
