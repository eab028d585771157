/* SPDX-License-Identifier: Apache-2.0 */
/* File-descriptor helpers (see pf/io.h). */
#include "pf/setup.h"

#include <fcntl.h>
#include <unistd.h>

#include "pf/io.h"

int pf_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int pf_write_file_new(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int r;

    if (fd < 0)
        return -errno;
    r = pf_write_all(fd, data, len);
    if (close(fd) < 0 && r == 0)
        r = -errno;
    return r;
}
