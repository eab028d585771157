/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The apt Release file (the signed text of InRelease, see worker/gpgv.h) and what it vouches
 * for: the SHA256 and size of every index under dists/<suite>/. Parsing keeps only the fields
 * the patch engine acts on; the SHA256 list is the link from the signature to Packages, so a
 * Release without one is refused, and an index is accepted only when both its size and its
 * SHA256 match. Valid-Until and Date guard against replay of an old, validly signed Release.
 */
#ifndef WORKER_DEB_APT_RELEASE_H
#define WORKER_DEB_APT_RELEASE_H

#include <time.h>

#include "pf/setup.h"
#include "pf/strv.h"

/* Largest Release text parsed (Ubuntu's main archive Release is ~250 KiB). */
#define WORKER_APT_RELEASE_MAX ((size_t)8 << 20)
/* A Release whose Date is further ahead of `now` than this is refused (clock skew allowance). */
#define WORKER_APT_RELEASE_MAX_FUTURE 600

/* One line of the SHA256 list: " <hex> <size> <path>". */
struct worker_apt_release_file {
    char *path;      /* relative to dists/<suite>/, e.g. "main/binary-amd64/Packages.xz" */
    char sha256[65]; /* 64 lowercase hex digits */
    uint64_t size;
};

struct worker_apt_release {
    char *origin; /* NULL when absent, like the other strings */
    char *label;
    char *suite;
    char *codename;
    time_t date;          /* 0 when absent */
    time_t valid_until;   /* 0 when absent: never expires */
    bool acquire_by_hash; /* "Acquire-By-Hash: yes" */
    struct pf_strv architectures;
    struct pf_strv components;
    struct worker_apt_release_file *files; /* sorted by path, paths unique */
    size_t n_files;
};

/*
 * Parses the verified Release text (`len` bytes, need not be NUL-terminated) into a new object
 * (`*ret`, freed with worker_apt_release_free()). Only pass text that gpgv verified.
 * Returns 0, -EINVAL (malformed: not exactly one stanza, bad date, bad hash line, absolute or
 * ".." path, duplicate path), -EBADMSG (no SHA256 list), -E2BIG or -ENOMEM. On failure `*ret` is
 * untouched and, when `errbuf` is not NULL, a message is written to it.
 */
int worker_apt_release_parse(const char *text, size_t len, struct worker_apt_release **ret,
                             char *errbuf, size_t errlen);

/* Frees `rel` and everything it owns. Accepts NULL; returns NULL. */
struct worker_apt_release *worker_apt_release_free(struct worker_apt_release *rel);

/*
 * Refuses a stale or not-yet-valid Release: -ESTALE when `now` is at or past Valid-Until,
 * -ERANGE when Date is more than WORKER_APT_RELEASE_MAX_FUTURE seconds after `now`. A Release
 * without Valid-Until never expires (Debian's stable suites carry none). Returns 0 otherwise.
 */
int worker_apt_release_check_valid_until(const struct worker_apt_release *rel, time_t now,
                                         char *errbuf, size_t errlen);

/*
 * Looks `path` (relative to dists/<suite>/) up in the SHA256 list. Returns 0 and sets
 * `*ret_hex` (borrowed from `rel`, 64 hex digits) and `*ret_size`, or -ENOENT.
 */
int worker_apt_release_find(const struct worker_apt_release *rel, const char *path,
                            const char **ret_hex, uint64_t *ret_size);

/*
 * Checks index bytes fetched for `path` against the Release: returns 0 when size and SHA256
 * match, -EBADMSG on a mismatch, -ENOENT when the Release does not list `path`, -EIO/-ENOMEM
 * when hashing fails. Callers fetching by hash still pass the canonical path.
 */
int worker_apt_verify_index(const struct worker_apt_release *rel, const char *path,
                            const void *data, size_t len, char *errbuf, size_t errlen);

/*
 * Builds the Acquire-By-Hash location of `path`: "<dir>/by-hash/SHA256/<hex>" (as apt's
 * acquire-item.cc does). Returns 0 and a new string in `*ret` (pf_free() it), -ENOENT when
 * `path` is not listed, or -ENOMEM.
 */
int worker_apt_release_by_hash_path(const struct worker_apt_release *rel, const char *path,
                                    char **ret);

#endif
