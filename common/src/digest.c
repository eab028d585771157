/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SHA-256 digests over OpenSSL's EVP interface (the low-level SHA256_* calls are deprecated in
 * OpenSSL 3). The context is heap-allocated by OpenSSL, so pf_sha256 only holds a pointer and
 * the header needs no OpenSSL include.
 */
#include "pf/setup.h"

#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "pf/digest.h"

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
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char out[PF_DIGEST_BUFSZ];

    if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 32)
        return -EIO;
    if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
        return -EIO;
    memcpy(out, "sha256:", 7);
    for (unsigned int i = 0; i < n; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[7 + 2 * i + 1] = hex[md[i] & 0xf];
    }
    out[7 + 64] = '\0';
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
