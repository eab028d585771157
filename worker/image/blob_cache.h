/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A per-process on-disk cache of verified blobs, laid out like an OCI layout's blob store
 * (<dir>/blobs/sha256/<hex>), shared by every job of a worker. Many images share base layers,
 * and a multi-platform job reads each layer once to build the view and again to push or copy
 * it, so each digest is downloaded once per process. A file is returned only after its sha256
 * was checked (downloaded by this process, or re-hashed once when it was already on disk), and
 * concurrent requests for one digest wait for the single download in flight.
 */
#ifndef WORKER_IMAGE_BLOB_CACHE_H
#define WORKER_IMAGE_BLOB_CACHE_H

#include "pf/setup.h"

struct pf_ref;
struct pf_registry;
struct worker_blob_cache;

/*
 * Creates the cache over `dir` (created with blobs/sha256 below it when missing, mode 0700).
 * Returns 0 and a new cache in *ret, or a negative errno with the reason in errbuf.
 */
int worker_blob_cache_new(const char *dir, struct worker_blob_cache **ret, char *errbuf,
                          size_t errlen);

/* Frees the cache object (the files stay); accepts NULL, returns NULL. Must not race with a
 * worker_blob_cache_get() in flight. */
struct worker_blob_cache *worker_blob_cache_free(struct worker_blob_cache *c);

/*
 * Returns in *ret_path a new string (caller frees) naming the verified file of blob `digest`,
 * downloading it from `repo` with pf_registry_get_blob_to_file() when it is not cached. A file
 * already on disk that this process has not verified yet is hashed first; a mismatch removes
 * it and downloads again. `r` may be NULL: then only cached blobs are served (-ENOENT else).
 * Thread-safe; concurrent calls for one digest download it once. Returns 0, -EINVAL (bad
 * digest), or a negative errno from the filesystem or the registry with the reason in errbuf.
 */
int worker_blob_cache_get(struct worker_blob_cache *c, struct pf_registry *r,
                          const struct pf_ref *repo, const char *digest, char **ret_path,
                          char *errbuf, size_t errlen);

/*
 * worker_blob_cache_get() whose download stops with -EFBIG past `max` bytes (0 = no bound):
 * the size the descriptor declares, so a lying one cannot make the cache read more. A file
 * already cached is served whatever its size; the caller compares it with the descriptor.
 */
int worker_blob_cache_get_max(struct worker_blob_cache *c, struct pf_registry *r,
                              const struct pf_ref *repo, const char *digest, uint64_t max,
                              char **ret_path, char *errbuf, size_t errlen);

/* The path blob `digest` has (or would have) in the cache, as a new string; NULL on OOM or
 * for an invalid digest. Nothing is checked or downloaded. */
char *worker_blob_cache_path(const struct worker_blob_cache *c, const char *digest);

/* What the cache did so far: blobs served without a download, blobs downloaded, and the bytes
 * those downloads brought. */
struct worker_blob_cache_stats {
    uint64_t hits;
    uint64_t misses;
    uint64_t bytes_pulled;
};

/* Fills *ret; lock-free, callable from any thread. */
void worker_blob_cache_get_stats(struct worker_blob_cache *c, struct worker_blob_cache_stats *ret);

#endif
