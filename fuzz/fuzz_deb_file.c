/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the .deb reader (worker/deb/deb_file.c): the ar container, debian-binary,
 * the control tar and the data tar's entry checks. The reader opens a path, so each input is
 * written to one private temporary file first. An opened package must give its control
 * paragraph and survive a full walk of its data entries.
 */
#include "pf/setup.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "deb/deb_file.h"
#include "fuzz_common.h"

static char path[64];

static int entry_cb(const struct worker_deb_data_entry *e, void *ctx, void *userdata)
{
    char buf[4096];

    (void)e;
    (void)userdata;
    while (worker_deb_data_read(ctx, buf, sizeof(buf)) > 0)
        ;
    return 0;
}

static int write_input(const uint8_t *data, size_t size)
{
    int fd;
    size_t off = 0;

    if (!path[0]) {
        (void)snprintf(path, sizeof(path), "/tmp/pf-fuzz-deb-%ld.deb", (long)getpid());
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);

        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    close(fd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct worker_deb_file *d = NULL;
    char err[512];

    if (write_input(data, size) < 0)
        return 0;
    if (worker_deb_file_open(path, &d, err, sizeof(err)) == 0) {
        if (!worker_deb_file_control(d) || !worker_deb_file_control_text(d))
            abort();
        (void)worker_deb_file_md5sums(d);
        (void)worker_deb_file_conffiles(d);
        (void)worker_deb_file_each_data(d, entry_cb, NULL, err, sizeof(err));
        worker_deb_file_free(d);
    } else if (d) {
        abort();
    }
    (void)unlink(path);
    return 0;
}
