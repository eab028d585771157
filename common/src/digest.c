/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Digests over OpenSSL's EVP interface (the low-level SHA256_* and MD5_* calls are deprecated
 * in OpenSSL 3). With signature.c this is the crypto wrapper: the only files that include
 * OpenSSL headers. The contexts are heap-allocated by OpenSSL, so the public structs only hold a
 * pointer and pf/digest.h needs no OpenSSL include.
 */
#include "pf/setup.h"

#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "pf/digest.h"

static const EVP_MD *md_of(enum pf_digest_alg alg)
{
    switch (alg) {
    case PF_DIGEST_MD5:
        return EVP_md5();
    case PF_DIGEST_SHA1:
        return EVP_sha1();
    case PF_DIGEST_SHA256:
        return EVP_sha256();
    case PF_DIGEST_SHA512:
        return EVP_sha512();
    default:
        return NULL;
    }
}

size_t pf_digest_size(enum pf_digest_alg alg)
{
    static const size_t sizes[PF_DIGEST__MAX] = {
        [PF_DIGEST_MD5] = 16,
        [PF_DIGEST_SHA1] = 20,
        [PF_DIGEST_SHA256] = 32,
        [PF_DIGEST_SHA512] = 64,
    };

    return (unsigned)alg < PF_DIGEST__MAX ? sizes[alg] : 0;
}

void pf_digest_to_hex(const unsigned char *md, size_t len, char *ret)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        ret[2 * i] = hex[md[i] >> 4];
        ret[2 * i + 1] = hex[md[i] & 0xf];
    }
    ret[2 * len] = '\0';
}

int pf_digest_init(struct pf_digest_ctx *d, enum pf_digest_alg alg)
{
    const EVP_MD *md = md_of(alg);
    EVP_MD_CTX *ctx;

    if (!md)
        return -EINVAL;
    ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -ENOMEM;
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return -EIO;
    }
    d->ctx = ctx;
    d->alg = alg;
    return 0;
}

int pf_digest_update(struct pf_digest_ctx *d, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    if (EVP_DigestUpdate(d->ctx, data, len) != 1)
        return -EIO;
    return 0;
}

int pf_digest_final(struct pf_digest_ctx *d, unsigned char *ret)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (EVP_DigestFinal_ex(d->ctx, md, &n) != 1 || n != pf_digest_size(d->alg))
        return -EIO;
    if (EVP_DigestInit_ex(d->ctx, md_of(d->alg), NULL) != 1)
        return -EIO;
    memcpy(ret, md, n);
    return (int)n;
}

int pf_digest_final_hex(struct pf_digest_ctx *d, char *ret)
{
    unsigned char md[PF_DIGEST_MAX_SIZE];
    int n = pf_digest_final(d, md);

    if (n < 0)
        return n;
    pf_digest_to_hex(md, (size_t)n, ret);
    return n;
}

void pf_digest_release(struct pf_digest_ctx *d)
{
    if (d->ctx)
        EVP_MD_CTX_free(d->ctx);
    d->ctx = NULL;
}

int pf_digest_buf(enum pf_digest_alg alg, const void *data, size_t len, unsigned char *ret)
{
    struct pf_digest_ctx d = {0};
    int r = pf_digest_init(&d, alg);

    if (r < 0)
        return r;
    r = pf_digest_update(&d, data, len);
    if (r == 0)
        r = pf_digest_final(&d, ret);
    pf_digest_release(&d);
    return r;
}

int pf_digest_buf_hex(enum pf_digest_alg alg, const void *data, size_t len, char *ret)
{
    unsigned char md[PF_DIGEST_MAX_SIZE];
    int n = pf_digest_buf(alg, data, len, md);

    if (n < 0)
        return n;
    pf_digest_to_hex(md, (size_t)n, ret);
    return n;
}

int pf_sha256_init(struct pf_sha256 *h)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (!ctx)
        return -ENOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return -EIO;
    }
    h->ctx = ctx;
    return 0;
}

int pf_sha256_update(struct pf_sha256 *h, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    if (EVP_DigestUpdate(h->ctx, data, len) != 1)
        return -EIO;
    return 0;
}

int pf_sha256_final(struct pf_sha256 *h, char ret[PF_DIGEST_BUFSZ])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char out[PF_DIGEST_BUFSZ];

    if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 32)
        return -EIO;
    if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
        return -EIO;
    memcpy(out, "sha256:", sizeof("sha256:")); /* the hex goes over the NUL */
    pf_digest_to_hex(md, n, out + 7);
    memcpy(ret, out, sizeof(out));
    return 0;
}

void pf_sha256_release(struct pf_sha256 *h)
{
    if (h->ctx)
        EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

int pf_sha256_digest(const void *data, size_t len, char ret[PF_DIGEST_BUFSZ])
{
    struct pf_sha256 h = {NULL};
    int r = pf_sha256_init(&h);

    if (r < 0)
        return r;
    r = pf_sha256_update(&h, data, len);
    if (r == 0)
        r = pf_sha256_final(&h, ret);
    pf_sha256_release(&h);
    return r;
}

int pf_sha256_fd(int fd, char ret[PF_DIGEST_BUFSZ], uint64_t *ret_size)
{
    struct pf_sha256 h = {NULL};
    char chunk[65536];
    uint64_t off = 0;
    int r = pf_sha256_init(&h);

    if (r < 0)
        return r;
    for (;;) {
        ssize_t n = pread(fd, chunk, sizeof(chunk), (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            goto out;
        }
        if (n == 0)
            break;
        r = pf_sha256_update(&h, chunk, (size_t)n);
        if (r < 0)
            goto out;
        off += (uint64_t)n;
    }
    r = pf_sha256_final(&h, ret);
    if (r == 0 && ret_size)
        *ret_size = off;
out:
    pf_sha256_release(&h);
    return r;
}

const char *pf_digest_sha256_hex(const char *digest)
{
    const char *hex;

    if (!digest || strncmp(digest, "sha256:", 7) != 0)
        return NULL;
    hex = digest + 7;
    for (size_t i = 0; i < 64; i++) {
        char c = hex[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return NULL;
    }
    return hex[64] == '\0' ? hex : NULL;
}
