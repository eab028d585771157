/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The candidates of apt repositories: every stanza of every verified Packages index a job
 * loaded, kept as the few fields the upgrade planner and the downloader need. Parsing is strict
 * because a Packages file comes from the network: a stanza missing Package, Version,
 * Architecture, Filename, SHA256 or Size, or carrying a path or hash that cannot be trusted as a
 * file name, refuses the whole index. Lookups are by package name and by Provides name and give
 * the best (highest Debian version) candidate first, so the planner's answer is deterministic.
 */
#ifndef WORKER_DEB_APT_INDEX_H
#define WORKER_DEB_APT_INDEX_H

#include "pf/setup.h"

/* Largest uncompressed Packages text accepted (Ubuntu's universe is ~70 MiB). */
#define WORKER_APT_INDEX_MAX_INPUT ((size_t)256 << 20)
/* Most stanzas in one Packages text. */
#define WORKER_APT_INDEX_MAX_STANZAS ((size_t)500000)

/* One binary package of one repository. All strings owned by the index. */
struct worker_apt_candidate {
    char *package, *version, *arch; /* arch "all" allowed */
    char *multi_arch;               /* NULL, "same", "foreign", "allowed", "no" */
    char *depends, *pre_depends, *provides, *breaks, *source; /* raw field values or NULL */
    char *filename; /* "pool/main/o/openssl/libssl3_3.0.13-1_amd64.deb" */
    char *sha256;   /* 64 lowercase hex digits */
    uint64_t size;
    const char *base_url; /* repository base URI, borrowed from the index */
};

struct worker_apt_index;

/* Creates an empty index. Returns 0 and a new index in *ret (free it with
 * worker_apt_index_free()), or -ENOMEM. */
int worker_apt_index_new(struct worker_apt_index **ret);

/* Frees the index and every candidate; accepts NULL and returns NULL. */
struct worker_apt_index *worker_apt_index_free(struct worker_apt_index *idx);

/*
 * Parses one Packages text (`len` bytes, need not be NUL-terminated) whose .debs live under
 * `base_url` (copied) and adds its stanzas. Strict: every stanza needs Package (a valid package
 * name), Version (valid for dpkg), Architecture (one word), Filename (relative, no ".."),
 * SHA256 (64 hex) and Size (decimal). Returns the number of candidates added, -EINVAL on a
 * malformed stanza (errbuf: "Packages line N: ..."), -E2BIG past a limit, or -ENOMEM; on
 * failure the index is unchanged.
 */
int worker_apt_index_add_packages(struct worker_apt_index *idx, const char *base_url,
                                  const char *text, size_t len, char *errbuf, size_t errlen);

/*
 * All candidates named `name` (every arch, every repository), best version first; among equal
 * versions, in the order they were added. Returns the count and sets *ret to a borrowed array
 * (valid until the next add or free); 0 and *ret = NULL when there is none.
 */
size_t worker_apt_index_lookup(const struct worker_apt_index *idx, const char *name,
                               const struct worker_apt_candidate *const **ret);

/* Candidates whose Provides names `name` (versioned or not), in the same order as lookup. */
size_t worker_apt_index_providers(const struct worker_apt_index *idx, const char *name,
                                  const struct worker_apt_candidate *const **ret);

/* Number of candidates in the index. */
size_t worker_apt_index_size(const struct worker_apt_index *idx);

/*
 * Splits one Provides value ("a, b (= 1.0), c:any") into its entries, for the planner.
 * Calls `cb` once per entry with the name and the version after "=" (NULL when unversioned),
 * both NUL-terminated copies valid only during the call; stops when cb returns non-zero and
 * returns that value. Returns 0, -EINVAL for a malformed entry, or -ENOMEM.
 */
int worker_apt_provides_foreach(const char *provides,
                                int (*cb)(const char *name, const char *version, void *userdata),
                                void *userdata);

#endif
