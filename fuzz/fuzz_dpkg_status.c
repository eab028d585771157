/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the dpkg database readers (worker/deb/dpkg_db.c): the same bytes as a
 * var/lib/dpkg/status file and as one distroless var/lib/dpkg/status.d/ file. An accepted
 * status file must render back and parse again (the engine rewrites it into the patch layer),
 * and every package must be found by its own name and architecture.
 */
#include "pf/setup.h"

#include <stdlib.h>

#include "deb/dpkg_db.h"
#include "fuzz_common.h"

static void status(const uint8_t *data, size_t size)
{
    struct worker_dpkg_db *db = NULL, *again = NULL;
    char err[512];
    char *text = NULL;
    size_t len = 0;

    if (worker_dpkg_db_parse_status((const char *)data, size, &db, err, sizeof(err)) < 0) {
        if (db)
            abort();
        return;
    }
    for (size_t i = 0; i < db->n; i++)
        if (!worker_dpkg_db_find(db, db->pkgs[i]->name, db->pkgs[i]->arch))
            abort();
    if (worker_dpkg_db_render_status(db, &text, &len) == 0) {
        /* What we write must be what we read: the next job reads this layer. */
        if (worker_dpkg_db_parse_status(text, len, &again, err, sizeof(err)) != 0)
            abort();
        if (again->n != db->n)
            abort();
        worker_dpkg_db_free(again);
        pf_free(text);
    }
    worker_dpkg_db_free(db);
}

static void statusd(const uint8_t *data, size_t size)
{
    struct worker_dpkg_db *db = worker_dpkg_db_new_statusd();
    char err[512];
    int r;

    if (!db)
        return;
    r = worker_dpkg_db_add_statusd_file(db, "base", (const char *)data, size, err, sizeof(err));
    if (r < 0 && db->n != 0)
        abort(); /* the database is unchanged on failure */
    worker_dpkg_db_free(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    status(data, size);
    statusd(data, size);
    return 0;
}
