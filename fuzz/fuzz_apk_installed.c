/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for apk's installed database (lib/apk/db/installed, worker/apk/apk_db.c with
 * installed = true), a file the image supplies. An accepted database must render and parse back
 * to the same number of packages: the engine rewrites it into the patch layer and the next job
 * reads it again.
 */
#include "pf/setup.h"

#include <stdlib.h>

#include "apk/apk_db.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct worker_apk_db db = {0}, again = {0};
    char err[512];
    char *text = NULL;
    size_t len = 0;
    int r;

    r = worker_apk_db_parse(&db, (const char *)data, size, true, err, sizeof(err));
    if (r >= 0 && worker_apk_db_render(&db, &text, &len) == 0) {
        if (worker_apk_db_parse(&again, text, len, true, err, sizeof(err)) < 0 || again.n != db.n)
            abort();
        pf_free(text);
    }
    worker_apk_db_release(&again);
    worker_apk_db_release(&db);
    return 0;
}
