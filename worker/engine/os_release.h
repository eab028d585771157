/* SPDX-License-Identifier: Apache-2.0 */
/*
 * os-release(5) reader: KEY=value lines with shell-like quoting, as found at etc/os-release or
 * usr/lib/os-release in an image. The patch engine uses it to pick the package manager family
 * (by ID, then ID_LIKE) and the release whose repositories to use. Lines that do not parse are
 * skipped, as one odd line must not hide the ID of an otherwise good file.
 */
#ifndef WORKER_ENGINE_OS_RELEASE_H
#define WORKER_ENGINE_OS_RELEASE_H

#include "pf/setup.h"

enum worker_distro_family {
    WORKER_DISTRO_UNKNOWN,
    WORKER_DISTRO_DEBIAN,
    WORKER_DISTRO_UBUNTU,
    WORKER_DISTRO_ALPINE,
    WORKER_DISTRO__MAX,
};

/* All strings owned; NULL when the key is absent. */
struct worker_os_release {
    char *id;
    char *id_like;
    char *version_id;
    char *version_codename;
    char *ubuntu_codename;
    char *pretty_name;
    enum worker_distro_family family;
    long major; /* leading number of VERSION_ID, or -1 */
};

#define WORKER_OS_RELEASE_MAX_INPUT ((size_t)64 << 10)

/*
 * Parses `len` bytes of os-release text into `ret` (released with worker_os_release_release()).
 * Returns 0, -EINVAL (NUL byte), -E2BIG (over WORKER_OS_RELEASE_MAX_INPUT) or -ENOMEM;
 * `ret` untouched on failure.
 */
int worker_os_release_parse(const char *text, size_t len, struct worker_os_release *ret);

/* Frees the strings of `osr` and zeroes it; accepts NULL. */
void worker_os_release_release(struct worker_os_release *osr);

/*
 * Decodes one value in os-release quoting ("...", '...', backslash escapes, concatenation)
 * into a new string (*ret). Returns 0, -EINVAL (unterminated quote, trailing backslash,
 * unquoted blank inside the value) or -ENOMEM.
 */
int worker_os_release_unquote(const char *s, size_t len, char **ret);

/* Returns "debian", "ubuntu", "alpine" or "unknown". */
const char *worker_distro_family_to_string(enum worker_distro_family f);

#endif
