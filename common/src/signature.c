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
#include <openssl/x509.h>

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

int pf_x509_subject_hash(const char *pem, size_t len, uint32_t *ret_hash,
                         unsigned char ret_fp[PF_X509_FINGERPRINT_LEN], char *errbuf, size_t errlen)
{
    STACK_OF(X509_INFO) *infos = NULL;
    unsigned char fp[EVP_MAX_MD_SIZE];
    unsigned fp_len = 0;
    X509 *x = NULL;
    int n, r = 0;
    BIO *bio;

    if (len > INT_MAX)
        return pf_set_error(errbuf, errlen, -EINVAL, "certificate text is too long");
    bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        return -ENOMEM;
    /* The same reader as rehash, so a file with a key or a CRL beside the certificate counts
     * as rehash counts it. */
    infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
    BIO_free(bio);
    n = infos ? sk_X509_INFO_num(infos) : 0;
    if (n == 1 && sk_X509_INFO_value(infos, 0)->x509 && !sk_X509_INFO_value(infos, 0)->crl)
        x = sk_X509_INFO_value(infos, 0)->x509;
    if (!x) {
        r = pf_set_error(errbuf, errlen, -EINVAL, "not exactly one PEM certificate (%d entries)",
                         n);
        goto out;
    }
    if (X509_digest(x, EVP_sha1(), fp, &fp_len) != 1 || fp_len != PF_X509_FINGERPRINT_LEN) {
        r = pf_set_error(errbuf, errlen, -EINVAL, "cannot compute the certificate fingerprint");
        goto out;
    }
    *ret_hash = (uint32_t)X509_subject_name_hash(x);
    if (ret_fp)
        memcpy(ret_fp, fp, PF_X509_FINGERPRINT_LEN);
out:
    ERR_clear_error();
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    return r;
}
