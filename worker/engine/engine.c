/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every engine shares: writing its one layer and releasing a result. Kept apart from the
 * engines so the job runner links against the contract alone.
 */
#include "pf/setup.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "engine/engine.h"

void worker_engine_result_release(struct worker_engine_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_upgrades; i++) {
        pf_free(r->upgrades[i].name);
        pf_free(r->upgrades[i].arch);
        pf_free(r->upgrades[i].from);
        pf_free(r->upgrades[i].to);
    }
    pf_free(r->upgrades);
    pf_free(r->os);
    pf_free(r->layer_path);
    *r = (struct worker_engine_result){0};
}

int worker_engine_write_layer(struct worker_layer_writer *w, const char *workdir,
                              struct worker_engine_result *res, char *errbuf, size_t errlen)
{
    struct worker_layer_result lr;
    char *path = pf_asprintf("%s/patch-layer.tar.gz", workdir);
    int fd, r;

    if (!path)
        return -ENOMEM;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        r = -errno;
        (void)pf_set_error(errbuf, errlen, r, "cannot create %s: %s", path, strerror(-r));
        pf_free(path);
        return r;
    }
    r = worker_layer_writer_finish(w, fd, &lr);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r < 0) {
        (void)pf_set_error(errbuf, errlen, r, "cannot write the patch layer: %s", strerror(-r));
        (void)unlink(path);
        pf_free(path);
        return r;
    }
    res->layer = lr;
    res->layer_path = path;
    return 0;
}
