/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small file-descriptor helpers every module needs and none should rewrite: a write that
 * finishes what it starts despite short writes and EINTR.
 */
#ifndef PF_IO_H
#define PF_IO_H

#include "pf/setup.h"

/* Writes all `len` bytes of `data` to `fd`, retrying short writes and EINTR. Returns 0 or the
 * negative errno of the failed write(). */
int pf_write_all(int fd, const void *data, size_t len);

/* Creates `path` (it must not exist: O_EXCL, so a planted file or link is never followed) with
 * mode 0600 and writes `data` into it. Returns 0 or a negative errno; a failed write leaves
 * the partial file for the caller's clean-up of its directory. */
int pf_write_file_new(const char *path, const void *data, size_t len);

#endif
