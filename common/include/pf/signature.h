/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signature verification, the crypto wrapper's other half (with pf/digest.h; OpenSSL stays in
 * common/src). A key is loaded from PEM once and verifies any number of signatures; the signed
 * message may come in several pieces, because apk signs the concatenation of two gzip members
 * that patchfleet holds apart. The algorithm is an enum so that the engines name what their
 * format says and nothing else is accepted: today the RSA PKCS#1 v1.5 variants of apk v2
 * (".SIGN.RSA.", ".SIGN.RSA256.", ".SIGN.RSA512."); rpm's RSA and EdDSA are to be added here.
 */
#ifndef PF_SIGNATURE_H
#define PF_SIGNATURE_H

#include "pf/setup.h"

enum pf_signature_alg {
    PF_SIGNATURE_RSA_PKCS1_SHA1,   /* apk ".SIGN.RSA." */
    PF_SIGNATURE_RSA_PKCS1_SHA256, /* apk ".SIGN.RSA256." */
    PF_SIGNATURE_RSA_PKCS1_SHA512, /* apk ".SIGN.RSA512." */
    PF_SIGNATURE__MAX,
};

/* One piece of the signed message. */
struct pf_signature_part {
    const void *data;
    size_t len;
};

struct pf_signature_key;

/*
 * Loads a public key from PEM text ("-----BEGIN PUBLIC KEY-----", SubjectPublicKeyInfo) of
 * `len` bytes. Returns 0 and a new key in *ret, -ENOMEM, or -EINVAL when the text holds no
 * usable public key (reason in errbuf).
 */
int pf_signature_key_load_pem(const char *pem, size_t len, struct pf_signature_key **ret,
                              char *errbuf, size_t errlen);
/* Frees a key; accepts NULL and returns NULL. */
struct pf_signature_key *pf_signature_key_free(struct pf_signature_key *k);

/*
 * Verifies signature `sig` (`sig_len` bytes) by `key` with `alg` over the concatenation of
 * `n_parts` parts. Returns 0 when it verifies, -EBADMSG when it does not, -EINVAL when `alg`
 * is unknown or does not fit the key's type (an RSA algorithm needs an RSA key), -ENOMEM.
 */
int pf_signature_verify(const struct pf_signature_key *key, enum pf_signature_alg alg,
                        const struct pf_signature_part *parts, size_t n_parts, const void *sig,
                        size_t sig_len);

/* Size of the SHA-1 fingerprint pf_x509_subject_hash() gives. */
#define PF_X509_FINGERPRINT_LEN 20u

/*
 * Reads PEM text of `len` bytes the way `openssl rehash` reads a file in a certificate
 * directory: it must hold exactly one certificate and no CRL. Sets *ret_hash to OpenSSL's
 * subject name hash (the "new" style that `openssl x509 -hash` prints and hash links are named
 * after) and, when ret_fp is not NULL, ret_fp to the SHA-1 fingerprint of the certificate's DER
 * (rehash tells duplicates apart by it). Returns 0, -EINVAL when the text is not exactly one
 * parseable certificate (reason in errbuf), or -ENOMEM. Outputs are untouched on failure.
 */
int pf_x509_subject_hash(const char *pem, size_t len, uint32_t *ret_hash,
                         unsigned char ret_fp[PF_X509_FINGERPRINT_LEN], char *errbuf,
                         size_t errlen);

#endif
