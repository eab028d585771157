/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the deb822 reader (worker/deb/deb822.c) under both rule sets: dpkg's
 * (no comments) and apt .sources' (comments allowed). Every field of an accepted document
 * must be found again by name, and a refused one leaves the document empty.
 */
#include "pf/setup.h"

#include <stdlib.h>

#include "deb/deb822.h"
#include "fuzz_common.h"

static void one(const uint8_t *data, size_t size, bool comments)
{
    struct worker_deb822_opts opts = {.allow_comments = comments, .max_paras = 1000};
    struct worker_deb822_doc doc = WORKER_DEB822_DOC_INIT;
    char err[512];

    if (worker_deb822_parse((const char *)data, size, &opts, &doc, err, sizeof(err)) < 0) {
        if (doc.n != 0 || doc.paras)
            abort(); /* untouched on failure */
        return;
    }
    for (size_t i = 0; i < doc.n; i++)
        for (size_t j = 0; j < doc.paras[i].n_fields; j++)
            if (!worker_deb822_para_field(&doc.paras[i], doc.paras[i].fields[j].name))
                abort();
    worker_deb822_doc_clear(&doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, false);
    one(data, size, true);
    return 0;
}
