/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running a trusted helper program (a docker credential helper, gpgv) safely: posix_spawnp with
 * an argv, never a shell; no descriptor but stdin/stdout/stderr inherited; stdin fed from
 * memory over a socket so a child that exits early cannot SIGPIPE us; output bounded; and a
 * deadline after which the child is killed. Nothing a child prints is logged here: callers
 * decide what is safe to show (credential helpers may echo secrets).
 */
#ifndef PF_SPAWN_H
#define PF_SPAWN_H

#include "pf/setup.h"

struct pf_buf;

struct pf_spawn_options {
    char *const *argv; /* argv[0] is searched in PATH */
    char *const *envp; /* NULL inherits the caller's environment */
    const void *input; /* bytes for the child's stdin, then EOF; NULL means /dev/null */
    size_t input_len;
    bool merge_stderr; /* stderr goes to the output too; otherwise to /dev/null */
    int timeout_ms;    /* > 0 */
};

/*
 * Runs the program to completion. The output (stdout, plus stderr when merged) is appended to
 * `out`, whose own bound limits it. Returns 0 and the exit code in *ret_exit (128 + signal when
 * the child died of a signal); -ENOENT when the program is not found, -ETIMEDOUT when the
 * deadline passed or -E2BIG when the output outgrew `out` (the child is killed in both cases),
 * -EINVAL for bad options, or another negative errno. The child is always reaped.
 */
int pf_spawn_run(const struct pf_spawn_options *o, struct pf_buf *out, int *ret_exit);

#endif
