/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming SHA-256 in the "sha256:<64 hex>" spelling of OCI digests. Every blob and manifest
 * patchfleet reads or writes goes through one of these, because the digest is the only thing
 * that proves a registry, a cache or a disk gave back the bytes it was asked for. sha256 is the
 * only algorithm accepted: anything else cannot be verified and is refused by callers.
 */
#ifndef PF_DIGEST_H
#define PF_DIGEST_H

#include "pf/setup.h"

/* "sha256:" + 64 hex + NUL. */
#define PF_DIGEST_BUFSZ 72

struct pf_sha256 {
    void *ctx; /* EVP_MD_CTX *, owned */
};

/* Starts a hash. Returns 0, -ENOMEM or -EIO (OpenSSL failure). */
int pf_sha256_init(struct pf_sha256 *h);
/* Feeds bytes. Returns 0 or -EIO. */
int pf_sha256_update(struct pf_sha256 *h, const void *data, size_t len);
/*
 * Writes "sha256:<hex>" to `ret` and restarts the hash, so one struct can hash several
 * streams in turn. Returns 0 or -EIO (`ret` untouched then).
 */
int pf_sha256_final(struct pf_sha256 *h, char ret[PF_DIGEST_BUFSZ]);
/* Frees the context; safe on a zeroed or released struct. */
void pf_sha256_release(struct pf_sha256 *h);

/* One-shot digest of a buffer. Returns 0, -ENOMEM or -EIO. */
int pf_sha256_digest(const void *data, size_t len, char ret[PF_DIGEST_BUFSZ]);
/* Digest of everything readable from `fd` from offset 0 (pread; the offset is not moved) and
 * its size. Returns 0 or a negative errno. */
int pf_sha256_fd(int fd, char ret[PF_DIGEST_BUFSZ], uint64_t *ret_size);

/*
 * Returns the hex part of `digest` when it is "sha256:<64 lowercase hex>", else NULL.
 * Borrowed pointer into `digest`. Used wherever a digest becomes a file name or URL part.
 */
const char *pf_digest_sha256_hex(const char *digest);

#endif
