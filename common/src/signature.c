/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signature verification over OpenSSL's EVP interface (see pf/signature.h). The key type is
 * checked against the algorithm before verifying: EVP_DigestVerify would otherwise happily
 * verify an ECDSA signature under a ".SIGN.RSA." name, and an algorithm name that does not
 * bind the key type is how downgrade tricks start.
 */
#include "pf/setup.h"

#include <limits.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "pf/signature.h"

struct pf_signature_key {
    EVP_PKEY *pkey;
};

int pf_signature_key_load_pem(const char *pem, size_t len, struct pf_signature_key **ret,
                              char *errbuf, size_t errlen)
{
    struct pf_signature_key *k;
    EVP_PKEY *pkey = NULL;
    BIO *bio;

    if (len > INT_MAX)
        return pf_set_error(errbuf, errlen, -EINVAL, "public key text is too long");
    bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        return -ENOMEM;
    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!pkey) {
        ERR_clear_error(); /* the queue is per thread: leave nothing for an unrelated caller */
        return pf_set_error(errbuf, errlen, -EINVAL, "no PEM public key");
    }
    k = pf_calloc(1, sizeof(*k));
    if (!k) {
        EVP_PKEY_free(pkey);
        return -ENOMEM;
    }
    k->pkey = pkey;
    *ret = k;
    return 0;
}

struct pf_signature_key *pf_signature_key_free(struct pf_signature_key *k)
{
    if (!k)
        return NULL;
    EVP_PKEY_free(k->pkey);
    return pf_free(k);
}

/* The digest and key type `alg` stands for; NULL for an unknown algorithm. */
static const EVP_MD *alg_md(enum pf_signature_alg alg, int *ret_key_type)
{
    *ret_key_type = EVP_PKEY_RSA;
    switch (alg) {
    case PF_SIGNATURE_RSA_PKCS1_SHA1:
        return EVP_sha1();
    case PF_SIGNATURE_RSA_PKCS1_SHA256:
        return EVP_sha256();
    case PF_SIGNATURE_RSA_PKCS1_SHA512:
        return EVP_sha512();
    default:
        return NULL;
    }
}

int pf_signature_verify(const struct pf_signature_key *key, enum pf_signature_alg alg,
                        const struct pf_signature_part *parts, size_t n_parts, const void *sig,
                        size_t sig_len)
{
    int key_type = 0;
    const EVP_MD *md = alg_md(alg, &key_type);
    EVP_MD_CTX *c;
    int r = -EBADMSG;

    if (!md || EVP_PKEY_get_base_id(key->pkey) != key_type)
        return -EINVAL;
    c = EVP_MD_CTX_new();
    if (!c)
        return -ENOMEM;
    /* RSA keys default to PKCS#1 v1.5 padding, which is what the RSA algorithms name. */
    if (EVP_DigestVerifyInit(c, NULL, md, NULL, key->pkey) != 1)
        goto out;
    for (size_t i = 0; i < n_parts; i++)
        if (parts[i].len > 0 && EVP_DigestVerifyUpdate(c, parts[i].data, parts[i].len) != 1)
            goto out;
    if (EVP_DigestVerifyFinal(c, sig, sig_len) == 1)
        r = 0;
out:
    if (r < 0)
        ERR_clear_error();
    EVP_MD_CTX_free(c);
    return r;
}
