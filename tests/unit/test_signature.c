/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for pf/signature.h against tests/data/signature (made by its generate.sh with the
 * openssl tool): each RSA PKCS#1 algorithm verifies its own signature, in one piece or split
 * in two parts, and refuses a changed message, another algorithm's signature, a key of the
 * wrong type and text that is no key.
 */
#include "pf_test.h"

#include "pf/signature.h"

static struct pf_signature_key *load(const char *rel)
{
    struct pf_signature_key *k = NULL;
    size_t len;
    char *pem = pf_test_read_data(rel, &len);

    assert_int_equal(pf_signature_key_load_pem(pem, len, &k, NULL, 0), 0);
    pf_free(pem);
    return k;
}

static void rsa_algorithms(void **state)
{
    static const struct {
        enum pf_signature_alg alg;
        const char *sig;
    } cases[] = {
        {PF_SIGNATURE_RSA_PKCS1_SHA1, "signature/message.sha1.sig"},
        {PF_SIGNATURE_RSA_PKCS1_SHA256, "signature/message.sha256.sig"},
        {PF_SIGNATURE_RSA_PKCS1_SHA512, "signature/message.sha512.sig"},
    };
    struct pf_signature_key *k = load("signature/rsa.pub");
    size_t mlen;
    char *msg = pf_test_read_data("signature/message.txt", &mlen);

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        size_t slen;
        char *sig = pf_test_read_data(cases[i].sig, &slen);
        struct pf_signature_part whole[] = {{msg, mlen}};
        struct pf_signature_part split[] = {{msg, 7}, {NULL, 0}, {msg + 7, mlen - 7}};
        struct pf_signature_part changed[] = {{msg, mlen - 1}};
        enum pf_signature_alg other = cases[(i + 1) % PF_ARRAY_SIZE(cases)].alg;

        assert_int_equal(pf_signature_verify(k, cases[i].alg, whole, 1, sig, slen), 0);
        assert_int_equal(pf_signature_verify(k, cases[i].alg, split, 3, sig, slen), 0);
        assert_int_equal(pf_signature_verify(k, cases[i].alg, changed, 1, sig, slen), -EBADMSG);
        assert_int_equal(pf_signature_verify(k, other, whole, 1, sig, slen), -EBADMSG);
        sig[slen / 2] ^= 1;
        assert_int_equal(pf_signature_verify(k, cases[i].alg, whole, 1, sig, slen), -EBADMSG);
        assert_int_equal(pf_signature_verify(k, cases[i].alg, whole, 1, sig, 0), -EBADMSG);
        pf_free(sig);
    }
    assert_int_equal(pf_signature_verify(k, PF_SIGNATURE__MAX, NULL, 0, "", 0), -EINVAL);
    pf_signature_key_free(k);
    pf_free(msg);
}

static void wrong_keys(void **state)
{
    struct pf_signature_key *ec = load("signature/ec.pub"), *k = NULL;
    size_t mlen, slen;
    char *msg = pf_test_read_data("signature/message.txt", &mlen);
    char *sig = pf_test_read_data("signature/message.sha256.sig", &slen);
    struct pf_signature_part whole[] = {{msg, mlen}};
    char eb[128] = "";

    (void)state;
    /* An RSA algorithm never verifies with a key of another type. */
    assert_int_equal(pf_signature_verify(ec, PF_SIGNATURE_RSA_PKCS1_SHA256, whole, 1, sig, slen),
                     -EINVAL);
    assert_int_equal(pf_signature_key_load_pem("junk", 4, &k, eb, sizeof(eb)), -EINVAL);
    assert_null(k);
    assert_string_equal(eb, "no PEM public key");
    assert_null(pf_signature_key_free(NULL));
    pf_signature_key_free(ec);
    pf_free(msg);
    pf_free(sig);
}

/* The hash and fingerprint equal what `openssl x509` printed for the same file (generate.sh);
 * text that is no certificate, or two certificates in one file, is refused as rehash refuses
 * it. */
static void x509_subject_hash(void **state)
{
    size_t len, hlen, flen;
    char *pem = pf_test_read_data("signature/ca.pem", &len);
    char *hash = pf_test_read_data("signature/ca.pem.hash", &hlen);
    char *sha1 = pf_test_read_data("signature/ca.pem.sha1", &flen);
    unsigned char fp[PF_X509_FINGERPRINT_LEN];
    char got[16], got_fp[2 * PF_X509_FINGERPRINT_LEN + 1];
    uint32_t h = 0;
    char *two;

    (void)state;
    assert_int_equal(pf_x509_subject_hash(pem, len, &h, fp, NULL, 0), 0);
    (void)snprintf(got, sizeof(got), "%08x\n", (unsigned)h);
    assert_true(hlen == strlen(got) && memcmp(hash, got, hlen) == 0);
    for (size_t i = 0; i < PF_X509_FINGERPRINT_LEN; i++)
        (void)snprintf(got_fp + 2 * i, 3, "%02x", fp[i]);
    assert_true(flen == 2 * PF_X509_FINGERPRINT_LEN + 1 && memcmp(sha1, got_fp, flen - 1) == 0);
    assert_int_equal(pf_x509_subject_hash("not a certificate\n", 18, &h, NULL, NULL, 0), -EINVAL);
    two = pf_calloc(1, 2 * len + 1);
    assert_non_null(two);
    memcpy(two, pem, len);
    memcpy(two + len, pem, len);
    assert_int_equal(pf_x509_subject_hash(two, 2 * len, &h, NULL, NULL, 0), -EINVAL);
    pf_free(two);
    pf_free(pem);
    pf_free(hash);
    pf_free(sha1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rsa_algorithms),
        cmocka_unit_test(wrong_keys),
        cmocka_unit_test(x509_subject_hash),
    };

    return cmocka_run_group_tests_name("signature", tests, NULL, NULL);
}
