/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Message digests, the crypto wrapper's hashing half (OpenSSL stays inside common/src/digest.c
 * and common/src/signature.c). Two layers:
 *
 * - SHA-256 in the "sha256:<64 hex>" spelling of OCI digests. Every blob and manifest
 *   patchfleet reads or writes goes through one of these, because the digest is the only thing
 *   that proves a registry, a cache or a disk gave back the bytes it was asked for. sha256 is
 *   the only algorithm accepted there: anything else cannot be verified and is refused.
 * - Plain digests by algorithm (MD5 for dpkg's md5sums, SHA-1 for apk's Q1 checksums and
 *   identities, SHA-256/512 for apk datahash and signatures), one-shot or streaming, as raw
 *   bytes or lowercase hex. MD5 and SHA-1 are here because the package formats record them,
 *   not to prove anything: nothing trusts content because its MD5 or SHA-1 matched.
 */
#ifndef PF_DIGEST_H
#define PF_DIGEST_H

#include "pf/setup.h"

/* "sha256:" + 64 hex + NUL. */
#define PF_DIGEST_BUFSZ 72

enum pf_digest_alg {
    PF_DIGEST_MD5,
    PF_DIGEST_SHA1,
    PF_DIGEST_SHA256,
    PF_DIGEST_SHA512,
    PF_DIGEST__MAX,
};

/* The largest digest in bytes (SHA-512), and its hex spelling with the NUL. */
#define PF_DIGEST_MAX_SIZE 64
#define PF_DIGEST_HEX_BUFSZ (2 * PF_DIGEST_MAX_SIZE + 1)

/* A running digest. Zero-initialise it ({0}) so that release is safe before init. */
struct pf_digest_ctx {
    void *ctx; /* EVP_MD_CTX *, owned */
    enum pf_digest_alg alg;
};

struct pf_sha256 {
    void *ctx; /* EVP_MD_CTX *, owned */
};

/* Size in bytes of `alg`'s digest (16, 20, 32, 64), or 0 for an unknown algorithm. */
size_t pf_digest_size(enum pf_digest_alg alg);

/* Starts a digest. Returns 0, -EINVAL (unknown `alg`), -ENOMEM or -EIO (OpenSSL failure). */
int pf_digest_init(struct pf_digest_ctx *d, enum pf_digest_alg alg);
/* Feeds bytes. Returns 0 or -EIO. */
int pf_digest_update(struct pf_digest_ctx *d, const void *data, size_t len);
/*
 * Writes the digest's pf_digest_size() bytes to `ret` and restarts the context, so one
 * struct can hash several streams in turn. Returns the size, or -EIO (`ret` untouched then).
 * Buffers are sized by the algorithm: pf_digest_size(alg) bytes, or 2 * that + 1 for hex
 * (PF_DIGEST_MAX_SIZE and PF_DIGEST_HEX_BUFSZ fit any algorithm).
 */
int pf_digest_final(struct pf_digest_ctx *d, unsigned char *ret);
/* The same as lowercase hex, NUL-terminated. Returns the digest's size in bytes, or -EIO. */
int pf_digest_final_hex(struct pf_digest_ctx *d, char *ret);
/* Frees the context; safe on a zeroed or released struct. */
void pf_digest_release(struct pf_digest_ctx *d);

/* One-shot digest of a buffer into `ret`. Returns the size in bytes, -EINVAL, -ENOMEM or
 * -EIO (`ret` untouched then). */
int pf_digest_buf(enum pf_digest_alg alg, const void *data, size_t len, unsigned char *ret);
/* The same as lowercase hex, NUL-terminated. */
int pf_digest_buf_hex(enum pf_digest_alg alg, const void *data, size_t len, char *ret);
/* Spells `len` bytes as lowercase hex into `ret` (2 * len + 1 bytes). */
void pf_digest_to_hex(const unsigned char *md, size_t len, char *ret);

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
